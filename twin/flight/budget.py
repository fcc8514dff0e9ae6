"""The flight-dynamics budget of a fleet: decay, Δv and propellant to hold altitude, LTAN and formation,
years of propellant, and the disposal burn to the 5-year and 25-year lifetime rules; per satellite, per
sub-center group and for the fleet.

How each figure is made (all vectorised over satellites; rows with the same altitude, ballistic
coefficient and LTAN are decayed once):

- **Environment**: one :class:`twin.flight.atmosphere.DensityTable` per LTAN rounded to half an hour
  (the density changes by 1-2 % per 20 minutes of LTAN near 18 h), every 45.7 days (8 per year) from
  the fleet's epoch, with the indices of the shipped predicted solar cycle (or ``indices_at``).
- **Drag**: ``D = 1/2 rho F Cd A / m v^2`` at the satellite's altitude, ``A`` its orbit-mean area across
  the flow (:mod:`twin.flight.spacecraft`: ``2/pi cos(beta)`` of a sun-tracking array, half a radiator
  flying along track, the body), ``beta`` the beta angle of its plane at each date, ``F`` the wind factor.
- **Decay per year**: :func:`twin.flight.decay.propagate_decay` over the first year, without manoeuvres.
- **Holding altitude**: the drag made up, ``C(t) = int D dt``; with the mass falling as propellant is
  spent the Δv is ``-v_e ln(1 - C / v_e)`` (``dΔv/dt = D m0 / m``, ``m = m0 exp(-Δv / v_e)``).
- **Holding LTAN**: the Sun and Moon tilt the plane at ``di/dt`` (:func:`twin.flight.secular.luni_solar_plane_rates`,
  mean over the span); holding the LTAN within ``+-tol`` by biasing the inclination costs ``v |di/dt|``
  per year whatever ``tol`` is (a plane change of ``di`` at the node costs ``v di``), one burn every
  ``4 sqrt(tol / |dOmega'/di * di/dt|)``. The small direct nodal rate of the tides is taken out by the
  same bias at injection.
- **Formation**: :func:`twin.flight.formation.keeping_delta_v_m_s_per_year` (J2 on the relative
  inclination, differential drag and radiation pressure against the chief).
- **Disposal** at the end of the span: one burn at the current altitude lowers the perigee to ``h_p``
  (Δv ``v (1 - sqrt(2 r_p / (r + r_p)))``), the lowest Δv whose ellipse decays within 5 (or 25) years;
  none if the circular orbit already does.
- **Propellant**: the disposal Δv for the 5-year rule is kept in reserve; the years of propellant are when
  the holding Δv reaches the rest (``v_e ln(m0 / m_dry)`` less the reserve), up to ``horizon_years``.
  A satellite whose propellant cannot give the disposal burn, or whose thrust cannot match the drag, is
  a :class:`twin.flight.spacecraft.ManoeuvreError` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from twin.constants import EARTH_EQUATORIAL_RADIUS_KM, EARTH_MU_KM3_S2, JULIAN_YEAR_S, SUN_SYNCHRONOUS_RATE_RAD_S
from twin.flight.atmosphere import DensityTable, orbit_mean_density_table
from twin.flight.decay import REENTRY_PERIGEE_KM, propagate_decay, wind_factor
from twin.flight.elements import MeanElements, mean_elements_of_fleet
from twin.flight.formation import differential_forcing, j2_relative_rates, keeping_delta_v_m_s_per_year
from twin.flight.forces import SOLAR_PRESSURE_N_M2
from twin.flight.secular import luni_solar_plane_rates, node_rate_per_inclination, orbit_normal, sun_and_moon_gcrs_m
from twin.flight.space_weather import predicted_indices
from twin.flight.spacecraft import ManoeuvreError, Spacecraft
from twin.orbit.design import mean_sun_right_ascension_rad
from twin.orbit.fleet import Fleet

LIFETIME_RULES_YEARS = (5.0, 25.0)  # FCC 2022 five-year rule for LEO; IADC/ISO 24113 25-year guideline
TABLE_STEP_DAYS = 365.25 / 8
PERIGEE_CANDIDATES = 24


@dataclass(frozen=True)
class FlightBudget:
    """Per-satellite budget (``satellites``, one row per satellite) over ``years`` from ``start``."""

    satellites: pd.DataFrame
    years: float
    horizon_years: float
    start: np.datetime64

    def table(self, by: str = "group", closest: pd.DataFrame | None = None) -> pd.DataFrame:
        """One row per ``by`` (``group`` or ``subcenter``) and one for the fleet: means over satellites, the
        worst (largest) Δv per year, the fewest years of propellant; ``closest`` (from
        :func:`twin.flight.formation.closest_member_approach`) adds the closest member approach."""
        frame = self.satellites
        if closest is not None:
            nearest = closest.set_index("subcenter")["closest_approach_m"]
            frame = frame.assign(closest_member_approach_m=frame["subcenter"].map(nearest))
        aggregate = {
            "satellites": ("name", "size"), "altitude_km": ("altitude_km", "mean"),
            "decay_km_per_year": ("decay_km_per_year", "mean"),
            "drag_delta_v_m_s_per_year": ("drag_delta_v_m_s_per_year", "mean"),
            "ltan_delta_v_m_s_per_year": ("ltan_delta_v_m_s_per_year", "mean"),
            "formation_delta_v_m_s_per_year": ("formation_delta_v_m_s_per_year", "mean"),
            "max_delta_v_m_s_per_year": ("delta_v_m_s_per_year", "max"),
            "propellant_kg_per_year": ("propellant_kg_per_year", "mean"),
            "years_of_propellant": ("years_of_propellant", "min"),
            "disposal_delta_v_5y_m_s": ("disposal_delta_v_5y_m_s", "mean"),
            "disposal_delta_v_25y_m_s": ("disposal_delta_v_25y_m_s", "mean"),
            "natural_lifetime_years": ("natural_lifetime_years", "min"),
        }
        if "closest_member_approach_m" in frame:
            aggregate["closest_member_approach_m"] = ("closest_member_approach_m", "min")
        groups = frame.groupby(by, sort=False).agg(**aggregate)
        fleet = frame.assign(**{by: "fleet"}).groupby(by).agg(**aggregate)
        return pd.concat([groups, fleet])


def _ltan_groups(ltan_hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.round(np.asarray(ltan_hours) * 2.0) / 2.0
    return np.unique(keys, return_inverse=True)


def _beta_rad(ltan_hours: float, inclination_rad: float, start, offsets_s: np.ndarray) -> np.ndarray:
    """Beta angle (rad) of a sun-synchronous plane at ``offsets_s`` (its node follows the mean Sun)."""
    sun, _ = sun_and_moon_gcrs_m(start, offsets_s)
    raan = mean_sun_right_ascension_rad(start) + SUN_SYNCHRONOUS_RATE_RAD_S * offsets_s + (ltan_hours - 12.0) * np.pi / 12
    normal = orbit_normal(inclination_rad, raan)
    return np.arcsin(np.sum(normal * sun, axis=-1) / np.linalg.norm(sun, axis=-1))


def _eclipse_fraction(altitude_km, beta_rad) -> np.ndarray:
    """Orbit fraction in the Earth's cylindrical shadow (Wertz & Larson, *SMAD*, circular orbit)."""
    radius = EARTH_EQUATORIAL_RADIUS_KM + np.asarray(altitude_km)
    limit = np.sqrt(radius**2 - EARTH_EQUATORIAL_RADIUS_KM**2) / radius
    cos_beta = np.cos(beta_rad)
    return np.where(cos_beta > limit, np.arccos(np.clip(limit / np.maximum(cos_beta, 1e-12), -1, 1)) / np.pi, 0.0)


def _lifetimes_years(altitude_km, perigee_km, ballistic, density: DensityTable, start_s) -> np.ndarray:
    """Years (inf beyond the longest rule) until orbits from apogee ``altitude_km`` (rows,) and perigees
    ``perigee_km`` (rows, candidates) re-enter."""
    radius, perigee_radius = EARTH_EQUATORIAL_RADIUS_KM + altitude_km[:, None], EARTH_EQUATORIAL_RADIUS_KM + perigee_km
    a = 0.5 * (radius + perigee_radius)
    e = (radius - perigee_radius) / (radius + perigee_radius)
    horizon = max(LIFETIME_RULES_YEARS) * JULIAN_YEAR_S
    decay = propagate_decay(a.ravel(), e.ravel(), np.repeat(ballistic, perigee_km.shape[1]), density, start_s, horizon)
    lifetime = ((decay.reentry_s - start_s) / JULIAN_YEAR_S).reshape(perigee_km.shape)
    return np.where(np.isnan(lifetime), np.inf, lifetime)


def _disposal(altitude_km, ballistic, density: DensityTable, start_s, inverse_rows):
    """Natural lifetime (years, inf if above 25) and disposal Δv (m/s) and perigee (km) for each lifetime rule.

    Lifetimes of :data:`PERIGEE_CANDIDATES` perigees from 200 km to the altitude, then as many again
    between the two that bracket each rule, interpolated in log(lifetime): the perigee to within a kilometre.
    """
    altitude_km = np.asarray(altitude_km, float)
    fraction = np.linspace(0.0, 1.0, PERIGEE_CANDIDATES)
    low = REENTRY_PERIGEE_KM + 50.0
    coarse = low + fraction[None, :] * (altitude_km[:, None] - low)  # (rows, candidates), last: circular
    coarse_life = _lifetimes_years(altitude_km, coarse, ballistic, density, start_s)
    radius = EARTH_EQUATORIAL_RADIUS_KM + altitude_km[:, None]
    speed = np.sqrt(EARTH_MU_KM3_S2 / radius) * 1e3
    results = {"natural_lifetime_years": coarse_life[:, -1]}
    for rule in LIFETIME_RULES_YEARS:
        below = np.where((coarse_life <= rule).any(axis=1),
                         PERIGEE_CANDIDATES - 1 - np.argmax((coarse_life <= rule)[:, ::-1], axis=1), 0)
        rows_all = np.arange(below.size)
        upper = coarse[rows_all, np.minimum(below + 1, PERIGEE_CANDIDATES - 1)]
        perigee = coarse[rows_all, below][:, None] + fraction[None, :] * (upper - coarse[rows_all, below])[:, None]
        lifetime = _lifetimes_years(altitude_km, perigee, ballistic, density, start_s)
        compliant = lifetime <= rule
        # Lifetime grows with perigee: the highest compliant candidate, refined towards the first that is not.
        best = np.where(compliant.any(axis=1), PERIGEE_CANDIDATES - 1 - np.argmax(compliant[:, ::-1], axis=1), 0)
        above = np.minimum(best + 1, PERIGEE_CANDIDATES - 1)
        rows = np.arange(best.size)
        life_low, life_high = lifetime[rows, best], lifetime[rows, above]
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(np.isfinite(life_high) & (above > best),
                             (np.log(rule) - np.log(life_low)) / (np.log(life_high) - np.log(life_low)), 0.0)
        share = np.clip(np.nan_to_num(share), 0.0, 1.0)
        chosen = perigee[rows, best] + share * (perigee[rows, above] - perigee[rows, best])
        chosen_radius = EARTH_EQUATORIAL_RADIUS_KM + chosen
        cost = speed[:, 0] * (1.0 - np.sqrt(2.0 * chosen_radius / (radius[:, 0] + chosen_radius)))
        circular_ok = lifetime[:, -1] <= rule
        results[f"disposal_perigee_{rule:g}y_km"] = np.where(circular_ok, altitude_km, chosen)
        results[f"disposal_delta_v_{rule:g}y_m_s"] = np.where(circular_ok, 0.0, cost)
    return {name: value[inverse_rows] for name, value in results.items()}


def flight_budget(fleet: Fleet, spacecraft: Spacecraft, years: float = 5.0, horizon_years: float = 30.0,
                  ltan_tolerance_minutes: float = 5.0, altitude_tolerance_km: float = 1.0,
                  indices_at=predicted_indices) -> FlightBudget:
    """The :class:`FlightBudget` of ``fleet`` flying ``spacecraft`` (in fleet order) for ``years`` from its epoch.

    ``ltan_tolerance_minutes`` and ``altitude_tolerance_km`` set how often each holding burn comes (columns
    ``ltan_burn_interval_days`` and ``altitude_burn_interval_days``), not how much Δv it takes.
    """
    if len(spacecraft) != len(fleet):
        raise ValueError(f"spacecraft: {len(spacecraft)} satellites for a fleet of {len(fleet)}")
    if not 0 < years <= horizon_years:
        raise ValueError(f"years: {years!r} must be above 0 and at most horizon_years ({horizon_years!r})")
    elements: MeanElements = mean_elements_of_fleet(fleet)
    start = np.datetime64(elements.epoch.utc.isot, "s")
    altitude = elements.altitude_km
    speed = np.sqrt(EARTH_MU_KM3_S2 / elements.semi_major_axis_km) * 1e3
    wind = wind_factor(elements.semi_major_axis_km, elements.inclination_rad)
    keys, group_of = _ltan_groups(elements.ltan_hours)
    table_years = max(horizon_years, years + max(LIFETIME_RULES_YEARS)) + 1.0
    count = len(fleet)
    results = {name: np.zeros(count) for name in (
        "decay_km_per_year", "drag_delta_v_m_s_per_year", "ltan_delta_v_m_s_per_year", "ltan_burn_interval_days",
        "formation_delta_v_m_s_per_year", "drag_m_s2", "propellant_kg_per_year", "years_of_propellant",
        "natural_lifetime_years", "altitude_burn_interval_days",
        *[f"disposal_{kind}_{rule:g}y_{unit}" for rule in LIFETIME_RULES_YEARS
          for kind, unit in (("delta_v", "m_s"), ("perigee", "km"))])}
    for key_index, key in enumerate(keys):
        rows = np.flatnonzero(group_of == key_index)
        craft = spacecraft.take(rows)
        inclination = float(np.mean(elements.inclination_rad[rows]))
        density = orbit_mean_density_table(float(key), float(np.degrees(inclination)), start, table_years,
                                           indices_at, time_step_days=TABLE_STEP_DAYS)
        nodes_s = density._nodes_s
        beta = _beta_rad(float(key), inclination, elements.epoch, nodes_s)  # (T,)
        flown_factor = np.where(craft.sun_tracking_array[:, None], 2.0 / np.pi * np.cos(beta)[None, :], 0.0)
        area_m2 = (craft.array_area_m2[:, None] * flown_factor + 0.5 * craft.radiator_area_m2[:, None]
                   * craft.along_track_radiator[:, None] + craft.body_area_m2[:, None])  # (sat, T)
        ballistic = wind[rows, None] * craft.drag_coefficient[:, None] * area_m2 / craft.mass_kg[:, None]
        rho = density(altitude[rows, None], nodes_s[None, :])
        drag = 0.5 * rho * ballistic * speed[rows, None] ** 2  # m/s2, wet mass
        made_up = np.concatenate([np.zeros((rows.size, 1)), np.cumsum(
            0.5 * (drag[:, 1:] + drag[:, :-1]) * np.diff(nodes_s)[None, :], axis=1)], axis=1)
        exhaust = craft.exhaust_velocity_m_s[:, None]
        holding = -exhaust * np.log1p(-np.minimum(made_up / exhaust, 0.999999))  # (sat, T) drag Δv so far
        # LTAN.
        inclination_rate, _ = luni_solar_plane_rates([float(key)], inclination, float(np.mean(
            elements.semi_major_axis_km[rows])), elements.epoch, years, step_days=1.0)
        ltan_rate = speed[rows] * abs(float(inclination_rate[0]))  # m/s per s
        node_sensitivity = node_rate_per_inclination(elements.semi_major_axis_km[rows], elements.eccentricity[rows],
                                                     elements.inclination_rad[rows])
        tolerance_rad = ltan_tolerance_minutes * np.pi / 720.0
        with np.errstate(divide="ignore"):
            interval_s = 4.0 * np.sqrt(tolerance_rad / (node_sensitivity * abs(float(inclination_rate[0]))))
        # Formation: J2 on the relative inclination, differential drag and radiation pressure against the chief.
        chief = elements.chief_row[rows]
        chief_local = np.searchsorted(rows, chief)
        _, diy_rate, _ = j2_relative_rates(elements.semi_major_axis_km[rows], elements.inclination_rad[rows],
                                           elements.da[rows], elements.dix[rows])
        mean_ballistic = ballistic.mean(axis=1)
        mean_rho = rho.mean(axis=1)
        lit = 1.0 - _eclipse_fraction(altitude[rows, None], beta[None, :]).mean(axis=1)
        srp = SOLAR_PRESSURE_N_M2 * craft.reflectivity_coefficient * (
            craft.array_area_m2 * np.where(craft.sun_tracking_array, 1.0, np.mean(np.abs(np.sin(beta))))
            + craft.body_area_m2) / craft.mass_kg * lit
        differential = differential_forcing(mean_rho, speed[rows], mean_ballistic - mean_ballistic[chief_local],
                                            srp - srp[chief_local], float(np.mean(beta)), 0.0)
        mean_drag = drag.mean(axis=1)
        formation = keeping_delta_v_m_s_per_year(speed[rows], diy_rate, differential,
                                                 mean_drag - mean_drag[chief_local])
        # Totals over time: drag (mass-corrected), LTAN and formation.
        total = holding + (ltan_rate[:, None] + formation[:, None] / JULIAN_YEAR_S) * nodes_s[None, :]
        span = nodes_s <= years * JULIAN_YEAR_S + 1.0
        end_s = years * JULIAN_YEAR_S
        total_at_end = _interp_rows(end_s, nodes_s, total)
        drag_at_end = _interp_rows(end_s, nodes_s, holding)
        mass_at_end = craft.mass_kg * np.exp(-total_at_end / craft.exhaust_velocity_m_s)
        # Decay over the first year and disposal at the end of the span: rows alike are decayed once.
        first_year = nodes_s <= JULIAN_YEAR_S
        year_ballistic = ballistic[:, first_year].mean(axis=1)
        classes, inverse = np.unique(np.column_stack([np.round(altitude[rows], 1),
                                                      np.round(year_ballistic, 6)]), axis=0, return_inverse=True)
        decayed = propagate_decay(EARTH_EQUATORIAL_RADIUS_KM + classes[:, 0], 0.0, classes[:, 1], density, 0.0,
                                  JULIAN_YEAR_S)
        end_ballistic = mean_ballistic * craft.mass_kg / mass_at_end
        disposal_classes, disposal_inverse = np.unique(np.column_stack([np.round(altitude[rows], 1),
                                                                        np.round(end_ballistic, 6)]),
                                                       axis=0, return_inverse=True)
        disposal = _disposal(disposal_classes[:, 0], disposal_classes[:, 1], density, end_s, disposal_inverse.ravel())
        # Propellant: the 5-year disposal in reserve, the rest for holding.
        capacity = craft.delta_v_capacity_m_s()
        reserve = disposal["disposal_delta_v_5y_m_s"]
        short = reserve > capacity
        if np.any(short):
            row = int(np.flatnonzero(short)[0])
            raise ManoeuvreError(f"satellite {craft.names[row]}: its disposal burn of {reserve[row]:.1f} m/s to re-enter "
                                 f"within 5 years needs more than its propellant gives ({capacity[row]:.1f} m/s)")
        weak = craft.thrust_n / craft.mass_kg < drag[:, span].max(axis=1)
        if np.any(weak):
            row = int(np.flatnonzero(weak)[0])
            raise ManoeuvreError(f"satellite {craft.names[row]}: its thrust of {craft.thrust_n[row]:g} N cannot match "
                                 f"a drag of {drag[row, span].max() * craft.mass_kg[row]:.3g} N at {altitude[rows][row]:.0f} km")
        available = capacity - reserve
        within = nodes_s <= horizon_years * JULIAN_YEAR_S + 1.0
        years_of_propellant = _first_crossing_years(total[:, within], nodes_s[within], available)
        out = {
            "decay_km_per_year": (classes[:, 0] + EARTH_EQUATORIAL_RADIUS_KM - decayed.semi_major_axis_km)[inverse.ravel()],
            "drag_delta_v_m_s_per_year": drag_at_end / years,
            "ltan_delta_v_m_s_per_year": ltan_rate * JULIAN_YEAR_S,
            "ltan_burn_interval_days": interval_s / 86400.0,
            "formation_delta_v_m_s_per_year": formation,
            "drag_m_s2": mean_drag,
            "altitude_burn_interval_days": altitude_tolerance_km * 1e3 / np.maximum(
                2.0 * mean_drag / (np.sqrt(EARTH_MU_KM3_S2 / elements.semi_major_axis_km[rows] ** 3)), 1e-30) / 86400.0,
            "propellant_kg_per_year": (craft.mass_kg - mass_at_end) / years,
            "years_of_propellant": years_of_propellant,
            **disposal,
        }
        for name, value in out.items():
            results[name][rows] = value
    frame = pd.DataFrame({
        "name": fleet.names, "subcenter": fleet.subcenter, "group": fleet.group, "bus": fleet.bus, "role": fleet.role,
        "altitude_km": altitude, "ltan_hours": elements.ltan_hours, **results,
    })
    frame["delta_v_m_s_per_year"] = (frame["drag_delta_v_m_s_per_year"] + frame["ltan_delta_v_m_s_per_year"]
                                     + frame["formation_delta_v_m_s_per_year"])
    return FlightBudget(frame, float(years), float(horizon_years), start)


def _interp_rows(x: float, nodes: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row of ``values`` (n, T) on ``nodes`` (T,) at ``x``."""
    index = int(np.clip(np.searchsorted(nodes, x) - 1, 0, nodes.size - 2))
    share = (x - nodes[index]) / (nodes[index + 1] - nodes[index])
    return values[:, index] * (1 - share) + values[:, index + 1] * share


def _first_crossing_years(cumulative: np.ndarray, nodes_s: np.ndarray, limit: np.ndarray) -> np.ndarray:
    """Years at which each row of the non-decreasing ``cumulative`` (n, T) reaches ``limit`` (n,); inf if never."""
    above = cumulative >= limit[:, None]
    reached = above.any(axis=1)
    index = np.where(reached, np.argmax(above, axis=1), 1)
    index = np.maximum(index, 1)
    rows = np.arange(limit.size)
    low, high = cumulative[rows, index - 1], cumulative[rows, index]
    share = np.clip((limit - low) / np.maximum(high - low, 1e-300), 0.0, 1.0)
    years = (nodes_s[index - 1] + share * (nodes_s[index] - nodes_s[index - 1])) / JULIAN_YEAR_S
    return np.where(reached, years, np.inf)
