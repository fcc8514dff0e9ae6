"""A new page's 3D view: what the server sends, and what it costs the server (no rendering of its own)."""

from __future__ import annotations

import json
import re

import pytest
from bokeh.document import Document

import twin


@pytest.fixture(scope="module")
def run():
    return twin.run_scenario(twin.load_scenario("phase1"), duration_s=3600, step_s=300)


def _same_ids(text: str) -> str:
    """``text`` with every vtk.js object id (the context's unique root, then a hexadecimal address) numbered in order
    of appearance."""
    seen: dict[str, str] = {}
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-", "", text)
    return re.sub(r"[0-9a-f]{12,16}", lambda match: seen.setdefault(match.group(0), f"ID{len(seen)}"), text)


def _sent(model) -> tuple[str, list[str]]:
    """The scene (ids numbered, the render window's modification time left out) and the arrays a page's model holds."""
    scene = json.loads(json.dumps(model.scene, default=str))
    del scene["mtime"]  # the render window's modification count, which a render moves on
    return _same_ids(json.dumps(scene, sort_keys=True)), sorted(model.arrays)


def test_a_new_page_gets_the_scene_panel_sends_without_the_server_rendering_it(run):
    import panel.pane.vtk.synchronizable_serializer as rws
    from bokeh.util.serialization import make_globally_unique_id
    from panel.pane.vtk.vtk import VTKRenderWindowSynchronized
    from vtkmodules.vtkCommonCore import vtkCommand

    from apps.view3d import SceneView

    view, reference = SceneView(run), SceneView(run)
    renders = []
    view.scene.plotter.render_window.AddObserver(vtkCommand.StartEvent, lambda *_: renders.append(1))
    model = view.pane.get_root(Document())
    assert renders == []  # a software render of the server's own window cost a page 0.1 s of CPU (with 0.3 s wall)
    # Panel's serialisation (rendering first) of an identical view sends the same scene and arrays
    window = reference.scene.plotter.render_window
    context = rws.SynchronizationContext(id_root=make_globally_unique_id(), serialize_all_data_arrays=False, debug=False)
    scene, arrays, _ = VTKRenderWindowSynchronized._serialize_ren_win(reference.pane, window, context)
    assert _sent(model) == _sent(type("Sent", (), {"scene": scene, "arrays": arrays}))
