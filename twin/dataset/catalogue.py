"""Every public variable and coordinate of the twin dataset: its dims, dtype and CF attributes, written once.

Each stage of the pipeline writes its variables through this catalogue (:func:`twin.dataset.layout.as_variable`):
the orbit layer, the engine (power, thermal, compute), the network and the state assimilated from
telemetry. Allocators read it too (:class:`twin.dataset.layout.Layout`), and so does the memory a run
is estimated to need. A name missing here cannot be written.

Attributes follow CF 1.11: ``units`` (UDUNITS where it has the unit; ``capacity_unit`` is the
scenarios' own), ``long_name``, ``standard_name`` where the CF table has one, and ``cell_methods``
``time: mean`` on quantities that are means over the step ending at their time (NaN at the first
time), ``time: sum`` on counts over that step. Values are SI except angles in degrees, as CF expects.

float32 where its resolution is far below the model's accuracy: 0.5 mm/s of speed, 6 cm of altitude,
1e-7 of illumination, 7 digits of a power or a temperature; position, latitude, longitude and
battery energy keep float64.

>>> CATALOGUE["generated_power"].dims, CATALOGUE["generated_power"].dtype, CATALOGUE["generated_power"].units
(('sat', 'time'), dtype('float32'), 'W')

``python -m twin.dataset`` prints the catalogue as a table (``docs/dataset.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

CONVENTIONS = "CF-1.11"
STAGES = ("orbit", "radiation", "flight", "subsystems", "network", "lifecycle", "telemetry")  # who writes a variable, in the pipeline's order
FIXED_DIMS = {"xyz": ("x", "y", "z"), "node": ("payload", "bus")}  # dims whose labels every run shares
STRING = np.dtype("U")  # text of any width: a catalogue dtype of kind "U" matches every width
INTERVAL_MEAN = "time: mean"  # CF cell_methods of a mean over the step ending at the time
INTERVAL_SUM = "time: sum"    # and of a count over that step


@dataclass(frozen=True)
class Variable:
    """One variable or coordinate of the twin dataset: ``dims``, ``dtype`` and CF ``attrs``, written by ``stage``."""

    name: str
    dims: tuple[str, ...]
    dtype: np.dtype
    attrs: Mapping[str, str]
    stage: str
    coordinate: bool = False

    @property
    def units(self) -> str:
        return self.attrs.get("units", "")

    def matches_dtype(self, dtype: np.dtype) -> bool:
        """Whether values of ``dtype`` are this variable's (text of any width for a text variable)."""
        dtype = np.dtype(dtype)
        return dtype.kind == "U" if self.dtype.kind == "U" else dtype == self.dtype


CATALOGUE: dict[str, Variable] = {}


def _add(stage: str, name: str, dims: str, dtype, long_name: str, units: str | None = None, coordinate: bool = False,
         **attrs: str) -> None:
    described = {"long_name": long_name, **({"units": units} if units is not None else {}), **attrs}
    CATALOGUE[name] = Variable(name, tuple(dims.split()), np.dtype(dtype), MappingProxyType(described), stage,
                               coordinate)


def _interval_mean(stage: str, name: str, long_name: str, units: str, dtype=np.float32, dims: str = "sat time",
                   **attrs: str) -> None:
    _add(stage, name, dims, dtype, long_name, units, cell_methods=INTERVAL_MEAN, **attrs)


# -- coordinates of every run ----------------------------------------------------------------------

_add("orbit", "time", "time", "datetime64[ns]", "time (UTC)", coordinate=True, standard_name="time", axis="T")
_add("orbit", "sat", "sat", STRING, "satellite identifier", coordinate=True, cf_role="trajectory_id")
_add("orbit", "xyz", "xyz", STRING, "Cartesian axis", coordinate=True)
_add("orbit", "subcenter", "sat", STRING, "sub-center (cluster of satellites)", coordinate=True)
_add("orbit", "plane", "sat", np.int32, "orbital plane index (-1: not designed)", coordinate=True)
_add("orbit", "owner", "sat", STRING, "consortium member that owns the satellite", coordinate=True)
_add("orbit", "group", "sat", STRING, "sub-center group of the scenario", coordinate=True)
_add("orbit", "bus", "sat", STRING, "satellite bus type", coordinate=True)
_add("orbit", "role", "sat", STRING, "chief (reference orbit) or formation member", coordinate=True)
_add("orbit", "represents", "sat", np.int32, "number of identical satellites this row stands for (1, or a sub-center)",
     coordinate=True)

# -- the orbit layer -------------------------------------------------------------------------------

_add("orbit", "position", "sat time xyz", np.float64, "satellite position", "m", reference_frame="GCRS",
     comment="geocentric, inertial (GCRS axes); SGP4 TEME rotated by astropy")
_add("orbit", "velocity", "sat time xyz", np.float32, "satellite velocity", "m s-1", reference_frame="GCRS")
_add("orbit", "latitude", "sat time", np.float64, "geodetic latitude (WGS-84)", "degrees_north",
     standard_name="latitude")
_add("orbit", "longitude", "sat time", np.float64, "geodetic longitude (WGS-84)", "degrees_east",
     standard_name="longitude")
_add("orbit", "altitude", "sat time", np.float32, "height above the WGS-84 ellipsoid", "m",
     standard_name="height_above_reference_ellipsoid")
_add("orbit", "illumination", "sat time", np.float32, "fraction of the solar disk visible (1 full sun, 0 umbra)", "1",
     comment="conical umbra and penumbra of the WGS-84 ellipsoid, no atmosphere")
_add("orbit", "beta_angle", "sat time", np.float32, "angle between the orbit plane and the Sun direction", "degree")
_add("orbit", "sun_position", "time xyz", np.float64, "geocentric Sun position", "m", reference_frame="GCRS")

# -- the radiation layer (twin.radiation; a scenario with [radiation]) ------------------------------
# Doses in grays: CF's unit library reads "rad" as the radian (1 rad(Si) = 0.01 Gy).

_R = "radiation"
_add(_R, "proton_flux", "sat time", np.float32, "omnidirectional flux of trapped protons that cross the shielding (AP8)",
     "cm-2 s-1")
_add(_R, "electron_flux", "sat time", np.float32,
     "omnidirectional flux of trapped electrons that cross the shielding (AE8)", "cm-2 s-1")
_add(_R, "dose_rate", "sat time", np.float32, "ionising dose rate in silicon behind the shielding", "Gy s-1")
_add(_R, "total_dose", "sat time", np.float64,
     "total ionising dose in silicon behind the shielding since the first step", "Gy")
_add(_R, "seu_rate", "sat time", np.float32, "single-event upsets of the satellite's memory and logic per second",
     "s-1")
_add(_R, "seu_corrected_rate", "sat time", np.float32, "single-event upsets corrected by error correction per second",
     "s-1")
_add(_R, "seu_detected_rate", "sat time", np.float32, "single-event upsets detected but not corrected per second",
     "s-1")
_add(_R, "seu_silent_rate", "sat time", np.float32, "single-event upsets neither corrected nor detected per second",
     "s-1")
_add(_R, "capacity_lost", "sat time", np.float32,
     "expected fraction of compute capacity lost to dose and random hardware failures since the first step", "1")

# -- flight dynamics (twin.flight.layer, asked for with --flight) -----------------------------------

_F = "flight"
_add(_F, "atmospheric_density", "sat time", np.float32, "air density (NRLMSIS 2.1)", "kg m-3",
     comment="NRLMSIS 2.1 at each sub-center's first satellite, scaled to the others' altitude by the local scale "
             "height; F10.7 and Ap of the scenario's [flight] indices: the shipped predicted solar cycle "
             "(assets/flight) unless held fixed")
_add(_F, "drag_acceleration", "sat time", np.float32, "magnitude of the acceleration by atmospheric drag", "m s-2",
     comment="1/2 rho Cd A/m v_r^2, A the area across the flow in the bus's attitude, v_r relative to the "
             "atmosphere turning with the Earth")
_add(_F, "srp_acceleration", "sat time", np.float32, "magnitude of the acceleration by solar radiation pressure",
     "m s-2", comment="illumination P (1 au/d)^2 Cr A/m, A the area facing the Sun in the bus's attitude")

# -- power, thermal and compute (the engine) --------------------------------------------------------

_S = "subsystems"
_interval_mean(_S, "generated_power", "solar array output generated", "W")
_interval_mean(_S, "used_power", "electrical power used by the loads (served)", "W",
               comment="used_compute_power + used_comms_power + used_heater_power + used_bus_power")
_interval_mean(_S, "used_compute_power", "electrical power used by the compute payload", "W")
_interval_mean(_S, "used_comms_power", "electrical power used by communications", "W")
_interval_mean(_S, "used_heater_power", "electrical power used by the heaters", "W")
_interval_mean(_S, "used_bus_power", "electrical power used by the platform (bus)", "W")
_interval_mean(_S, "shed_power", "load shed for lack of power", "W")
_interval_mean(_S, "curtailed_power", "array output not used (battery full or charging at its limit)", "W")
_interval_mean(_S, "battery_loss_power", "battery charge and discharge losses", "W")
_add(_S, "battery_energy", "sat time", np.float64, "energy stored in the battery", "J")
_interval_mean(_S, "compute_capacity", "compute capacity available after throttling", "capacity_unit",
               comment="1 capacity unit = 1 TOPS (scenario assumption)")
_interval_mean(_S, "compute_utilization", "fraction of installed compute capacity busy", "1")
_interval_mean(_S, "compute_throughput", "compute delivered", "FLOP s-1")
_interval_mean(_S, "throttle", "fraction of installed compute withheld by power or thermal limits", "1")
_add(_S, "temperature", "sat time node", np.float32, "node temperature", "K")
_add(_S, "alive", "sat time", np.int8, "satellite operating (not lost to a fault)", "1")
_interval_mean(_S, "power_margin",
               "array output minus the load asked for (negative: the battery or shedding covers it)", "W")
_add(_S, "battery_soc", "sat time", np.float32, "battery state of charge", "1")
_interval_mean(_S, "offload_utilization", "fraction of installed compute busy with work offloaded from the ground", "1")
_add(_S, "installed_power", "sat", np.float64, "beginning-of-life array power at normal incidence and 1 au", "W")
_add(_S, "battery_floor_soc", "sat", np.float64,
     "state of charge below which the battery is not discharged (1 - maximum depth of discharge)", "1")
_add(_S, "payload_max_temperature", "sat", np.float64, "temperature at which the compute payload stops", "K")
_add(_S, "node", "node", STRING, "thermal node", coordinate=True)
_add(_S, "cluster", "cluster", STRING, "sub-center (per-sub-center variables)", coordinate=True)
_add(_S, "cluster_owner", "cluster", STRING, "consortium member that owns the sub-center", coordinate=True)
_add(_S, "cluster_jobs_completed", "cluster time", np.float64, "jobs completed in the step", "1",
     cell_methods=INTERVAL_SUM)
_add(_S, "cluster_jobs_missed", "cluster time", np.float64, "jobs that missed their deadline in the step", "1",
     cell_methods=INTERVAL_SUM)
_add(_S, "cluster_queue_length", "cluster time", np.float64, "jobs waiting or running", "1")
_interval_mean(_S, "cluster_eclipse_loss_power", "array output lost to the Earth's shadow (interval mean)", "W",
               dtype=np.float64, dims="cluster time")
_add(_S, "ground_arrived_work", "time", np.float64, "work arriving at the ground data centers in the step",
     "capacity_unit s", cell_methods=INTERVAL_SUM)
_add(_S, "ground_offloaded_work", "time", np.float64, "ground work taken by the constellation in the step",
     "capacity_unit s", cell_methods=INTERVAL_SUM)
_add(_S, "ground_served_work", "time", np.float64, "ground work served on the ground in the step", "capacity_unit s",
     cell_methods=INTERVAL_SUM)
_add(_S, "ground_backlog_work", "time", np.float64, "ground work waiting at the end of the step", "capacity_unit s")

# -- the network (twin.network) ---------------------------------------------------------------------

_N = "network"
_add(_N, "station", "station", STRING, "ground station", coordinate=True)
_add(_N, "station_latitude", "station", np.float64, "station geodetic latitude (WGS-84)", "degrees_north",
     coordinate=True)
_add(_N, "station_longitude", "station", np.float64, "station longitude", "degrees_east", coordinate=True)
_add(_N, "station_altitude", "station", np.float64, "station height above the WGS-84 ellipsoid", "m", coordinate=True)
_add(_N, "station_min_elevation", "station", np.float64, "elevation mask", "degree", coordinate=True)
_add(_N, "station_antennas", "station", np.int32, "antennas (passes served at once)", coordinate=True)
_add(_N, "station_band", "station", STRING, "radio band", coordinate=True)
_add(_N, "relay", "relay", STRING, "geostationary data relay", coordinate=True)
_add(_N, "relay_longitude", "relay", np.float64, "relay longitude", "degrees_east", coordinate=True)
_add(_N, "link", "link", np.int32, "link index", coordinate=True)
_add(_N, "link_kind", "link", STRING, "intra, in_plane, cross_plane, relay or ground", coordinate=True)
_add(_N, "link_end_a", "link", STRING, "first end (a satellite)", coordinate=True)
_add(_N, "link_end_b", "link", STRING, "second end (a satellite, relay or ground station)", coordinate=True)
_add(_N, "contact", "contact", np.int32, "pass index", coordinate=True)
_add(_N, "contact_sat", "contact", STRING, "satellite of the pass", coordinate=True)
_add(_N, "contact_station", "contact", STRING, "station of the pass", coordinate=True)
_add(_N, "contact_acquisition", "contact", "datetime64[ns]",
     "time the satellite rises above the station's elevation mask")
_add(_N, "contact_loss", "contact", "datetime64[ns]", "time the satellite sets below the station's elevation mask")
_add(_N, "contact_culmination", "contact", "datetime64[ns]", "time of the highest elevation of the pass")
_add(_N, "contact_max_elevation", "contact", np.float64, "highest elevation of the pass", "degree")
_add(_N, "contact_complete", "contact", np.int8,
     "pass seen from acquisition to loss (0: cut by the run's start or end)", "1")
_add(_N, "link_up", "link time", np.int8,
     "link available and in use (line of sight, range, antenna, both ends working)", "1")
_add(_N, "link_range", "link time", np.float32, "distance between the link's ends", "m")
_add(_N, "link_rate", "link time", np.float32, "data rate from end a to end b", "bit s-1")
_add(_N, "link_reverse_rate", "link time", np.float32, "data rate from end b to end a", "bit s-1")
_add(_N, "downlink_rate", "sat time", np.float32, "direct downlink rate to ground stations", "bit s-1")
_add(_N, "uplink_rate", "sat time", np.float32, "direct uplink rate from ground stations", "bit s-1")
_add(_N, "latency_to_ground", "sat time", np.float32, "shortest latency to the ground network (telemetry latency)", "s",
     comment="light time plus a delay per hop; NaN: no path at this time")
_add(_N, "command_delay", "sat time", np.float32,
     "time for a command sent now to reach the satellite, waiting for a path", "s",
     comment="NaN: no path before the end of the run")
# Data flows per sub-center (bits): in = delivered + queued + dropped. The EO flow is there only when the scenario
# has an EO inflow.
FLOW_DIRECTIONS = {"downlink": "downlink", "uplink": "uplink",
                   "eo": "Earth-observation data from partner satellites through the relays"}
FLOW_QUANTITIES = {"data_in": "data offered since the start (cumulative)",
                   "data_delivered": "data delivered since the start (cumulative)",
                   "data_queued": "data waiting for a path",
                   "data_dropped": "data dropped for lack of buffer since the start (cumulative)"}
for _direction, _label in FLOW_DIRECTIONS.items():
    for _quantity, _meaning in FLOW_QUANTITIES.items():
        _add(_N, f"{_direction}_{_quantity}", "cluster time", np.float64, f"{_label}: {_meaning}", "bit")

# -- the build-up over years (twin.lifecycle): one row per sub-center, its chief standing for it ------------

_L = "lifecycle"
_add(_L, "member", "member", STRING, "consortium member", coordinate=True)
for _state, _meaning in (("launched", "satellites launched since the epoch (cumulative)"),
                         ("flying", "satellites in orbit: launched, neither failed nor disposed of"),
                         ("serving", "satellites in service: flying and commissioned"),
                         ("failed", "satellites failed since the epoch (cumulative)"),
                         ("disposed", "satellites disposed of at the end of their design life (cumulative)")):
    _add(_L, f"{_state}_satellites", "sat time", np.int32, f"sub-center's {_meaning}", "1")
_add(_L, "launches", "time", np.int32, "launches in the step (build-up and replacement)", "1", cell_methods=INTERVAL_SUM)
for _name, _meaning in (("generated", "array output generated"), ("used", "electrical power used by the loads"),
                        ("curtailed", "array output not used"), ("battery_loss", "battery charge and discharge losses")):
    _interval_mean(_L, f"subcenter_{_name}_power", f"sub-center's {_meaning}, its satellites in service", "W",
                   dtype=np.float64, comment="orbit average over the step: sunlit and eclipse fractions of each orbit")
_interval_mean(_L, "subcenter_compute_offered", "sub-center's compute asked for by the workload", "capacity_unit",
               dtype=np.float64, comment="1 capacity unit = 1 TOPS (scenario assumption)")
_interval_mean(_L, "subcenter_compute_delivered", "sub-center's compute delivered within its power", "capacity_unit",
               dtype=np.float64, comment="1 capacity unit = 1 TOPS (scenario assumption)")
_interval_mean(_L, "array_output_fraction", "array output left after ageing, mean of the satellites in service", "1")
_interval_mean(_L, "battery_capacity_fraction", "battery capacity left after ageing, mean of the satellites in service",
               "1")
_add(_L, "installed_compute", "sat", np.float64, "installed compute of one of the sub-center's satellites",
     "capacity_unit", comment="1 capacity unit = 1 TOPS (scenario assumption)")
_add(_L, "member_share", "member sat", np.float64, "member's share of the sub-center's satellites and capacity", "1")

# -- the state assimilated from telemetry (twin.telemetry.assimilation) -------------------------------

_T = "telemetry"
for _kind in ("gnss", "power", "thermal", "compute"):
    _add(_T, f"{_kind}_reported", "sat time", np.int8, f"a {_kind} packet arrived for this step", "1")
for _name in ("generated_power", "used_power", "battery_soc", "compute_utilization", "throttle", "temperature"):
    _measured = CATALOGUE[_name]
    _add(_T, f"{_name}_residual", " ".join(_measured.dims), np.float64,
         f"{_measured.attrs['long_name']}: measured minus predicted", _measured.units)
_add(_T, "position_residual", "sat time", np.float64, "distance of the GNSS fix from the predicted position", "m")
_add(_T, "memory_errors", "sat time", np.float64,
     "corrected memory errors counted by the satellite since its telemetry began (NaN: no compute packet)", "1")


def entry(name: str) -> Variable:
    """The catalogue's entry of ``name``; ``KeyError`` naming it if the twin has no such variable."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"variable: {name!r} is not in the twin dataset's catalogue (twin.dataset.catalogue)") from None


def markdown_table() -> str:
    """The catalogue as a Markdown table, one row per variable or coordinate, in the pipeline's order."""
    lines = ["| variable | stage | dims | dtype | units | meaning |", "|---|---|---|---|---|---|"]
    for stage in STAGES:
        for variable in CATALOGUE.values():
            if variable.stage != stage:
                continue
            dtype = "text" if variable.dtype.kind == "U" else str(variable.dtype)
            kind = " (coordinate)" if variable.coordinate else ""
            interval = {INTERVAL_MEAN: "; mean over the step", INTERVAL_SUM: "; over the step"}.get(
                variable.attrs.get("cell_methods"), "")
            lines.append(f"| `{variable.name}`{kind} | {stage} | {', '.join(variable.dims)} | {dtype} | "
                         f"{variable.units} | {variable.attrs['long_name']}{interval} |")
    return "\n".join(lines)
