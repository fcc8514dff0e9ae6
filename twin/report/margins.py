"""Margins of a run against its buses' limits, per satellite: power and battery, temperatures, and the
compute each satellite delivered. The limits come from the scenario, by default the run's own
(:func:`twin.scenario.scenario_of_run`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from twin.report.figures import interval_integral, interval_mean, interval_seconds
from twin.scenario import Scenario, bus_columns, scenario_of_run


def _bus_values(run: xr.Dataset, scenario: Scenario | None, field: str) -> np.ndarray:
    """One field of each satellite's bus (sat,)."""
    return bus_columns(scenario_of_run(run.attrs, scenario).buses, run["bus"].values.astype(str))(field).astype(float)


def require(run: xr.Dataset, names: tuple[str, ...], what: str) -> None:
    """Raise naming the variables of ``names`` that ``run`` lacks, and ``what`` they are needed for."""
    missing = [name for name in names if name not in run.variables]
    if missing:
        raise ValueError(f"run: has no {', '.join(missing)}; {what}")


def _per_satellite(run: xr.Dataset, columns: dict, units: dict) -> pd.DataFrame:
    frame = pd.DataFrame({"subcenter": run["subcenter"].values.astype(str),
                          **{name: np.asarray(values, dtype=float) for name, values in columns.items()}},
                         index=pd.Index(run["sat"].values.astype(str), name="sat"))
    frame.attrs["units"] = units
    return frame


def power_margins(run: xr.Dataset, scenario: Scenario | None = None) -> pd.DataFrame:
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
    require(run, ("power_margin", "battery_soc", "shed_power"), "power margins need a run with subsystems")
    dataset = run
    dt_s = interval_seconds(dataset)
    floor = 1.0 - _bus_values(run, scenario, "battery_max_depth_of_discharge")
    lowest = dataset["battery_soc"].min("time").values
    margin = dataset["power_margin"].astype(float)
    return _per_satellite(run, {
        "mean_power_margin_W": interval_mean(margin, dt_s).values,
        "min_power_margin_W": margin.min("time").values,
        "min_battery_soc": lowest,
        "battery_floor_soc": floor,
        "soc_margin": lowest - floor,
        "shed_energy_J": interval_integral(dataset["shed_power"].astype(float), dt_s).values,
    }, {"mean_power_margin_W": "W", "min_power_margin_W": "W", "min_battery_soc": "1", "battery_floor_soc": "1",
        "soc_margin": "1", "shed_energy_J": "J"})


def thermal_margins(run: xr.Dataset, scenario: Scenario | None = None) -> pd.DataFrame:
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
    require(run, ("temperature",), "thermal margins need a run with subsystems")
    temperature = run["temperature"]
    hottest = temperature.sel(node="payload").max("time").values.astype(float)
    coldest = temperature.sel(node="bus").min("time").values.astype(float)
    return _per_satellite(run, {
        "max_payload_temperature_K": hottest,
        "throttle_margin_K": _bus_values(run, scenario, "payload_throttle_temperature_k") - hottest,
        "max_margin_K": _bus_values(run, scenario, "payload_max_temperature_k") - hottest,
        "min_bus_temperature_K": coldest,
        "heater_margin_K": coldest - _bus_values(run, scenario, "min_temperature_k"),
    }, {"max_payload_temperature_K": "K", "throttle_margin_K": "K", "max_margin_K": "K",
        "min_bus_temperature_K": "K", "heater_margin_K": "K"})


def compute_delivered(run: xr.Dataset) -> xr.DataArray:
    """Compute each satellite delivered over the run (FLOP): its throughput integrated over time.

    Examples
    --------
    >>> import twin
    >>> run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=4 * 3600, step_s=120)
    >>> delivered = run.twin.compute_delivered()
    >>> delivered.attrs["units"], bool(delivered.sum() > 0)
    ('FLOP', True)
    """
    require(run, ("compute_throughput",), "compute delivered needs a run with subsystems")
    dataset = run
    delivered = interval_integral(dataset["compute_throughput"].astype(float), interval_seconds(dataset))
    delivered.attrs = {"long_name": "compute delivered over the run", "units": "FLOP"}
    return delivered.rename("compute_delivered")
