"""What leaves the scene: a PNG, a GIF or MP4 of a span of steps, an interactive HTML page (vtk.js).

All work off-screen with nothing downloaded: GIF through imageio (Pillow), MP4 through the ffmpeg
binary that the ``imageio-ffmpeg`` wheel ships, HTML through Panel's VTK pane, which serialises the
render window for vtk.js and, with inline resources, writes one self-contained file (vtk.js and
Bokeh included, about 10 MB) that a reviewer opens in any browser, offline.

Each writes under the rules of :mod:`twin.safe_output`: a file already at the path is replaced only with
``overwrite`` (else :class:`twin.safe_output.OutputError` naming it, nothing touched), and the output is written
beside it and renamed into place when complete, so a failed render never leaves half a file under its name.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from twin.safe_output import FILE, check_target, written_into_place

from .scene import ConstellationScene

ANIMATION_SUFFIXES = (".gif", ".mp4")


def save_png(scene: ConstellationScene, path: str | Path, overwrite: bool = False) -> Path:
    """The scene at its current step, as a PNG at the window's size."""
    scene.screenshot(path, overwrite=overwrite)
    return Path(path)


def save_animation(scene: ConstellationScene, path: str | Path, steps: Sequence[int], fps: float = 12.0,
                   progress=None, overwrite: bool = False) -> Path:
    """Render ``steps`` (time indices) into ``path``: ``.gif`` (looping) or ``.mp4`` (H.264).

    Each frame is :meth:`ConstellationScene.update` (in place) and a render: the cost per frame is
    the render's. ``progress`` is called with 1 after each frame.
    """
    path = Path(path)
    if path.suffix not in ANIMATION_SUFFIXES:
        raise ValueError(f"out: {str(path)!r} must end in {' or '.join(ANIMATION_SUFFIXES)}")
    with written_into_place(path, FILE, overwrite) as partial:
        plotter = scene.plotter
        if path.suffix == ".gif":
            plotter.open_gif(str(partial), fps=fps, loop=0, palettesize=256)
        else:
            # quality 7 of 10: crisp orbits at about 1 MB a minute at 1280x720.
            plotter.open_movie(str(partial), framerate=fps, quality=7)
        try:
            for index in steps:
                scene.update(int(index))
                scene.render()
                plotter.write_frame()
                if progress:
                    progress(1)
        finally:
            plotter.mwriter.close()
            plotter.mwriter = None
    return path


def save_html(scene: ConstellationScene, path: str | Path, width: int | None = None, height: int | None = None,
              title: str | None = None, overwrite: bool = False) -> Path:
    """The scene at its current step as one self-contained interactive HTML page (vtk.js; rotate, zoom, pan).

    The page holds the meshes, texture and colours of this step; the colour bar is drawn by the
    page itself. Needs Panel (``pip install panel``; it is in the twin's ``viz`` extra).
    """
    import panel as pn
    from bokeh.core.validation import silence
    from bokeh.core.validation.warnings import MISSING_RENDERERS
    from bokeh.resources import INLINE

    path = Path(path)
    if path.suffix not in (".html", ".htm"):
        raise ValueError(f"out: {str(path)!r} must end in .html")
    check_target(path, FILE, overwrite)  # refused before the page is built
    scene.render()
    window_width, window_height = scene.plotter.window_size
    pane = pn.pane.VTK(scene.plotter.render_window, width=width or window_width, height=height or window_height,
                       orientation_widget=True, enable_keybindings=True)
    if scene.coloring.categorical:
        legend = pn.pane.HTML("<br>".join(f'<span style="color:{color}">&#9679;</span> {label}'
                                          for label, color in scene.category_colors().items()))
    else:
        legend = pane.construct_colorbars()
    page = pn.Column(pn.pane.Markdown(f"### {title or scene.caption()}\n"
                                      "Drag to rotate, scroll to zoom, shift-drag to pan. The page lights the "
                                      "scene from the camera; the orange circle is the terminator, the dark cone "
                                      "the Earth's shadow, the yellow arrow points to the Sun."),
                     pn.Row(pane, legend))
    inline = pn.config.inline
    silence(MISSING_RENDERERS, True)  # the colour bar figure has axes only, by design
    try:
        pn.config.inline = True  # Panel's own CSS too: the page must open offline
        with written_into_place(path, FILE, overwrite) as partial:
            page.save(str(partial), resources=INLINE, embed=True, title=title or scene.caption())
    finally:
        pn.config.inline = inline
        silence(MISSING_RENDERERS, False)
    return path
