"""Failures driven by total ionising dose in a build-up whose scenario has a ``[radiation]`` section (the switch:
without it, only the random ``failure_rate_per_year``).

Stated model: a satellite is lost when its accelerator fails by dose (the payload is what it flies for), with the
hardware-health model of :class:`twin.radiation.HardwareHealth`: a lognormal dose to failure ``F(D)`` (median
``dose_median_krad``, 34.1 krad(Si) by default, log width ``dose_log_width``; the Suncatcher TPUs' no failure up to
15 krad(Si) taken as its 5th percentile, REFERENCES: Suncatcher). The satellites of a sub-center share its orbit and
shielding, so at age ``a`` each has taken ``D = r a``, ``r`` the long-run dose rate of a circular sun-synchronous
orbit at its group's altitude behind ``[radiation] shielding_mm`` of aluminium
(:func:`twin.radiation.environment.orbit_dose_rate_rad_s`, AP8/AE8 at ``solar``). Of a cohort's satellites still
flying at age ``a0``, the share failed by dose at ``a1`` is ``(F(r a1) - F(r a0)) / (1 - F(r a0))``: a hazard that
grows with age (780 km behind 2 mm, 2.9 krad a year: 0.02 % of a cohort in its second year, 2.9 % in its fifth,
6.8 % in its seventh). Dose and random failures are independent: a satellite survives a step with
``(1 - p_random) (1 - p_dose)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.orbit.fleet import Fleet
from twin.radiation.environment import RadiationSettings, orbit_dose_rate_rad_s
from twin.radiation.hardware import HardwareHealth
from twin.scenario import Scenario


@dataclass(frozen=True)
class DoseFailures:
    """The dose rate (rad(Si)/s) of each row of a build-up (a sub-center) and the parts' ``health``."""

    dose_rate_rad_s: np.ndarray
    health: HardwareHealth

    @classmethod
    def of(cls, scenario: Scenario, fleet: Fleet) -> DoseFailures | None:
        """The dose failures of ``scenario``'s sub-centers (rows of ``fleet``); None without ``[radiation]``."""
        design = scenario.radiation
        if design is None:
            return None
        settings = RadiationSettings.of_design(design)
        altitude_km = {group.name: scenario.orbit.altitude_km if group.altitude_km is None else group.altitude_km
                       for group in scenario.subcenters}
        rate = {group: orbit_dose_rate_rad_s(settings, float(altitude)) for group, altitude in altitude_km.items()}
        return cls(np.array([rate[group] for group in fleet.group]), HardwareHealth.of_design(design))

    def dose_rad(self, row: np.ndarray, age_s: np.ndarray) -> np.ndarray:
        """Total dose (rad(Si)) of satellites of ``row`` at ``age_s`` (none before launch)."""
        return self.dose_rate_rad_s[row] * np.maximum(age_s, 0.0)

    def failing(self, row: np.ndarray, age_before_s: np.ndarray, age_now_s: np.ndarray) -> np.ndarray:
        """Probability that a satellite of ``row`` flying at ``age_before_s`` fails by dose by ``age_now_s``."""
        before = self.health.failed_by_dose(self.dose_rad(row, age_before_s))
        now = self.health.failed_by_dose(self.dose_rad(row, age_now_s))
        surviving = 1.0 - before
        return np.where(surviving > 0, (now - before) / np.where(surviving > 0, surviving, 1.0), 1.0)
