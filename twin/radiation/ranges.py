"""How deep protons and electrons get into aluminium: the energies that cross a shield, and what is left.

Protons: the CSDA range, integrated from NIST PSTAR's stopping power of aluminium (shipped as
``assets/radiation/pstar_aluminium.csv``). Electrons: the extrapolated range of Katz & Penfold
(Rev. Mod. Phys. 24, 28, 1952), R = 412 E^(1.265 - 0.0954 ln E) mg/cm^2 up to 2.5 MeV and
530 E - 106 mg/cm^2 above. Shielding is a thickness of aluminium (mm) around the part, the centre
of a solid sphere as in SHIELDOSE-2.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from twin.assets import asset_path
from twin.radiation.checks import check_range

ALUMINIUM_DENSITY_G_CM3 = 2.699  # NIST, aluminium (the density PSTAR and ESTAR use)
SHIELDING_RANGE_MM = (0.05, 20.0)  # the thicknesses the dose-depth table covers (twin.radiation.dose)
_ELECTRON_BREAK_MEV = 2.5


def check_shielding_mm(shielding_mm: float) -> float:
    """``shielding_mm`` as a float if it lies in :data:`SHIELDING_RANGE_MM`, else a ValueError naming it."""
    return check_range("shielding_mm", shielding_mm, *SHIELDING_RANGE_MM,
                       why=" mm of aluminium (what the dose-depth table covers)")


def areal_density_g_cm2(shielding_mm: float) -> float:
    """Mass thickness (g/cm^2) of ``shielding_mm`` of aluminium."""
    return shielding_mm * 0.1 * ALUMINIUM_DENSITY_G_CM3


@lru_cache(maxsize=1)
def _proton_range_table() -> tuple[np.ndarray, np.ndarray]:
    """Energies (MeV) on a fine log grid and the CSDA range of protons in aluminium (g/cm^2) at each."""
    table = np.loadtxt(asset_path("radiation", "pstar_aluminium.csv"), delimiter=",", comments="#", skiprows=4)
    energy_table, stopping_table = table[:, 0], table[:, 1]
    energy = np.geomspace(energy_table[0], energy_table[-1], 4000)
    stopping = np.exp(np.interp(np.log(energy), np.log(energy_table), np.log(stopping_table)))
    # Below the first energy the stopping power is taken as constant (a range of about 3e-5 g/cm^2).
    start = energy[0] / stopping[0]
    steps = 0.5 * (1.0 / stopping[1:] + 1.0 / stopping[:-1]) * np.diff(energy)
    return energy, start + np.concatenate([[0.0], np.cumsum(steps)])


def proton_range_g_cm2(energy_mev) -> np.ndarray:
    """CSDA range (g/cm^2) of protons of ``energy_mev`` in aluminium (0.01-1000 MeV)."""
    energy, csda = _proton_range_table()
    return np.exp(np.interp(np.log(energy_mev), np.log(energy), np.log(csda)))


def proton_energy_for_range_mev(range_g_cm2) -> np.ndarray:
    """Energy (MeV) of a proton whose CSDA range in aluminium is ``range_g_cm2``."""
    energy, csda = _proton_range_table()
    return np.exp(np.interp(np.log(range_g_cm2), np.log(csda), np.log(energy)))


def electron_range_g_cm2(energy_mev) -> np.ndarray:
    """Extrapolated range (g/cm^2) of electrons of ``energy_mev`` in aluminium (Katz & Penfold)."""
    energy = np.asarray(energy_mev, float)
    low = 0.412 * energy ** (1.265 - 0.0954 * np.log(energy))
    return np.where(energy <= _ELECTRON_BREAK_MEV, low, 0.530 * energy - 0.106)


def electron_energy_for_range_mev(range_g_cm2) -> np.ndarray:
    """Energy (MeV) of an electron whose extrapolated range in aluminium is ``range_g_cm2`` (inverts Katz & Penfold)."""
    energy = np.geomspace(0.01, 20.0, 4000)
    return np.exp(np.interp(np.log(range_g_cm2), np.log(electron_range_g_cm2(energy)), np.log(energy)))


def penetration_energies_mev(shielding_mm: float) -> tuple[float, float]:
    """Lowest energies (MeV) at which a proton and an electron cross ``shielding_mm`` of aluminium.

    >>> [round(float(e), 2) for e in penetration_energies_mev(2.0)]
    [19.3, 1.24]
    """
    depth = areal_density_g_cm2(check_shielding_mm(shielding_mm))
    return float(proton_energy_for_range_mev(depth)), float(electron_energy_for_range_mev(depth))


def energy_before_shield_mev(energy_behind_mev, shielding_mm: float) -> np.ndarray:
    """Energy (MeV) a proton had before ``shielding_mm`` of aluminium to come out with ``energy_behind_mev`` (CSDA)."""
    depth = areal_density_g_cm2(check_shielding_mm(shielding_mm))
    return proton_energy_for_range_mev(proton_range_g_cm2(energy_behind_mev) + depth)
