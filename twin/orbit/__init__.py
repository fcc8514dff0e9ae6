"""Orbits: the fleet designed from a scenario (or read from TLEs), propagated with SGP4, turned into
Earth-fixed and inertial frames, and lit by the Sun.

Reads only :mod:`twin.scenario` and the foundation modules (constants, time grid, intervals).
"""
