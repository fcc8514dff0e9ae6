"""Fleet alarms: every symptom of a satellite gathered into one alarm, with severities, acknowledgement, shelving,
roll-ups by sub-center and plane, and a health matrix (sub-center x subsystem).

Symptoms, from the live assessment (:class:`twin.telemetry.live.LiveView`):

* ``limit``: a measured value outside its XTCE DefaultAlarm ranges (``fleet-tm.xml``; warning or critical):
  battery state of charge and the payload and bus temperatures;
* ``residual``: the twin's predicted band left for long enough (:mod:`twin.telemetry.anomalies`; warning);
* ``silence``: no packet at all while the model says the satellite is alive (critical);
* ``stale``: nothing heard for ``[silence] after_s`` of the newest packet while the network model says the
  satellite is in view (critical).

One fault shows in several variables (a stuck radiator heats the payload and the bus and changes the power
used): all the symptoms of a satellite are one alarm, keyed by the satellite, its severity the worst of them.
An operator acknowledges an alarm: it stays listed, marked with who and when, while its symptoms stay among those
acknowledged (variable and kind) and its severity does not rise; a symptom of another kind or a worse severity
makes it new again, and an acknowledged alarm that clears is forgotten, so its return is a new alarm (as in
Yamcs). Runs of a symptom may start again as the live window is re-assessed (a temperature dithering about its
limit, a band re-fitted): they do not make the alarm new. An operator may also shelve an alarm for a while
(hidden from the list and the matrix until then, by the fleet's clock). Both are kept with who and when in the
store's shared state (:mod:`twin.operations.state`, a SQLite file): every session, every process of the server and
``twin ops ack`` see them, and a restart keeps them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from twin.intervals import true_runs
from twin.operations.roles import check_permission
from twin.operations.state import adopt, state_file

LEGACY_ALARMS_FILE = "alarms.json"  # where an earlier version kept them
SEVERITIES = ("ok", "warning", "critical")
LEVEL = {name: level for level, name in enumerate(SEVERITIES)}
SUBSYSTEMS = ("power", "thermal", "compute", "orbit", "link")
SUBSYSTEM_OF = {"battery_soc": "power", "generated_power": "power", "used_power": "power",
                "temperature:payload": "thermal", "temperature:bus": "thermal", "compute_utilization": "compute",
                "throttle": "compute", "upset_rate": "compute", "position": "orbit", "telemetry_lost": "link",
                "stale": "link"}
READABLE = {"battery_soc": "battery state of charge", "generated_power": "array power", "used_power": "power used",
            "temperature:payload": "payload temperature", "temperature:bus": "bus temperature",
            "position": "GNSS position", "upset_rate": "corrected memory errors", "telemetry_lost": "telemetry lost",
            "stale": "telemetry stale"}
# Limit-checked measurements: (variable, packet kind, XTCE parameter, how to take it from the assimilated state)
LIMITED = (("battery_soc", "power", "battery_soc", lambda state: state["battery_soc"], "battery_soc_residual"),
           ("temperature:payload", "thermal", "payload_temperature_k",
            lambda state: state["temperature"].sel(node="payload"), "temperature_residual"),
           ("temperature:bus", "thermal", "bus_temperature_k",
            lambda state: state["temperature"].sel(node="bus"), "temperature_residual"))
SYMPTOM_COLUMNS = ["satellite", "variable", "subsystem", "kind", "severity", "start", "end", "value", "limit", "units"]
ALARM_COLUMNS = ["key", "satellite", "subcenter", "plane", "severity", "since", "last", "symptoms", "summary",
                 "acknowledged_by", "acknowledged_at", "shelved_by", "shelved_until"]


@dataclass
class AlarmView:
    """Alarms (one row per satellite with a symptom), their symptoms, the shelved ones, the health matrix
    (sub-center x subsystem, 0 ok, 1 warning, 2 critical) and the counts by sub-center and plane."""

    alarms: pd.DataFrame
    symptoms: pd.DataFrame
    shelved: pd.DataFrame
    matrix: pd.DataFrame
    rollup: pd.DataFrame


def limit_runs(values: np.ndarray, ranges) -> list[tuple[int, int, int, str, float, float]]:
    """Runs of ``values`` (sat, time; NaN: unknown) outside ``ranges`` ((severity, low, high), bounds scalars or
    (sat, 1)): (row, first, last step, severity (critical where any value is beyond the critical range), worst
    value, the bound it crossed)."""
    outside = {severity: (values < low) | (values > high) for severity, low, high in ranges}
    if not outside:
        return []
    bounds = {severity: (np.broadcast_to(low, values.shape), np.broadcast_to(high, values.shape))
              for severity, low, high in ranges}
    rows, first, last = true_runs(np.logical_or.reduce(list(outside.values())))
    runs = []
    for row, start, stop in zip(rows.tolist(), first.tolist(), last.tolist()):
        severity = "critical" if "critical" in outside and outside["critical"][row, start:stop + 1].any() else \
            next(name for name in outside if outside[name][row, start:stop + 1].any())
        low, high = bounds[severity][0][row, start], bounds[severity][1][row, start]
        window = values[row, start:stop + 1]
        worst = float(window[np.nanargmax(np.maximum(low - window, window - high))])
        runs.append((row, start, stop, severity, worst, float(low if worst < low else high)))
    return runs


def limit_symptoms(state: xr.Dataset) -> list[tuple]:
    """Runs of measured values outside their XTCE alarm ranges."""
    from twin.telemetry.packets import layouts_by_name

    layouts = layouts_by_name()
    times, names = state["time"].values, state["sat"].values
    symptoms = []
    for variable, kind, parameter, values_of, residual_name in LIMITED:
        field = layouts[kind].field(parameter)
        residual = state[residual_name]
        if "node" in residual.dims:
            residual = residual.sel(node=variable.split(":")[1])
        measured = np.where(np.isfinite(residual.values), values_of(state).values.astype(float), np.nan)
        for row, start, stop, severity, worst, limit in limit_runs(measured, field.alarm_ranges):
            symptoms.append((str(names[row]), variable, SUBSYSTEM_OF[variable], "limit", severity, times[start],
                             times[stop], worst, limit, field.units))
    return symptoms


def residual_symptoms(anomalies: pd.DataFrame) -> list[tuple]:
    """The anomalies of the twin's bands (and silences) as symptoms."""
    return [(row.satellite, row.variable, SUBSYSTEM_OF.get(row.variable, "link"),
             "silence" if row.variable == "telemetry_lost" else "residual",
             "critical" if row.variable == "telemetry_lost" else "warning", row.start, row.end, row.size, row.band,
             row.units) for row in anomalies.itertuples(index=False)]


def stale_symptoms(last_heard: pd.Series, newest: np.datetime64, after_s: float, in_view) -> list[tuple]:
    """Satellites heard last more than ``after_s`` before ``newest`` while ``in_view(satellite)`` says they are."""
    limit = np.datetime64(newest, "ns") - np.timedelta64(int(after_s * 1e9), "ns")
    return [(satellite, "stale", "link", "stale", "critical", heard, newest,
             float((np.datetime64(newest, "ns") - heard) / np.timedelta64(1, "s")), after_s, "s")
            for satellite, heard in last_heard.items() if heard < limit and in_view(satellite)]


def last_heard(groups: dict[str, xr.Dataset], names: list[str]) -> pd.Series:
    """The newest packet time of each satellite (NaT: none) over the measurement ``groups``."""
    newest = np.full(len(names), np.datetime64("NaT"), "datetime64[ns]")
    for group in groups.values():
        if not group.sizes["record"]:
            continue
        rows = group["spacecraft_id"].values.astype(np.int64) - 1
        keep = (rows >= 0) & (rows < len(names))
        latest = np.full(len(names), np.iinfo(np.int64).min)
        np.maximum.at(latest, rows[keep], group["time"].values[keep].astype("datetime64[ns]").astype(np.int64))
        found = latest > np.iinfo(np.int64).min
        newest = np.where(found & ~(newest >= latest.astype("datetime64[ns]")), latest.astype("datetime64[ns]"), newest)
    return pd.Series(newest, index=names)


class AlarmBook:
    """Acknowledgements and shelving of the alarms of the store at ``store``: rows (satellite, mark:
    ``acknowledged`` or ``shelved``, its record) of the store's shared state, each change one transaction."""

    def __init__(self, store: str | Path):
        self.file = state_file(store)
        self.path = self.file.path
        adopt(self.file, Path(store) / LEGACY_ALARMS_FILE, "alarm_marks", _legacy_marks,
              "INSERT OR REPLACE INTO alarm_marks (satellite, mark, record) VALUES (?, ?, ?)")

    def records(self) -> dict[str, dict]:
        """Satellite -> mark -> record (who, when by the wall clock, and what)."""
        if not self.path.exists():
            return {}
        records: dict[str, dict] = {}
        rows = self.file.connection().execute("SELECT satellite, mark, record FROM alarm_marks")
        for satellite, mark, record in rows:
            records.setdefault(satellite, {})[mark] = json.loads(record)
        return records

    def _update(self, key: str, what: str, record: dict) -> None:
        with self.file.transaction() as db:
            db.execute("INSERT OR REPLACE INTO alarm_marks (satellite, mark, record) VALUES (?, ?, ?)",
                       (key, what, json.dumps(record)))

    def acknowledge(self, user, key: str, through: np.datetime64, symptoms: pd.DataFrame) -> None:
        """``user`` has seen alarm ``key`` (a satellite) as it stands at ``through`` (fleet time): its symptoms in
        ``symptoms`` (:attr:`AlarmView.symptoms`), their kinds and worst severity. ValueError if it has none."""
        check_permission(user, "acknowledge_alarm")
        own = symptoms[symptoms["satellite"] == key]
        if own.empty:
            raise ValueError(f"alarm: {key!r} has no symptom to acknowledge")
        self._update(key, "acknowledged", {"user": user.name, "time": _now(), "through": _text(through),
                                           "symptoms": sorted(set(_symptom_names(own))),
                                           "severity": max(own["severity"], key=LEVEL.get)})

    def forget_cleared(self, alarmed: set[str], newest=None) -> None:
        """End the acknowledgements of satellites not in ``alarmed`` (their alarms cleared): a return is new. With
        ``newest`` (the fleet time of the view that found them cleared), only those acknowledged through an earlier
        time: a process whose view lags another's does not forget what an operator acknowledged there."""
        cleared = [(key, json.dumps(record["acknowledged"])) for key, record in self.records().items()
                   if "acknowledged" in record and key not in alarmed
                   and (newest is None or np.datetime64(record["acknowledged"]["through"]) < np.datetime64(newest))]
        if cleared:
            with self.file.transaction() as db:  # as it was read: not one acknowledged again meanwhile
                db.executemany("DELETE FROM alarm_marks WHERE satellite = ? AND mark = 'acknowledged' AND record = ?",
                               cleared)

    def shelve(self, user, key: str, until: np.datetime64, reason: str = "") -> None:
        """Hide alarm ``key`` until ``until`` (fleet time), e.g. while a known fault is worked on."""
        check_permission(user, "shelve_alarm")
        self._update(key, "shelved", {"user": user.name, "time": _now(), "until": _text(until), "reason": reason})

    def unshelve(self, user, key: str) -> None:
        check_permission(user, "shelve_alarm")
        self._update(key, "shelved", {"user": user.name, "time": _now(), "until": "", "reason": "unshelved"})


def _legacy_marks(text: str) -> list[tuple[str, str, str]]:
    """The rows of an earlier version's ``alarms.json``."""
    return [(key, mark, json.dumps(record))
            for key, marks in json.loads(text).items() for mark, record in marks.items()]


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _text(moment) -> str:
    return str(np.datetime64(moment, "s"))


def _symptom_names(symptoms: pd.DataFrame) -> list[str]:
    """Each symptom's variable and kind, ``variable/kind`` (what an acknowledgement covers)."""
    return [f"{variable}/{kind}" for variable, kind in zip(symptoms["variable"], symptoms["kind"])]


def still_acknowledged(acknowledged: dict | None, own: pd.DataFrame) -> bool:
    """Whether acknowledgement ``acknowledged`` (a record of :meth:`AlarmBook.acknowledge`) covers the symptoms
    ``own`` of its satellite: all of their kinds were acknowledged and none is more severe."""
    if not acknowledged:
        return False
    covered = set(acknowledged.get("symptoms", ()))
    worst = max(own["severity"], key=LEVEL.get)
    return set(_symptom_names(own)) <= covered and LEVEL[worst] <= LEVEL[acknowledged.get("severity", "ok")]


def fleet_alarms(symptoms: list[tuple], labels: pd.DataFrame, records: dict, newest: np.datetime64) -> AlarmView:
    """Gather ``symptoms`` into one alarm per satellite; ``labels`` (index satellite; columns subcenter, plane)."""
    table = pd.DataFrame.from_records(symptoms, columns=SYMPTOM_COLUMNS)
    rows = []
    for satellite, own in table.groupby("satellite", sort=False):
        own = own.sort_values("start")
        record = records.get(satellite, {})
        acknowledged = record.get("acknowledged") if still_acknowledged(record.get("acknowledged"), own) else None
        shelved = record.get("shelved") or {}
        until = shelved.get("until") or ""
        summary = ", ".join(f"{READABLE.get(v, v)} ({k})" for v, k in dict.fromkeys(zip(own["variable"], own["kind"])))
        rows.append((satellite, satellite, labels.at[satellite, "subcenter"], int(labels.at[satellite, "plane"]),
                     max(own["severity"], key=LEVEL.get), own["start"].min(), own["end"].max(), len(own), summary,
                     acknowledged["user"] if acknowledged else "", acknowledged["time"] if acknowledged else "",
                     shelved.get("user", "") if until and np.datetime64(until) > newest else "",
                     until if until and np.datetime64(until) > newest else ""))
    alarms = pd.DataFrame.from_records(rows, columns=ALARM_COLUMNS)
    if len(alarms):
        alarms = alarms.sort_values(["severity", "since"], key=lambda c: c.map(LEVEL) if c.name == "severity" else c,
                                    ascending=[False, True], ignore_index=True)
    is_shelved = alarms["shelved_until"] != ""
    shown = alarms[~is_shelved]
    showing = table[table["satellite"].isin(shown["satellite"])]
    matrix = pd.DataFrame(0, index=sorted(labels["subcenter"].unique()), columns=list(SUBSYSTEMS))
    for (subcenter, subsystem), level in (showing.assign(subcenter=showing["satellite"].map(labels["subcenter"]),
                                                         level=showing["severity"].map(LEVEL))
                                          .groupby(["subcenter", "subsystem"])["level"].max().items()):
        matrix.at[subcenter, subsystem] = level
    rollup = (shown.assign(warning=shown["severity"] == "warning", critical=shown["severity"] == "critical")
              .groupby(["subcenter", "plane"])[["warning", "critical"]].sum().astype(int).reset_index())
    return AlarmView(shown.reset_index(drop=True), table, alarms[is_shelved].reset_index(drop=True), matrix, rollup)
