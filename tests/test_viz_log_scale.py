"""Fluxes, dose rate and upset rates span orders of magnitude over an orbit: the 3D view and the dashboard's
"Colour by" draw them on a logarithmic scale that says so, zero flux taking the lowest colour."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("pyvista")

import twin
from twin.scenario import RadiationDesign
from viz import ColorError, ConstellationScene
from viz.colors import LOG_SCALE, coloring


@pytest.fixture(scope="module")
def shielded_run():
    scenario = dataclasses.replace(twin.load_scenario("phase1"), radiation=RadiationDesign())
    return twin.run_scenario(scenario, duration_s=2 * 3600, step_s=120, subsystems=False)


def test_fluxes_are_coloured_on_a_log_scale_from_their_smallest_positive_value(shielded_run):
    flux = shielded_run["electron_flux"].values
    assert (flux == 0).any() and flux.max() / flux[flux > 0].min() > 1e6  # zero outside the belts, decades inside
    colours = coloring(shielded_run, "electron_flux")
    assert colours.log and colours.title == "electron_flux [cm-2 s-1], log scale"
    low, high = colours.clim
    assert low == pytest.approx(flux.max() * 1e-6, rel=1e-6)  # six decades at most
    assert high == pytest.approx(flux.max(), rel=1e-6)
    step = int(np.argmax((flux == 0).any(axis=0)))
    shown = colours.at(step)
    assert np.all(shown >= np.float32(low)) and np.all(shown[flux[:, step] == 0] == np.float32(low))
    assert coloring(shielded_run, "proton_flux").clim[0] == pytest.approx(shielded_run["proton_flux"].values[
        shielded_run["proton_flux"].values > 0].min(), rel=1e-6)  # within six decades: its smallest positive value
    assert {"electron_flux", "dose_rate", "seu_rate"} <= set(LOG_SCALE)
    linear = coloring(shielded_run, "total_dose")  # accumulates from zero: linear
    assert not linear.log and linear.title == "total_dose [Gy]"


def test_a_log_scale_refuses_a_colour_range_that_is_not_positive(shielded_run):
    with pytest.raises(ColorError, match=r"--clim: 0 is not above 0; proton_flux is drawn on a logarithmic scale"):
        coloring(shielded_run, "proton_flux", clim=(0.0, 1e4))


def test_the_3d_view_and_the_dashboard_legend_say_the_scale_is_logarithmic(shielded_run):
    scene = ConstellationScene(shielded_run, color_by="electron_flux", time=30, window_size=(200, 150))
    title = "electron_flux [cm-2 s-1], log scale"
    assert scene.satellite_actor.mapper.lookup_table.log_scale
    assert title in scene.plotter.scalar_bars
    values = scene.satellites.point_data[title]
    assert np.all(np.isfinite(values)) and values.min() >= np.float32(scene.coloring.clim[0])
    scene.recolor("generated_power" if "generated_power" in shielded_run else "illumination")
    assert not scene.satellite_actor.mapper.lookup_table.log_scale
    scene.recolor("dose_rate")
    assert scene.satellite_actor.mapper.lookup_table.log_scale and "dose_rate [Gy s-1], log scale" in scene.plotter.scalar_bars

    from apps.view3d import SceneView

    view = SceneView(shielded_run, "seu_rate")
    assert "<b>seu_rate [s-1], log scale</b>" in view._legend_html()
