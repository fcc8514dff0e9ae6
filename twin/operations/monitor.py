"""The live operations picture of one measurement store: the twin's assessment, the fleet's alarms and its commands,
refreshed together (what the dashboard's Live tab and ``twin ops status`` show)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from twin.operations.alarms import AlarmBook, AlarmView, fleet_alarms, last_heard, limit_symptoms, residual_symptoms, \
    stale_symptoms
from twin.operations.queue import Command, CommandQueue
from twin.telemetry.live import LiveAssessment, LiveView


@dataclass
class OperationsView:
    """One refresh: the live view, its alarms, every command, and the fleet's time (the newest packet)."""

    live: LiveView
    alarms: AlarmView | None
    commands: dict[str, Command]
    now: np.datetime64 | None


class FleetMonitor:
    """Follows the store at ``store`` for the fleet of ``scenario`` (assessing the last ``window_s``)."""

    def __init__(self, store: str | Path, scenario, window_s: float = 3600.0, sensors: dict | None = None):
        from twin.orbit.constellation import design_fleet

        self.assessment = LiveAssessment(store, scenario, window_s, sensors)
        self.sensors = self.assessment.sensors
        self.book = AlarmBook(store)
        self.queue = CommandQueue(store, scenario, self.sensors)
        fleet = design_fleet(scenario)
        self.labels = pd.DataFrame({"subcenter": fleet.subcenter, "plane": fleet.plane, "owner": fleet.owner},
                                   index=[str(name) for name in fleet.names])

    def in_view(self, now: np.datetime64):
        """Whether the network model says each satellite can reach the ground at ``now`` (the queue's windows)."""
        windows = self.queue.windows
        names = list(self.labels.index)
        if windows is None or not windows.start <= now <= windows.end:
            return lambda satellite: True  # no network model yet: every silent satellite is suspect
        return lambda satellite: windows.reachable(names.index(satellite), now)

    def alarms(self, live: LiveView) -> AlarmView | None:
        if live.state is None or live.newest is None:
            return None
        symptoms = limit_symptoms(live.state) + residual_symptoms(live.anomalies)
        symptoms += stale_symptoms(last_heard(live.groups, list(self.labels.index)).dropna(), live.newest,
                                   self.sensors["silence"]["after_s"], self.in_view(live.newest))
        self.book.forget_cleared({symptom[0] for symptom in symptoms}, live.newest)
        return fleet_alarms(symptoms, self.labels, self.book.records(), live.newest)

    def refresh(self) -> OperationsView:
        live = self.assessment.refresh()
        commands = self.queue.commands()
        if live.newest is not None and live.groups is not None:
            commands = self.queue.refresh(live.newest, live.groups, live.state)
        return OperationsView(live, self.alarms(live), commands, live.newest)
