"""Refusing a physical parameter out of range with a one-line error that names it."""

from __future__ import annotations


def check_range(name: str, value: float, low: float, high: float, low_open: bool = False, why: str = "") -> float:
    """``value`` as a float if it lies in [low, high] (``(low, high]`` with ``low_open``), else a ValueError
    naming ``name`` and the value (NaN is refused too).

    >>> check_range("width_mev", -1.0, 0.0, 1000.0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: width_mev: -1.0 is outside the physical range (0, 1000]
    """
    number = float(value)
    if not ((low < number if low_open else low <= number) and number <= high):
        bracket = "(" if low_open else "["
        raise ValueError(f"{name}: {value!r} is outside the physical range {bracket}{low:g}, {high:g}]{why}")
    return number
