"""Mean orbital elements of every satellite of a fleet, as flight dynamics uses them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.time import Time

from twin.constants import EARTH_EQUATORIAL_RADIUS_KM
from twin.orbit.design import mean_sun_right_ascension_rad
from twin.orbit.fleet import Fleet, member_elements


@dataclass(frozen=True)
class MeanElements:
    """Per-satellite (sat,) mean elements at ``epoch``: semi-major axis (km, SGP4's Brouwer mean),
    eccentricity, inclination and node (rad), local time of the ascending node (h), and each satellite's
    chief row and relative inclination vector components ``dix``, ``diy`` and relative semi-major axis ``da``
    (dimensionless, D'Amico 2010; zero for a chief)."""

    epoch: Time
    semi_major_axis_km: np.ndarray
    eccentricity: np.ndarray
    inclination_rad: np.ndarray
    raan_rad: np.ndarray
    ltan_hours: np.ndarray
    chief_row: np.ndarray
    da: np.ndarray
    dix: np.ndarray
    diy: np.ndarray

    @property
    def altitude_km(self) -> np.ndarray:
        return self.semi_major_axis_km - EARTH_EQUATORIAL_RADIUS_KM


def mean_elements_of_fleet(fleet: Fleet) -> MeanElements:
    """:class:`MeanElements` of every satellite of ``fleet`` at its epoch (the first chief's), in fleet order.

    One vectorised evaluation per chief (its members' elements, :func:`twin.orbit.fleet.member_elements`).
    """
    rows, row = [], 0
    chief_rows, da, dix, diy = [], [], [], []
    for block in fleet.blocks:
        members = block.relative.count
        for chief in block.chiefs:
            elements = member_elements(chief, block.relative)
            radius_km = chief.a * chief.radiusearthkm
            # Kepler's third law from the chief: a ~ n^(-2/3) (Kozai mean motions differ by at most 1e-4).
            elements = np.column_stack([elements, radius_km * (chief.no_kozai / elements[:, 1]) ** (2.0 / 3.0)])
            rows.append(elements)
            chief_rows.append(np.full(members, row))
            da.append(block.relative.da)
            dix.append(block.relative.dix)
            diy.append(block.relative.diy)
            row += members
    table = np.concatenate(rows)
    epoch = Time(table[0, 0], format="jd", scale="utc")
    raan = np.mod(table[:, 4], 2 * np.pi)
    ltan = np.mod(12.0 + (raan - mean_sun_right_ascension_rad(epoch)) * 12.0 / np.pi, 24.0)
    return MeanElements(epoch, table[:, 7], table[:, 2], table[:, 3], raan, ltan, np.concatenate(chief_rows),
                        np.concatenate(da), np.concatenate(dix), np.concatenate(diy))
