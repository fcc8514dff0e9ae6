"""Fleet alarms from a virtual fleet's telemetry: a stuck radiator is one alarm however many variables show it,
limits come from the XTCE alarm ranges, the health matrix turns its cell, and operators acknowledge and shelve
(with who and when) while others may not."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from twin.operations.alarms import LEVEL, AlarmBook, fleet_alarms, stale_symptoms
from twin.operations.monitor import FleetMonitor
from twin.operations.roles import NotPermitted
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
        book.acknowledge(ENGINEER, FAULTY, view.now)
    with pytest.raises(NotPermitted, match="emil \\(engineer\\) may not shelve an alarm"):
        book.shelve(ENGINEER, FAULTY, view.now + np.timedelta64(1, "h"))

    book.acknowledge(OPERATOR, FAULTY, view.now)
    alarm = monitor.refresh().alarms.alarms.iloc[0]
    assert alarm["acknowledged_by"] == "olga" and alarm["acknowledged_at"]
    assert book.records()[FAULTY]["acknowledged"]["through"] == str(np.datetime64(view.now, "s"))

    book.shelve(OPERATOR, FAULTY, view.now + np.timedelta64(1, "h"), reason="radiator investigated")
    shelved = monitor.refresh().alarms
    assert shelved.alarms.empty and list(shelved.shelved["shelved_by"]) == ["olga"]
    assert (shelved.matrix.values == 0).all()  # hidden from the matrix while shelved
    book.unshelve(OPERATOR, FAULTY)
    assert list(monitor.refresh().alarms.alarms["satellite"]) == [FAULTY]


def test_an_acknowledged_alarm_is_new_again_when_a_symptom_begins_after_it(monitor):
    labels = monitor.labels
    now = np.datetime64("2026-06-01T02:00:00", "ns")
    symptom = ("CC1-002-01", "battery_soc", "power", "limit", "warning", now - np.timedelta64(10, "m"), now, 0.64, 0.65, "1")
    records = {"CC1-002-01": {"acknowledged": {"user": "olga", "time": "t", "through": "2026-06-01T01:55:00"}}}
    assert fleet_alarms([symptom], labels, records, now).alarms.iloc[0]["acknowledged_by"] == "olga"
    later = symptom[:5] + (now - np.timedelta64(1, "m"),) + symptom[6:]
    assert fleet_alarms([symptom, later], labels, records, now).alarms.iloc[0]["acknowledged_by"] == ""


def test_a_satellite_silent_while_in_view_is_stale():
    import pandas as pd

    now = np.datetime64("2026-06-01T01:00:00", "ns")
    heard = pd.Series([now - np.timedelta64(30, "s"), now - np.timedelta64(300, "s"), now - np.timedelta64(300, "s")],
                      index=["a", "b", "c"])
    stale = stale_symptoms(heard, now, 120.0, in_view=lambda satellite: satellite != "c")
    assert [(s[0], s[4], s[7]) for s in stale] == [("b", "critical", 300.0)]
