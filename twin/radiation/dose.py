"""Dose rate behind aluminium shielding, from a published SHIELDOSE-2 dose-depth curve.

SHIELDOSE-2 gives the dose at the centre of an aluminium sphere from an orbit-averaged spectrum. The
twin needs it at every position, so it scales the published curve by the flux that reaches the part:

.. math:: \\dot D(x, t) = k_p(t)\\, J_p(>E_p(t); x) + k_e(t)\\, J_e(>E_e(t); x) + k_b(t)\\, J_e(>1\\,MeV; x)

where ``E_p(t)`` and ``E_e(t)`` are the energies at which a proton and an electron cross ``t`` of
aluminium (:func:`twin.radiation.ranges.penetration_energies_mev`) and ``k`` is the dose per
particle (rad cm^2), fixed on the reference orbit of the curve: each component's dose rate in the
curve over the orbit average of its flux computed with the same model (AP8 MIN for the trapped
protons, AE8 MAX for the electrons). Bremsstrahlung comes from the electrons stopped in the shield,
so it follows the electrons above 1 MeV rather than those that cross (it is under 3 % of the dose
of the reference at every thickness).

The reference is a SPENVIS run (``assets/radiation/shieldose2_550km_100deg.csv``): 550 km, 100 deg,
close to the twin's dawn-dusk orbits. The assumption is that the spectrum above the penetration energy
has the reference's shape wherever the satellite is; ``tests/test_radiation_dose.py`` checks it on the
same run at other inclinations, whose spectra differ (more inner belt, fewer horns).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from twin.assets import asset_path
from twin.constants import SECONDS_PER_DAY
from twin.radiation.averages import circular_orbit_samples
from twin.radiation.belts import field_of, integral_flux_cm2_s
from twin.radiation.maps import geomagnetic_grid, interpolate
from twin.radiation.ranges import check_shielding_mm, penetration_energies_mev

DOSE_DEPTH_ASSET = ("radiation", "shieldose2_550km_100deg.csv")
# The reference run's orbit and models (see the asset's header).
REFERENCE_ALTITUDE_KM, REFERENCE_INCLINATION_DEG = 550.0, 100.0
REFERENCE_PROTON_SOLAR, REFERENCE_ELECTRON_SOLAR = "min", "max"
BREMSSTRAHLUNG_ELECTRON_MEV = 1.0  # the electrons whose flux the bremsstrahlung dose follows


@dataclass(frozen=True)
class DoseDepth:
    """A dose-depth curve: dose (rad(Si)) over ``mission_s`` behind each aluminium ``thickness_mm``,
    split into trapped protons, electrons and bremsstrahlung."""

    thickness_mm: np.ndarray
    proton_rad: np.ndarray
    electron_rad: np.ndarray
    bremsstrahlung_rad: np.ndarray
    mission_s: float

    def rates_rad_s(self, shielding_mm: float) -> tuple[float, float, float]:
        """Mean proton, electron and bremsstrahlung dose rates (rad/s) behind ``shielding_mm`` (log-log between
        the rows)."""
        shielding_mm = check_shielding_mm(shielding_mm)

        def at(dose_rad: np.ndarray) -> float:
            floor = 1e-30  # the electron dose reaches 0 behind 20 mm
            log_dose = np.interp(np.log(shielding_mm), np.log(self.thickness_mm), np.log(dose_rad + floor))
            return float(np.exp(log_dose) - floor) / self.mission_s

        return at(self.proton_rad), at(self.electron_rad), at(self.bremsstrahlung_rad)


@lru_cache(maxsize=1)
def reference_dose_depth() -> DoseDepth:
    """The shipped SHIELDOSE-2 curve (:data:`DOSE_DEPTH_ASSET`)."""
    path = asset_path(*DOSE_DEPTH_ASSET)
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    mission_days = float(lines[0].split(",")[1])
    rows = np.array([[float(cell) for cell in line.split(",")] for line in lines[2:]])
    return DoseDepth(rows[:, 0], rows[:, 4], rows[:, 2], rows[:, 3], mission_days * SECONDS_PER_DAY)


def orbit_average_flux_cm2_s(particle: str, solar: str, energy_mev: float, altitude_km: float,
                             inclination_deg: float) -> float:
    """Long-run mean flux (cm^-2 s^-1) of ``particle`` above ``energy_mev`` on a circular orbit."""
    geomagnetic = geomagnetic_grid().at_altitudes(np.array([altitude_km - 10.0, altitude_km, altitude_km + 10.0]))
    field = field_of(particle, solar)
    nodes = integral_flux_cm2_s(particle, solar, energy_mev, geomagnetic.l_shell[field], geomagnetic.b_ratio[field])
    latitude, longitude, altitude = circular_orbit_samples(altitude_km, inclination_deg)
    return float(interpolate(geomagnetic.grid, nodes[..., None], latitude, longitude, altitude).mean())


def dose_fluxes(shielding_mm: float) -> tuple[tuple[str, float], ...]:
    """The particle and energy (MeV) above which the flux drives each component of the dose behind ``shielding_mm``:
    trapped protons, electrons, bremsstrahlung."""
    proton_energy, electron_energy = penetration_energies_mev(shielding_mm)
    return ("p", proton_energy), ("e", electron_energy), ("e", BREMSSTRAHLUNG_ELECTRON_MEV)


@lru_cache(maxsize=32)
def dose_per_particle_rad_cm2(shielding_mm: float) -> tuple[float, float, float]:
    """Dose per particle (rad cm^2) of each component of :func:`dose_fluxes` behind ``shielding_mm``, from the
    reference.

    A component whose flux is zero on the reference orbit (electrons that would cross more than about
    13 mm are above AE8's 7 MeV) has its dose, zero or nearly in the curve too, left out.
    """
    rates = reference_dose_depth().rates_rad_s(shielding_mm)
    orbit = (REFERENCE_ALTITUDE_KM, REFERENCE_INCLINATION_DEG)
    per_particle = []
    for (particle, energy_mev), rate in zip(dose_fluxes(shielding_mm), rates):
        solar = REFERENCE_PROTON_SOLAR if particle == "p" else REFERENCE_ELECTRON_SOLAR
        flux = orbit_average_flux_cm2_s(particle, solar, energy_mev, *orbit)
        per_particle.append(rate / flux if flux > 0 else 0.0)
    return tuple(per_particle)
