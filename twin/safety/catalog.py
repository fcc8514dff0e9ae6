"""A catalogue of element sets to screen against, read entry by entry: what cannot be screened is set
aside with its reason instead of stopping the whole read.

Formats: TLE or 3LE text (CelesTrak's ``.tle``/``.txt``), CCSDS OMM XML, CelesTrak's OMM JSON and
OMM CSV (field names of CCSDS 502.0-B-3, read by ``sgp4.omm``). The format is told from the
content, not the file name.

Reasons an entry is set aside (:data:`SKIP_REASONS`): here ``malformed`` and ``duplicate``; the
screen adds ``stale``, ``propagation`` and ``altitude`` once the span and the fleet are known
(:mod:`twin.safety.screening`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from astropy.time import Time
from sgp4 import omm
from sgp4.api import WGS72, Satrec

from twin.orbit.constellation import tle_checksum_error
from twin.orbit.propagation import SGP4_ERRORS

SKIP_REASONS = {
    "malformed": "could not be read as an element set",
    "duplicate": "same catalogue number as an earlier entry (the first is kept)",
    "stale": "element set epoch too far from the span for SGP4 to mean anything",
    "propagation": "SGP4/SDP4 refuses the elements or fails during the span (decayed or out-of-range elements)",
    "altitude": "perigee-apogee band never comes within reach of the fleet's",
}
SKIPPED_COLUMNS = ["reason", "name", "catalog_number", "detail"]

OBJECT_TYPES = ("PAYLOAD", "ROCKET BODY", "DEBRIS", "UNKNOWN")


def object_type_from_name(name: str) -> str:
    """SATCAT object type from an object's name: ``R/B`` rocket bodies, ``DEB`` debris, else a payload.

    >>> [object_type_from_name(n) for n in ("ISS (ZARYA)", "CZ-4C R/B", "FENGYUN 1C DEB")]
    ['PAYLOAD', 'ROCKET BODY', 'DEBRIS']
    """
    words = name.upper().replace("(", " ").replace(")", " ").split()
    if "R/B" in words:
        return "ROCKET BODY"
    if "DEB" in words:
        return "DEBRIS"
    return "PAYLOAD"


@dataclass
class Catalog:
    """Element sets that can be screened, in file order, and the entries set aside (``skipped``)."""

    satrecs: list[Satrec]
    names: np.ndarray
    catalog_numbers: np.ndarray
    object_types: np.ndarray
    source: str = ""
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=SKIPPED_COLUMNS))

    def __len__(self) -> int:
        return len(self.satrecs)

    @property
    def epochs_jd(self) -> np.ndarray:
        """UTC Julian date of each element set's epoch."""
        return np.array([s.jdsatepoch + s.jdsatepochF for s in self.satrecs])

    @property
    def epoch(self) -> Time:
        """The catalogue's epoch: the median of its element-set epochs, to the whole minute (UTC)."""
        if not self.satrecs:
            raise ValueError(f"catalog {self.source!r}: holds no element set that can be screened")
        return Time(np.round(np.median(self.epochs_jd) * 1440.0) / 1440.0, format="jd", scale="utc")

    def perigee_apogee_km(self) -> np.ndarray:
        """Perigee and apogee radius (n, 2) of each element set's mean orbit, km from the Earth's centre."""
        a_km = np.array([s.a * s.radiusearthkm for s in self.satrecs])
        ecc = np.array([s.ecco for s in self.satrecs])
        return np.column_stack([a_km * (1 - ecc), a_km * (1 + ecc)])

    def take(self, rows: np.ndarray, skipped: pd.DataFrame | None = None) -> Catalog:
        """The catalogue of ``rows`` only, with ``skipped`` added to its set-aside entries."""
        rows = np.asarray(rows, dtype=int)
        extra = [self.skipped] + ([skipped] if skipped is not None and len(skipped) else [])
        return Catalog([self.satrecs[r] for r in rows], self.names[rows], self.catalog_numbers[rows],
                       self.object_types[rows], self.source, pd.concat(extra, ignore_index=True))

    def skipped_summary(self, examples: int = 3) -> pd.DataFrame:
        """Count of set-aside entries per reason (:func:`summarise_skipped`).

        >>> catalog = parse_catalog("1 25544U 98067A   19343.69339541  .00001764  00000-0  38792-4 0  9991\\n"
        ...                         "2 25544  51.6439 211.2001 0007417  17.6667  85.6398 15.50103472202482\\nGARBAGE\\n")
        >>> catalog.skipped_summary()[["reason", "count"]].to_dict("records")
        [{'reason': 'malformed', 'count': 1}]
        """
        return summarise_skipped(self.skipped, examples)


def summarise_skipped(skipped: pd.DataFrame, examples: int = 3) -> pd.DataFrame:
    """Count of set-aside entries per reason, with what the reason means and a few examples."""
    rows = []
    for reason, group in skipped.groupby("reason", sort=False):
        shown = [f"{name} ({detail})" for name, detail in zip(group["name"][:examples], group["detail"][:examples])]
        rows.append({"reason": reason, "count": len(group), "meaning": SKIP_REASONS.get(reason, reason),
                     "examples": "; ".join(shown)})
    return pd.DataFrame(rows, columns=["reason", "count", "meaning", "examples"])


def skipped_rows(reason: str, names, numbers, details) -> pd.DataFrame:
    """A table of set-aside entries, all for one ``reason``."""
    names, numbers, details = list(names), list(numbers), list(details)
    return pd.DataFrame({"reason": [reason] * len(names), "name": names, "catalog_number": numbers,
                         "detail": details}, columns=SKIPPED_COLUMNS)


def _tle_entries(text: str):
    """(name, line 1, line 2, first line number) of each element set; (None, line, '', number) for a stray line."""
    lines = [(number, line.rstrip()) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    index = 0
    while index < len(lines):
        number, line = lines[index]
        ahead = [text for _, text in lines[index + 1:index + 3]]
        if line.startswith("1 ") and ahead[:1] and ahead[0].startswith("2 "):
            yield line[2:7].strip(), line, ahead[0], number
            index += 2
        elif not line.startswith(("1 ", "2 ")) and len(ahead) == 2 and ahead[0].startswith("1 ") and ahead[1].startswith("2 "):
            yield line.removeprefix("0 ").strip(), ahead[0], ahead[1], number
            index += 3
        else:
            yield None, line, "", number
            index += 1


class ElementsRefused(ValueError):
    """SGP4 refuses an element set it could read (a decayed orbit, an eccentricity out of range)."""


def _tle_satrec(name: str, line1: str, line2: str) -> Satrec:
    """The element set of one TLE, or ValueError saying what is wrong with it."""
    for which, line in (("line 1", line1), ("line 2", line2)):
        error = tle_checksum_error(line)
        if error:
            raise ValueError(f"{which}: {error}")
    if line1[2:7] != line2[2:7]:
        raise ValueError(f"line 1 is object {line1[2:7].strip()} and line 2 object {line2[2:7].strip()}")
    satrec = Satrec.twoline2rv(line1, line2, WGS72)
    if satrec.error:
        raise ElementsRefused(f"SGP4 refuses the elements (error {satrec.error}: {SGP4_ERRORS.get(satrec.error, 'unknown')})")
    return satrec


def _omm_records(text: str) -> list[dict]:
    """OMM records (dicts of CCSDS field names) from OMM XML, JSON or CSV text."""
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return list(omm.parse_xml(io.StringIO(text)))
    if stripped.startswith(("[", "{")):
        records = json.loads(text)
        return [records] if isinstance(records, dict) else list(records)
    return list(omm.parse_csv(io.StringIO(text)))


def _omm_satrec(record: dict) -> Satrec:
    satrec = Satrec()
    omm.initialize(satrec, {key: str(value) for key, value in record.items()})
    if satrec.error:
        raise ElementsRefused(f"SGP4 refuses the elements (error {satrec.error}: {SGP4_ERRORS.get(satrec.error, 'unknown')})")
    return satrec


def catalog_format(text: str) -> str:
    """``tle``, ``omm-xml``, ``omm-json`` or ``omm-csv``, told from the content.

    >>> catalog_format('[{"OBJECT_NAME": "ISS (ZARYA)"}]'), catalog_format("OBJECT_NAME,OBJECT_ID,EPOCH\\n")
    ('omm-json', 'omm-csv')
    """
    stripped = text.lstrip()
    if stripped.startswith("<"):
        return "omm-xml"
    if stripped.startswith(("[", "{")):
        return "omm-json"
    first = stripped.splitlines()[0] if stripped else ""
    if "," in first and ("NORAD_CAT_ID" in first or "OBJECT_NAME" in first):
        return "omm-csv"
    return "tle"


def read_catalog(path: str | Path, check_checksums: bool = True) -> Catalog:
    """Read a catalogue file (:func:`parse_catalog`); ``ValueError`` naming the file if it cannot be read."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"catalog {str(path)!r}: cannot be read ({error})") from None
    return parse_catalog(text, str(path), check_checksums)


def parse_catalog(text: str, label: str = "<text>", check_checksums: bool = True) -> Catalog:
    """The catalogue in ``text``; never stops at a bad entry.

    Every entry that cannot be read (bad structure or checksum) is set aside as ``malformed``, one
    whose elements SGP4 refuses (a decayed orbit) as ``propagation``, and a repeated catalogue number
    as ``duplicate``, in ``Catalog.skipped``.
    Raises ``ValueError`` naming ``label`` only if the text holds no entry at all or is not the
    format it starts as.
    """
    kind = catalog_format(text)
    satrecs, names, numbers, skipped = [], [], [], []
    types = []
    if kind == "tle":
        for name, line1, line2, number in _tle_entries(text):
            if name is None:
                skipped.append(("malformed", f"line {number}", "", f"{line1[:40]!r} is not part of a two-line element set"))
                continue
            try:
                satrec = _tle_satrec(name, line1, line2) if check_checksums else Satrec.twoline2rv(line1, line2, WGS72)
            except ValueError as error:
                reason = "propagation" if isinstance(error, ElementsRefused) else "malformed"
                skipped.append((reason, name or f"line {number}", line1[2:7].strip(), f"line {number}: {error}"))
                continue
            satrecs.append(satrec)
            names.append(name)
            numbers.append(satrec.satnum)
            types.append(object_type_from_name(name))
    else:
        try:
            records = _omm_records(text)
        except (ValueError, KeyError, AttributeError) as error:  # json, XML (ParseError is a SyntaxError subclass below)
            raise ValueError(f"catalog {label!r}: is not {kind} ({error})") from None
        except SyntaxError as error:
            raise ValueError(f"catalog {label!r}: is not {kind} ({error})") from None
        for index, record in enumerate(records, 1):
            name = str(record.get("OBJECT_NAME", f"record {index}"))
            try:
                satrec = _omm_satrec(record)
            except (ValueError, KeyError, TypeError) as error:
                detail = f"missing field {error}" if isinstance(error, KeyError) else str(error)
                reason = "propagation" if isinstance(error, ElementsRefused) else "malformed"
                skipped.append((reason, name, str(record.get("NORAD_CAT_ID", "")), f"record {index}: {detail}"))
                continue
            satrecs.append(satrec)
            names.append(name)
            numbers.append(satrec.satnum)
            given = str(record.get("OBJECT_TYPE", "")).upper()
            types.append(given if given in OBJECT_TYPES else object_type_from_name(name))
    if not satrecs and not skipped:
        raise ValueError(f"catalog {label!r}: holds no element set")
    table = pd.DataFrame(skipped, columns=SKIPPED_COLUMNS)
    numbers = np.array(numbers, dtype=np.int64)
    _, first = np.unique(numbers, return_index=True)
    keep = np.sort(first)
    repeated = np.setdiff1d(np.arange(numbers.size), keep)
    catalog = Catalog(satrecs, np.array(names, dtype=str), numbers, np.array(types, dtype=str), label, table)
    duplicates = skipped_rows("duplicate", catalog.names[repeated], numbers[repeated],
                              [f"catalogue number {n} seen before" for n in numbers[repeated]])
    return catalog.take(keep, duplicates)
