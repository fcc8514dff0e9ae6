"""twin diff: what changed between two scenarios, key by key with the units their declarations give."""

from twin.cli import main
from twin.scenario import SCENARIO_DIR, load_scenario
from twin.scenario.diff import Change, scenario_diff


def test_a_scenario_has_no_change_from_itself():
    assert scenario_diff(load_scenario("phase2"), load_scenario("phase2")) == []


def test_changed_keys_are_named_by_their_path_with_units(tmp_path):
    text = (SCENARIO_DIR / "phase3.toml").read_text(encoding="utf-8")
    edited = tmp_path / "phase3b.toml"
    edited.write_text(text.replace("offered_load = 0.6 ", "offered_load = 0.5 ")
                      .replace("altitude_km = 780.0 ", "altitude_km = 770.0 ")
                      .replace('epoch = "2035-06-01T00:00:00Z"', 'epoch = "2035-07-01T00:00:00Z"'), encoding="utf-8")
    changes = scenario_diff(load_scenario("phase3"), load_scenario(edited))
    assert changes == [Change("scenario.epoch", "2035-06-01T00:00:00.000", "2035-07-01T00:00:00.000"),
                       Change("subcenters[DC3].altitude_km", "780", "770", "km"),
                       Change("compute.classes[training].offered_load", "0.6", "0.5", "1")]
    assert str(changes[1]) == "subcenters[DC3].altitude_km: 780 km -> 770 km"


def test_tables_added_or_removed_are_listed(capsys):
    assert main(["diff", "phase1", "phase2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "scenario.name: 'phase1' -> 'phase2'" in lines
    assert "subcenters[CC2]: (absent) -> (table)" in lines and "offload: (absent) -> (table)" in lines
    assert "ground_stations[Miyun].downlink_rate_bps: 1200000000 bit/s -> 3000000000 bit/s" in lines
    assert lines[-1] == f"{len(lines) - 1} changes from phase1 to phase2"


def test_a_scenario_that_does_not_load_is_one_line(capsys):
    assert main(["diff", "phase1", "nowhere"]) == 2
    assert capsys.readouterr().err == ("twin: error: scenario: 'nowhere' is neither a file nor a built-in scenario "
                                       "(lifecycle, phase1, phase2, phase3)\n")


def test_a_stored_run_records_its_scenario_text_and_hash(tmp_path):
    """Any two stored runs can be compared: each records the text of its scenario file and the text's SHA-256."""
    import hashlib

    import twin

    text = (SCENARIO_DIR / "phase1.toml").read_text(encoding="utf-8")
    path = twin.save(twin.run_scenario(twin.load_scenario("phase1"), duration_s=600, step_s=60), tmp_path / "r.nc")
    attrs = twin.open_run(path).attrs
    assert attrs["scenario_text"] == text
    assert attrs["scenario_sha256"] == hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert twin.scenario_from_dict(__import__("tomllib").loads(attrs["scenario_text"])).name == "phase1"


def test_a_what_if_run_records_its_changed_scenario_so_a_review_shows_the_change():
    """A what-if is its file's tables with changes: its run records those (as TOML), not the file it started from.
    (Before, it recorded the file's text, and the dashboard's Phase review of a what-if against its baseline said
    "no change".)"""
    import twin
    from apps.whatif import WhatIf, what_if_request
    from twin.report.review import recorded_scenario

    request = what_if_request(WhatIf("phase1", bus="compute-s", solar_array_area_m2=30.0))
    changed = twin.scenario_from_dict(request.tables, request.source)
    runs = [twin.run_scenario(scenario, duration_s=300, step_s=60) for scenario in (load_scenario("phase1"), changed)]
    assert runs[0].attrs["scenario_sha256"] != runs[1].attrs["scenario_sha256"]
    changes = [str(change) for change in scenario_diff(*(recorded_scenario(run) for run in runs))]
    assert changes == ["buses.compute-s.solar_array_area_m2: 20 m² -> 30 m²"]


def test_an_unchanged_scenario_made_from_its_tables_records_its_files_text():
    import tomllib

    import twin

    text = (SCENARIO_DIR / "phase2.toml").read_text(encoding="utf-8")
    made = twin.scenario_from_dict(tomllib.loads(text), str(SCENARIO_DIR / "phase2.toml"))
    assert twin.scenario.scenario_record(made)["scenario_text"] == text
