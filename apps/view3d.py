"""The 3D view in the browser: a :class:`viz.scene.ConstellationScene` on the server, mirrored by vtk.js.

Panel's VTK pane (:class:`ScenePane`) sends the whole scene once: meshes, the Earth's texture,
colours, camera. Re-sending it at every time step would make the browser rebuild its whole
vtk.js scene (about a second per step here), so a time step goes another way: the scene moves on
the server (:meth:`ConstellationScene.update`, in place), and :class:`FrameChannel` sends only
what moved (:meth:`ConstellationScene.moving_parts`: the points and colours of the satellites,
tracks and links, the matrices that turn the Earth and the Sun frame) to the browser, which
writes them into the vtk.js objects it already has and renders once. Structural changes (a new
colouring, a sub-center's links) re-send the scene through the pane.

Two things of Panel's are relied on and kept here: vtk.js objects are registered in a
synchronizer context under the ids of Panel's serializer (``SynchronizationContext.getReferenceId``;
a mapper's dataset is ``<mapper id>-dataset-0``), and the context's name (Panel 1.9 names it
``panel-{this.model.id}`` literally; a corrected ``panel-<model id>`` is tried first). And one is
undone in the browser: Panel always adds empty axes whose label mapper reads the depth buffer back
at every render, a stall that was most of a frame's time with software WebGL (``noDepthReadback``).
Where WebGL is drawn in software, contexts made after the frame channel's script runs (the scene's)
are made without multisampling.
"""

from __future__ import annotations

import atexit
import base64
import functools
import html
import shutil
import tempfile
from pathlib import Path

import numpy as np
import panel as pn
import param
from panel.pane.vtk.vtk import VTKRenderWindowSynchronized
from vtkmodules.util.numpy_support import vtk_to_numpy

from viz.picking import pick
from viz.scene import TEXTURE_PATH, ConstellationScene

VIEW_WIDTH_PX, VIEW_HEIGHT_PX = 760, 480
HOVER_HINT = "point at a satellite to see its name; click it to look at it"
LEGEND_STEPS = 12  # colour stops of a continuous colour bar
WEB_TEXTURE_PX = (1024, 512)  # the browser's Earth: a quarter of the scene's texture, 1.5 MB to send and upload
CONTEXT_NAMES = ("panel-{model_id}", "panel-{{this.model.id}}")  # see the module docstring
# Orbit tracks are re-sent every this many steps at the fleet's zoom (every step when looking at a sub-center):
# an osculating ellipse moves a few kilometres in that time, under a pixel there (about 30 km).
TRACK_REFRESH_STEPS = 10


class ScenePane(VTKRenderWindowSynchronized):
    """Panel's synchronised VTK pane, sending on each full sync only the arrays the browser does not hold.

    Panel 1.9 re-sends every array at each sync (the browser never reports the ones it holds), and
    the Earth's texture alone is 6 MB: here the arrays of the previous sync are left out (vtk.js
    keeps arrays by content hash while they stay in use). The scene also changes arrays in place,
    which leaves stale entries in Panel's cache (read back at the next sync, where Panel 1.9 fails
    in ``getCachedDataArray``): entries whose array changed since are dropped first.
    """

    def __init__(self, object=None, **params):
        super().__init__(object, **params)
        self._held: dict[str, set[str]] = {}  # model id -> hashes of the arrays its browser view holds
        self.on_model = None  # called when a browser view of the scene is made
        self._new_page = False  # True while a page's model is made

    def _get_model(self, doc, root=None, parent=None, comm=None):
        self._new_page = True
        try:
            model = super()._get_model(doc, root, parent, comm)
        finally:
            self._new_page = False
        if self.on_model is not None:  # after the document is built: a change made while it is being built is lost
            if doc.session_context is not None:
                doc.add_next_tick_callback(self.on_model)
            else:
                self.on_model()
        return model

    def _serialize_ren_win(self, ren_win, context, binary=False, compression=True, exclude_arrays=None):
        """Panel's serialisation; for a new page's model without the render of the server's window it starts with
        (the scene's data are set, not computed by a pipeline: the same scene is sent, and a page costs the server
        0.1 s of CPU less)."""
        if not self._new_page:
            return super()._serialize_ren_win(ren_win, context, binary, compression, exclude_arrays)
        import panel.pane.vtk.synchronizable_serializer as rws

        scene = rws.serializeInstance(None, ren_win, context.getReferenceId(ren_win), context, 0)
        scene["properties"]["numberOfLayers"] = 2  # as Panel's: vtk.js keeps the second layer for its axes
        arrays = {name: context.getCachedDataArray(name, binary=True, compression=False)
                  for name in context.dataArrayCache.keys() if name not in (exclude_arrays or [])}
        return scene, arrays, context.getAnnotations()

    def _update(self, ref, model) -> None:
        context = self._contexts[model.id]
        cache = context.dataArrayCache
        for digest in [digest for digest, entry in cache.items() if entry["mTime"] != entry["array"].GetMTime()]:
            del cache[digest]
        held = self._held.get(model.id, set(model.arrays))
        scene, arrays, annotations = self._serialize_ren_win(self.object, context, exclude_arrays=held)
        context.checkForArraysToRelease()
        model.update(arrays=arrays, scene=scene, annotations=annotations)
        self._held[model.id] = set(cache)


class FrameChannel(pn.custom.JSComponent):
    """The clock of the view, and the channel that moves the vtk.js scene in the browser to each time step.

    After rendering a step, the clock element carries ``data-rendered`` = the time shown, which
    tests and benchmarks wait for, and ``data-frames`` = the steps rendered so far. A click on the
    view (not a drag) comes back to ``on_pick``; the
    clock carries ``data-picking="ready"`` once the browser listens for clicks.
    """

    clock = param.String(default="", doc="UTC time shown")
    views = param.List(default=[], doc="where the browser finds each copy of the scene (contexts, renderer id)")
    hint = param.String(default=HOVER_HINT, doc="shown under the clock until the pointer rests on the view")

    def __init__(self, on_pick=None, on_hover=None, **params):
        super().__init__(**params)
        self.on_pick, self.on_hover = on_pick, on_hover

    def _handle_msg(self, data) -> None:
        """A click in the view (``pick``: x, y display pixels) or the pointer resting on it (``hover``), with
        ``size`` (width, height) and ``camera``."""
        if not isinstance(data, dict) or not {"size", "camera"} <= set(data):
            return
        if self.on_pick is not None and "pick" in data:
            self.on_pick(data)
        elif self.on_hover is not None and "hover" in data:
            self.on_hover(data)

    _esm = """
    function floats(text) {
      const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
      return new Float32Array(bytes.buffer);
    }
    if (!window.twinWebGLChecked) {
      // WebGL drawn in software (no GPU) pays for 4x multisampling at every pixel: it more than doubled
      // the view's drawing time. There, WebGL contexts made from now on (the scene's, after this element)
      // go without it; with a GPU they keep it.
      window.twinWebGLChecked = true;
      const getContext = HTMLCanvasElement.prototype.getContext;
      const probe = getContext.call(document.createElement("canvas"), "webgl2");
      const info = probe && probe.getExtension("WEBGL_debug_renderer_info");
      const renderer = info ? String(probe.getParameter(info.UNMASKED_RENDERER_WEBGL)) : "";
      const lose = probe && probe.getExtension("WEBGL_lose_context");
      if (lose) lose.loseContext();
      if (/SwiftShader|llvmpipe|softpipe|software/i.test(renderer)) {
        HTMLCanvasElement.prototype.getContext = function (kind, options) {
          const webgl = kind === "webgl2" || kind === "webgl" || kind === "experimental-webgl";
          return getContext.call(this, kind, webgl ? {...options, antialias: false} : options);
        };
      }
    }
    const labelMappers = window.vtk && window.vtk.Rendering.Core.vtkPixelSpaceCallbackMapper;
    if (labelMappers && !labelMappers.twinNoDepth) {  // those made from now on (see noDepthReadback)
      const make = labelMappers.newInstance;
      // vtk.js freezes its objects: each comes wrapped in one whose setUseZValues does nothing (Panel's axes call
      // it with true as they make it), the rest its own (vtk.js's methods close over the object they belong to)
      labelMappers.newInstance = (...args) => Object.create(make(...args), {setUseZValues: {value: () => false}});
      labelMappers.twinNoDepth = true;
    }
    function noDepthReadback(renderer) {
      // Panel always adds (empty) axes whose label mapper reads the depth buffer back at every
      // render: a stall that is most of a frame's time when WebGL runs in software. No labels, no readback.
      for (const actor of renderer.getActors()) {
        const mapper = actor.getMapper();
        if (mapper && mapper.isA("vtkPixelSpaceCallbackMapper")) mapper.setUseZValues(false);
      }
    }
    function sceneContext(sync, view) {
      // The synchronizer context holding this copy of the scene (undefined until it reaches the browser).
      return view.contexts.map((name) => sync.getSynchronizerContext(name))
                          .find((candidate) => candidate.getInstance(view.renderer));
    }
    const HOVER_MS = 200;  // the pointer rests this long on the view before the server is asked what is under it
    const picking = new WeakSet();  // interactors already listening for clicks
    function listenForPicks(model, sync, view) {
      // A click (press and release within a few pixels, not a drag) reports where, the view's size
      // and its camera; the server finds the satellite there (viz.picking).
      const context = sceneContext(sync, view);
      const renderer = context && context.getInstance(view.renderer);
      const interactor = renderer && renderer.getRenderWindow().getInteractor();
      if (!interactor || picking.has(interactor)) return Boolean(interactor);
      picking.add(interactor);
      let down = null;
      let resting = null;  // the pointer's last position, sent once it has rested HOVER_MS
      const moved = (event) => {
        clearTimeout(resting);
        resting = setTimeout(() => {
          const camera = renderer.getActiveCamera();
          model.send_msg({hover: [event.position.x, event.position.y], size: interactor.getView().getSize(),
                          camera: {position: camera.getPosition(), focalPoint: camera.getFocalPoint(),
                                   viewUp: camera.getViewUp(), viewAngle: camera.getViewAngle()}});
        }, HOVER_MS);
      };
      interactor.onStartMouseMove(moved);  // vtk.js: the first move of a gesture
      interactor.onMouseMove(moved);
      interactor.onLeftButtonPress((event) => { down = event.position; });
      interactor.onLeftButtonRelease((event) => {
        const at = event.position;
        if (!down || Math.hypot(at.x - down.x, at.y - down.y) > 4) return;
        const camera = renderer.getActiveCamera();
        model.send_msg({pick: [at.x, at.y], size: interactor.getView().getSize(),
                        camera: {position: camera.getPosition(), focalPoint: camera.getFocalPoint(),
                                 viewUp: camera.getViewUp(), viewAngle: camera.getViewAngle()}});
      });
      return true;
    }
    export function render({ model, el }) {
      const clock = document.createElement("div");
      const listen = () => {
        const sync = window.vtk && window.vtk.Rendering.Misc.vtkSynchronizableRenderWindow;
        const ready = sync && model.views.map((view) => listenForPicks(model, sync, view));
        if (ready && ready.length && ready.every(Boolean)) clock.dataset.picking = "ready";  // tests wait for it
      };
      const listening = setInterval(listen, 250);  // the scene reaches the browser some time after this element
      model.on("remove", () => clearInterval(listening));
      clock.className = "twin-clock";
      clock.textContent = model.clock;
      const hovered = document.createElement("div");
      hovered.className = "twin-hover";
      hovered.textContent = model.hint;
      el.append(clock, hovered);
      model.on("clock", () => { clock.textContent = model.clock; });
      model.on("msg:custom", (frame) => {
        if ("hovered" in frame) {  // the satellite under the pointer (viz.picking), or none
          hovered.textContent = frame.hovered;
          return;
        }
        clock.textContent = frame.clock;
        const sync = window.vtk && window.vtk.Rendering.Misc.vtkSynchronizableRenderWindow;
        if (!sync) return;
        const points = frame.points.map(floats);
        const scalars = frame.scalars.map(([name, text]) => name && [name, floats(text)]);
        let rendered = false;
        for (const view of frame.views) {
          const context = sceneContext(sync, view);
          if (!context) continue;  // the scene is not in the browser yet: the next frame brings it all
          view.meshes.forEach((id, i) => {
            const mesh = context.getInstance(id);
            if (!mesh || mesh.getPoints().getData().length !== points[i].length) return;
            mesh.getPoints().setData(points[i], 3);
            const colours = scalars[i] && mesh.getPointData().getArrayByName(scalars[i][0]);
            if (colours) colours.setData(scalars[i][1], 1);
            mesh.modified();
          });
          view.actors.forEach(([id, matrix]) => {
            const actor = context.getInstance(id);
            if (actor) actor.setUserMatrix(Float64Array.from(matrix));
          });
          const renderer = context.getInstance(view.renderer);
          noDepthReadback(renderer);
          if (frame.camera) {
            renderer.getActiveCamera().set(frame.camera);
          }
          renderer.getRenderWindow().render();
          rendered = true;
        }
        if (rendered) {
          clock.dataset.rendered = frame.clock;
          clock.dataset.frames = String(Number(clock.dataset.frames || 0) + 1);  // redraws, counted for tests
        }
      });
    }
    """

    _stylesheets = [".twin-clock { font: 600 15px system-ui, sans-serif; padding: 2px 0; color: #e8ecf4; }"
                    ".twin-hover { font: 13px system-ui, sans-serif; min-height: 1.3em; color: #9fb4d8; }"]


def _floats(values) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype=np.float32).tobytes()).decode("ascii")


def _matrix(actor) -> list[float]:
    """The actor's user matrix, column by column, as Panel's serializer writes it for vtk.js."""
    matrix = actor.GetUserMatrix()
    return [matrix.GetElement(i % 4, i // 4) for i in range(16)]


@functools.cache
def web_texture() -> Path:
    """The Earth's texture at :data:`WEB_TEXTURE_PX`, made once per process from the scene's (a temporary JPEG)."""
    from PIL import Image

    folder = tempfile.mkdtemp(prefix="twin-dashboard-")
    atexit.register(shutil.rmtree, folder, True)
    path = Path(folder) / "earth.jpg"
    Image.open(TEXTURE_PATH).resize(WEB_TEXTURE_PX, Image.Resampling.LANCZOS).save(path, quality=92)
    return path


def satellite_text(run, row: int) -> str:
    """``CC1-002-03 (sub-center CC1-002, owner M02)``: satellite ``row`` of ``run`` as the view names it."""
    details = [f"{label} {run[coordinate].values[row]}" for coordinate, label in (("subcenter", "sub-center"),
               ("owner", "owner")) if coordinate in run.coords]
    name = str(run["sat"].values[row])
    return f"{name} ({', '.join(details)})" if details else name


def utc_text(moment) -> str:
    """``2026-06-01 00:30:00 UTC``: a time (datetime64) as the views and captions show it."""
    return f"{str(moment)[:19].replace('T', ' ')} UTC"


def clock_text(scene: ConstellationScene) -> str:
    return utc_text(scene.time)


class SceneView:
    """One session's 3D view of a run: the scene on the server, the pane and the frame channel, and a colour legend.

    ``layout`` is what goes on the page. :meth:`show` moves to a time step, :meth:`recolor`
    changes the colouring, :meth:`focus` looks at a sub-center (or the whole Earth), :meth:`show_encounter` draws a
    conjunction's other object,
    :meth:`snapshot_png` renders what the browser's camera sees into a PNG.
    """

    def __init__(self, run, color_by: str = "illumination", scenario=None, width_px: int = VIEW_WIDTH_PX,
                 height_px: int = VIEW_HEIGHT_PX):
        self.scene = ConstellationScene(run, color_by=color_by, scenario=scenario, window_size=(width_px, height_px),
                                        show_clock=False, texture=web_texture(), lightweight=True)
        self.pane = ScenePane(self.scene.plotter.render_window, width=width_px, height=height_px,
                              orientation_widget=False, enable_keybindings=False)
        self.frames = FrameChannel(clock=clock_text(self.scene), sizing_mode="stretch_width", on_pick=self._picked,
                                   on_hover=self._hovered)
        self.on_satellite = None  # called with the name of a satellite clicked in the view
        self.pane.on_model = lambda: self.frames.param.update(views=self._views())
        self.legend = pn.pane.HTML(self._legend_html(), width=width_px)
        self.layout = pn.Column(self.frames, self.pane, self.legend)
        self._following = False
        self._track_age = 0  # steps since the browser last had the orbit tracks

    @property
    def index(self) -> int:
        return self.scene.index

    def show(self, index: int) -> None:
        """Move the scene to time step ``index`` and send the browser what moved."""
        self.scene.update(int(index))
        self._send_frame(camera=self._following)

    def recolor(self, color_by: str) -> None:
        """Colour the satellites by ``color_by`` (:class:`viz.colors.ColorError` if the run has no such variable)."""
        self.scene.recolor(color_by)
        self.legend.object = self._legend_html()
        self.pane.synchronize()

    def focus(self, subcenter: str | None) -> None:
        """Look closely at ``subcenter`` (with its formation links) and follow it; ``None``: the whole Earth."""
        if subcenter is None:
            self.scene.reset_camera()
            self._following = False
        else:
            before = self._structure()
            self.scene.show_subcenter_links(subcenter)
            self.scene.focus(subcenter)
            self._following = True
            if self._structure() != before:  # a new link layer, or one of another size: the browser needs it
                self.pane.synchronize()
        self._send_frame(camera=True)

    def show_encounter(self, encounter) -> None:
        """Draw a conjunction's other object (:meth:`viz.scene.ConstellationScene.show_encounter`), or remove the one
        drawn (``None``), and send the scene to the browser."""
        if encounter is None and self.scene.encounter is None:
            return
        if encounter is None:
            self.scene.clear_encounter()
        else:
            self.scene.show_encounter(encounter)
        self.pane.synchronize()

    def _picked(self, click: dict) -> None:
        row = pick(self.scene.satellite_positions_km(), click["camera"], click["pick"], click["size"])
        if row is not None and self.on_satellite is not None:
            self.on_satellite(str(self.scene.run["sat"].values[row]))

    def _hovered(self, pointer: dict) -> None:
        """Name the satellite under the pointer (its sub-center and owner), or say to point at one."""
        row = pick(self.scene.satellite_positions_km(), pointer["camera"], pointer["hover"], pointer["size"])
        if row is not None:
            text = satellite_text(self.scene.run, row)
        elif self.scene.encounter is not None and pick(self.scene.encounter_positions_km(), pointer["camera"],
                                                       pointer["hover"], pointer["size"]) is not None:
            text = self.scene.encounter.text()  # a conjunction's object (or its satellite) where it is at TCA
        else:
            text = HOVER_HINT
        self.frames._send_msg({"hovered": text})

    def _structure(self) -> list[tuple[str, int]]:
        """The moving meshes and their sizes: what a frame can update in place, and nothing else."""
        return [(actor.GetAddressAsString(""), actor.GetMapper().GetInput().GetNumberOfPoints())
                for actor in self.scene.moving_parts()[0]]

    def _views(self) -> list[dict]:
        """Where each browser copy of the scene lives: its synchronizer context names and its renderer's id."""
        return [{"contexts": [name.format(model_id=model_id) for name in CONTEXT_NAMES],
                 "renderer": context.getReferenceId(self.scene.plotter.renderer)}
                for model_id, context in self.pane._contexts.items()]

    def _send_frame(self, camera: bool) -> None:
        meshes, turned = self.scene.moving_parts()
        points, scalars = [], []
        refresh_tracks = camera or self._following or self._track_age + 1 >= TRACK_REFRESH_STEPS
        self._track_age = 0 if refresh_tracks else self._track_age + 1
        for actor in meshes:
            if actor is getattr(self.scene, "tracks_actor", None) and not refresh_tracks:
                points.append("")  # the browser keeps the tracks it has
                scalars.append(["", ""])
                continue
            mapper = actor.GetMapper()
            dataset = mapper.GetInput()
            points.append(_floats(vtk_to_numpy(dataset.GetPoints().GetData())))
            colours = dataset.GetPointData().GetArray(mapper.GetArrayName()) if mapper.GetScalarVisibility() else None
            scalars.append([mapper.GetArrayName(), _floats(vtk_to_numpy(colours))] if colours is not None else ["", ""])
        views = self._views()
        for view, context in zip(views, self.pane._contexts.values()):
            view["meshes"] = [context.getReferenceId(actor.GetMapper()) + "-dataset-0" for actor in meshes]
            view["actors"] = [[context.getReferenceId(actor), _matrix(actor)] for actor in turned]
        frame = {"clock": clock_text(self.scene), "points": points, "scalars": scalars, "views": views}
        if camera:
            vtk_camera = self.scene.plotter.camera
            frame["camera"] = {"position": list(vtk_camera.position), "focalPoint": list(vtk_camera.focal_point),
                               "viewUp": list(vtk_camera.up), "viewAngle": vtk_camera.view_angle,
                               "clippingRange": list(vtk_camera.clipping_range)}
        self.frames._send_msg(frame)

    def _legend_html(self) -> str:
        coloring = self.scene.coloring
        if coloring.categorical:
            items = "".join(f'<span class="twin-legend-item" style="margin-right:1em;white-space:nowrap">'
                            f'<span style="color:{color}">&#9679;</span> {html.escape(str(label))}</span>'
                            for label, color in self.scene.category_colors().items())
            return (f'<div class="twin-legend" style="color:#e8ecf4;max-height:5.5em;overflow-y:auto">'
                    f'<b>{coloring.title}</b>: {items}</div>')
        from matplotlib import colormaps

        cmap = colormaps[coloring.cmap]
        stops = ", ".join("#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in cmap(x)[:3]))
                          for x in np.linspace(0.0, 1.0, LEGEND_STEPS))
        low, high = coloring.clim
        return (f'<div class="twin-legend" style="display:flex;align-items:center;gap:0.6em;color:#e8ecf4">'
                f'<b>{coloring.title}</b><span>{low:.4g}</span>'
                f'<span style="flex:1;height:12px;background:linear-gradient(to right, {stops})"></span>'
                f'<span>{high:.4g}</span></div>')

    def snapshot_png(self) -> bytes:
        """What the browser shows (its camera, if it reported one), rendered on the server as a PNG."""
        camera = self.pane.camera or {}
        if {"position", "focalPoint", "viewUp"} <= set(camera):
            self.scene.plotter.camera.position = tuple(camera["position"])
            self.scene.plotter.camera.focal_point = tuple(camera["focalPoint"])
            self.scene.plotter.camera.up = tuple(camera["viewUp"])
            self.scene.plotter.reset_camera_clipping_range()
        return self.scene.png_bytes()

    def close(self) -> None:
        self.scene.close()
