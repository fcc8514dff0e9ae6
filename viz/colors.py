"""What the satellites are coloured by: any (sat, time) variable of the twin dataset, or a per-satellite label.

``color_by`` names a variable (``generated_power``, ``battery_soc``, ``illumination``...), a variable
with a node (``temperature`` is the payload node; ``temperature:bus`` the other), or a
per-satellite coordinate (``owner``, ``subcenter``, ``role``, ``bus``, ``group``, ``plane``),
drawn with one colour per category. Variables that span orders of magnitude (:data:`LOG_SCALE`: the
trapped-particle fluxes, the dose rate and the upset rates) are drawn on a logarithmic scale, its
colour bar titled so; a value at or below the scale's low end (zero flux outside the belts) takes its
lowest colour.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

CATEGORICAL = ("owner", "subcenter", "role", "bus", "group", "plane")
SCALAR_COLORMAP = "viridis"
CATEGORY_COLORMAP = "tab10"  # up to 10 categories; beyond, Glasbey's 256 distinct colours for a dark background
LOG_SCALE = ("proton_flux", "electron_flux", "dose_rate", "seu_rate", "seu_corrected_rate", "seu_detected_rate",
             "seu_silent_rate")
LOG_DECADES = 6  # a logarithmic scale's default span: from the smallest positive value, at most this many decades


class ColorError(ValueError):
    """``color_by`` names nothing the satellites can be coloured by."""


@dataclass
class Coloring:
    """How to colour the satellites: the values at a step, their range, the colour bar's title."""

    name: str
    title: str
    clim: tuple[float, float]
    cmap: str | list[str]  # a colour map's name, or one colour per category
    categories: tuple[str, ...] = ()
    _values: object = field(default=None, repr=False)  # (sat, time) array-like, or (sat,) for categories
    log: bool = False  # a logarithmic scale: values at or below clim[0] (zero) take the lowest colour

    @property
    def categorical(self) -> bool:
        return bool(self.categories)

    def at(self, index: int) -> np.ndarray:
        """Values (sat,) as float32 at time ``index`` (categories: their codes)."""
        values = np.asarray(self._values if self.categorical else self._values[:, index], dtype=np.float32)
        return np.maximum(values, np.float32(self.clim[0])) if self.log else values  # NaN stays NaN


def category_palette(count: int) -> list[str]:
    """``count`` hex colours, no two alike up to 256: matplotlib's tab10 up to 10, then colorcet's Glasbey colours
    made for a dark background (phase 3 has 144 sub-centers and 24 members; tab20 repeated hues, hsv neighbours)."""
    if count <= 10:
        from matplotlib import colormaps

        return ["#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in colormaps[CATEGORY_COLORMAP](i)[:3]))
                for i in range(count)]
    from colorcet import glasbey_light

    return [glasbey_light[i % len(glasbey_light)] for i in range(count)]


def colorable(run: xr.Dataset) -> list[str]:
    """Names ``color_by`` accepts for ``run``."""
    names = [name for name, variable in run.data_vars.items() if _per_satellite_step(variable)]
    names += [f"{name}:{node}" for name in names if run[name].ndim == 3 for node in run[run[name].dims[2]].values]
    return names + [name for name in CATEGORICAL if name in run.coords]


def _per_satellite_step(variable: xr.DataArray) -> bool:
    """A (sat, time) variable, or (sat, time, node) with a node that is not a vector axis."""
    if variable.dims[:2] != ("sat", "time"):
        return False
    return variable.ndim == 2 or (variable.ndim == 3 and variable.dims[2] != "xyz")


def _title(name: str, variable: xr.DataArray) -> str:
    units = variable.attrs.get("units", "")
    return f"{name} [{units}]" if units not in ("", "1") else name


def coloring(run: xr.Dataset, color_by: str, clim: tuple[float, float] | None = None,
             cmap: str | None = None) -> Coloring:
    """The :class:`Coloring` of ``run`` by ``color_by``; :class:`ColorError` names what would do instead."""
    name, _, node = color_by.partition(":")
    if name in CATEGORICAL and name in run.coords:
        labels = run[name].values.astype(str)
        categories, codes = np.unique(labels, return_inverse=True)
        return Coloring(name, name, (-0.5, categories.size - 0.5), cmap or category_palette(categories.size),
                        tuple(categories), codes)
    if name not in run.data_vars or not _per_satellite_step(run[name]):
        raise ColorError(f"--color-by: {color_by!r} is not a satellite variable of this run; "
                         f"choose one of {', '.join(colorable(run))}")
    variable = run[name]
    if variable.ndim == 3:
        node_dim = variable.dims[2]
        nodes = [str(value) for value in run[node_dim].values]
        node = node or nodes[0]
        if node not in nodes:
            raise ColorError(f"--color-by: {name!r} has no {node_dim} {node!r}; choose one of {', '.join(nodes)}")
        variable = variable.sel({node_dim: node})
        name = f"{name}:{node}"
    log = name in LOG_SCALE
    if clim is None:
        # One range for the whole run, so a colour means the same at every step of an animation.
        clim = _log_range(variable) if log else _linear_range(variable)
    elif log and not clim[0] > 0:
        raise ColorError(f"--clim: {clim[0]:g} is not above 0; {name} is drawn on a logarithmic scale")
    title = _title(name.replace(":", " "), run[color_by.partition(":")[0]]) + (", log scale" if log else "")
    return Coloring(name, title, (float(clim[0]), float(clim[1])), cmap or SCALAR_COLORMAP, (), variable.data, log)


def _linear_range(variable: xr.DataArray) -> tuple[float, float]:
    low, high = float(variable.min(skipna=True)), float(variable.max(skipna=True))
    if not np.isfinite(low):
        low, high = 0.0, 1.0
    return low, high if high > low else low + 1.0


def _log_range(variable: xr.DataArray) -> tuple[float, float]:
    """From the smallest positive value (at most :data:`LOG_DECADES` below the largest) to the largest; a decade
    for a variable that is never positive."""
    high = float(variable.max(skipna=True))
    if not high > 0:
        return 0.1, 1.0
    low = max(float(variable.where(variable > 0).min(skipna=True)), high * 10.0 ** -LOG_DECADES)
    return (low, high) if high > low else (high / 10.0, high)
