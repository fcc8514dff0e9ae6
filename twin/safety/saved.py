"""A run's conjunction screen kept beside the run, for the dashboard to list: ``RUN.conjunctions.csv``.

``twin conjunctions RUN --catalog FILE --save`` writes it next to ``RUN`` (``march.zarr`` ->
``march.conjunctions.csv``): the screen's summary as ``# key = value`` lines, then one row per conjunction
with the columns of :data:`twin.safety.screening.CONJUNCTION_COLUMNS` (TCA in UTC, ISO 8601). A screen saved
before the long-encounter Pc (no ``collision_probability_method``) reads with the method its Pc had.
"""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from twin.safety.screening import CONJUNCTION_COLUMNS, Screening

SUFFIX = ".conjunctions.csv"


def saved_conjunctions_path(run_path: str | Path) -> Path:
    """Where the screen of the run at ``run_path`` is kept: beside it, ``NAME.conjunctions.csv``.

    >>> saved_conjunctions_path("runs/march.zarr").as_posix()
    'runs/march.conjunctions.csv'
    """
    run_path = Path(run_path)
    return run_path.with_name(run_path.stem + SUFFIX)


def conjunctions_csv(screening: Screening) -> str:
    """The text of a saved screen: its summary, then its conjunctions."""
    head = "".join(f"# {key} = {value}\n" for key, value in screening.summary.items())
    table = screening.conjunctions.copy()
    table["tca"] = pd.to_datetime(table["tca"]).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    return head + table.to_csv(index=False, float_format="%.9g")


def read_saved_conjunctions(path: str | Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """The conjunctions (TCA as datetime64) and the summary (text values) of a saved screen.

    Raises ``ValueError`` naming the file if it is not one.
    """
    lines = Path(path).read_text(encoding="utf-8").splitlines(keepends=True)
    head = next((number for number, line in enumerate(lines) if not line.startswith("# ")), len(lines))
    summary = dict(line[2:].rstrip("\n").split(" = ", 1) for line in lines[:head] if " = " in line)
    try:  # not comment="#": an object's name may hold one
        table = pd.read_csv(io.StringIO("".join(lines[head:])), parse_dates=["tca"])
    except (ValueError, pd.errors.ParserError) as error:
        raise ValueError(f"{path}: not a saved conjunction screen ({error})") from None
    if "collision_probability_method" not in table.columns and "short_encounter" in table.columns:
        table = _with_the_method_of_a_screen_saved_before_it(table)
    missing = [column for column in CONJUNCTION_COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(f"{path}: not a saved conjunction screen (no column {missing[0]!r})")
    numbers = {column: float for column in CONJUNCTION_COLUMNS if column.endswith(("_km", "_km_s", "_m"))}
    probabilities = {column: float for column in ("collision_probability", "collision_probability_low",
                                                  "collision_probability_high")}
    return table[CONJUNCTION_COLUMNS].astype({**numbers, **probabilities, "monte_carlo_samples": int}), summary


def _with_the_method_of_a_screen_saved_before_it(table: pd.DataFrame) -> pd.DataFrame:
    """A screen saved before the Monte Carlo Pc: every Pc was the 2-D one, not valid (``NONE``) for slow encounters."""
    short = table["short_encounter"].astype(str).str.lower() == "true"
    return table.assign(collision_probability_method=short.map({True: "FOSTER-1992", False: "NONE"}),
                        collision_probability_low=table["collision_probability"],
                        collision_probability_high=table["collision_probability"], monte_carlo_samples=0)
