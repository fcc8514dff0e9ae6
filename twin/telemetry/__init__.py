"""Telemetry: the real (or a virtual) fleet's CCSDS packets in, a durable store of measurements, and the
twin's state assimilated from them with residuals and anomaly flags.

Modules, in the order data flows: :mod:`.timecode` (CUC time codes), :mod:`.packets` (the XTCE
definitions as numpy layouts: encode and decode), :mod:`.framing` (packets out of a byte stream,
resynchronising after damage), :mod:`.ingest` (validation and bad-input accounting),
:mod:`.store` (the crash-safe Zarr store), :mod:`.server` and :mod:`.client` (TCP with tokens and
acknowledgements), :mod:`.virtual_fleet` (the simulated fleet that sends packets),
:mod:`.assimilation`, :mod:`.anomalies` and :mod:`.orbit_fit` (the twin meets the measurements).
"""
