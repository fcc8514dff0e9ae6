"""CCSDS Orbit Ephemeris Messages (CCSDS 502.0-B-3, OEM 3.0), one per satellite of a run, written and read
with ``ccsds-ndm`` (GPL-3.0, installed by the ``safety`` or ``export`` extra and imported only here, as
:mod:`twin.safety.cdm` does).

States are the run's ``position`` and ``velocity`` (GCRS, which OEM calls GCRF: the geocentric frame with
ICRS axes) in km and km/s, times in UTC, Lagrange interpolation of degree 7 suggested to readers.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from twin.safe_output import OutputKind, written_into_place

INTERPOLATION_DEGREE = 7
SUFFIXES = {"kvn": ".oem", "xml": ".xml"}
# A folder twin export may replace: one holding only OEM files (and nothing else of the user's).
OEM_FOLDER = OutputKind("a folder of OEM files", lambda path: path.is_dir() and all(
    item.is_file() and item.suffix in SUFFIXES.values() for item in path.iterdir()))


def _ndm():
    try:
        from ccsds_ndm.mapping import NDMFileFormats
        from ccsds_ndm.models import ndmxml4
        from ccsds_ndm.ndm_io import NdmIo
    except ImportError:
        raise ImportError("OEMs need the ccsds-ndm package: pip install 'orbital-dc-twin[export]'") from None
    return ndmxml4, NdmIo, NDMFileFormats


def _iso(times: np.ndarray) -> list[str]:
    return [str(value) for value in np.datetime_as_string(times.astype("datetime64[us]"), unit="us")]


def ephemeris_message(run: xr.Dataset, satellite: str, originator: str = "ORBITAL-DC-TWIN"):
    """The OEM (a ``ccsds_ndm`` object tree) of ``satellite`` in ``run``."""
    ndm, _, _ = _ndm()
    position_km = run["position"].sel(sat=satellite).values / 1e3
    velocity_km_s = run["velocity"].sel(sat=satellite).values.astype(float) / 1e3
    epochs = _iso(run["time"].values)
    length = lambda value: ndm.PositionTypeUo(value=float(value), units=ndm.PositionUnits.KM)
    speed = lambda value: ndm.VelocityTypeUo(value=float(value), units=ndm.VelocityUnits.KM_S)
    states = [ndm.StateVectorAccType(epoch=epoch, x=length(p[0]), y=length(p[1]), z=length(p[2]),
                                     x_dot=speed(v[0]), y_dot=speed(v[1]), z_dot=speed(v[2]))
              for epoch, p, v in zip(epochs, position_km, velocity_km_s)]
    metadata = ndm.OemMetadata(object_name=satellite, object_id=satellite, center_name="EARTH", ref_frame="GCRF",
                               time_system="UTC", start_time=epochs[0], stop_time=epochs[-1],
                               interpolation="LAGRANGE", interpolation_degree=INTERPOLATION_DEGREE,
                               comment=[f"orbital-dc-twin run of scenario {run.attrs.get('scenario', '?')}"])
    header = ndm.OdmHeader(creation_date=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"),
                           originator=originator)
    segment = ndm.OemSegment(metadata=metadata, data=ndm.OemData(state_vector=states))
    return ndm.Oem(header=header, body=ndm.OemBody(segment=[segment]))


def write_oems(run: xr.Dataset, directory: str | Path, satellites=None, data_format: str = "kvn",
               overwrite: bool = False) -> list[Path]:
    """One OEM per satellite of ``run`` (all, or ``satellites``) into the new folder ``directory`` as ``NAME.oem``
    (KVN) or ``NAME.xml``; the paths. Raises ``ValueError`` naming an unknown satellite or format, and
    :class:`twin.safe_output.OutputError` if ``directory`` holds anything but OEMs, or OEMs and not ``overwrite``
    (the folder is written whole beside it and renamed in: :mod:`twin.safe_output`)."""
    if data_format not in ("kvn", "xml"):
        raise ValueError(f"data_format: {data_format!r} is neither 'kvn' nor 'xml'")
    names = [str(name) for name in (run["sat"].values if satellites is None else satellites)]
    known = set(run["sat"].values.astype(str))
    missing = [name for name in names if name not in known]
    if missing:
        raise ValueError(f"satellites: {missing[0]!r} is not a satellite of the run")
    _, NdmIo, formats = _ndm()
    directory = Path(directory)
    with written_into_place(directory, OEM_FOLDER, overwrite) as partial:
        partial.mkdir()
        for name in names:
            (partial / f"{name}{SUFFIXES[data_format]}").write_text(NdmIo().to_string(
                ephemeris_message(run, name), formats.KVN if data_format == "kvn" else formats.XML), encoding="utf-8")
    return [directory / f"{name}{SUFFIXES[data_format]}" for name in names]


def read_oem(path: str | Path) -> dict:
    """An OEM file (KVN or XML) read by ``ccsds-ndm``: object name, frame, centre, time system, the times
    (datetime64[ns], UTC) and the states (n, 6; km, km/s) of its first segment."""
    _, NdmIo, _ = _ndm()
    message = NdmIo().from_path(path)
    segment = message.body.segment[0]
    states = [[getattr(vector, name).value for name in ("x", "y", "z", "x_dot", "y_dot", "z_dot")]
              for vector in segment.data.state_vector]
    times = np.array([str(vector.epoch).removesuffix("Z") for vector in segment.data.state_vector], dtype="datetime64[ns]")
    metadata = segment.metadata
    return {"object_name": metadata.object_name, "ref_frame": str(getattr(metadata.ref_frame, "value", metadata.ref_frame)),
            "center_name": metadata.center_name, "time_system": str(getattr(metadata.time_system, "value",
                                                                           metadata.time_system)),
            "times": times, "states": np.array(states, dtype=float)}
