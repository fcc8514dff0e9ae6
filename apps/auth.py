"""Users of the dashboard, their hashed passwords and roles, and the role check every server-side action calls.

The users file is TOML, one table per user::

    [users.vera]
    roles = ["viewer"]
    password = "scrypt$131072$8$1$<salt, base64>$<key, base64>"

Passwords are never stored: each is an scrypt key (RFC 7914; 32 bytes) with a random 16-byte salt
of its own, at OWASP's minimum cost for scrypt (n = 2**17, r = 8, p = 1: 128 MiB and about 0.5 s
to check here). A hash of a lower cost is refused when the file is read, with the command that
makes a new one (the cost is stored in the hash, so a file written before the cost was raised
says so rather than fail at sign-in). Print an entry for a new user, the password typed twice and
never echoed::

    python -m apps.auth vera --roles viewer

Roles: ``viewer`` looks at everything and changes nothing; ``engineer`` may also start what-if
runs and prepare commands; ``operator`` may also prepare and send commands and acknowledge or shelve
alarms (live mode: :mod:`twin.operations.roles`, which checks them again). A user may hold several roles.

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

from twin.operations.roles import PERMISSIONS

ROLES = ("viewer", "engineer", "operator")
# action -> (roles that may do it, what it is, as a sentence fragment); operations' own from twin.operations.roles
ACTIONS = {"run_whatif": (("engineer",), "start a what-if run"), **PERMISSIONS}
# OWASP Password Storage Cheat Sheet (scrypt): N = 2**17, r = 8 (1024-byte blocks), p = 1 at least: 128 MiB per check
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1
MAX_SCRYPT_MEMORY_BYTES = 2**30  # a hash needing more (128 n r bytes) would let a users file exhaust the server
MAX_SCRYPT_P = 16  # passes per check: its time grows with p
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
        return bool(set(ACTIONS[action][0]) & self.roles)

    @property
    def role_text(self) -> str:
        return ", ".join(role for role in ROLES if role in self.roles)


def require(user: User | None, action: str) -> None:
    """Raise :class:`AccessDenied` unless ``user`` may do ``action``: the check behind every server-side action."""
    roles, what = ACTIONS[action]
    if user is None:
        raise AccessDenied(f"nobody is signed in, so nobody may {what}")
    if not user.can(action):
        raise AccessDenied(f"{user.name} ({user.role_text}) may not {what}: that needs the {' or '.join(roles)} role")


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
    n, r, p = int(n), int(r), int(p)
    if n < 2 or n & (n - 1) or r < 1 or p < 1:
        raise ValueError(f"n={n}, r={r}, p={p} are not scrypt's (n a power of 2, r and p at least 1)")
    return n, r, p, base64.b64decode(salt, validate=True), base64.b64decode(key, validate=True)


def cost_problem(n: int, r: int, p: int) -> str | None:
    """Why an scrypt cost (n, r, p) is not accepted (below OWASP's minimum, or too costly to check), else ``None``."""
    if n < SCRYPT_N or r < SCRYPT_R or p < SCRYPT_P:
        return (f"scrypt cost n={n}, r={r}, p={p} is below today's minimum n={SCRYPT_N}, r={SCRYPT_R}, p={SCRYPT_P} "
                "(OWASP)")
    if 128 * n * r > MAX_SCRYPT_MEMORY_BYTES or p > MAX_SCRYPT_P:
        return (f"scrypt cost n={n}, r={r}, p={p} needs {128 * n * r / 2**20:.0f} MiB and {p} passes per check; "
                f"at most {MAX_SCRYPT_MEMORY_BYTES / 2**20:.0f} MiB and {MAX_SCRYPT_P} passes are allowed")
    return None


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

    def hashes(self) -> dict[str, str]:
        """Each user's encoded password hash, by name."""
        return {name: encoded for name, (_, encoded) in self._entries.items()}

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
        if not isinstance(entry, dict):  # its value is not shown: it may be a password
            raise UsersFileError(f"{where}: must be a table ([users.{name}] with roles and password), "
                                 f"not a {type(entry).__name__}")
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
        new_hash = f"python -m apps.auth {name} --roles {' '.join(roles)}"
        try:
            n, r, p, _, _ = _parse_hash(password)
        except (AttributeError, TypeError, ValueError):
            raise UsersFileError(f"{where}.password: not a hash from '{new_hash}' (the value is not shown: it may "
                                 "be a password)") from None
        problem = cost_problem(n, r, p)
        if problem:
            raise UsersFileError(f"{where}.password: {problem}; make a new hash: {new_hash}")
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
