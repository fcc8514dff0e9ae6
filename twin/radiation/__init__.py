"""The radiation environment and its effects: trapped protons and electrons (AP8/AE8), dose behind
shielding, single-event upsets and hardware health, at every satellite and step of an orbit layer.

A layer between :mod:`twin.orbit` and :mod:`twin.subsystems`. The numeric core names its units
(``proton_flux_cm2_s``, ``dose_rate_rad_s``); :func:`twin.radiation.layer.radiation_layer` puts it on
a run as CF variables.
"""

from twin.radiation.compare import altitude_comparison
from twin.radiation.environment import RadiationSettings, radiation_arrays
from twin.radiation.hardware import HardwareHealth
from twin.radiation.layer import radiation_layer
from twin.radiation.regions import radiation_passes
from twin.radiation.upsets import BitPopulation, UpsetOutcome, WeibullCrossSection

__all__ = ["BitPopulation", "HardwareHealth", "RadiationSettings", "UpsetOutcome", "WeibullCrossSection",
           "altitude_comparison", "radiation_arrays", "radiation_layer", "radiation_passes"]
