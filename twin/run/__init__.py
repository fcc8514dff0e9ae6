"""Running the twin: one plan of a run, executed in this process or on a Dask cluster.

:mod:`twin.run.plan` (the run planned once: fleet, time grid, attributes, layout, work),
:mod:`twin.run.progress` (the one count of its progress), :mod:`twin.run.simulate` (in this process),
:mod:`twin.run.scale_out` (on Dask, into a Zarr store), :mod:`twin.run.memory` (whether it fits).
"""
