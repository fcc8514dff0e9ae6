"""The build-up over years in one run: launches, commissioning, ageing, failures, replacements and disposal of a
scenario's fleet, sub-center by sub-center, at coarse steps (``[lifecycle]`` of a scenario).

* :mod:`twin.lifecycle.schedule`: what the scenario fixes before the run: the sub-centers (each one row, its chief
  standing for it), their launches, their buses, the members' shares;
* :mod:`twin.lifecycle.energy`: one orbit's energy balance of a satellite at a step, from its sunlit fraction and
  the age of its array and battery;
* :mod:`twin.lifecycle.cohorts`: the satellites in orbit as cohorts (those of one sub-center launched together),
  stepped in time;
* :mod:`twin.lifecycle.run`: the run, written to its Zarr store a chunk of steps at a time and resumed after an
  interruption (:func:`run_lifecycle`).
"""

from twin.lifecycle.run import run_lifecycle
from twin.lifecycle.schedule import Schedule

__all__ = ["Schedule", "run_lifecycle"]
