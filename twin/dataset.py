"""The twin dataset: variables, CF attributes, and storage to Zarr or NetCDF.

Public variable names (API): ``position``, ``velocity`` (dims ``sat, time, xyz``; GCRS),
``latitude``, ``longitude``, ``altitude`` (WGS-84 geodetic), ``illumination``, ``beta_angle``.
Values are SI (m, m/s) except angles in degrees, as CF expects.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

CONVENTIONS = "CF-1.11"

VARIABLE_ATTRS = {
    "position": {"long_name": "satellite position", "units": "m", "reference_frame": "GCRS",
                 "comment": "geocentric, inertial (GCRS axes); SGP4 TEME rotated by astropy"},
    "velocity": {"long_name": "satellite velocity", "units": "m s-1", "reference_frame": "GCRS"},
    "latitude": {"standard_name": "latitude", "long_name": "geodetic latitude (WGS-84)", "units": "degrees_north"},
    "longitude": {"standard_name": "longitude", "long_name": "geodetic longitude (WGS-84)", "units": "degrees_east"},
    "altitude": {"standard_name": "height_above_reference_ellipsoid", "long_name": "height above the WGS-84 ellipsoid",
                 "units": "m"},
    "illumination": {"long_name": "fraction of the solar disk visible (1 full sun, 0 umbra)", "units": "1",
                     "comment": "conical umbra and penumbra of the WGS-84 ellipsoid, no atmosphere"},
    "beta_angle": {"long_name": "angle between the orbit plane and the Sun direction", "units": "degree"},
    "sun_position": {"long_name": "geocentric Sun position", "units": "m", "reference_frame": "GCRS"},
}
COORD_ATTRS = {
    "time": {"standard_name": "time", "long_name": "time (UTC)", "axis": "T"},
    "sat": {"long_name": "satellite identifier", "cf_role": "trajectory_id"},
    "xyz": {"long_name": "Cartesian axis"},
    "subcenter": {"long_name": "sub-center (cluster of satellites)"},
    "plane": {"long_name": "orbital plane index (-1: not designed)"},
    "owner": {"long_name": "consortium member that owns the satellite"},
    "group": {"long_name": "sub-center group of the scenario"},
    "bus": {"long_name": "satellite bus type"},
    "role": {"long_name": "chief (reference orbit) or formation member"},
    "represents": {"long_name": "number of identical satellites this row stands for (1, or a sub-center)"},
}


# float32 where its resolution is far below the model's accuracy: 0.5 mm/s of speed, 6 cm of
# altitude, 1e-7 of illumination; position, latitude and longitude keep float64 (centimetres).
ORBIT_LAYOUT = {
    "position": (("sat", "time", "xyz"), np.float64), "velocity": (("sat", "time", "xyz"), np.float32),
    "latitude": (("sat", "time"), np.float64), "longitude": (("sat", "time"), np.float64),
    "altitude": (("sat", "time"), np.float32), "illumination": (("sat", "time"), np.float32),
    "beta_angle": (("sat", "time"), np.float32), "sun_position": (("time", "xyz"), np.float64),
}


def fleet_coords(fleet, times: np.ndarray) -> dict:
    """Coordinates of a run of ``fleet`` at ``times`` (datetime64): satellites with their labels, time, xyz."""
    return {
        "sat": ("sat", fleet.names), "time": ("time", times), "xyz": ("xyz", np.array(["x", "y", "z"])),
        "subcenter": ("sat", fleet.subcenter), "plane": ("sat", fleet.plane.astype(np.int32)),
        "owner": ("sat", fleet.owner), "group": ("sat", fleet.group), "bus": ("sat", fleet.bus), "role": ("sat", fleet.role),
        "represents": ("sat", fleet.represents.astype(np.int32)),
    }


def with_attrs(dataset: xr.Dataset) -> xr.Dataset:
    """``dataset`` with the CF attributes of the orbit variables and coordinates it holds."""
    for name, variable_attrs in {**VARIABLE_ATTRS, **COORD_ATTRS}.items():
        if name in dataset.variables:
            dataset[name].attrs.update(variable_attrs)
    return dataset


def orbit_arrays(satellites: int, steps: int, names=tuple(ORBIT_LAYOUT)) -> dict[str, np.ndarray]:
    """Uninitialised arrays of the orbit variables ``names`` for ``satellites`` x ``steps``, as :data:`ORBIT_LAYOUT` lays them out."""
    sizes = {"sat": satellites, "time": steps, "xyz": 3}
    return {name: np.empty(tuple(sizes[dim] for dim in ORBIT_LAYOUT[name][0]), ORBIT_LAYOUT[name][1]) for name in names}


def empty_dataset(fleet, times: np.ndarray, attrs: dict) -> xr.Dataset:
    """A dataset with every orbit variable allocated (uninitialised) for ``fleet`` at ``times`` (datetime64)."""
    data_vars = {name: (ORBIT_LAYOUT[name][0], values) for name, values in orbit_arrays(len(fleet), len(times)).items()}
    return with_attrs(xr.Dataset(data_vars, coords=fleet_coords(fleet, times),
                                 attrs={"Conventions": CONVENTIONS, **attrs}))


def _encoding(dataset: xr.Dataset, time_chunk: int) -> dict:
    """Chunks of at most 512 satellites by ``time_chunk`` steps: one satellite's span or one step of the fleet reads little."""
    limits = {"sat": 512, "time": time_chunk}
    return {
        name: {"chunks": tuple(min(limits.get(dim, size), size) for dim, size in variable.sizes.items())}
        for name, variable in dataset.data_vars.items()
    }


def save(dataset: xr.Dataset, path: str | Path) -> Path:
    """Write ``dataset`` to ``path``: Zarr (format 2) for ``.zarr``, NetCDF-4 for ``.nc``.

    Zarr format 2 is used because fixed-width string coordinates (satellite names, owners) have no
    stable Zarr 3 data type yet; every Zarr reader understands format 2.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".nc":
        dataset.to_netcdf(path, engine="netcdf4")
    elif path.suffix == ".zarr":
        dataset.to_zarr(path, mode="w", zarr_format=2, consolidated=True, encoding=_encoding(dataset, 1440))
    else:
        raise ValueError(f"out: {str(path)!r} must end in .zarr or .nc")
    return path


def open_run(path: str | Path) -> xr.Dataset:
    """Open a stored twin run (Zarr directory or NetCDF file), lazily."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"run: {str(path)!r} does not exist")
    if path.suffix == ".nc":
        return xr.open_dataset(path, engine="netcdf4")
    if path.is_dir():
        try:
            return xr.open_zarr(path, consolidated=True)
        except Exception as error:  # zarr raises several types for a directory that is not a store
            raise ValueError(f"run: {str(path)!r} is not a Zarr store written by the twin ({error})") from None
    raise ValueError(f"run: {str(path)!r} must be a .zarr directory or a .nc file")
