"""Operations: the twin used to run the fleet. Above the telemetry (which it reads and uplinks through).

Modules: :mod:`.windows` (when each satellite can be commanded, from the network model), :mod:`.queue`
(commands prepared, sent in their window, and followed through acceptance, execution and verification,
with roles and a history), :mod:`.verification` (what telemetry shows each command did), :mod:`.alarms`
(limit checks, staleness, one alarm per fault, acknowledge and shelve, roll-ups) and :mod:`.forecast`
(the twin run forward from the live state: what will cross a limit, and when).
"""
