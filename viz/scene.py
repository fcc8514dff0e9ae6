"""The 3D scene of a twin run: the Earth, the Sun, the satellites, their orbits and links, at any time step.

Build it once, then move it through time in place::

    import twin
    from viz import ConstellationScene

    run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=3 * 3600, step_s=60)
    scene = ConstellationScene(run, color_by="generated_power", scenario=twin.load_scenario("phase1"))
    scene.screenshot("view.png")
    scene.update("2026-06-01T01:30:00Z")   # positions, colours, Earth and Sun move; nothing is rebuilt
    scene.screenshot("later.png")

What is drawn (GCRS, kilometres; see :mod:`viz.geometry`):

* the WGS-84 Earth with NASA's Blue Marble texture (``assets/textures/``), turned to its
  orientation at the step, lit by one directional light from the Sun, so day, night and the
  terminator are where they are; the terminator circle, a Sun arrow and the Earth's umbra cone;
* every satellite as one point of one ``PolyData`` (never one actor per satellite), coloured by
  any twin variable with a colour bar and its units (:mod:`viz.colors`);
* each sub-center's chief's orbit track (osculating two-body ellipse at the step);
* ground stations and geostationary relays of the scenario (turning with the Earth);
* links: node pairs in the node order of :class:`twin.network.links.LinkSet` (satellites, then relays,
  then stations) whose ends follow the nodes at every step, optionally only while active
  (:meth:`ConstellationScene.set_links`); or any line segments (:meth:`ConstellationScene.set_segments`).

A time step sets the satellites' points and colours, the track points, the link ends, three 4x4
matrices (Earth, Sun frame) and the light's direction: arrays updated in place, no actor added.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

import numpy as np
import xarray as xr

from twin.assets import asset_path
from twin.network.contacts import station_itrs_m
from twin.network.links import relay_itrs_m
from twin.safe_output import FILE, written_into_place

from . import geometry
from .colors import Coloring, coloring
from .encounter import Encounter, encounter_gcrs_km
from .geometry import KM
from .offscreen import configure

TEXTURE_PATH = asset_path("textures", "blue_marble_2048x1024.jpg")
BACKGROUND = "#05060a"
NAN_COLOR = "#7f7f7f"  # satellites with no value at the step (means over the step are NaN at the first time)
LINK_COLORS = {"intra": "#66ccff", "in_plane": "#ffffff", "cross_plane": "#bbbbff", "relay": "#ff66cc",
               "ground": "#ffcc33"}
# Blue Marble's oceans (most of the day side) are dark blue: lit by the Sun alone the day side averaged 17 of 255
# where it faced the Pacific. A gamma of 0.6 on the texture lifts them to about 45 and leaves the land's colours.
EARTH_TEXTURE_GAMMA = 0.6
EARTH_AMBIENT = 0.08  # the night side: dim, so the terminator shows but the continents stay readable
UMBRA_LENGTH_KM = 3.0 * geometry.EARTH_RADIUS_KM  # far enough to cover LEO, short enough to stay in view
# Longitude x latitude cells of the lightweight Earth (6 degrees): software WebGL pays per triangle, and the
# limb stays within half a pixel of the ellipsoid at the dashboard's whole-Earth zoom (texture carries the detail).
LIGHT_EARTH_CELLS = (60, 30)
CAPTION_BAND_PX, CAPTION_FONT_PX = 22, 14  # the caption's band above the view, and its text
TRACK_OPAQUE_COLOR = "#404956"  # 0.45 x #8fa3bf: the translucent tracks over the black sky
ENCOUNTER_COLOR = "#ff3b30"  # a conjunction's other object: its track and its place at TCA (the satellite's: white)


@functools.cache
def earth_texture(path: str | Path, gamma: float = EARTH_TEXTURE_GAMMA) -> np.ndarray:
    """The Earth's texture image (rows, columns, RGB uint8) brightened by ``gamma`` (< 1 lifts the dark oceans most)."""
    from PIL import Image

    lookup = np.round(255.0 * (np.arange(256) / 255.0) ** gamma).astype(np.uint8)
    image = lookup[np.asarray(Image.open(path).convert("RGB"))]
    image.flags.writeable = False  # shared by every scene of the process
    return image


class TimeError(ValueError):
    """The time asked for is not in the run."""


def _as_datetime64(time) -> np.datetime64:
    if isinstance(time, np.datetime64):
        return time.astype("datetime64[ns]")
    text = str(time).strip().removesuffix("Z").removesuffix("z")
    try:
        return np.datetime64(text, "ns")
    except ValueError:
        raise TimeError(f"--time: {time!r} is not an ISO 8601 UTC time such as '2026-06-01T01:30:00Z'") from None


def time_index(times: np.ndarray, time) -> int:
    """The index of the step of ``times`` nearest to ``time`` (an index, datetime64 or ISO string).

    :class:`TimeError` if ``time`` lies outside the run (by more than half a step) or the index
    is out of range.
    """
    if isinstance(time, (int, np.integer)):
        if not -len(times) <= time < len(times):
            raise TimeError(f"time index {time} is outside the run's {len(times)} steps")
        return int(time) % len(times)
    wanted = _as_datetime64(time)
    step = (times[1] - times[0]) if len(times) > 1 else np.timedelta64(0, "ns")
    if wanted < times[0] - step / 2 or wanted > times[-1] + step / 2:
        raise TimeError(f"--time: {time} is outside the run, which spans {str(times[0])[:19]}Z to "
                        f"{str(times[-1])[:19]}Z")
    return int(np.argmin(np.abs(times - wanted)))


def _lines(count: int, points_per_line: int) -> np.ndarray:
    """VTK line cells for ``count`` polylines of ``points_per_line`` consecutive points each."""
    ids = np.arange(count * points_per_line).reshape(count, points_per_line)
    return np.hstack([np.full((count, 1), points_per_line), ids]).ravel()


class ConstellationScene:
    """The 3D view of ``run`` (a twin dataset) at one of its time steps; :meth:`update` moves it to another.

    Parameters
    ----------
    run : xarray.Dataset
        A twin run: ``position``, ``sun_position`` and ``time`` at least; ``velocity`` for tracks.
    color_by : str
        A (sat, time) variable, ``temperature:bus`` for a node, or ``owner``, ``subcenter``,
        ``role``... (:func:`viz.colors.colorable` lists them).
    time : int, str or numpy.datetime64
        The step shown first (index, or the nearest step to an ISO UTC time).
    scenario : twin.Scenario, optional
        Its ground stations and relays are drawn (or pass ``stations`` / ``relays`` yourself:
        objects with ``latitude_deg``, ``longitude_deg``, ``altitude_m`` / ``longitude_deg``).
    clim, cmap : optional
        Colour range (default: the variable's range over the whole run) and colour map.
    tracks, shadow : bool
        Draw the chiefs' orbit tracks; the umbra cone, terminator circle and Sun arrow.
    window_size : (int, int)
        Pixels of the rendered image.
    point_size : float
        Satellite size in pixels: fixed on screen, so zooming in separates a close formation.
    multi_samples : int
        Anti-aliasing samples per pixel: 0 for speed (interactive, animation), 4 or 8 for stills;
        a software rasteriser pays about twice the render time at 4.
    off_screen : bool
        Render to an image (the default; always, on a machine with no display).
    lightweight : bool
        A scene for a browser drawing WebGL in software (the dashboard): the Earth in 6-degree cells
        instead of 2, one opaque orbit track per orbital plane (the chiefs of a designed plane fly
        the same orbit) and the umbra as an outline. Translucent surfaces cost vtk.js extra render
        passes, and a software rasteriser pays for every triangle and line segment.
    """

    def __init__(self, run: xr.Dataset, color_by: str = "illumination", time=0, *, scenario=None,
                 stations=None, relays=None, clim=None, cmap=None, tracks: bool = True, shadow: bool = True,
                 window_size=(1280, 720), point_size: float = 8.0, multi_samples: int = 0, off_screen: bool = True,
                 show_clock: bool = True, show_scalar_bar: bool = True, texture: str | Path = TEXTURE_PATH,
                 lightweight: bool = False):
        configure(off_screen)
        import pyvista as pv

        self.run = run
        self.times = run["time"].values.astype("datetime64[ns]")
        self.coloring: Coloring = coloring(run, color_by, clim, cmap)
        self.index = time_index(self.times, time)
        self._position = run["position"].data  # numpy, or dask for a lazily opened run: read one step at a time
        self._velocity = run["velocity"].data if "velocity" in run else None
        self._sun = np.asarray(run["sun_position"].values, float)
        self._itrs_to_gcrs = geometry.itrs_to_gcrs_matrices(self.times)
        stations = list(scenario.ground_stations) if stations is None and scenario is not None else list(stations or [])
        relays = list(scenario.relays) if relays is None and scenario is not None else list(relays or [])
        self.station_names = [getattr(station, "name", f"station {i}") for i, station in enumerate(stations)]
        self.relay_names = [getattr(relay, "name", f"relay {i}") for i, relay in enumerate(relays)]
        self._station_itrs_km = self._stations_itrs_km(stations)
        self._relay_itrs_km = self._relays_itrs_km(relays)

        self.plotter = pv.Plotter(off_screen=off_screen or pv.OFF_SCREEN, window_size=list(window_size),
                                  lighting="none")
        self.plotter.render_window.SetMultiSamples(multi_samples)
        self.plotter.set_background(BACKGROUND)
        self.sun_light = pv.Light(light_type="scene light", intensity=1.0)
        self.sun_light.positional = False
        self.plotter.add_light(self.sun_light)

        self._lightweight = lightweight
        self._earth_actors = self._add_earth(pv, texture)
        self._sun_actors = self._add_sun_frame(pv) if shadow else []
        self._point_size, self._show_scalar_bar = point_size, show_scalar_bar
        self.satellites, self.satellite_actor = self._add_satellites(pv, point_size, show_scalar_bar)
        self.track_rows = self._track_rows() if tracks and self._velocity is not None else np.array([], int)
        self.tracks = self._add_tracks(pv) if self.track_rows.size else None
        self._links: dict[str, dict] = {}
        self._segments: dict[str, pv.PolyData] = {}
        self._follow: str | None = None
        self.encounter: Encounter | None = None
        self._encounter_actors: list = []
        self.clock = self._add_caption_band() if show_clock else None
        self.update(self.index)
        self.reset_camera()

    # ----------------------------------------------------------------------------------- building

    @staticmethod
    def _stations_itrs_km(stations) -> np.ndarray:
        if not stations:
            return np.zeros((0, 3))
        return station_itrs_m([s.latitude_deg for s in stations], [s.longitude_deg for s in stations],
                              [getattr(s, "altitude_m", 0.0) for s in stations]) / KM

    @staticmethod
    def _relays_itrs_km(relays) -> np.ndarray:
        if not relays:
            return np.zeros((0, 3))
        return relay_itrs_m([relay.longitude_deg for relay in relays]) / KM

    def _add_earth(self, pv, texture) -> list:
        points, faces, uv, normals = geometry.earth_surface(*(LIGHT_EARTH_CELLS if self._lightweight else ()))
        earth = pv.PolyData(points, faces)
        earth.active_texture_coordinates = uv
        earth.point_data.active_normals = normals
        self.earth = earth
        # A closed opaque surface: its far side is never seen, and culling it halves what a software renderer
        # shades (the browser's WebGL on a machine with no GPU spent 12 of 28 ms a frame on it).
        actors = [self.plotter.add_mesh(earth, texture=pv.Texture(earth_texture(texture)), ambient=EARTH_AMBIENT,
                                        diffuse=1.0, specular=0.0, culling="back", name="earth")]
        actors[0].prop.interpolation = "gouraud"
        if len(self._station_itrs_km):
            self.stations = pv.PolyData(self._station_itrs_km * 1.001)
            actors.append(self.plotter.add_mesh(self.stations, color="#ff3b30", point_size=9,
                                                render_points_as_spheres=True, lighting=False, name="stations"))
        if len(self._relay_itrs_km):
            self.relays = pv.PolyData(self._relay_itrs_km)
            actors.append(self.plotter.add_mesh(self.relays, color="#ff66cc", point_size=11,
                                                render_points_as_spheres=True, lighting=False, name="relays"))
        return actors

    def _add_caption_band(self):
        """The caption (:meth:`caption`) in a band of its own above the view, never over a satellite: the 3D view
        keeps the rest of the window. Returns its text actor."""
        import vtk

        band = CAPTION_BAND_PX / self.plotter.window_size[1]
        self.plotter.renderer.SetViewport(0.0, 0.0, 1.0, 1.0 - band)
        self.caption_renderer = vtk.vtkRenderer()
        self.caption_renderer.SetViewport(0.0, 1.0 - band, 1.0, 1.0)
        self.caption_renderer.SetBackground(*(int(BACKGROUND[i:i + 2], 16) / 255 for i in (1, 3, 5)))
        self.caption_renderer.InteractiveOff()
        text = vtk.vtkTextActor()
        text.GetTextProperty().SetFontSize(CAPTION_FONT_PX)
        text.GetTextProperty().SetColor(1.0, 1.0, 1.0)
        text.GetTextProperty().SetVerticalJustificationToCentered()
        text.GetPositionCoordinate().SetCoordinateSystemToNormalizedViewport()
        text.GetPositionCoordinate().SetValue(0.01, 0.5)
        self.caption_renderer.AddActor(text)
        self.plotter.render_window.AddRenderer(self.caption_renderer)
        return text

    def _add_sun_frame(self, pv) -> list:
        """Umbra cone, terminator circle and Sun arrow, built along +x and turned to the Sun each step."""
        sun_distance_km = float(np.linalg.norm(self._sun[self.index])) / KM
        cone_points, cone_faces = geometry.umbra_cone(UMBRA_LENGTH_KM, sun_distance_km)
        terminator = geometry.terminator_circle()
        arrow = pv.Arrow(start=(geometry.EARTH_RADIUS_KM * 1.05, 0.0, 0.0), direction=(1.0, 0.0, 0.0),
                         scale=geometry.EARTH_RADIUS_KM * 0.9, tip_length=0.2, tip_radius=0.06, shaft_radius=0.02)
        if self._lightweight:  # the cone's two rings and eight of its lines, opaque
            segments = len(cone_points) // 2
            rings = [[segments + 1, *range(segments), 0], [segments + 1, *range(segments, 2 * segments), segments]]
            sides = [[2, k, segments + k] for k in range(0, segments, segments // 8)]
            umbra = pv.PolyData(cone_points, lines=np.concatenate([np.array(line) for line in rings + sides]))
            cone = self.plotter.add_mesh(umbra, color="#3a3a46", line_width=1, lighting=False, name="umbra")
        else:
            cone = self.plotter.add_mesh(pv.PolyData(cone_points, cone_faces), color="black", opacity=0.35,
                                         lighting=False, name="umbra")
        return [
            cone,
            self.plotter.add_mesh(pv.lines_from_points(terminator), color="#ffb000", line_width=2, lighting=False,
                                  name="terminator"),
            self.plotter.add_mesh(arrow, color="#ffd700", lighting=False, name="sun"),
        ]

    def _add_satellites(self, pv, point_size: float, show_scalar_bar: bool):
        count = self.run.sizes["sat"]
        satellites = pv.PolyData(np.zeros((count, 3), np.float32))
        satellites.point_data[self.coloring.title] = np.zeros(count, np.float32)
        color = self.coloring
        bar = {"title": color.title, "color": "white", "title_font_size": 14, "label_font_size": 12,
               "vertical": True, "position_x": 0.88, "position_y": 0.1, "height": 0.8, "width": 0.05, "fmt": "%.4g"}
        options = {}
        if color.categorical:
            options["annotations"] = {float(i): label for i, label in enumerate(color.categories)}
            options["n_colors"] = len(color.categories)
            bar.update(n_labels=0)
        actor = self.plotter.add_mesh(satellites, scalars=self.coloring.title, cmap=color.cmap, clim=color.clim,
                                      log_scale=color.log, nan_color=NAN_COLOR, point_size=point_size, render_points_as_spheres=True,
                                      lighting=False, show_scalar_bar=show_scalar_bar, scalar_bar_args=bar,
                                      name="satellites", **options)
        return satellites, actor

    def category_colors(self) -> dict[str, str]:
        """Hex colour of each category when colouring by a label (``owner``...), as the colour bar shows them."""
        table = self.satellite_actor.mapper.lookup_table
        return {label: "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in table.map_value(float(code))[:3]))
                for code, label in enumerate(self.coloring.categories)}

    def _track_rows(self) -> np.ndarray:
        """Satellites whose orbits are drawn: each sub-center's chief (its members fly within kilometres).

        Lightweight: one chief per designed orbital plane (the run's ``plane`` >= 0), and every chief
        outside the design; :meth:`focus` draws the followed sub-center's own chief for its plane.
        """
        if "role" in self.run.coords:
            rows = np.flatnonzero(self.run["role"].values.astype(str) == "chief")
            if rows.size and self._lightweight and "plane" in self.run.coords:
                plane = self.run["plane"].values[rows]
                designed = np.unique(plane[plane >= 0], return_index=True)[1]
                rows = np.sort(np.concatenate([rows[plane < 0], rows[plane >= 0][designed]]))
            if rows.size:
                return rows
        return np.arange(min(self.run.sizes["sat"], 500))

    def _draw_own_track(self, rows: np.ndarray) -> None:
        """Draw the orbit of the chief among ``rows`` (a sub-center) in place of its plane's representative."""
        if self.tracks is None or "role" not in self.run.coords or "plane" not in self.run.coords:
            return
        chief = rows[self.run["role"].values[rows].astype(str) == "chief"]
        if not chief.size or chief[0] in self.track_rows:
            return
        planes = self.run["plane"].values
        same_plane = np.flatnonzero(planes[self.track_rows] == planes[chief[0]])
        if planes[chief[0]] >= 0 and same_plane.size:
            self.track_rows[same_plane[0]] = chief[0]
            self._place_tracks(self.satellite_positions_km(), self.index)

    def _add_tracks(self, pv):
        samples = 120
        tracks = pv.PolyData(np.zeros((self.track_rows.size * (samples + 1), 3), np.float32),
                             lines=_lines(self.track_rows.size, samples + 1))
        self._track_samples = samples
        # Lightweight: the colour the translucent tracks take over the black sky, drawn opaque.
        color, opacity = (TRACK_OPAQUE_COLOR, 1.0) if self._lightweight else ("#8fa3bf", 0.45)
        self.tracks_actor = self.plotter.add_mesh(tracks, color=color, opacity=opacity, line_width=1, lighting=False,
                                                  name="tracks")
        return tracks

    def recolor(self, color_by: str, clim=None, cmap=None) -> None:
        """Colour the satellites by ``color_by`` from now on: a new point cloud and colour bar, nothing else rebuilt.

        :class:`viz.colors.ColorError` (and nothing changed) if the run has no such variable.
        """
        import pyvista as pv

        new = coloring(self.run, color_by, clim, cmap)
        if self.coloring.title in self.plotter.scalar_bars:
            self.plotter.remove_scalar_bar(self.coloring.title)
        self.plotter.remove_actor(self.satellite_actor)
        self.coloring = new
        self.satellites, self.satellite_actor = self._add_satellites(pv, self._point_size, self._show_scalar_bar)
        self.update(self.index)

    def follow_run(self, run: xr.Dataset, time=0) -> None:
        """Show ``run`` (the same satellites, e.g. the next hours of an orbit run) at step ``time``, in place: the
        actors, their meshes and the colour range stay, so a mirror of the scene needs only the moving parts. Links
        stay, drawn at every step (their activity was the old run's).

        ``ValueError`` naming the difference if ``run`` has other satellites than the run shown.
        """
        satellites = run["sat"].values
        if satellites.shape != self.run["sat"].values.shape or np.any(satellites != self.run["sat"].values):
            raise ValueError(f"run: its {satellites.size} satellites are not the {self.run.sizes['sat']} shown")
        self.run = run
        self.times = run["time"].values.astype("datetime64[ns]")
        self.coloring = coloring(run, self.coloring.name, self.coloring.clim, self.coloring.cmap)
        self._position = run["position"].data
        self._velocity = run["velocity"].data if "velocity" in run else None
        self._sun = np.asarray(run["sun_position"].values, float)
        self._itrs_to_gcrs = geometry.itrs_to_gcrs_matrices(self.times)
        for layer in self._links.values():  # a link's activity belongs to the old run's steps
            layer["active"] = None
        self.update(time)

    # ------------------------------------------------------------------------------------- time

    @property
    def time(self) -> np.datetime64:
        return self.times[self.index]

    def satellite_positions_km(self, index: int | None = None) -> np.ndarray:
        """GCRS positions (sat, 3) in km at step ``index`` (default: the one shown)."""
        index = self.index if index is None else index
        return np.asarray(self._position[:, index], dtype=float) / KM

    def node_positions_km(self, index: int | None = None) -> np.ndarray:
        """GCRS positions (km) of the link nodes: satellites, then relays, then stations (twin.network.links order)."""
        index = self.index if index is None else index
        rotation = self._itrs_to_gcrs[index]
        return np.concatenate([self.satellite_positions_km(index), self._relay_itrs_km @ rotation.T,
                               self._station_itrs_km @ rotation.T])

    def update(self, time) -> None:
        """Show step ``time`` (index, datetime64 or ISO string): every moving thing moves, in place."""
        index = self.index = time_index(self.times, time)
        positions = self.satellite_positions_km(index)
        self.satellites.points[:] = positions
        self.satellites.point_data[self.coloring.title][:] = self.coloring.at(index)
        earth = geometry.homogeneous(self._itrs_to_gcrs[index])
        for actor in self._earth_actors:
            actor.user_matrix = earth
        sun = self._sun[index]
        self.sun_light.position = tuple(sun / np.linalg.norm(sun))
        self.sun_light.focal_point = (0.0, 0.0, 0.0)
        sun_frame = geometry.sun_frame_matrix(sun)
        for actor in self._sun_actors:
            actor.user_matrix = sun_frame
        if self.tracks is not None:
            self._place_tracks(positions, index)
        if self._links:
            nodes = self.node_positions_km(index)
            for layer in self._links.values():
                self._place_links(layer, nodes, index)
        if self._follow is not None:
            self._follow_subcenter()
        if self.clock is not None:
            caption = self.caption()
            width_px = self.plotter.window_size[0]  # the caption fits the band's width (about 0.6 em a character)
            self.clock.GetTextProperty().SetFontSize(max(8, min(CAPTION_FONT_PX, int(width_px / (0.62 * len(caption))))))
            self.clock.SetInput(caption)

    def _place_tracks(self, positions_km: np.ndarray, index: int) -> None:
        velocity = np.asarray(self._velocity[self.track_rows, index], dtype=float)
        self.tracks.points[:] = geometry.kepler_tracks(positions_km[self.track_rows] * KM, velocity,
                                                       self._track_samples).reshape(-1, 3)

    def moving_parts(self) -> tuple[list, list]:
        """What :meth:`update` moves: actors whose points (and colours) change, and actors turned by a matrix.

        The first list holds the satellites, the orbit tracks and the link layers; the second the
        Earth with its stations and relays, and the shadow cone, terminator and Sun arrow. A front
        end that mirrors the scene elsewhere (the web dashboard's vtk.js view) sends these at each
        step instead of the whole scene.
        """
        meshes = [self.satellite_actor] + ([self.tracks_actor] if self.tracks is not None else [])
        meshes += [layer["actor"] for layer in self._links.values()]
        return meshes, self._earth_actors + self._sun_actors

    def caption(self) -> str:
        """``phase1  2026-06-01T01:30:00Z  25 satellites  colour: generated_power [W]``: what the view shows."""
        scenario = self.run.attrs.get("scenario", "twin run")
        return (f"{scenario}  {str(self.time)[:19]}Z  {self.run.sizes['sat']:,} satellites  "
                f"colour: {self.coloring.title}")

    # ------------------------------------------------------------------------------------ links

    def set_links(self, name: str, node_pairs, active=None, color: str | None = None, line_width: float = 1.5) -> None:
        """Draw links between nodes, their ends following the nodes at every step.

        ``node_pairs`` (link, 2) indexes :meth:`node_positions_km`: satellites, then relays, then
        stations (the order of :class:`twin.network.links.LinkSet`, so ``np.stack([links.node_a,
        links.node_b], -1)`` fits). ``active`` (link, time) bool, optional: a link is drawn only at
        the steps where it is active. Calling again with the same name and as many links updates
        the layer in place.
        """
        import pyvista as pv

        pairs = np.asarray(node_pairs, dtype=np.int64).reshape(-1, 2)
        if pairs.size and (pairs.min() < 0 or pairs.max() >= self.run.sizes["sat"] + len(self._relay_itrs_km)
                           + len(self._station_itrs_km)):
            raise ValueError(f"links {name!r}: a node index is outside the {len(self.node_positions_km())} nodes")
        active = None if active is None else np.asarray(active, bool).reshape(len(pairs), len(self.times))
        layer = self._links.get(name)
        if layer is None or len(layer["pairs"]) != len(pairs):
            mesh = pv.PolyData(np.zeros((2 * len(pairs), 3), np.float32), lines=_lines(len(pairs), 2))
            if layer is None:
                actor = self.plotter.add_mesh(mesh, color=color or LINK_COLORS.get(name, "#66ccff"),
                                              line_width=line_width, lighting=False, name=f"links {name}")
                layer = self._links[name] = {"mesh": mesh, "actor": actor}
            else:
                layer["mesh"].copy_from(mesh)
        layer["pairs"], layer["active"] = pairs, active
        self._place_links(layer, self.node_positions_km(), self.index)

    @staticmethod
    def _place_links(layer: dict, nodes: np.ndarray, index: int) -> None:
        pairs, ends = layer["pairs"], np.empty((2 * len(layer["pairs"]), 3))
        ends[0::2], ends[1::2] = nodes[pairs[:, 0]], nodes[pairs[:, 1]]
        if layer["active"] is not None:  # an inactive link collapses onto its first end: drawn as nothing
            idle = ~layer["active"][:, index]
            ends[1::2][idle] = ends[0::2][idle]
        layer["mesh"].points[:] = ends

    def set_segments(self, name: str, start_m, end_m, color: str = "#66ccff", line_width: float = 1.5) -> None:
        """Draw line segments from ``start_m`` to ``end_m`` (n, 3; GCRS, m), e.g. links computed elsewhere.

        Static until set again; setting the same name again with as many segments updates in place.
        """
        import pyvista as pv

        start, end = np.asarray(start_m, float).reshape(-1, 3) / KM, np.asarray(end_m, float).reshape(-1, 3) / KM
        ends = np.empty((2 * len(start), 3))
        ends[0::2], ends[1::2] = start, end
        mesh = self._segments.get(name)
        if mesh is not None and mesh.n_points == len(ends):
            mesh.points[:] = ends
            return
        new = pv.PolyData(ends.astype(np.float32), lines=_lines(len(start), 2))
        if mesh is None:
            self._segments[name] = new
            self.plotter.add_mesh(new, color=color, line_width=line_width, lighting=False, name=f"segments {name}")
        else:
            mesh.copy_from(new)

    def subcenter_rows(self, subcenter: str) -> np.ndarray:
        rows = np.flatnonzero(self.run["subcenter"].values.astype(str) == subcenter)
        if not rows.size:
            raise ValueError(f"subcenter: {subcenter!r} is not in this run")
        return rows

    def show_subcenter_links(self, subcenter: str, factor: float = 1.5) -> int:
        """Link each satellite of ``subcenter`` to its neighbours (closer than ``factor`` x the nearest spacing).

        A stand-in for the links dataset: the formation's mesh, picked from the geometry at the step
        shown; the links follow the satellites from then on. Returns the number of links.
        """
        rows = self.subcenter_rows(subcenter)
        positions = self.satellite_positions_km()[rows]
        distance = np.linalg.norm(positions[:, None] - positions[None], axis=-1)
        np.fill_diagonal(distance, np.inf)
        if rows.size < 2:
            return 0
        i, j = np.nonzero(np.triu(distance <= factor * distance.min(axis=1).min(), 1))
        self.set_links("intra", np.stack([rows[i], rows[j]], axis=-1))
        return i.size

    # ------------------------------------------------------------------------------- encounters

    def show_encounter(self, encounter: Encounter) -> None:
        """Draw a conjunction (:class:`viz.encounter.Encounter`) in place of any drawn before: the other object's
        track about its TCA (a line), and both objects where they are at TCA (two points: the fleet satellite
        white, the other object red). Static: time steps leave it where it is."""
        import pyvista as pv

        self.clear_encounter()
        at_tca_km, track_km = encounter_gcrs_km(encounter)
        markers = pv.PolyData(at_tca_km)
        markers.point_data["encounter colour"] = np.array([[255, 255, 255], [255, 59, 48]], np.uint8)
        self._encounter_actors = [
            self.plotter.add_mesh(pv.lines_from_points(track_km), color=ENCOUNTER_COLOR, line_width=2, lighting=False,
                                  name="encounter track"),
            self.plotter.add_mesh(markers, scalars="encounter colour", rgb=True, point_size=self._point_size + 2,
                                  render_points_as_spheres=True, lighting=False, name="encounter at TCA")]
        self.encounter = encounter

    def clear_encounter(self) -> None:
        """Remove the conjunction drawn, if one is."""
        for actor in self._encounter_actors:
            self.plotter.remove_actor(actor)
        self._encounter_actors, self.encounter = [], None

    def encounter_positions_km(self) -> np.ndarray:
        """GCRS positions (km) of the fleet satellite and the other object at the drawn conjunction's TCA (none
        drawn: (0, 3))."""
        if not self._encounter_actors:
            return np.zeros((0, 3))
        return np.asarray(self._encounter_actors[1].mapper.dataset.points, float)

    # ----------------------------------------------------------------------------------- camera

    def reset_camera(self, distance_km: float = 4.2 * geometry.EARTH_RADIUS_KM, azimuth_deg: float = 50.0,
                     elevation_deg: float = 25.0) -> None:
        """Look at the Earth from ``distance_km``, ``azimuth_deg`` from the Sun towards the east, raised north."""
        self._follow = None
        rotation = geometry.sun_frame_matrix(self._sun[self.index])[:3, :3]
        az, el = np.radians(azimuth_deg), np.radians(elevation_deg)
        direction = rotation @ [np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)]
        camera = self.plotter.camera
        camera.focal_point = (0.0, 0.0, 0.0)
        camera.position = tuple(direction * distance_km)
        camera.up = (0.0, 0.0, 1.0)
        camera.view_angle = 30.0
        self.plotter.reset_camera_clipping_range()

    def focus(self, subcenter: str, distance_km: float | None = None, follow: bool = True) -> None:
        """Look at one sub-center close enough to tell its satellites apart; with ``follow``, keep it in view.

        The camera sits above the formation, along its radial direction, at ``distance_km`` (default:
        four times the formation's extent).
        """
        rows = self.subcenter_rows(subcenter)
        positions = self.satellite_positions_km()[rows]
        centre = positions.mean(axis=0)
        extent = float(np.max(np.linalg.norm(positions - centre, axis=1))) if rows.size > 1 else 1.0
        self._focus = (rows, distance_km or max(4.0 * extent, 0.5))
        self._follow = subcenter if follow else None
        self._draw_own_track(rows)
        self._follow_subcenter()

    def _follow_subcenter(self) -> None:
        rows, distance_km = self._focus
        positions = self.satellite_positions_km()[rows]
        centre = positions.mean(axis=0)
        radial = centre / np.linalg.norm(centre)
        if self._velocity is not None:
            velocity = np.asarray(self._velocity[rows[0], self.index], dtype=float)
            along = velocity - radial * (velocity @ radial)
            along /= np.linalg.norm(along)
        else:
            along = np.cross([0.0, 0.0, 1.0], radial)
            along /= np.linalg.norm(along)
        camera = self.plotter.camera
        camera.focal_point = tuple(centre)
        camera.position = tuple(centre + distance_km * (0.8 * radial - 0.6 * along))
        camera.up = tuple(along)
        # Near plane close to the formation; far plane past the Earth (VTK's automatic range would
        # put the near plane tens of kilometres out because of the relays at 42,000 km).
        camera.clipping_range = (0.05 * distance_km, 2.0 * float(np.linalg.norm(centre)) + 10 * distance_km)

    # ----------------------------------------------------------------------------------- output

    def render(self) -> None:
        """Draw the current step into the render window (off-screen: its frame buffer)."""
        self.plotter.render_window.Render()

    def screenshot(self, path: str | Path | None = None, scale: int | None = None, overwrite: bool = False) -> np.ndarray:
        """Render and return the image (rows, columns, RGB); also write it to ``path`` (PNG) if given, under the
        rules of :mod:`twin.safe_output` (a file there is replaced only with ``overwrite``, never half-written)."""
        self.render()
        image = self.plotter.screenshot(None, return_img=True, scale=scale)
        if path is not None:
            from PIL import Image

            with written_into_place(path, FILE, overwrite) as partial:
                Image.fromarray(image).save(partial, format="PNG")
        return image

    def png_bytes(self) -> bytes:
        """Render and return the image as PNG bytes (for a web page or a report), writing no file."""
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(self.screenshot()).save(buffer, format="PNG")
        return buffer.getvalue()

    def close(self) -> None:
        self.plotter.close()
