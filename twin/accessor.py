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

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .figures import interval_integral, interval_mean, interval_seconds
from .intervals import threshold_intervals
from .sunlight import shadow_margins_rad

UMBRA = 1e-9  # illumination below this is umbra (the conical model gives exactly 0 there)


@xr.register_dataset_accessor("twin")
class TwinAccessor:
    """Questions of a twin dataset: ``dataset.twin.eclipse_intervals("SAT")``, ``dataset.twin.sunlit_fraction()``."""

    def __init__(self, dataset: xr.Dataset):
        self._dataset = dataset

    def _seconds(self) -> np.ndarray:
        times = self._dataset["time"].values
        return (times - times[0]) / np.timedelta64(1, "s")

    def eclipse_intervals(self, sat: str, kind: str = "umbra") -> pd.DataFrame:
        """Eclipses of one satellite: ``start``, ``end`` (UTC), ``duration_s`` and ``complete``.

        ``kind="umbra"`` gives the time in full shadow; ``kind="shadow"`` the time with any part
        of the Sun hidden (umbra and penumbra). Edges are the zeros of a smooth shadow margin
        (:func:`twin.sunlight.shadow_margins_rad`), interpolated by the quadratic through three
        steps: within a second of an independent ray-traced computation at 30 s steps
        (``tests/test_eclipse_season.py``), worse only for grazing eclipses of a few minutes.
        """
        kinds = ("umbra", "shadow")
        if kind not in kinds:
            raise ValueError(f"kind: {kind!r} is not one of {', '.join(kinds)}")
        if sat not in self._dataset.indexes["sat"]:
            raise KeyError(f"sat: {sat!r} is not a satellite of this run")
        position_m = self._dataset["position"].sel(sat=sat).values
        margin = shadow_margins_rad(position_m, self._dataset["sun_position"].values)[kinds.index(kind)]
        shadowed = threshold_intervals(self._seconds(), -margin[None, :], np.zeros(1))  # in shadow: margin < 0
        start = self._dataset["time"].values[0]
        result = pd.DataFrame({
            "start": start + np.round(shadowed["start_s"] * 1e9).astype("timedelta64[ns]"),
            "end": start + np.round(shadowed["end_s"] * 1e9).astype("timedelta64[ns]"),
            "duration_s": shadowed["end_s"] - shadowed["start_s"],
            "complete": shadowed["start_observed"] & shadowed["end_observed"],
        })
        result.attrs["units"] = {"duration_s": "s"}
        return result

    def sunlit_fraction(self) -> xr.DataArray:
        """Time-averaged fraction of the solar disk visible, per satellite (1 = never shadowed)."""
        fraction = self._dataset["illumination"].mean("time")
        fraction.attrs = {"long_name": "sunlit fraction (mean illumination over the run)", "units": "1"}
        return fraction.rename("sunlit_fraction")

    def umbra_fraction(self) -> xr.DataArray:
        """Fraction of the steps each satellite spends in the umbra."""
        fraction = (self._dataset["illumination"] < UMBRA).mean("time")
        fraction.attrs = {"long_name": "fraction of time in umbra", "units": "1"}
        return fraction.rename("umbra_fraction")

    def subcenter(self, name: str) -> xr.Dataset:
        """The satellites of one sub-center."""
        selection = self._dataset["subcenter"] == name
        if not bool(selection.any()):
            raise KeyError(f"subcenter: {name!r} is not a sub-center of this run")
        return self._dataset.sel(sat=selection)

    def summary(self) -> dict:
        """Headline numbers of the run: satellites, sub-centers, steps, span, sunlit fraction, beta range."""
        dataset = self._dataset
        times = dataset["time"].values
        return {
            "scenario": dataset.attrs.get("scenario", ""),
            "satellites": int(dataset.sizes["sat"]),
            "subcenters": int(np.unique(dataset["subcenter"].values).size),
            "owners": int(np.unique(dataset["owner"].values).size),
            "steps": int(dataset.sizes["time"]),
            "start": str(times[0])[:19] + "Z",
            "end": str(times[-1])[:19] + "Z",
            "mean_sunlit_fraction": float(dataset["illumination"].mean()),
            "min_sunlit_fraction": float(self.sunlit_fraction().min()),
            "altitude_km_range": (float(dataset["altitude"].min()) / 1e3, float(dataset["altitude"].max()) / 1e3),
            "beta_angle_deg_range": (float(dataset["beta_angle"].min()), float(dataset["beta_angle"].max())),
        }

    def _scenario(self, scenario):
        """``scenario``, or the run's own: its ``scenario_source`` file if it exists, else the built-in of its name."""
        if scenario is not None:
            return scenario
        from .scenario import load_scenario

        source = self._dataset.attrs.get("scenario_source", "")
        name = source if source and Path(source).is_file() else self._dataset.attrs.get("scenario", "")
        if not name:
            raise ValueError("scenario: this run does not say which scenario made it; pass scenario=")
        return load_scenario(name)

    def _bus_values(self, scenario, field: str) -> np.ndarray:
        """One field of each satellite's bus (sat,)."""
        buses = self._scenario(scenario).buses
        return np.array([getattr(buses[bus], field) for bus in self._dataset["bus"].values.astype(str)], dtype=float)

    def _require(self, names: tuple[str, ...], what: str) -> None:
        missing = [name for name in names if name not in self._dataset.variables]
        if missing:
            raise ValueError(f"run: has no {', '.join(missing)}; {what}")

    def _per_satellite(self, columns: dict, units: dict) -> pd.DataFrame:
        dataset = self._dataset
        frame = pd.DataFrame({"subcenter": dataset["subcenter"].values.astype(str),
                              **{name: np.asarray(values, dtype=float) for name, values in columns.items()}},
                             index=pd.Index(dataset["sat"].values.astype(str), name="sat"))
        frame.attrs["units"] = units
        return frame

    def power_margins(self, scenario=None) -> pd.DataFrame:
        """Power and battery margins of each satellite over the run.

        Columns: ``mean_power_margin_W`` and ``min_power_margin_W`` (array output minus the load
        asked for, the run's mean and its worst step: negative while the battery carries the load,
        as in eclipse), ``min_battery_soc``, ``battery_floor_soc`` (1 minus the bus's maximum
        depth of discharge), ``soc_margin`` (the lowest charge above that floor) and
        ``shed_energy_J`` (load shed when the battery reached its floor).

        Parameters
        ----------
        scenario : twin.scenario.Scenario, optional
            For the buses' depth of discharge; default the run's own.

        Returns
        -------
        pandas.DataFrame
            One row per satellite (index ``sat``, column ``subcenter``); units in ``attrs["units"]``.

        Examples
        --------
        >>> import twin
        >>> run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=4 * 3600, step_s=120)
        >>> margins = run.twin.power_margins()
        >>> bool((margins["soc_margin"] > 0).all()), bool((margins["min_power_margin_W"] < 0).all())
        (True, True)
        """
        self._require(("power_margin", "battery_soc", "shed_power"), "power margins need a run with subsystems")
        dataset = self._dataset
        dt_s = interval_seconds(dataset)
        floor = 1.0 - self._bus_values(scenario, "battery_max_depth_of_discharge")
        lowest = dataset["battery_soc"].min("time").values
        margin = dataset["power_margin"].astype(float)
        return self._per_satellite({
            "mean_power_margin_W": interval_mean(margin, dt_s).values,
            "min_power_margin_W": margin.min("time").values,
            "min_battery_soc": lowest,
            "battery_floor_soc": floor,
            "soc_margin": lowest - floor,
            "shed_energy_J": interval_integral(dataset["shed_power"].astype(float), dt_s).values,
        }, {"mean_power_margin_W": "W", "min_power_margin_W": "W", "min_battery_soc": "1", "battery_floor_soc": "1",
            "soc_margin": "1", "shed_energy_J": "J"})

    def thermal_margins(self, scenario=None) -> pd.DataFrame:
        """Margins of each satellite's temperatures to its bus's limits over the run.

        Columns: ``max_payload_temperature_K``, ``throttle_margin_K`` (the payload's throttle
        temperature minus its highest temperature: negative when compute was derated for heat),
        ``max_margin_K`` (to the payload's maximum temperature), ``min_bus_temperature_K`` and
        ``heater_margin_K`` (the bus's lowest temperature minus the heater set point, the bus's
        minimum temperature: negative when the heaters had to work).

        Parameters
        ----------
        scenario : twin.scenario.Scenario, optional
            For the buses' temperature limits; default the run's own.

        Returns
        -------
        pandas.DataFrame
            One row per satellite (index ``sat``, column ``subcenter``); units in ``attrs["units"]``.

        Examples
        --------
        >>> import twin
        >>> run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=4 * 3600, step_s=120)
        >>> margins = run.twin.thermal_margins()
        >>> bool((margins["max_margin_K"] > margins["throttle_margin_K"]).all())
        True
        """
        self._require(("temperature",), "thermal margins need a run with subsystems")
        temperature = self._dataset["temperature"]
        hottest = temperature.sel(node="payload").max("time").values.astype(float)
        coldest = temperature.sel(node="bus").min("time").values.astype(float)
        return self._per_satellite({
            "max_payload_temperature_K": hottest,
            "throttle_margin_K": self._bus_values(scenario, "payload_throttle_temperature_k") - hottest,
            "max_margin_K": self._bus_values(scenario, "payload_max_temperature_k") - hottest,
            "min_bus_temperature_K": coldest,
            "heater_margin_K": coldest - self._bus_values(scenario, "min_temperature_k"),
        }, {"max_payload_temperature_K": "K", "throttle_margin_K": "K", "max_margin_K": "K",
            "min_bus_temperature_K": "K", "heater_margin_K": "K"})

    def compute_delivered(self) -> xr.DataArray:
        """Compute each satellite delivered over the run (FLOP): its throughput integrated over time.

        Examples
        --------
        >>> import twin
        >>> run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=4 * 3600, step_s=120)
        >>> delivered = run.twin.compute_delivered()
        >>> delivered.attrs["units"], bool(delivered.sum() > 0)
        ('FLOP', True)
        """
        self._require(("compute_throughput",), "compute delivered needs a run with subsystems")
        dataset = self._dataset
        delivered = interval_integral(dataset["compute_throughput"].astype(float), interval_seconds(dataset))
        delivered.attrs = {"long_name": "compute delivered over the run", "units": "FLOP"}
        return delivered.rename("compute_delivered")

    def contacts(self, station: str | None = None, sat: str | None = None, scenario=None) -> pd.DataFrame:
        """Passes of the run's satellites over its ground stations (:func:`twin.contacts.contact_windows`).

        A run made with ``network=True`` holds its passes and they are read; otherwise they are
        found now over the scenario's stations (all of a phase-3 day takes about half a minute).

        Parameters
        ----------
        station, sat : str, optional
            Only the passes over this station, of this satellite.
        scenario : twin.scenario.Scenario, optional
            For the stations of a run without a network; default the run's own.

        Returns
        -------
        pandas.DataFrame
            One row per pass: ``sat``, ``station``, ``acquisition``, ``culmination``, ``loss`` (UTC),
            ``duration_s``, ``max_elevation_deg``, ``complete`` (neither end cut by the run's
            span); units in ``attrs["units"]``.

        Examples
        --------
        >>> import twin
        >>> run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=4 * 3600, step_s=60, subsystems=False)
        >>> passes = run.twin.contacts(station="Kashi", sat="EXP-001-01")
        >>> bool(len(passes) > 0 and (passes["max_elevation_deg"] >= 5.0).all())
        True
        """
        from .contacts import contact_windows, stations_of

        dataset = self._dataset
        if "contact" in dataset.dims:
            frame = pd.DataFrame({
                "sat": dataset["contact_sat"].values.astype(str),
                "station": dataset["contact_station"].values.astype(str),
                "acquisition": dataset["contact_acquisition"].values,
                "culmination": dataset["contact_culmination"].values,
                "loss": dataset["contact_loss"].values,
                "max_elevation_deg": dataset["contact_max_elevation"].values.astype(float),
                "complete": dataset["contact_complete"].values.astype(bool),
            })
            frame.insert(5, "duration_s", (frame["loss"] - frame["acquisition"]).dt.total_seconds())
        else:
            stations = stations_of(self._scenario(scenario))
            frame = contact_windows(dataset, stations, sats=[sat] if sat else None)
            frame["complete"] = frame.pop("acquisition_observed") & frame.pop("loss_observed")
            frame = frame[["sat", "station", "acquisition", "culmination", "loss", "duration_s", "max_elevation_deg",
                           "complete"]]
        known = set(frame["station"]) if "contact" in dataset.dims else {s.name for s in stations}
        if station is not None and station not in known:
            raise KeyError(f"station: {station!r} is not a ground station of this run ({', '.join(sorted(known))})")
        if sat is not None and sat not in dataset.indexes["sat"]:
            raise KeyError(f"sat: {sat!r} is not a satellite of this run")
        chosen = np.ones(len(frame), dtype=bool)
        if station is not None:
            chosen &= frame["station"].to_numpy() == station
        if sat is not None:
            chosen &= frame["sat"].to_numpy() == sat
        frame = frame[chosen].reset_index(drop=True)
        frame.attrs["units"] = {"duration_s": "s", "max_elevation_deg": "degree"}
        return frame

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
        from .telemetry.anomalies import find_anomalies
        from .telemetry.virtual_fleet import load_sensors

        self._require(("position_residual", "generated_power_residual", "gnss_reported"),
                      "anomalies are found in a state assimilated from telemetry "
                      "(twin.telemetry.assimilation.assimilate)")
        return find_anomalies(self._dataset, load_sensors() if sensors is None else sensors)
