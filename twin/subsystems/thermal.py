"""Temperatures of every satellite: a lumped two-node model, vectorised over satellites.

Node 1 is the compute payload (heat capacity ``C_p``), node 2 the radiator and bus (``C_b``),
joined by a conductance ``G``. The radiator, of total area ``A`` (both faces of a two-sided
panel), emissivity ``eps`` and solar absorptance ``alpha``, radiates to deep space (0 K) and
absorbs the environment ``Q_env``:

.. math::

    C_p \\dot T_p = Q_p - G (T_p - T_b), \\qquad
    C_b \\dot T_b = Q_b + Q_{env} + G (T_p - T_b) - \\varepsilon \\sigma A f T_b^4

``Q_p`` is the electrical power of the payload, ``Q_b`` that of bus, comms and heaters (all
dissipated), ``f`` the fraction of the radiator still working (``1 - severity`` of a
``radiator_stuck`` fault; it scales both radiating and absorbing area).

Two radiator orientations (``Bus.radiator_orientation``):

- ``along_track``: a vertical two-sided plate whose faces point along +/- the horizontal
  along-track direction, each of area ``A/2``; edge-on to the Sun when the Sun is along the
  orbit normal (beta = 90 deg); otherwise one face sees ``|s . v_hat| = cos(beta) |sin u|``,
  ``u`` the satellite's angle in the orbit plane from the Sun's projection on that plane.
- ``zenith``: a one-sided plate of area ``A`` facing away from the Earth.

The environment (:func:`environment_heat_w`) is direct sunlight, Earth albedo and Earth infrared
on a spherical Earth of WGS-84 equatorial radius, with the view factors of
:func:`earth_view_factor`. Albedo uses the usual sub-satellite-point approximation: the Earth
reflects ``0.30 S`` times the cosine of the solar zenith angle at the sub-satellite point over the
whole visible disk.

Time stepping (:func:`step_temperatures`) is backward Euler on the coupled pair; the payload
equation is linear, so eliminating ``T_p`` leaves one quartic ``k x^4 + beta x = gamma`` for the
new bus temperature, solved by Newton's method from a bracket (convex and increasing for
``x > 0``, so the iterates stay positive and converge monotonically after the first step).

>>> import numpy as np
>>> np.round(earth_view_factor(np.array([700e3, 700e3]), zenith=np.array([False, True])), 4)
array([0.2329, 0.    ])

Two satellites with the compute-s and experimental buses of phase 1 (``ThermalModel.from_buses(
twin.load_scenario("phase1").buses, names)`` builds the same from a scenario):

>>> model = ThermalModel(
...     payload_heat_capacity_j_per_k=np.array([8e4, 4e4]), bus_heat_capacity_j_per_k=np.array([4.5e5, 2e5]),
...     conductance_w_per_k=np.array([250.0, 100.0]), radiator_area_m2=np.array([10.0, 4.0]),
...     radiator_emissivity=np.full(2, 0.88), radiator_absorptance=np.full(2, 0.15),
...     radiator_zenith=np.array([False, False]))
>>> heat = dict(payload_heat_w=np.array([3000.0, 1200.0]), bus_heat_w=np.array([1100.0, 700.0]),
...             environment_w=np.zeros(2))
>>> payload_k, bus_k = equilibrium_temperatures(model, **heat)
>>> np.round(payload_k, 1), np.round(bus_k, 1)
(array([313.1, 324.4]), array([301.1, 312.4]))
>>> payload_k, bus_k = step_temperatures(model, payload_k, bus_k, **heat, dt_s=600.0)
>>> np.round(payload_k, 1), np.round(bus_k, 1)
(array([313.1, 324.4]), array([301.1, 312.4]))
"""

from __future__ import annotations

from dataclasses import dataclass

import numexpr as ne
import numpy as np

from twin.constants import ASTRONOMICAL_UNIT_M, EARTH_ALBEDO, EARTH_INFRARED_W_M2, SOLAR_CONSTANT_W_M2
from twin.constants import EARTH_EQUATORIAL_RADIUS_M as EARTH_RADIUS_M  # a spherical Earth of WGS-84 equatorial radius
from twin.constants import STEFAN_BOLTZMANN_W_M2_K4
from twin.scenario import Bus, bus_columns

# Newton iterations of the implicit step stop when every update is below this, K.
NEWTON_TOLERANCE_K = 1e-9
NEWTON_MAX_ITERATIONS = 50


@dataclass(frozen=True)
class ThermalModel:
    """Per-satellite parameters of the two-node model, arrays of shape (sat,).

    ``radiator_area_m2`` is the total radiating area (both faces of an ``along_track`` panel);
    ``radiator_zenith`` is True for a ``zenith`` radiator, False for ``along_track``.
    """

    payload_heat_capacity_j_per_k: np.ndarray
    bus_heat_capacity_j_per_k: np.ndarray
    conductance_w_per_k: np.ndarray
    radiator_area_m2: np.ndarray
    radiator_emissivity: np.ndarray
    radiator_absorptance: np.ndarray
    radiator_zenith: np.ndarray

    @classmethod
    def from_buses(cls, buses: dict[str, Bus], bus_of_satellite: np.ndarray) -> ThermalModel:
        """The model of each satellite from its bus name (``bus_of_satellite``, (sat,) of str).

        Raises ``ValueError`` naming the first satellite whose bus is not in ``buses`` or has an
        unknown ``radiator_orientation``.
        """
        names = np.asarray(bus_of_satellite, dtype=str)
        for name in np.unique(names):
            if name not in buses:
                index = int(np.argmax(names == name))
                raise ValueError(f"satellite {index}: bus {str(name)!r} is not defined "
                                 f"(known buses: {', '.join(sorted(buses))})")
            if buses[name].radiator_orientation not in ("along_track", "zenith"):
                index = int(np.argmax(names == name))
                raise ValueError(f"satellite {index}: bus {str(name)!r} has radiator_orientation "
                                 f"{buses[name].radiator_orientation!r}; expected 'along_track' or 'zenith'")
        column = bus_columns(buses, names)
        return cls(
            payload_heat_capacity_j_per_k=column("payload_heat_capacity_j_per_k"),
            bus_heat_capacity_j_per_k=column("bus_heat_capacity_j_per_k"),
            conductance_w_per_k=column("payload_conductance_w_per_k"),
            radiator_area_m2=column("radiator_area_m2"),
            radiator_emissivity=column("radiator_emissivity"),
            radiator_absorptance=column("radiator_absorptance"),
            radiator_zenith=column("radiator_orientation", str) == "zenith",
        )


def _fraction(model: ThermalModel, radiator_fraction) -> np.ndarray:
    if radiator_fraction is None:
        return np.ones(np.shape(model.radiator_area_m2))
    return np.asarray(radiator_fraction, dtype=float)


def earth_view_factor(altitude_m: np.ndarray, zenith: np.ndarray) -> np.ndarray:
    """View factor (sat,) from one face of the radiator to a spherical Earth.

    With ``H = r / R`` (``r = R + altitude``) and ``X = sqrt(H^2 - 1)``:

    - zenith-facing plate: ``F = 0``;
    - vertical plate (normal horizontal, ``along_track``), per face:
      ``F = (atan(1/X) - X / H^2) / pi``, the case of a differential plane element tilted 90 deg
      to the line to the centre of a sphere (as in Howell's catalogue of configuration factors;
      checked in ``tests/test_thermal.py`` against two independent numerical integrations);
    - (for reference) nadir-facing plate: ``F = 1 / H^2``, see :func:`nadir_view_factor`.

    ``altitude_m`` is above a sphere of WGS-84 equatorial radius.
    """
    h = (EARTH_RADIUS_M + np.asarray(altitude_m, dtype=float)) / EARTH_RADIUS_M
    x = np.sqrt(np.maximum(h * h - 1.0, 0.0))
    vertical = (np.arctan2(1.0, x) - x / (h * h)) / np.pi
    return np.where(np.asarray(zenith, dtype=bool), 0.0, vertical)


def vertical_view_factor(altitude_m: np.ndarray) -> np.ndarray:
    """View factor from one face of a vertical plate (normal horizontal) to a spherical Earth, see :func:`earth_view_factor`."""
    h = ne.evaluate("(R + altitude) / R", local_dict={"R": EARTH_RADIUS_M, "altitude": np.asarray(altitude_m, float)})
    return ne.evaluate("(arctan2(1.0, sqrt(h * h - 1)) - sqrt(h * h - 1) / (h * h)) / pi", local_dict={"h": h, "pi": np.pi})


def nadir_view_factor(altitude_m: np.ndarray) -> np.ndarray:
    """View factor from a nadir-facing plate to a spherical Earth: ``F = (R / r)^2``."""
    return (EARTH_RADIUS_M / (EARTH_RADIUS_M + np.asarray(altitude_m, dtype=float))) ** 2


def environment_heat_w(model: ThermalModel, position_m: np.ndarray, velocity_m_s: np.ndarray,
                       sun_position_m: np.ndarray, illumination: np.ndarray,
                       radiator_fraction: np.ndarray | None = None) -> np.ndarray:
    """Heat absorbed by each radiator (sat,), W: direct sunlight + Earth albedo + Earth infrared.

    Parameters
    ----------
    position_m, velocity_m_s : (sat, 3) or (sat, t, 3) geocentric inertial (GCRS), m and m/s.
    sun_position_m : (3,) or (t, 3) geocentric Sun position, same frame, m.
    illumination : (sat,) or (sat, t) fraction of the solar disk seen, 0..1.
    radiator_fraction : (sat,) or (sat, t) working fraction of the radiator area, default 1.

    With ``S = 1361 W/m^2 (1 au / d_sun)^2``, ``s`` the unit vector to the Sun, ``r_hat`` the
    zenith, ``v_hat`` the horizontal along-track direction and ``a = A f``:

    - direct: ``alpha S illum (a/2) |s . v_hat|`` (along_track) or ``alpha S illum a max(0, s . r_hat)``
      (zenith);
    - Earth IR: ``eps 240 W/m^2 F a`` (both faces of an along_track panel see the Earth);
    - albedo: ``alpha 0.30 S F a max(0, cos zeta)``, ``cos zeta = s . r_hat`` (sub-satellite point).
    """
    position_m = np.asarray(position_m, dtype=float)
    column = (slice(None),) + (None,) * (position_m.ndim - 2)  # parameters (sat,) against (sat, ...) inputs
    fraction = np.asarray(_fraction(model, radiator_fraction), dtype=float)
    if fraction.ndim < position_m.ndim - 1:
        fraction = fraction[column]
    direct, infrared, albedo = environment_factors(position_m, velocity_m_s, sun_position_m, model.radiator_zenith[column])
    return combine_environment(model.radiator_area_m2[column] * fraction, model.radiator_absorptance[column],
                               model.radiator_emissivity[column], illumination, direct, infrared, albedo)


def combine_environment(area_m2, absorptance, emissivity, illumination, direct_w_m2, infrared_w_m2, albedo_w_m2):
    """Heat absorbed (W) by a radiator of working ``area_m2`` from the per-area factors of :func:`environment_factors`."""
    return ne.evaluate("area_m2 * (absorptance * (direct_w_m2 * illumination + albedo_w_m2) + emissivity * infrared_w_m2)")


def environment_factors(position_m, velocity_m_s, sun_position_m, zenith):
    """Geometric heat factors per square metre of radiator, W/m^2: direct sunlight (to be multiplied by
    illumination and absorptance), Earth infrared (by emissivity) and albedo (by absorptance).

    Shapes as :func:`environment_heat_w`; ``zenith`` broadcasts against the satellite axis.
    """
    position_m = np.asarray(position_m, dtype=float)
    velocity_m_s = np.asarray(velocity_m_s, dtype=float)
    sun = np.asarray(sun_position_m, dtype=float)
    names = {
        "x": position_m[..., 0], "y": position_m[..., 1], "z": position_m[..., 2],
        "u": velocity_m_s[..., 0], "v": velocity_m_s[..., 1], "w": velocity_m_s[..., 2],
        "sx": sun[..., 0], "sy": sun[..., 1], "sz": sun[..., 2], "zenith": np.asarray(zenith),
        "S0": SOLAR_CONSTANT_W_M2, "AU": ASTRONOMICAL_UNIT_M,
        "R": EARTH_RADIUS_M, "IR": EARTH_INFRARED_W_M2, "albedo": EARTH_ALBEDO, "pi": np.pi,
    }
    evaluate = lambda expression: ne.evaluate(expression, local_dict=names)
    names["r"] = evaluate("sqrt(x * x + y * y + z * z)")
    names["D"] = evaluate("sqrt((sx - x) ** 2 + (sy - y) ** 2 + (sz - z) ** 2)")
    names["vr"] = evaluate("(u * x + v * y + w * z) / r")  # radial speed
    names["cos_zenith"] = evaluate("((sx - x) * x + (sy - y) * y + (sz - z) * z) / (D * r)")
    # Sun along the horizontal velocity: (to_sun . velocity - vr to_sun . r_hat) / (|to_sun| |horizontal velocity|).
    names["sun_along"] = evaluate("((sx - x) * u + (sy - y) * v + (sz - z) * w - vr * cos_zenith * D)"
                                  " / (D * sqrt(u * u + v * v + w * w - vr * vr))")
    names["H"] = evaluate("r / R")
    names["view"] = evaluate("where(zenith, 0.0, (arctan2(1.0, sqrt(H * H - 1)) - sqrt(H * H - 1) / (H * H)) / pi)")
    names["S"] = evaluate("S0 * (AU / D) ** 2")
    direct = evaluate("S * where(zenith, where(cos_zenith > 0, cos_zenith, 0), 0.5 * abs(sun_along))")
    infrared = evaluate("IR * view")
    albedo = evaluate("albedo * S * view * where(cos_zenith > 0, cos_zenith, 0)")
    return direct, infrared, albedo


def step_temperatures(model: ThermalModel, payload_k: np.ndarray, bus_k: np.ndarray, payload_heat_w,
                      bus_heat_w, environment_w, dt_s: float,
                      radiator_fraction: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Payload and bus temperatures (K, each (sat,)) after one backward-Euler step of ``dt_s`` seconds.

    Heats are in W (arrays (sat,) or scalars), held over the step. The implicit equations, with
    ``a = C_p/dt``, ``b = C_b/dt``, ``k = eps sigma A f`` and primes for the end of the step,

    .. math::

        a (T_p' - T_p) = Q_p - G (T_p' - T_b'), \\qquad
        b (T_b' - T_b) = Q_b + Q_{env} + G (T_p' - T_b') - k T_b'^4

    reduce (eliminating ``T_p' = (a T_p + Q_p + G T_b') / (a + G)``) to
    ``k x^4 + beta x = gamma`` with ``beta = b + a G / (a + G)`` and
    ``gamma = b T_b + Q_b + Q_env + G (a T_p + Q_p) / (a + G)``, solved for ``x = T_b'`` by Newton
    from within ``[m/2, m]``, ``m = min(gamma / beta, (gamma / k)^(1/4))`` (which brackets the
    root), until every update is below 1e-9 K. Energy is conserved to that tolerance:
    ``C_p dT_p + C_b dT_b = (Q_p + Q_b + Q_env - k T_b'^4) dt``. Unconditionally stable, and
    without overshoot past the equilibrium (the implicit operator is monotone).
    """
    fraction = _fraction(model, radiator_fraction)
    k = model.radiator_emissivity * STEFAN_BOLTZMANN_W_M2_K4 * model.radiator_area_m2 * fraction
    a = model.payload_heat_capacity_j_per_k / dt_s
    b = model.bus_heat_capacity_j_per_k / dt_s
    g = model.conductance_w_per_k
    payload_k = np.asarray(payload_k, dtype=float)
    bus_k = np.asarray(bus_k, dtype=float)
    payload_heat_w = np.asarray(payload_heat_w, dtype=float)
    share = g / (a + g)
    beta = b + a * share
    gamma = b * bus_k + bus_heat_w + environment_w + share * (a * payload_k + payload_heat_w)
    gamma = np.maximum(gamma, 0.0)
    radiative_bound = np.full(np.shape(gamma), np.inf)
    radiating = k > 0.0
    np.power(gamma / np.where(radiating, k, 1.0), 0.25, out=radiative_bound, where=radiating)
    upper = np.minimum(gamma / beta, radiative_bound)
    x = np.clip(bus_k, 0.5 * upper, upper)
    for _ in range(NEWTON_MAX_ITERATIONS):
        x2 = x * x
        update = (k * x2 * x2 + beta * x - gamma) / (4.0 * k * x2 * x + beta)
        x = x - update
        if np.max(np.abs(update), initial=0.0) <= NEWTON_TOLERANCE_K:
            break
    new_payload = (a * payload_k + payload_heat_w + g * x) / (a + g)
    return new_payload, x


def equilibrium_temperatures(model: ThermalModel, payload_heat_w, bus_heat_w, environment_w,
                             radiator_fraction: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Steady payload and bus temperatures (K, each (sat,)) for constant heats (W).

    .. math::

        T_b = \\left(\\frac{Q_p + Q_b + Q_{env}}{\\varepsilon \\sigma A f}\\right)^{1/4}, \\qquad
        T_p = T_b + Q_p / G

    A radiator with ``f = 0`` has no equilibrium: ``inf``.
    """
    fraction = _fraction(model, radiator_fraction)
    k = model.radiator_emissivity * STEFAN_BOLTZMANN_W_M2_K4 * model.radiator_area_m2 * fraction
    payload_heat_w = np.asarray(payload_heat_w, dtype=float)
    total_w = np.maximum(payload_heat_w + bus_heat_w + environment_w, 0.0)
    radiating = k > 0.0
    bus_k = np.full(np.broadcast_shapes(np.shape(total_w), np.shape(k)), np.inf)
    np.power(total_w / np.where(radiating, k, 1.0), 0.25, out=bus_k, where=radiating)
    return bus_k + payload_heat_w / model.conductance_w_per_k, bus_k
