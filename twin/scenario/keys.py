"""Scenario keys, each declared once: a dataclass field made by :func:`key`, whose metadata says how a
scenario file writes it, how it is checked and what it means.

The type comes from the field's annotation (``float``, ``int``, ``str``, ``tuple[str, ...]`` for a
list of names, a dataclass for a nested table; ``X | None`` where a file may leave it out and get none);
:func:`file_keys` gathers the keys of one table of a file, and :meth:`FileKey.check` checks one
value, raising :class:`ScenarioError` naming the key's path and the value.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Mast:
...     height_m: float = key("Height of the mast above the ground", unit="m", above=0.0, maximum=100.0)
>>> file_keys(Mast)["height_m"].check("mast.height_m", 30)
30.0
>>> file_keys(Mast)["height_m"].check("mast.height_m", 0)
Traceback (most recent call last):
...
twin.scenario.keys.ScenarioError: mast.height_m: 0.0 is out of range; it must be above 0.0
"""

from __future__ import annotations

import dataclasses
import functools
import math
import sys
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING, dataclass
from typing import Any

METADATA = "scenario_key"  # the field metadata entry that holds a key's Key


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()  # the default of a key a file must give


class ScenarioError(ValueError):
    """A scenario that cannot be used, with the field and value at fault."""


@dataclass(frozen=True)
class Key:
    """What one scenario key means and allows (the metadata of its dataclass field).

    ``minimum`` and ``maximum`` are inclusive, ``above`` and ``below`` exclusive; ``below_key`` and
    ``at_least_key`` name another key of the same table the value must stay below or reach. A key
    with a ``default`` may be left out of a file. ``written`` is its name in a file where that
    differs from the attribute (``duration`` for ``duration_s``); ``text`` the format of a key
    written as text and converted by the loader (a time, a duration). ``table`` is the file's
    table holding it, for a dataclass that gathers keys of several tables (:class:`Scenario`).
    """

    description: str
    unit: str = ""
    minimum: float | None = None
    above: float | None = None
    maximum: float | None = None
    below: float | None = None
    choices: tuple[str, ...] = ()
    default: Any = REQUIRED
    below_key: str = ""
    at_least_key: str = ""
    written: str = ""
    text: str = ""
    table: str = ""


def key(description: str, *, default: Any = REQUIRED, **limits: Any) -> Any:
    """A dataclass field for one scenario key: its one-line ``description``, and the unit, range,
    choices, relations and file name of :class:`Key` as keywords. A ``default`` is both the value a
    file may leave out and the dataclass field's default."""
    return dataclasses.field(default=MISSING if default is REQUIRED else default,
                             metadata={METADATA: Key(description, default=default, **limits)})


@dataclass(frozen=True)
class FileKey:
    """One key as a file writes it: its ``name`` there, the ``attribute`` it fills, its ``kind`` in
    the file (``float``, ``int``, ``str``, ``list`` of names, ``dict`` for a table) and its :class:`Key`."""

    name: str
    attribute: str
    kind: type
    key: Key

    @property
    def required(self) -> bool:
        return self.key.default is REQUIRED

    def check(self, path: str, value: Any) -> Any:
        """``value`` checked (an int accepted as a float, a list of names as a tuple), else a ScenarioError."""
        spec = self.key
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if self.kind is list:
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
                raise ScenarioError(f"{path}: {value!r} must be a non-empty list of names")
            return tuple(value)
        if not isinstance(value, self.kind) or isinstance(value, bool) != (self.kind is bool):
            raise ScenarioError(f"{path}: {value!r} must be of type {self.kind.__name__}")
        if self.kind is float and not math.isfinite(value):
            raise ScenarioError(f"{path}: {value!r} must be a finite number")
        if spec.choices and value not in spec.choices:
            raise ScenarioError(f"{path}: {value!r} is not one of {', '.join(map(str, spec.choices))}")
        if spec.minimum is not None and value < spec.minimum:
            raise ScenarioError(f"{path}: {value!r} is out of range; it must be at least {spec.minimum}")
        if spec.above is not None and value <= spec.above:
            raise ScenarioError(f"{path}: {value!r} is out of range; it must be above {spec.above}")
        if spec.maximum is not None and value > spec.maximum:
            raise ScenarioError(f"{path}: {value!r} is out of range; it must be at most {spec.maximum}")
        if spec.below is not None and value >= spec.below:
            raise ScenarioError(f"{path}: {value!r} is out of range; it must be below {spec.below}")
        return value

    def check_relation(self, path: str, values: dict[str, Any], keys: Mapping[str, FileKey]) -> None:
        """This key's ``below_key`` / ``at_least_key`` relation to another key of its table.

        ``values`` are the table's checked values by attribute."""
        value = values[self.attribute]
        for other, relation in ((self.key.below_key, "below"), (self.key.at_least_key, "at least")):
            limit = values[keys[other].attribute] if other else None
            if value is None or limit is None:
                continue
            if not (value < limit if relation == "below" else value >= limit):
                raise ScenarioError(f"{path}: {value!r} must be {relation} {other} ({limit})")


@functools.cache
def file_keys(model: type, table: str = "") -> Mapping[str, FileKey]:
    """The keys of ``model`` (a dataclass) a file writes in ``table``, by their name in the file, in field order.

    Fields without a :func:`key` (a bus's name, which is its table's name; nested sections) are left out.
    """
    module = vars(sys.modules[model.__module__])  # each field's own annotation: Python 3.10's get_type_hints refuses KW_ONLY
    hints = {field.name: eval(field.type, module) if isinstance(field.type, str) else field.type
             for field in dataclasses.fields(model)}
    keys = {}
    for field in dataclasses.fields(model):
        spec = field.metadata.get(METADATA)
        if spec is None or spec.table != table:
            continue
        name = spec.written or field.name
        keys[name] = FileKey(name, field.name, str if spec.text else _file_kind(hints[field.name]), spec)
    return types.MappingProxyType(keys)


def _file_kind(annotation: Any) -> type:
    """How a file writes a value of the attribute type ``annotation``."""
    if isinstance(annotation, types.UnionType):
        (annotation,) = [arm for arm in typing.get_args(annotation) if arm is not type(None)]
    if typing.get_origin(annotation) is tuple:
        return list
    if dataclasses.is_dataclass(annotation):
        return dict
    return annotation

