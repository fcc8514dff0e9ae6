"""3D views of the constellation with PyVista: one scene for the command line, notebooks and the web app.

>>> from viz import ConstellationScene          # doctest: +SKIP
>>> scene = ConstellationScene(run, color_by="battery_soc", scenario=scenario)  # doctest: +SKIP
>>> scene.update("2026-06-01T01:30:00Z"); scene.screenshot("view.png")  # doctest: +SKIP

Modules: :mod:`viz.geometry` (the numbers: Earth grid, orientation, Sun frame, tracks; numpy only),
:mod:`viz.colors` (what the satellites are coloured by), :mod:`viz.scene` (the PyVista scene),
:mod:`viz.export` (PNG, GIF/MP4, HTML), :mod:`viz.offscreen` (rendering with no display).
"""

from .colors import ColorError, colorable
from .scene import ConstellationScene, TimeError

__all__ = ["ColorError", "ConstellationScene", "TimeError", "colorable"]
