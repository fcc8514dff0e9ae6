"""Orbital safety: conjunction screening against a catalogue (work in progress)."""
