"""``twin render``: a picture, an animation or an interactive page of a stored run (the 3D scene of :mod:`viz`).

::

    twin render run.zarr --time 2026-06-01T01:30:00Z --color-by generated_power --out view.png
    twin render run.zarr --time 2026-06-01T00:00:00Z --end 2026-06-01T03:00:00Z --color-by illumination --out orbit.mp4
    twin render run.zarr --color-by owner --focus CC1-001 --out cluster.gif
    twin render run.zarr --color-by temperature:payload --out view.html

Registered in :mod:`twin.cli` (run it as ``twin render``). User mistakes (a missing run,
a variable the run does not have, a time outside it) end with one line and exit status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from twin.cli.common import UserError, progress_bar
from twin.safe_output import FILE, check_target

STILL_SUFFIXES = (".png", ".html", ".htm")
ANIMATION_SUFFIXES = (".gif", ".mp4")
STILL_MULTI_SAMPLES = 4  # anti-aliasing for files (the interactive scene renders without, for speed)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(value) for value in text.lower().split("x"))
    except ValueError:
        raise UserError(f"--size: {text!r} is not WIDTHxHEIGHT such as 1280x720") from None
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise UserError(f"--size: {text!r} must be between 16 and 8192 pixels each way")
    return width, height


def _scenario(run, name: str | None):
    """The scenario whose ground stations and relays are drawn: ``--scenario``, else the run's own if it loads."""
    from twin.scenario import ScenarioError, load_scenario

    if name:
        try:
            return load_scenario(name)
        except ScenarioError as error:
            raise UserError(str(error)) from None
    for candidate in (run.attrs.get("scenario_source"), run.attrs.get("scenario")):
        if candidate:
            try:
                return load_scenario(candidate)
            except (ScenarioError, OSError, ValueError):
                continue
    return None


def cmd_render(args) -> int:
    from twin.dataset import RunDamagedError, damage_named, open_run

    out = Path(args.out)
    if out.suffix.lower() not in STILL_SUFFIXES + ANIMATION_SUFFIXES:
        raise UserError(f"--out: {args.out!r} must end in .png, .gif, .mp4 or .html")
    check_target(out, FILE, args.overwrite)  # refused now, not after reading and drawing
    animation = out.suffix.lower() in ANIMATION_SUFFIXES
    if args.end and not animation:
        raise UserError("--end: only for an animation (--out ending in .gif or .mp4)")
    if args.every < 1:
        raise UserError(f"--every: {args.every} must be at least 1")
    if args.fps <= 0:
        raise UserError(f"--fps: {args.fps:g} must be positive")
    size = _size(args.size)
    try:
        run = open_run(args.run)
    except (OSError, ValueError) as error:
        raise UserError(str(error)) from None
    for name in ("position", "sun_position"):
        if name not in run:
            raise UserError(f"run: {args.run!r} has no {name!r}; is it a twin run?")
    try:
        with damage_named(run, args.run):
            return _render(args, run, out, size)
    except RunDamagedError as error:
        raise UserError(str(error)) from None


def _render(args, run, out: Path, size: tuple[int, int]) -> int:
    """Draw ``run`` as ``args`` ask, ``size`` pixels, into ``out`` (checked by :func:`cmd_render`)."""
    from viz.colors import ColorError, coloring
    from viz.scene import TimeError, time_index

    animation = out.suffix.lower() in ANIMATION_SUFFIXES
    times = run["time"].values.astype("datetime64[ns]")
    try:
        first = time_index(times, args.time) if args.time else 0
        last = time_index(times, args.end) if args.end else (len(times) - 1 if animation else first)
        color = coloring(run, args.color_by, tuple(args.clim) if args.clim else None, args.cmap)
    except (TimeError, ColorError) as error:
        raise UserError(str(error)) from None
    if last < first:
        raise UserError(f"--end: {args.end} is before --time {args.time}")
    steps = np.arange(first, last + 1, args.every)
    scenario = _scenario(run, args.scenario)
    if args.focus and args.focus not in set(run["subcenter"].values.astype(str)):
        raise UserError(f"--focus: {args.focus!r} is not a sub-center of this run")

    # Read only the steps shown (a stored day of phase 3 is gigabytes): positions, Sun, velocity, colour.
    name = args.color_by.partition(":")[0]
    keep = [variable for variable in ("position", "velocity", "sun_position", name) if variable in run.data_vars]
    span = run[keep].isel(time=slice(int(steps[0]), int(steps[-1]) + 1)).load()

    from viz.export import save_animation, save_html, save_png
    from viz.scene import ConstellationScene

    scene = ConstellationScene(span, color_by=args.color_by, clim=color.clim if not color.categorical else None,
                               cmap=args.cmap, scenario=scenario, window_size=size, tracks=not args.no_tracks,
                               shadow=not args.no_shadow, point_size=args.point_size, multi_samples=STILL_MULTI_SAMPLES)
    if "link_up" in run.data_vars and scenario is not None:
        _draw_network_links(scene, run, scenario, slice(int(steps[0]), int(steps[-1]) + 1))
    if args.focus:
        scene.show_subcenter_links(args.focus)
        scene.focus(args.focus)
    try:
        if animation:
            with progress_bar(len(steps), not args.quiet) as bar:
                save_animation(scene, out, steps - steps[0], fps=args.fps, progress=bar.update, overwrite=args.overwrite)
        elif out.suffix.lower() == ".png":
            save_png(scene, out, overwrite=args.overwrite)
        else:
            save_html(scene, out, overwrite=args.overwrite)
    finally:
        scene.close()
    shown = f"{len(steps)} steps from {str(times[steps[0]])[:19]}Z to {str(times[steps[-1]])[:19]}Z" if animation \
        else f"{str(times[first])[:19]}Z"
    print(f"wrote {out} ({shown}, {run.sizes['sat']} satellites, colour: {scene.coloring.title})")
    return 0


def _draw_network_links(scene, run, scenario, span: slice) -> None:
    """The backbone links of a run with its network (between sub-centers, to relays, to stations), drawn when up.

    Links inside a formation are left to ``--focus``: at fleet scale they are too short to see.
    """
    names = list(run["sat"].values.astype(str)) + [relay.name for relay in scenario.relays] \
        + [station.name for station in scenario.ground_stations]
    node = {name: index for index, name in enumerate(names)}
    kinds = run["link_kind"].values.astype(str)
    ends_a, ends_b = run["link_end_a"].values.astype(str), run["link_end_b"].values.astype(str)
    up = run["link_up"].isel(time=span).values.astype(bool)
    for kind in sorted(set(kinds) - {"intra"}):
        rows = np.flatnonzero(kinds == kind)
        pairs = np.array([[node[ends_a[row]], node[ends_b[row]]] for row in rows])
        scene.set_links(kind, pairs, active=up[rows])


def register(subparsers) -> argparse.ArgumentParser:
    """Add ``twin render`` to the ``twin`` command's subparsers."""
    render = subparsers.add_parser("render",
                                   help="draw a stored run in 3D: a PNG, a GIF or MP4 of a span, an HTML page")
    render.add_argument("run", help="a .zarr or .nc written by twin simulate")
    render.add_argument("--out", required=True, help="view.png, span.gif, span.mp4 or view.html (interactive, vtk.js)")
    render.add_argument("--overwrite", action="store_true", help="replace the file already at --out")
    render.add_argument("--time", help="ISO 8601 UTC time shown (the nearest step; default: the first), "
                                       "or the start of an animation")
    render.add_argument("--end", help="last time of an animation (default: the run's last step)")
    render.add_argument("--every", type=int, default=1, metavar="N", help="animate every N-th step (default 1)")
    render.add_argument("--fps", type=float, default=12.0, help="frames per second of an animation (default 12)")
    render.add_argument("--color-by", default="illumination", metavar="VAR",
                        help="satellite colour: a (sat, time) variable such as generated_power, battery_soc, "
                             "compute_utilization, temperature:payload; or owner, subcenter, role "
                             "(default illumination)")
    render.add_argument("--clim", type=float, nargs=2, metavar=("LOW", "HIGH"),
                        help="colour range (default: the variable's range over the run)")
    render.add_argument("--cmap", help="Matplotlib colour map name (default viridis; tab10 for labels)")
    render.add_argument("--size", default="1280x720", help="image size WIDTHxHEIGHT (default 1280x720)")
    render.add_argument("--focus", metavar="SUBCENTER", help="look closely at one sub-center, with its formation links")
    render.add_argument("--scenario", help="scenario whose ground stations and relays are drawn "
                                           "(default: the run's, when it can be loaded)")
    render.add_argument("--point-size", type=float, default=8.0, help="satellite size in pixels (default 8)")
    render.add_argument("--no-tracks", action="store_true", help="no orbit tracks")
    render.add_argument("--no-shadow", action="store_true", help="no shadow cone, terminator circle or Sun arrow")
    render.add_argument("--quiet", action="store_true", help="no progress bar")
    render.set_defaults(handler=cmd_render)
    return render
