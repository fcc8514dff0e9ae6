"""CCSDS Conjunction Data Messages (CCSDS 508.0-B-1, CDM 1.0) of a screen, written and read with
``ccsds-ndm`` (Egemen Imre's NDM library, GPL-3.0: installed by the ``safety`` extra, imported only here).

One message per conjunction: object 1 is the fleet satellite, object 2 the catalogue object (or the
other fleet satellite). States are in GCRF (from the TEME of SGP4 through :mod:`twin.orbit.frames`), the
covariance is the stated default of each object's class in its RTN frame (``COVARIANCE_METHOD =
DEFAULT``), the hard-body radius is a comment (``HBR``, as the NASA CARA sample CDMs carry it) and
the probability is the 2-D short-encounter one (``COLLISION_PROBABILITY_METHOD = FOSTER-1992``) where its assumption
holds at the pair's relative speed (a comment says whether), else the two-body Monte Carlo one
(``ALFANO_MC-2009``: the SANA registry of methods has no Monte Carlo entry, so the name follows its ``AUTHOR_DESCRIPTOR-YEAR``
form) with its sample count and 95 % interval in a comment, or ``NONE`` for a slow encounter screened without samples.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from astropy.time import Time

from twin.orbit.frames import EarthOrientation
from twin.safety.collision_probability import (DEFAULT_POSITION_SIGMA_RIC_KM, VELOCITY_SIGMA_PER_POSITION_SIGMA_RAD_S,
                                               ric_rotation)
from twin.safety.screening import Screening


def _ndm():
    try:
        from ccsds_ndm.mapping import NDMFileFormats
        from ccsds_ndm.models import ndmxml4
        from ccsds_ndm.ndm_io import NdmIo
    except ImportError:
        raise ImportError("CDMs need the ccsds-ndm package: pip install 'orbital-dc-twin[safety]'") from None
    return ndmxml4, NdmIo, NDMFileFormats


def gcrf_states(screening: Screening) -> np.ndarray:
    """States (n, 2, 6) of both objects at each TCA in GCRF, km and km/s (from TEME; the Earth's
    rotation is not in the velocity, TEME and GCRF being both inertial to within precession)."""
    tca = screening.conjunctions["tca"].to_numpy(dtype="datetime64[ns]")
    if not len(tca):
        return np.empty((0, 2, 6))
    start = Time(str(tca[0]), scale="utc")
    offsets_s = (tca - tca[0]) / np.timedelta64(1, "s")
    rotation = EarthOrientation(start, offsets_s.astype(float)).teme_to_gcrs  # (n, 3, 3)
    states = screening.states
    result = np.empty_like(states)
    for part in (slice(0, 3), slice(3, 6)):
        result[..., part] = np.einsum("nij,nkj->nki", rotation, states[..., part])
    return result


def _covariance(ndm, sigma_km) -> object:
    """RTN position-velocity covariance of 1-sigma position ``sigma_km`` (R, T, N), m and m/s, uncorrelated."""
    variance = np.square(np.asarray(sigma_km) * 1e3)
    rate = variance * VELOCITY_SIGMA_PER_POSITION_SIGMA_RAD_S**2
    m2, m2s, m2s2 = (lambda v: ndm.M2Type(value=float(v), units=ndm.M2Units.M_2),
                     lambda v: ndm.M2SType(value=float(v), units=ndm.M2SUnits.M_2_S),
                     lambda v: ndm.M2S2Type(value=float(v), units=ndm.M2S2Units.M_2_S_2))
    return ndm.CdmCovarianceMatrixType(
        cr_r=m2(variance[0]), ct_r=m2(0), ct_t=m2(variance[1]), cn_r=m2(0), cn_t=m2(0), cn_n=m2(variance[2]),
        crdot_r=m2s(0), crdot_t=m2s(0), crdot_n=m2s(0), crdot_rdot=m2s2(rate[0]),
        ctdot_r=m2s(0), ctdot_t=m2s(0), ctdot_n=m2s(0), ctdot_rdot=m2s2(0), ctdot_tdot=m2s2(rate[1]),
        cndot_r=m2s(0), cndot_t=m2s(0), cndot_n=m2s(0), cndot_rdot=m2s2(0), cndot_tdot=m2s2(0), cndot_ndot=m2s2(rate[2]),
    )


def _segment(ndm, which: str, name: str, designator: str, object_type: str, state, sigma_km, maneuverable: str):
    position = [ndm.PositionTypeUr(value=float(x), units=ndm.PositionUnits.KM) for x in state[:3]]
    velocity = [ndm.VelocityTypeUr(value=float(x), units=ndm.VelocityUnits.KM_S) for x in state[3:]]
    metadata = ndm.CdmMetadata(
        object_value=ndm.ObjectType(which), object_designator=designator, catalog_name="SATCAT" if which == "OBJECT2"
        and object_type != "FLEET" else "TWIN", object_name=name, international_designator="UNKNOWN",
        object_type=ndm.ObjectDescriptionType("PAYLOAD" if object_type == "FLEET" else object_type),
        ephemeris_name="NONE", covariance_method=ndm.CovarianceMethodType.DEFAULT,
        maneuverable=ndm.ManeuverableType(maneuverable), ref_frame=ndm.ReferenceFrameType.GCRF,
        gravity_model="SGP4 (WGS-72)", comment=[f"covariance: twin default for {object_type.lower()} objects, "
                                                f"1-sigma RTN {tuple(float(s) for s in sigma_km)} km"],
    )
    data = ndm.CdmData(state_vector=ndm.CdmStateVectorType(x=position[0], y=position[1], z=position[2],
                                                           x_dot=velocity[0], y_dot=velocity[1], z_dot=velocity[2]),
                       covariance_matrix=_covariance(ndm, sigma_km))
    return ndm.CdmSegment(metadata=metadata, data=data)


def conjunction_message(screening: Screening, index: int, originator: str = "ORBITAL-DC-TWIN",
                        states_gcrf: np.ndarray | None = None):
    """The CDM (a ``ccsds_ndm`` object tree) of conjunction ``index`` of ``screening``."""
    ndm, _, _ = _ndm()
    row = screening.conjunctions.iloc[index]
    states = gcrf_states(screening)[index] if states_gcrf is None else states_gcrf[index]
    teme = screening.states[index]
    rotation = ric_rotation(teme[0, :3], teme[0, 3:])
    relative_position_m = rotation @ (teme[1, :3] - teme[0, :3]) * 1e3
    relative_velocity_m_s = rotation @ (teme[1, 3:] - teme[0, 3:]) * 1e3
    tca = np.datetime_as_string(np.datetime64(row["tca"], "ms"))
    length = lambda v: ndm.LengthTypeUo(value=float(v), units=ndm.LengthUnits.M)
    speed = lambda v: ndm.DvType(value=float(v), units=ndm.DvUnits.M_S)
    catalog = row["secondary_kind"] == "catalog"
    header = ndm.CdmHeader(
        creation_date=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S"), originator=originator,
        message_id=f"{row['primary']}_{row['secondary']}_{tca.replace('-', '').replace(':', '')}".replace(" ", "_"),
    )
    relative = ndm.RelativeMetadataData(
        tca=tca, miss_distance=length(row["miss_distance_km"] * 1e3), relative_speed=speed(row["relative_speed_km_s"] * 1e3),
        relative_state_vector=ndm.RelativeStateVectorType(
            relative_position_r=length(relative_position_m[0]), relative_position_t=length(relative_position_m[1]),
            relative_position_n=length(relative_position_m[2]), relative_velocity_r=speed(relative_velocity_m_s[0]),
            relative_velocity_t=speed(relative_velocity_m_s[1]), relative_velocity_n=speed(relative_velocity_m_s[2])),
        collision_probability=float(row["collision_probability"]),
        collision_probability_method=str(row["collision_probability_method"]),
        comment=[f"HBR = {row['hard_body_radius_m']:.2f} m (combined hard-body radius)", _short_encounter_comment(row),
                 *_monte_carlo_comment(row),
                 f"screened by orbital-dc-twin: {screening.summary['threshold_km']:g} km threshold, "
                 f"{screening.summary['step_s']:g} s grid from {screening.summary['start']}"],
    )
    secondary_designator = str(row["secondary_catalog_number"]) if catalog else str(row["secondary"])
    segments = [
        _segment(ndm, "OBJECT1", str(row["primary"]), str(row["primary"]), "FLEET", states[0],
                 DEFAULT_POSITION_SIGMA_RIC_KM["fleet"], "YES"),
        _segment(ndm, "OBJECT2", str(row["secondary"]), secondary_designator,
                 str(row["secondary_object_type"]), states[1],
                 DEFAULT_POSITION_SIGMA_RIC_KM["catalog" if catalog else "fleet"], "N/A" if catalog else "YES"),
    ]
    return ndm.Cdm(header=header, body=ndm.CdmBody(relative_metadata_data=relative, segment=segments))


def _monte_carlo_comment(row) -> list[str]:
    """The sample count and 95 % interval of a Monte Carlo Pc (:mod:`twin.safety.long_encounter`), or nothing."""
    if not row["monte_carlo_samples"]:
        return []
    return [f"Pc by two-body Monte Carlo (Alfano 2009, AAS 09-233): {int(row['monte_carlo_samples'])} samples, "
            f"95% interval {row['collision_probability_low']:.3e} to {row['collision_probability_high']:.3e}"]


def _short_encounter_comment(row) -> str:
    """Whether the 2-D Pc's short-encounter assumption holds at this relative speed
    (:func:`twin.safety.collision_probability.short_encounter_min_speed_km_s`)."""
    limit_m_s, speed_m_s = row["short_encounter_min_speed_km_s"] * 1e3, row["relative_speed_km_s"] * 1e3
    verdict = ("holds" if row["short_encounter"] else "does NOT hold: the Pc is a long-encounter one"
               if row["monte_carlo_samples"] else "does NOT hold: the 2-D Pc is not valid for this conjunction")
    return (f"short-encounter assumption (straight relative path across +-5 combined sigmas) needs a relative speed "
            f"above {limit_m_s:.2f} m/s; at {speed_m_s:.2f} m/s it {verdict}")


def write_cdms(screening: Screening, directory: str | Path, data_format: str = "kvn",
               originator: str = "ORBITAL-DC-TWIN") -> list[Path]:
    """Write one CDM per conjunction of ``screening`` into ``directory`` (``kvn`` or ``xml``); the paths.

    Each file is named by its message ID. Raises ``ValueError`` naming the format if it is neither.
    """
    if data_format not in ("kvn", "xml"):
        raise ValueError(f"data_format: {data_format!r} is neither 'kvn' nor 'xml'")
    _, NdmIo, formats = _ndm()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    states = gcrf_states(screening)
    paths = []
    for index in range(len(screening.conjunctions)):
        message = conjunction_message(screening, index, originator, states)
        path = directory / f"{message.header.message_id}.{'cdm' if data_format == 'kvn' else 'xml'}"
        text = NdmIo().to_string(message, formats.KVN if data_format == "kvn" else formats.XML)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def read_cdm(path: str | Path) -> dict:
    """The main fields of a CDM file (KVN or XML, read by ``ccsds-ndm``): TCA, miss distance (km),
    relative speed (km/s), probability and its method, object names, the relative metadata's comments, and both states (2, 6;
    km, km/s) with their frame."""
    _, NdmIo, _ = _ndm()
    message = NdmIo().from_path(path)
    relative = message.body.relative_metadata_data
    states = []
    for segment in message.body.segment:
        vector = segment.data.state_vector
        states.append([getattr(vector, name).value for name in ("x", "y", "z", "x_dot", "y_dot", "z_dot")])
    return {
        "message_id": message.header.message_id, "tca": np.datetime64(str(relative.tca).removesuffix("Z"), "ns"),
        "miss_distance_km": relative.miss_distance.value / 1e3, "relative_speed_km_s": relative.relative_speed.value / 1e3,
        "collision_probability": relative.collision_probability,
        "collision_probability_method": relative.collision_probability_method,
        "objects": [segment.metadata.object_name for segment in message.body.segment],
        "comments": list(relative.comment),
        "ref_frame": [segment.metadata.ref_frame.value for segment in message.body.segment],
        "states": np.array(states),
    }
