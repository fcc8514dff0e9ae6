"""Compute workload and scheduler: job statistics, service order, deadlines, conservation of work, scale."""

import time

import numpy as np
import pytest

import twin
from twin.subsystems.compute import Jobs, Scheduler, generate_jobs

HOUR_S = 3600.0


def make_jobs(rows, class_names=("batch",)):
    """Jobs from (arrival_s, size_cu_s, deadline_s, priority) rows, all of class 0."""
    arrival, size, deadline, priority = (np.array(column) for column in zip(*rows))
    return Jobs(arrival, size, deadline, priority.astype(int), np.zeros(len(rows), dtype=int), class_names)


def run(scheduler, capacity_cu, steps, dt_s=60.0, start_s=0.0):
    return [scheduler.step(start_s + k * dt_s, dt_s, capacity_cu) for k in range(steps)]


# generate_jobs


def test_generated_jobs_are_deterministic_for_the_seed():
    settings = twin.load_scenario("phase1").compute
    first, second = (generate_jobs(settings, installed_cu=18_600.0, duration_s=6 * HOUR_S) for _ in range(2))
    assert len(first) > 0
    for name in ("arrival_s", "size_cu_s", "deadline_s", "priority", "job_class"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    assert first.class_names == ("training", "inference", "eo-processing")
    assert np.all(np.diff(first.arrival_s) >= 0)
    assert first.arrival_s.min() >= 0 and first.arrival_s.max() < 6 * HOUR_S


def test_generated_jobs_follow_their_classes():
    """Arrival counts within 5 Poisson sigma; mean sizes within 3 % on 200 days; deadlines and priorities."""
    settings = twin.load_scenario("phase1").compute
    installed_cu, hours = 18_600.0, 200 * 24.0
    jobs = generate_jobs(settings, installed_cu, hours * HOUR_S)
    for index, job_class in enumerate(settings.classes):
        mine = jobs.job_class == index
        expected = job_class.jobs_per_subcenter_hour * hours
        assert abs(mine.sum() - expected) < 5 * np.sqrt(expected), job_class.name
        target_cu_s = job_class.offered_load * installed_cu * HOUR_S / job_class.jobs_per_subcenter_hour
        assert jobs.size_cu_s[mine].mean() == pytest.approx(target_cu_s, rel=0.03), job_class.name
        np.testing.assert_allclose(jobs.deadline_s[mine] - jobs.arrival_s[mine], job_class.deadline_hours * HOUR_S)
        assert np.all(jobs.priority[mine] == job_class.priority)
        spread = np.log(jobs.size_cu_s[mine]).std()
        assert spread == pytest.approx(job_class.size_spread, rel=0.05), job_class.name


# service order and placement


def test_priority_then_earliest_deadline_on_two_subcenters():
    """Two sub-centers of 1 CU (60 CU s a step). Placement by headroom = 1 CU * (deadline - step start) -
    queued work of the same or higher priority; on a tie, the sub-center with less work queued in all:

    a -> 0 (tie, both empty); b -> 1 (90000 > 89880); c -> 1 (priority 1: tie, 60 < 120 queued);
    d -> 0 (2000 > 1940); e -> 1 (priority 0: tie, 120 < 180); f -> 0 (1000 - 60 > 1000 - 120);
    g (priority 0) arrives in step 2: tie at 280, 60 queued on 1 against 120 on 0 -> 1.
    Sub-center 0 serves f (EDF before d), d, then a (lowest priority) over two steps;
    sub-center 1 serves e (priority 0), c, then g (priority 0, arrived) before finishing b.
    """
    jobs = make_jobs([
        (0.0, 120.0, 100_000.0, 2),  # a
        (0.0, 60.0, 90_000.0, 2),  # b
        (0.0, 60.0, 3000.0, 1),  # c
        (0.0, 60.0, 2000.0, 1),  # d
        (0.0, 60.0, 50_000.0, 0),  # e
        (0.0, 60.0, 1000.0, 1),  # f
        (130.0, 30.0, 400.0, 0),  # g
    ])
    scheduler = Scheduler(jobs, subcenter_of_satellite=np.array([0, 1]), subcenter_count=2)
    results = run(scheduler, np.array([1.0, 1.0]), steps=5)
    outcomes = scheduler.outcomes()
    assert outcomes["subcenter"].tolist() == [0, 1, 1, 0, 1, 0, 1]
    assert outcomes["end_s"].tolist() == [240.0, 240.0, 120.0, 120.0, 60.0, 60.0, 180.0]
    assert [r.completed.tolist() for r in results] == [[1, 1], [1, 1], [0, 1], [1, 1], [0, 0]]
    assert [r.queue_length.tolist() for r in results] == [[2, 2], [1, 1], [1, 1], [0, 0], [0, 0]]
    np.testing.assert_allclose(results[2].queued_work_cu_s, [60.0, 30.0])
    np.testing.assert_allclose([r.utilization for r in results], [[1, 1], [1, 1], [1, 1], [1, 0.5], [0, 0]])
    assert scheduler.totals()["overall"]["missed_jobs"] == 0


def test_utilization_is_bounded_and_zero_without_capacity():
    rng = np.random.default_rng(5)
    jobs = make_jobs([(10.0 * k, float(s), 10.0 * k + 900.0, 0) for k, s in enumerate(rng.uniform(10, 500, 60))])
    subcenter = np.repeat(np.arange(3), 4)
    scheduler = Scheduler(jobs, subcenter, subcenter_count=3)
    for k in range(20):
        capacity = rng.uniform(0.0, 3.0, 12) * (rng.random(12) > 0.3)
        result = scheduler.step(60.0 * k, 60.0, capacity)
        assert np.all((result.utilization >= 0) & (result.utilization <= 1))
        assert np.all(result.utilization[capacity == 0] == 0)
        np.testing.assert_allclose(result.served_cu_s, result.utilization * capacity * 60.0)
        assert np.all(result.served_cu_s <= capacity * 60.0 * (1 + 1e-12))


def test_a_subcenter_without_capacity_gets_no_new_jobs():
    """Sub-center 0 is empty but has no capacity; sub-center 1 is overloaded (negative headroom) and still wins."""
    rows = [(0.0, 1e6, 1e7, 1)] + [(60.0 + k, 100.0, 600.0 + k, 0) for k in range(10)] + [(130.0, 1.0, 1e4, 0)]
    scheduler = Scheduler(make_jobs(rows), subcenter_of_satellite=np.array([0, 0, 1, 2]), subcenter_count=3)
    first = scheduler.step(0.0, 60.0, np.array([0.0, 0.0, 1.0, 1.0]))
    assert first.queue_length.tolist() == [0, 1, 0]
    scheduler.step(60.0, 60.0, np.array([0.0, 0.0, 1.0, 0.0]))
    placed = scheduler.outcomes()["subcenter"].to_numpy()
    assert np.all(placed[:11] == 1)
    # with no capacity anywhere, a job still goes somewhere: the first sub-center with least work queued
    result = scheduler.step(120.0, 60.0, np.zeros(4))
    assert scheduler.outcomes()["subcenter"].iloc[11] == 0
    assert np.all(result.utilization == 0) and np.all(result.served_cu_s == 0)


def test_no_jobs():
    jobs = generate_jobs(twin.load_scenario("phase1").compute, installed_cu=1.0, duration_s=0.0)
    assert len(jobs) == 0
    scheduler = Scheduler(jobs, np.array([0, 1]), subcenter_count=2)
    result = scheduler.step(0.0, 60.0, np.ones(2))
    assert result.queue_length.tolist() == [0, 0] and np.all(result.utilization == 0)
    assert scheduler.totals()["overall"]["offered_cu_s"] == 0.0


def test_missed_deadlines_waste_the_work_served():
    jobs = make_jobs([(0.0, 1000.0, 120.0, 0), (0.0, 50.0, 300.0, 1)])
    scheduler = Scheduler(jobs, subcenter_of_satellite=np.array([0]), subcenter_count=1)
    results = run(scheduler, np.array([1.0]), steps=3)
    assert [r.missed.tolist() for r in results] == [[0], [1], [0]]
    assert [r.completed.tolist() for r in results] == [[0], [0], [1]]
    totals = scheduler.totals()["overall"]
    assert totals["missed_jobs"] == 1 and totals["completed_jobs"] == 1
    assert totals["wasted_cu_s"] == pytest.approx(120.0)
    assert totals["missed_unserved_cu_s"] == pytest.approx(880.0)
    assert results[2].utilization[0] == pytest.approx(50.0 / 60.0)


def test_lose_work_must_be_redone():
    jobs = make_jobs([(0.0, 300.0, 1e5, 0), (0.0, 300.0, 1e5, 0)])
    scheduler = Scheduler(jobs, subcenter_of_satellite=np.array([0, 1]), subcenter_count=2)
    run(scheduler, np.array([1.0, 1.0]), steps=2)
    assert scheduler.lose_work(0, 0.5) == pytest.approx(60.0)
    assert scheduler.lose_work(0, 0.0) == 0.0
    outcomes = scheduler.outcomes()
    assert outcomes["remaining_cu_s"].tolist() == [240.0, 180.0]
    run(scheduler, np.array([1.0, 1.0]), steps=4, start_s=120.0)
    outcomes = scheduler.outcomes()
    assert outcomes["end_s"].tolist() == [360.0, 300.0]  # one step later than its twin
    totals = scheduler.totals()["overall"]
    assert totals["lost_cu_s"] == pytest.approx(60.0)
    assert totals["served_cu_s"] == pytest.approx(660.0)
    # a sub-center with nothing running loses nothing
    assert scheduler.lose_work(1, 1.0) == 0.0


def test_work_is_conserved_over_a_run():
    """Random capacities (with zeros, whole sub-centers down for a while) and a fault halfway."""
    settings = twin.load_scenario("phase1").compute
    satellites, subcenters, dt_s, steps = 12, 4, 60.0, 400
    installed_cu = satellites * 744.0
    jobs = generate_jobs(settings, installed_cu, steps * dt_s, subcenters)
    scheduler = Scheduler(jobs, np.arange(satellites) % subcenters, subcenters)
    rng = np.random.default_rng(11)
    served_cu_s = 0.0
    lost_cu_s = 0.0
    completed = missed = 0
    for k in range(steps):
        capacity = 744.0 * rng.uniform(0.0, 0.9, satellites) * (rng.random(satellites) > 0.2)
        if 100 <= k < 160:
            capacity[np.arange(satellites) % subcenters == 2] = 0.0
        result = scheduler.step(k * dt_s, dt_s, capacity)
        served_cu_s += result.served_cu_s.sum()
        completed += result.completed.sum()
        missed += result.missed.sum()
        if k == 200:
            lost_cu_s += scheduler.lose_work(1, 0.6)
    assert lost_cu_s > 0
    overall = scheduler.totals()["overall"]
    assert overall["arrived_jobs"] == len(jobs)
    assert overall["completed_jobs"] == completed and overall["missed_jobs"] == missed
    assert completed > 0 and missed > 0 and overall["queued_jobs"] > 0
    assert overall["lost_cu_s"] == pytest.approx(lost_cu_s, rel=1e-12)
    assert overall["served_cu_s"] == pytest.approx(served_cu_s, rel=1e-9)
    assert overall["offered_cu_s"] == pytest.approx(jobs.size_cu_s.sum(), rel=1e-12)
    parts = ("completed_cu_s", "queued_served_cu_s", "queued_cu_s", "wasted_cu_s", "missed_unserved_cu_s")
    served_parts = ("completed_cu_s", "queued_served_cu_s", "wasted_cu_s", "lost_cu_s")
    for totals in [overall, *scheduler.totals()["classes"].values()]:
        assert totals["offered_cu_s"] == pytest.approx(sum(totals[key] for key in parts), rel=1e-12)
        assert totals["served_cu_s"] == pytest.approx(sum(totals[key] for key in served_parts), rel=1e-12)
        # offered + lost = served + everything still unserved
        unserved = totals["queued_cu_s"] + totals["missed_unserved_cu_s"]
        assert totals["offered_cu_s"] + totals["lost_cu_s"] == pytest.approx(totals["served_cu_s"] + unserved,
                                                                              rel=1e-12)
    classes = scheduler.totals()["classes"]
    assert sum(c["completed_jobs"] for c in classes.values()) == overall["completed_jobs"]


# bad input


@pytest.mark.parametrize("field, index, value, pattern", [
    ("size_cu_s", 2, 0.0, r"jobs\.size_cu_s\[2\]: 0\.0 must be above 0"),
    ("size_cu_s", 1, np.nan, r"jobs\.size_cu_s\[1\]: nan must be a finite number"),
    ("deadline_s", 1, 5.0, r"jobs\.deadline_s\[1\]: 5\.0 must be after the job's arrival_s"),
    ("job_class", 3, 2, r"jobs\.job_class\[3\]: 2 is not a class index; it must be in 0\.\.1"),
    ("priority", 0, -1, r"jobs\.priority\[0\]: -1 must be at least 0"),
    ("arrival_s", 3, 1.0, r"jobs\.arrival_s\[3\]: 1\.0 is before the previous job's arrival"),
])
def test_bad_jobs_are_named(field, index, value, pattern):
    columns = {
        "arrival_s": np.array([0.0, 10.0, 20.0, 30.0]),
        "size_cu_s": np.array([1.0, 2.0, 3.0, 4.0]),
        "deadline_s": np.array([100.0, 110.0, 120.0, 130.0]),
        "priority": np.array([0, 1, 2, 0]),
        "job_class": np.array([0, 1, 0, 1]),
    }
    columns[field][index] = value
    with pytest.raises(ValueError, match=pattern):
        Jobs(**columns, class_names=("a", "b"))


def test_bad_jobs_lengths_and_types():
    good = dict(arrival_s=[0.0], size_cu_s=[1.0], deadline_s=[2.0], priority=[0], job_class=[0], class_names=("a",))
    with pytest.raises(ValueError, match=r"jobs\.size_cu_s: 2 values, but arrival_s has 1"):
        Jobs(**{**good, "size_cu_s": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"jobs\.priority: must hold integers"):
        Jobs(**{**good, "priority": [0.5]})
    with pytest.raises(ValueError, match=r"jobs\.class_names"):
        Jobs(**{**good, "class_names": ()})
    jobs = Jobs(**good)
    with pytest.raises(ValueError):
        jobs.size_cu_s[0] = 5.0  # read-only


def test_bad_scheduler_input_is_named():
    jobs = make_jobs([(0.0, 1.0, 10.0, 0)])
    with pytest.raises(ValueError, match=r"subcenter_of_satellite\[2\]: 3 is out of range; it must be in 0\.\.2"):
        Scheduler(jobs, np.array([0, 1, 3]), subcenter_count=3)
    with pytest.raises(ValueError, match=r"subcenter_of_satellite\[0\]: -1 is out of range"):
        Scheduler(jobs, np.array([-1]), subcenter_count=3)
    with pytest.raises(ValueError, match=r"subcenter_count: 0"):
        Scheduler(jobs, np.array([0]), subcenter_count=0)
    scheduler = Scheduler(jobs, np.array([0, 1]), subcenter_count=2)
    with pytest.raises(ValueError, match=r"capacity_cu: shape \(3,\) does not match 2 satellites"):
        scheduler.step(0.0, 60.0, np.ones(3))
    with pytest.raises(ValueError, match=r"capacity_cu\[1\]: -1\.0 must be a finite number at least 0"):
        scheduler.step(0.0, 60.0, np.array([1.0, -1.0]))
    with pytest.raises(ValueError, match=r"dt_s: 0\.0"):
        scheduler.step(0.0, 0.0, np.ones(2))
    scheduler.step(0.0, 60.0, np.ones(2))
    with pytest.raises(ValueError, match=r"start_s: 0\.0 is before the end of the previous step"):
        scheduler.step(0.0, 60.0, np.ones(2))
    with pytest.raises(ValueError, match=r"subcenter: 2 is out of range"):
        scheduler.lose_work(2, 0.5)
    with pytest.raises(ValueError, match=r"fraction: 1\.5 is out of range"):
        scheduler.lose_work(0, 1.5)


def test_bad_generation_input_is_named():
    settings = twin.load_scenario("phase1").compute
    with pytest.raises(ValueError, match=r"installed_cu: 0\.0"):
        generate_jobs(settings, 0.0, 3600.0)
    with pytest.raises(ValueError, match=r"duration_s: -1\.0"):
        generate_jobs(settings, 1.0, -1.0)


# scale


def test_a_day_of_ten_thousand_satellites_runs_in_seconds():
    """10,000 satellites in 144 sub-centers, a day at 60 s, phase-3 job rates (about 1,000 jobs an hour)."""
    settings = twin.load_scenario("phase3").compute
    satellites, subcenters, dt_s = 10_000, 144, 60.0
    steps = int(86400 / dt_s)
    capacity_cu = np.full(satellites, 300_000.0)
    jobs = generate_jobs(settings, capacity_cu.sum(), steps * dt_s, subcenters)
    scheduler = Scheduler(jobs, np.arange(satellites) * subcenters // satellites, subcenters)
    rng = np.random.default_rng(3)
    throttle = rng.uniform(0.5, 1.0, (8, satellites))  # a few precomputed capacity patterns
    throttle[:, rng.random(satellites) < 0.01] = 0.0
    begin = time.perf_counter()
    for k in range(steps):
        result = scheduler.step(k * dt_s, dt_s, capacity_cu * throttle[k % 8])
    elapsed = time.perf_counter() - begin
    overall = scheduler.totals()["overall"]
    print(f"\n{len(jobs)} jobs, {steps} steps: {elapsed:.2f} s, {1e3 * elapsed / steps:.3f} ms per step; "
          f"completed {overall['completed_jobs']}, missed {overall['missed_jobs']}, "
          f"queued {overall['queued_jobs']}, mean utilization of the last step {result.utilization.mean():.3f}")
    assert overall["arrived_jobs"] == len(jobs) > 20_000
    assert overall["completed_jobs"] > 0.8 * len(jobs)


def test_phase2_offloads_ground_work_only_to_satellites_with_power_to_spare():
    """Ground work is conserved (arrived = offloaded + served on the ground + backlog, every step) and
    lands only on satellites without a power limit and with a battery above the scenario's floor."""
    scenario = twin.load_scenario("phase2")
    run = twin.run_scenario(scenario, duration_s=3 * 3600, step_s=60)
    arrived = np.cumsum(run["ground_arrived_work"].values)
    accounted = (np.cumsum(run["ground_offloaded_work"].values) + np.cumsum(run["ground_served_work"].values)
                 + run["ground_backlog_work"].values)
    np.testing.assert_allclose(accounted, arrived, rtol=1e-12)
    offload = run["offload_utilization"].values[:, 1:]
    assert offload.sum() > 0
    soc_before = run["battery_soc"].values[:, :-1]
    took = offload > 1e-9
    assert (soc_before[took] >= scenario.offload.min_battery_soc - 1e-6).all()
    assert (run["throttle"].values[:, 1:][took] <= 1e-6).all()
    assert np.nanmax(run["compute_utilization"].values) <= 1.0 + 1e-9
    installed_cu = np.array([scenario.buses[bus].compute_capacity_units for bus in run["bus"].values])
    done_in_orbit = (offload * installed_cu[:, None] * 60.0).sum()  # a full run: every row is one satellite
    np.testing.assert_allclose(done_in_orbit, run["ground_offloaded_work"].values.sum(), rtol=1e-5)  # float32 shares
    from twin.report.text import report

    assert "offloaded to orbit" in report(run)


def test_upsets_that_crash_a_job_lose_the_work_since_its_last_checkpoint():
    """A crash on a job that took a share s of its sub-center's capacity in the last step is hit by s of the
    sub-center's crashes, and each crash loses half a checkpoint interval of its service (at most its progress)."""
    jobs = make_jobs([(0.0, 1e4, 1e6, 0), (0.0, 1e4, 1e6, 1), (0.0, 1e4, 1e6, 0)])
    scheduler = Scheduler(jobs, subcenter_of_satellite=np.array([0, 1]), subcenter_count=2)
    results = run(scheduler, np.array([4.0, 4.0]), steps=3)  # jobs 0 and 2 on sub-center 0 and 1; job 1 waits
    assert results[-1].utilization.tolist() == [1.0, 1.0]
    progress = 1e4 - scheduler.outcomes()["remaining_cu_s"].to_numpy()
    # 0.5 crashes expected on sub-center 0, none on 1: job 0 served 240 CU s of 240 in the step (rate 4 CU),
    # so it loses 0.5 x 1 x 4 CU x 30 s = 60 CU s.
    assert scheduler.lose_to_crashes(np.array([0.5, 0.0]), checkpoint_interval_s=60.0) == pytest.approx(60.0)
    after = scheduler.outcomes()
    assert (1e4 - after["remaining_cu_s"]).tolist() == pytest.approx([progress[0] - 60.0, progress[1], progress[2]])
    assert scheduler.totals()["overall"]["lost_cu_s"] == pytest.approx(60.0)
    # many crashes lose at most what was done
    assert scheduler.lose_to_crashes(np.array([0.0, 1e6]), 60.0) == pytest.approx(progress[2])
    with pytest.raises(ValueError, match=r"^crashes\[0\]: -1.0 must be a finite number at least 0$"):
        scheduler.lose_to_crashes(np.array([-1.0, 0.0]), 60.0)
