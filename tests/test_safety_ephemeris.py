"""Catalogue ephemeris by SGP4 at nodes and Hermite interpolation (twin.safety.ephemeris)."""

from pathlib import Path

import numpy as np
from sgp4.api import SatrecArray

from twin.safety import read_catalog
from twin.safety.ephemeris import INTERPOLATION_ERROR_KM, node_steps, propagate_catalog
from twin.safety.screening import VELOCITY_ERROR_KM_S

SUBSET = Path(__file__).parent / "data" / "catalog-subset-2026-03-19.tle"


def test_interpolated_catalogue_stays_within_its_stated_error_of_sgp4_at_every_step():
    catalog = read_catalog(SUBSET)
    order = np.argsort(node_steps(catalog.satrecs, 60.0), kind="stable")
    satrecs = [catalog.satrecs[i] for i in order]
    steps, jd = 1441, 2461118.5
    ephemeris = propagate_catalog(satrecs, jd, 0.0, 60.0, steps)
    errors, position, velocity = SatrecArray(satrecs).sgp4(np.full(steps, jd), np.arange(steps) * 60.0 / 86400.0)
    ok = ~errors.any(axis=1)
    assert ok.sum() > 850 and np.array_equal(ephemeris.errors != 0, ~ok)
    deviation = np.linalg.norm(ephemeris.positions_km[:, ok] - position[ok].transpose(1, 0, 2), axis=-1)
    assert deviation.max() < INTERPOLATION_ERROR_KM
    assert np.median(deviation.max(axis=0)) < 0.1  # an object's largest deviation is typically tens of metres
    rng = np.random.default_rng(0)
    step, column = rng.integers(0, steps, 4000), rng.choice(np.flatnonzero(ok), 4000)
    speed_error = np.abs(ephemeris.velocities_km_s(step, column) - velocity[column, step]).max()
    assert speed_error < VELOCITY_ERROR_KM_S
