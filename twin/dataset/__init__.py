"""The twin dataset: what a run holds and how it is stored.

* :mod:`twin.dataset.catalogue`: every public variable and coordinate, its dims, dtype and CF attributes;
* :mod:`twin.dataset.layout`: variables and arrays made from the catalogue (what each stage writes and allocates);
* :mod:`twin.dataset.store`: a run saved to Zarr or NetCDF and opened again (:func:`save`, :func:`open_run`).
"""

from twin.dataset.catalogue import CATALOGUE, CONVENTIONS, Variable
from twin.dataset.store import (RUN, RUN_FORMAT, RUN_FORMAT_ATTR, RUN_SUFFIXES, RUN_TITLE, RunDamagedError,
                                check_run_target, damage_named, is_run_attrs, is_twin_run, open_run, save,
                                stored_attrs, unreadable_part)

__all__ = ["CATALOGUE", "CONVENTIONS", "RUN", "RUN_FORMAT", "RUN_FORMAT_ATTR", "RUN_SUFFIXES", "RUN_TITLE",
           "RunDamagedError", "Variable", "check_run_target", "damage_named", "is_run_attrs", "is_twin_run", "open_run",
           "save", "stored_attrs", "unreadable_part"]
