"""Running the twin: one plan of a run, executed in this process or on a Dask cluster."""
