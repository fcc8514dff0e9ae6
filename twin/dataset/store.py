"""A twin run stored and opened again: Zarr or NetCDF, written beside its path and renamed in when complete,
a lost or damaged chunk named when it is read."""

from __future__ import annotations

import errno
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import xarray as xr

from twin.safe_output import OutputError, OutputKind, check_target, written_into_place

# A twin run is a Zarr store or NetCDF file whose global attributes carry RUN_FORMAT_ATTR (1: written whole
# by twin.save or a Dask run, then renamed into place; in Zarr, every chunk stored). Runs written before it
# are recognised by their title. The attribute is storage metadata: open_run takes it off the dataset.
RUN_FORMAT_ATTR, RUN_FORMAT = "twin_run_format", 1
RUN_TITLE = "Orbital data center twin"
RUN_SUFFIXES = (".zarr", ".nc")


def _encoding(dataset: xr.Dataset, time_chunk: int) -> dict:
    """Chunks of at most 512 satellites by ``time_chunk`` steps: one satellite's span or one step of the fleet reads little."""
    limits = {"sat": 512, "time": time_chunk}
    return {
        name: {"chunks": tuple(min(limits.get(dim, size), size) for dim, size in variable.sizes.items())}
        for name, variable in dataset.data_vars.items()
    }


def stored_attrs(path: str | Path) -> dict | None:
    """The global attributes of the Zarr store (``.zarr``) or NetCDF file (``.nc``) at ``path``; None if it is not one."""
    path = Path(path)
    try:
        if path.suffix == ".zarr" and path.is_dir():
            attrs = json.loads((path / ".zattrs").read_text(encoding="utf-8"))
            return attrs if isinstance(attrs, dict) else None
        if path.suffix == ".nc" and path.is_file():
            import netCDF4

            with netCDF4.Dataset(path, "r") as dataset:
                return {name: dataset.getncattr(name) for name in dataset.ncattrs()}
    except (OSError, RuntimeError, ValueError):  # unreadable, not JSON, not NetCDF
        return None
    return None


def is_run_attrs(attrs: dict) -> bool:
    """True if global attributes ``attrs`` are a twin run's (see :data:`RUN_FORMAT_ATTR`)."""
    return RUN_FORMAT_ATTR in attrs or str(attrs.get("title", "")).startswith(RUN_TITLE)


def is_twin_run(path: str | Path) -> bool:
    """True if ``path`` holds a twin run (a ``.zarr`` directory or ``.nc`` file with a run's attributes)."""
    attrs = stored_attrs(path)
    return attrs is not None and is_run_attrs(attrs)


RUN = OutputKind("a twin run", is_twin_run)


def _check_suffix(path: Path) -> None:
    if path.suffix not in RUN_SUFFIXES:
        raise OutputError(f"out: {str(path)!r} must end in .zarr or .nc")


def check_run_target(path: str | Path, overwrite: bool = False) -> None:
    """Raise :class:`twin.safe_output.OutputError` now if :func:`save` would refuse ``path`` (before a long run)."""
    _check_suffix(Path(path))
    check_target(path, RUN, overwrite)


def save(dataset: xr.Dataset, path: str | Path, overwrite: bool = False) -> Path:
    """Write ``dataset`` to ``path``: Zarr (format 2) for ``.zarr``, NetCDF-4 for ``.nc``.

    Zarr format 2 is used because fixed-width string coordinates (satellite names, owners) have no
    stable Zarr 3 data type yet; every Zarr reader understands format 2. Every chunk is stored, even
    one holding only the fill value, so :func:`open_run` can tell a deleted chunk.

    An existing run at ``path`` is replaced only if ``overwrite``; anything else there is never
    touched. The run is written beside ``path`` and renamed into place when complete
    (:mod:`twin.safe_output`), so a failed write leaves what was there before.
    """
    path = Path(path)
    _check_suffix(path)
    stamped = dataset.copy(deep=False)
    stamped.attrs = {**dataset.attrs, RUN_FORMAT_ATTR: RUN_FORMAT}
    with written_into_place(path, RUN, overwrite) as partial:
        if path.suffix == ".nc":
            try:
                stamped.to_netcdf(partial, engine="netcdf4")
            except RuntimeError as error:  # netCDF-C's own errors ("NetCDF: HDF error") on a failed write
                raise OSError(errno.EIO, f"NetCDF: {error}") from None
        else:
            stamped.to_zarr(partial, mode="w-", zarr_format=2, consolidated=True, encoding=_encoding(dataset, 1440),
                            write_empty_chunks=True)
    return path


class RunDamagedError(ValueError):
    """A stored run whose data cannot be read: a chunk deleted or damaged (names the variable)."""


def _missing_chunks(path: Path) -> str | None:
    """The first variable of the Zarr run at ``path`` with chunks missing, as a message; None if none is."""
    import zarr

    for name, array in zarr.open_group(str(path), mode="r", zarr_format=2).arrays():
        stored = array.nchunks_initialized
        if stored < array.nchunks:
            return f"variable {name!r} has {array.nchunks - stored} of its {array.nchunks} chunks missing"
    return None


def open_run(path: str | Path) -> xr.Dataset:
    """Open a stored twin run (Zarr directory or NetCDF file), lazily.

    Raises ``FileNotFoundError`` if nothing is at ``path``, ``ValueError`` if it is not a twin run,
    :class:`RunDamagedError` if a Zarr run written whole (:func:`save`) has lost a chunk.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"run: {str(path)!r} does not exist")
    if path.suffix == ".nc" and path.is_file():
        try:
            run = xr.open_dataset(path, engine="netcdf4")
        except (OSError, ValueError) as error:
            raise ValueError(f"run: {str(path)!r} is not a NetCDF file the twin can read ({error})") from None
    elif path.is_dir():
        try:
            run = xr.open_zarr(path, consolidated=True)
        except Exception as error:  # zarr raises several types for a directory that is not a store
            raise ValueError(f"run: {str(path)!r} is not a Zarr store written by the twin ({error})") from None
    else:
        raise ValueError(f"run: {str(path)!r} must be a .zarr directory or a .nc file")
    if not is_run_attrs(run.attrs):
        run.close()
        raise ValueError(f"run: {str(path)!r} is not a twin run (its attributes have neither {RUN_FORMAT_ATTR} "
                         f"nor a title beginning {RUN_TITLE!r})")
    if path.is_dir() and RUN_FORMAT_ATTR in run.attrs:
        missing = _missing_chunks(path)
        if missing:
            raise RunDamagedError(f"run: {str(path)!r} is damaged: {missing} (deleted?)")
    run.attrs.pop(RUN_FORMAT_ATTR, None)
    return run


def unreadable_part(run: xr.Dataset) -> str | None:
    """The first variable (and chunk) of ``run`` whose stored data cannot be read, with the cause; None if all can.

    Reads one chunk at a time, so it needs no more memory than the largest chunk.
    """
    import dask.array

    for name, variable in run.variables.items():
        data = variable.data
        if isinstance(data, dask.array.Array):
            for index in np.ndindex(*data.numblocks):
                try:
                    data.blocks[index].compute()
                except Exception as error:  # whatever the decoder raised: blosc, zarr, netCDF
                    return f"variable {name!r}, chunk {'.'.join(map(str, index))}: {error}"
        else:
            try:
                variable.values
            except Exception as error:
                return f"variable {name!r}: {error}"
    return None


@contextmanager
def damage_named(run: xr.Dataset, path: str | Path) -> Iterator[None]:
    """Turn a failure to read ``run`` (stored at ``path``) inside the block into a :class:`RunDamagedError`
    naming the variable and chunk; other errors (an output that cannot be written too) pass unchanged."""
    try:
        yield
    except (RuntimeError, OSError, ValueError) as error:
        if isinstance(error, (RunDamagedError, OutputError)):
            raise
        where = unreadable_part(run)
        if where is None:
            raise
        raise RunDamagedError(f"run: {str(path)!r} is damaged: {where}") from None
