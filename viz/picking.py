"""Which satellite is under a click: points projected through a perspective camera, the Earth in the way.

A front end (the dashboard's vtk.js view) reports where the user clicked, in display pixels from
the bottom-left corner as VTK counts them, the view's size, and its camera as vtk.js holds it:
``position``, ``focalPoint``, ``viewUp`` and ``viewAngle`` (the vertical field of view, degrees).
The nearest satellite on screen within a tolerance is picked, unless the Earth hides it.

>>> import numpy as np
>>> camera = {"position": [30000.0, 0, 0], "focalPoint": [0, 0, 0], "viewUp": [0, 0, 1], "viewAngle": 30.0}
>>> points = np.array([[7000.0, 0, 0], [-7000.0, 0, 0]])   # in front of the Earth, and behind it
>>> np.round(project_px(points, camera, 800, 600)[0], 1).tolist()
[[400.0, 300.0], [400.0, 300.0]]
>>> pick(points, camera, (400, 300), (800, 600))
0
"""

from __future__ import annotations

import numpy as np

from .geometry import EARTH_RADIUS_KM


def _frame(camera: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The camera's position and its forward, right and up unit vectors."""
    position = np.asarray(camera["position"], float)
    forward = np.asarray(camera["focalPoint"], float) - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, np.asarray(camera["viewUp"], float))
    right /= np.linalg.norm(right)
    return position, forward, right, np.cross(right, forward)


def project_px(points_km: np.ndarray, camera: dict, width_px: float, height_px: float) -> tuple[np.ndarray, np.ndarray]:
    """Display coordinates (n, 2; pixels from the bottom-left) of ``points_km`` and their depth (km) along the view."""
    position, forward, right, up = _frame(camera)
    relative = np.asarray(points_km, float) - position
    depth = relative @ forward
    half_height = np.tan(np.radians(float(camera["viewAngle"])) / 2.0) * np.where(depth > 0, depth, np.nan)
    x = (relative @ right) / (half_height * width_px / height_px)
    y = (relative @ up) / half_height
    return np.stack([(x + 1.0) * width_px / 2.0, (y + 1.0) * height_px / 2.0], axis=-1), depth


def hidden_by_earth(points_km: np.ndarray, camera: dict, earth_radius_km: float = EARTH_RADIUS_KM) -> np.ndarray:
    """Whether the segment from the camera to each point passes through the Earth (a sphere at the origin)."""
    position = np.asarray(camera["position"], float)
    segment = np.asarray(points_km, float) - position
    # Closest approach of the segment to the Earth's centre, clamped to the segment.
    t = np.clip(-(segment @ position) / np.einsum("ij,ij->i", segment, segment), 0.0, 1.0)
    closest = position + t[:, None] * segment
    return np.linalg.norm(closest, axis=1) < earth_radius_km


def pick(points_km: np.ndarray, camera: dict, click_px: tuple[float, float], size_px: tuple[float, float],
         tolerance_px: float = 12.0) -> int | None:
    """Row of the satellite drawn nearest to ``click_px`` (within ``tolerance_px``) and not hidden by the Earth."""
    screen, depth = project_px(points_km, camera, *size_px)
    distance = np.linalg.norm(screen - np.asarray(click_px, float), axis=1)
    candidates = np.flatnonzero((depth > 0) & (distance <= tolerance_px))
    candidates = candidates[~hidden_by_earth(np.asarray(points_km, float)[candidates], camera)]
    if candidates.size == 0:
        return None
    return int(candidates[np.argmin(distance[candidates])])
