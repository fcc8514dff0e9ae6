"""Phase 2's ground data centers: work that waits on the ground and moves to orbit when orbit has power to spare.

Work is fluid (capacity-unit-seconds, CU s). Each step of ``dt`` seconds:

1. ``arrival_cu * dt`` arrives in the ground backlog;
2. the constellation takes ``min(backlog, spare)``, where ``spare`` is the capacity left idle by its
   own jobs on the satellites allowed to take more (no power or thermal limit, battery full
   enough), shared among them in proportion to their spare capacity;
3. the ground serves ``min(what is left, capacity_cu * dt)``; the rest waits for the next step.

So ``arrived = offloaded + served on the ground + backlog`` holds at every step, exactly.

>>> import numpy as np
>>> ground = GroundDataCenters(arrival_cu=10.0, capacity_cu=4.0)
>>> ground.step(np.array([30.0, 10.0]), dt_s=6.0)   # 60 CU s arrive; orbit has 40 spare
array([30., 10.])
>>> ground.served_cu_s, ground.backlog_cu_s          # the ground serves 20 of the other 20
(20.0, 0.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class GroundDataCenters:
    """The ground side: ``arrival_cu`` of work offered and ``capacity_cu`` served per second (CU)."""

    arrival_cu: float
    capacity_cu: float
    backlog_cu_s: float = 0.0
    arrived_cu_s: float = 0.0    # in the last step
    offloaded_cu_s: float = 0.0  # in the last step
    served_cu_s: float = 0.0     # on the ground, in the last step

    def __post_init__(self):
        for name in ("arrival_cu", "capacity_cu"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name}: {value!r} must be a finite number at least 0")

    def step(self, spare_cu_s: np.ndarray, dt_s: float) -> np.ndarray:
        """Run one step; ``spare_cu_s`` (sat,) is what each satellite may take. Returns what each takes (CU s)."""
        spare = np.maximum(np.asarray(spare_cu_s, dtype=float), 0.0)
        return spare * self.take(float(spare.sum()), dt_s)

    def take(self, spare_cu_s: float, dt_s: float) -> float:
        """Run one step with ``spare_cu_s`` (CU s, at least 0) spare in orbit in all; returns the fraction of it taken."""
        self.arrived_cu_s = self.arrival_cu * dt_s
        self.backlog_cu_s += self.arrived_cu_s
        self.offloaded_cu_s = min(self.backlog_cu_s, spare_cu_s)
        fraction = self.offloaded_cu_s / spare_cu_s if spare_cu_s > 0 else 0.0
        self.backlog_cu_s -= self.offloaded_cu_s
        self.served_cu_s = min(self.backlog_cu_s, self.capacity_cu * dt_s)
        self.backlog_cu_s -= self.served_cu_s
        return fraction
