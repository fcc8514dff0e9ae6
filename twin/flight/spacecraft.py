"""What flight dynamics needs of each satellite: mass, areas in their attitude, drag and reflectivity
coefficients, propulsion and propellant, as arrays over satellites.

Attitude (the twin's buses, :mod:`twin.subsystems.power` and :mod:`twin.subsystems.thermal`):

- a ``sun_tracking`` array faces the Sun. On a dawn-dusk orbit the Sun is near the orbit normal (beta
  angle 60-90 deg), so the array flies nearly **edge-on** to the velocity: its area across the flow is
  ``A |s . v|`` = ``A cos(beta) |sin(u - u_sun)|``, ``2/pi cos(beta) A`` on average over an orbit, a
  quarter of ``A`` or less; it is **face-on** to the Sun (``A`` for radiation pressure).
- an ``orbit_normal`` array faces along the orbit normal: edge-on to the flow (0), ``A sin(beta)`` to the Sun.
- an ``along_track`` radiator is a two-sided plate whose faces point along +/- the velocity: **face-on**
  to the flow with one face, ``A_rad / 2``; edge-on to the Sun at beta = 90 deg, ``A_rad/2 |s . v|`` otherwise.
- a ``zenith`` radiator faces away from the Earth: edge-on to the flow, ``A_rad max(0, s . r)`` to the Sun.
- the body adds ``body_area_m2`` in every direction (a cube-like bus). Panel thickness is neglected.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

from twin.scenario import bus_columns

STANDARD_GRAVITY_M_S2 = 9.80665  # exact (CGPM 1901)


class ManoeuvreError(ValueError):
    """A manoeuvre the propulsion of a satellite cannot deliver; the message names the satellite."""


@dataclass(frozen=True)
class Spacecraft:
    """Per-satellite flight properties, each an array of shape (sat,) (scalars broadcast on creation).

    ``drag_coefficient`` (Cd) and ``reflectivity_coefficient`` (Cr: 1 absorbs, 2 mirrors) are
    dimensionless; ``specific_impulse_s`` and ``thrust_n`` describe the propulsion; ``mass_kg`` is the
    wet mass at the start, ``propellant_kg`` the usable propellant in it.
    """

    names: np.ndarray
    mass_kg: np.ndarray
    array_area_m2: np.ndarray
    radiator_area_m2: np.ndarray
    body_area_m2: np.ndarray
    drag_coefficient: np.ndarray
    reflectivity_coefficient: np.ndarray
    specific_impulse_s: np.ndarray
    thrust_n: np.ndarray
    propellant_kg: np.ndarray
    sun_tracking_array: np.ndarray
    along_track_radiator: np.ndarray

    def __post_init__(self):
        names = np.atleast_1d(np.asarray(self.names, dtype=str))
        object.__setattr__(self, "names", names)
        for field in fields(self)[1:]:
            kind = bool if field.name in ("sun_tracking_array", "along_track_radiator") else float
            value = np.broadcast_to(np.asarray(getattr(self, field.name), dtype=kind), names.shape).copy()
            object.__setattr__(self, field.name, value)
            if kind is float:
                positive = field.name in ("mass_kg", "specific_impulse_s")
                bad = ~np.isfinite(value) | ((value <= 0) if positive else (value < 0))
                if np.any(bad):
                    row = int(np.flatnonzero(bad)[0])
                    raise ValueError(f"{field.name}: {float(value[row])!r} for satellite {names[row]} must be "
                                     f"{'positive' if positive else 'non-negative'} and finite")
        heavy = self.propellant_kg >= self.mass_kg
        if np.any(heavy):
            row = int(np.flatnonzero(heavy)[0])
            raise ValueError(f"propellant_kg: {float(self.propellant_kg[row])!r} for satellite {names[row]} is not less "
                             f"than its mass of {float(self.mass_kg[row])!r} kg")

    def __len__(self) -> int:
        return self.names.size

    def take(self, rows) -> Spacecraft:
        """The spacecraft of ``rows`` (an index array or mask)."""
        return replace(self, **{field.name: getattr(self, field.name)[rows] for field in fields(self)})

    @property
    def exhaust_velocity_m_s(self) -> np.ndarray:
        return self.specific_impulse_s * STANDARD_GRAVITY_M_S2

    def delta_v_capacity_m_s(self) -> np.ndarray:
        """Δv (m/s) the whole propellant gives: ``v_e ln(m / (m - m_p))`` (Tsiolkovsky)."""
        return self.exhaust_velocity_m_s * np.log(self.mass_kg / (self.mass_kg - self.propellant_kg))

    def flown_area_m2(self, flow_m_s: np.ndarray, sun_m: np.ndarray, position_m: np.ndarray) -> np.ndarray:
        """Area (m2) across a flow of velocity ``flow_m_s`` (sat, ..., 3), with the Sun at ``sun_m`` and the
        satellite at ``position_m`` (same frame; both broadcast against it)."""
        flow = _unit(flow_m_s)
        sun = _unit(np.asarray(sun_m) - np.asarray(position_m))
        normal = _unit(np.cross(position_m, flow_m_s))
        sat = (slice(None),) + (None,) * (flow.ndim - 2)
        array = np.where(self.sun_tracking_array[sat], np.abs(_dot(sun, flow)), np.abs(_dot(normal, flow)))
        radiator = np.where(self.along_track_radiator[sat], 0.5, 0.0)
        return self.array_area_m2[sat] * array + self.radiator_area_m2[sat] * radiator + self.body_area_m2[sat]

    def sunlit_area_m2(self, velocity_m_s: np.ndarray, sun_m: np.ndarray, position_m: np.ndarray) -> np.ndarray:
        """Area (m2) facing the Sun, for radiation pressure (shapes as :meth:`flown_area_m2`)."""
        sun = _unit(np.asarray(sun_m) - np.asarray(position_m))
        along = _unit(velocity_m_s)
        normal = _unit(np.cross(position_m, velocity_m_s))
        sat = (slice(None),) + (None,) * (along.ndim - 2)
        array = np.where(self.sun_tracking_array[sat], 1.0, np.abs(_dot(normal, sun)))
        radiator = np.where(self.along_track_radiator[sat], 0.5 * np.abs(_dot(sun, along)),
                            np.maximum(_dot(sun, _unit(position_m)), 0.0))
        return self.array_area_m2[sat] * array + self.radiator_area_m2[sat] * radiator + self.body_area_m2[sat]


def _unit(vectors) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=float)
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _dot(a, b) -> np.ndarray:
    return np.sum(a * b, axis=-1)


# What a bus that leaves its propulsion out gets (the scenario keys' descriptions say so, docs/scenario_keys.md):
# 40 mN of thrust per tonne, one SPT-100 (83 mN) per two tonnes; propellant 5 % of the wet mass. The body is seen
# as a cube of mean density 200 kg/m3 (an assumption: a bus packed as densely as a small satellite's).
THRUST_N_PER_KG_UNSET = 4.0e-5
PROPELLANT_FRACTION_UNSET = 0.05
BUS_DENSITY_KG_M3 = 200.0


def spacecraft_of_buses(names, bus_of_satellite, buses: dict) -> Spacecraft:
    """:class:`Spacecraft` of satellites ``names`` from their buses (``twin.scenario.Bus``): mass, array and radiator
    areas and attitudes, drag and reflectivity coefficients, specific impulse, thrust and propellant."""
    bus_of_satellite = np.asarray(bus_of_satellite, dtype=str)
    unknown = sorted(set(np.unique(bus_of_satellite)) - set(buses))
    if unknown:
        raise ValueError(f"bus_of_satellite: {unknown[0]!r} is not a bus of the scenario")
    read = bus_columns(buses, bus_of_satellite)
    mass_kg = read("mass_kg")
    thrust_n, propellant_kg = (read(field, object) for field in ("thrust_n", "propellant_kg"))
    return Spacecraft(
        names=names, mass_kg=mass_kg, array_area_m2=read("solar_array_area_m2"),
        radiator_area_m2=read("radiator_area_m2"), body_area_m2=(mass_kg / BUS_DENSITY_KG_M3) ** (2.0 / 3.0),
        drag_coefficient=read("drag_coefficient"), reflectivity_coefficient=read("reflectivity_coefficient"),
        specific_impulse_s=read("specific_impulse_s"),
        thrust_n=np.where(thrust_n == None, THRUST_N_PER_KG_UNSET * mass_kg, thrust_n).astype(float),  # noqa: E711
        propellant_kg=np.where(propellant_kg == None, PROPELLANT_FRACTION_UNSET * mass_kg,  # noqa: E711
                               propellant_kg).astype(float),
        sun_tracking_array=read("array_pointing", str) == "sun_tracking",
        along_track_radiator=read("radiator_orientation", str) == "along_track",
    )
