"""The radiation a satellite meets and what it does to its parts, at every satellite and step.

A :class:`RadiationSettings` says which solar activity (AP8/AE8 MIN or MAX), how much aluminium
shields the parts and which bits are on board. :func:`radiation_map` evaluates the models once at the
nodes of a geodetic grid covering the run's altitudes (2 deg x 2 deg x 10 km): the proton spectrum at
AP8's own energies, the fluxes that cross the shield, the dose rate (:mod:`twin.radiation.dose`) and
the upset rates (:mod:`twin.radiation.upsets`). :func:`radiation_arrays` interpolates them at every
(satellite, step) and accumulates the dose; the numeric core, in the units its names carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from twin.orbit.design import sun_synchronous_inclination_deg
from twin.radiation.averages import circular_orbit_samples
from twin.radiation.belts import PROTON_TABLE_ENERGIES_MEV, check_solar, field_of, integral_flux_cm2_s
from twin.radiation.dose import dose_fluxes, dose_per_particle_rad_cm2
from twin.radiation.maps import GeodeticGrid, cell_corners, geomagnetic_grid, interpolate_corners
from twin.radiation.ranges import check_shielding_mm
from twin.radiation.spectra import log_linear_flux
from twin.radiation.upsets import DEFAULT_BITS, BitPopulation, bits_of, upset_rate_per_bit_s
from twin.scenario.model import RadiationDesign

ALTITUDE_STEP_KM = 10.0  # altitude spacing of a run's map (flux grows by a few per cent per 10 km in the belts)
POINTS_PER_CHUNK = 1_000_000  # satellite-steps interpolated at once (bounds the temporaries to about 0.3 GB)


@dataclass(frozen=True)
class RadiationSettings:
    """Solar activity ("min" or "max" of AP8/AE8), aluminium shielding (mm, centre of a sphere) and the bits
    on board."""

    solar: str = "min"
    shielding_mm: float = 2.0
    bits: tuple[BitPopulation, ...] = field(default=DEFAULT_BITS)

    def __post_init__(self):
        check_solar(self.solar)
        check_shielding_mm(self.shielding_mm)
        names = [population.name for population in self.bits]
        for name in names:
            if names.count(name) > 1:
                raise ValueError(f"bits: two populations are named {name!r}")

    @classmethod
    def of_design(cls, design: RadiationDesign) -> RadiationSettings:
        """The settings of a scenario's ``[radiation]`` keys (:class:`twin.scenario.RadiationDesign`)."""
        return cls(design.solar, design.shielding_mm, bits_of(design))


@dataclass(frozen=True)
class RadiationMap:
    """Radiation quantities (``names``) at the nodes of ``grid`` (values: the grid's shape plus one axis of
    ``len(names)``), and the same values cell by cell for interpolation (:func:`twin.radiation.maps.cell_corners`)."""

    grid: GeodeticGrid
    names: tuple[str, ...]
    values: np.ndarray
    corners: np.ndarray

    def at(self, latitude_deg, longitude_deg, altitude_km) -> dict[str, np.ndarray]:
        """Each quantity at geodetic positions (arrays of one shape), interpolated trilinearly (float32)."""
        latitude_deg = np.asarray(latitude_deg, float)
        self.grid.check_altitudes(altitude_km)
        found = interpolate_corners(self.grid, self.corners, latitude_deg.ravel(), np.ravel(longitude_deg),
                                    np.ravel(altitude_km))
        return {name: found[:, index].reshape(latitude_deg.shape) for index, name in enumerate(self.names)}


def sun_synchronous_orbit_samples(settings: RadiationSettings, altitude_km: float) -> dict[str, np.ndarray]:
    """Each quantity of the map of ``settings`` where a long stay on a circular sun-synchronous orbit at
    ``altitude_km`` is spent evenly (:func:`twin.radiation.averages.circular_orbit_samples`): their means are the
    orbit's long-run averages."""
    inclination_deg = float(sun_synchronous_inclination_deg(altitude_km))
    return radiation_map(settings, altitude_km, altitude_km).at(*circular_orbit_samples(altitude_km, inclination_deg))


@lru_cache(maxsize=32)
def orbit_dose_rate_rad_s(settings: RadiationSettings, altitude_km: float) -> float:
    """Long-run mean dose rate (rad(Si)/s) behind the shielding of ``settings`` on a circular sun-synchronous orbit
    at ``altitude_km``.

    >>> round(orbit_dose_rate_rad_s(RadiationSettings(), 750.0) * 3.15576e7 / 1e3, 2)  # krad(Si) a year
    2.64
    """
    return float(sun_synchronous_orbit_samples(settings, altitude_km)["dose_rate_rad_s"].mean())


def map_altitudes_km(low_km: float, high_km: float) -> np.ndarray:
    """Altitude levels (km), :data:`ALTITUDE_STEP_KM` apart, that cover ``low_km``-``high_km`` (at least two)."""
    first = np.floor(low_km / ALTITUDE_STEP_KM) * ALTITUDE_STEP_KM
    last = max(np.ceil(high_km / ALTITUDE_STEP_KM) * ALTITUDE_STEP_KM, first + ALTITUDE_STEP_KM)
    return np.arange(first, last + ALTITUDE_STEP_KM / 2, ALTITUDE_STEP_KM)


def map_names(settings: RadiationSettings) -> tuple[str, ...]:
    """The quantities of a map: fluxes that cross the shield, dose rate and an upset rate per bit population."""
    return ("proton_flux_cm2_s", "electron_flux_cm2_s", "dose_rate_rad_s",
            *(f"seu_rate_{population.name}_s" for population in settings.bits))


def radiation_map(settings: RadiationSettings, low_km: float, high_km: float) -> RadiationMap:
    """The map of ``settings`` over altitudes ``low_km``-``high_km`` (within 500-1000 km), computed once per process.

    Per node: AP8's integral proton spectrum at its table energies from the one below the shield's
    penetration energy (so the spectrum between them is the model's), AE8 at the electron penetration
    energy and at 1 MeV; then everything else from those.
    """
    grid = geomagnetic_grid().grid
    grid.check_altitudes(np.array([low_km, high_km]))
    levels = map_altitudes_km(low_km, high_km)
    top_km = float(grid.altitude_km[-1])
    return _map_over_levels(settings, min(float(levels[0]), top_km - ALTITUDE_STEP_KM), min(float(levels[-1]), top_km))


@lru_cache(maxsize=8)
def _map_over_levels(settings: RadiationSettings, first_km: float, last_km: float) -> RadiationMap:
    geomagnetic = geomagnetic_grid().at_altitudes(map_altitudes_km(first_km, last_km))
    solar, shielding_mm = settings.solar, settings.shielding_mm

    def spectrum(particle: str, energies_mev: np.ndarray) -> np.ndarray:
        """Integral flux (nodes..., energies) at increasing ``energies_mev``; past the first energy only where it is
        not zero (an integral flux only falls with energy): most nodes are outside the belts."""
        field_name = field_of(particle, solar)
        l_shell, b_ratio = geomagnetic.l_shell[field_name], geomagnetic.b_ratio[field_name]
        result = np.zeros((*l_shell.shape, energies_mev.size))
        result[..., 0] = integral_flux_cm2_s(particle, solar, energies_mev[0], l_shell, b_ratio)
        inside = result[..., 0] > 0.0
        result[inside, 1:] = integral_flux_cm2_s(particle, solar, energies_mev[1:], l_shell[inside][:, None],
                                                 b_ratio[inside][:, None])
        return result

    (_, proton_mev), (_, electron_mev), (_, bremsstrahlung_mev) = dose_fluxes(shielding_mm)
    first = max(int(np.searchsorted(PROTON_TABLE_ENERGIES_MEV, proton_mev, side="right")) - 1, 0)
    proton_energies = PROTON_TABLE_ENERGIES_MEV[first:]
    proton_spectrum = spectrum("p", proton_energies)
    proton_flux = log_linear_flux(proton_energies, proton_spectrum, np.array([proton_mev]))[..., 0]
    electron = spectrum("e", np.array(sorted([electron_mev, bremsstrahlung_mev])))
    if electron_mev > bremsstrahlung_mev:
        electron = electron[..., ::-1]
    proton_k, electron_k, bremsstrahlung_k = dose_per_particle_rad_cm2(shielding_mm)
    dose_rate = proton_k * proton_flux + electron_k * electron[..., 0] + bremsstrahlung_k * electron[..., 1]
    upsets = [population.bits * upset_rate_per_bit_s(population.cross_section, proton_energies, proton_spectrum,
                                                     shielding_mm) for population in settings.bits]
    values = np.stack([proton_flux, electron[..., 0], dose_rate, *upsets], axis=-1)
    return RadiationMap(geomagnetic.grid, map_names(settings), values, cell_corners(values))


def cumulative_dose_rad(dose_rate_rad_s: np.ndarray, time_s: np.ndarray) -> np.ndarray:
    """Dose (rad) accumulated since the first step along the last axis of ``dose_rate_rad_s`` (trapezoids)."""
    steps = 0.5 * (dose_rate_rad_s[..., 1:] + dose_rate_rad_s[..., :-1]) * np.diff(np.asarray(time_s, float))
    total = np.zeros(dose_rate_rad_s.shape)
    np.cumsum(steps, axis=-1, out=total[..., 1:])
    return total


RADIATION_ARRAYS = ("proton_flux_cm2_s", "electron_flux_cm2_s", "dose_rate_rad_s", "total_dose_rad", "seu_rate_s",
                    "seu_corrected_rate_s", "seu_detected_rate_s", "seu_silent_rate_s")


def radiation_arrays(latitude_deg: np.ndarray, longitude_deg: np.ndarray, altitude_km: np.ndarray, time_s: np.ndarray,
                     settings: RadiationSettings = RadiationSettings()) -> dict[str, np.ndarray]:
    """Radiation at every (sat, time) of geodetic positions (deg, deg, km) at ``time_s`` (s, the time axis).

    Returns :data:`RADIATION_ARRAYS` (sat, time), float32 but the dose: fluxes (cm^-2 s^-1) of protons and
    electrons that cross the shield, dose rate (rad(Si)/s) and dose since the first step (rad(Si),
    float64), upsets per second of all the satellite's bits and their split into corrected,
    detected-but-uncorrected and silent.
    """
    altitude_km = np.asarray(altitude_km, float)
    radiation = radiation_map(settings, float(np.min(altitude_km)), float(np.max(altitude_km)))
    shape = np.shape(latitude_deg)
    rows = max(1, POINTS_PER_CHUNK // max(shape[-1], 1))
    out = {name: np.empty(shape, np.float32) for name in radiation.names}
    for first in range(0, shape[0], rows):
        part = slice(first, first + rows)
        for name, values in radiation.at(latitude_deg[part], longitude_deg[part], altitude_km[part]).items():
            out[name][part] = values
    upsets = {population.name: out.pop(f"seu_rate_{population.name}_s") for population in settings.bits}
    result = {name: out[name] for name in ("proton_flux_cm2_s", "electron_flux_cm2_s", "dose_rate_rad_s")}
    result["total_dose_rad"] = cumulative_dose_rad(out["dose_rate_rad_s"].astype(float), time_s)
    none = np.zeros(shape, np.float32)
    result["seu_rate_s"] = sum(upsets.values(), none)
    for outcome in ("corrected", "detected", "silent"):
        result[f"seu_{outcome}_rate_s"] = sum((getattr(population.outcome, outcome) * upsets[population.name]
                                               for population in settings.bits), none).astype(np.float32)
    return result
