"""Digital twin of an orbital data center: a dawn-dusk sun-synchronous computing constellation.

The public API, in one import::

    import twin
    scenario = twin.load_scenario("phase1")
    run = twin.run_scenario(scenario, duration_s=86400, step_s=60)
    run.twin.sunlit_fraction()
    twin.figures.summary(run, by="owner")
    twin.save(run, "run.zarr")
"""

__version__ = "0.1.0"

from . import offline  # noqa: F401  (configures astropy before anything else uses it)
from . import figures  # noqa: F401  (twin.figures.summary, twin.figures.time_series)
from .accessor import TwinAccessor
from .constellation import design_fleet, fleet_from_tles, read_tle_file
from .dataset import open_run, save
from .orbit_design import raan_from_ltan_rad, sun_synchronous_inclination_deg
from .scenario import Scenario, ScenarioError, builtin_scenarios, load_scenario, scenario_from_dict
from .simulation import run_orbits, run_scenario

__all__ = [
    "Scenario", "ScenarioError", "TwinAccessor", "builtin_scenarios", "design_fleet", "fleet_from_tles",
    "load_scenario", "open_run", "raan_from_ltan_rad", "read_tle_file", "run_orbits", "run_scenario", "save",
    "scenario_from_dict", "sun_synchronous_inclination_deg",
]
