"""Single-event upsets (twin.radiation.upsets) against closed-form integrals, and hardware health."""

import math

import numpy as np
import pytest
from scipy.special import erfc

from twin.radiation.belts import PROTON_TABLE_ENERGIES_MEV
from twin.radiation.hardware import HardwareHealth
from twin.radiation.upsets import BitPopulation, UpsetOutcome, WeibullCrossSection, upset_rate_per_bit_s

# An exponential integral spectrum J(>E) = A exp(-E / E_c) is log-linear in energy: AP8's own interpolation
# between its table energies represents it exactly, so only the integration is under test.
A_CM2_S, E_C_MEV = 1000.0, 40.0


def closed_form_rate(cross_section: WeibullCrossSection) -> float:
    """R = integral of J dsigma from E0, for shapes 1 and 2 (substitute u = (E - E0) / W):
    s = 1: sigma_sat J(>E0) E_c / (E_c + W);
    s = 2: sigma_sat J(>E0) (1 - b sqrt(pi)/2 exp(b^2/4) erfc(b/2)), b = W / E_c."""
    at_threshold = cross_section.saturation_cm2 * A_CM2_S * math.exp(-cross_section.threshold_mev / E_C_MEV)
    b = cross_section.width_mev / E_C_MEV
    if cross_section.shape == 1.0:
        return at_threshold / (1.0 + b)
    assert cross_section.shape == 2.0
    return at_threshold * (1.0 - b * math.sqrt(math.pi) / 2.0 * math.exp(b * b / 4.0) * erfc(b / 2.0))


@pytest.mark.parametrize("shape", [1.0, 2.0])
@pytest.mark.parametrize("threshold_mev, width_mev", [(10.0, 25.0), (2.0, 5.0), (30.0, 80.0)])
def test_upset_rate_matches_the_closed_form_integral_over_the_spectrum(shape, threshold_mev, width_mev):
    cross_section = WeibullCrossSection(1e-14, threshold_mev, width_mev, shape)
    spectrum = A_CM2_S * np.exp(-PROTON_TABLE_ENERGIES_MEV / E_C_MEV)
    rate = upset_rate_per_bit_s(cross_section, PROTON_TABLE_ENERGIES_MEV, spectrum, None)
    assert rate == pytest.approx(closed_form_rate(cross_section), rel=2e-4)


def test_shielding_removes_upsets_by_slowing_the_protons():
    """Behind t of aluminium the spectrum is the incident one shifted by the range (CSDA): for a step
    cross section (shape 10, width 1) at E0 the rate is sigma_sat J_in(>E_in(E0)) with R(E_in) = R(E0) + t."""
    from twin.radiation.ranges import energy_before_shield_mev

    step = WeibullCrossSection(1e-14, 30.0, 1.0, 10.0)
    spectrum = A_CM2_S * np.exp(-PROTON_TABLE_ENERGIES_MEV / E_C_MEV)
    rates = [upset_rate_per_bit_s(step, PROTON_TABLE_ENERGIES_MEV, spectrum, shielding_mm)
             for shielding_mm in (1.0, 5.0, 10.0)]
    for shielding_mm, rate in zip((1.0, 5.0, 10.0), rates):
        entering = float(energy_before_shield_mev(31.0, shielding_mm))  # the step rises from 30 to 31 MeV
        assert rate == pytest.approx(1e-14 * A_CM2_S * math.exp(-entering / E_C_MEV), rel=0.03), shielding_mm
    assert rates[0] > rates[1] > rates[2]


def test_the_rate_is_a_vectorised_linear_function_of_the_spectrum():
    cross_section = WeibullCrossSection(5e-18, 5.0, 30.0, 1.5)
    spectra = np.stack([np.exp(-PROTON_TABLE_ENERGIES_MEV / 40.0), 3.0 * np.exp(-PROTON_TABLE_ENERGIES_MEV / 40.0)])
    rates = upset_rate_per_bit_s(cross_section, PROTON_TABLE_ENERGIES_MEV, spectra[None, :, :], 2.0)
    assert rates.shape == (1, 2) and rates[0, 1] == pytest.approx(3.0 * rates[0, 0], rel=1e-12)
    assert upset_rate_per_bit_s(cross_section, PROTON_TABLE_ENERGIES_MEV, 0.0 * spectra[0], 2.0) == 0.0


@pytest.mark.parametrize("field, value", [("saturation_cm2", 0.0), ("saturation_cm2", 1e-3), ("saturation_cm2", -1e-14),
                                          ("threshold_mev", -1.0), ("threshold_mev", 500.0), ("width_mev", 0.0),
                                          ("shape", 0.0), ("shape", 11.0), ("shape", math.nan)])
def test_a_cross_section_out_of_physical_range_is_refused_naming_the_field(field, value):
    parameters = {"saturation_cm2": 1e-14, "threshold_mev": 2.0, "width_mev": 15.0, "shape": 1.2, field: value}
    with pytest.raises(ValueError, match=rf"^{field}: {value!r} is outside the physical range"):
        WeibullCrossSection(**parameters)


def test_outcomes_are_fractions_that_add_up_and_bits_are_counted():
    with pytest.raises(ValueError, match=r"^corrected \+ detected \+ silent: 1.1 is not 1"):
        UpsetOutcome(0.9, 0.1, 0.1)
    with pytest.raises(ValueError, match=r"^silent: -0.1 is outside"):
        UpsetOutcome(1.0, 0.1, -0.1)
    with pytest.raises(ValueError, match=r"^memory.bits: -5.0 is outside"):
        BitPopulation("memory", -5.0, WeibullCrossSection(1e-17, 5.0, 30.0, 1.5), UpsetOutcome(1.0, 0.0, 0.0))


def test_hardware_health_from_dose_and_random_failures():
    health = HardwareHealth()
    # 15 krad, where the Suncatcher TPUs had no hard failure, is the 5th percentile by construction.
    assert float(health.failed_by_dose(15e3)) == pytest.approx(0.05, abs=1e-3)
    assert float(health.failed_by_dose(0.0)) == 0.0
    # Llama 3: 220 GPU/HBM3 interruptions in 54 days of 16,384 GPUs.
    assert health.random_failures_per_year == pytest.approx(0.0908, abs=1e-4)
    lost = health.capacity_lost_fraction(np.array([0.0, 34.1e3]), np.array([0.0, 3.15576e7]))
    assert lost[0] == 0.0 and lost[1] == pytest.approx(1.0 - 0.5 * math.exp(-0.0908), abs=2e-3)
    with pytest.raises(ValueError, match=r"^random_failures_per_year: -1.0 is outside"):
        HardwareHealth(random_failures_per_year=-1.0)
    with pytest.raises(ValueError, match=r"^dose_median_krad: 0.0 is outside"):
        HardwareHealth(dose_median_krad=0.0)


def test_on_a_real_ap8_spectrum_both_forms_of_the_integral_agree():
    """R = integral of sigma phi dE (the differential spectrum, twin.radiation.spectra, checked against aep8's
    own finite-difference differential flux) = integral of J dsigma (what upset_rate_per_bit_s computes)."""
    import aep8
    from astropy import units as u

    from twin.radiation.belts import integral_flux_cm2_s
    from twin.radiation.spectra import differential_flux_cm2_s_mev

    l_shell, b_ratio = np.array([[1.25], [1.4]]), np.array([[1.15], [1.05]])  # in the SAA at 700-800 km
    spectrum = integral_flux_cm2_s("p", "min", PROTON_TABLE_ENERGIES_MEV, l_shell, b_ratio)
    probe_mev = np.array([12.0, 45.0, 120.0])
    theirs = aep8.model("p", "min").differential_flux_for_geomagnetic_coordinates(
        l_shell, b_ratio, probe_mev * u.MeV).to_value(u.cm**-2 * u.s**-1 * u.MeV**-1)
    np.testing.assert_allclose(differential_flux_cm2_s_mev(PROTON_TABLE_ENERGIES_MEV, spectrum, probe_mev), theirs,
                               rtol=1e-3)
    for cross_section in (WeibullCrossSection(5e-18, 5.0, 30.0, 1.5), WeibullCrossSection(1e-14, 2.0, 15.0, 1.2)):
        energy = np.linspace(cross_section.threshold_mev, 400.0, 20_001)
        integrand = cross_section.cross_section_cm2(energy) * differential_flux_cm2_s_mev(
            PROTON_TABLE_ENERGIES_MEV, spectrum, energy)
        by_differential = 0.5 * ((integrand[..., 1:] + integrand[..., :-1]) * np.diff(energy)).sum(axis=-1)
        # Where AP8's flux ends (zero at the next table energy), the model drops it to zero just above that energy:
        # the protons above it form a step of J at that energy, which a differential form must add.
        last = (spectrum > 0.0).sum(axis=-1) - 1
        end_flux = np.take_along_axis(spectrum, last[..., None], axis=-1)[..., 0]
        by_differential += cross_section.cross_section_cm2(PROTON_TABLE_ENERGIES_MEV[last]) * end_flux
        np.testing.assert_allclose(upset_rate_per_bit_s(cross_section, PROTON_TABLE_ENERGIES_MEV, spectrum, None),
                                   by_differential, rtol=1e-3)
