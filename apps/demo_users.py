"""The demo users of ``apps/users.example.toml`` (public passwords): served on loopback only, with a warning.

Every way to serve the dashboard (``twin serve``, :func:`apps.server.serve`, ``panel serve`` with
:mod:`apps.panel_auth`) calls :func:`check_demo_users` with the address it listens on: a users file
holding any of the demo hashes is refused on an address other machines may reach, and on loopback
the caller shows the warning it returns.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import tomllib

from apps.auth import UserBook, UsersFileError

DEMO_USERS_FILE = Path(__file__).resolve().with_name("users.example.toml")


def demo_hashes() -> set[str]:
    """The password hashes of the demo users (from :data:`DEMO_USERS_FILE`)."""
    users = tomllib.loads(DEMO_USERS_FILE.read_text(encoding="utf-8"))["users"]
    return {entry["password"] for entry in users.values()}


def is_loopback(address: str | None) -> bool:
    """True if ``address`` (an IP address or a host name) is this machine's loopback only; ``None`` or ``""``
    (every interface) and names that do not resolve are not."""
    if not address:
        return False
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        pass
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(address, None)}
    except OSError:
        return False
    return all(ipaddress.ip_address(ip.split("%")[0]).is_loopback for ip in resolved)


def check_demo_users(users: UserBook, address: str | None) -> str | None:
    """Refuse the demo users on a non-loopback ``address`` (:class:`apps.auth.UsersFileError` naming them and
    the address); on loopback, the warning to show; ``None`` if ``users`` has none of them."""
    demo = demo_hashes()
    fields = [f"users.{name}" for name, encoded in users.hashes().items() if encoded in demo]
    if not fields:
        return None
    said = f"{users.source}: {', '.join(fields)} have the public demo passwords"
    if not is_loopback(address):
        raise UsersFileError(f"{said}; refused on {address or 'every interface'}, which other machines may reach: "
                             "write a users file of your own (python -m apps.auth NAME --roles ROLE prints an entry)")
    return f"{said}: anyone who can reach {address} can sign in as them (for demonstrations and tests only)"
