"""Hardware health: the expected share of a satellite's compute lost to total ionising dose and to random failures.

Stated model: each accelerator fails permanently either from dose or at random, independently.

* Dose: its dose to failure is lognormal, ``F(D) = Phi(ln(D / D50) / s)``. The Suncatcher study's
  Trillium TPUs showed no hard failure up to 15 krad(Si) under 67 MeV protons (arXiv 2511.19468;
  REFERENCES.md): taking 15 krad as the 5th percentile with ``s = 0.5`` puts the median ``D50`` at
  15 exp(1.645 x 0.5) = 34.1 krad (an assumption consistent with that test, not a fit).
* Random: a constant rate per accelerator-year. Meta's Llama 3 training (16,384 H100 for 54 days)
  saw 148 interruptions from faulty GPUs and 72 from their HBM3: 220 / (16,384 x 54 / 365.25) =
  0.091 per accelerator-year, an upper bound on hard failures (interruptions include resets).

The expected fraction of capacity lost is ``1 - (1 - F(D)) exp(-lambda t)`` over the accelerators of
a satellite, all with the satellite's dose ``D`` and age ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from twin.constants import JULIAN_YEAR_S
from twin.radiation.checks import check_range
from twin.scenario.model import RadiationDesign

_DEFAULT = RadiationDesign()  # the defaults, with their sources, are the scenario key's (twin.scenario.model)


@dataclass(frozen=True)
class HardwareHealth:
    """Lognormal dose to failure (median ``dose_median_krad``, log width ``dose_log_width``) and a random
    failure rate ``random_failures_per_year`` per accelerator."""

    dose_median_krad: float = _DEFAULT.dose_median_krad
    dose_log_width: float = _DEFAULT.dose_log_width
    random_failures_per_year: float = _DEFAULT.random_failures_per_year

    @classmethod
    def of_design(cls, design: RadiationDesign) -> HardwareHealth:
        """The health model of a scenario's ``[radiation]`` keys."""
        return cls(design.dose_median_krad, design.dose_log_width, design.random_failures_per_year)

    def __post_init__(self):
        check_range("dose_median_krad", self.dose_median_krad, 0.0, 1e5, low_open=True)
        check_range("dose_log_width", self.dose_log_width, 0.0, 10.0, low_open=True)
        check_range("random_failures_per_year", self.random_failures_per_year, 0.0, 100.0)

    def failed_by_dose(self, total_dose_rad) -> np.ndarray:
        """Fraction of accelerators failed at total dose ``total_dose_rad`` (rad(Si))."""
        dose_krad = np.maximum(np.asarray(total_dose_rad, float), 0.0) / 1e3
        with np.errstate(divide="ignore"):
            return ndtr(np.log(dose_krad / self.dose_median_krad) / self.dose_log_width)

    def capacity_lost_fraction(self, total_dose_rad, elapsed_s) -> np.ndarray:
        """Expected fraction of capacity lost at total dose ``total_dose_rad`` (rad) after ``elapsed_s`` in orbit."""
        surviving_random = np.exp(-self.random_failures_per_year * np.asarray(elapsed_s, float) / JULIAN_YEAR_S)
        return 1.0 - (1.0 - self.failed_by_dose(total_dose_rad)) * surviving_random
