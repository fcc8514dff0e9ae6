"""CCSDS unsegmented time code (CUC, CCSDS 301.0-B-4) <-> numpy UTC times.

The time code counts TAI seconds (4 octets) and 1/65536 s (2 octets) from 1958-01-01T00:00:00 TAI,
the CCSDS level-1 epoch. UTC follows through ERFA's leap-second table (the one astropy uses); by
the twin's offline policy no leap second after the table's last is assumed. A time stamped inside
a leap second itself maps to the second after it.
"""

from __future__ import annotations

import erfa
import numpy as np

FINE_PER_S = 65536
NS_PER_S = 1_000_000_000
# 1958-01-01 UTC, when TAI and UTC coincided by definition of the epoch (TAI-UTC = 0 before 1961's rubber seconds).
EPOCH_1958_UNIX_S = -378_691_200


def _leap_table() -> tuple[np.ndarray, np.ndarray]:
    """UTC instants (Unix seconds) from which TAI-UTC (s) takes each whole-second value of ERFA's table."""
    table = erfa.leap_seconds.get()
    table = table[table["tai_utc"] == np.round(table["tai_utc"])]  # from 1972 on: whole seconds
    starts = np.array([np.datetime64(f"{year:04d}-{month:02d}-01", "s").astype(np.int64)
                       for year, month in zip(table["year"], table["month"])])
    return starts, table["tai_utc"].astype(np.int64)


_UTC_STARTS_S, _TAI_MINUS_UTC_S = _leap_table()
_TAI_STARTS_S = _UTC_STARTS_S + _TAI_MINUS_UTC_S  # the same instants counted in TAI Unix-like seconds


def _tai_minus_utc_s(tai_unix_s: np.ndarray) -> np.ndarray:
    """TAI-UTC (s) at TAI instants given as seconds since 1970-01-01 on the TAI scale."""
    index = np.searchsorted(_TAI_STARTS_S, tai_unix_s, side="right") - 1
    return np.where(index >= 0, _TAI_MINUS_UTC_S[np.maximum(index, 0)], 10)


def cuc_to_datetime64(coarse_s: np.ndarray, fine: np.ndarray) -> np.ndarray:
    """UTC ``datetime64[ns]`` of CUC codes (``coarse_s`` TAI seconds and ``fine`` 1/65536 s since 1958)."""
    tai_unix_s = np.asarray(coarse_s, np.int64) + EPOCH_1958_UNIX_S
    utc_unix_s = tai_unix_s - _tai_minus_utc_s(tai_unix_s)
    fine_ns = (np.asarray(fine, np.int64) * NS_PER_S + FINE_PER_S // 2) // FINE_PER_S
    return (utc_unix_s * NS_PER_S + fine_ns).astype("datetime64[ns]")


def datetime64_to_cuc(times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CUC codes (coarse TAI seconds since 1958 as uint32, fine 1/65536 s as uint16) of UTC ``times``."""
    ns = np.asarray(times, "datetime64[ns]").astype(np.int64)
    utc_unix_s, remainder_ns = np.divmod(ns, NS_PER_S)
    index = np.searchsorted(_UTC_STARTS_S, utc_unix_s, side="right") - 1
    tai_minus_utc_s = np.where(index >= 0, _TAI_MINUS_UTC_S[np.maximum(index, 0)], 10)
    fine = (remainder_ns * FINE_PER_S + NS_PER_S // 2) // NS_PER_S
    carry = fine // FINE_PER_S
    coarse = utc_unix_s + tai_minus_utc_s - EPOCH_1958_UNIX_S + carry
    return coarse.astype(np.uint32), (fine % FINE_PER_S).astype(np.uint16)
