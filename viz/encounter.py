"""A conjunction drawn in the 3D scene: where the fleet satellite and the other object are at the time of closest
approach (TCA), and the other object's track over the minutes about it, in the scene's frame (GCRS, km).

The screen (:mod:`twin.safety.screening`) gives both states at TCA in TEME; TEME turns into GCRS by precession and
nutation alone, a rotation that moves a LEO position by millimetres in minutes, so one matrix at TCA serves the whole
window. The track is the other object's osculating two-body path (:func:`twin.safety.long_encounter.kepler_propagate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.time import Time

from twin.orbit.frames import EarthOrientation
from twin.safety.long_encounter import kepler_propagate

WINDOW_S = 300.0  # the other object's track is drawn this long either side of its TCA
TRACK_SAMPLES = 61


@dataclass(frozen=True)
class Encounter:
    """A conjunction to draw: the fleet satellite (``primary``) and the other object (``secondary``, a catalogue
    object or another satellite of the fleet), their TCA (UTC datetime64) and their TEME states there (2, 6: km,
    km/s; primary first)."""

    primary: str
    secondary: str
    tca: np.datetime64
    states_teme: np.ndarray
    miss_distance_km: float

    def text(self) -> str:
        """``IRIDIUM 132 at TCA 2026-03-19 05:33:22 UTC, 0.067 km from DC3-016-07``: its hover label."""
        return (f"{self.secondary} at TCA {str(self.tca)[:19].replace('T', ' ')} UTC, {self.miss_distance_km:.3f} km "
                f"from {self.primary}")


def encounter_gcrs_km(encounter: Encounter, window_s: float = WINDOW_S,
                      samples: int = TRACK_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """(positions at TCA (2, 3): the fleet satellite, then the other object; the other object's track (samples, 3)
    from ``window_s`` before TCA to ``window_s`` after), GCRS km."""
    to_gcrs = EarthOrientation(Time(encounter.tca.astype("datetime64[ns]"), scale="utc"), np.zeros(1)).teme_to_gcrs[0]
    states = np.asarray(encounter.states_teme, float)
    track, _ = kepler_propagate(states[1, :3], states[1, 3:], np.linspace(-window_s, window_s, samples))
    return states[:, :3] @ to_gcrs.T, track @ to_gcrs.T
