"""Sign-in for the dashboard: a login page checked against the users file, a signed cookie, a sign-out page.

:class:`PasswordAuthProvider` plugs into the Bokeh server under Panel
(``pn.serve(..., auth_provider=PasswordAuthProvider(users), cookie_secret=...)``, as ``twin serve``
does; ``panel serve`` takes :mod:`apps.panel_auth` as its ``--auth-module``). Every page and
websocket of the app needs the cookie; without it the browser is sent to ``/login``. The cookie
holds the user name signed with the server's cookie secret (Tornado's secure cookie), which is
also where Panel's ``pn.state.user`` reads it. The page is self-contained (no CDN), so it works
offline.
"""

from __future__ import annotations

from string import Template
from urllib.parse import quote

import tornado.web
from bokeh.server.auth_provider import AuthProvider
from tornado.escape import xhtml_escape

from .auth import UserBook

USER_COOKIE = "user"  # the cookie Panel reads pn.state.user from
COOKIE_MAX_AGE_DAYS = 1
LOGIN_URL, LOGOUT_URL = "/login", "/logout"
WRONG_PASSWORD = "Wrong user name or password. Check both and try again."
SIGNED_OUT = "You are signed out."
MESSAGES = {"wrong": ("error", WRONG_PASSWORD), "signed_out": ("note", SIGNED_OUT)}  # ?message= -> class, text

PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: orbital data center twin</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font-family: system-ui, sans-serif; background: #0b1020; color: #e8ecf4; display: flex;
        align-items: center; justify-content: center; min-height: 100vh; margin: 0; }
 form { background: #151c33; padding: 2em 2.5em; border-radius: 10px; width: 20em; }
 h1 { font-size: 1.25em; margin: 0 0 1em; } label { display: block; margin: 0.8em 0 0.3em; }
 input { width: 100%; box-sizing: border-box; padding: 0.5em; border-radius: 5px; border: 1px solid #3a4670;
         background: #0b1020; color: inherit; font-size: 1em; }
 button { margin-top: 1.4em; width: 100%; padding: 0.6em; font-size: 1em; border: 0; border-radius: 5px;
          background: #3d7cf5; color: white; cursor: pointer; }
 .message { margin: 0 0 1em; padding: 0.6em; border-radius: 5px; }
 .error { background: #5c1f24; color: #ffd7db; } .note { background: #1f3a5c; }
</style></head>
<body><form method="post" action="$action">
 <h1>Orbital data center twin</h1>
 $message
 <label for="username">User name</label><input id="username" name="username" autocomplete="username" autofocus>
 <label for="password">Password</label>
 <input id="password" name="password" type="password" autocomplete="current-password">
 <button type="submit">Sign in</button>
</form></body></html>
""")


def safe_next(url: str | None) -> str:
    """``url`` if it is a path on this server (``/...``, not ``//host``), else ``/``: no open redirect."""
    if url and url.startswith("/") and not url.startswith("//") and "\\" not in url:
        return url
    return "/"


class LoginHandler(tornado.web.RequestHandler):
    """``GET /login``: the form (with a message after a wrong password); ``POST /login``: check and sign in."""

    users: UserBook  # set by PasswordAuthProvider on its own subclass

    def get(self) -> None:
        message = MESSAGES.get(self.get_argument("message", ""))
        html = f'<p class="message {message[0]}" role="alert" id="login-message">{message[1]}</p>' if message else ""
        self.set_status(401 if message and message[0] == "error" else 200)
        action = f"{LOGIN_URL}?next={quote(safe_next(self.get_argument('next', '/')), safe='/')}"
        self.write(PAGE.substitute(action=xhtml_escape(action), message=html))

    def post(self) -> None:
        user = self.users.authenticate(self.get_argument("username", ""), self.get_argument("password", ""))
        next_url = safe_next(self.get_argument("next", "/"))
        if user is None:
            self.redirect(f"{LOGIN_URL}?message=wrong&next={quote(next_url, safe='/')}")
            return
        self.set_secure_cookie(USER_COOKIE, user.name, expires_days=COOKIE_MAX_AGE_DAYS, httponly=True,
                               samesite="Strict")
        self.redirect(next_url)


class LogoutHandler(tornado.web.RequestHandler):
    """``GET /logout``: forget the cookie and go back to the login page."""

    def get(self) -> None:
        self.clear_cookie(USER_COOKIE)
        self.redirect(f"{LOGIN_URL}?message=signed_out")


class PasswordAuthProvider(AuthProvider):
    """Bokeh auth provider: users and hashed passwords from ``users`` (:class:`apps.auth.UserBook`)."""

    def __init__(self, users: UserBook):
        self.users = users
        self._login_handler = type("UsersLoginHandler", (LoginHandler,), {"users": users})
        super().__init__()

    @property
    def get_user(self):
        def get_user(handler: tornado.web.RequestHandler) -> str | None:
            name = handler.get_secure_cookie(USER_COOKIE, max_age_days=COOKIE_MAX_AGE_DAYS)
            name = name.decode("utf-8") if name else None
            return name if name in self.users else None  # a signed cookie of a name not in the users file: no entry
        return get_user

    @property
    def login_url(self) -> str:
        return LOGIN_URL

    @property
    def login_handler(self) -> type[LoginHandler]:
        return self._login_handler

    @property
    def logout_url(self) -> str:
        return LOGOUT_URL

    @property
    def logout_handler(self) -> type[LogoutHandler]:
        return LogoutHandler
