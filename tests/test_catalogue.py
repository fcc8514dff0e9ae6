"""The variable catalogue (twin.dataset.catalogue) is what runs hold: every variable and coordinate of a run
with network, of phase 2's ground offloading and of a state assimilated from telemetry has the catalogue's
dims, dtype and attributes; the README's table is the catalogue's."""

import re
from pathlib import Path

import numpy as np
import pytest

import twin
from twin.dataset.catalogue import CATALOGUE, markdown_table
from twin.dataset.layout import as_variable

ROOT = Path(__file__).resolve().parent.parent
TABLE = re.compile(r"<!-- variable table: python -m twin.dataset -->\n(.*?)\n<!-- end of the variable table -->",
                   re.S)


def differences(dataset) -> list[str]:
    """Where ``dataset``'s variables and coordinates differ from the catalogue (name: what differs)."""
    found = []
    for name, variable in dataset.variables.items():
        if name not in CATALOGUE:
            found.append(f"{name}: not in the catalogue")
            continue
        entry = CATALOGUE[name]
        if variable.dims != entry.dims:
            found.append(f"{name}: dims {variable.dims}, catalogue {entry.dims}")
        if not entry.matches_dtype(variable.dtype):
            found.append(f"{name}: dtype {variable.dtype}, catalogue {entry.dtype}")
        if dict(variable.attrs) != dict(entry.attrs):
            found.append(f"{name}: attrs {dict(variable.attrs)}, catalogue {dict(entry.attrs)}")
        if (name in dataset.coords) != entry.coordinate:
            found.append(f"{name}: {'a' if name in dataset.coords else 'not a'} coordinate in the run")
    return found


@pytest.fixture(scope="module")
def network_run():
    return twin.run_scenario(twin.load_scenario("phase1"), duration_s=2 * 3600, step_s=60, network=True)


def test_every_variable_of_a_run_with_network_is_catalogued(network_run):
    assert differences(network_run) == []
    assert {"eo_data_in", "link_up", "contact_acquisition", "station_band", "cluster_owner"} \
        <= set(network_run.variables)


def test_every_variable_of_ground_offloading_is_catalogued():
    run = twin.run_scenario(twin.load_scenario("phase2"), duration_s=1800, step_s=60)
    assert differences(run) == []
    assert {"offload_utilization", "ground_backlog_work"} <= set(run.data_vars)


def test_every_variable_of_an_assimilated_state_is_catalogued(tmp_path, phase1):
    from twin.telemetry import assimilation, ingest, store, virtual_fleet

    sensors = virtual_fleet.load_sensors()
    fault = virtual_fleet.InjectedFault.parse("array_degraded:CC1-001-03:10min:0.5")
    truth = virtual_fleet.simulate_truth(phase1, phase1.epoch, 1800, sensors, [fault])
    measurements = store.MeasurementStore(tmp_path / "tm.zarr")
    ingest.ingest_stream(ingest.Ingestor(measurements, clock="stream"),
                         virtual_fleet.record(truth, sensors, [fault]).stream, "station")
    groups = {kind: group.load() for kind, group in store.open_measurements(tmp_path / "tm.zarr").items()}
    state = assimilation.assimilate(assimilation.model_run(phase1, groups, sensors), groups, sensors)
    assert differences(state) == []  # the assimilated powers were float64 where the model's are float32
    assert {"generated_power_residual", "temperature_residual", "position_residual", "gnss_reported"} <= set(state)


def test_a_layout_counts_the_bytes_a_run_holds(network_run):
    from twin.run.plan import RunPlan

    plan = RunPlan.of(twin.load_scenario("phase1"), duration_s=2 * 3600, step_s=60)
    assert plan.layout.nbytes == sum(network_run[name].nbytes for name in plan.layout.names)
    assert set(plan.layout.names) == {name for name, variable in network_run.data_vars.items()
                                      if CATALOGUE[name].stage in ("orbit", "subsystems")}


def test_a_variable_not_in_the_catalogue_cannot_be_written():
    with pytest.raises(KeyError, match="variable: 'solar_power' is not in the twin dataset's catalogue"):
        as_variable("solar_power", np.zeros((2, 3)))


def test_the_readme_table_is_the_catalogue():
    """The table of "The twin dataset" is generated: ``python -m twin.dataset.catalogue`` prints it."""
    documents = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "docs").rglob("*.rst"))]
    tables = [match.group(1) for path in documents if path.is_file() for match in TABLE.finditer(path.read_text())]
    assert tables, "no variable table between its markers in README.md or docs/"
    for table in tables:
        assert table == markdown_table()
