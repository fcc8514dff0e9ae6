"""The engine (``twin.subsystems.engine`` through ``twin.run_scenario``): whole runs of power, thermal and compute.

Authorities and criteria:

- The first law over a whole run (issue acceptance criterion): for every satellite,
  ``sum_k (solar - load - battery loss - curtailed)_k dt_k = E_end - E_start``, to 1e-6 of the
  energy the array generated; the same with faults, and at steps of 10 s, 60 s and 600 s.
- Convergence in the step (any consistent time stepping): daily totals approach a fine-step
  reference as the step shrinks, and stay sensible at 10 min.
- Faults as ``twin.scenario.Fault`` defines them: ``satellite_lost`` stops everything,
  ``array_degraded`` removes ``severity`` of the array's output, ``radiator_stuck`` removes
  ``severity`` of the radiating area (the bus must run hotter: Stefan-Boltzmann).
- Eclipse season (June, phase 1's dawn-dusk orbit has about 14 min of umbra per 100 min orbit):
  no array output in umbra; the battery carries the loads; compute draws on it only above the
  reserve state of charge; loads are shed only when the battery cannot give more (floor or C-rate).
- The Seed (shared/REFERENCES.md): a space data center with power capacity above 1 GW (phase 3).

Run with ``pytest tests/test_engine.py -s`` to see the numbers.
"""

import math
import time
import tomllib

import numpy as np
import pytest

import twin
from twin.scenario import SCENARIO_DIR, Fault, ScenarioError, scenario_from_dict

DAY_S = 86_400.0
FAULT_S = 6 * 3600.0  # on the grid of every step used here
LOST, DEGRADED, STUCK = "CC1-001-03", "CC1-002-04", "CC1-003-05"
TWIN_OF_DEGRADED = "CC1-002-03"  # same sub-center, same bus, flying within a few hundred metres
FAULTS = (
    Fault(LOST, "satellite_lost", FAULT_S, 1.0),
    Fault(DEGRADED, "array_degraded", FAULT_S, 0.5),
    Fault(STUCK, "radiator_stuck", FAULT_S, 0.5),
)
STEPS_S = (600, 60, 10)
REFERENCE_STEP_S = 5
MWH = 3.6e9  # J
EFLOP = 1e18
MILLIWATT = 1e-3


def _raw_phase1():
    return tomllib.loads((SCENARIO_DIR / "phase1.toml").read_text())


def _steps_s(run):
    """Length of the interval ending at each time (s); index 0 has none (NaN)."""
    return np.r_[np.nan, np.diff(run["time"].values) / np.timedelta64(1, "s")]


def _integral_j(run, name):
    """Time integral of a (sat, time) power over the run, per satellite (J): sum of interval means times lengths."""
    return (run[name].values[:, 1:].astype(float) * _steps_s(run)[1:]).sum(axis=1)


def _after(run, seconds):
    """Boolean (time,) of the times at or after ``seconds`` from the first time."""
    return (run["time"].values - run["time"].values[0]) / np.timedelta64(1, "s") >= seconds


@pytest.fixture(scope="module")
def runs(phase1):
    """Phase 1 for a day (June: eclipse season) at 600, 60, 10 s and the 5 s reference."""
    result = {}
    for step_s in (*STEPS_S, REFERENCE_STEP_S):
        start = time.perf_counter()
        result[step_s] = twin.run_scenario(phase1, duration_s=DAY_S, step_s=step_s)
        print(f"\nphase 1, 24 h at {step_s} s: {time.perf_counter() - start:.1f} s")
    return result


@pytest.fixture(scope="module")
def fault_runs(phase1):
    """The same day with a satellite lost, an array half degraded and a radiator half stuck at 6 h."""
    return {step_s: twin.run_scenario(phase1, duration_s=DAY_S, step_s=step_s, faults=FAULTS) for step_s in STEPS_S}


# 1. Energy conservation -------------------------------------------------------------------------


@pytest.mark.parametrize("with_faults", [False, True], ids=["nominal", "faults"])
@pytest.mark.parametrize("step_s", STEPS_S)
def test_every_joule_generated_is_used_lost_curtailed_or_stored(runs, fault_runs, step_s, with_faults):
    """Acceptance criterion: per satellite and for the fleet, over a day of phase 1,
    ``sum (solar - load - loss - curtailed) dt = E[end] - E[0]`` to 1e-6 of the energy generated
    (measured: at most 3.4e-9 per satellite, from the float32 rounding of the stored powers), at 10 s, 60 s and 600 s,
    with and without faults (a lost satellite, a degraded array, a stuck radiator)."""
    run = (fault_runs if with_faults else runs)[step_s]
    generated = _integral_j(run, "generated_power")
    balance = generated - _integral_j(run, "used_power") - _integral_j(run, "battery_loss_power") \
        - _integral_j(run, "curtailed_power")
    energy = run["battery_energy"].values
    stored = energy[:, -1] - energy[:, 0]
    residual = balance - stored
    print(f"\n{step_s} s {'with faults' if with_faults else 'nominal'}: generated {generated.sum() / MWH:.4f} MWh, "
          f"stored {stored.sum() / MWH:+.5f} MWh; residual per satellite <= {np.abs(residual / generated).max():.1e}, "
          f"fleet {abs(residual.sum()) / generated.sum():.1e} of generated")
    assert np.all(generated > 0)
    assert np.all(np.abs(residual) <= 1e-6 * generated)
    assert abs(residual.sum()) <= 1e-6 * generated.sum()
    if with_faults:  # the lost satellite stops generating, using and storing at 6 h
        lost = list(run["sat"].values).index(LOST)
        after = _after(run, FAULT_S + step_s)
        assert np.all(run["generated_power"].values[lost, after] == 0)
        assert np.all(np.diff(energy[lost, _after(run, FAULT_S)]) == 0)


# 2. Stability and convergence in the step -------------------------------------------------------


def _daily_figures(run):
    """Energy generated and used (MWh), compute delivered (EFLOP), min SoC, max payload temperature
    from 12 h to 24 h (K; before that the maximum may be the start's equilibrium at the first step's load,
    which differs with the step)."""
    second_half = _after(run, DAY_S / 2)
    return {
        "generated_MWh": _integral_j(run, "generated_power").sum() / MWH,
        "used_MWh": _integral_j(run, "used_power").sum() / MWH,
        "compute_EFLOP": _integral_j(run, "compute_throughput").sum() / EFLOP,
        "min_soc": float(np.nanmin(run["battery_soc"].values)),
        "max_payload_K": float(run["temperature"].sel(node="payload").values[:, second_half].max()),
    }


# Agreement with the 5 s reference demanded at 10 s (measured differences in the docstring below).
WORKLOAD_DRIVEN = ("used_MWh", "compute_EFLOP")
AT_10_S = {"generated_MWh": 1e-4, "used_MWh": 0.01, "compute_EFLOP": 5.0, "min_soc": 0.002, "max_payload_K": 0.01}


def test_steps_from_10_s_to_10_min_are_stable_and_converge(runs, phase1):
    """Daily totals of phase 1 (24 h from 2026-06-01, eclipse season) at 600, 60 and 10 s against a
    5 s reference; measured when written (reference: 3.8915 MWh generated, 2.2331 MWh used,
    365.9 EFLOP delivered, min SoC 0.8265, max payload 327.053 K)::

        step     generated   used      compute   min SoC   max payload (12-24 h)
        600 s    +0.061      -0.0018   -0.57     +0.041    +0.063 K
         60 s    -0.00018    +0.0023   +0.75     +0.0059   +0.0038 K
         10 s    +6e-6       -0.0011   -0.37     +0.0003   -0.0005 K
        (MWh, MWh, EFLOP, 1, K: differences from the 5 s run)

    The physics converges: generated energy, the lowest state of charge and the payload
    temperature get closer to the reference at every refinement (the array output is a trapezoid
    over each step, its error from the eclipse edges). Energy used and compute delivered follow
    the workload, and the scheduler places each job by a discrete choice made on the queues at the
    start of a step, which shifts with the step: they agree within 0.3 % of the day's total at
    every step, and closer at 10 s than at 600 s, but not monotonically in between.

    Stability at every step: no NaN after the first time, batteries within [floor, capacity],
    temperatures within 250-360 K, no load shed.
    """
    reference = _daily_figures(runs[REFERENCE_STEP_S])
    figures = {step_s: _daily_figures(runs[step_s]) for step_s in STEPS_S}
    print("\nstep   " + "  ".join(f"{name:>14}" for name in reference))
    print(f"{REFERENCE_STEP_S:>4} s " + "  ".join(f"{value:14.6f}" for value in reference.values()))
    for step_s, values in figures.items():
        print(f"{step_s:>4} s " + "  ".join(f"{values[name] - reference[name]:+14.6f}" for name in reference))
    for name in reference:
        errors = [abs(figures[step_s][name] - reference[name]) for step_s in STEPS_S]
        if name in WORKLOAD_DRIVEN:
            assert errors[2] < errors[0] and max(errors) <= 0.003 * reference[name], (name, errors)
        else:
            assert errors[0] > errors[1] > errors[2], (name, errors)
        assert errors[2] <= AT_10_S[name], (name, errors)

    for step_s, run in runs.items():
        later = run.isel(time=slice(1, None))
        for name in ("generated_power", "used_power", "battery_loss_power", "curtailed_power", "compute_throughput",
                     "throttle", "battery_energy", "temperature"):
            assert np.isfinite(later[name].values).all(), (step_s, name)
        buses = [phase1.buses[bus] for bus in run["bus"].values]
        capacity_j = np.array([bus.battery_capacity_wh * 3600.0 for bus in buses])
        floor_j = capacity_j * (1 - np.array([bus.battery_max_depth_of_discharge for bus in buses]))
        energy = run["battery_energy"].values
        assert np.all(energy >= floor_j[:, None] - 1e-6) and np.all(energy <= capacity_j[:, None] + 1e-6), step_s
        temperature = run["temperature"].values
        assert temperature.min() > 250.0 and temperature.max() < 360.0, step_s
        assert np.nanmax(run["shed_power"].values) <= MILLIWATT, step_s


# 3. Faults --------------------------------------------------------------------------------------


def _subcenter_sum(run, name, subcenter):
    return run[name].where(run["subcenter"] == subcenter, drop=True).sum("sat")


def test_a_lost_satellite_stops_and_its_subcenter_delivers_less(runs, fault_runs):
    """``satellite_lost`` at 6 h (phase 1, 60 s): from that time ``alive`` is 0; every interval ending
    at or after it has no array output, no load, no capacity, no throughput and a throttle of 1. Before
    the fault the satellite is exactly as in the nominal run. Its sub-center, CC1-001, has 7 x 744
    CU left and delivers less than in the nominal run over the rest of the day (measured: about
    1.17 PFLOP/s against 1.57), and the work in progress on the lost satellite is lost
    (``compute_lost_cu_s`` > 0)."""
    run, nominal = fault_runs[60], runs[60]
    sat = run.sel(sat=LOST)
    at, after = _after(run, FAULT_S), _after(run, FAULT_S + 60)
    assert np.all(sat["alive"].values[at] == 0) and np.all(sat["alive"].values[~at] == 1)
    for name in ("generated_power", "used_power", "compute_capacity", "compute_throughput", "compute_utilization"):
        assert np.all(sat[name].values[at] == 0), name
    assert np.all(sat["throttle"].values[at] == 1)
    before = ~at
    np.testing.assert_array_equal(sat["generated_power"].values[before],
                                  nominal.sel(sat=LOST)["generated_power"].values[before])
    capacity = _subcenter_sum(run, "compute_capacity", "CC1-001").values[after]
    np.testing.assert_allclose(capacity, 7 * 744.0, rtol=1e-6)
    delivered = float(_subcenter_sum(run, "compute_throughput", "CC1-001")[after].mean())
    nominal_delivered = float(_subcenter_sum(nominal, "compute_throughput", "CC1-001")[after].mean())
    print(f"\nCC1-001 after the loss: {delivered / 1e15:.3f} PFLOP/s, nominal {nominal_delivered / 1e15:.3f}; "
          f"work lost {run.attrs['compute_lost_cu_s']:.3e} CU s")
    assert delivered < 0.95 * nominal_delivered
    assert run.attrs["compute_lost_cu_s"] > 0 and nominal.attrs["compute_lost_cu_s"] == 0


def test_a_half_degraded_array_gives_half_the_power_of_its_twin(fault_runs):
    """``array_degraded`` with severity 0.5 at 6 h: over intervals in full sun at both ends for both,
    CC1-002-04 gives 0.5 of the array output of CC1-002-03 (same bus, same sub-center, a few hundred
    metres away) to 1 %, and 1.0 before the fault (measured: 0.5 and 1.0 to 1e-6)."""
    run = fault_runs[60]
    lit = (run["illumination"].sel(sat=[DEGRADED, TWIN_OF_DEGRADED]) == 1).all("sat").values
    sunlit = lit & np.r_[False, lit[:-1]]
    ratio = (run["generated_power"].sel(sat=DEGRADED) / run["generated_power"].sel(sat=TWIN_OF_DEGRADED)).values
    after, before = sunlit & _after(run, FAULT_S + 60), sunlit & ~_after(run, FAULT_S)
    print(f"\narray ratio degraded/twin: before {ratio[before].min():.6f}-{ratio[before].max():.6f}, "
          f"after {ratio[after].min():.6f}-{ratio[after].max():.6f} ({after.sum()} sunlit steps)")
    assert after.sum() > 600 and before.sum() > 200
    np.testing.assert_allclose(ratio[after], 0.5, rtol=0.01)
    np.testing.assert_allclose(ratio[before], 1.0, rtol=0.01)


def test_a_stuck_radiator_heats_its_bus_above_the_others(fault_runs):
    """``radiator_stuck`` with severity 0.5 at 6 h halves CC1-003-05's radiating area; the radiator's
    balance ``eps sigma A T^4 = Q`` then settles 2^(1/4) = 1.19 times hotter for the same heat (less
    as compute throttles). Its bus node is within 1 K of the hottest of the seven others of CC1-003
    before, and from 2 h after the fault (two bus time constants, C_b / (4 eps sigma A T^3)) above
    them all, by more than 15 K at the end of the day (measured: 342.6 K against 314.8 K, 28 K; the
    payload reaches its 70 C throttle and sheds heat by computing less)."""
    run = fault_runs[60]
    bus = run["temperature"].sel(node="bus")
    mine = bus.sel(sat=STUCK).values
    others = bus.where((run["subcenter"] == "CC1-003") & (run["sat"] != STUCK), drop=True)
    assert others.sizes["sat"] == 7
    hottest = others.max("sat").values
    before, settled = ~_after(run, FAULT_S), _after(run, FAULT_S + 2 * 3600)
    print(f"\nbus of {STUCK}: {mine[-1]:.1f} K at 24 h, the others at most {hottest[-1]:.1f} K; "
          f"before the fault within {np.abs(mine[before] - hottest[before]).max():.2f} K")
    assert np.all(np.abs(mine[before] - hottest[before]) < 1.0)
    assert np.all(mine[settled] > hottest[settled])
    assert mine[-1] - hottest[-1] > 15.0


# 4. Eclipse season: discharge, throttling and shedding ------------------------------------------


def _umbra_intervals(run):
    """(sat, time) True for intervals in umbra at both ends."""
    dark = run["illumination"].values == 0
    return dark & np.c_[np.zeros((dark.shape[0], 1), bool), dark[:, :-1]]


def test_in_umbra_the_array_gives_nothing_and_the_battery_carries_the_loads(runs):
    """Phase 1 in June, 24 h at 60 s: every satellite crosses the umbra each orbit (about 14 min per
    100 min). Over intervals in umbra at both ends the array output is 0 and every battery's
    energy falls (it carries bus, comms and compute); its reserve of 75 % is never reached with the
    phase's 6 kWh and 3 kWh batteries, so compute is never throttled and nothing is shed."""
    run = runs[60]
    umbra = _umbra_intervals(run)
    minutes = umbra.sum(axis=1) / 14.4  # per orbit: 14.4 orbits a day at 750 km, roughly
    print(f"\numbra {minutes.min():.1f}-{minutes.max():.1f} min per orbit; "
          f"min SoC {float(run['battery_soc'].min()):.3f}")
    assert np.all(minutes > 10) and np.all(minutes < 20)
    assert np.all(run["generated_power"].values[umbra] == 0)
    energy = run["battery_energy"].values
    falls = np.c_[np.zeros((energy.shape[0], 1), bool), energy[:, 1:] < energy[:, :-1]]
    assert np.all(falls[umbra])
    assert float(run["battery_soc"].min()) > 0.75
    assert np.nanmax(run["throttle"].values) == 0
    assert np.nanmax(run["shed_power"].values) <= MILLIWATT


def _small_battery_run(capacity_wh, c_rate):
    raw = _raw_phase1()
    raw["buses"]["compute-s"].update(battery_capacity_wh=capacity_wh, battery_max_c_rate=c_rate)
    return twin.run_scenario(scenario_from_dict(raw), duration_s=6 * 3600, step_s=60)


def test_compute_is_throttled_in_umbra_once_a_small_battery_reaches_its_reserve():
    """compute-s with 2 kWh at 4 C (8 kW: the C-rate never binds): 14 min of umbra at 4.1 kW need
    3.4 MJ but only 1.8 MJ lie above the 75 % reserve, so compute is throttled in every umbra.
    Throttling starts only when the battery is within one step of full load of its reserve
    (``E - reserve <= P_full dt / eta_discharge``), never in full sun; the rest of the umbra the
    battery carries bus, comms and idle compute below the reserve and stays above its 60 % floor,
    so nothing is shed (to 1 mW)."""
    run = _small_battery_run(2000.0, 4.0)
    compute_s = run["bus"].values == "compute-s"
    umbra = _umbra_intervals(run) & compute_s[:, None]
    lit = run["illumination"].values == 1
    sunlit = lit & np.c_[np.zeros((lit.shape[0], 1), bool), lit[:, :-1]]
    throttle = run["throttle"].values
    capacity_j, eta, full_load_w = 2000.0 * 3600.0, math.sqrt(0.92), 3000.0 + 600.0 + 500.0 + 300.0
    energy = run["battery_energy"].values
    energy_before = np.c_[np.full((energy.shape[0], 1), np.nan), energy[:, :-1]]  # at the start of each interval
    throttled = (throttle > 0) & compute_s[:, None]
    print(f"\n2 kWh at 4 C: max throttle in umbra {throttle[umbra].max():.2f}, min SoC "
          f"{float(run['battery_soc'].values[compute_s].min()):.3f}, "
          f"max shed {np.nanmax(run['shed_power'].values):.1e} W")
    assert throttle[umbra].max() > 0.5
    assert np.all(throttle[umbra & (energy_before > 0.75 * capacity_j + full_load_w * 60.0 / eta)] == 0)
    assert np.all(throttle[sunlit & compute_s[:, None]] == 0)
    assert np.all(energy_before[throttled] - 0.75 * capacity_j <= full_load_w * 60.0 / eta + 1e-6)
    assert float(run["battery_soc"].values[compute_s].min()) > 0.6
    assert np.nanmax(run["shed_power"].values) <= MILLIWATT


def test_loads_are_shed_only_when_the_battery_is_at_its_floor():
    """compute-s with 0.8 kWh at 8 C (6.4 kW): 1.15 MJ above the 60 % floor cannot carry 14 min of
    umbra at 1.85-4.1 kW, so the floor is reached and loads are shed. Shedding (above 1 mW) happens
    only in intervals that end with the battery at its floor (to 1 mJ); wherever the battery ends
    above its floor by 1 J or more, nothing is shed; the battery never goes below the floor."""
    run = _small_battery_run(800.0, 8.0)
    compute_s = run["bus"].values == "compute-s"
    floor_j = 0.6 * 800.0 * 3600.0
    energy = run["battery_energy"].values[compute_s]
    shed = run["shed_power"].values[compute_s]
    print(f"\n0.8 kWh at 8 C: {np.nansum(shed > MILLIWATT)} satellite-steps shed, up to {np.nanmax(shed):.0f} W")
    assert np.nansum(shed > MILLIWATT) > 0
    assert np.all(np.abs(energy[shed > MILLIWATT] - floor_j) <= 1e-3)
    assert np.all(shed[:, 1:][energy[:, 1:] >= floor_j + 1.0] <= MILLIWATT)
    assert energy.min() >= floor_j - 1e-6


# 5. Bad inputs ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fault, pattern", [
    (Fault("CC1-009-01", "satellite_lost", 0.0, 1.0), r"^faults\[0\]\.target: 'CC1-009-01'"),
    (Fault("CC1-001-01", "exploded", 0.0, 1.0), r"^faults\[0\]\.kind: 'exploded'"),
    (Fault("CC1-001-01", "array_degraded", 0.0, 1.5), r"^faults\[0\]\.severity: 1\.5"),
    (Fault("CC1-001-01", "array_degraded", float("nan"), 0.5), r"^faults\[0\]\.start_s: nan"),
])
def test_a_bad_fault_names_the_field_and_the_value(phase1, fault, pattern):
    """A fault passed to ``run_scenario`` that cannot apply raises ValueError naming ``faults[i].field``
    and the value (a NaN start would otherwise never apply, silently)."""
    with pytest.raises(ValueError, match=pattern):
        twin.run_scenario(phase1, duration_s=600, step_s=60, faults=(fault,))


def test_a_bad_fault_is_named_by_its_index_in_the_faults_argument():
    """With one fault in the scenario file, the first fault passed to ``run_scenario`` is still
    ``faults[0]`` for the caller (the scenario's own are checked as ``scenario.faults[i]``)."""
    raw = _raw_phase1()
    raw["faults"] = [{"target": "CC1-001-02", "kind": "satellite_lost", "start": "1h"}]
    scenario = scenario_from_dict(raw)
    with pytest.raises(ValueError, match=r"^faults\[0\]\.target: 'CC1-009-01'"):
        twin.run_scenario(scenario, duration_s=600, step_s=60,
                          faults=(Fault("CC1-009-01", "satellite_lost", 0.0, 1.0),))


def test_a_battery_more_than_perfect_is_refused_naming_the_field():
    """A round-trip efficiency above 1 would create energy; the scenario is refused, naming the field
    and the value (the other bus fields are checked in tests/test_scenario.py)."""
    raw = _raw_phase1()
    raw["buses"]["compute-s"]["battery_round_trip_efficiency"] = 1.05
    with pytest.raises(ScenarioError, match=r"^buses\.compute-s\.battery_round_trip_efficiency: 1\.05"):
        scenario_from_dict(raw)


# 6. Phase 3: above a gigawatt -------------------------------------------------------------------


def test_phase3_generates_more_than_a_gigawatt_in_sunlight():
    """Seed: power capacity above 1 GW. Phase 3 (10,485 satellites in 144 sub-centers), each
    sub-center's chief standing for its satellites, 6 h at 5 min from its epoch: installed power
    (1361 W/m^2 x area x efficiency) above 1 GW, and the array power delivered by the fleet
    (``sum generated_power x represents``) above 1 GW at every step and on average (measured: about
    1.30 GW of 1.63 GW installed, with 85 % of the fleet in sunlight; June is eclipse season) and
    below the installed power (cells above 28 C, the Earth past 1 au)."""
    scenario = twin.load_scenario("phase3")
    start = time.perf_counter()
    run = twin.run_scenario(scenario, duration_s=6 * 3600, step_s=300, representatives=True)
    elapsed = time.perf_counter() - start
    represents = run["represents"]
    delivered = (run["generated_power"] * represents).sum("sat").values[1:]
    sunlit = float(((run["illumination"] * represents).sum("sat") / represents.sum()).mean())
    installed = run.attrs["installed_power_w"]
    print(f"\nphase 3 ({run.sizes['sat']} chiefs for {int(represents.sum())} satellites, {elapsed:.1f} s): installed "
          f"{installed / 1e9:.3f} GW, delivered {delivered.mean() / 1e9:.3f} GW mean, {delivered.min() / 1e9:.3f} GW "
          f"min; fleet sunlit {sunlit:.1%}")
    assert run.sizes["sat"] == scenario.subcenter_count == 144
    assert int(represents.sum()) == scenario.satellite_count == 10_485
    assert installed == pytest.approx(scenario.installed_power_w()) and installed > 1e9
    assert delivered.mean() > 1e9 and delivered.min() > 1e9
    assert delivered.max() < installed


@pytest.mark.parametrize("start, days", [("2035-06-06T00:00:00", 30), ("2035-03-01T00:00:00", 14)],
                         ids=["june-eclipse-season", "march"])
def test_phase3_loads_use_more_than_a_gigawatt_through_its_eclipse_season(start, days):
    """Seed: a data center above 1 GW, and a data center's power is what its loads use, not what its arrays
    generate: the fleet once generated 1.14 GW in June while its loads used 0.93 GW (compute 67 % busy) and
    the rest was curtailed. The month around the June solstice is the heart of the 18:00-LTAN eclipse
    season (tests/test_eclipse_season.py: umbra from mid-May to late July), the worst month for power;
    March has no umbra. Representatives at 10-minute steps: the loads use more than 1 GW, the arrays
    generate more than they use, the batteries go no lower than the compute reserve (75 %, where compute
    stops drawing on them; 0.761 at 60 s steps) and compute is not throttled beyond the report's warning threshold; the shadow loss shows in June."""
    from astropy.time import Time

    from twin.report.alerts import THROTTLE_FRACTION
    from twin.report.figures import summary

    scenario = twin.load_scenario("phase3")
    run = twin.run_scenario(scenario, start=Time(start, scale="utc"), duration_s=days * 86400.0,
                            step_s=600.0, representatives=True)
    total = summary(run, "total").iloc[0]
    print(f"\nphase 3, {days} d from {start[:10]}: generated {total['generated_power_MW']:.1f} MW, used "
          f"{total['used_power_MW']:.1f} MW (compute {total['used_compute_MW']:.1f}), curtailed "
          f"{total['curtailed_power_MW']:.1f} MW, throttled {total['throttle']:.3f}, min SoC {total['min_battery_soc']:.3f}, "
          f"lost to the shadow {total['eclipse_loss_MW']:.1f} MW ({total['eclipse_loss_percent']:.1f} %)")
    assert total["used_power_MW"] > 1000.0
    assert total["generated_power_MW"] > total["used_power_MW"]
    assert total["throttle"] < THROTTLE_FRACTION
    assert total["min_battery_soc"] > scenario.compute.battery_reserve_soc - 0.005  # compute stops drawing there
    if start.startswith("2035-06"):
        assert total["eclipse_loss_MW"] > 10.0


def test_power_margin_is_array_output_minus_demand(runs):
    """``power_margin`` = generated_power - (used_power + shed_power): negative in umbra (the battery
    covers the load), positive in sunlight with the phase-1 arrays (about 8 kW for 4 kW of load)."""
    run = runs[60]
    expected = run["generated_power"] - run["used_power"] - run["shed_power"]
    np.testing.assert_allclose(run["power_margin"].values[:, 1:], expected.values[:, 1:], atol=1e-3)
    lit = run["illumination"].values
    margin = run["power_margin"].values[:, 1:]
    assert np.all(margin[(lit[:, 1:] == 0) & (lit[:, :-1] == 0)] < 0)  # steps wholly in umbra
    assert np.all(margin[(lit[:, 1:] == 1) & (lit[:, :-1] == 1)] > 0)  # steps wholly in sunlight


# 6. Heat of the loads and the battery; the start's equilibrium --------------------------------------


def test_every_watt_used_or_lost_in_the_battery_heats_the_satellite(phase1, monkeypatch):
    """First law across power and thermal: each step, the heat given to the payload and bus nodes is the
    power the loads used plus the battery's conversion losses (which once left the energy balance
    without reaching the thermal model), per satellite, over 3 h of June with umbras."""
    import twin.subsystems.partition

    heats = []
    original = twin.subsystems.partition.step_temperatures

    def recording(model, payload_k, bus_k, payload_heat_w, bus_heat_w, *args, **kwargs):
        heats.append(np.asarray(payload_heat_w) + np.asarray(bus_heat_w))
        return original(model, payload_k, bus_k, payload_heat_w, bus_heat_w, *args, **kwargs)

    monkeypatch.setattr(twin.subsystems.partition, "step_temperatures", recording)
    run = twin.run_scenario(phase1, duration_s=3 * 3600, step_s=60)
    heat_w = np.array(heats).T  # (sat, steps 1..)
    used_w = run["used_power"].values[:, 1:].astype(float)
    loss_w = run["battery_loss_power"].values[:, 1:].astype(float)
    assert (loss_w > 1.0).any()  # the run charges and discharges
    np.testing.assert_allclose(heat_w, used_w + loss_w, rtol=1e-6, atol=1e-3)


def test_each_satellite_starts_at_the_equilibrium_of_its_own_first_load_and_sunlight(phase1):
    """Closed-form balance (``thermal.equilibrium_temperatures``): the temperatures at the first time are those
    at which the heat of the first step's loads (and battery losses) and the environment at that time
    radiate away. The experimental satellite gets no jobs: it starts at its idle payload's equilibrium,
    not 32 K hotter at the fleet's offered load as it once did."""
    from twin.subsystems.thermal import ThermalModel, environment_heat_w, equilibrium_temperatures

    run = twin.run_scenario(phase1, duration_s=3 * 3600, step_s=60)
    chiefs = np.flatnonzero(run["role"].values == "chief")  # members share their chief's environment geometry
    buses = run["bus"].values[chiefs]
    thermal = ThermalModel.from_buses(phase1.buses, buses)
    bus = lambda field: np.array([getattr(phase1.buses[name], field) for name in buses])
    idle = phase1.compute.idle_power_fraction
    first = lambda name: run[name].values[chiefs, 1].astype(float)
    payload_w = bus("compute_power_w") * (idle + (1.0 - idle) * first("compute_utilization")) - first("shed_power")
    bus_w = first("used_power") - payload_w + first("battery_loss_power")
    environment_w = environment_heat_w(thermal, run["position"].values[chiefs, 0], run["velocity"].values[chiefs, 0],
                                       run["sun_position"].values[0], run["illumination"].values[chiefs, 0])
    payload_k, bus_k = equilibrium_temperatures(thermal, payload_w, bus_w, environment_w)
    start = run["temperature"].values[chiefs, 0].astype(float)
    np.testing.assert_allclose(start[:, 0], payload_k, atol=1e-3)
    np.testing.assert_allclose(start[:, 1], bus_k, atol=1e-3)
    experimental = list(run["sat"].values[chiefs]).index("EXP-001-01")
    assert first("compute_utilization")[experimental] == 0.0
