"""Electrical power of every satellite: solar array, battery, loads and load shedding.

Numeric core on arrays of shape (sat,) or (sat, t), SI units. Every step is accounted so that

    generated = used + conversion losses + curtailed + change of stored energy

holds exactly (``tests/test_power.py``, ``tests/test_engine.py``): the array's output either feeds
the loads, charges the battery (losing ``1 - eta_charge`` of it) or is curtailed (shunted) when the
battery is full; a deficit is drawn from the battery (losing ``1/eta_discharge - 1``) down to its
floor, after which loads are shed, compute first, then communications, heaters and the bus.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numexpr as ne
import numpy as np

from twin.constants import ASTRONOMICAL_UNIT_M, EARTH_INFRARED_W_M2, SOLAR_CONSTANT_W_M2, STEFAN_BOLTZMANN_W_M2_K4
from twin.scenario import Bus, ComputeSettings, bus_columns

CELL_REFERENCE_TEMPERATURE_K = 301.15  # space cells are rated at AM0 and 28 C (ISO 15387)
ARRAY_ABSORPTANCE = 0.92  # assumption: solar absorptance of a triple-junction cell front with cover glass
ARRAY_EMISSIVITY = 0.85  # assumption: hemispherical emissivity of cover glass and rear coating (each face)


@dataclass(frozen=True)
class PowerModel:
    """Per-satellite parameters (arrays of shape (sat,)) of the array, battery and loads."""

    array_area_m2: np.ndarray
    cell_efficiency: np.ndarray
    degradation_per_year: np.ndarray
    temperature_coefficient_per_k: np.ndarray
    sun_tracking: np.ndarray
    battery_capacity_j: np.ndarray
    battery_floor_j: np.ndarray
    charge_efficiency: np.ndarray
    discharge_efficiency: np.ndarray
    battery_max_power_w: np.ndarray
    bus_power_w: np.ndarray
    comms_power_w: np.ndarray
    compute_power_w: np.ndarray
    heater_power_w: np.ndarray
    idle_fraction: float
    reserve_soc: float

    @classmethod
    def from_buses(cls, buses: dict[str, Bus], bus_of_satellite: np.ndarray, compute: ComputeSettings) -> PowerModel:
        """Parameters of each satellite from its bus; round-trip efficiency split evenly between charge and discharge."""
        unknown = sorted(set(np.unique(bus_of_satellite)) - set(buses))
        if unknown:
            index = int(np.flatnonzero(bus_of_satellite == unknown[0])[0])
            raise ValueError(f"bus_of_satellite[{index}]: {unknown[0]!r} is not a bus of the scenario")
        column = bus_columns(buses, bus_of_satellite)
        capacity_j = column("battery_capacity_wh") * 3600.0
        one_way = np.sqrt(column("battery_round_trip_efficiency"))
        return cls(
            array_area_m2=column("solar_array_area_m2"),
            cell_efficiency=column("solar_cell_efficiency"),
            degradation_per_year=column("array_degradation_per_year"),
            temperature_coefficient_per_k=column("cell_temperature_coefficient_per_k"),
            sun_tracking=column("array_pointing", str) == "sun_tracking",
            battery_capacity_j=capacity_j,
            battery_floor_j=capacity_j * (1.0 - column("battery_max_depth_of_discharge")),
            charge_efficiency=one_way,
            discharge_efficiency=one_way,
            battery_max_power_w=column("battery_max_c_rate") * column("battery_capacity_wh"),
            bus_power_w=column("bus_power_w"),
            comms_power_w=column("comms_power_w"),
            compute_power_w=column("compute_power_w"),
            heater_power_w=column("heater_power_w"),
            idle_fraction=compute.idle_power_fraction,
            reserve_soc=compute.battery_reserve_soc,
        )

    def with_battery_left(self, fraction: np.ndarray) -> PowerModel:
        """The same satellites with ``fraction`` (sat,) of their batteries' capacity left (aged): the capacity and the
        floor of the depth of discharge scale with it; the power limit stays the new battery's."""
        return replace(self, battery_capacity_j=self.battery_capacity_j * fraction,
                       battery_floor_j=self.battery_floor_j * fraction)

    def rows(self, rows: np.ndarray) -> PowerModel:
        """The parameters of the satellites at ``rows`` (an index array), in that order."""
        return replace(self, **{name: value[rows] for name, value in vars(self).items() if isinstance(value, np.ndarray)})


def solar_flux_w_m2(sun_distance_m: np.ndarray) -> np.ndarray:
    """Solar irradiance at the Sun distance ``sun_distance_m`` (inverse square of the 1 au value)."""
    return SOLAR_CONSTANT_W_M2 * (ASTRONOMICAL_UNIT_M / sun_distance_m) ** 2


def array_output_w(model: PowerModel, flux_w_m2: np.ndarray, illumination: np.ndarray, beta_angle_deg: np.ndarray,
                   age_years: np.ndarray, array_fraction: np.ndarray, earth_view_factor: np.ndarray):
    """Array power (W) and cell temperature (K), arrays (sat, t) or (sat,).

    Incidence: sun-tracking arrays face the Sun; arrays fixed facing the orbit normal see it at
    ``90 deg - |beta|``. Cell temperature is the quasi-steady balance of a thin panel radiating
    from both faces (it settles in minutes): absorbed sunlight not converted, plus Earth infrared
    on the rear face, ``2 eps sigma T^4 = alpha S cos(i)(1 - eta) + eps E F``. Efficiency falls
    by ``cell_temperature_coefficient_per_k`` (relative) above 28 C and compounds
    ``array_degradation_per_year``; ``array_fraction`` is what faults leave of the array.
    """
    column = lambda values: values[:, None] if np.ndim(illumination) == 2 else values
    names = {
        "flux": flux_w_m2, "illumination": illumination, "beta": np.radians(beta_angle_deg), "age": age_years,
        "fraction": array_fraction, "view": earth_view_factor, "tracking": column(model.sun_tracking),
        "eta": column(model.cell_efficiency), "gamma": column(model.temperature_coefficient_per_k),
        "decay": column(1.0 - model.degradation_per_year), "area": column(model.array_area_m2),
        "alpha": ARRAY_ABSORPTANCE, "eps": ARRAY_EMISSIVITY, "IR": EARTH_INFRARED_W_M2,
        "sigma": STEFAN_BOLTZMANN_W_M2_K4, "T0": CELL_REFERENCE_TEMPERATURE_K,
    }
    names["incident"] = ne.evaluate("flux * illumination * where(tracking, 1.0, abs(sin(beta)))", local_dict=names)
    cell_k = ne.evaluate("((alpha * incident * (1 - eta) + eps * IR * view) / (2 * eps * sigma)) ** 0.25",
                         local_dict=names)
    names["cell_k"] = cell_k
    output = ne.evaluate("incident * area * fraction"
                         " * where(eta * (1 + gamma * (cell_k - T0)) > 0, eta * (1 + gamma * (cell_k - T0)), 0)"
                         " * decay ** where(age > 0, age, 0)", local_dict=names)
    return output, cell_k


def compute_power_fraction(model: PowerModel, generated_w, energy_j, base_load_w, dt_s: float) -> np.ndarray:
    """Fraction (0-1) of the compute payload the power system can run this step.

    Compute may use the array's output beyond the other loads, and the battery only above the
    reserve state of charge (``battery_reserve_soc``); the payload idles at ``idle_fraction``
    of its full power.
    """
    reserve_j = model.reserve_soc * model.battery_capacity_j
    from_battery = np.minimum(model.battery_max_power_w,
                              np.maximum(energy_j - reserve_j, 0.0) * model.discharge_efficiency / dt_s)
    available = generated_w - base_load_w + from_battery
    idle = model.idle_fraction * model.compute_power_w
    span = np.maximum((1.0 - model.idle_fraction) * model.compute_power_w, 1e-12)
    return np.clip((available - idle) / span, 0.0, 1.0)


@dataclass
class PowerStep:
    """One step of the power system, per satellite: powers in W (means over the step), energy in J.

    ``load_w`` is the power the loads used (served), ``used_by_load_w`` the same per load in the order
    they were given, ``shed_w`` what they asked for and did not get (``compute_shed_w`` of the first).
    """

    energy_j: np.ndarray
    load_w: np.ndarray
    shed_w: np.ndarray
    compute_shed_w: np.ndarray
    loss_w: np.ndarray
    curtailed_w: np.ndarray
    used_by_load_w: list[np.ndarray] = field(default_factory=list)


def battery_step(model: PowerModel, energy_j: np.ndarray, generated_w: np.ndarray, loads_w: list[np.ndarray],
                 dt_s: float) -> PowerStep:
    """Advance the battery over ``dt_s`` with the array giving ``generated_w`` and the loads asking ``loads_w``.

    ``loads_w`` is in shedding order (first shed first): e.g. [compute, comms, heaters, bus].
    Charge and discharge are limited by the C-rate, the full battery and the floor set by the
    maximum depth of discharge; the step is exact for constant powers, so any ``dt_s`` is stable.
    """
    demand = sum(loads_w)
    net = generated_w - demand
    charge_room = np.maximum(model.battery_capacity_j - energy_j, 0.0) / (model.charge_efficiency * dt_s)
    charge = np.clip(np.minimum(net, np.minimum(model.battery_max_power_w, charge_room)), 0.0, None)
    can_discharge = np.minimum(model.battery_max_power_w,
                               np.maximum(energy_j - model.battery_floor_j, 0.0) * model.discharge_efficiency / dt_s)
    discharge = np.minimum(np.maximum(-net, 0.0), can_discharge)
    unmet = np.maximum(-net, 0.0) - discharge
    shed_by_load = []
    for load in loads_w:
        shed = np.minimum(load, unmet)
        shed_by_load.append(shed)
        unmet = unmet - shed
    shed = sum(shed_by_load)
    curtailed = np.maximum(net, 0.0) - charge
    new_energy = energy_j + (charge * model.charge_efficiency - discharge / model.discharge_efficiency) * dt_s
    loss = charge * (1.0 - model.charge_efficiency) + discharge * (1.0 / model.discharge_efficiency - 1.0)
    return PowerStep(energy_j=new_energy, load_w=demand - shed, shed_w=shed, compute_shed_w=shed_by_load[0],
                     used_by_load_w=[load - shed for load, shed in zip(loads_w, shed_by_load)],
                     loss_w=loss, curtailed_w=curtailed)
