"""The ``twin`` accessor: common questions asked of a twin dataset, in a line each.

Eclipses and sunlight (:meth:`~TwinAccessor.eclipse_intervals`, :meth:`~TwinAccessor.sunlit_fraction`,
:meth:`~TwinAccessor.umbra_fraction`), power and thermal margins (:meth:`~TwinAccessor.power_margins`,
:meth:`~TwinAccessor.thermal_margins`), compute delivered (:meth:`~TwinAccessor.compute_delivered`),
ground contacts (:meth:`~TwinAccessor.contacts`) and the anomalies of a state assimilated from
telemetry (:meth:`~TwinAccessor.anomalies`). Each answers with an xarray or pandas object whose
units are in its attributes (``attrs["units"]``) and in its names. Questions that need the bus
limits (margins) or the ground stations (contacts) take the scenario, by default the run's own
(its ``scenario_source`` attribute, else the built-in of its ``scenario`` name).

>>> import twin
>>> run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=3 * 3600, step_s=60)
>>> fraction = run.twin.sunlit_fraction()
>>> fraction.attrs["units"]
'1'
>>> bool((fraction > 0.5).all())
True
"""

from __future__ import annotations

import pandas as pd
import xarray as xr

from twin.network.contacts import run_contacts
from twin.orbit import eclipses
from twin.report import margins
from twin.report.overview import run_overview


@xr.register_dataset_accessor("twin")
class TwinAccessor:
    """Questions of a twin dataset: ``dataset.twin.eclipse_intervals("SAT")``, ``dataset.twin.sunlit_fraction()``.

    Each method is a line that hands the dataset to the module that answers it.
    """

    def __init__(self, dataset: xr.Dataset):
        self._dataset = dataset

    def eclipse_intervals(self, sat: str, kind: str = "umbra") -> pd.DataFrame:
        """One satellite's eclipses (:func:`twin.orbit.eclipses.eclipse_intervals`)."""
        return eclipses.eclipse_intervals(self._dataset, sat, kind)

    def sunlit_fraction(self) -> xr.DataArray:
        """Time-averaged fraction of the solar disk visible, per satellite (:func:`twin.orbit.eclipses.sunlit_fraction`)."""
        return eclipses.sunlit_fraction(self._dataset)

    def umbra_fraction(self) -> xr.DataArray:
        """Fraction of the steps each satellite spends in the umbra (:func:`twin.orbit.eclipses.umbra_fraction`)."""
        return eclipses.umbra_fraction(self._dataset)

    def subcenter(self, name: str) -> xr.Dataset:
        """The satellites of one sub-center."""
        selection = self._dataset["subcenter"] == name
        if not bool(selection.any()):
            raise KeyError(f"subcenter: {name!r} is not a sub-center of this run")
        return self._dataset.sel(sat=selection)

    def summary(self) -> dict:
        """Headline numbers of the run (:func:`twin.report.overview.run_overview`)."""
        return run_overview(self._dataset)

    def power_margins(self, scenario=None) -> pd.DataFrame:
        """Power and battery margins of each satellite (:func:`twin.report.margins.power_margins`)."""
        return margins.power_margins(self._dataset, scenario)

    def thermal_margins(self, scenario=None) -> pd.DataFrame:
        """Temperature margins of each satellite (:func:`twin.report.margins.thermal_margins`)."""
        return margins.thermal_margins(self._dataset, scenario)

    def compute_delivered(self) -> xr.DataArray:
        """Compute each satellite delivered, FLOP (:func:`twin.report.margins.compute_delivered`)."""
        return margins.compute_delivered(self._dataset)

    def contacts(self, station: str | None = None, sat: str | None = None, scenario=None) -> pd.DataFrame:
        """Passes over the ground stations (:func:`twin.network.contacts.run_contacts`)."""
        return run_contacts(self._dataset, station, sat, scenario)

    def anomalies(self, sensors: dict | None = None) -> pd.DataFrame:
        """Anomalies of a state assimilated from telemetry (:func:`twin.telemetry.anomalies.find_anomalies`).

        The run must be the output of :func:`twin.telemetry.assimilation.assimilate` (it holds the
        residuals, measured minus predicted). ``sensors`` gives the bands (default
        ``assets/telemetry/sensors.toml``). One row per anomaly: ``satellite``, ``subcenter``,
        ``variable``, ``start``, ``end``, ``duration_s``, ``size`` (the largest residual, in
        ``units``), ``band``.

        Examples
        --------
        A virtual fleet's hour with a degraded array, through the store and the twin:

        >>> import tempfile, twin
        >>> from twin.telemetry import assimilation, ingest, store, virtual_fleet
        >>> scenario, sensors = twin.load_scenario("phase1"), virtual_fleet.load_sensors()
        >>> fault = virtual_fleet.InjectedFault.parse("array_degraded:CC1-001-03:10min:0.5")
        >>> truth = virtual_fleet.simulate_truth(scenario, scenario.epoch, 3600, sensors, [fault])
        >>> folder = tempfile.TemporaryDirectory()
        >>> measurements = store.MeasurementStore(f"{folder.name}/tm.zarr")
        >>> rows = ingest.ingest_stream(ingest.Ingestor(measurements, clock="stream"),
        ...                             virtual_fleet.record(truth, sensors, [fault]).stream, "station")
        >>> groups = {kind: group.load() for kind, group in store.open_measurements(f"{folder.name}/tm.zarr").items()}
        >>> state = assimilation.assimilate(assimilation.model_run(scenario, groups, sensors), groups, sensors)
        >>> found = state.twin.anomalies()
        >>> sorted({(str(row.satellite), row.variable) for row in found.itertuples()})
        [('CC1-001-03', 'generated_power')]
        >>> folder.cleanup()
        """
        from twin.telemetry.anomalies import anomalies_of

        return anomalies_of(self._dataset, sensors)
