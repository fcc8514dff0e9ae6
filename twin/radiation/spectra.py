"""AP8's spectra between its table energies: the integral flux is log-linear in energy there, so the
differential flux is its slope times itself (both exact for the model, from its fluxes at the table
energies, :data:`twin.radiation.belts.PROTON_TABLE_ENERGIES_MEV`)."""

from __future__ import annotations

import numpy as np


def _segments(node_energies_mev: np.ndarray, energy_mev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the upper node of the segment holding each of ``energy_mev`` and the fraction of the way up it."""
    upper = np.clip(np.searchsorted(node_energies_mev, energy_mev, side="right"), 1, node_energies_mev.size - 1)
    lower_mev, upper_mev = node_energies_mev[upper - 1], node_energies_mev[upper]
    return upper, np.clip((energy_mev - lower_mev) / (upper_mev - lower_mev), 0.0, 1.0)


def log_linear_flux(node_energies_mev: np.ndarray, node_flux_cm2_s: np.ndarray,
                    energy_mev: np.ndarray) -> np.ndarray:
    """Integral flux at ``energy_mev`` (k,) from fluxes (..., nodes) at ``node_energies_mev``, log-linear in energy
    as AP8 interpolates: one matrix product of the log fluxes. Returns (..., k).

    A zero flux counts as 1e-300 (its log as -690): between a node with flux and one without, the flux falls
    to nothing within the first per cent of the interval.
    """
    node_energies_mev, energy_mev = np.asarray(node_energies_mev, float), np.asarray(energy_mev, float)
    upper, weight = _segments(node_energies_mev, energy_mev)
    mixing = np.zeros((node_energies_mev.size, energy_mev.size))
    columns = np.arange(energy_mev.size)
    mixing[upper - 1, columns] = 1.0 - weight
    mixing[upper, columns] += weight
    flux = np.exp(np.log(np.maximum(np.asarray(node_flux_cm2_s, float), 1e-300)) @ mixing)
    flux[flux < 1e-200] = 0.0
    return flux


def differential_flux_cm2_s_mev(node_energies_mev: np.ndarray, node_flux_cm2_s: np.ndarray,
                                energy_mev: np.ndarray) -> np.ndarray:
    """Differential flux (cm^-2 s^-1 MeV^-1) at ``energy_mev`` (k,) from integral fluxes (..., nodes): on each
    segment ``-dJ/dE = J ln(J_a / J_b) / (E_b - E_a)``; zero where the segment has no flux at its top.

    Where the spectrum ends (flux at one table energy, none at the next) AP8 drops the flux to zero just
    above the last energy: the protons above it are a step there, not in this density.
    """
    node_energies_mev, energy_mev = np.asarray(node_energies_mev, float), np.asarray(energy_mev, float)
    node_flux_cm2_s = np.asarray(node_flux_cm2_s, float)
    upper, _ = _segments(node_energies_mev, energy_mev)
    lower_flux, upper_flux = node_flux_cm2_s[..., upper - 1], node_flux_cm2_s[..., upper]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.log(lower_flux / upper_flux) / (node_energies_mev[upper] - node_energies_mev[upper - 1])
        slope_flux = slope * log_linear_flux(node_energies_mev, node_flux_cm2_s, energy_mev)
    return np.where(upper_flux > 0.0, slope_flux, 0.0)
