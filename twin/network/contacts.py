"""Ground contacts: elevation of every satellite from every station, and the passes it gives.

A station is a point on the WGS-84 ellipsoid; its local vertical is the ellipsoid normal. A
satellite's elevation is the angle of the station-to-satellite vector above the station's
horizontal plane (geometric: no refraction, as Skyfield's ``find_events``). Everything is
vectorised over (satellite, station, time); runs are taken a block of satellites at a time so
the (sat, station, time) elevation array never exceeds :data:`ELEMENTS_PER_BLOCK` values.

A contact (pass) is an interval where the elevation is at or above the station's mask.
Acquisition and loss are the zeros of ``sin(elevation) - sin(mask)`` between two samples, found on the
quadratic through those samples and a neighbour (the same idea as
:func:`twin.intervals.threshold_intervals`); the maximum elevation is found on the
station-to-satellite vector interpolated around the highest sample (:func:`refine_culmination`).
For the ISS over a week the edges agree with Skyfield's ``find_events`` within 0.3 s at 10-30 s
steps and 1.7 s at 60 s steps, the maximum elevation within 0.002 deg (``tests/test_contacts.py``).

Formation members fly within a bounded distance of their chief, which bounds how far their
elevation sine can be from the chief's (:func:`elevation_sine_margin`). They are searched only
around the chief's passes (:func:`_screened_passes`): the same samples, so the same passes, for a
fraction of the work (phase 3 at 10 s: about 8 times less).

>>> import numpy as np
>>> station = station_itrs_m(np.array([0.0]), np.array([0.0]), np.array([0.0]))
>>> station.round(3).tolist()
[[6378137.0, 0.0, 0.0]]
"""

from __future__ import annotations

from dataclasses import dataclass

import numexpr as ne
import numpy as np
import pandas as pd
import xarray as xr

from twin.constants import EARTH_ECCENTRICITY_SQUARED, EARTH_EQUATORIAL_RADIUS_KM
from twin.orbit.fleet import formation_chief
from twin.intervals import threshold_intervals
from twin.scenario import scenario_of_run

ELEMENTS_PER_BLOCK = 20_000_000  # (sat, station, time) elevations computed at once: 160 MB of float64
# Screening formation members by their chief (:func:`elevation_sine_margin`): the spread measured on the
# run's GCRS positions is doubled, plus 100 m for what the geodetic round trip of the positions that
# elevations are computed from may add (float32 altitudes: 6 cm steps; measured under 5 cm in phase 1).
SPREAD_SAFETY = 2.0
SPREAD_SLACK_M = 100.0
SCREEN_WIDEN_STEPS = 2  # samples kept on each side of a chief's window: an edge's quadratic reaches one beyond it


@dataclass(frozen=True)
class Station:
    """A ground station: WGS-84 geodetic location and elevation mask (the fields of a scenario's station)."""

    name: str
    latitude_deg: float
    longitude_deg: float
    altitude_m: float
    min_elevation_deg: float = 0.0


def parse_station(text: str, min_elevation_deg: float = 0.0) -> Station:
    """A station from ``"LAT,LON[,ALT_M]"`` (degrees, degrees, metres), named by the text itself.

    >>> parse_station("67.9,21.0,400")
    Station(name='67.9,21.0,400', latitude_deg=67.9, longitude_deg=21.0, altitude_m=400.0, min_elevation_deg=0.0)
    """
    parts = text.split(",")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if len(values) not in (2, 3) or not all(np.isfinite(values)):
        raise ValueError(f"station: {text!r} is neither a station name nor LAT,LON[,ALT_M]")
    latitude, longitude = values[0], values[1]
    altitude = values[2] if len(values) == 3 else 0.0
    if not -90.0 <= latitude <= 90.0:
        raise ValueError(f"station: latitude {latitude!r} in {text!r} is out of range; it must be within -90..90")
    if not -180.0 <= longitude <= 360.0:
        raise ValueError(f"station: longitude {longitude!r} in {text!r} is out of range; it must be within -180..360")
    return Station(text, latitude, longitude, altitude, min_elevation_deg)


def itrs_from_geodetic_m(latitude_deg, longitude_deg, altitude_m) -> np.ndarray:
    """ITRS (Earth-fixed) position (m), shape ``(..., 3)``, of WGS-84 geodetic coordinates.

    Each axis is one numexpr pass written into the result (no temporaries of the grid's size).
    """
    names = {"lat": np.asarray(latitude_deg, float), "lon": np.asarray(longitude_deg, float),
             "h": np.asarray(altitude_m, float), "a": EARTH_EQUATORIAL_RADIUS_KM * 1e3,
             "e2": EARTH_ECCENTRICITY_SQUARED, "rad": np.pi / 180.0}
    shape = np.broadcast_shapes(names["lat"].shape, names["lon"].shape, names["h"].shape)
    result = np.empty(shape + (3,))
    normal = "a / sqrt(1 - e2 * sin(lat * rad) ** 2)"  # prime-vertical radius of curvature
    result[..., 0] = ne.evaluate(f"({normal} + h) * cos(lat * rad) * cos(lon * rad)", local_dict=names)
    result[..., 1] = ne.evaluate(f"({normal} + h) * cos(lat * rad) * sin(lon * rad)", local_dict=names)
    result[..., 2] = ne.evaluate(f"({normal} * (1 - e2) + h) * sin(lat * rad)", local_dict=names)
    return result


def station_itrs_m(latitude_deg, longitude_deg, altitude_m) -> np.ndarray:
    """ITRS positions (station, 3) in metres of stations on the WGS-84 ellipsoid."""
    return itrs_from_geodetic_m(np.asarray(latitude_deg, float), np.asarray(longitude_deg, float),
                                np.asarray(altitude_m, float)).reshape(-1, 3)


def station_up(latitude_deg, longitude_deg) -> np.ndarray:
    """Unit ellipsoid normals (station, 3): the local vertical elevation is measured from."""
    lat, lon = np.radians(np.asarray(latitude_deg, float)), np.radians(np.asarray(longitude_deg, float))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1).reshape(-1, 3)


def elevation_sine(satellite_itrs_m: np.ndarray, station_m: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Sine of the elevation of satellites (sat, time, 3) seen from stations (station, 3): shape (sat, station, time).

    One matrix product gives every satellite's projections on all stations and verticals; the
    distance comes from |r - s|^2 = |r|^2 - 2 r.s + |s|^2 (cancellation costs under 1e-2 m^2 of the
    at least (500 km)^2 of a LEO range).
    """
    sats, steps = satellite_itrs_m.shape[:2]
    flat = satellite_itrs_m.reshape(-1, 3)
    count = station_m.shape[0]
    products = flat @ np.concatenate([station_m, up]).T  # (sat*time, 2 * station)
    names = {"toward": products[:, :count], "along": products[:, count:], "r2": np.einsum("nk,nk->n", flat, flat)[:, None],
             "s_up": np.einsum("sk,sk->s", station_m, up)[None, :], "s2": np.einsum("sk,sk->s", station_m, station_m)[None, :]}
    # numexpr fuses the expression into one pass over the (sat*time, station) products.
    sine = ne.evaluate("(along - s_up) / sqrt(r2 - 2 * toward + s2)", local_dict=names)
    return sine.reshape(sats, steps, count).transpose(0, 2, 1)  # may pass +-1 by rounding: clip before arcsin


def elevation_deg(satellite_itrs_m: np.ndarray, station_m: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Elevation (deg) of satellites (sat, time, 3) seen from stations (station, 3): shape (sat, station, time)."""
    return np.degrees(np.arcsin(np.clip(elevation_sine(satellite_itrs_m, station_m, up), -1.0, 1.0)))


def refine_culmination(times_s: np.ndarray, line_of_sight_m: np.ndarray, up: np.ndarray, iterations: int = 3,
                       samples: int = 21) -> tuple[np.ndarray, np.ndarray]:
    """Time (s) and elevation (deg) of the highest point of passes, from three samples around each peak.

    ``times_s`` (n, 3) and ``line_of_sight_m`` (n, 3 samples, 3) hold the samples before, at and after
    the highest one; ``up`` (n, 3) the station verticals. The station-to-satellite vector is
    interpolated by the quadratic through the three samples (under 0.2 km from the true one at 60 s
    steps in LEO, a few millidegrees of elevation) and the elevation maximised on it by ``iterations``
    rounds of a ``samples``-point search, each narrowing the bracket tenfold. The elevation itself
    peaks sharply on passes near the zenith, so a parabola through its samples would miss by degrees.
    """
    t_a, t_b, t_c = times_s[:, 0:1], times_s[:, 1:2], times_s[:, 2:3]
    low, high = t_a[:, 0].copy(), t_c[:, 0].copy()
    best_t = t_b[:, 0].copy()
    best_e = np.full(best_t.shape, -np.inf)
    for _ in range(iterations):
        grid = low[:, None] + (high - low)[:, None] * np.linspace(0.0, 1.0, samples)[None, :]
        la = (grid - t_b) * (grid - t_c) / ((t_a - t_b) * (t_a - t_c))
        lb = (grid - t_a) * (grid - t_c) / ((t_b - t_a) * (t_b - t_c))
        lc = (grid - t_a) * (grid - t_b) / ((t_c - t_a) * (t_c - t_b))
        vector = (la[..., None] * line_of_sight_m[:, None, 0] + lb[..., None] * line_of_sight_m[:, None, 1]
                  + lc[..., None] * line_of_sight_m[:, None, 2])
        sine = np.einsum("ngk,nk->ng", vector, up) / np.linalg.norm(vector, axis=-1)
        elevation = np.degrees(np.arcsin(np.clip(sine, -1.0, 1.0)))
        pick = np.argmax(elevation, axis=1)
        best_t = grid[np.arange(grid.shape[0]), pick]
        best_e = elevation[np.arange(grid.shape[0]), pick]
        width = (high - low) / (samples - 1)
        low, high = np.maximum(best_t - width, t_a[:, 0]), np.minimum(best_t + width, t_c[:, 0])
    return best_t, best_e


def _seconds(run: xr.Dataset) -> np.ndarray:
    times = run["time"].values
    return (times - times[0]) / np.timedelta64(1, "s")


def satellite_itrs_m(run: xr.Dataset, sats: slice | np.ndarray = slice(None),
                     steps: slice | np.ndarray = slice(None)) -> np.ndarray:
    """ITRS positions (sat, time, 3) in metres of satellites ``sats`` of ``run`` at ``steps``, from its geodetic ones.

    Consecutive rows are read as a slice: a view of a run in memory, only their chunks of a stored one.
    """
    sats = _as_slice(sats)
    take = lambda name: run[name].isel(sat=sats, time=steps).values
    return itrs_from_geodetic_m(take("latitude"), take("longitude"), take("altitude").astype(float))


def _as_slice(rows: slice | np.ndarray) -> slice | np.ndarray:
    """``rows`` (indices) as a slice where they are consecutive."""
    if isinstance(rows, slice):
        return rows
    rows = np.asarray(rows)
    if rows.dtype == bool or rows.ndim != 1 or not rows.size or rows[0] < 0 or np.any(np.diff(rows) != 1):
        return rows
    return slice(int(rows[0]), int(rows[-1]) + 1)


def formation_chiefs(run: xr.Dataset, rows: np.ndarray) -> np.ndarray:
    """Row of the chief of each of ``rows`` that is a formation member, -1 where there is none to screen it by.

    A member's chief is the one satellite of role ``chief`` in its sub-center. Chiefs, satellites of
    runs without ``role``, ``subcenter`` or ``position``, and sub-centers with no chief or several
    (satellites from TLEs are each their own chief) get -1.
    """
    if "role" not in run.coords or "subcenter" not in run.coords or "position" not in run.data_vars:
        return np.full(rows.size, -1)
    role = run["role"].values.astype(str)
    chief_of = formation_chief(run["subcenter"].values, role)[rows]
    chief_of[role[rows] == "chief"] = -1
    return chief_of


def formation_spread_m(position_m: np.ndarray, chief_m: np.ndarray) -> float:
    """Largest distance (m) from ``chief_m`` (time, 3) of satellites at ``position_m`` (sat, time, 3) over the run.

    A distance is the same in every frame at a given instant, so the run's GCRS ``position`` gives
    the Earth-fixed one. One numexpr pass, no temporary of the members' size.
    """
    names = {axis: position_m[..., i] for i, axis in enumerate("xyz")}
    names.update({f"c{axis}": chief_m[:, i] for i, axis in enumerate("xyz")})
    return float(np.sqrt(ne.evaluate("max((x - cx)**2 + (y - cy)**2 + (z - cz)**2)", local_dict=names)))


def elevation_sine_margin(spread_m: float, chief_radius_m: float, station_m: np.ndarray) -> np.ndarray:
    r"""Largest difference (station,) of elevation sine between a chief and a satellite within ``spread_m`` of it.

    With :math:`\rho = r - s` the station-to-satellite vector and :math:`u` the station's unit
    vertical, :math:`\sin e = u \cdot \rho / |\rho|`, whose gradient in :math:`\rho` has norm
    :math:`\cos e / |\rho| \le 1 / |\rho|`. On the segment from the chief's :math:`\rho_c` to a member's
    :math:`\rho_c + \delta`, :math:`|\delta| \le d`, the range is at least
    :math:`|\rho_c| - d \ge |r_c| - |s| - d` (triangle inequality), so

    .. math:: |\sin e_m - \sin e_c| \le \frac{d}{|r_c| - |s| - d}

    with :math:`|r_c|` the chief's smallest geocentric distance ``chief_radius_m``. ``d`` is the
    measured spread times :data:`SPREAD_SAFETY` plus :data:`SPREAD_SLACK_M`; the margin is infinite
    (no screening) where the denominator is not positive.

    >>> margin = elevation_sine_margin(1000.0, 7_078_137.0, np.array([[6_378_137.0, 0.0, 0.0]]))
    >>> round(float(margin[0]), 6)  # 2.1 km over 697.9 km: about 0.17 deg near the horizon
    0.003009
    """
    d = SPREAD_SAFETY * spread_m + SPREAD_SLACK_M
    floor = chief_radius_m - np.linalg.norm(station_m, axis=-1) - d
    with np.errstate(divide="ignore"):
        return np.where(floor > 0.0, d / np.maximum(floor, 0.0), np.inf)


def widened(flags: np.ndarray, steps: int) -> np.ndarray:
    """``flags`` (row, time) with every True spread to ``steps`` samples on each side.

    >>> widened(np.array([[0, 0, 0, 1, 0, 0, 0, 0]], bool), 2).astype(int).tolist()
    [[0, 1, 1, 1, 1, 1, 0, 0]]
    """
    out = flags.copy()
    for shift in range(1, steps + 1):
        out[:, shift:] |= flags[:, :-shift]
        out[:, :-shift] |= flags[:, shift:]
    return out


def _passes(times_s, steps, total, positions, sine, sat_rows, station_m, up, mask_sine, station_index) -> dict:
    """Passes in ``sine`` (sat, station, column) of ``positions`` (sat, column, 3); ``steps`` (column,) of ``total``.

    ``times_s`` are the columns' times; ``sat_rows`` (sat,) and ``station_index`` (station,) name
    the rows and stations in the run. Steps left out between columns must be below the mask and
    every pass must keep two columns on each side unless the run's first or last step cuts it: its
    edges, flags and peak then come from the same samples as on every step.
    """
    sats, count, columns = sine.shape
    found = threshold_intervals(times_s, sine.reshape(-1, columns), np.tile(mask_sine, sats))
    found["peak_value"] = np.degrees(np.arcsin(np.clip(found["peak_value"], -1.0, 1.0)))
    row = found.pop("row")
    local, station = row // count, row % count
    peak_step = steps[found["peak_index"]]
    inner = (peak_step > 0) & (peak_step < total - 1)
    around = found["peak_index"][inner, None] + np.arange(-1, 2)[None, :]
    found["peak_s"][inner], found["peak_value"][inner] = refine_culmination(
        times_s[around], positions[local[inner, None], around] - station_m[station[inner], None], up[station[inner]])
    found["sat_row"], found["station_index"] = sat_rows[local], station_index[station]
    return found


def _screened_passes(run, chief, members, times_s, station_m, up, mask_sine) -> list[dict]:
    """Passes of formation ``members`` (rows) of ``chief`` (row), searched around the chief's windows only.

    Where the chief's elevation sine is below the mask minus :func:`elevation_sine_margin`, no
    member is at or above the mask. The other steps, widened by :data:`SCREEN_WIDEN_STEPS` on
    each side, are searched, each station's windows joined end to end. The search sees the same
    samples as one over every step: a pass lies inside the steps kept and has the two samples on
    each side that its edges' quadratics and its culmination use, and a window's first and last
    two samples are below the mask, so a pass starts on the first column or ends on the last one
    only where the run's first or last step cuts it.
    """
    chief_m = run["position"].isel(sat=chief).values
    spread_m = formation_spread_m(run["position"].isel(sat=_as_slice(members)).values, chief_m)
    margin = elevation_sine_margin(spread_m, np.linalg.norm(chief_m, axis=-1).min(), station_m)
    chief_sine = elevation_sine(satellite_itrs_m(run, np.array([chief])), station_m, up)[0]  # (station, time)
    windows = widened(chief_sine >= (mask_sine - margin)[:, None], SCREEN_WIDEN_STEPS)
    union = np.flatnonzero(windows.any(axis=0))
    parts = []
    per_block = max(1, ELEMENTS_PER_BLOCK // max(1, len(station_m) * union.size))
    for first in range(0, members.size if union.size else 0, per_block):
        group = members[first:first + per_block]
        positions = satellite_itrs_m(run, group, union)
        for station in np.flatnonzero(windows.any(axis=1)):
            columns = np.flatnonzero(windows[station, union])
            seen = positions[:, columns]
            one = slice(station, station + 1)
            parts.append(_passes(times_s[union[columns]], union[columns], times_s.size, seen,
                                 elevation_sine(seen, station_m[one], up[one]), group, station_m[one], up[one],
                                 mask_sine[one], np.array([station])))
    return parts


def contact_windows(run: xr.Dataset, stations, sats=None, screen: bool = True) -> pd.DataFrame:
    """Passes of the satellites of ``run`` over ``stations`` (:class:`Station` s or a scenario's ground stations).

    ``sats`` restricts to some satellite names. Returns one row per pass, sorted by station, then
    satellite, then acquisition: ``sat``, ``station``, ``acquisition``, ``loss``, ``culmination``
    (UTC), ``duration_s``, ``max_elevation_deg``, ``acquisition_observed`` and ``loss_observed``
    (False where the run's first or last step cuts the pass: its edge is then that step).

    Formation members are searched only around their chief's passes (``screen``; see
    :func:`elevation_sine_margin`), other satellites at every step; ``screen=False`` searches
    everyone at every step. Both find the same passes from the same samples.
    """
    stations = list(stations)
    names = run["sat"].values
    rows = np.arange(names.size)
    if sats is not None:
        wanted = np.atleast_1d(np.asarray(sats))
        unknown = [str(name) for name in wanted if name not in set(names)]
        if unknown:
            raise KeyError(f"sat: {unknown[0]!r} is not a satellite of this run")
        rows = np.flatnonzero(np.isin(names, wanted))
    times_s = _seconds(run)
    start = run["time"].values[0]
    station_m = station_itrs_m([s.latitude_deg for s in stations], [s.longitude_deg for s in stations],
                               [s.altitude_m for s in stations])
    up = station_up([s.latitude_deg for s in stations], [s.longitude_deg for s in stations])
    mask_sine = np.sin(np.radians(np.array([s.min_elevation_deg for s in stations], float)))
    chief_of = formation_chiefs(run, rows) if screen and stations else np.full(rows.size, -1)
    every, steps = np.arange(len(stations)), np.arange(times_s.size)
    full = rows[chief_of < 0]
    block = max(1, ELEMENTS_PER_BLOCK // max(1, len(stations) * times_s.size))
    parts = []
    for first in range(0, full.size, block):
        chosen = full[first:first + block]
        positions = satellite_itrs_m(run, chosen)
        # Edges are found on the sine of the elevation: as smooth, and no arcsin over the whole grid.
        parts.append(_passes(times_s, steps, times_s.size, positions, elevation_sine(positions, station_m, up),
                             chosen, station_m, up, mask_sine, every))
    for chief in np.unique(chief_of[chief_of >= 0]):
        parts.extend(_screened_passes(run, chief, rows[chief_of == chief], times_s, station_m, up, mask_sine))
    merged = {key: np.concatenate([part[key] for part in parts]) if parts else np.empty(0) for key in
              ("sat_row", "station_index", "start_s", "end_s", "peak_s", "peak_value", "start_observed", "end_observed")}
    search_order = np.lexsort((merged["start_s"], merged["station_index"], merged["sat_row"]))
    merged = {key: value[search_order] for key, value in merged.items()}  # as one search over every step gives them
    as_time = lambda seconds: start + np.round(np.asarray(seconds, float) * 1e9).astype("timedelta64[ns]")
    frame = pd.DataFrame({
        "sat": names[merged["sat_row"].astype(int)].astype(str),
        "station": np.array([s.name for s in stations], dtype=object)[merged["station_index"].astype(int)]
        if stations else np.empty(0, object),
        "acquisition": as_time(merged["start_s"]),
        "loss": as_time(merged["end_s"]),
        "culmination": as_time(merged["peak_s"]),
        "duration_s": merged["end_s"] - merged["start_s"],
        "max_elevation_deg": merged["peak_value"].astype(float),
        "acquisition_observed": merged["start_observed"].astype(bool),
        "loss_observed": merged["end_observed"].astype(bool),
    })
    order = np.lexsort((frame["acquisition"].to_numpy(), frame["sat"].to_numpy(),
                        np.array([s.name for s in stations], dtype=object)[merged["station_index"].astype(int)]
                        if stations else np.empty(0)))
    frame = frame.iloc[order].reset_index(drop=True)
    frame.attrs["units"] = {"duration_s": "s", "max_elevation_deg": "degree"}
    return frame


def stations_of(scenario) -> list[Station]:
    """The ground stations of a scenario as :class:`Station` s."""
    return [Station(s.name, s.latitude_deg, s.longitude_deg, s.altitude_m, s.min_elevation_deg)
            for s in scenario.ground_stations]



def run_contacts(run: xr.Dataset, station: str | None = None, sat: str | None = None, scenario=None) -> pd.DataFrame:
    """Passes of the run's satellites over its ground stations (:func:`twin.network.contacts.contact_windows`).

    A run made with ``network=True`` holds its passes and they are read; otherwise they are
    found now over the scenario's stations (all of a phase-3 day takes about half a minute).

    Parameters
    ----------
    station, sat : str, optional
        Only the passes over this station, of this satellite.
    scenario : twin.scenario.Scenario, optional
        For the stations of a run without a network; default the run's own.

    Returns
    -------
    pandas.DataFrame
        One row per pass: ``sat``, ``station``, ``acquisition``, ``culmination``, ``loss`` (UTC),
        ``duration_s``, ``max_elevation_deg``, ``complete`` (neither end cut by the run's
        span); units in ``attrs["units"]``.

    Examples
    --------
    >>> import twin
    >>> run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=4 * 3600, step_s=60, subsystems=False)
    >>> passes = run_contacts(run, station="Kashi", sat="EXP-001-01")
    >>> bool(len(passes) > 0 and (passes["max_elevation_deg"] >= 5.0).all())
    True
    """
    dataset = run
    if "contact" in dataset.dims:
        frame = pd.DataFrame({
            "sat": dataset["contact_sat"].values.astype(str),
            "station": dataset["contact_station"].values.astype(str),
            "acquisition": dataset["contact_acquisition"].values,
            "culmination": dataset["contact_culmination"].values,
            "loss": dataset["contact_loss"].values,
            "max_elevation_deg": dataset["contact_max_elevation"].values.astype(float),
            "complete": dataset["contact_complete"].values.astype(bool),
        })
        frame.insert(5, "duration_s", (frame["loss"] - frame["acquisition"]).dt.total_seconds())
    else:
        stations = stations_of(scenario_of_run(run.attrs, scenario))
        frame = contact_windows(dataset, stations, sats=[sat] if sat else None)
        frame["complete"] = frame.pop("acquisition_observed") & frame.pop("loss_observed")
        frame = frame[["sat", "station", "acquisition", "culmination", "loss", "duration_s", "max_elevation_deg",
                       "complete"]]
    known = set(frame["station"]) if "contact" in dataset.dims else {s.name for s in stations}
    if station is not None and station not in known:
        raise KeyError(f"station: {station!r} is not a ground station of this run ({', '.join(sorted(known))})")
    if sat is not None and sat not in dataset.indexes["sat"]:
        raise KeyError(f"sat: {sat!r} is not a satellite of this run")
    chosen = np.ones(len(frame), dtype=bool)
    if station is not None:
        chosen &= frame["station"].to_numpy() == station
    if sat is not None:
        chosen &= frame["sat"].to_numpy() == sat
    frame = frame[chosen].reset_index(drop=True)
    frame.attrs["units"] = {"duration_s": "s", "max_elevation_deg": "degree"}
    return frame
