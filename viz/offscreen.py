"""Render without a display: VTK's EGL window on Mesa's software rasteriser (llvmpipe).

The VTK wheels (9.4 and later) open their OpenGL libraries at run time and can draw into an EGL
surface with no X server. With no ``DISPLAY`` (or ``WAYLAND_DISPLAY``), VTK would first try X,
warn "bad X server connection", then fall back to EGL; choosing EGL up front
(``VTK_DEFAULT_OPENGL_WINDOW=vtkEGLRenderWindow``) skips the attempt and the warning. The system
needs Mesa's EGL and DRI drivers; on Debian or Ubuntu::

    apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri

(``bootstrap.sh`` and ``.ci/run`` install them). Nothing is downloaded at run time.
"""

from __future__ import annotations

import os

WINDOW_VARIABLE = "VTK_DEFAULT_OPENGL_WINDOW"


def headless() -> bool:
    """True when there is no display to open a window on."""
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def configure(off_screen: bool = True) -> None:
    """Prepare PyVista to render off-screen; on a machine with no display, through EGL.

    Call before the first ``pyvista.Plotter`` is made (the scene does). A window class the user
    chose in ``VTK_DEFAULT_OPENGL_WINDOW`` is kept.
    """
    if headless():
        os.environ.setdefault(WINDOW_VARIABLE, "vtkEGLRenderWindow")
    if off_screen or headless():
        import pyvista

        pyvista.OFF_SCREEN = True
