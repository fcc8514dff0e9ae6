"""Subsystems of every satellite, stepped in time: power (arrays, battery, loads), thermal (payload
and bus nodes), compute (jobs placed and served), faults, and phase 2's ground data centers.

Reads the orbit layer's arrays; never imports the network, the run, the report or the CLI.
"""
