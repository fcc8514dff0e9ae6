"""Users of the dashboard, their hashed passwords and roles, and the role check every server-side action calls.

The users file is TOML, one table per user::

    [users.vera]
    roles = ["viewer"]
    password = "scrypt$16384$8$1$<salt, base64>$<key, base64>"

Passwords are never stored: each is an scrypt key (RFC 7914; n = 2**14, r = 8, p = 1, 32 bytes,
about 16 MB and 50 ms to check) with a random 16-byte salt of its own. Print an entry for a new
user, the password typed twice and never echoed::

    python -m apps.auth vera --roles viewer

Roles: ``viewer`` looks at everything and changes nothing; ``engineer`` may also start what-if
runs; ``operator`` may also acknowledge alarms (live mode). A user may hold several roles.

>>> encoded = hash_password("correct horse")
>>> verify_password("correct horse", encoded), verify_password("wrong horse", encoded)
(True, False)
>>> require(User("vera", frozenset({"viewer"})), "run_whatif")
Traceback (most recent call last):
...
apps.auth.AccessDenied: vera (viewer) may not start a what-if run: that needs the engineer role
"""

from __future__ import annotations

import argparse
import base64
import getpass
import hashlib
import hmac
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import tomllib

ROLES = ("viewer", "engineer", "operator")
# action -> (role that may do it, what it is, as a sentence fragment)
ACTIONS = {
    "run_whatif": ("engineer", "start a what-if run"),
    "acknowledge_alarm": ("operator", "acknowledge an alarm"),
}
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # RFC 7914's interactive-login cost: 16 MB, about 50 ms here
SALT_BYTES, KEY_BYTES = 16, 32
USERS_ENV = "TWIN_USERS"  # path of the users file when the command line does not give one


class UsersFileError(ValueError):
    """A users file that cannot be used, with the field and value at fault."""


class AccessDenied(PermissionError):
    """A signed-in user asked for something their roles do not allow."""


@dataclass(frozen=True)
class User:
    """A signed-in user: a name and the roles they hold."""

    name: str
    roles: frozenset[str]

    def can(self, action: str) -> bool:
        """True if one of the user's roles allows ``action`` (a key of :data:`ACTIONS`)."""
        return ACTIONS[action][0] in self.roles

    @property
    def role_text(self) -> str:
        return ", ".join(role for role in ROLES if role in self.roles)


def require(user: User | None, action: str) -> None:
    """Raise :class:`AccessDenied` unless ``user`` may do ``action``: the check behind every server-side action."""
    role, what = ACTIONS[action]
    if user is None:
        raise AccessDenied(f"nobody is signed in, so nobody may {what}")
    if not user.can(action):
        raise AccessDenied(f"{user.name} ({user.role_text}) may not {what}: that needs the {role} role")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES,
                          maxmem=256 * n * r)


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$key`` for ``password``, with a fresh random salt."""
    salt = os.urandom(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def _parse_hash(encoded: str) -> tuple[int, int, int, bytes, bytes]:
    """(n, r, p, salt, key) of an encoded hash; ``ValueError`` if it is not one."""
    scheme, n, r, p, salt, key = encoded.split("$")
    if scheme != "scrypt":
        raise ValueError(f"unknown scheme {scheme!r}")
    return int(n), int(r), int(p), base64.b64decode(salt, validate=True), base64.b64decode(key, validate=True)


def verify_password(password: str, encoded: str) -> bool:
    """True if ``password`` is the one ``encoded`` (from :func:`hash_password`) was made from; compared in constant time."""
    n, r, p, salt, key = _parse_hash(encoded)
    return hmac.compare_digest(_scrypt(password, salt, n, r, p), key)


# Checked against when the user name is unknown, so that a wrong name costs as long as a wrong password.
_DUMMY_HASH = f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(bytes(SALT_BYTES))}${_b64(bytes(KEY_BYTES))}"


class UserBook:
    """The users of a users file: who exists, with which roles, and whether a password is theirs."""

    def __init__(self, entries: dict[str, tuple[frozenset[str], str]], source: str = "<dict>"):
        self._entries = entries
        self.source = source

    @classmethod
    def from_file(cls, path: str | Path) -> UserBook:
        """Read and check a users file; :class:`UsersFileError` names the field and value at fault."""
        path = Path(path)
        if not path.is_file():
            raise UsersFileError(f"users: {str(path)!r} is not a file")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise UsersFileError(f"users: {str(path)!r} is not valid TOML ({error})") from None
        return cls(_check_users(raw, str(path)), str(path))

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def user(self, name: str | None) -> User | None:
        """The :class:`User` called ``name``, or ``None`` if there is none."""
        if name not in self._entries:
            return None
        return User(name, self._entries[name][0])

    def authenticate(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else ``None`` (an unknown name takes as long as a wrong password)."""
        roles, encoded = self._entries.get(name, (frozenset(), _DUMMY_HASH))
        matches = verify_password(password, encoded)
        return User(name, roles) if matches and name in self._entries else None


def _check_users(raw: dict, source: str) -> dict[str, tuple[frozenset[str], str]]:
    unknown = sorted(set(raw) - {"users"})
    if unknown:
        raise UsersFileError(f"{source}: {unknown[0]}: unknown section; the file holds [users.NAME] tables")
    users = raw.get("users")
    if not isinstance(users, dict) or not users:
        raise UsersFileError(f"{source}: users: no [users.NAME] table")
    entries = {}
    for name, entry in users.items():
        where = f"{source}: users.{name}"
        if not isinstance(entry, dict):
            raise UsersFileError(f"{where}: {entry!r} must be a table")
        extra = sorted(set(entry) - {"roles", "password"})
        if extra:
            raise UsersFileError(f"{where}.{extra[0]}: unknown key; known keys: roles, password")
        roles = entry.get("roles")
        if not isinstance(roles, list) or not roles:
            raise UsersFileError(f"{where}.roles: {roles!r} must be a non-empty list of roles ({', '.join(ROLES)})")
        for role in roles:
            if role not in ROLES:
                raise UsersFileError(f"{where}.roles: {role!r} is not a role; roles: {', '.join(ROLES)}")
        password = entry.get("password")
        try:
            _parse_hash(password)
        except (AttributeError, TypeError, ValueError):
            raise UsersFileError(f"{where}.password: {password!r} is not a hash from "
                                 "'python -m apps.auth NAME --roles ROLE'") from None
        entries[name] = (frozenset(roles), password)
    return entries


def users_file(path: str | Path | None) -> Path:
    """The users file to use: ``path``, else ``$TWIN_USERS``; :class:`UsersFileError` if neither is given."""
    chosen = path or os.environ.get(USERS_ENV)
    if not chosen:
        raise UsersFileError(f"users: no users file; give --users FILE or set {USERS_ENV} "
                             "(apps/users.example.toml holds demo users)")
    return Path(chosen)


def main(argv: list[str] | None = None) -> int:
    """Print a users-file entry for a new user, asking for the password twice."""
    parser = argparse.ArgumentParser(prog="python -m apps.auth", description=main.__doc__)
    parser.add_argument("name", help="user name")
    parser.add_argument("--roles", nargs="+", choices=ROLES, default=["viewer"], help="roles (default viewer)")
    args = parser.parse_args(argv)
    password = getpass.getpass(f"password for {args.name}: ")
    if not password or password != getpass.getpass("again: "):
        print("apps.auth: error: the two passwords differ or are empty", file=sys.stderr)
        return 2
    roles = ", ".join(f'"{role}"' for role in args.roles)
    print(f'[users.{args.name}]\nroles = [{roles}]\npassword = "{hash_password(password)}"')
    return 0


if __name__ == "__main__":
    sys.exit(main())
