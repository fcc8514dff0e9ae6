"""Live assessment for operators: the twin over a trailing window of the store, refreshed as packets arrive.

Each :meth:`LiveAssessment.refresh` reads the packets of the last ``window_s`` (stamped after the
newest packet minus the window), runs the twin over them from the state measured at the window's
start, and lists the anomalies. An operator acknowledges the anomalies of a satellite and variable
seen so far (the key ``satellite|variable``, through the newest packet time): a later excursion of
the same variable shows again. Acknowledgements are kept in the store directory
(``acknowledgements.json``, replaced atomically) with who and when, so every dashboard session and
every restart sees them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from twin.telemetry import assimilation, store, virtual_fleet
from twin.telemetry.anomalies import COLUMNS, find_anomalies

ACKNOWLEDGEMENTS_FILE = "acknowledgements.json"


def anomaly_key(row) -> str:
    """What an acknowledgement names: the satellite and the variable."""
    return f"{row['satellite']}|{row['variable']}"


@dataclass
class LiveView:
    """One refresh: the assimilated state of the window, its anomalies, the store's counts and the window's
    measurements (by packet kind, loaded)."""

    state: xr.Dataset | None
    anomalies: pd.DataFrame
    status: dict
    newest: np.datetime64 | None
    groups: dict | None = None


class LiveAssessment:
    """Follows the measurement store at ``store_path`` for the fleet of ``scenario``."""

    def __init__(self, store_path: str | Path, scenario, window_s: float = 3600.0, sensors: dict | None = None):
        if window_s <= 0:
            raise ValueError(f"window_s: {window_s!r} must be a positive number of seconds")
        self.store_path = Path(store_path)
        self.scenario = scenario
        self.window_s = window_s
        self.sensors = sensors or virtual_fleet.load_sensors()
        self.newest: np.datetime64 | None = None

    def refresh(self) -> LiveView:
        """Assess the newest ``window_s`` of telemetry (an empty view while the store has too little)."""
        status = store.read_state(self.store_path)
        everything = store.open_measurements(self.store_path)
        newest = max((group["time"][-1].values for group in everything.values() if group.sizes["record"]),
                     default=None)  # the last packet to arrive: within the link delays of the newest
        empty = pd.DataFrame(columns=["key", "acknowledged_by", *COLUMNS])
        if newest is None:
            return LiveView(None, empty, status, None)
        start = newest - np.timedelta64(int(self.window_s * 1e9), "ns")
        groups = {name: store.select_since(group, start).load() for name, group in everything.items()}
        try:
            model = assimilation.model_run(self.scenario, groups, self.sensors)
            state = assimilation.assimilate(model, groups, self.sensors)
        except assimilation.AssimilationError:
            return LiveView(None, empty, status, newest, groups)
        anomalies = find_anomalies(state, self.sensors)
        acknowledged = self.acknowledgements()
        anomalies.insert(0, "key", [anomaly_key(row) for _, row in anomalies.iterrows()])
        anomalies.insert(1, "acknowledged_by", [_acknowledger(acknowledged.get(key), start)
                                                for key, start in zip(anomalies["key"], anomalies["start"])])
        self.newest = newest
        return LiveView(state, anomalies, status, newest, groups)

    def acknowledgements(self) -> dict[str, dict]:
        path = self.store_path / ACKNOWLEDGEMENTS_FILE
        return json.loads(path.read_text()) if path.exists() else {}

    def acknowledge(self, key: str, user: str, through: np.datetime64 | None = None) -> None:
        """Record that ``user`` has seen the anomalies ``key`` (:func:`anomaly_key`) that began by
        ``through`` (default: the newest packet at the last refresh)."""
        if not key or key.count("|") != 1:
            raise ValueError(f"key: {key!r} is not an anomaly key (satellite|variable)")
        if not user:
            raise ValueError("user: an acknowledgement needs the operator's name")
        through = through if through is not None else self.newest
        if through is None:
            raise ValueError("through: nothing has been seen yet; refresh first")
        records = self.acknowledgements()
        records[key] = {"user": user, "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                        "through": str(np.datetime64(through, "s"))}
        path = self.store_path / ACKNOWLEDGEMENTS_FILE
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(records, indent=1))
        os.replace(temporary, path)


def _acknowledger(record: dict | None, start) -> str:
    """Who acknowledged an anomaly starting at ``start`` ('' if nobody did, or it began afterwards)."""
    if record is None or np.datetime64(start, "s") > np.datetime64(record["through"], "s"):
        return ""
    return record["user"]
