"""``twin flight`` and ``twin export`` (twin.cli.flight): the budget table of a stored run, its warnings and
refusals as one line, and exports read back as the run."""

import tomllib

import numpy as np
import pytest

import twin
from twin.cli import main
from twin.dataset import save


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    folder = tmp_path_factory.mktemp("flight")
    run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=2 * 3600.0, step_s=60.0, subsystems=False)
    save(run, folder / "run.zarr")
    return folder, run


def phase1_with(folder, edit) -> str:
    raw = (twin.scenario.SCENARIO_DIR / "phase1.toml").read_text()
    path = folder / "edited.toml"
    path.write_text(edit(raw))
    tomllib.loads(path.read_text())
    return str(path)


def test_flight_prints_the_budget_per_group_and_fleet(stored, capsys):
    folder, _ = stored
    assert main(["flight", str(folder / "run.zarr")]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == ("phase1: 25 satellites, budget over 10 years from 2026-06-01; closest member approach over "
                        "the run's 121 steps")
    assert lines[1].startswith("| group | satellites | altitude km | decay km/yr | drag Δv m/s/yr |")
    assert [line.split(" | ")[0] for line in lines[3:]] == ["| EXP", "| CC1", "| fleet"]
    cells = dict(zip(lines[1].strip("| ").split(" | "), lines[4].strip("| ").split(" | ")))
    assert cells["satellites"] == "24" and cells["years of propellant (min)"] == "> 30"
    assert 150 <= float(cells["closest members m"]) <= 250  # a 200-m disk
    assert err == ""


def test_flight_by_subcenter_and_the_scenarios_span(stored, capsys):
    folder, _ = stored
    scenario = phase1_with(folder, lambda raw: raw.replace("budget_years = 10.0", "budget_years = 3.0"))
    assert main(["flight", str(folder / "run.zarr"), "--by", "subcenter", "--scenario", scenario]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "budget over 3 years" in lines[0]
    assert [line.split(" | ")[0] for line in lines[3:]] == ["| EXP-001", "| CC1-001", "| CC1-002", "| CC1-003",
                                                           "| fleet"]


def test_members_closer_than_the_scenarios_threshold_are_warned(stored, capsys):
    folder, _ = stored
    scenario = phase1_with(folder, lambda raw: raw.replace("member_warning_m = 50.0", "member_warning_m = 300.0"))
    assert main(["flight", str(folder / "run.zarr"), "--scenario", scenario]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3  # one per CC1 sub-center
    assert all(line.startswith("twin: warning: sub-center CC1-00") and "(threshold 300 m)" in line for line in err)


def fleet_cells(out: str) -> dict[str, str]:
    lines = out.splitlines()
    return dict(zip(lines[1].strip("| ").split(" | "), lines[-1].strip("| ").split(" | ")))


def test_the_scenarios_fixed_indices_set_the_decay_and_drag(stored, capsys):
    """``[flight] indices = "fixed"``: a held solar maximum decays the fleet faster and costs more drag Δv than a
    held deep minimum."""
    folder, _ = stored
    decay, drag = [], []
    for f107, ap in ((250.0, 30.0), (65.0, 3.0)):
        fixed = f'indices = "fixed"\nf107_sfu = {f107}\nf107_81day_sfu = {f107}\nap = {ap}\nbudget_years = 10.0'
        scenario = phase1_with(folder, lambda raw: raw.replace("budget_years = 10.0", fixed))
        assert main(["flight", str(folder / "run.zarr"), "--scenario", scenario]) == 0
        cells = fleet_cells(capsys.readouterr().out)
        decay.append(float(cells["decay km/yr"]))
        drag.append(float(cells["drag Δv m/s/yr"]))
    assert decay[0] > 10 * decay[1] and drag[0] > 10 * drag[1]


def test_a_disposal_the_propellant_cannot_give_is_one_line_naming_the_satellite(stored, capsys):
    folder, _ = stored
    scenario = phase1_with(folder, lambda raw: raw.replace("propellant_kg = 25.0", "propellant_kg = 0.01"))
    assert main(["flight", str(folder / "run.zarr"), "--scenario", scenario]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("twin: error: satellite EXP-001-01: its disposal burn of ")
    assert err.count("\n") == 1


def test_flight_of_a_missing_run_is_one_line(tmp_path, capsys):
    assert main(["flight", str(tmp_path / "nothing.zarr")]) == 2
    assert capsys.readouterr().err.startswith("twin: error: ")


def test_export_writes_oems_and_czml_that_read_back_as_the_run(stored, capsys):
    pytest.importorskip("ccsds_ndm")
    pytest.importorskip("czml3")
    from twin.flight.czml import read_czml
    from twin.flight.oem import read_oem

    folder, run = stored
    oems = folder / "oem"
    assert main(["export", str(folder / "run.zarr"), "--format", "oem", "--out", str(oems), "--every", "10"]) == 0
    assert capsys.readouterr().out == f"wrote {oems}: one CCSDS OEM for each of 25 satellites x 13 steps\n"
    message = read_oem(oems / "CC1-003-08.oem")
    every = run.isel(time=slice(None, None, 10)).sel(sat="CC1-003-08")
    assert np.array_equal(message["times"], every["time"].values)
    assert np.allclose(message["states"][:, :3] * 1e3, every["position"].values, rtol=0, atol=1e-6)

    czml = folder / "fleet.czml"
    arguments = ["export", str(folder / "run.zarr"), "--format", "czml", "--out", str(czml),
                 "--satellites", "EXP-001-01", "CC1-001-01"]
    assert main(arguments) == 0
    assert capsys.readouterr().out == f"wrote {czml}: a CZML document of 2 satellites x 121 steps\n"
    assert sorted(read_czml(czml)) == ["CC1-001-01", "EXP-001-01"]
    assert main(arguments) == 2
    assert capsys.readouterr().err == f"twin: error: --out: '{czml}' already holds a regular file; --overwrite replaces it\n"
    assert main(arguments[:-2] + ["NOPE"]) == 2
    assert capsys.readouterr().err == "twin: error: satellites: 'NOPE' is not a satellite of the run\n"


def test_a_damaged_run_is_one_line_naming_what_is_lost(stored, tmp_path, capsys):
    import shutil

    folder, _ = stored
    damaged = tmp_path / "damaged.zarr"
    shutil.copytree(folder / "run.zarr", damaged)
    chunk = next(path for path in (damaged / "position").iterdir() if not path.name.startswith("."))
    chunk.write_bytes(b"not a chunk")
    for arguments in (["flight", str(damaged)], ["export", str(damaged), "--format", "czml", "--out",
                                                 str(tmp_path / "x.czml")]):
        assert main(arguments) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"twin: error: run: '{damaged}' is damaged: ") and "position" in err, err
        assert err.count("\n") == 1
    assert not (tmp_path / "x.czml").exists()
