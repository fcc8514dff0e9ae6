"""Fleet alarms from a virtual fleet's telemetry: a stuck radiator is one alarm however many variables show it,
limits come from the XTCE alarm ranges, the health matrix turns its cell, and operators acknowledge and shelve
(with who and when) while others may not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from test_dashboard import USERS

from twin.operations.alarms import LEVEL, AlarmBook, fleet_alarms, stale_symptoms
from twin.operations.monitor import FleetMonitor
from twin.operations.roles import NotPermitted
from twin.operations.state import STATE_FILE
from twin.telemetry import ingest, store, virtual_fleet

FAULTY = "CC1-001-02"


@dataclass(frozen=True)
class Person:
    name: str
    roles: frozenset


OPERATOR, ENGINEER = Person("olga", frozenset({"operator"})), Person("emil", frozenset({"engineer"}))


@pytest.fixture(scope="module")
def faulty_store(phase1, tmp_path_factory):
    """An hour and a half of phase 1 with CC1-001-02's radiator 90 % stuck from the start, in a store."""
    faults = [virtual_fleet.InjectedFault.parse(f"radiator_stuck:{FAULTY}:0s:0.9")]
    sensors = virtual_fleet.load_sensors()
    truth = virtual_fleet.simulate_truth(phase1, phase1.epoch, 1.5 * 3600, sensors, faults)
    recording = virtual_fleet.record(truth, sensors, faults, seed=2)
    path = tmp_path_factory.mktemp("alarms") / "store.zarr"
    with store.MeasurementStore(path) as measurements:
        ingest.ingest_stream(ingest.Ingestor(measurements, clock="stream"), recording.stream, "kashi")
    return path


@pytest.fixture(scope="module")
def monitor(faulty_store, phase1):
    return FleetMonitor(faulty_store, phase1)


def test_one_fault_is_one_alarm_with_all_its_symptoms(monitor):
    view = monitor.refresh()
    anomalies = view.live.anomalies
    assert (anomalies["satellite"] == FAULTY).sum() >= 2  # several rows in the twin's anomaly list...
    alarms = view.alarms.alarms
    assert list(alarms["satellite"]) == [FAULTY]  # ...one alarm
    alarm = alarms.iloc[0]
    assert alarm["symptoms"] == (view.alarms.symptoms["satellite"] == FAULTY).sum() >= 3
    assert "payload temperature (limit)" in alarm["summary"] and "payload temperature (residual)" in alarm["summary"]
    assert alarm["severity"] == "critical" and alarm["subcenter"] == "CC1-001"
    limit = view.alarms.symptoms.query("kind == 'limit' and variable == 'temperature:payload'").iloc[0]
    assert limit["value"] > 343.15 and limit["limit"] in (343.15, 358.15) and limit["units"] == "K"


def test_the_health_matrix_shows_the_fault_in_its_subcenter_and_subsystem(monitor):
    matrix = monitor.refresh().alarms.matrix
    assert matrix.at["CC1-001", "thermal"] == LEVEL["critical"]
    others = matrix.drop(index="CC1-001")
    assert (others.values == 0).all(), matrix
    assert list(matrix.columns) == ["power", "thermal", "compute", "orbit", "link"]


def test_acknowledge_and_shelve_with_who_and_when_operators_only(monitor, faulty_store):
    view = monitor.refresh()
    book = AlarmBook(faulty_store)
    with pytest.raises(NotPermitted, match="emil \\(engineer\\) may not acknowledge an alarm: that needs the operator role"):
        book.acknowledge(ENGINEER, FAULTY, view.now, view.alarms.symptoms)
    with pytest.raises(NotPermitted, match="emil \\(engineer\\) may not shelve an alarm"):
        book.shelve(ENGINEER, FAULTY, view.now + np.timedelta64(1, "h"))

    book.acknowledge(OPERATOR, FAULTY, view.now, view.alarms.symptoms)
    alarm = monitor.refresh().alarms.alarms.iloc[0]
    assert alarm["acknowledged_by"] == "olga" and alarm["acknowledged_at"]
    assert book.records()[FAULTY]["acknowledged"]["through"] == str(np.datetime64(view.now, "s"))

    book.shelve(OPERATOR, FAULTY, view.now + np.timedelta64(1, "h"), reason="radiator investigated")
    shelved = monitor.refresh().alarms
    assert shelved.alarms.empty and list(shelved.shelved["shelved_by"]) == ["olga"]
    assert (shelved.matrix.values == 0).all()  # hidden from the matrix while shelved
    book.unshelve(OPERATOR, FAULTY)
    assert list(monitor.refresh().alarms.alarms["satellite"]) == [FAULTY]


NOW = np.datetime64("2026-06-01T02:00:00", "ns")


def battery_low(start_min_ago: float, kind: str = "limit", severity: str = "warning") -> tuple:
    """A symptom of CC1-002-01's battery begun ``start_min_ago`` minutes before NOW."""
    return ("CC1-002-01", "battery_soc", "power", kind, severity, NOW - np.timedelta64(int(start_min_ago * 60), "s"),
            NOW, 0.64, 0.65, "1")


def acknowledged_by(symptoms: list[tuple], labels, book: AlarmBook) -> str:
    return fleet_alarms(symptoms, labels, book.records(), NOW).alarms.iloc[0]["acknowledged_by"]


def test_an_acknowledged_alarm_stays_so_while_its_symptoms_only_start_again(monitor, tmp_path):
    """A value dithering about its limit (or a band re-fitted as the live window moves) starts new runs of the
    same symptom: the alarm is the one acknowledged. (Before, any run begun after the acknowledgement made it
    new again, and in the browser the acknowledgement vanished a refresh later.)"""
    book, labels = AlarmBook(tmp_path), monitor.labels
    seen = fleet_alarms([battery_low(10)], labels, {}, NOW).symptoms
    book.acknowledge(OPERATOR, "CC1-002-01", NOW - np.timedelta64(5, "m"), seen)
    assert acknowledged_by([battery_low(10)], labels, book) == "olga"
    assert acknowledged_by([battery_low(10), battery_low(1)], labels, book) == "olga"
    assert acknowledged_by([battery_low(1)], labels, book) == "olga"


def test_an_acknowledged_alarm_is_new_again_when_a_new_kind_of_symptom_or_a_worse_severity_shows(monitor, tmp_path):
    book, labels = AlarmBook(tmp_path), monitor.labels
    book.acknowledge(OPERATOR, "CC1-002-01", NOW, fleet_alarms([battery_low(10)], labels, {}, NOW).symptoms)
    assert book.records()["CC1-002-01"]["acknowledged"]["symptoms"] == ["battery_soc/limit"]
    assert acknowledged_by([battery_low(10), battery_low(1, kind="residual")], labels, book) == ""
    assert acknowledged_by([battery_low(10, severity="critical")], labels, book) == ""
    assert acknowledged_by([battery_low(10)], labels, book) == "olga"


def test_an_acknowledged_alarm_that_clears_is_forgotten_and_its_return_is_new(monitor, tmp_path):
    book, labels = AlarmBook(tmp_path), monitor.labels
    book.acknowledge(OPERATOR, "CC1-002-01", NOW, fleet_alarms([battery_low(10)], labels, {}, NOW).symptoms)
    book.forget_cleared({"CC1-002-01"})
    assert acknowledged_by([battery_low(10)], labels, book) == "olga"
    book.forget_cleared(set())  # a refresh without any symptom of it: cleared
    assert "acknowledged" not in book.records().get("CC1-002-01", {})  # a row per mark: none left
    assert acknowledged_by([battery_low(1)], labels, book) == ""


def test_an_alarm_without_symptoms_cannot_be_acknowledged(monitor, tmp_path):
    book = AlarmBook(tmp_path)
    with pytest.raises(ValueError, match="alarm: 'CC1-003-01' has no symptom to acknowledge"):
        book.acknowledge(OPERATOR, "CC1-003-01", NOW, fleet_alarms([battery_low(10)], monitor.labels, {}, NOW).symptoms)
    assert book.records() == {}


def test_a_satellite_silent_while_in_view_is_stale():
    import pandas as pd

    now = np.datetime64("2026-06-01T01:00:00", "ns")
    heard = pd.Series([now - np.timedelta64(30, "s"), now - np.timedelta64(300, "s"), now - np.timedelta64(300, "s")],
                      index=["a", "b", "c"])
    stale = stale_symptoms(heard, now, 120.0, in_view=lambda satellite: satellite != "c")
    assert [(s[0], s[4], s[7]) for s in stale] == [("b", "critical", 300.0)]


def test_the_command_line_acknowledges_for_operators_and_refuses_viewers(faulty_store, tmp_path, capsys):
    import shutil

    from twin.cli import main

    store = shutil.copytree(faulty_store, tmp_path / "store.zarr", ignore=shutil.ignore_patterns(f"{STATE_FILE}*"))
    users = ["--users", str(USERS)]
    assert main(["ops", "ack", "phase1", "--store", str(store), *users, "--user", "viewer", FAULTY]) == 2
    assert "viewer (viewer) may not acknowledge an alarm: that needs the operator role" in capsys.readouterr().err
    assert "acknowledged" not in AlarmBook(store).records().get(FAULTY, {})
    assert main(["ops", "ack", "phase1", "--store", str(store), *users, "--user", "operator", FAULTY]) == 0
    assert f"{FAULTY}: acknowledged by operator through 2026-06-01T01:" in capsys.readouterr().out
    assert "temperature:payload/limit" in AlarmBook(store).records()[FAULTY]["acknowledged"]["symptoms"]
