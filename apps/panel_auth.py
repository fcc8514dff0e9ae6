"""Sign-in for ``panel serve``: the ``--auth-module`` of the dashboard, users from ``$TWIN_USERS``::

    TWIN_USERS=apps/users.example.toml panel serve apps/dashboard.py --address localhost \\
        --exclude-cookies twin_session --auth-module apps/panel_auth.py --cookie-secret SECRET

The same login as ``twin serve`` (:class:`apps.login.PasswordAuthProvider`), in the module form
Bokeh's ``--auth-module`` reads: ``get_user``, ``login_url``, ``LoginHandler``, ``logout_url``,
``LogoutHandler``. Bokeh listens on every interface unless ``--address`` is given, and copies every
cookie into each page's session token (which the page's scripts can read) unless told, so this
module stops ``panel serve`` (one line on stderr, exit 2) without an ``--address`` (or
``--unix-socket``), without ``--exclude-cookies twin_session`` (the session id's cookie, which is
``HttpOnly``), and with the demo users on any address but loopback
(:func:`apps.demo_users.check_demo_users`); on loopback it warns about them.
"""

import argparse
import sys

from apps.auth import UserBook, users_file
from apps.demo_users import check_demo_users
from apps.login import SESSION_COOKIE, PasswordAuthProvider


def served_address(argv: list[str]) -> str | None:
    """The address ``panel serve``'s command line ``argv`` listens on: its ``--address``, ``localhost`` for a Unix
    socket. ``ValueError`` if it gives neither (Bokeh would listen on every interface), or if the session
    cookie would be copied into the pages' session tokens."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--address")
    parser.add_argument("--unix-socket")
    parser.add_argument("--exclude-cookies", nargs="+", default=[])
    parser.add_argument("--include-cookies", nargs="+")
    given, _ = parser.parse_known_args(argv)
    if SESSION_COOKIE not in given.exclude_cookies and SESSION_COOKIE in (given.include_cookies or [SESSION_COOKIE]):
        raise ValueError(f"--exclude-cookies: not {SESSION_COOKIE}, so every page's session token, which its scripts "
                         f"can read, would carry the session id; add --exclude-cookies {SESSION_COOKIE}")
    if given.unix_socket:
        return "localhost"
    if given.address is None:
        raise ValueError("--address: not given, so panel serve would listen on every interface; add "
                         "--address localhost (this machine only) or the address to serve on")
    return given.address


def _checked_provider() -> PasswordAuthProvider:
    """The provider for the users of ``$TWIN_USERS``, or exit 2 with one line saying why not."""
    try:
        users = UserBook.from_file(users_file(None))
        warning = check_demo_users(users, served_address(sys.argv[1:]))
    except ValueError as error:  # UsersFileError too
        print(f"panel_auth: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    if warning:
        print(f"panel_auth: warning: {warning}", file=sys.stderr)
    return PasswordAuthProvider(users)


_provider = _checked_provider()
get_user = _provider.get_user
login_url = _provider.login_url
LoginHandler = _provider.login_handler
logout_url = _provider.logout_url
LogoutHandler = _provider.logout_handler
