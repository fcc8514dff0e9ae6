"""The relay and ground network of a run: ground contacts, links, routing, data flows and paths.

:func:`add_network` adds it to a run that holds the orbit layer and the subsystems.
"""

from twin.network.flows import Outage, add_network, command_windows, network_report, outages_of

__all__ = ["Outage", "add_network", "command_windows", "network_report", "outages_of"]
