"""Single-event upsets from trapped protons: a Weibull cross section per bit, integrated over the
proton spectrum behind the shield, and what error correction makes of the upsets.

The rate per bit is

.. math:: R = \\int_0^\\infty \\sigma(E)\\, \\phi(E)\\, dE = \\int_{E_0}^\\infty J(>E)\\, d\\sigma(E)

(by parts: sigma vanishes at its threshold E0 and J, the integral flux, at infinity), with
``sigma(E) = sigma_sat (1 - exp(-((E - E0) / W)^s))`` above E0 (Petersen's Weibull form, the one
CREME96 and ECSS-E-ST-10-12C use) and J the flux behind the shield: a proton leaves ``E`` after the
shield if it had ``E_in`` before it with ``R_Al(E_in) = R_Al(E) + t`` (CSDA,
:func:`twin.radiation.ranges.energy_before_shield_mev`). AP8 gives J at its own table energies
and interpolates log J linearly in energy between them; the integral uses that same interpolation on
a fine grid of energies behind the shield, so it is a fixed linear combination of the node fluxes.

Heavy ions of the galactic cosmic rays (a LET spectrum, CREME96) are not modelled here: no LET
spectrum model installs offline. Upsets from them add to these, mostly at high latitude.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from twin.radiation.belts import PROTON_TABLE_ENERGIES_MEV
from twin.radiation.checks import check_range
from twin.radiation.spectra import log_linear_flux
from twin.radiation.ranges import areal_density_g_cm2, check_shielding_mm, energy_before_shield_mev, \
    proton_energy_for_range_mev, proton_range_g_cm2
from twin.scenario.model import RadiationDesign

INTEGRATION_SAMPLES = 64  # energies behind the shield in the integral (log-spaced from the threshold)


@dataclass(frozen=True)
class WeibullCrossSection:
    """Proton upset cross section per bit: saturation (cm^2), threshold (MeV), width (MeV) and shape.

    A bit is far smaller than a square micron (1e-8 cm^2), so a saturation above that is refused, as are a
    threshold outside AP8's 0-400 MeV, a width outside (0, 1000] MeV and a shape outside (0, 10].
    """

    saturation_cm2: float
    threshold_mev: float
    width_mev: float
    shape: float

    def __post_init__(self):
        check_range("saturation_cm2", self.saturation_cm2, 0.0, 1e-8, low_open=True)
        check_range("threshold_mev", self.threshold_mev, 0.0, 400.0)
        check_range("width_mev", self.width_mev, 0.0, 1000.0, low_open=True)
        check_range("shape", self.shape, 0.0, 10.0, low_open=True)

    def cross_section_cm2(self, energy_mev) -> np.ndarray:
        """Cross section per bit (cm^2) at proton energies ``energy_mev``."""
        excess = np.maximum(np.asarray(energy_mev, float) - self.threshold_mev, 0.0) / self.width_mev
        return self.saturation_cm2 * -np.expm1(-(excess**self.shape))


@dataclass(frozen=True)
class UpsetOutcome:
    """What becomes of an upset: the fractions corrected (by ECC), detected but not corrected, and silent."""

    corrected: float
    detected: float
    silent: float

    def __post_init__(self):
        for name in ("corrected", "detected", "silent"):
            check_range(name, getattr(self, name), 0.0, 1.0)
        total = self.corrected + self.detected + self.silent
        if not math.isclose(total, 1.0, abs_tol=1e-9):
            raise ValueError(f"corrected + detected + silent: {total!r} is not 1")


@dataclass(frozen=True)
class BitPopulation:
    """Bits of one kind on a satellite (``memory`` or ``logic``), their cross section and upset outcome."""

    name: str
    bits: float
    cross_section: WeibullCrossSection
    outcome: UpsetOutcome

    def __post_init__(self):
        check_range(f"{self.name}.bits", self.bits, 0.0, 1e18)


def bits_of(design: RadiationDesign) -> tuple[BitPopulation, BitPopulation]:
    """The memory and logic bits of a scenario's :class:`twin.scenario.RadiationDesign` (its defaults: the
    sourced and assumed figures in :mod:`twin.scenario.model`)."""
    return tuple(BitPopulation(part, getattr(design, f"{part}_bits"), WeibullCrossSection(
        *(getattr(design, f"{part}_{name}") for name in ("saturation_cm2", "threshold_mev", "width_mev", "shape"))),
        UpsetOutcome(getattr(design, f"{part}_corrected"), getattr(design, f"{part}_detected"),
                     max(1.0 - getattr(design, f"{part}_corrected") - getattr(design, f"{part}_detected"), 0.0)))
        for part in ("memory", "logic"))


DEFAULT_BITS = bits_of(RadiationDesign())


def upset_weights(cross_section: WeibullCrossSection, shielding_mm: float | None,
                  samples: int = INTEGRATION_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """Incident energies (MeV) and weights (cm^2) with which the upset rate per bit is ``sum(w * J(>E_in))``.

    ``J`` is the integral flux before the shield (cm^-2 s^-1); ``shielding_mm`` None means no shield.
    The integral of J dsigma runs over ``samples`` energies behind the shield, from the threshold to the
    energy a 400 MeV proton (AP8's highest) keeps after the shield; the trapezoid weights are moved onto
    the energies the flux is sampled at.
    """
    lowest, highest = PROTON_TABLE_ENERGIES_MEV[0], PROTON_TABLE_ENERGIES_MEV[-1]
    if shielding_mm is None:
        top = highest
    else:
        top = float(proton_energy_for_range_mev(proton_range_g_cm2(highest) - areal_density_g_cm2(
            check_shielding_mm(shielding_mm))))
    start = max(cross_section.threshold_mev, 1e-3)
    if start >= top:
        return np.array([highest]), np.zeros(1)
    behind = np.geomspace(start, top, samples)
    incident = behind if shielding_mm is None else energy_before_shield_mev(behind, shielding_mm)
    incident = np.clip(incident, lowest, highest)
    sigma = cross_section.cross_section_cm2(behind)
    step = np.diff(sigma)
    weights = np.zeros(samples)
    weights[:-1] += 0.5 * step
    weights[1:] += 0.5 * step
    weights[-1] += cross_section.saturation_cm2 - sigma[-1]  # the rest of the rise, at the top energy's flux
    return incident, weights


def upset_rate_per_bit_s(cross_section: WeibullCrossSection, node_energies_mev: np.ndarray,
                         node_flux_cm2_s: np.ndarray, shielding_mm: float | None) -> np.ndarray:
    """Upsets per bit per second where the integral proton flux before the shield is ``node_flux_cm2_s``
    (..., nodes) at ``node_energies_mev`` (log-linear in energy between them)."""
    incident, weights = upset_weights(cross_section, shielding_mm)
    return log_linear_flux(np.asarray(node_energies_mev, float), np.asarray(node_flux_cm2_s, float), incident) @ weights
