"""CCSDS OEM and CZML exports of a run (twin.flight.oem, twin.flight.czml), read back by the same libraries."""

import numpy as np
import pytest

import twin

pytest.importorskip("ccsds_ndm")
pytest.importorskip("czml3")
from twin.flight.czml import read_czml, write_czml  # noqa: E402
from twin.flight.oem import read_oem, write_oems  # noqa: E402


@pytest.fixture(scope="module")
def run():
    return twin.run_scenario(twin.load_scenario("phase1"), duration_s=3 * 3600.0, step_s=60.0, subsystems=False)


@pytest.mark.parametrize("data_format", ["kvn", "xml"])
def test_oems_read_back_as_the_run(run, tmp_path, data_format):
    """Every state to a micrometre and a micrometre per second (the run's float32 velocity, kept as is), every time."""
    names = ["EXP-001-01", "CC1-002-05"]
    paths = write_oems(run, tmp_path / "oem", names, data_format)
    assert [path.stem for path in paths] == names
    for name, path in zip(names, paths):
        message = read_oem(path)
        assert (message["object_name"], message["ref_frame"], message["center_name"], message["time_system"]) == \
            (name, "GCRF", "EARTH", "UTC")
        assert np.array_equal(message["times"], run["time"].values)
        assert np.allclose(message["states"][:, :3] * 1e3, run["position"].sel(sat=name).values, rtol=0, atol=1e-6)
        assert np.allclose(message["states"][:, 3:] * 1e3, run["velocity"].sel(sat=name).values, rtol=0, atol=1e-6)


def test_czml_reads_back_as_the_run(run, tmp_path):
    path = write_czml(run, tmp_path / "fleet.czml", every=5)
    fleet = read_czml(path)
    assert set(fleet) == set(run["sat"].values)
    steps = np.unique(np.append(np.arange(0, run.sizes["time"], 5), run.sizes["time"] - 1))
    for name, entry in fleet.items():
        assert entry["reference_frame"] == "INERTIAL"
        assert np.array_equal(entry["times"], run["time"].values[steps])
        assert np.allclose(entry["positions_m"], run["position"].sel(sat=name).values[steps], rtol=0, atol=1e-6)


def test_an_unknown_satellite_is_refused(run, tmp_path):
    with pytest.raises(ValueError, match=r"satellites: 'NOPE' is not a satellite of the run"):
        write_oems(run, tmp_path / "oem", ["NOPE"])
    with pytest.raises(ValueError, match=r"satellites: 'NOPE' is not a satellite of the run"):
        write_czml(run, tmp_path / "x.czml", ["NOPE"])


def test_exports_replace_only_their_own_kind_and_only_when_asked(run, tmp_path):
    """Through twin.safe_output: a folder of the user's files is never touched, an earlier export is replaced only
    with overwrite, and the new one is whole."""
    from twin.safe_output import OutputError

    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    with pytest.raises(OutputError, match=r"out: '.*notes' exists and is not a folder of OEM files; nothing was written"):
        write_oems(run, mine, ["EXP-001-01"])
    assert [item.name for item in mine.iterdir()] == ["keep.txt"]
    folder = tmp_path / "oem"
    write_oems(run, folder, ["EXP-001-01", "CC1-001-01"])
    with pytest.raises(OutputError, match=r"already holds a folder of OEM files; --overwrite replaces it"):
        write_oems(run, folder, ["CC1-002-01"])
    write_oems(run, folder, ["CC1-002-01"], overwrite=True)
    assert sorted(item.name for item in folder.iterdir()) == ["CC1-002-01.oem"]
    czml = tmp_path / "fleet.czml"
    write_czml(run, czml, every=30)
    with pytest.raises(OutputError, match=r"already holds a regular file; --overwrite replaces it"):
        write_czml(run, czml)
    with pytest.raises(OutputError, match=r"exists and is not a regular file"):
        write_czml(run, mine)
