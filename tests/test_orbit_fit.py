"""SGP4 differential correction (twin.telemetry.orbit_fit) against independent truth.

Truth orbits are propagated by the ``sgp4`` package directly and turned into GNSS-like fixes with
astropy's own TEME->ITRS transformation (not twin.orbit.frames), plus Gaussian noise of 5 m per axis.
The method is Vallado & Crawford, "SGP4 Orbit Determination", AIAA 2008-6770; the ISS element set
is the one printed in the sgp4 package's README (assets/tle/README.md).

Tolerances come from linear least squares: with ``p`` parameters fitted to ``N`` fixes of
isotropic noise ``sigma`` per axis, the fitted trajectory's 3-D error at the fixes has mean square
``sigma^2 p / N`` (the trace of the hat matrix, ``p``, spread over the fixes: chi-square with ``p``
degrees of freedom), and the residual's mean square is ``3 sigma^2 (1 - p / 3N)``.
"""

import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import ITRS, TEME, CartesianRepresentation
from astropy.time import Time
from sgp4.api import WGS72, Satrec
from sgp4.exporter import export_tle

import twin
from twin.orbit.constellation import design_fleet
from twin.orbit.fleet import SGP4_EPOCH_JD, satrec_from_elements
from twin.telemetry import orbit_fit
from twin.telemetry.orbit_fit import fit_orbits, predicted_positions_itrs_m

NOISE_M = 5.0  # GNSS fix noise per axis (1 sigma), a typical single-frequency receiver
TWO_PI = 2.0 * np.pi
REV_PER_DAY = TWO_PI / 1440.0  # rad/min
ISS_TLE = Path(__file__).parent.parent / "assets" / "tle" / "iss-2019-12-09.tle"


def iss() -> Satrec:
    (_, line1, line2), = twin.read_tle_file(ISS_TLE.read_text())
    return Satrec.twoline2rv(line1, line2, WGS72)


def changed(satrec: Satrec, **elements) -> Satrec:
    """``satrec`` with some of its mean elements replaced, by sgp4init directly (same epoch, drag, TLE fields)."""
    values = {name: getattr(satrec, name) for name in ("bstar", "ecco", "argpo", "inclo", "mo", "no_kozai", "nodeo")}
    values.update(elements)
    result = Satrec()
    result.sgp4init(WGS72, "i", satrec.satnum, (satrec.jdsatepoch - SGP4_EPOCH_JD) + satrec.jdsatepochF,
                    values["bstar"], 0.0, 0.0, values["ecco"], values["argpo"], values["inclo"],
                    np.mod(values["mo"], TWO_PI), values["no_kozai"], values["nodeo"])
    for field in ("classification", "intldesg", "elnum", "revnum"):
        setattr(result, field, getattr(satrec, field))
    return result


def epoch_of(satrec: Satrec) -> np.datetime64:
    return np.datetime64(Time(satrec.jdsatepoch, satrec.jdsatepochF, format="jd", scale="utc").isot, "ns")


def grid(start: np.datetime64, step_s: float, duration_s: float) -> np.ndarray:
    return start + (np.arange(0.0, duration_s + 1e-9, step_s) * 1e9).astype("timedelta64[ns]")


def teme_km(satrec: Satrec, times: np.ndarray) -> np.ndarray:
    """TEME positions (time, 3), km, from sgp4 itself."""
    t = Time(times, scale="utc")
    errors, position, _ = satrec.sgp4_array(t.jd1, t.jd2)
    assert not errors.any()
    return position


def astropy_fixes_m(satrec: Satrec, times: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """GNSS-like fixes (time, 3): sgp4 TEME positions to ITRS by astropy, in metres, plus noise."""
    t = Time(times, scale="utc")
    teme = TEME(CartesianRepresentation(teme_km(satrec, times).T * u.km), obstime=t)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Tried to get polar motions")
        itrs = teme.transform_to(ITRS(obstime=t)).cartesian.xyz.to_value(u.m).T
    return itrs + rng.normal(0.0, NOISE_M, itrs.shape)


def rms_error_m(satrec: Satrec, truth: Satrec, times: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.sum((teme_km(satrec, times) - teme_km(truth, times)) ** 2, axis=-1))) * 1e3


@pytest.fixture(scope="module")
def iss_case():
    """The ISS as truth, fixes every 30 s over 6 h, and a prior a few km off that drifts to ~60 km."""
    truth = iss()
    times = grid(epoch_of(truth), 30.0, 6 * 3600.0)
    fixes = astropy_fixes_m(truth, times, np.random.default_rng(2019))
    prior = changed(truth, mo=truth.mo + np.radians(0.05), no_kozai=truth.no_kozai + 0.005 * REV_PER_DAY)
    return truth, times, fixes, prior


def test_iss_fit_recovers_the_truth_within_its_noise(iss_case):
    """N = 721 fixes, p = 6: the fitted trajectory's RMS error is expected at 5 m x sqrt(6 / 721) =
    0.46 m (99.9 % quantile of the chi-square: 0.88 m), so 1 m. Six hours beyond the span, the error
    is dominated by the mean motion's: the along-track drift rate is known to
    sigma sqrt(12 / N) / span, so at 9 h from mid-span 5 m x 0.129 x 1.5 = 1.0 m (1 sigma); 5 m allowed."""
    truth, times, fixes, prior = iss_case
    assert rms_error_m(prior, truth, times) > 20e3  # the prior is far off: 6 km at epoch, 60 km at the end
    fit = fit_orbits([prior], times, fixes[None])
    assert fit.converged.tolist() == [True]
    assert fit.iterations <= 6
    assert rms_error_m(fit.satrecs[0], truth, times) < 1.0
    beyond = times + np.timedelta64(6, "h")
    error_beyond_m = np.linalg.norm(teme_km(fit.satrecs[0], beyond) - teme_km(truth, beyond), axis=-1) * 1e3
    assert error_beyond_m.max() < 5.0
    # The residual is the noise itself: sqrt(3) x 5 m x sqrt(1 - 6 / 2163) = 8.65 m, to 1.5 % (1 sigma).
    assert fit.rms_m[0] == pytest.approx(np.sqrt(3.0) * NOISE_M * np.sqrt(1 - 6 / (3 * 721)), rel=0.05)
    assert fit.fixes_used[0] >= 719  # a Gaussian fix beyond 5 sigma (chi, 3 dof) is a 1.5e-5 event
    # The fitted element set keeps the prior's epoch, drag term and TLE identity, and exports as a TLE.
    fitted = fit.satrecs[0]
    assert (fitted.jdsatepoch, fitted.jdsatepochF, fitted.bstar) == (prior.jdsatepoch, prior.jdsatepochF, prior.bstar)
    line1, line2 = export_tle(fitted)
    assert line1.startswith("1 25544U 98067A   19343.69339541") and line2.startswith("2 25544  51.64")
    assert abs(fitted.no_kozai - truth.no_kozai) < 1e-4 * (0.005 * REV_PER_DAY)


def test_iss_residuals_from_predicted_positions(iss_case):
    """predicted_positions_itrs_m is the model side of the residual: with the fit, it reproduces rms_m."""
    _, times, fixes, prior = iss_case
    fit = fit_orbits([prior], times, fixes[None])
    residual = fixes[None] - predicted_positions_itrs_m(fit.satrecs, times)
    assert np.sqrt(np.mean(np.sum(residual ** 2, axis=-1))) == pytest.approx(fit.rms_m[0], abs=0.05)


def raised(satrec: Satrec, raise_km: float) -> Satrec:
    """``satrec`` with SGP4's mean semi-major axis raised by ``raise_km`` (the mean motion to match)."""
    target_km = satrec.a * satrec.radiusearthkm + raise_km
    result = satrec
    for _ in range(4):
        result = changed(satrec, no_kozai=result.no_kozai * (result.a * result.radiusearthkm / target_km) ** 1.5)
    assert abs(result.a * result.radiusearthkm - target_km) < 1e-6
    return result


def test_designed_satellite_after_an_unmodelled_manoeuvre():
    """Phase 1's experimental satellite raises its orbit by 500 m (mean motion -1.05e-4 relative):
    the designed element set falls behind by 4.7 km an orbit, and the fit finds the new orbit from
    6 h of fixes, the semi-major axis within 0.5 m (its 1-sigma uncertainty is a few centimetres)."""
    designed = design_fleet(twin.load_scenario("phase1")).satrecs()[0]
    truth = raised(designed, 0.5)
    times = grid(epoch_of(designed), 60.0, 6 * 3600.0)
    fixes = astropy_fixes_m(truth, times, np.random.default_rng(500))
    before = np.linalg.norm(fixes - predicted_positions_itrs_m([designed], times)[0], axis=-1)
    hours = (times - times[0]) / np.timedelta64(1, "h")
    assert hours[np.argmax(before > 1000.0)] < 3.0 and before.max() > 1000.0
    fit = fit_orbits([designed], times, fixes[None])
    assert fit.converged[0]
    assert fit.rms_m[0] == pytest.approx(np.sqrt(3.0) * NOISE_M * np.sqrt(1 - 6 / (3 * times.size)), rel=0.05)
    fitted = fit.satrecs[0]
    assert (fitted.a - designed.a) * fitted.radiusearthkm * 1e3 == pytest.approx(500.0, abs=0.5)
    assert rms_error_m(fitted, truth, times) < 1.5  # 5 m x sqrt(6 / 361) = 0.64 m expected


@pytest.fixture(scope="module")
def many():
    """200 LEO satellites (350-1,500 km, e 1e-5 to 0.02, any inclination), fixes every 60 s over 2 h
    with 10 % missing, priors a few km off."""
    rng = np.random.default_rng(200)
    count = 200
    epoch_jd = 2461192.5  # 2026-06-01
    semi_major_axis_km = 6378.137 + rng.uniform(350.0, 1500.0, count)
    truths = [satrec_from_elements(epoch_jd, np.sqrt(398600.4418 / a**3) * 60.0, ecc, incl, raan, argp, anomaly,
                                   satnum=index + 1)
              for index, (a, ecc, incl, raan, argp, anomaly) in enumerate(zip(
                  semi_major_axis_km, 10 ** rng.uniform(-5, np.log10(0.02), count), rng.uniform(0.1, 3.0, count),
                  *rng.uniform(0.0, TWO_PI, (3, count))))]
    priors = [changed(t, mo=t.mo + rng.normal(0, 3e-4), no_kozai=t.no_kozai * (1 + rng.normal(0, 3e-5)))
              for t in truths]
    times = grid(np.datetime64("2026-06-01T00:00:00", "ns"), 60.0, 2 * 3600.0)
    fixes = predicted_positions_itrs_m(truths, times) + rng.normal(0.0, NOISE_M, (count, times.size, 3))
    fixes[rng.random((count, times.size)) < 0.1] = np.nan
    return truths, priors, times, fixes


def test_many_satellites_at_once_equal_each_alone(many):
    """The satellites are independent problems: fitting 200 together gives each one's own fit (< 1 mm)."""
    truths, priors, times, fixes = many
    together = fit_orbits(priors, times, fixes)
    assert together.converged.all()
    together_m = predicted_positions_itrs_m(together.satrecs, times)
    for index in range(len(priors)):
        alone = fit_orbits([priors[index]], times, fixes[index:index + 1])
        assert alone.converged[0] and alone.fixes_used[0] == together.fixes_used[index]
        difference_m = np.abs(predicted_positions_itrs_m(alone.satrecs, times)[0] - together_m[index]).max()
        assert difference_m < 1e-3, f"satellite {index}: {difference_m} m"
    # and each is right: p = 6, N ~ 109 fixes: 5 m x sqrt(6 / 109) = 1.2 m expected; 3 m for all 200
    errors = [rms_error_m(fitted, truth, times) for fitted, truth in zip(together.satrecs, truths)]
    assert max(errors) < 3.0


def test_missing_fixes_too_few_fixes_and_outliers(iss_case):
    """30 % of the fixes missing: still the truth within noise (N = 505: 0.55 m expected, 1.2 m allowed).
    A satellite with two fixes is not fitted: its prior comes back, flagged not converged. Five 10 km
    spikes are rejected (5 robust sigmas is about 25 m here) and the fit is as good as without them."""
    truth, times, fixes, prior = iss_case
    rng = np.random.default_rng(30)
    holes = fixes.copy()
    holes[rng.permutation(times.size)[: int(0.3 * times.size)]] = np.nan
    two = np.full_like(fixes, np.nan)
    two[[10, 500]] = fixes[[10, 500]]
    spiky = fixes.copy()
    spikes = rng.choice(times.size, 5, replace=False)
    directions = rng.normal(size=(5, 3))
    spiky[spikes] += 10e3 * directions / np.linalg.norm(directions, axis=-1, keepdims=True)
    fit = fit_orbits([prior, prior, prior], times, np.stack([holes, two, spiky]))
    assert fit.converged.tolist() == [True, False, True]
    assert rms_error_m(fit.satrecs[0], truth, times) < 1.2
    assert fit.fixes_used[0] >= times.size - int(0.3 * times.size) - 2
    assert fit.satrecs[1] is prior and fit.fixes_used[1] == 2
    assert fit.rms_m[1] > 1e3  # the prior against its two fixes
    assert fit.fixes_used[2] <= times.size - 5
    assert rms_error_m(fit.satrecs[2], truth, times) < 1.0
    assert fit.rms_m[2] < 10.0


def test_fit_bstar_recovers_drag():
    """With ``fit_bstar`` the drag term is solved for: an ISS with ten times its drag
    (bstar 3.9e-4 / Earth radii) over 12 h, from a prior without drag. Holding bstar at zero leaves
    a residual well above the noise; solving for it brings it to the noise and bstar within 10 %."""
    truth = changed(iss(), bstar=10 * iss().bstar)
    times = grid(epoch_of(truth), 60.0, 12 * 3600.0)
    fixes = astropy_fixes_m(truth, times, np.random.default_rng(7))
    prior = changed(truth, bstar=0.0, mo=truth.mo + 1e-4)
    without = fit_orbits([prior], times, fixes[None])
    fit = fit_orbits([prior], times, fixes[None], fit_bstar=True)
    noise_m = np.sqrt(3.0) * NOISE_M
    assert without.rms_m[0] > 2 * noise_m
    assert fit.converged[0] and fit.rms_m[0] == pytest.approx(noise_m, rel=0.05)
    assert fit.satrecs[0].bstar == pytest.approx(truth.bstar, rel=0.1)
    assert rms_error_m(fit.satrecs[0], truth, times) < 1.5


def test_a_diverging_gauss_newton_step_is_damped(iss_case, monkeypatch):
    """From the far side of the orbit (mean anomaly +170 deg) and an eccentricity of 0.05 instead of
    0.0007, plain Gauss-Newton steps raise the residual; Marquardt's damping takes over (seen here
    as a damped solve) and the fit still ends on the truth."""
    truth, times, fixes, _ = iss_case
    dampings = []
    solve = orbit_fit._damped_solve
    monkeypatch.setattr(orbit_fit, "_damped_solve", lambda *args: dampings.append(args[2].max()) or solve(*args))
    for far in (changed(truth, mo=truth.mo + np.radians(170.0)), changed(truth, ecco=0.05)):
        dampings.clear()
        fit = fit_orbits([far], times, fixes[None], max_iterations=20)
        assert max(dampings) > 0
        assert fit.converged[0] and rms_error_m(fit.satrecs[0], truth, times) < 1.0


def test_near_circular_and_equatorial_orbits():
    """Eccentricity 0 (SGP4 propagates anything below 1e-6 as 1e-6, so the fit stops at that floor)
    and inclination 0 (RAAN undefined): the equinoctial parameters fit both to the noise."""
    base = iss()
    for truth in (changed(base, ecco=0.0), changed(base, inclo=0.0)):
        times = grid(epoch_of(truth), 60.0, 3 * 3600.0)
        fixes = predicted_positions_itrs_m([truth], times) + np.random.default_rng(0).normal(0, NOISE_M, (1, times.size, 3))
        prior = changed(truth, ecco=truth.ecco + 3e-4, mo=truth.mo + 1e-3)
        fit = fit_orbits([prior], times, fixes)
        assert fit.converged[0] and rms_error_m(fit.satrecs[0], truth, times) < 1.5  # 5 m x sqrt(6 / 181) = 0.9 m
    assert fit.satrecs[0].inclo < 1e-5


@pytest.mark.parametrize("change, message", [
    (lambda a: {**a, "positions_itrs_m": a["positions_itrs_m"][:, :-1]}, r"positions_itrs_m: shape \(1, 4, 3\)"),
    (lambda a: {**a, "positions_itrs_m": a["positions_itrs_m"][..., :2]}, r"positions_itrs_m: shape \(1, 5, 2\)"),
    (lambda a: {**a, "positions_itrs_m": a["positions_itrs_m"] / 1e3}, "inside the Earth"),
    (lambda a: {**a, "positions_itrs_m": a["positions_itrs_m"] * np.inf}, "infinite"),
    (lambda a: {**a, "times": a["times"][::-1]}, "times: not strictly increasing at index 1"),
    (lambda a: {**a, "times": np.repeat(a["times"][:1], 5)}, "times: not strictly increasing"),
    (lambda a: {**a, "times": np.arange(5.0)}, "times: dtype float64 must be datetime64"),
    (lambda a: {**a, "priors": []}, "priors: no satellite given"),
    (lambda a: {**a, "priors": ["ISS"]}, r"priors\[0\]: str is not an sgp4.api.Satrec"),
    (lambda a: {**a, "max_iterations": 0}, "max_iterations: 0"),
    (lambda a: {**a, "tolerance_m": -1.0}, "tolerance_m: -1.0"),
])
def test_bad_input_is_refused_with_the_argument_and_value(change, message):
    satrec = iss()
    times = grid(epoch_of(satrec), 60.0, 240.0)
    arguments = {"priors": [satrec], "times": times, "positions_itrs_m": predicted_positions_itrs_m([satrec], times)}
    with pytest.raises(ValueError, match=message):
        fit_orbits(**change(arguments))
