"""What the telemetry shows a command did, once the satellite reports it executed: verified, failed, or not yet.

Each command has its check on the packets stamped after its execution (and the assimilated state, for what
only a residual shows):

* ``set_compute_cap``: every compute report after the execution within the cap (plus 3 sigma of the
  utilisation sensor), over at least :data:`REPORTS_NEEDED` reports; one above it fails;
* ``safe_mode``: entering, the same with a cap of 0; leaving, the satellite reporting again;
* ``payload_restart``: a report with the payload idle while it is off, then reports after it;
* ``heaters``: forced on, the used power above the twin's model (which keeps the thermostat) by at least
  half the heaters' power; forced off or back on the thermostat, the satellite reporting;
* ``manoeuvre``: the GNSS fixes leaving the modelled orbit by at least half the commanded change.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

REPORTS_NEEDED = 3
UTILIZATION_SLACK = 0.006  # 3 sigma of the compute utilisation sensor (sensors.toml [noise] compute_utilization)


def _after(groups: dict[str, xr.Dataset], kind: str, spacecraft_id: int, since: np.datetime64,
           until: np.datetime64 | None = None) -> xr.Dataset:
    group = groups[kind]
    times = group["time"].values
    keep = (group["spacecraft_id"].values == spacecraft_id) & (times > since)
    if until is not None:
        keep &= times <= until
    return group.isel(record=np.flatnonzero(keep))


def _capped(reports: xr.Dataset, cap: float) -> tuple[str | None, str]:
    utilization = reports["compute_utilization"].values
    if utilization.size and np.nanmax(utilization) > cap + UTILIZATION_SLACK:
        return "failed", f"compute utilisation {np.nanmax(utilization):.3f} above {cap:g}"
    if utilization.size >= REPORTS_NEEDED:
        return "verified", f"compute utilisation at most {np.nanmax(utilization):.3f} in {utilization.size} reports"
    return None, ""


def verify(name: str, arguments: dict, spacecraft_id: int, executed: np.datetime64, groups: dict[str, xr.Dataset],
           interval_s: float, state: xr.Dataset | None = None, heater_power_w: float = 0.0) -> tuple[str | None, str]:
    """``("verified" | "failed", why)``, or ``(None, "")`` while the telemetry cannot tell yet."""
    settled = np.datetime64(executed, "ns") + np.timedelta64(int(interval_s * 1e9), "ns")  # the first whole interval
    compute = lambda until=None: _after(groups, "compute", spacecraft_id, settled, until)
    if name == "set_compute_cap":
        return _capped(compute(), arguments["compute_cap"])
    if name == "safe_mode" and arguments["enter"]:
        return _capped(compute(), 0.0)
    if name == "payload_restart":
        back_on = np.datetime64(executed, "ns") + np.timedelta64(int(arguments["off_s"] * 1e9), "ns")
        off = compute(back_on)["compute_utilization"].values
        after = _after(groups, "compute", spacecraft_id, back_on + np.timedelta64(int(interval_s * 1e9), "ns"))
        if off.size and np.nanmin(off) <= UTILIZATION_SLACK and after.sizes["record"]:
            return "verified", f"payload idle ({np.nanmin(off):.3f}) while off, reporting after"
        if off.size >= REPORTS_NEEDED and np.nanmin(off) > UTILIZATION_SLACK:
            return "failed", f"compute utilisation stayed at {np.nanmin(off):.3f} or more while the payload was to be off"
        return None, ""
    if name == "heaters" and arguments["heater_mode"] == 1:
        if state is None or "used_power_residual" not in state:
            return None, ""
        row = spacecraft_id - 1
        times = state["time"].values
        residual = state["used_power_residual"].values[row, times > settled]
        residual = residual[np.isfinite(residual)]
        if residual.size < REPORTS_NEEDED:
            return None, ""
        if np.mean(residual) >= 0.5 * heater_power_w:
            return "verified", f"used power {np.mean(residual):+.0f} W above the model (heaters {heater_power_w:.0f} W)"
        return "failed", f"used power only {np.mean(residual):+.0f} W above the model (heaters {heater_power_w:.0f} W)"
    if name == "manoeuvre":
        if state is None or "position_residual" not in state:
            return None, ""
        row = spacecraft_id - 1
        residual = state["position_residual"].values[row, state["time"].values > settled]
        residual = residual[np.isfinite(residual)]
        wanted = 0.5 * abs(arguments["semi_major_axis_change_m"])
        if residual.size and residual[-1] >= wanted:
            return "verified", f"GNSS fixes {residual[-1]:.0f} m off the modelled orbit"
        return None, ""
    reports = compute()  # leaving safe mode, heaters off or on their thermostat: the satellite keeps reporting
    if reports.sizes["record"] >= REPORTS_NEEDED:
        return "verified", f"{reports.sizes['record']} reports after execution"
    return None, ""
