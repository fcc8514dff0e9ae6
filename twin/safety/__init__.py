"""Orbital safety: conjunction screening of the fleet against a catalogue and against itself.

The API (the CLI's ``twin conjunctions`` will call it)::

    from twin import load_scenario
    from twin.safety import read_catalog, place_scenario, screen, write_cdms
    catalog = read_catalog("catalog-active-2026-03-19.tle")
    scenario = place_scenario(load_scenario("phase1"), catalog.epoch)
    result = screen(scenario, catalog, duration_s=86400, threshold_km=5.0)
    result.table()                      # TCA, miss (RIC), relative speed, probability of collision and its method
    result.skipped_summary()            # catalogue entries not screened: count, reason, examples
    write_cdms(result, "cdm/")          # one CCSDS CDM per conjunction (needs the safety extra)
"""

from twin.safety.catalog import Catalog, parse_catalog, read_catalog
from twin.safety.collision_probability import collision_probability, fleet_hard_body_radius_m, probability_in_encounter_plane
from twin.safety.long_encounter import monte_carlo_probability
from twin.safety.screening import Screening, fleet_of_run, place_scenario, screen


def write_cdms(*args, **kwargs):
    """:func:`twin.safety.cdm.write_cdms` (imported on use: it needs ``ccsds-ndm``)."""
    from twin.safety.cdm import write_cdms as write

    return write(*args, **kwargs)


def read_cdm(path):
    """:func:`twin.safety.cdm.read_cdm` (imported on use: it needs ``ccsds-ndm``)."""
    from twin.safety.cdm import read_cdm as read

    return read(path)


__all__ = ["Catalog", "Screening", "collision_probability", "fleet_hard_body_radius_m", "fleet_of_run", "monte_carlo_probability",
           "parse_catalog", "place_scenario", "probability_in_encounter_plane", "read_catalog", "read_cdm", "screen", "write_cdms"]
