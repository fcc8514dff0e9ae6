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
