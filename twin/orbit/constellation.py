"""Design the fleet of a scenario: planes, sub-centers, close formations; or take satellites from TLEs."""

from __future__ import annotations

import warnings

import numpy as np
from sgp4.api import WGS72, Satrec
from sgp4.io import compute_checksum

from twin.constants import EARTH_EQUATORIAL_RADIUS_KM, SUN_SYNCHRONOUS_RATE_RAD_S
from twin.orbit.fleet import Fleet, FormationBlock, RelativeOrbits, relative_orbits_for_chief, satrec_from_elements
from twin.orbit.design import raan_from_ltan_rad, sun_synchronous_inclination_deg
from twin.orbit.separation import check_separation, formation_spacings_m
from twin.scenario import Formation, Scenario, satellite_names, subcenter_names


def sgp4_sun_synchronous_elements(epoch_jd: float, altitude_km: float, eccentricity: float,
                                  argp_rad: float) -> tuple[float, float]:
    """Kozai mean motion (rad/min) and inclination (rad) of a sun-synchronous SGP4 element set.

    Starts from the first-order J2 inclination and refines it so that SGP4's own secular node rate
    (which adds J2^2 and J4 terms) is exactly 360 deg per tropical year, and the mean motion so that
    SGP4's mean semi-major axis is the WGS-84 equatorial radius plus ``altitude_km``. Without the
    refinement the node would drift by about 0.6 deg a year at 750 km.
    """
    target_km = EARTH_EQUATORIAL_RADIUS_KM + altitude_km
    inclination = np.radians(sun_synchronous_inclination_deg(altitude_km, eccentricity))
    mean_motion = np.sqrt(398600.4418 / target_km**3) * 60.0
    for _ in range(6):
        satrec = satrec_from_elements(epoch_jd, mean_motion, eccentricity, inclination, 0.0, argp_rad, 0.0)
        mean_motion *= (satrec.a * satrec.radiusearthkm / target_km) ** 1.5
        node_rate = satrec.nodedot / 60.0
        inclination += (node_rate - SUN_SYNCHRONOUS_RATE_RAD_S) / (node_rate * np.tan(inclination))
    return float(mean_motion), float(inclination)


def hexagonal_disk_m(count: int, spacing_m: float) -> np.ndarray:
    """The ``count`` points (m, 2) of a hexagonal grid with ``spacing_m`` nearest to its centre, centre first."""
    rings = int(np.ceil(np.sqrt(count))) + 1
    i, j = np.meshgrid(np.arange(-rings, rings + 1), np.arange(-rings, rings + 1), indexing="ij")
    points = np.column_stack([(i + 0.5 * j).ravel(), (np.sqrt(3.0) / 2.0 * j).ravel()]) * spacing_m
    order = np.lexsort((np.arctan2(points[:, 1], points[:, 0]), np.round(np.hypot(*points.T), 6)))
    return points[order[:count]]


def formation_offsets(formation: Formation, count: int, semi_major_axis_m: float) -> RelativeOrbits:
    """Relative orbit elements of ``count`` satellites (row 0 the chief) in a close formation.

    ``disk``: members on a hexagonal grid in a projected circular orbit (PCO) about the chief:
    cross-track and along-track motion on a circle of radius ``rho``, radial on ``rho/2``, so
    neighbours never come closer than ``spacing_m`` and the cluster is passively safe (Suncatcher's
    81-satellite cluster within about 1 km is the model, see REFERENCES.md).
    ``train``: members ``spacing_m`` apart along track, chief in the middle.
    """
    if formation.shape == "single" or count == 1:
        return RelativeOrbits.chief_only()
    zeros = np.zeros(count)
    if formation.shape == "train":
        steps = np.array([0] + [sign * k for k in range(1, count) for sign in (1, -1)][: count - 1], dtype=float)
        return RelativeOrbits.from_offsets(steps * formation.spacing_m / semi_major_axis_m, zeros, zeros, zeros, zeros)
    grid = hexagonal_disk_m(count, formation.spacing_m) / semi_major_axis_m
    p, q = grid[:, 0], grid[:, 1]
    return RelativeOrbits.from_offsets(zeros, -q / 2.0, -p / 2.0, p, -q)


def _spread(count: int, planes: int) -> list[int]:
    return [len(part) for part in np.array_split(np.arange(count), planes)]


def design_fleet(scenario: Scenario) -> Fleet:
    """Every satellite of ``scenario``: sub-centers spread over their planes, each a close formation.

    Raises :class:`twin.scenario.ScenarioError` naming two satellites that would come closer than
    their formation spacing, or than :data:`twin.orbit.separation.MIN_SEPARATION_M` between formations.
    """
    epoch = scenario.epoch
    epoch_jd = epoch.utc.jd1 + epoch.utc.jd2
    orbit = scenario.orbit
    blocks, labels = [], {key: [] for key in ("names", "subcenter", "plane", "owner", "group", "bus", "role")}
    first_plane = 0
    for group in scenario.subcenters:
        altitude_km = group.altitude_km if group.altitude_km is not None else orbit.altitude_km
        ltan_hours = group.ltan_hours if group.ltan_hours is not None else orbit.ltan_hours
        argp = np.radians(orbit.argument_of_perigee_deg)
        mean_motion, inclination = sgp4_sun_synchronous_elements(epoch_jd, altitude_km, orbit.eccentricity, argp)
        nominal_raan = raan_from_ltan_rad(ltan_hours, epoch)
        chiefs, subcenter_index, names = [], 0, subcenter_names(group)
        for plane, per_plane in enumerate(_spread(group.count, group.planes)):
            raan = nominal_raan + np.radians((plane - (group.planes - 1) / 2.0) * group.plane_spacing_deg)
            for slot in range(per_plane):
                latitude_argument = 2 * np.pi * slot / per_plane + np.radians(group.phase_deg + plane * group.phase_offset_deg)
                chiefs.append(satrec_from_elements(epoch_jd, mean_motion, orbit.eccentricity, inclination, raan, argp,
                                                   latitude_argument - argp, satnum=len(labels["names"]) + 1))
                subcenter = names[subcenter_index]
                owner = group.owners[subcenter_index % len(group.owners)]
                for member, name in enumerate(satellite_names(subcenter, group.satellites)):
                    labels["names"].append(name)
                    labels["subcenter"].append(subcenter)
                    labels["plane"].append(first_plane + plane)
                    labels["owner"].append(owner)
                    labels["group"].append(group.name)
                    labels["bus"].append(group.bus)
                    labels["role"].append("chief" if member == 0 else "member")
                subcenter_index += 1
        first_plane += group.planes
        semi_major_axis_m = chiefs[0].a * chiefs[0].radiusearthkm * 1e3
        offsets = formation_offsets(group.formation, group.satellites, semi_major_axis_m)
        blocks.append(FormationBlock(chiefs, relative_orbits_for_chief(chiefs[0], offsets)))
    fleet = Fleet(blocks, **{key: np.array(values) for key, values in labels.items()})
    check_separation(fleet, formation_spacings_m(scenario))
    return fleet


def fleet_from_tles(tles: list[tuple[str, str, str]], owner: str = "", subcenter: str = "", bus: str = "") -> Fleet:
    """A fleet of satellites given as (name, line 1, line 2) TLEs, each propagated by SGP4 itself."""
    if not tles:
        raise ValueError("tles: no satellite given")
    chiefs = []
    for name, line1, line2 in tles:
        satrec = Satrec.twoline2rv(line1, line2, WGS72)
        if satrec.error:
            raise ValueError(f"tle {name!r}: cannot be read (sgp4 error {satrec.error})")
        chiefs.append(satrec)
    count = len(chiefs)
    names = np.array([name for name, _, _ in tles])
    if len(set(names)) != count:
        raise ValueError("tles: satellite names must be unique")
    return Fleet(
        [FormationBlock(chiefs, RelativeOrbits.chief_only())], names=names,
        subcenter=np.array([subcenter or name for name in names]), plane=np.full(count, -1),
        owner=np.full(count, owner), group=np.full(count, "tle"), bus=np.full(count, bus), role=np.full(count, "chief"),
    )


class TleChecksumWarning(UserWarning):
    """A TLE line whose checksum does not match, accepted because checksums were not to be checked."""


def tle_checksum_error(line: str) -> str | None:
    """Why the checksum of TLE ``line`` (column 69) is wrong, or None if it is right."""
    given = line[68:69]
    if len(line) != 69 or not given.isdigit():
        return f"{line!r} is not 69 columns ending in a checksum digit"
    computed = compute_checksum(line)
    if int(given) != computed:
        return f"checksum {given} does not match the line's digits, which add up to {computed} (a corrupted digit?)"
    return None


def read_tle_file(text: str, check_checksums: bool = True) -> list[tuple[str, str, str]]:
    """(name, line 1, line 2) triples from a TLE or 3LE text; unnamed TLEs are named by catalogue number.

    A line whose checksum is wrong is refused (``ValueError`` naming the line), or with
    ``check_checksums=False`` accepted with a :class:`TleChecksumWarning`.
    """
    lines = [(number, line.rstrip()) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    result, index = [], 0
    while index < len(lines):
        if lines[index][1].startswith("1 ") and index + 1 < len(lines) and lines[index + 1][1].startswith("2 "):
            elements, name = lines[index:index + 2], lines[index][1][2:7].strip()
            index += 2
        elif index + 2 < len(lines) and lines[index + 1][1].startswith("1 ") and lines[index + 2][1].startswith("2 "):
            elements, name = lines[index + 1:index + 3], lines[index][1].removeprefix("0 ").strip()
            index += 3
        else:
            raise ValueError(f"tle line {lines[index][0]}: {lines[index][1]!r} is not part of a two-line element set")
        for number, line in elements:
            error = tle_checksum_error(line)
            if error and check_checksums:
                raise ValueError(f"tle line {number}: {error}; --no-checksum accepts it")
            if error:
                warnings.warn(f"tle line {number}: {error}; accepted unchecked", TleChecksumWarning, stacklevel=2)
        result.append((name, elements[0][1], elements[1][1]))
    return result
