"""Scenario files: the constellation of one phase, validated on load.

A scenario is a TOML file (see ``assets/scenarios/``) with the sections ``[scenario]``,
``[orbit]``, ``[buses.NAME]``, ``[[subcenters]]``, ``[[ground_stations]]``, ``[[relays]]``,
``[consortium]``, ``[compute]`` and the optional ``[links]`` (the relay and ground network,
:class:`LinkSettings`), ``[offload]`` (phase 2: ground data centers offloading to orbit,
:class:`OffloadSettings`), ``[flight]`` (the flight-dynamics budget's span and tolerances,
:class:`FlightSettings`), ``[radiation]`` (shielding, the parts' upset cross sections and
health, :class:`RadiationDesign`) and ``[[faults]]``. :func:`load_scenario` accepts a built-in name
(``phase1``, ``phase2``, ``phase3``) or a path, and raises :class:`ScenarioError` naming the field
and the value of the first thing that is wrong: an unknown key, a missing field, a value out of range.

Each key is declared once, as a field of the dataclass it fills (:mod:`twin.scenario.model`) with its
unit, range, default and meaning (:func:`twin.scenario.keys.key`); the loader
(:mod:`twin.scenario.loading`) checks a file against them, and :mod:`twin.scenario.reference` renders
them as ``docs/scenario_keys.md``.
"""

from twin.scenario.keys import ScenarioError
from twin.scenario.loading import (SCENARIO_DIR, builtin_scenarios, load_scenario, read_utf8, scenario_from_dict,
                                   scenario_of_run, scenario_record)
from twin.scenario.model import (Bus, ComputeSettings, Fault, FlightSettings, Formation, GroundStation, JobClass,
                                 LinkSettings, OffloadSettings, Orbit, RadiationDesign, Relay, Scenario, SubcenterGroup,
                                 bus_columns, satellite_names, subcenter_names)

__all__ = [
    "SCENARIO_DIR", "Bus", "ComputeSettings", "Fault", "FlightSettings", "Formation", "GroundStation", "JobClass",
    "LinkSettings", "OffloadSettings", "Orbit", "RadiationDesign", "Relay", "Scenario", "ScenarioError",
    "SubcenterGroup", "builtin_scenarios", "bus_columns", "load_scenario", "read_utf8", "satellite_names",
    "scenario_from_dict", "scenario_of_run", "scenario_record",
    "subcenter_names",
]
