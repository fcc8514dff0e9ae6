"""What couples the satellites of a fleet within a step: the scheduler placing jobs across sub-centers,
work lost with lost satellites, and phase 2's ground data centers.

:func:`drive` steps a list of :class:`twin.subsystems.partition.Partition` s (or Dask actors standing for them)
with one :class:`FleetCoupling`: each step the partitions offer their capacity per sub-center, the
coupling places and serves the jobs, the partitions take their utilisation (and, with ground data
centers, offer their spare and take the share offloaded), then settle. The sums over partitions are
the only exchange, so a fleet run as one partition or as many gives the same result to rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from twin.subsystems.compute import Scheduler
from twin.subsystems.offload import GroundDataCenters

GROUND_VARIABLES = {"ground_arrived_work": "arrived_cu_s", "ground_offloaded_work": "offloaded_cu_s",
                    "ground_served_work": "served_cu_s", "ground_backlog_work": "backlog_cu_s"}


class FleetCoupling:
    """The scheduler of ``jobs`` over ``clusters`` sub-centers and, optionally, the ground data centers; jobs
    crashed by upsets (the offers' ``crashes``) go back ``checkpoint_interval_s`` / 2 (``crash_lost_cu_s`` in all).

    Records per sub-center and step (cluster, time): jobs completed, missed, queued and the array
    output lost to the Earth's shadow; and the ground's work per step (time,).
    """

    def __init__(self, jobs, clusters: int, offset_s: np.ndarray, ground: GroundDataCenters | None = None,
                 checkpoint_interval_s: float | None = None):
        self.scheduler = Scheduler(jobs, np.arange(clusters), clusters)
        self.ground = ground
        self.checkpoint_interval_s = checkpoint_interval_s  # of jobs that upsets crash (offers' crashes)
        self.crash_lost_cu_s = 0.0
        self.offset_s = offset_s
        steps = offset_s.size
        self.completed, self.missed, self.queued, self.eclipse_loss = (np.zeros((clusters, steps)) for _ in range(4))
        self.eclipse_loss[:, 0] = np.nan  # an interval quantity, like generated_power
        self.ground_work = {name: np.zeros(steps) for name in GROUND_VARIABLES} if ground is not None else None

    def place(self, k: int, offers: list) -> np.ndarray:
        """Step ``k`` of the scheduler with the partitions' ``offers``; returns the utilisation of each sub-center."""
        starting = [offer for offer in offers if offer.eclipse_loss_w is not None]
        if starting:
            first, width = starting[0].block_start, starting[0].eclipse_loss_w.shape[1]
            self.eclipse_loss[:, first:first + width] = sum(offer.eclipse_loss_w for offer in starting)
        losing = [offer for offer in offers if offer.lost is not None]
        if losing:
            before = sum(offer.alive_before for offer in losing)
            lost = sum(offer.lost for offer in losing)
            for subcenter in np.flatnonzero((before > 0) & (lost > 0)):
                self.scheduler.lose_work(int(subcenter), float(lost[subcenter] / before[subcenter]))
        capacity = offers[0].capacity_cu.copy()
        for offer in offers[1:]:
            capacity += offer.capacity_cu
        result = self.scheduler.step_subcenters(self.offset_s[k - 1], self.offset_s[k] - self.offset_s[k - 1], capacity)
        self.completed[:, k], self.missed[:, k], self.queued[:, k] = result.completed, result.missed, result.queue_length
        crashing = [offer.crashes for offer in offers if offer.crashes is not None]
        if crashing:
            self.crash_lost_cu_s += self.scheduler.lose_to_crashes(sum(crashing), self.checkpoint_interval_s)
        return result.utilization

    def offload(self, k: int, spares_cu_s: list[float]) -> float:
        """The ground's step ``k`` given the partitions' spare (CU s); returns the fraction of the spare taken."""
        fraction = self.ground.take(float(sum(spares_cu_s)), self.offset_s[k] - self.offset_s[k - 1])
        for name, attribute in GROUND_VARIABLES.items():
            self.ground_work[name][k] = getattr(self.ground, attribute)
        return fraction


def call_each(partitions: list, method: str, *args) -> list:
    """Call ``method`` on every partition in this process."""
    return [getattr(partition, method)(*args) for partition in partitions]


def drive(partitions: list, coupling: FleetCoupling, first: int = 1, call: Callable = call_each,
          progress: Callable[[int], None] | None = None, on_checkpoint: Callable | None = None) -> None:
    """Step ``partitions`` from step ``first`` to the end, coupled by ``coupling``.

    ``call(partitions, method, *args)`` returns each partition's answer (in order); Dask actors
    answer through :mod:`twin.run.scale_out`. ``on_checkpoint(step, states)`` receives the
    partitions' states when every partition opens a window (a place to resume from).
    """
    steps = coupling.offset_s.size
    previous = None
    for k in range(first, steps):
        offers = call(partitions, "advance", k, previous)
        if on_checkpoint is not None and all(offer.checkpoint is not None for offer in offers):
            on_checkpoint(k, [offer.checkpoint[1] for offer in offers])
        utilization = coupling.place(k, offers)
        if coupling.ground is not None:
            previous = (None, coupling.offload(k, call(partitions, "serve", k, utilization)))
        else:
            previous = (utilization, 0.0)
        if progress:
            progress(1)
    call(partitions, "advance", steps, previous)
