"""The fleet: every satellite's mean elements, grouped into formations that share a reference orbit.

A :class:`Fleet` is a list of :class:`FormationBlock` s. A block holds ``k`` reference (chief)
orbits as SGP4 element sets and one table of ``m`` relative orbits, the same for every chief; its
satellites are the ``k * m`` pairs, chief-major. A satellite given as a TLE is a block of its own
with ``m = 1``. Every satellite, chief or member, has its own SGP4 element set
(:meth:`Fleet.satrecs`), so it can be exported as a TLE and checked against SGP4 itself.

Relative orbits use the quasi-nonsingular relative orbit elements of D'Amico (2010), dimensionless:
``da`` (relative semi-major axis), ``dlambda`` (relative mean longitude), ``dex``, ``dey``
(relative eccentricity vector), ``dix``, ``diy`` (relative inclination vector).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sgp4.api import WGS72, Satrec

SGP4_EPOCH_JD = 2433281.5  # sgp4init counts epoch days from 1949-12-31 00:00 UTC.


def formation_chief(subcenter: np.ndarray, role: np.ndarray) -> np.ndarray:
    """Row of each satellite's chief: the one satellite of role ``chief`` in its sub-center (a chief's is itself).

    -1 where the sub-center has no chief or several. Sorted lookups, no loop over satellites.

    >>> formation_chief(np.array(["A", "A", "B", "C", "C"]), np.array(["member", "chief", "member", "chief", "chief"]))
    array([ 1,  1, -1, -1, -1])
    """
    subcenter, is_chief = np.asarray(subcenter), np.asarray(role).astype(str) == "chief"
    chiefs = np.flatnonzero(is_chief)
    names, first, counts = np.unique(subcenter[chiefs], return_index=True, return_counts=True)
    names, rows = names[counts == 1], chiefs[first[counts == 1]]
    found = np.minimum(np.searchsorted(names, subcenter), max(names.size - 1, 0))
    known = (names[found] == subcenter) if names.size else np.zeros(subcenter.shape, bool)
    return np.where(known, rows[found] if names.size else -1, -1)


@dataclass
class RelativeOrbits:
    """``m`` relative orbits about a chief, dimensionless, with secular drift rates (1/s).

    Row 0 is the chief itself (all zeros). ``dno_kozai`` (rad/min) is the member's change of Kozai
    mean motion that keeps it with the chief; ``dlambda_rate`` and ``diy_rate`` come from the
    difference of SGP4's own secular rates between member and chief, so the linear propagation of
    a member follows SGP4 to first order in its offset.
    """

    da: np.ndarray
    dlambda: np.ndarray
    dex: np.ndarray
    dey: np.ndarray
    dix: np.ndarray
    diy: np.ndarray
    dno_kozai: np.ndarray
    dlambda_rate: np.ndarray
    diy_rate: np.ndarray

    @classmethod
    def from_offsets(cls, dlambda, dex, dey, dix, diy) -> RelativeOrbits:
        """Relative orbits with no mean-motion change and no rates yet (see :func:`relative_orbits_for_chief`)."""
        offsets = [np.asarray(value, dtype=float) for value in (dlambda, dex, dey, dix, diy)]
        zeros = np.zeros_like(offsets[0])
        return cls(zeros, *offsets, zeros, zeros, zeros)

    @classmethod
    def chief_only(cls) -> RelativeOrbits:
        return cls.from_offsets(*np.zeros((5, 1)))

    @property
    def count(self) -> int:
        return self.da.size


@dataclass
class FormationBlock:
    """``k`` chiefs (SGP4 element sets) and the ``m`` relative orbits every chief carries."""

    chiefs: list[Satrec]
    relative: RelativeOrbits

    @property
    def satellite_count(self) -> int:
        return len(self.chiefs) * self.relative.count


@dataclass
class Fleet:
    """Every satellite of a constellation, in the order of ``names``.

    Per-satellite labels (``subcenter``, ``plane``, ``owner``, ``group``, ``bus``, ``role``) are
    arrays of length ``len(names)``.
    """

    blocks: list[FormationBlock]
    names: np.ndarray
    subcenter: np.ndarray
    plane: np.ndarray
    owner: np.ndarray
    group: np.ndarray
    bus: np.ndarray
    role: np.ndarray
    represents: np.ndarray | None = None

    def __post_init__(self):
        count = sum(block.satellite_count for block in self.blocks)
        if self.represents is None:
            self.represents = np.ones(count, dtype=np.int32)
        for name in ("names", "subcenter", "plane", "owner", "group", "bus", "role", "represents"):
            if len(getattr(self, name)) != count:
                raise ValueError(f"{name}: {len(getattr(self, name))} labels for {count} satellites")

    def __len__(self) -> int:
        return len(self.names)

    def chiefs_only(self) -> Fleet:
        """The fleet of the chiefs alone, each standing for its sub-center (``labels["represents"]``)."""
        blocks = [FormationBlock(block.chiefs, RelativeOrbits.chief_only()) for block in self.blocks]
        rows = np.flatnonzero(self.role == "chief")
        represents = np.concatenate([np.full(len(block.chiefs), block.relative.count) for block in self.blocks])
        return Fleet(blocks, names=self.names[rows], subcenter=self.subcenter[rows], plane=self.plane[rows],
                     owner=self.owner[rows], group=self.group[rows], bus=self.bus[rows], role=self.role[rows],
                     represents=represents)

    def covering(self, start: int, stop: int) -> tuple[Fleet, int]:
        """The smallest fleet of whole chiefs (with all their members) that holds rows ``start:stop``,
        and the row of this fleet where it begins."""
        blocks, first_row, row = [], None, 0
        for block in self.blocks:
            members, end = block.relative.count, row + block.satellite_count
            if row < stop and start < end:
                first = max(start - row, 0) // members
                last = -(-(min(stop, end) - row) // members)  # ceiling
                blocks.append(FormationBlock(block.chiefs[first:last], block.relative))
                first_row = row + first * members if first_row is None else first_row
            row = end
        if first_row is None:
            raise ValueError(f"rows: {start}:{stop} holds no satellite of a fleet of {len(self)}")
        rows = slice(first_row, first_row + sum(block.satellite_count for block in blocks))
        return Fleet(blocks, names=self.names[rows], subcenter=self.subcenter[rows], plane=self.plane[rows],
                     owner=self.owner[rows], group=self.group[rows], bus=self.bus[rows], role=self.role[rows],
                     represents=self.represents[rows]), first_row

    def satrecs(self) -> list[Satrec]:
        """One SGP4 element set per satellite, in fleet order (chiefs as designed, members from their offsets)."""
        result = []
        for block in self.blocks:
            for chief in block.chiefs:
                result.extend(member_satrecs(chief, block.relative))
        return result


def satrec_from_elements(epoch_jd: float, no_kozai_rad_min: float, ecc: float, incl_rad: float,
                         raan_rad: float, argp_rad: float, mean_anomaly_rad: float, satnum: int = 0) -> Satrec:
    """An SGP4 element set (WGS-72, no drag) from Kozai mean elements at ``epoch_jd`` (UTC)."""
    satrec = Satrec()
    satrec.sgp4init(
        WGS72, "i", satnum, epoch_jd - SGP4_EPOCH_JD, 0.0, 0.0, 0.0, ecc,
        np.mod(argp_rad, 2 * np.pi), incl_rad, np.mod(mean_anomaly_rad, 2 * np.pi),
        no_kozai_rad_min, np.mod(raan_rad, 2 * np.pi),
    )
    return satrec


def _elements(satrec: Satrec) -> tuple:
    return (satrec.jdsatepoch + satrec.jdsatepochF, satrec.no_kozai, satrec.ecco, satrec.inclo,
            satrec.nodeo, satrec.argpo, satrec.mo)


def member_elements(chief: Satrec, relative: RelativeOrbits) -> np.ndarray:
    """Mean elements (m, 7) of the members: chief elements displaced by the relative orbits.

    Inverts the definitions of the relative orbit elements for a near-circular chief:
    ``dix = di``, ``diy = dRAAN sin i``, ``de = d(e cos w, e sin w)``,
    ``dlambda = du + dRAAN cos i`` with ``u = w + M``.
    """
    epoch, no, ecc, incl, raan, argp, mean_anomaly = _elements(chief)
    d_raan = relative.diy / np.sin(incl)
    ex = ecc * np.cos(argp) + relative.dex
    ey = ecc * np.sin(argp) + relative.dey
    member_ecc = np.hypot(ex, ey)
    member_argp = np.arctan2(ey, ex)
    member_u = argp + mean_anomaly + relative.dlambda - d_raan * np.cos(incl)
    count = relative.count
    return np.column_stack([
        np.full(count, epoch), no + relative.dno_kozai, member_ecc, incl + relative.dix,
        raan + d_raan, member_argp, member_u - member_argp,
    ])


def member_satrecs(chief: Satrec, relative: RelativeOrbits) -> list[Satrec]:
    """SGP4 element sets of the members of one chief (row 0: the chief itself)."""
    rows = member_elements(chief, relative)
    return [chief] + [satrec_from_elements(*row, satnum=chief.satnum) for row in rows[1:]]


def secular_drift_rates(chief: Satrec, members: list[Satrec]) -> tuple[np.ndarray, np.ndarray]:
    """``dlambda_rate`` and ``diy_rate`` (1/s) of members relative to the chief, from SGP4's secular rates."""
    rate = lambda attr: np.array([getattr(s, attr) for s in members]) / 60.0  # rad/min -> rad/s
    cos_i, sin_i = np.cos(chief.inclo), np.sin(chief.inclo)
    mean_longitude_rate = rate("mdot") + rate("argpdot") + rate("nodedot") * cos_i
    d_node_rate = rate("nodedot") - chief.nodedot / 60.0
    chief_longitude_rate = (chief.mdot + chief.argpdot + chief.nodedot * cos_i) / 60.0
    return mean_longitude_rate - chief_longitude_rate, d_node_rate * sin_i


def relative_orbits_for_chief(chief: Satrec, offsets: RelativeOrbits) -> RelativeOrbits:
    """Complete ``offsets`` for ``chief``: the mean motion that keeps each member with it, and the drift rates.

    A formation stays together only if its members share the chief's mean along-track rate. Each
    member's Kozai mean motion is corrected once (the rate is linear in it, d(mdot)/d(n) = 1) so
    that SGP4's secular ``dlambda_rate`` vanishes; the small ``da`` this implies is kept.
    """
    dlambda_rate, _ = secular_drift_rates(chief, member_satrecs(chief, offsets))
    dno_kozai = -dlambda_rate * 60.0  # rad/s -> rad/min
    dno_kozai[0] = 0.0
    corrected = RelativeOrbits(**{**offsets.__dict__, "dno_kozai": dno_kozai})
    members = member_satrecs(chief, corrected)
    dlambda_rate, diy_rate = secular_drift_rates(chief, members)
    da = (np.array([member.a for member in members]) - chief.a) / chief.a
    return RelativeOrbits(**{**corrected.__dict__, "da": da, "dlambda_rate": dlambda_rate, "diy_rate": diy_rate})
