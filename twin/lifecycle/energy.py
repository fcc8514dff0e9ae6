"""One orbit's energy balance of a satellite at a step of the build-up, from its sunlit fraction and the age of its
array and battery: the orbit average of what the engine (:mod:`twin.subsystems.engine`) steps second by second.

Over an orbit the array gives ``P`` for the sunlit fraction ``1 - f`` of the period; the loads ``L`` draw all orbit
long, through the battery in the eclipse, which returns ``eta`` (round trip) of what it took. The orbit balances
(the battery ends each orbit as it began) when ``P (1 - f) >= L ((1 - f) + f / eta)``, and every orbit

    generated = used + battery losses + curtailed,  with  battery losses = L f (1 / eta - 1)

(``tests/test_lifecycle.py`` checks it every step). Compute runs at the workload's ``offered`` fraction of the
payload, less if the balance, or the eclipse's draw on the battery above the compute reserve
(``compute.battery_reserve_soc`` of the aged capacity), cannot carry it; when not even the bus and communications fit,
the satellite uses what the array gives and delivers no compute. Heaters are left out: a working payload keeps the
bus warm.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twin.constants import EARTH_EQUATORIAL_RADIUS_M
from twin.orbit.design import circular_orbit_period_s


def eclipse_fraction(beta_angle_deg: np.ndarray, altitude_m: np.ndarray) -> np.ndarray:
    """Fraction of a circular orbit in the Earth's (cylindrical) shadow at the beta angle (deg) and altitude (m):
    ``arccos(sqrt(h^2 + 2 R h) / ((R + h) cos beta)) / pi`` below ``beta* = arcsin(R / (R + h))``, else 0.

    >>> float(np.round(eclipse_fraction(np.array(0.0), np.array(750e3)), 4)), float(eclipse_fraction(np.array(70.0), np.array(750e3)))
    (0.3527, 0.0)
    """
    radius_m = EARTH_EQUATORIAL_RADIUS_M + altitude_m
    cosine = np.sqrt(altitude_m ** 2 + 2 * EARTH_EQUATORIAL_RADIUS_M * altitude_m) / (
        radius_m * np.cos(np.radians(beta_angle_deg)))
    return np.where(cosine < 1.0, np.arccos(np.minimum(cosine, 1.0)) / np.pi, 0.0)


def orbit_period_s(altitude_m: np.ndarray) -> np.ndarray:
    """Period (s) of a circular orbit at ``altitude_m`` above the equatorial radius."""
    return circular_orbit_period_s(np.asarray(altitude_m) / 1e3)


@dataclass(frozen=True)
class Balance:
    """Orbit-average powers of one satellite (W): ``generated``, ``used``, ``battery_loss``, ``curtailed``, and the
    fraction of its payload computing (``compute``)."""

    generated: np.ndarray
    used: np.ndarray
    battery_loss: np.ndarray
    curtailed: np.ndarray
    compute: np.ndarray


def orbit_balance(array_w: np.ndarray, eclipse: np.ndarray, period_s: np.ndarray, battery_j: np.ndarray,
                  round_trip: np.ndarray, base_w: np.ndarray, compute_w: np.ndarray, idle_fraction: float,
                  reserve_soc: float, offered: float) -> Balance:
    """The balance of satellites whose array gives ``array_w`` in sunlight, in shadow ``eclipse`` of an orbit of
    ``period_s``, with ``battery_j`` of (aged) capacity of ``round_trip`` efficiency, ``base_w`` of bus and
    communications and a payload of ``compute_w`` at full load (``idle_fraction`` of it idle), asked to run at
    ``offered`` (arrays of one shape)."""
    sunlit = 1.0 - eclipse
    through = sunlit + eclipse / round_trip  # energy the array gives per unit of load carried over the orbit
    most_w = array_w * sunlit / through      # the largest load the orbit can carry
    idle_w = idle_fraction * compute_w
    span_w = np.maximum((1.0 - idle_fraction) * compute_w, 1e-12)
    by_energy = (most_w - base_w - idle_w) / span_w
    eclipse_s = eclipse * period_s
    by_battery = np.where(eclipse_s > 0, ((1.0 - reserve_soc) * battery_j / np.maximum(eclipse_s, 1e-12)
                                          - base_w - idle_w) / span_w, np.inf)
    compute = np.clip(np.minimum(np.minimum(by_energy, by_battery), offered), 0.0, offered)
    used = np.minimum(base_w + idle_w + span_w * compute, most_w)
    generated = array_w * sunlit
    battery_loss = used * eclipse * (1.0 / round_trip - 1.0)
    return Balance(generated, used, battery_loss, generated - used - battery_loss, np.where(by_energy < 0, 0.0, compute))
