"""CCSDS CDMs of a screen, written and read back with ccsds-ndm (twin.safety.cdm)."""

from pathlib import Path

import numpy as np
import pytest

import twin
from twin.safety import place_scenario, read_catalog, screen

pytest.importorskip("ccsds_ndm")
from twin.safety.cdm import gcrf_states, read_cdm, write_cdms  # noqa: E402

SUBSET = Path(__file__).parent / "data" / "catalog-subset-2026-03-19.tle"


@pytest.fixture(scope="module")
def screening():
    scenario = place_scenario(twin.load_scenario("phase1"), "2026-03-19T00:00:00")
    result = screen(scenario, read_catalog(SUBSET), duration_s=6 * 3600.0, threshold_km=25.0)
    catalog_rows = np.flatnonzero(result.conjunctions["secondary_kind"].to_numpy() == "catalog")
    assert catalog_rows.size
    return result


@pytest.mark.parametrize("data_format", ["kvn", "xml"])
def test_cdms_read_back_as_the_conjunctions_written(screening, tmp_path, data_format):
    paths = write_cdms(screening, tmp_path, data_format)
    assert len(paths) == len(screening.conjunctions)
    states = gcrf_states(screening)
    for index, path in enumerate(paths):
        message, row = read_cdm(path), screening.conjunctions.iloc[index]
        assert message["tca"] == np.datetime64(row["tca"], "ms")
        assert message["miss_distance_km"] == pytest.approx(row["miss_distance_km"], abs=1e-9)
        assert message["relative_speed_km_s"] == pytest.approx(row["relative_speed_km_s"], abs=1e-12)
        assert message["collision_probability"] == pytest.approx(row["collision_probability"], rel=1e-12)
        assert message["objects"] == [row["primary"], row["secondary"]]
        assert message["ref_frame"] == ["GCRF", "GCRF"]
        assert np.allclose(message["states"], states[index], rtol=0, atol=1e-9)


def test_gcrf_states_keep_the_miss_distance(screening):
    # A rotation of both objects keeps their distance: TEME and GCRF misses agree to the micrometre.
    states = gcrf_states(screening)
    miss = np.linalg.norm(states[:, 1, :3] - states[:, 0, :3], axis=1)
    assert np.allclose(miss, screening.conjunctions["miss_distance_km"], atol=1e-9)
    assert not np.allclose(states, screening.states)  # and it is a rotation, not a copy


def test_unknown_format_is_refused(screening, tmp_path):
    with pytest.raises(ValueError, match="data_format: 'json' is neither"):
        write_cdms(screening, tmp_path, "json")


def test_each_cdm_says_whether_the_short_encounter_assumption_holds(screening, tmp_path):
    """A comment gives the relative speed the 2-D Pc needs; a conjunction slower than that says its Pc is not valid."""
    import dataclasses

    conjunctions = screening.conjunctions.copy()
    conjunctions.loc[0, ["short_encounter_min_speed_km_s", "short_encounter"]] = [100.0, False]
    paths = write_cdms(dataclasses.replace(screening, conjunctions=conjunctions), tmp_path)
    comments = [read_cdm(path)["comments"] for path in paths]
    slow = [line for line in comments[0] if line.startswith("short-encounter")]
    assert slow == [f"short-encounter assumption (straight relative path across +-5 combined sigmas) needs a relative "
                    f"speed above 100000.00 m/s; at {conjunctions['relative_speed_km_s'][0] * 1e3:.2f} m/s it does NOT hold: "
                    "the 2-D Pc is not valid for this conjunction"]
    assert all(any(line.startswith("short-encounter") and line.endswith(" it holds") for line in lines)
               for lines in comments[1:])


def test_each_cdm_carries_the_method_of_its_probability_and_a_monte_carlo_its_samples_and_interval(screening, tmp_path):
    """COLLISION_PROBABILITY_METHOD is FOSTER-1992 for a 2-D Pc and ALFANO_MC-2009 for a long-encounter one, whose
    sample count and 95 % interval are a comment; read back from KVN and XML alike."""
    import dataclasses

    conjunctions = screening.conjunctions.copy()
    conjunctions.loc[0, ["short_encounter_min_speed_km_s", "short_encounter", "collision_probability",
                         "collision_probability_method", "collision_probability_low", "collision_probability_high",
                         "monte_carlo_samples"]] = [100.0, False, 0.0125, "ALFANO_MC-2009", 0.0111, 0.0141, 20000]
    for data_format in ("kvn", "xml"):
        paths = write_cdms(dataclasses.replace(screening, conjunctions=conjunctions), tmp_path / data_format, data_format)
        messages = [read_cdm(path) for path in paths]
        assert messages[0]["collision_probability_method"] == "ALFANO_MC-2009"
        assert messages[0]["collision_probability"] == 0.0125
        assert "Pc by two-body Monte Carlo (Alfano 2009, AAS 09-233): 20000 samples, 95% interval 1.110e-02 to " \
               "1.410e-02" in messages[0]["comments"]
        assert any(line.endswith("it does NOT hold: the Pc is a long-encounter one") for line in messages[0]["comments"])
        assert all(message["collision_probability_method"] == "FOSTER-1992" for message in messages[1:])
        assert not any(line.startswith("Pc by two-body") for message in messages[1:] for line in message["comments"])
    kvn = next((tmp_path / "kvn").iterdir()).read_text()
    assert "COLLISION_PROBABILITY_METHOD" in kvn
