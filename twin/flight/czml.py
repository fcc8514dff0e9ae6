"""CZML of a run for Cesium viewers (``czml3``, BSD-3-Clause, installed by the ``export`` extra): one packet
per satellite with its sampled position in Cesium's ``INERTIAL`` frame (ICRF axes; the run's GCRS has
them), metres, seconds from the run's start, Lagrange-interpolated, a point and a trailing path; a
document packet sets the clock to the run's span.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import xarray as xr

from twin.safe_output import FILE, written_into_place


def _czml3():
    try:
        import czml3
    except ImportError:
        raise ImportError("CZML needs the czml3 package: pip install 'orbital-dc-twin[export]'") from None
    return czml3


def _utc(time: np.datetime64) -> datetime:
    seconds = (np.datetime64(time, "us") - np.datetime64("1970-01-01T00:00:00", "us")) / np.timedelta64(1, "s")
    return datetime.fromtimestamp(float(seconds), tz=timezone.utc)


def fleet_document(run: xr.Dataset, satellites=None, every: int = 1):
    """The CZML document (a ``czml3.Document``) of ``run``'s satellites (all, or ``satellites``), every
    ``every``-th step (the last always kept)."""
    czml3 = _czml3()
    from czml3.properties import Color, Path as TrailPath, PolylineMaterial, SolidColorMaterial
    names = [str(name) for name in (run["sat"].values if satellites is None else satellites)]
    known = set(run["sat"].values.astype(str))
    missing = [name for name in names if name not in known]
    if missing:
        raise ValueError(f"satellites: {missing[0]!r} is not a satellite of the run")
    if every < 1:
        raise ValueError(f"every: {every!r} must be a positive whole number of steps")
    times = run["time"].values
    steps = np.unique(np.append(np.arange(0, times.size, every), times.size - 1))
    start, stop = _utc(times[0]), _utc(times[-1])
    offsets_s = (times[steps] - times[0]) / np.timedelta64(1, "s")
    interval = czml3.TimeInterval(start=start, end=stop)
    packets = [czml3.Packet(id="document", name=f"orbital-dc-twin: {run.attrs.get('scenario', 'run')}", version="1.0",
                            clock=czml3.Clock(interval=interval, currentTime=start, multiplier=60))]
    positions = run["position"].sel(sat=names).values[:, steps]
    for name, position_m in zip(names, positions):
        samples = np.column_stack([offsets_s, position_m]).ravel().tolist()
        packets.append(czml3.Packet(
            id=name, name=name, availability=interval,
            position=czml3.Position(epoch=start, cartesian=samples, referenceFrame="INERTIAL",
                                    interpolationAlgorithm="LAGRANGE", interpolationDegree=5),
            point=czml3.Point(pixelSize=4, color=Color(rgba=[255, 200, 0, 255])),
            path=TrailPath(show=True, width=1, leadTime=0, trailTime=3000,
                           material=PolylineMaterial(solidColor=SolidColorMaterial(color=Color(rgba=[255, 200, 0, 128])))),
        ))
    return czml3.Document(packets=packets)


def write_czml(run: xr.Dataset, path: str | Path, satellites=None, every: int = 1, overwrite: bool = False) -> Path:
    """Write :func:`fleet_document` to ``path`` through :mod:`twin.safe_output` (an existing file replaced only if
    ``overwrite``); the path."""
    path = Path(path)
    document = fleet_document(run, satellites, every).dumps()
    with written_into_place(path, FILE, overwrite) as partial:
        partial.write_text(document, encoding="utf-8")
    return path


def read_czml(path: str | Path) -> dict:
    """A CZML file read back by ``czml3``: for each satellite packet, its times (datetime64[ns], UTC) and
    positions (n, 3; m) and its reference frame."""
    czml3 = _czml3()
    document = czml3.Document.model_validate_json(Path(path).read_text(encoding="utf-8"))
    result = {}
    for packet in document.packets:
        if packet.position is None:
            continue
        samples = np.asarray(getattr(packet.position.cartesian, "values", packet.position.cartesian), float).reshape(-1, 4)
        epoch = np.datetime64(str(packet.position.epoch).removesuffix("Z"), "ns")  # czml3 keeps the ISO text
        times = epoch + np.round(samples[:, 0] * 1e9).astype("timedelta64[ns]")
        result[packet.id] = {"times": times, "positions_m": samples[:, 1:], "reference_frame":
                             str(getattr(packet.position.referenceFrame, "value", packet.position.referenceFrame))}
    return result
