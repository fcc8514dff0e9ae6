"""Sign-in for the dashboard: a login page checked against the users file, a session the server holds, sign-out.

:class:`PasswordAuthProvider` plugs into the Bokeh server under Panel
(``pn.serve(..., auth_provider=PasswordAuthProvider(users), cookie_secret=...)``, as ``twin serve``
does; ``panel serve`` takes :mod:`apps.panel_auth` as its ``--auth-module``). What it guarantees:

- Every page, websocket and script of the app needs a live session; without one a page is sent to
  ``/login`` and anything else is refused (401 or 403, one log line, no traceback).
- A sign-in opens a session on the server (:class:`apps.sessions.SessionBook`); its id travels in a
  cookie beside the user name, both signed with the server's cookie secret (Tornado's secure cookies;
  Panel's ``pn.state.user`` reads the name). Sign-out ends the session on the server, so a copied
  cookie stops working too. Cookies are ``HttpOnly``, ``SameSite=Strict``, and ``Secure`` over HTTPS.
- Passwords are checked off the event loop in a bounded pool, behind a throttle per client address
  and per user name (:mod:`apps.login_guard`): a guesser is answered 429 at once, a flood 503.
- After sign-in the browser goes only to a path on this server (:func:`safe_next`).
- No page may be framed by another site (``X-Frame-Options: DENY``, CSP ``frame-ancestors 'none'``).

The page is self-contained (no CDN), so it works offline.
"""

from __future__ import annotations

import re
from string import Template
from urllib.parse import quote, urlsplit

import tornado.web
from bokeh.server.auth_provider import AuthProvider
from bokeh.server.views.autoload_js_handler import AutoloadJsHandler
from tornado.escape import xhtml_escape

from .auth import UserBook
from .login_guard import LoginThrottle, PasswordChecks, throttle_keys
from .sessions import SessionBook

USER_COOKIE = "user"  # the cookie Panel reads pn.state.user from
SESSION_COOKIE = "twin_session"  # the id of the session the server holds (apps.sessions)
COOKIE_MAX_AGE_DAYS = 1
LOGIN_URL, LOGOUT_URL = "/login", "/logout"
MAX_NAME_CHARS = 256  # a longer user name is no user's: checked, and throttled, as the empty name
WRONG_PASSWORD = "Wrong user name or password. Check both and try again."
SIGNED_OUT = "You are signed out."
TOO_MANY = "Too many wrong passwords. Wait {wait_s} s and try again."
BUSY = "The server is busy checking other sign-ins. Try again in a few seconds."
BUSY_RETRY_S = 2
MESSAGES = {"wrong": ("error", WRONG_PASSWORD), "signed_out": ("note", SIGNED_OUT)}  # ?message= -> class, text
FRAMING_HEADERS = {"X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")

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
    """Where to go after sign-in: ``url`` without control characters if that is a path on this server (``/...``:
    no scheme, no host, not ``//host``, no backslash), else ``/``. Browsers drop tabs and newlines from an
    address and strip spaces around it, so ``/<TAB>/host`` would be ``//host``: another site."""
    path = _CONTROL_CHARACTERS.sub("", url or "").strip(" ")
    parts = urlsplit(path)
    if path.startswith("/") and not path.startswith("//") and "\\" not in path and not parts.scheme \
            and not parts.netloc:
        return path
    return "/"


def forbid_framing(handler: tornado.web.RequestHandler) -> None:
    """No other site may show this answer in a frame (clickjacking)."""
    for name, value in FRAMING_HEADERS.items():
        handler.set_header(name, value)


def _cookie_options(handler: tornado.web.RequestHandler) -> dict:
    return {"expires_days": COOKIE_MAX_AGE_DAYS, "httponly": True, "samesite": "Strict",
            "secure": handler.request.protocol == "https"}


class LoginHandler(tornado.web.RequestHandler):
    """``GET /login``: the form (with a message after a wrong password); ``POST /login``: check and sign in."""

    users: UserBook  # these four are set by PasswordAuthProvider on its own subclass
    sessions: SessionBook
    throttle: LoginThrottle
    checks: PasswordChecks

    def set_default_headers(self) -> None:
        forbid_framing(self)

    def _form(self, status: int, message: tuple[str, str] | None, next_url: str) -> None:
        html = f'<p class="message {message[0]}" role="alert" id="login-message">{message[1]}</p>' if message else ""
        self.set_status(status)
        action = f"{LOGIN_URL}?next={quote(next_url, safe='/')}"
        self.write(PAGE.substitute(action=xhtml_escape(action), message=html))

    def get(self) -> None:
        message = MESSAGES.get(self.get_argument("message", ""))
        status = 401 if message and message[0] == "error" else 200
        self._form(status, message, safe_next(self.get_argument("next", "/")))

    async def post(self) -> None:
        name, password = self.get_argument("username", ""), self.get_argument("password", "")
        name = name if len(name) <= MAX_NAME_CHARS else ""
        next_url = safe_next(self.get_argument("next", "/"))
        keys = throttle_keys(self.request.remote_ip, name)
        wait_s = self.throttle.wait_s(keys)
        if wait_s > 0:
            self.set_header("Retry-After", str(int(wait_s) + 1))
            self._form(429, ("error", TOO_MANY.format(wait_s=int(wait_s) + 1)), next_url)
            return
        check = self.checks.submit(self.users.authenticate, name, password)
        if check is None:
            self.set_header("Retry-After", str(BUSY_RETRY_S))
            self._form(503, ("error", BUSY), next_url)
            return
        self.throttle.start(keys)
        user = await check
        if user is None:
            self.throttle.failed(keys)
            self.redirect(f"{LOGIN_URL}?message=wrong&next={quote(next_url, safe='/')}")
            return
        self.throttle.succeeded(keys)
        self.set_secure_cookie(USER_COOKIE, user.name, **_cookie_options(self))
        self.set_secure_cookie(SESSION_COOKIE, self.sessions.open(user.name), **_cookie_options(self))
        self.redirect(next_url)


class LogoutHandler(tornado.web.RequestHandler):
    """``GET /logout``: end the session on the server, forget the cookies and go back to the login page."""

    sessions: SessionBook  # set by PasswordAuthProvider on its own subclass

    def set_default_headers(self) -> None:
        forbid_framing(self)

    def get(self) -> None:
        session_id = self.get_secure_cookie(SESSION_COOKIE, max_age_days=COOKIE_MAX_AGE_DAYS)
        self.sessions.close(session_id.decode("ascii", "replace") if session_id else None)
        self.clear_cookie(USER_COOKIE)
        self.clear_cookie(SESSION_COOKIE)
        self.redirect(f"{LOGIN_URL}?message=signed_out")


class PasswordAuthProvider(AuthProvider):
    """Bokeh auth provider: users and hashed passwords from ``users`` (:class:`apps.auth.UserBook`), sessions
    held by this server, password checks throttled and off the event loop."""

    def __init__(self, users: UserBook):
        self.users = users
        self.sessions = SessionBook(COOKIE_MAX_AGE_DAYS * 86400.0)
        self._login_handler = type("UsersLoginHandler", (LoginHandler,), {
            "users": users, "sessions": self.sessions, "throttle": LoginThrottle(), "checks": PasswordChecks()})
        self._logout_handler = type("UsersLogoutHandler", (LogoutHandler,), {"sessions": self.sessions})
        super().__init__()

    def user_of(self, handler: tornado.web.RequestHandler) -> str | None:
        """The signed-in user of a request: the name in its signed cookie, if its session is live and theirs."""
        name, session_id = (handler.get_secure_cookie(cookie, max_age_days=COOKIE_MAX_AGE_DAYS)
                            for cookie in (USER_COOKIE, SESSION_COOKIE))
        if not name or not session_id:
            return None
        name = name.decode("utf-8", "replace")
        live = self.sessions.user(session_id.decode("ascii", "replace")) == name
        return name if live and name in self.users else None  # a name no longer in the users file: no entry

    @property
    def get_user(self):
        def get_user(handler: tornado.web.RequestHandler) -> str | None:
            forbid_framing(handler)  # every request of the app asks who its user is: its answer is not to be framed
            name = self.user_of(handler)
            if name is None and isinstance(handler, AutoloadJsHandler):
                # Panel's script handler awaits a session it would not get: refuse plainly (a script is not sent
                # to the login page), rather than a redirect followed by a TypeError traceback.
                raise tornado.web.HTTPError(401, "sign in first")
            return name
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
        return self._logout_handler
