"""Parse user durations and build the simulation's UTC time grid."""

import re

import numpy as np
from astropy.time import Time

_UNIT_SECONDS = {"ms": 1e-3, "s": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*(ms|s|min|m|h|d|w)\s*$")


def parse_duration_s(text: str | float | int, field: str = "duration") -> float:
    """Seconds in a duration such as ``"24h"``, ``"60s"``, ``"7d"``, ``"10min"`` or a number of seconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        seconds = float(text)
    else:
        match = _DURATION.match(str(text))
        if not match:
            raise ValueError(
                f"{field}: {text!r} is not a duration; write a number and a unit such as '60s', '10min', '24h', '7d'"
            )
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{field}: {text!r} must be a positive duration")
    return seconds


def parse_time(text: str, field: str = "start") -> Time:
    """An astropy UTC Time from an ISO 8601 string (a trailing 'Z' is accepted)."""
    cleaned = str(text).strip().removesuffix("Z").removesuffix("z")
    try:
        return Time(cleaned, format="isot" if "T" in cleaned else "iso", scale="utc")
    except ValueError:
        raise ValueError(f"{field}: {text!r} is not an ISO 8601 UTC time such as '2026-03-21T00:00:00Z'") from None


def parse_date(text: str, field: str) -> Time:
    """The UTC start of a month ``YYYY-MM`` or of a day ``YYYY-MM-DD`` (or any time :func:`parse_time` reads)."""
    text = str(text)
    return parse_time(text + "-01" if re.fullmatch(r"\d{4}-\d{2}", text) else text, field)


def time_grid(start: Time, duration_s: float, step_s: float) -> np.ndarray:
    """Offsets in seconds from ``start``: 0, step, ... up to and including ``duration_s``."""
    steps = int(np.floor(duration_s / step_s + 1e-9))
    return np.arange(steps + 1, dtype=float) * step_s


def to_datetime64(start: Time, offsets_s: np.ndarray) -> np.ndarray:
    """UTC datetime64[ns] for ``start + offsets_s`` (leap seconds are not representable, as in numpy)."""
    start_ns = np.datetime64(start.utc.isot, "ns")
    return start_ns + np.round(offsets_s * 1e9).astype("timedelta64[ns]")


def julian_dates(start: Time, offsets_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-part UTC Julian dates (whole, fraction) for sgp4 at ``start + offsets_s``."""
    jd1 = np.full(offsets_s.shape, start.utc.jd1)
    jd2 = start.utc.jd2 + offsets_s / 86400.0
    whole = np.floor(jd2)
    return jd1 + whole, jd2 - whole
