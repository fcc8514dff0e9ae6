"""Digital twin of an orbital data center: a dawn-dusk sun-synchronous computing constellation.

The public API, in one import::

    import twin
    scenario = twin.load_scenario("phase1")
    run = twin.run_scenario(scenario, duration_s=86400, step_s=60)
    run.twin.sunlit_fraction()
    twin.figures.summary(run, by="owner")
    twin.save(run, "run.zarr")

The package follows the pipeline (each layer imports only the ones below it; ``tests/test_layers.py``
checks it): :mod:`twin.scenario` -> :mod:`twin.orbit` -> :mod:`twin.flight` -> :mod:`twin.subsystems` ->
:mod:`twin.network` -> :mod:`twin.run` -> :mod:`twin.report` -> :mod:`twin.telemetry` -> :mod:`twin.operations` ->
:mod:`twin.cli`, on a foundation of :mod:`twin.dataset` (the variable catalogue and storage),
constants, time grids and safe output.
"""

from twin import offline  # noqa: F401  (configures astropy before anything else uses it)
from twin.accessor import TwinAccessor
from twin.dataset import open_run, save
from twin.orbit.constellation import design_fleet, fleet_from_tles, read_tle_file
from twin.orbit.design import raan_from_ltan_rad, sun_synchronous_inclination_deg
from twin.report import figures
from twin.run.simulate import run_orbits, run_scenario
from twin.scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario, scenario_from_dict
from twin.version import __version__

__all__ = [
    "Scenario", "ScenarioError", "TwinAccessor", "__version__", "builtin_scenarios", "design_fleet", "figures",
    "fleet_from_tles", "load_scenario", "open_run", "raan_from_ltan_rad", "read_tle_file", "run_orbits",
    "run_scenario", "save", "scenario_from_dict", "sun_synchronous_inclination_deg",
]
