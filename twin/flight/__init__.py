"""Flight dynamics: the environment and forces beyond SGP4, decay, Δv and propellant budgets, formation
keeping, and exports (CCSDS OEM, CZML). A layer between :mod:`twin.orbit` and :mod:`twin.subsystems`.

The API::

    import twin
    from twin.flight import flight_budget, spacecraft_of_buses, closest_member_approach
    scenario = twin.load_scenario("phase3")
    fleet = twin.design_fleet(scenario)
    craft = spacecraft_of_buses(fleet.names, fleet.bus, scenario.buses)   # or a Spacecraft of your own
    budget = flight_budget(fleet, craft, years=10.0)
    budget.table(by="group")            # decay, Δv/yr, propellant, years, disposal, per group and fleet
    budget.satellites                   # the same per satellite

Density is NRLMSIS 2.1 (:mod:`twin.flight.atmosphere`) with indices from the caller, the scenario's
``[flight]`` (fixed values) or the shipped predicted solar cycle (:mod:`twin.flight.space_weather`); nothing is downloaded. Exports need the ``export`` extra:
``twin.flight.oem.write_oems`` and ``twin.flight.czml.write_czml``. User documentation: ``docs/flight_dynamics.md``.
"""

from twin.flight.budget import FlightBudget, flight_budget
from twin.flight.formation import CloseApproachWarning, closest_member_approach
from twin.flight.space_weather import FixedIndices, SolarIndices, predicted_indices, read_indices_table, scenario_indices
from twin.flight.spacecraft import ManoeuvreError, Spacecraft, spacecraft_of_buses

__all__ = ["CloseApproachWarning", "FixedIndices", "FlightBudget", "ManoeuvreError", "SolarIndices", "Spacecraft",
           "closest_member_approach", "flight_budget", "predicted_indices", "read_indices_table", "scenario_indices",
           "spacecraft_of_buses"]
