"""``twin conjunctions`` (twin.cli.safety): a stored run screened against a catalogue, as the API screens it."""

from pathlib import Path

import pytest

import twin
from twin.cli import main
from twin.dataset import open_run, save
from twin.safety import read_catalog, screen

SUBSET = Path(__file__).parent / "data" / "catalog-subset-2026-03-19.tle"


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("conjunctions")
    run = twin.run_scenario(twin.load_scenario("phase1"), start=twin.timegrid.parse_time("2026-03-19T00:00:00Z"),
                            duration_s=3600.0, step_s=60.0, subsystems=False)
    save(run, folder / "run.zarr")
    return folder


def test_the_closest_conjunctions_and_their_cdms(stored, capsys):
    pytest.importorskip("ccsds_ndm")
    from twin.safety import read_cdm

    run, cdms = stored / "run.zarr", stored / "cdm"
    assert main(["conjunctions", str(run), "--catalog", str(SUBSET), "--threshold-km", "100", "--top", "3",
                 "--cdm-dir", str(cdms)]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = screen(open_run(run), read_catalog(SUBSET), threshold_km=100.0)
    count = len(expected.conjunctions)
    assert count > 3
    assert lines[0] == (f"25 satellites from 2026-03-19T00:00:00Z for 1 h against 906 catalogue entries "
                        f"({expected.summary['catalog_screened']} in reach) and themselves: {count} conjunctions "
                        f"closer than 100 km")
    table = expected.table().sort_values("miss_distance_m").head(3).to_string(index=False).splitlines()
    assert lines[1:5] == table
    assert lines[5].startswith("not screened: 3 altitude (")
    assert lines[-1] == f"wrote {count} CDMs to {cdms}"
    files = sorted(cdms.iterdir())
    assert len(files) == count
    messages = {read_cdm(path)["message_id"]: read_cdm(path) for path in files[:5]}
    assert all(message["objects"][0].startswith(("EXP-", "CC1-")) for message in messages.values())
    assert all(message["miss_distance_km"] < 100.0 for message in messages.values())


def test_a_screen_that_finds_nothing_prints_its_header(stored, capsys):
    """Screening.table() of no conjunctions (it failed on the empty TCA column before)."""
    assert main(["conjunctions", str(stored / "run.zarr"), "--catalog", str(SUBSET), "--threshold-km", "0.01"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("and themselves: 0 conjunctions closer than 0.01 km")
    assert len(lines) == 2 and lines[1].startswith("not screened: ")


def test_mistakes_are_one_line(stored, tmp_path, capsys):
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    for arguments, message in (
        (["--threshold-km", "-1"], "twin: error: --threshold-km: -1.0 must be a positive number"),
        (["--samples", "-1"], "twin: error: --samples: -1 must be 0 (none) or a positive count"),
        (["--cdm-dir", str(mine), "--threshold-km", "100"],
         f"twin: error: --cdm-dir: '{mine}' exists and is not a folder of CDM files; nothing was written"),
    ):
        assert main(["conjunctions", str(stored / "run.zarr"), "--catalog", str(SUBSET), *arguments]) == 2
        assert capsys.readouterr().err == message + "\n"
    assert main(["conjunctions", str(stored / "run.zarr"), "--catalog", str(tmp_path / "none.tle")]) == 2
    assert capsys.readouterr().err.startswith("twin: error: ")
    assert [item.name for item in mine.iterdir()] == ["keep.txt"]
