"""Variables made from the catalogue: arrays allocated with its dims and dtypes, values written with its attributes.

:func:`as_variable` is how every stage writes a variable or coordinate into a run; :class:`Layout`
is what a run allocates (in memory, or lazily in chunks for a store) and how many bytes that takes.

>>> layout = Layout(("generated_power", "temperature"), {"sat": 25, "time": 361, "node": 2})
>>> layout.shape("temperature"), layout.nbytes
((25, 361, 2), 108300)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from twin.dataset.catalogue import CONVENTIONS, FIXED_DIMS, entry


def as_variable(name: str, values) -> xr.Variable:
    """``values`` as the catalogue's variable ``name``: its dims, its dtype (cast if need be) and a copy of its
    attributes."""
    variable = entry(name)
    values = values if variable.matches_dtype(getattr(values, "dtype", object)) else \
        np.asarray(values).astype(variable.dtype if variable.dtype.kind != "U" else str)
    return xr.Variable(variable.dims, values, dict(variable.attrs))


def fixed_coords(*dims: str) -> dict[str, xr.Variable]:
    """The coordinates of dims every run labels alike (``xyz``, ``node``)."""
    return {dim: as_variable(dim, np.array(FIXED_DIMS[dim])) for dim in dims}


def fleet_coords(fleet, times: np.ndarray) -> dict[str, xr.Variable]:
    """Coordinates of a run of ``fleet`` at ``times`` (datetime64): satellites with their labels, time, xyz."""
    labels = {"sat": fleet.names, "time": times, "subcenter": fleet.subcenter, "plane": fleet.plane,
              "owner": fleet.owner, "group": fleet.group, "bus": fleet.bus, "role": fleet.role,
              "represents": fleet.represents}
    return {**{name: as_variable(name, values) for name, values in labels.items()}, **fixed_coords("xyz")}


def new_dataset(data_vars: dict, coords: dict, attrs: dict) -> xr.Dataset:
    """A twin dataset of catalogued ``data_vars`` (name: values) and ``coords`` (name: values or variables),
    with ``attrs`` after the CF ``Conventions``."""
    return xr.Dataset({name: as_variable(name, values) for name, values in data_vars.items()},
                      coords={name: value if isinstance(value, xr.Variable) else as_variable(name, value)
                              for name, value in coords.items()},
                      attrs={"Conventions": CONVENTIONS, **attrs})


@dataclass(frozen=True)
class Layout:
    """Catalogued variables ``names`` with the ``sizes`` of their dims: a run's arrays before they are made."""

    names: tuple[str, ...]
    sizes: dict[str, int]

    @classmethod
    def of_grid(cls, names, satellites: int, steps: int, **sizes: int) -> Layout:
        """The layout of ``names`` over ``satellites`` x ``steps``, the dims every run labels alike, and ``sizes``."""
        fixed = {dim: len(labels) for dim, labels in FIXED_DIMS.items()}
        return cls(tuple(names), {"sat": satellites, "time": steps, **fixed, **sizes})

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.sizes[dim] for dim in entry(name).dims)

    @property
    def nbytes(self) -> int:
        """Bytes of every array of the layout."""
        return sum(int(np.prod(self.shape(name))) * entry(name).dtype.itemsize for name in self.names)

    def empty(self, names=None) -> dict[str, np.ndarray]:
        """Uninitialised arrays of ``names`` (default all), in memory."""
        names = self.names if names is None else names
        return {name: np.empty(self.shape(name), entry(name).dtype) for name in names}

    def lazy(self, chunks: dict[str, int]) -> dict[str, object]:
        """Dask arrays of zeros of every variable in chunks of at most ``chunks[dim]`` along each dim
        (whole along a dim it does not name): nothing is allocated, a store's metadata is written from them."""
        import dask.array

        lazy = {}
        for name in self.names:
            shape = self.shape(name)
            blocks = tuple(min(chunks.get(dim, size), size) for dim, size in zip(entry(name).dims, shape))
            lazy[name] = dask.array.zeros(shape, dtype=entry(name).dtype, chunks=blocks)
        return lazy
