"""Conjunction screening (twin.safety.screening): against a brute-force search, formations, bad input, runs."""

import tomllib
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from sgp4 import exporter
from sgp4.api import WGS72, Satrec, SatrecArray

import twin
from twin.orbit.constellation import design_fleet
from twin.orbit.propagation import propagate_teme
from twin.safety import parse_catalog, place_scenario, read_catalog, screen
from twin.scenario import SCENARIO_DIR, scenario_from_dict
from twin.timegrid import julian_dates

DATA = Path(__file__).parent / "data"
SUBSET = DATA / "catalog-subset-2026-03-19.tle"
EPOCH = "2026-03-19T00:00:00"


@pytest.fixture(scope="module")
def catalog():
    return read_catalog(SUBSET)


@pytest.fixture(scope="module")
def phase1():
    return place_scenario(twin.load_scenario("phase1"), EPOCH)


@pytest.fixture(scope="module")
def crossing():
    """Phase 1 and one more 8-satellite formation in a plane half an hour of LTAN away, phased 1 deg ahead:
    the planes cross near the poles, where it passes CC1-001 about 12 km away twice an orbit (phase 1
    itself keeps its formations apart along one plane, so it has no conjunction between them)."""
    raw = tomllib.loads((SCENARIO_DIR / "phase1.toml").read_text())
    raw["subcenters"].append(dict(raw["subcenters"][1], name="XC", count=1, owners=["M02"], phase_deg=1.0,
                                  ltan_hours=raw["orbit"]["ltan_hours"] + 0.5))
    return place_scenario(scenario_from_dict(raw), EPOCH)


def _brute_force(fleet, catalog, start, duration_s, threshold_km, step_s=4.0):
    """Every local minimum of range under the threshold between a fleet satellite and a catalogue object or a
    satellite of another formation: exact states every ``step_s``, then Brent's method on the exact range."""
    offsets = np.arange(0.0, duration_s + step_s / 2, step_s)
    jd, fr = julian_dates(start, offsets)
    fleet_position, _ = propagate_teme(fleet, jd, fr)
    formation = np.cumsum(fleet.role == "chief") - 1
    chief_rows = np.flatnonzero(fleet.role == "chief")

    def fleet_state(row, t):
        chief = chief_rows[formation[row]]
        members, _ = fleet.covering(chief, chief + 1)
        tj, tf = julian_dates(start, np.array([t]))
        return propagate_teme(members, tj, tf)[0][row - chief, 0]

    found = []

    def add_minima(distance, rows, other_state, others, kind):
        minima = (distance[..., 1:-1] < distance[..., :-2]) & (distance[..., 1:-1] <= distance[..., 2:])
        minima &= distance[..., 1:-1] < threshold_km + 8.0 * step_s
        for a, b, k in zip(*np.nonzero(minima)):
            row, other = rows[a], others[b]
            result = minimize_scalar(lambda t: np.linalg.norm(other_state(other, t) - fleet_state(row, t)),
                                     bounds=(offsets[k], offsets[k + 2]), method="bounded", options={"xatol": 1e-4})
            if result.fun < threshold_km and 0 <= result.x <= duration_s:
                found.append((fleet.names[row], kind(other), result.x, result.fun))

    def catalog_state(index, t):
        tj, tf = julian_dates(start, np.array([t]))
        return catalog.satrecs[index].sgp4(tj[0], tf[0])[1]

    for chunk in np.array_split(np.arange(len(catalog)), max(1, len(catalog) // 100)):
        _, position, _ = SatrecArray([catalog.satrecs[i] for i in chunk]).sgp4(jd, fr)
        distance = np.linalg.norm(position[None] - fleet_position[:, None], axis=-1)
        add_minima(distance, np.arange(len(fleet)), catalog_state, chunk, lambda i: catalog.names[i])
    for row in range(len(fleet)):
        others = np.flatnonzero(formation > formation[row])
        distance = np.linalg.norm(fleet_position[others] - fleet_position[row], axis=-1)[None]
        add_minima(distance, [row], lambda other, t: fleet_state(other, t), others, lambda i: fleet.names[i])
    return found


def test_screen_finds_every_conjunction_of_a_brute_force_search(crossing, catalog):
    threshold_km, duration_s = 50.0, 6 * 3600.0
    result = screen(crossing, catalog, duration_s=duration_s, threshold_km=threshold_km)
    table = result.conjunctions
    tca_s = (table["tca"] - np.datetime64(EPOCH)).dt.total_seconds().to_numpy()
    expected = _brute_force(design_fleet(crossing), catalog, crossing.epoch, duration_s, threshold_km)
    assert (table["secondary_kind"] == "catalog").sum() > 50 and (table["secondary_kind"] == "fleet").sum() > 10
    assert len(expected) == len(table)
    for primary, secondary, tca, miss in expected:
        same = np.flatnonzero((table["primary"] == primary).to_numpy() & (table["secondary"] == secondary).to_numpy()
                              & (np.abs(tca_s - tca) < 5.0))
        assert same.size == 1, (primary, secondary, tca)
        row = table.iloc[same[0]]
        # Fast encounters: TCA to 10 ms; slow drifts of formation neighbours (cm/s) have a flat minimum.
        assert abs(tca_s[same[0]] - tca) < (0.01 if row["relative_speed_km_s"] > 0.01 else 5.0)
        assert row["miss_distance_km"] == pytest.approx(miss, abs=1e-3)


def test_members_of_a_formation_are_not_conjunctions_of_each_other(crossing, catalog):
    result = screen(crossing, catalog, duration_s=3 * 3600.0, threshold_km=25.0, formation_closest=True)
    fleet_rows = result.conjunctions[result.conjunctions["secondary_kind"] == "fleet"]
    subcenter = dict(zip(design_fleet(crossing).names, design_fleet(crossing).subcenter))
    assert len(fleet_rows) and all(subcenter[a] != subcenter[b] for a, b in zip(fleet_rows["primary"], fleet_rows["secondary"]))
    closest = result.formation_closest.set_index("group")
    # CC1's eight satellites fly a disk of 200 m spacing: neighbours come within a few per cent of it.
    assert 150.0 < closest.loc["CC1", "closest_m"] < 200.0
    assert closest.loc["CC1", "formations"] == 3 and closest.loc["CC1", "members"] == 8


def test_a_fleet_is_screened_against_itself_without_a_catalogue(crossing, catalog):
    """``catalog=None`` (the fleet alone) finds the same approaches between sub-centers as with a catalogue (it
    failed on the empty catalogue's ephemeris before)."""
    alone = screen(crossing, None, duration_s=3 * 3600.0, threshold_km=25.0)
    both = screen(crossing, catalog, duration_s=3 * 3600.0, threshold_km=25.0)
    between = both.conjunctions[both.conjunctions["secondary_kind"] == "fleet"].reset_index(drop=True)
    assert len(alone.conjunctions) == len(between) > 0 and (alone.conjunctions["secondary_kind"] == "fleet").all()
    assert np.allclose(alone.conjunctions["miss_distance_km"], between["miss_distance_km"], rtol=0, atol=1e-6)


def _decaying_tle() -> tuple[str, str]:
    """An element set crossing the fleet's altitudes (apogee 1,400 km) whose perigee has sunk under the
    surface, with the largest drag term a TLE holds: SGP4 refuses to propagate it (error 1)."""
    satrec = Satrec()
    satrec.sgp4init(WGS72, "i", 99001, 2461118.5 - 2433281.5, 0.9, 0.0, 0.0, 0.1, 0.0, np.radians(51.6), 0.0,
                    np.sqrt(398600.4418 / (6378.137 + 700.0) ** 3) * 60.0, 0.0)
    return exporter.export_tle(satrec)


def test_bad_entries_are_set_aside_with_their_reasons_and_the_rest_screened(phase1):
    good = SUBSET.read_text()
    first = good.splitlines()[:3]
    corrupted = first[2][:-1] + str((int(first[2][-1]) + 1) % 10)
    iss_2019 = (Path(__file__).parents[1] / "assets" / "tle" / "iss-2019-12-09.tle").read_text()
    text = "\n".join([good, "NOT AN ELEMENT SET", "BROKEN", first[1], corrupted, *first, iss_2019,
                      "DECAYING", *_decaying_tle()])
    catalog = parse_catalog(text, "bad.tle")
    result = screen(phase1, catalog, duration_s=6 * 3600.0, threshold_km=25.0)
    skipped = result.skipped_summary().set_index("reason")
    assert skipped.loc["malformed", "count"] == 2  # the stray line and the corrupted checksum
    assert "checksum" in skipped.loc["malformed", "examples"]
    assert skipped.loc["duplicate", "count"] == 1
    assert "ISS" in skipped.loc["stale", "examples"]
    assert skipped.loc["propagation", "count"] == 1 and "DECAYING" in skipped.loc["propagation", "examples"]
    # Deep-space (SDP4) objects far from the fleet are set aside by their altitudes; those whose
    # eccentric orbits cross the fleet's altitudes (ARASE: perigee about 400 km) are screened.
    deep = {name for name, s in zip(catalog.names, catalog.satrecs) if s.method == "d"}
    far = {name for name, s in zip(catalog.names, catalog.satrecs) if s.method == "d" and s.altp * s.radiusearthkm > 2000}
    set_aside = set(result.skipped.loc[result.skipped["reason"] == "altitude", "name"])
    assert len(far) == 3 and far <= set_aside and "ARASE (ERG)" in deep - set_aside
    # The rest is screened as if the bad entries were not there.
    clean = screen(phase1, read_catalog(SUBSET), duration_s=6 * 3600.0, threshold_km=25.0)
    assert len(result.conjunctions) == len(clean.conjunctions) > 0


def test_omm_json_and_csv_read_as_the_tles(catalog):
    import csv
    import io
    import json

    records = [exporter.export_omm(satrec, name) for satrec, name in zip(catalog.satrecs[:20], catalog.names[:20])]
    as_json = parse_catalog(json.dumps(records))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(records[0]))
    writer.writeheader()
    writer.writerows(records)
    as_csv = parse_catalog(buffer.getvalue())
    for other in (as_json, as_csv):
        assert list(other.names) == list(catalog.names[:20])
        for mine, theirs in zip(catalog.satrecs[:20], other.satrecs):
            assert np.allclose(mine.sgp4(2461118.5, 0.25)[1], theirs.sgp4(2461118.5, 0.25)[1], atol=1e-6)


def test_bad_arguments_are_one_line_errors_naming_them(phase1, catalog):
    with pytest.raises(ValueError, match="threshold_km: -1"):
        screen(phase1, catalog, threshold_km=-1)
    with pytest.raises(ValueError, match="step_s: 600 s is longer than the span"):
        screen(phase1, catalog, duration_s=300, step_s=600)
    with pytest.raises(ValueError, match="more than 14 days from the span starting 2035-06-01.*place the fleet"):
        screen(twin.load_scenario("phase3"), catalog)


def test_a_run_is_screened_as_the_fleet_it_was_made_of(phase1, catalog):
    run = twin.run_scenario(phase1, duration_s=2 * 3600.0, step_s=60.0, subsystems=False)
    from_run = screen(run, catalog, threshold_km=25.0)
    from_scenario = screen(phase1, catalog, duration_s=2 * 3600.0, threshold_km=25.0)
    assert from_run.summary["duration_s"] == 7200.0
    assert from_run.conjunctions.drop(columns="collision_probability").equals(
        from_scenario.conjunctions.drop(columns="collision_probability"))


def test_slow_encounters_are_flagged_where_the_short_encounter_assumption_fails(catalog, monkeypatch):
    """EXP placed 0.01 deg (1.3 km) ahead of CC1-001 in its plane sees the disk's members pass at about 1 m/s. With
    the fleet's ephemerides known to 30 m in-track that is just fast enough for the 2-D Pc (limit about 0.7 m/s); with
    300 m every such pass is flagged, while the catalogue's crossings at kilometres per second are not."""
    raw = tomllib.loads((SCENARIO_DIR / "phase1.toml").read_text())
    raw["subcenters"][0]["phase_deg"] = 0.01
    scenario = place_scenario(scenario_from_dict(raw), EPOCH)
    found = screen(scenario, catalog, duration_s=3 * 3600.0, threshold_km=25.0).conjunctions
    fleet = found[found["secondary_kind"] == "fleet"]
    assert len(fleet) and (fleet["relative_speed_km_s"] < 0.002).all()
    assert fleet["short_encounter"].all() and (fleet["short_encounter_min_speed_km_s"].between(5e-4, 1e-3)).all()
    from twin.safety.collision_probability import DEFAULT_POSITION_SIGMA_RIC_KM

    monkeypatch.setitem(DEFAULT_POSITION_SIGMA_RIC_KM, "fleet", (0.1, 0.3, 0.1))
    result = screen(scenario, catalog, duration_s=3 * 3600.0, threshold_km=25.0)
    found = result.conjunctions
    slow = found["secondary_kind"] == "fleet"
    assert (~found.loc[slow, "short_encounter"]).all() and found.loc[~slow, "short_encounter"].all() and (~slow).any()
    assert (found["short_encounter"] == (found["relative_speed_km_s"] >= found["short_encounter_min_speed_km_s"])).all()
    assert result.table()["short_encounter"].tolist() == found["short_encounter"].tolist()


def test_slow_encounters_get_the_monte_carlo_pc_with_its_interval_and_fast_ones_the_2d(catalog, monkeypatch):
    """The slow passes of EXP by CC1-001 (300 m in-track sigma): the two-body Monte Carlo Pc (ALFANO_MC-2009) of the
    samples asked, inside its 95 % interval; the catalogue's fast crossings keep the 2-D Pc (FOSTER-1992) at both
    ends of a zero-width interval; without samples a slow Pc is flagged NONE."""
    from twin.safety.collision_probability import DEFAULT_POSITION_SIGMA_RIC_KM

    raw = tomllib.loads((SCENARIO_DIR / "phase1.toml").read_text())
    raw["subcenters"][0]["phase_deg"] = 0.01
    scenario = place_scenario(scenario_from_dict(raw), EPOCH)
    monkeypatch.setitem(DEFAULT_POSITION_SIGMA_RIC_KM, "fleet", (0.1, 0.3, 0.1))
    found = screen(scenario, catalog, duration_s=3 * 3600.0, threshold_km=25.0, monte_carlo_samples=2_000).conjunctions
    slow = ~found["short_encounter"]
    assert slow.any() and (~slow).any()
    assert (found.loc[slow, "collision_probability_method"] == "ALFANO_MC-2009").all()
    assert (found.loc[slow, "monte_carlo_samples"] == 2_000).all()
    low, pc, high = (found.loc[slow, column] for column in ("collision_probability_low", "collision_probability",
                                                            "collision_probability_high"))
    assert (low <= pc).all() and (pc <= high).all() and (high > 0).all()
    assert np.allclose(pc * 2_000, np.round(pc * 2_000))  # hits / samples
    fast = found[~slow]
    assert (fast["collision_probability_method"] == "FOSTER-1992").all() and (fast["monte_carlo_samples"] == 0).all()
    assert (fast["collision_probability_low"] == fast["collision_probability"]).all()
    assert (fast["collision_probability_high"] == fast["collision_probability"]).all()
    without = screen(scenario, catalog, duration_s=3 * 3600.0, threshold_km=25.0, monte_carlo_samples=0).conjunctions
    assert (without.loc[~without["short_encounter"], "collision_probability_method"] == "NONE").all()
    with pytest.raises(ValueError, match=r"monte_carlo_samples: -1"):
        screen(scenario, catalog, duration_s=3 * 3600.0, threshold_km=25.0, monte_carlo_samples=-1)


def test_the_closest_neighbours_of_each_formation_get_the_monte_carlo_pc(phase1):
    """CC1's disk neighbours (about 194 m apart) pass each other at about 0.2 m/s, below the 2-D Pc's limit for the
    fleet's 10-30 m ephemerides: their closest approach of the day carries a Monte Carlo Pc with its interval."""
    closest = screen(phase1, None, duration_s=86400.0, formation_closest=True,
                     monte_carlo_samples=2_000).formation_closest.set_index("group")
    row = closest.loc["CC1"]
    assert 0.1 < row["relative_speed_m_s"] < 0.5 and 150.0 < row["closest_m"] < 200.0
    assert row["collision_probability_method"] == "ALFANO_MC-2009" and row["monte_carlo_samples"] == 2_000
    assert row["collision_probability_low"] <= row["collision_probability"] <= row["collision_probability_high"] < 2e-3
