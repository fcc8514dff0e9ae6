"""What a scenario holds: one frozen dataclass per table of a scenario file, each key declared once
with :func:`twin.scenario.keys.key` (unit, range, default and meaning), and :data:`SECTIONS`, the
file's tables in order. ``docs/scenario_keys.md`` is rendered from them
(:func:`twin.scenario.reference.keys_reference`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field

import numpy as np
from astropy.time import Time

from twin.constants import SOLAR_CONSTANT_W_M2
from twin.scenario.keys import key

# Altitudes of the programme: a dawn-dusk orbit at about 700-800 km (Seed).
ALTITUDE_MIN_KM, ALTITUDE_MAX_KM = 700.0, 800.0
FAULT_KINDS = ("satellite_lost", "array_degraded", "radiator_stuck", "station_lost", "relay_lost")


@dataclass(frozen=True)
class Orbit:
    """Orbit design of a dawn-dusk sun-synchronous shell (mean elements)."""

    altitude_km: float = key("Mean altitude of the shell: SGP4's mean semi-major axis less the WGS-84 equatorial "
                             "radius", unit="km", minimum=ALTITUDE_MIN_KM, maximum=ALTITUDE_MAX_KM)
    eccentricity: float = key("Mean eccentricity (a frozen orbit at 750 km: about 0.001)", unit="1", minimum=0.0,
                              maximum=0.01)
    argument_of_perigee_deg: float = key("Mean argument of perigee (90 for a frozen orbit)", unit="deg", minimum=0.0,
                                         maximum=360.0)
    ltan_hours: float = key("Local time of the ascending node (6 or 18 for a dawn-dusk orbit)", unit="h", minimum=0.0,
                            below=24.0)


@dataclass(frozen=True)
class Bus:
    """One satellite bus type: array, battery, radiator and compute payload."""

    name: str  # the name of its [buses.NAME] table
    solar_array_area_m2: float = key("Area of the solar array's cells", unit="m²", above=0.0)
    solar_cell_efficiency: float = key("Cell efficiency at the beginning of life, AM0 and 28 °C", unit="1", above=0.0,
                                       maximum=1.0)
    array_degradation_per_year: float = key("Relative loss of array output per year since launch, compounded",
                                            unit="1/year", minimum=0.0, maximum=1.0)
    battery_capacity_wh: float = key("Energy of the full battery", unit="Wh", above=0.0)
    battery_max_depth_of_discharge: float = key("Fraction of the capacity the battery may give before loads are shed",
                                                unit="1", above=0.0, maximum=1.0)
    battery_round_trip_efficiency: float = key("Energy out over energy in, split evenly between charge and discharge",
                                               unit="1", above=0.0, maximum=1.0)
    radiator_area_m2: float = key("Total radiating area (both faces of an `along_track` panel)", unit="m²", above=0.0)
    radiator_emissivity: float = key("Infrared emissivity of the radiator", unit="1", above=0.0, maximum=1.0)
    radiator_absorptance: float = key("Solar absorptance of the radiator", unit="1", minimum=0.0, maximum=1.0)
    compute_capacity_units: float = key("Installed compute of the payload (the built-in scenarios: 1 unit = 1 TOPS)",
                                        unit="capacity_unit", above=0.0)
    compute_flops: float = key("Peak rate of the payload", unit="FLOP/s", above=0.0)
    compute_power_w: float = key("Electrical power of the payload at full load", unit="W", minimum=0.0)
    bus_power_w: float = key("Power of the platform: attitude control, avionics, thermal control", unit="W",
                             minimum=0.0)
    comms_power_w: float = key("Power of the communication terminals", unit="W", minimum=0.0)
    mass_kg: float = key("Wet mass of the satellite at launch, propellant included (flight dynamics: drag, radiation "
                         "pressure, Δv)", unit="kg", above=0.0)
    array_pointing: str = key("`sun_tracking`: the arrays face the Sun; `orbit_normal`: fixed towards the orbit "
                              "normal, the Sun at 90° less the beta angle", choices=("sun_tracking", "orbit_normal"))
    cell_temperature_coefficient_per_k: float = key("Relative change of cell efficiency per kelvin above 28 °C",
                                                    unit="1/K", minimum=-0.05, maximum=0.0)
    battery_max_c_rate: float = key("Highest charge or discharge power as a multiple of the capacity per hour (C-rate)",
                                    unit="1/h", above=0.0, maximum=10.0)
    radiator_orientation: str = key("`along_track`: a vertical two-sided panel facing along track; `zenith`: one face "
                                    "turned away from the Earth", choices=("along_track", "zenith"))
    payload_heat_capacity_j_per_k: float = key("Heat capacity of the payload node (electronics, cold plates)",
                                               unit="J/K", above=0.0)
    bus_heat_capacity_j_per_k: float = key("Heat capacity of the radiator and bus node", unit="J/K", above=0.0)
    payload_conductance_w_per_k: float = key("Conductance from the payload to the radiator (heat pipes)", unit="W/K",
                                             above=0.0)
    payload_throttle_temperature_k: float = key("Payload temperature above which compute derates, to none at the "
                                                "maximum", unit="K", minimum=200.0, maximum=450.0,
                                                below_key="payload_max_temperature_k")
    payload_max_temperature_k: float = key("Payload temperature at which compute stops", unit="K", minimum=200.0,
                                           maximum=450.0)
    min_temperature_k: float = key("Bus temperature below which the heaters draw `heater_power_w`", unit="K",
                                   minimum=150.0, maximum=350.0, below_key="payload_throttle_temperature_k")
    heater_power_w: float = key("Power of the survival heaters when on", unit="W", minimum=0.0)
    drag_coefficient: float = key("Drag coefficient Cd of the flown area in free-molecular flow (2.2: Montenbruck & "
                                  "Gill 3.5.2)", unit="1", minimum=1.0, maximum=4.0, default=2.2)
    reflectivity_coefficient: float = key("Radiation pressure coefficient Cr: 1 absorbs, 2 mirrors (1.3: arrays and "
                                          "white paint)", unit="1", minimum=1.0, maximum=2.0, default=1.3)
    specific_impulse_s: float = key("Specific impulse of the station-keeping thrusters (1,500: xenon Hall thrusters, "
                                    "SPT-100 about 1,600)", unit="s", above=0.0, maximum=10000.0, default=1500.0)
    thrust_n: float | None = key("Thrust of the station-keeping thrusters; left out: 40 mN per tonne of `mass_kg` "
                                 "(one SPT-100 of 83 mN per two tonnes)", unit="N", above=0.0, default=None)
    propellant_kg: float | None = key("Usable propellant at launch, part of `mass_kg`; left out: 5 % of `mass_kg`",
                                      unit="kg", minimum=0.0, below_key="mass_kg", default=None)


def bus_columns(buses: dict[str, Bus], bus_of_satellite) -> Callable[..., np.ndarray]:
    """``column(field, dtype=float)``: that field of each satellite's bus (sat,), each bus type read once.

    >>> from twin.scenario import load_scenario
    >>> buses = load_scenario("phase1").buses
    >>> bus_columns(buses, ["compute-s", "experimental", "compute-s"])("name", str).tolist()
    ['compute-s', 'experimental', 'compute-s']
    """
    unique, inverse = np.unique(np.asarray(bus_of_satellite, dtype=str), return_inverse=True)
    inverse = inverse.reshape(-1)
    return lambda field, dtype=float: np.array([getattr(buses[bus], field) for bus in unique], dtype=dtype)[inverse]


@dataclass(frozen=True)
class Formation:
    """Close formation inside one sub-center: ``single``, ``disk`` or ``train``, neighbours ``spacing_m`` apart."""

    shape: str = key("`single`: one satellite; `disk`: a hexagonal grid on a passively safe circular relative orbit "
                     "about the chief; `train`: in a line along track, the chief in the middle",
                     choices=("single", "disk", "train"))
    spacing_m: float = key("Distance between neighbours, above 0 unless `single`", unit="m", minimum=0.0, default=0.0)


@dataclass(frozen=True)
class SubcenterGroup:
    """``count`` identical sub-centers spread over ``planes`` orbital planes."""

    name: str = key("Name of the group, unique; its sub-centers are `NAME-001`, `NAME-002`..., their satellites "
                    "`NAME-001-01`...")
    count: int = key("Number of sub-centers", minimum=1)
    satellites: int = key("Satellites in each sub-center (1 for a `single` formation)", minimum=1, maximum=1000)
    planes: int = key("Orbital planes the sub-centers are spread over, at most `count`", minimum=1)
    _: KW_ONLY
    plane_spacing_deg: float = key("Right ascension of the node between adjacent planes, centred on the nominal LTAN",
                                   unit="deg", minimum=0.0, maximum=30.0, default=0.0)
    phase_offset_deg: float = key("Argument of latitude added per plane", unit="deg", minimum=0.0, maximum=360.0,
                                  default=0.0)
    phase_deg: float = key("Argument of latitude of the first sub-center of each plane at the epoch (the others evenly "
                           "spread)", unit="deg", minimum=0.0, maximum=360.0, default=0.0)
    bus: str = key("Bus type of its satellites, a table under `[buses]`")
    owners: tuple[str, ...] = key("Consortium members owning its sub-centers, in turn")
    formation: Formation = key("The close formation of each sub-center, `{ shape = ..., spacing_m = ... }`")
    altitude_km: float | None = key("Altitude of this group's shell instead of the orbit's", unit="km",
                                    minimum=ALTITUDE_MIN_KM, maximum=ALTITUDE_MAX_KM, default=None)
    ltan_hours: float | None = key("Local time of the ascending node of this group's planes instead of the orbit's",
                                   unit="h", minimum=0.0, below=24.0, default=None)
    launch: str = key("Launch month `YYYY-MM` or day `YYYY-MM-DD`; the arrays age from it (empty: new at the epoch)",
                      default="")


@dataclass(frozen=True)
class GroundStation:
    """A ground station of the consortium: where it is, the elevation it needs, and its antennas and rates."""

    name: str = key("Name of the station, unique")
    latitude_deg: float = key("Geodetic latitude (WGS-84)", unit="deg", minimum=-90.0, maximum=90.0)
    longitude_deg: float = key("Longitude, east positive", unit="deg", minimum=-180.0, maximum=360.0)
    altitude_m: float = key("Height above the WGS-84 ellipsoid", unit="m", minimum=-500.0, maximum=9000.0)
    min_elevation_deg: float = key("Lowest elevation of a satellite in contact", unit="deg", minimum=0.0, maximum=90.0)
    owner: str = key("The consortium member operating it")
    antennas: int | None = key("Satellites it serves at once (the network needs it)", minimum=1, maximum=100,
                               default=None)
    band: str | None = key("Radio band of its antennas (recorded with the network)",
                           choices=("S", "X", "Ka", "optical"), default=None)
    downlink_rate_bps: float | None = key("Rate of each antenna to the ground (the network needs it)", unit="bit/s",
                                          above=0.0, default=None)
    uplink_rate_bps: float | None = key("Rate of each antenna to the satellite (the network needs it)", unit="bit/s",
                                        above=0.0, default=None)


@dataclass(frozen=True)
class LinkSettings:
    """The relay and ground network: link rates, ranges and margins, and the data the sub-centers exchange.

    Inside a sub-center, satellites closer than ``intra_range_m`` at the start are linked at
    ``intra_rate_bps``. Between sub-centers (chiefs: same-plane neighbours, nearest in the adjacent
    plane) a laser link gives ``inter_rate_bps`` up to ``inter_reference_range_km`` and falls as the
    inverse square of the range beyond it (received power), up to ``inter_max_range_km``, while the
    partner stays within ``inter_max_elevation_deg`` of the local horizontal (the terminal's field of
    regard). A relay serves ``relay_antennas`` sub-centers at once, seen at least
    ``relay_min_elevation_deg`` above the satellite's horizon (its terminal looks up). A line of
    sight grazing lower than ``atmosphere_margin_km`` above the ellipsoid is blocked. Each hop adds
    ``hop_delay_s``. Each sub-center sends ``downlink_demand_bps`` to the ground and receives
    ``uplink_demand_bps`` (telemetry, commands, products made elsewhere), plus the data of its own
    compute workload: ``input_bits_per_flop`` up and ``output_bits_per_flop`` down for every FLOP
    served; it queues up to ``buffer_bits`` each way. Partner Earth-observation satellites send
    ``eo_inflow_bps`` to each sub-center through the GEO data relays (0, the default: none), queued
    the same way.
    """

    atmosphere_margin_km: float = key("A line of sight grazing lower than this above the ellipsoid is blocked",
                                      unit="km", minimum=0.0, maximum=500.0)
    intra_range_m: float = key("Satellites of a sub-center closer than this at the start are linked", unit="m",
                               above=0.0, maximum=100e3)
    intra_rate_bps: float = key("Rate of a link inside a sub-center", unit="bit/s", above=0.0)
    inter_rate_bps: float = key("Rate of a laser link between sub-centers up to `inter_reference_range_km`",
                                unit="bit/s", above=0.0)
    inter_reference_range_km: float = key("Range beyond which the rate between sub-centers falls as the inverse "
                                          "square", unit="km", above=0.0)
    inter_max_range_km: float = key("Longest link between sub-centers", unit="km",
                                    above=0.0, at_least_key="inter_reference_range_km")
    relay_rate_bps: float = key("Rate of a link to a GEO data relay", unit="bit/s", above=0.0)
    relay_max_range_km: float = key("Longest link to a GEO data relay", unit="km", above=0.0)
    relay_antennas: int = key("Sub-centers a relay serves at once", minimum=1, maximum=100)
    hop_delay_s: float = key("Delay each hop adds", unit="s", minimum=0.0, maximum=10.0)
    downlink_demand_bps: float = key("Data each sub-center sends to the ground besides its workload's", unit="bit/s",
                                     minimum=0.0)
    uplink_demand_bps: float = key("Data each sub-center receives from the ground besides its workload's (telemetry, "
                                   "commands, products made elsewhere)", unit="bit/s", minimum=0.0)
    input_bits_per_flop: float = key("Data sent up for every FLOP served", unit="bit/FLOP", minimum=0.0)
    output_bits_per_flop: float = key("Data sent down for every FLOP served", unit="bit/FLOP", minimum=0.0)
    relay_min_elevation_deg: float = key("Lowest elevation of a relay above the satellite's horizon (its terminal "
                                         "looks up)", unit="deg", minimum=-90.0, maximum=90.0)
    inter_max_elevation_deg: float = key("Farthest a partner sub-center may be from the local horizontal (the laser "
                                         "terminal's field of regard)", unit="deg", minimum=0.0, maximum=90.0)
    buffer_bits: float = key("Data a sub-center queues each way", unit="bit", minimum=0.0)
    eo_inflow_bps: float = key("Data partner Earth-observation satellites send each sub-center through the relays",
                               unit="bit/s", minimum=0.0, default=0.0)


@dataclass(frozen=True)
class OffloadSettings:
    """Phase 2: ground data centers hand batch work to the constellation when it has spare power.

    Work arrives at the ground data centers at ``ground_offered_load`` times the constellation's
    installed compute; they serve up to ``ground_capacity`` times it themselves. Each step the
    constellation first takes what it can of the waiting work on satellites with spare capacity,
    no power or thermal limit and a battery at least ``min_battery_soc`` full (energy to spare);
    the ground serves the rest it can, and the remainder waits (:mod:`twin.subsystems.offload`).
    """

    ground_offered_load: float = key("Work arriving at the ground data centers, as a multiple of the constellation's "
                                     "installed compute", unit="1", above=0.0, maximum=10.0)
    ground_capacity: float = key("What the ground data centers serve themselves, as a multiple of the constellation's "
                                 "installed compute", unit="1", minimum=0.0, maximum=10.0)
    min_battery_soc: float = key("Battery charge a satellite needs to take offloaded work", unit="1", minimum=0.0,
                                 maximum=1.0)


# The parts' defaults (issue 20): one accelerator of the Trillium class per satellite, its 32 GB of HBM (Google
# Cloud, TPU v6e) and 32 MiB of on-chip SRAM and flip-flops (assumption). The Weibull parameters are ASSUMPTIONS of
# the right order: no per-bit proton Weibull fit of HBM or of the TPU is published (the Suncatcher study, arXiv
# 2511.19468, reports bit flips and HBM irregularities from about 2 krad in a 67 MeV beam, without a fit); DRAM proton
# cross sections of 1e-18 to 1e-17 cm2/bit and bulk SRAM of about 1e-14 cm2/bit with thresholds of a few MeV are the
# usual orders. SECDED/chipkill ECC corrects single-bit upsets of the HBM; multi-bit upsets in one word (about 1 % of
# DRAM events, assumption) are detected. Logic: on-chip SRAM with ECC and unprotected flip-flops (assumption).
# Health: the Suncatcher TPUs showed no hard failure up to 15 krad(Si) under 67 MeV protons; taken as the 5th
# percentile of a lognormal dose to failure of log width 0.5 (assumption), the median is 15 exp(1.645 x 0.5) krad.
# Meta's Llama 3 run (16,384 H100 for 54 days) saw 148 interruptions from faulty GPUs and 72 from their HBM3:
# 220 / (16,384 x 54 / 365.25) a year per accelerator, an upper bound on hard failures. Checkpoints: every minute
# (assumption: in-memory checkpointing of training state, which a fleet upset every few minutes calls for).
SUNCATCHER_NO_FAILURE_KRAD = 15.0
LLAMA3_RANDOM_FAILURES_PER_YEAR = 220.0 / (16_384 * 54.0 / 365.25)


@dataclass(frozen=True)
class RadiationDesign:
    """The radiation a scenario's satellites meet and how their parts respond (issue 20, :mod:`twin.radiation`).

    AP8/AE8 at ``solar`` minimum or maximum behind ``shielding_mm`` of aluminium; each satellite's
    memory and logic bits upset with a Weibull cross section per bit over the proton energy
    (``sigma_sat (1 - exp(-((E - E0) / W)^s))``), a share of the upsets corrected, a share detected and
    the rest silent; its accelerator fails from dose (lognormal dose to failure) or at random. An upset
    detected but not corrected crashes the job on that satellite back to its last checkpoint.
    """

    solar: str = key("Solar activity of the trapped-particle models (AP8/AE8 MIN or MAX)", choices=("min", "max"),
                     default="min")
    shielding_mm: float = key("Aluminium in front of the parts (centre of a sphere), within the dose-depth table",
                              unit="mm", minimum=0.05, maximum=20.0, default=2.0)
    memory_bits: float = key("Bits of memory (HBM) on each satellite", unit="bit", minimum=0.0, maximum=1e18,
                             default=32e9 * 8)
    memory_saturation_cm2: float = key("Saturation cross section per memory bit (a bit is under 1e-8 cm²)",
                                       unit="cm²", above=0.0, maximum=1e-8, default=5e-18)
    memory_threshold_mev: float = key("Proton energy below which a memory bit does not upset", unit="MeV",
                                      minimum=0.0, maximum=400.0, default=5.0)
    memory_width_mev: float = key("Weibull width of the memory cross section", unit="MeV", above=0.0, maximum=1000.0,
                                  default=30.0)
    memory_shape: float = key("Weibull shape of the memory cross section", unit="1", above=0.0, maximum=10.0,
                              default=1.5)
    memory_corrected: float = key("Share of memory upsets corrected by error correction", unit="1", minimum=0.0,
                                  maximum=1.0, default=0.99)
    memory_detected: float = key("Share of memory upsets detected but not corrected (the rest are silent)", unit="1",
                                 minimum=0.0, maximum=1.0, default=0.0099)
    logic_bits: float = key("Bits of on-chip SRAM and flip-flops of each satellite's accelerator", unit="bit",
                            minimum=0.0, maximum=1e18, default=float(32 * 2**20 * 8))
    logic_saturation_cm2: float = key("Saturation cross section per logic bit (a bit is under 1e-8 cm²)", unit="cm²",
                                      above=0.0, maximum=1e-8, default=1e-14)
    logic_threshold_mev: float = key("Proton energy below which a logic bit does not upset", unit="MeV", minimum=0.0,
                                     maximum=400.0, default=2.0)
    logic_width_mev: float = key("Weibull width of the logic cross section", unit="MeV", above=0.0, maximum=1000.0,
                                 default=15.0)
    logic_shape: float = key("Weibull shape of the logic cross section", unit="1", above=0.0, maximum=10.0,
                             default=1.2)
    logic_corrected: float = key("Share of logic upsets corrected", unit="1", minimum=0.0, maximum=1.0, default=0.80)
    logic_detected: float = key("Share of logic upsets detected but not corrected (the rest are silent)", unit="1",
                                minimum=0.0, maximum=1.0, default=0.15)
    dose_median_krad: float = key("Median total ionising dose at which an accelerator fails (lognormal)",
                                  unit="krad", above=0.0, maximum=1e5,
                                  default=SUNCATCHER_NO_FAILURE_KRAD * float(np.exp(1.645 * 0.5)))
    dose_log_width: float = key("Log width (sigma of ln dose) of the dose to failure", unit="1", above=0.0,
                                maximum=10.0, default=0.5)
    random_failures_per_year: float = key("Random hard failures per accelerator and year, besides dose",
                                          unit="1/year", minimum=0.0, maximum=100.0,
                                          default=LLAMA3_RANDOM_FAILURES_PER_YEAR)
    checkpoint_interval_s: float = key("How often a job saves its state: an upset detected but not corrected "
                                       "crashes it back to its last checkpoint, half this on average",
                                       unit="s", above=0.0, maximum=86400.0, default=60.0)


@dataclass(frozen=True)
class FlightSettings:
    """Flight dynamics (:mod:`twin.flight`): how long the budget runs, how tightly altitude and LTAN are held,
    and how close cluster members may come before a warning."""

    budget_years: float = key("Span of the Δv and propellant budget from the epoch (the mission's life)", unit="year",
                              above=0.0, maximum=30.0, default=10.0)
    altitude_tolerance_km: float = key("Altitude band each satellite is held within (how often it burns)", unit="km",
                                       above=0.0, maximum=50.0, default=1.0)
    ltan_tolerance_minutes: float = key("LTAN band each plane is held within (how often it burns)", unit="min",
                                        above=0.0, maximum=60.0, default=5.0)
    member_warning_m: float = key("Closest approach of two members of a sub-center below which `twin flight` warns",
                                  unit="m", minimum=0.0, default=50.0)
    # The atmosphere's indices. F10.7 ranges over 62-457 sfu since 1947 (Tapping 2013, doi:10.1002/swe.20064: the
    # record low of 2008 near 63, the record day of 1947); Ap is 0-400 by its definition (Bartels' ap scale, GFZ).
    indices: str = key("Solar and geomagnetic indices of the atmosphere (NRLMSIS): the shipped predicted solar cycle "
                       "(assets/flight/solar_indices.csv) or the fixed f107_sfu, f107_81day_sfu and ap below",
                       choices=("predicted", "fixed"), default="predicted")
    f107_sfu: float | None = key("Daily F10.7 solar radio flux held for the whole run and budget (indices = \"fixed\")",
                                 unit="sfu", minimum=50.0, maximum=500.0, default=None)
    f107_81day_sfu: float | None = key("81-day centred mean of F10.7 held fixed (indices = \"fixed\")", unit="sfu",
                                       minimum=50.0, maximum=500.0, default=None)
    ap: float | None = key("Daily geomagnetic Ap index held fixed (indices = \"fixed\")", unit="1", minimum=0.0,
                           maximum=400.0, default=None)


@dataclass(frozen=True)
class Relay:
    """A geostationary data relay satellite at a fixed longitude."""

    name: str = key("Name of the relay, unique")
    longitude_deg: float = key("Longitude of its geostationary slot, east positive", unit="deg", minimum=-180.0,
                               maximum=360.0)
    owner: str = key("The consortium member operating it")


@dataclass(frozen=True)
class JobClass:
    """A class of compute jobs: how many arrive, how much work they offer, how soon they are due.

    Jobs arrive at ``jobs_per_subcenter_hour`` times the number of sub-centers; ``offered_load`` is
    the class's mean work as a fraction of the fleet's installed capacity, so a mean job is
    ``offered_load / jobs_per_subcenter_hour`` hours of an average sub-center, whatever the phase.
    """

    name: str = key("Name of the class, unique")
    kind: str = key("What the jobs are", choices=("ai_training", "inference", "eo_processing"))
    jobs_per_subcenter_hour: float = key("Arrivals per sub-center", unit="1/h", above=0.0)
    offered_load: float = key("Mean work of the class as a fraction of the fleet's installed compute", unit="1",
                              above=0.0, maximum=10.0)
    size_spread: float = key("Spread of job sizes: sigma of their lognormal distribution", unit="1", minimum=0.0,
                             maximum=3.0)
    deadline_hours: float = key("Time after arrival by which a job is due", unit="h", above=0.0)
    priority: int = key("Order of service, 0 first", minimum=0, maximum=9)


@dataclass(frozen=True)
class ComputeSettings:
    """Workload and compute policy: job classes, idle draw, the battery charge compute may not use."""

    seed: int = key("Seed of the random job arrivals and sizes: the same seed, the same jobs", minimum=0)
    idle_power_fraction: float = key("Power of idle compute as a fraction of `compute_power_w`", unit="1", minimum=0.0,
                                     maximum=1.0)
    battery_reserve_soc: float = key("Battery charge below which compute does not draw on the battery", unit="1",
                                     minimum=0.0, maximum=1.0)
    classes: tuple[JobClass, ...]  # the [[compute.classes]] tables


@dataclass(frozen=True)
class Fault:
    """A fault injected at ``start_s`` seconds after the epoch on a satellite, a whole sub-center, a
    ground station (``station_lost``) or a relay (``relay_lost``).

    ``severity`` is the fraction lost: of the array (``array_degraded``), of the radiating area
    (``radiator_stuck``); the ``*_lost`` kinds ignore it.
    """

    target: str = key("A satellite (`CC1-001-02`) or sub-center (`CC1-001`); a ground station for `station_lost`, a "
                      "relay for `relay_lost`")
    kind: str = key("What fails", choices=FAULT_KINDS)
    start_s: float = key("When: a duration after the epoch (`6h`) or a UTC time, not before the epoch", written="start",
                         text="duration or ISO 8601 UTC time")
    severity: float = key("Fraction lost: of the array (`array_degraded`) or the radiating area (`radiator_stuck`); "
                          "the `*_lost` kinds ignore it", unit="1", minimum=0.0, maximum=1.0, default=1.0)


@dataclass(frozen=True)
class Launch:
    """A launch of the build-up: on ``date`` it puts up the next ``subcenters`` sub-centers of ``group``, in order,
    all their satellites at once."""

    date: str = key("Launch month `YYYY-MM` or day `YYYY-MM-DD`, not before the scenario epoch")
    group: str = key("The `[[subcenters]]` group whose sub-centers it carries")
    subcenters: int = key("How many of the group's sub-centers not yet launched it carries (the vehicle's batch)",
                          minimum=1)


@dataclass(frozen=True)
class MemberShare:
    """A consortium member's share of one group's satellites and capacity (a group without shares belongs to its
    sub-centers' owners, in turn)."""

    group: str = key("The `[[subcenters]]` group shared")
    member: str = key("A member of `consortium.members`")
    percent: float = key("Share of the group's satellites and capacity; a group's shares add up to 100", unit="%",
                         above=0.0, maximum=100.0)


@dataclass(frozen=True)
class PhaseTarget:
    """A target of the build-up: ``quantity`` reaches ``value`` by the date ``by``."""

    name: str = key("Name of the target, unique, such as `phase 3`")
    by: str = key("Date it is due, `YYYY-MM` or `YYYY-MM-DD` (the start of that month or day, UTC)")
    quantity: str = key("What is counted: satellites in orbit, or their beginning-of-life array power",
                        choices=("flying_satellites", "installed_power_w"))
    value: float = key("The value to reach: satellites, or W", unit="1 or W", above=0.0)


@dataclass(frozen=True)
class LifecycleSettings:
    """The build-up over years: launches, commissioning, ageing, failures, replacements and disposal, and the
    members' shares (:mod:`twin.lifecycle`). A satellite is in orbit from its launch, in service after
    `commissioning_days`, fails at `failure_rate_per_year`, is disposed of at `design_life_years`; the satellites lost
    are put up again by a replacement launch every `replacement_every_days`. One capacity unit is one TOPS (the
    buses' `compute_capacity_units`)."""

    end: str = key("End of the build-up run, `YYYY-MM` or `YYYY-MM-DD`, after the epoch")
    step_s: float = key("Step of the build-up run, such as `1d`", written="step", text="duration")
    commissioning_days: float = key("Days from launch to service", unit="d", minimum=0.0, maximum=365.0)
    failure_rate_per_year: float = key("Random failures per satellite-year in orbit", unit="1/year", minimum=0.0,
                                       maximum=1.0)
    design_life_years: float = key("Age at which a satellite is disposed of (de-orbited)", unit="year", above=0.0,
                                   maximum=30.0)
    replacement_every_days: float = key("Interval of the replacement launches that put up the satellites lost since "
                                        "the last one (0: none replaced)", unit="d", minimum=0.0, maximum=3650.0)
    battery_calendar_fade_per_year: float = key("Battery capacity lost per year since launch", unit="1/year",
                                                minimum=0.0, maximum=1.0)
    battery_cycle_fade: float = key("Battery capacity lost per eclipse (one charge and discharge cycle)", unit="1",
                                    minimum=0.0, maximum=0.01)
    seed: int = key("Seed of the random failures: the same seed, the same failures", minimum=0)
    launches: tuple[Launch, ...] = ()  # the [[lifecycle.launches]] tables
    shares: tuple[MemberShare, ...] = ()  # the [[lifecycle.shares]] tables
    targets: tuple[PhaseTarget, ...] = ()  # the [[lifecycle.targets]] tables


@dataclass(frozen=True)
class Scenario:
    """A validated scenario; build one with :func:`load_scenario` or :func:`scenario_from_dict`."""

    name: str = key("Short name, recorded in every run it makes", table="scenario")
    title: str = key("One-line title of its runs and reports", table="scenario")
    phase: int = key("Build phase: 1 (2025-2027), 2 (2028-2030) or 3 (by 2035)", minimum=1, maximum=3,
                     table="scenario")
    epoch: Time = key("Start of its runs, such as `2026-06-01T00:00:00Z`", text="ISO 8601 UTC time", table="scenario")
    duration_s: float = key("Span of a run unless told otherwise, such as `24h`, `90min`, `7d`", written="duration",
                            text="duration", table="scenario")
    step_s: float = key("Time step of a run unless told otherwise, such as `60s`", written="step", text="duration",
                        table="scenario")
    _: KW_ONLY
    description: str = key("What the scenario holds, in a few sentences", default="", table="scenario")
    orbit: Orbit
    buses: dict[str, Bus]
    subcenters: tuple[SubcenterGroup, ...]
    ground_stations: tuple[GroundStation, ...]
    relays: tuple[Relay, ...]
    members: tuple[str, ...] = key("The consortium's members: owners of sub-centers, stations and relays",
                                   table="consortium")
    lead: str = key("The lead member, one of `members`", table="consortium")
    compute: ComputeSettings
    faults: tuple[Fault, ...] = ()
    source: str = ""
    text: str = field(default="", repr=False, compare=False)  # the TOML it was made from: what its runs record
    links: LinkSettings | None = None
    offload: OffloadSettings | None = None
    flight: FlightSettings = FlightSettings()
    radiation: RadiationDesign | None = None
    lifecycle: LifecycleSettings | None = None

    @property
    def satellite_count(self) -> int:
        return sum(group.count * group.satellites for group in self.subcenters)

    @property
    def subcenter_count(self) -> int:
        return sum(group.count for group in self.subcenters)

    def installed_power_w(self) -> float:
        """Beginning-of-life array power at normal incidence and 1 au, summed over the fleet (W)."""
        return sum(
            group.count
            * group.satellites
            * SOLAR_CONSTANT_W_M2
            * self.buses[group.bus].solar_array_area_m2
            * self.buses[group.bus].solar_cell_efficiency
            for group in self.subcenters
        )


def subcenter_names(group: SubcenterGroup) -> list[str]:
    """Names of the sub-centers of a group: ``GROUP-001``, ``GROUP-002``..."""
    return [f"{group.name}-{index + 1:03d}" for index in range(group.count)]


def satellite_names(subcenter: str, satellites: int) -> list[str]:
    """Names of the satellites of a sub-center: ``SUBCENTER-01`` (the chief), ``SUBCENTER-02``..."""
    return [f"{subcenter}-{index + 1:02d}" for index in range(satellites)]


@dataclass(frozen=True)
class Section:
    """One table of a scenario file: its ``path`` there, the dataclass whose keys it holds (those of
    ``Key.table == table``), whether a file may leave it out, whether it is an array of tables
    (``[[path]]``), and what it is (else the dataclass's first docstring line)."""

    path: str
    model: type
    table: str = ""
    required: bool = True
    many: bool = False
    description: str = ""


SECTIONS = (
    Section("scenario", Scenario, table="scenario", description="The scenario: its name, phase and time span."),
    Section("orbit", Orbit),
    Section("buses.NAME", Bus, description="One satellite bus type, named by its table (`[buses.compute-s]`): array, "
                                           "battery, radiator and compute payload."),
    Section("subcenters", SubcenterGroup, many=True),
    Section("subcenters.formation", Formation),
    Section("ground_stations", GroundStation, many=True),
    Section("relays", Relay, many=True),
    Section("consortium", Scenario, table="consortium", description="The consortium that owns the constellation."),
    Section("compute", ComputeSettings),
    Section("compute.classes", JobClass, many=True),
    Section("faults", Fault, required=False, many=True,
            description="A fault injected into the runs: a satellite or a whole sub-center lost or degraded, a ground "
                        "station or a relay lost, from `start` on."),
    Section("links", LinkSettings, required=False),
    Section("offload", OffloadSettings, required=False),
    Section("flight", FlightSettings, required=False),
    Section("radiation", RadiationDesign, required=False),
    Section("lifecycle", LifecycleSettings, required=False),
    Section("lifecycle.launches", Launch, many=True),
    Section("lifecycle.shares", MemberShare, required=False, many=True),
    Section("lifecycle.targets", PhaseTarget, required=False, many=True),
)
TOP_LEVEL = tuple(dict.fromkeys(section.path.split(".")[0] for section in SECTIONS))
OPTIONAL_SECTIONS = tuple(section.path for section in SECTIONS if not section.required)
