"""What changed between two scenarios, key by key, with the units their declarations give (:mod:`twin.scenario.keys`).

Tables are matched by name (a bus, a group of sub-centers, a station, a job class, a target) or by position where
they have none (faults, launches, shares); a table only in one scenario is listed as added or removed.

>>> from twin.scenario import load_scenario
>>> changes = scenario_diff(load_scenario("phase1"), load_scenario("phase2"))
>>> [str(change) for change in changes if change.path == "scenario.epoch"]
['scenario.epoch: 2026-06-01T00:00:00.000 -> 2030-06-01T00:00:00.000']
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from astropy.time import Time

from twin.scenario.keys import METADATA
from twin.scenario.model import Scenario

ABSENT = "(absent)"


@dataclass(frozen=True)
class Change:
    """One key (or table) that differs: its ``path`` in a scenario file, the ``old`` and ``new`` values as a file
    would write them, and its ``unit``."""

    path: str
    old: str
    new: str
    unit: str = ""

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit and self.unit != "1" else ""
        return f"{self.path}: {self.old}{unit if self.old != ABSENT else ''} -> {self.new}{unit if self.new != ABSENT else ''}"


def _text(value: Any) -> str:
    if isinstance(value, Time):
        return value.utc.isot
    if isinstance(value, tuple):
        return "[" + ", ".join(map(str, value)) + "]"
    return repr(value) if isinstance(value, str) else f"{value:.12g}" if isinstance(value, float) else str(value)


def _keyed(items: tuple) -> dict[str, Any]:
    """The tables of a list by name where they have one, else by position."""
    return {(f"[{item.name}]" if hasattr(item, "name") else f"[{index}]"): item for index, item in enumerate(items)}


def _walk(old: Any, new: Any, path: str, unit: str, changes: list[Change]) -> None:
    if dataclasses.is_dataclass(old) and dataclasses.is_dataclass(new):
        for field in dataclasses.fields(old):
            if field.name in ("source", "text") or (field.name == "name" and path):  # not keys: where it came from,
                continue  # its text; a nested table's name is its key
            spec = field.metadata.get(METADATA)
            written = spec.written if spec is not None and spec.written else field.name
            table = spec.table if spec is not None and spec.table else ""
            here = f"{table}.{written}" if table else (written if path == "" else f"{path}.{written}")
            _walk(getattr(old, field.name), getattr(new, field.name), here, spec.unit if spec else "", changes)
    elif isinstance(old, dict) and isinstance(new, dict):
        for name in dict.fromkeys([*old, *new]):
            _pair(old.get(name), new.get(name), f"{path}.{name}", changes)
    elif (isinstance(old, tuple) and isinstance(new, tuple) and (old + new)
          and dataclasses.is_dataclass((old + new)[0])):
        old_items, new_items = _keyed(old), _keyed(new)
        for name in dict.fromkeys([*old_items, *new_items]):
            _pair(old_items.get(name), new_items.get(name), f"{path}{name}", changes)
    elif None in (old, new) and (dataclasses.is_dataclass(old) or dataclasses.is_dataclass(new)):
        _pair(old, new, path, changes)
    elif _text(old) != _text(new):
        changes.append(Change(path, _text(old), _text(new), unit))


def _pair(old: Any, new: Any, path: str, changes: list[Change]) -> None:
    if old is None or new is None:
        if old is not new:
            changes.append(Change(path, ABSENT if old is None else "(table)", ABSENT if new is None else "(table)"))
        return
    _walk(old, new, path, "", changes)


def scenario_diff(old: Scenario, new: Scenario) -> list[Change]:
    """Every key that differs from ``old`` to ``new``, in the order of a scenario file."""
    changes: list[Change] = []
    _walk(old, new, "", "", changes)
    return changes
