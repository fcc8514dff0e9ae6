"""The durable store of measurements: one Zarr group per packet kind, rows appended, commits atomic.

Layout (Zarr format 2, readable by ``xarray.open_zarr(path, group=...)``)::

    store.zarr/
      commit.json        rows committed per group, bad-input counts, stations, commit count
      gnss/ power/ thermal/ compute/
          time           (record) int64 ns since 1970-01-01 UTC, the packet's time code
          received_time  (record) int64 ns, when the ingest server took it in
          spacecraft_id  (record) uint16
          sequence_count (record) uint16
          station        (record) uint8, index into commit.json's "stations"
          <parameter>    (record) float64 SI value (NaN: out of its valid range)

A commit first writes the new rows into the arrays (Zarr's local store writes every chunk and
metadata file atomically, by rename), then replaces ``commit.json`` atomically. ``commit.json``
is the truth: after a crash, rows beyond it (written but never committed, so never acknowledged
to a sender) are cut off when the store is opened again, and appending resumes from there.
Readers (:func:`open_measurements`) see committed rows only, even while a server is appending.
Durability is against a killed process; add ``fsync=True`` for power loss (slower).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from twin.telemetry.packets import PacketLayout, layouts_by_name

COMMIT_FILE = "commit.json"
CHUNK_ROWS = 65_536
DIMENSION = "record"
NS_UNITS = "nanoseconds since 1970-01-01 00:00:00"
HEADER_COLUMNS = {
    "time": ("<i8", {"units": NS_UNITS, "calendar": "proleptic_gregorian", "standard_name": "time",
                     "long_name": "packet time code (UTC)"}),
    "received_time": ("<i8", {"units": NS_UNITS, "calendar": "proleptic_gregorian",
                              "long_name": "time the ingest server received the packet (UTC)"}),
    "spacecraft_id": ("<u2", {"long_name": "spacecraft identifier (1 + row in the designed fleet)"}),
    "sequence_count": ("<u2", {"long_name": "CCSDS packet sequence count"}),
    "station": ("u1", {"long_name": "ground station that forwarded the packet (index into the store's stations)"}),
}


class StoreError(ValueError):
    """The path is not a measurement store, or not one of these packet definitions."""


def _write_atomic(path: Path, text: str, fsync: bool) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w") as handle:
        handle.write(text)
        if fsync:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temporary, path)


class MeasurementStore:
    """Append-only store of decoded packets at ``path``; created if missing, recovered if a writer died."""

    def __init__(self, path: str | Path, layouts: dict[str, PacketLayout] | None = None, fsync: bool = False):
        import zarr

        self.path = Path(path)
        self.layouts = layouts or layouts_by_name()
        self.fsync = fsync
        existed = (self.path / COMMIT_FILE).exists()
        if self.path.exists() and not existed and any(self.path.iterdir()):
            raise StoreError(f"store: {str(self.path)!r} exists and is not a measurement store (no {COMMIT_FILE})")
        self.root = zarr.open_group(str(self.path), mode="a", zarr_format=2)
        state = _commit_record(self.path / COMMIT_FILE) if existed else {}
        self.rows: dict[str, int] = {name: int(state.get("rows", {}).get(name, 0)) for name in self.layouts}
        self.counts = Counter(state.get("counts", {}))
        self.stations: list[str] = list(state.get("stations", []))
        self.commits = int(state.get("commits", 0))
        for name, layout in self.layouts.items():
            self._prepare_group(name, layout)
        self._remove_partial_files()
        if not existed:
            self._write_commit()

    def _columns(self, layout: PacketLayout) -> dict[str, tuple[str, dict]]:
        columns = dict(HEADER_COLUMNS)
        for field in layout.measurement_fields:
            attrs = {"units": field.units, "long_name": field.description}
            if field.valid_range:
                attrs["valid_range"] = list(field.valid_range)
            columns[field.name] = ("<f8", attrs)
        return columns

    def _prepare_group(self, name: str, layout: PacketLayout) -> None:
        """Create the group's arrays, or cut them back to the committed rows."""
        group = self.root.require_group(name)
        group.attrs.update({"long_name": layout.description, "apid": layout.apid})
        for column, (dtype, attrs) in self._columns(layout).items():
            if column in group:
                array = group[column]
                if array.shape[0] != self.rows[name]:
                    array.resize((self.rows[name],))
                continue
            if self.rows[name]:
                raise StoreError(f"store: {name}/{column} is missing from {str(self.path)!r}")
            fill = np.nan if dtype == "<f8" else 0
            array = group.create_array(column, shape=(0,), chunks=(CHUNK_ROWS,), dtype=dtype, fill_value=fill)
            array.attrs.update({**attrs, "_ARRAY_DIMENSIONS": [DIMENSION]})

    def _remove_partial_files(self) -> None:
        for leftover in self.path.rglob("*.partial"):
            leftover.unlink(missing_ok=True)

    def station_index(self, station: str) -> int:
        """Index of ``station`` in the store's station list (added if new; at most 256)."""
        if station not in self.stations:
            if len(self.stations) >= 256:
                raise StoreError(f"station: {station!r} would be the 257th station of this store")
            self.stations.append(station)
        return self.stations.index(station)

    def commit(self, batches: dict[str, list[dict[str, np.ndarray]]], counts: Counter) -> int:
        """Append ``batches`` (per group, a list of column dicts) and record ``counts``; returns rows added."""
        added = 0
        for name, parts in batches.items():
            if not parts:
                continue
            group = self.root[name]
            start = self.rows[name]
            new_rows = sum(len(part["time"]) for part in parts)
            for column in self._columns(self.layouts[name]):
                values = np.concatenate([part[column] for part in parts])
                array = group[column]
                array.resize((start + new_rows,))
                array[start:start + new_rows] = values
            self.rows[name] = start + new_rows
            added += new_rows
        self.counts.update(counts)
        self.commits += 1
        self._write_commit()
        return added

    def _write_commit(self) -> None:
        state = {"rows": self.rows, "counts": dict(self.counts), "stations": self.stations, "commits": self.commits,
                 "updated": datetime.now(timezone.utc).isoformat(timespec="milliseconds")}
        _write_atomic(self.path / COMMIT_FILE, json.dumps(state, indent=1), self.fsync)

    def tail(self, name: str, rows: int) -> dict[str, np.ndarray]:
        """The last ``rows`` committed rows of group ``name``: time, spacecraft_id and sequence_count."""
        group = self.root[name]
        stop = self.rows[name]
        start = max(0, stop - rows)
        return {column: group[column][start:stop] for column in ("time", "spacecraft_id", "sequence_count")}


def read_state(path: str | Path) -> dict:
    """The store's commit record: rows per group, bad-input counts, stations, commits."""
    commit = Path(path) / COMMIT_FILE
    if not commit.exists():
        raise StoreError(f"store: {str(path)!r} is not a measurement store (no {COMMIT_FILE})")
    return _commit_record(commit)


def _commit_record(commit: Path) -> dict:
    """The parsed ``commit.json`` file ``commit``; a :class:`StoreError` naming it if it is damaged (cut short, not JSON)."""
    try:
        state = json.loads(commit.read_text(encoding="utf-8"))
    except ValueError as error:  # JSON or UTF-8 that does not decode
        raise StoreError(f"store: {str(commit)!r} is damaged ({error})") from None
    if not isinstance(state, dict):
        raise StoreError(f"store: {str(commit)!r} is damaged (not a JSON object)")
    return state


def open_measurements(path: str | Path, since: np.datetime64 | None = None,
                      reorder_margin_s: float = 3600.0) -> dict[str, xr.Dataset]:
    """Every group of the store as a dataset over ``record``, committed rows only (lazy, dask-backed).

    ``since``: only rows stamped at or after it, found without reading the whole store (rows are
    in arrival order; a packet arriving up to ``reorder_margin_s`` late is still found).
    """
    state = read_state(path)
    groups = {}
    for name, rows in state["rows"].items():
        dataset = xr.open_zarr(str(path), group=name, consolidated=False, zarr_format=2, mask_and_scale=False)
        dataset = dataset.isel({DIMENSION: slice(0, rows)})
        dataset.attrs["stations"] = state["stations"]
        groups[name] = dataset if since is None else select_since(dataset, since, reorder_margin_s)
    return groups


def select_since(group: xr.Dataset, since: np.datetime64, reorder_margin_s: float = 3600.0) -> xr.Dataset:
    """The rows of an opened group stamped at or after ``since``, found by bisection (see :func:`open_measurements`)."""
    moment = np.datetime64(since, "ns")
    first = _first_row_at_or_after(group["time"].variable, group.sizes[DIMENSION],
                                   moment - np.timedelta64(int(reorder_margin_s * 1e9), "ns"))
    tail = group.isel({DIMENSION: slice(first, None)})
    return tail.isel({DIMENSION: np.flatnonzero(tail["time"].values >= moment)})


def _first_row_at_or_after(times: xr.Variable, rows: int, moment: np.datetime64) -> int:
    """Bisect the (nearly time-ordered) rows for the first stamped at or after ``moment``."""
    low, high = 0, rows
    while low < high:
        middle = (low + high) // 2
        if times[middle].values < moment:
            low = middle + 1
        else:
            high = middle
    return low
