"""The dashboard's sign-in against an attacker: HTTP to a real server on loopback (no browser needed).

One server for the module, in a thread of this process (so a test can slow its password checks
down or count them), with the demo users. The throttle keeps a count per client address and per
user name, so each test that signs in comes from a loopback address of its own (127.0.0.0/8 all
reaches this machine) and the throttle's test uses a user no other test here signs in as.
"""

from __future__ import annotations

import asyncio
import http.client
import logging
import re
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

import apps.auth
from apps.auth import UserBook, UsersFileError, hash_password
from apps.dashboard import DashboardConfig
from apps.login import safe_next

from test_dashboard import USERS, served
from test_telemetry import STOP_S

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The dashboard with the demo users and no stored runs: its base URL."""
    with served(DashboardConfig(tmp_path_factory.mktemp("runs"), UserBook.from_file(USERS))) as url:
        yield url


def call(base_url: str, method: str, path: str, form: dict | None = None, cookies: str | None = None,
         source: str = "127.0.0.1", timeout_s: float = 60.0, context: ssl.SSLContext | None = None):
    """One request, redirects not followed: (status, headers, body)."""
    url = urllib.parse.urlsplit(base_url)
    if url.scheme == "https":
        connection = http.client.HTTPSConnection("127.0.0.1", url.port, timeout=timeout_s,
                                                 source_address=(source, 0), context=context)
    else:
        connection = http.client.HTTPConnection("127.0.0.1", url.port, timeout=timeout_s, source_address=(source, 0))
    headers = {"Cookie": cookies} if cookies else {}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def cookies_of(headers) -> str:
    """The cookies a response sets, as a ``Cookie`` header would send them back."""
    return "; ".join(value.split(";")[0] for value in headers.get_all("Set-Cookie") or [])


def sign_in(base_url: str, user: str, source: str, **kwargs) -> str:
    status, headers, _ = call(base_url, "POST", "/login", {"username": user, "password": f"{user}-demo"},
                              source=source, **kwargs)
    assert status == 302 and headers["Location"] == "/", (status, dict(headers))
    return cookies_of(headers)


# 10: after sign-in, only a path on this server -----------------------------------------------------

@pytest.mark.parametrize("given, expected", [
    ("/?source=demo.zarr", "/?source=demo.zarr"),
    ("/", "/"),
    ("/%09/host", "/%09/host"),  # a percent-encoded tab stays in the path: the browser does not decode it there
    ("/x\t", "/x"),
    ("/\t/host", "/"),  # the browser drops the tab and would land on //host
    ("/\n/host", "/"),
    ("/\r\n/host", "/"),
    ("\t//host", "/"),
    (" //host", "/"),  # a browser strips leading spaces too
    ("/\x00/host", "/"),
    ("//host", "/"),
    ("/\\host", "/"),
    ("https://host/", "/"),
    ("java\tscript:alert(1)", "/"),
    ("host/path", "/"),
    ("", "/"),
    (None, "/"),
])
def test_next_is_only_ever_a_path_on_this_server(given, expected):
    assert safe_next(given) == expected


def test_sign_in_never_sends_the_browser_to_another_host(server):
    status, headers, _ = call(server, "POST", "/login?next=" + urllib.parse.quote("/\t/evil.example"),
                              {"username": "viewer", "password": "viewer-demo"}, source="127.0.0.2")
    assert (status, headers["Location"]) == (302, "/")
    status, _, page = call(server, "GET", "/login?next=" + urllib.parse.quote("/\t/evil.example"))
    assert status == 200 and 'action="/login?next=/"' in page


# 11: password checks off the event loop, throttled per address and per user ------------------------

def test_a_password_check_leaves_the_server_answering_others(server, monkeypatch):
    """While one sign-in's password is being checked, the server answers other requests (the check runs
    in a thread of its own, not on the event loop). The check is held until the other request is answered."""
    released, hashing = threading.Event(), threading.Event()
    scrypt = apps.auth._scrypt

    def held_scrypt(*args):
        hashing.set()
        released.wait(30)
        return scrypt(*args)

    monkeypatch.setattr(apps.auth, "_scrypt", held_scrypt)
    signing_in = threading.Thread(target=call, args=(server, "POST", "/login",
                                                     {"username": "engineer", "password": "not-it"}),
                                  kwargs={"source": "127.0.0.3"})
    signing_in.start()
    try:
        assert hashing.wait(30)
        status, _, page = call(server, "GET", "/login", source="127.0.0.4", timeout_s=10)
        assert status == 200 and "Sign in" in page
    finally:
        released.set()
        signing_in.join(30)


def test_thirty_wrong_passwords_in_a_row_are_not_free(server, monkeypatch):
    """After a few wrong passwords, further tries (even the right one) are refused at once, without hashing,
    for that user from any address and for anyone from that address."""
    from apps.login_guard import FREE_FAILURES

    hashed = []
    scrypt = apps.auth._scrypt
    monkeypatch.setattr(apps.auth, "_scrypt", lambda *args: hashed.append(1) or scrypt(*args))
    answers = [call(server, "POST", "/login", {"username": "chief", "password": f"guess-{i}"}, source="127.0.0.5")
               for i in range(30)]
    statuses = [status for status, _, _ in answers]
    assert len(hashed) <= FREE_FAILURES, statuses
    assert statuses[:len(hashed)] == [302] * len(hashed)  # wrong: back to the form with its message
    assert set(statuses[len(hashed):]) == {429}, statuses
    status, headers, page = answers[-1]
    assert int(headers["Retry-After"]) >= 1
    assert re.search(r"Too many wrong passwords\. Wait \d+ s and try again\.", page)

    for user, source in (("chief", "127.0.0.5"), ("chief", "127.0.0.6"), ("operator", "127.0.0.5")):
        status, _, _ = call(server, "POST", "/login", {"username": user, "password": f"{user}-demo"}, source=source)
        assert status == 429, (user, source)
    assert len(hashed) <= FREE_FAILURES


def test_throttle_backs_off_exponentially_and_a_success_starts_afresh():
    from apps.login_guard import LoginThrottle

    now = [1000.0]
    throttle = LoginThrottle(free_failures=3, first_delay_s=1.0, max_delay_s=8.0, clock=lambda: now[0])
    keys = ("address 127.0.0.9", "user vera")
    waits = []
    for _ in range(8):
        assert throttle.wait_s(keys) == 0.0
        throttle.start(keys)
        throttle.failed(keys)
        waits.append(throttle.wait_s(keys))
        now[0] += waits[-1]
    assert waits == [0.0, 0.0, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    throttle.start(keys)  # a try being checked counts as wrong until it is known to be right
    assert throttle.wait_s(keys) == 8.0
    assert throttle.wait_s(("user vera",)) == throttle.wait_s(("address 127.0.0.9", "user olga")) == 8.0
    assert throttle.wait_s(("address 127.0.0.8", "user olga")) == 0.0
    throttle.succeeded(keys)
    assert throttle.wait_s(keys) == 0.0


def test_throttle_keys_are_the_address_or_its_ipv6_network_and_the_name():
    from apps.login_guard import throttle_keys

    assert throttle_keys("127.0.0.5", "vera") == ("address 127.0.0.5", "user vera")
    assert throttle_keys("2001:db8:1:2:aaaa::1", "vera") == throttle_keys("2001:db8:1:2:bbbb::7", "vera") == \
        ("address 2001:db8:1:2::/64", "user vera")
    assert throttle_keys("::ffff:192.0.2.1", "") == throttle_keys("192.0.2.1", "") == ("address 192.0.2.1", "user ")


def test_throttle_forgets_old_failures_and_keeps_a_bounded_table():
    from apps.login_guard import LoginThrottle

    now = [0.0]
    throttle = LoginThrottle(free_failures=1, first_delay_s=1.0, max_delay_s=4.0, forget_after_s=60.0, max_keys=3,
                             clock=lambda: now[0])
    for name in ("a", "b", "c", "d"):
        throttle.start((name,))
        throttle.failed((name,))
    assert len(throttle) == 3 and throttle.wait_s(("a",)) == 0.0 and throttle.wait_s(("d",)) == 1.0
    now[0] += 61.0
    throttle.start(("e",))
    assert len(throttle) == 1


def test_password_checks_beyond_the_queue_are_refused_at_once():
    from apps.login_guard import PasswordChecks

    release = threading.Event()
    checks = PasswordChecks(threads=1, waiting=2)

    async def submit_all():
        futures = [checks.submit(release.wait, 30) for _ in range(4)]
        assert [future is None for future in futures] == [False, False, False, True]  # 1 checking, 2 waiting
        release.set()
        await asyncio.gather(*[future for future in futures if future is not None])
        assert checks.submit(time.sleep, 0) is not None  # room again

    asyncio.run(submit_all())


# 12: demo users only on loopback, a cost of today's minimum -------------------------------------------

def test_scrypt_cost_is_owasps_minimum_and_weaker_hashes_are_refused(tmp_path):
    assert hash_password("x").split("$")[1:4] == ["131072", "8", "1"]  # N = 2**17, r = 8, p = 1
    for name, entry in UserBook.from_file(USERS)._entries.items():
        assert entry[1].split("$")[1:4] == ["131072", "8", "1"], name
    weak = tmp_path / "weak.toml"  # a hash made before the cost was raised: n = 2**14
    weak.write_text('[users.vera]\nroles = ["viewer"]\npassword = "scrypt$16384$8$1$'
                    'm0JOLitlyDqkyPK3Axub/w==$PGBIzHJmGdnTiinxMNDLcHEqLSq9THMYFunCdhSazCI="\n')
    with pytest.raises(UsersFileError, match=r"users\.vera\.password: scrypt cost n=16384, r=8, p=1 is below today's "
                                             r"minimum n=131072, r=8, p=1 .*python -m apps\.auth vera"):
        UserBook.from_file(weak)


def test_demo_users_are_refused_off_loopback_and_warned_about_on_it():
    from apps.demo_users import check_demo_users, is_loopback

    assert all(is_loopback(address) for address in ("localhost", "127.0.0.1", "127.3.2.1", "::1"))
    assert not any(is_loopback(address) for address in ("", None, "0.0.0.0", "::", "192.0.2.10",
                                                        "no-such-host.invalid"))
    demo = UserBook.from_file(USERS)
    with pytest.raises(UsersFileError, match=r"users\.example\.toml: users\.viewer, users\.engineer, users\.operator, "
                                             r"users\.chief have the public demo passwords; refused on 0\.0\.0\.0"):
        check_demo_users(demo, "0.0.0.0")
    assert "anyone who can reach localhost" in check_demo_users(demo, "localhost")
    own = UserBook({"vera": (frozenset({"viewer"}), hash_password("vera's own"))})
    assert check_demo_users(own, "0.0.0.0") is None


def run_until_exit_or(args: list[str], env: dict | None = None, timeout_s: float = 90.0) -> tuple[int | None, str]:
    """Run ``args``: its exit code and stderr, or ``None`` and its stderr if it still serves after ``timeout_s``."""
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, stderr = process.communicate(timeout=timeout_s)
        return process.returncode, stderr
    except subprocess.TimeoutExpired:
        process.terminate()
        _, stderr = process.communicate(timeout=STOP_S)
        return None, stderr


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_twin_serve_refuses_the_demo_users_on_every_interface():
    code, stderr = run_until_exit_or([sys.executable, "-m", "twin", "serve", "--users", str(USERS),
                                      "--address", "0.0.0.0", "--port", str(free_port())])
    assert code == 2, stderr
    assert re.fullmatch(r"twin: error: --users: .*users\.example\.toml: users\.viewer, .* have the public demo "
                        r"passwords; refused on 0\.0\.0\.0, .*\n", stderr)


def test_twin_serve_warns_about_the_demo_users_on_loopback():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "twin", "serve", "--users", str(USERS), "--port", str(port)],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        from apps.server import wait_until_listening

        wait_until_listening(port, timeout_s=90)  # it says what it serves before it listens
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=STOP_S)
    lines = stderr.splitlines()
    assert any(line.startswith("twin: warning: ") and "public demo passwords" in line
               and "anyone who can reach localhost" in line for line in lines), lines


def test_panel_serve_with_our_sign_in_refuses_every_interface(tmp_path):
    import os

    panel = Path(sys.executable).with_name("panel")
    env = {**os.environ, "TWIN_USERS": str(USERS)}
    base = [str(panel), "serve", "apps/dashboard.py", "--auth-module", "apps/panel_auth.py",
            "--cookie-secret", "x" * 32, "--port", str(free_port())]
    code, stderr = run_until_exit_or([*base, "--address", "localhost"], env)  # Bokeh puts all cookies in the token
    assert code == 2, stderr
    assert "panel_auth: error: --exclude-cookies: not twin_session, so every page's session token" in stderr
    base += ["--exclude-cookies", "twin_session"]
    code, stderr = run_until_exit_or(base, env)  # no --address: Bokeh would listen on every interface
    assert code == 2, stderr
    assert "panel_auth: error: --address: not given, so panel serve would listen on every interface" in stderr
    assert "Traceback" not in stderr
    code, stderr = run_until_exit_or([*base, "--address", "0.0.0.0"], env)
    assert code == 2, stderr
    assert re.search(r"panel_auth: error: .*have the public demo passwords; refused on 0\.0\.0\.0", stderr)


DOCUMENTED = ("README.md", "docs/dashboard.md", "docs/user-guide.md", "apps/README.md", "apps/dashboard.py",
              "apps/panel_auth.py", "twin/cli/serve.py")
SHOWS_PANEL_SERVE = {"docs/dashboard.md", "apps/README.md", "apps/dashboard.py", "apps/panel_auth.py"}


def test_every_documented_way_to_serve_binds_loopback():
    commands = []
    for name in DOCUMENTED:
        text = (ROOT / name).read_text(encoding="utf-8").replace("\\\\\n", " ").replace("\\\n", " ")
        lines = text.splitlines()
        commands += [(name, line) for line, after in zip(lines, [*lines[1:], ""])
                     if re.match(r"\s*(\$ )?(\S+=\S+ )*(\S*/)?(panel|twin) serve\b", line)
                     and not after.startswith("twin: error: ")]  # an example of the refusal is no way to serve
    assert {name for name, line in commands if "panel serve" in line} == SHOWS_PANEL_SERVE
    for name, line in commands:
        if "panel serve" in line:
            assert re.search(r"--address (localhost|127\.0\.0\.1)\b", line), (name, line)
            assert "--exclude-cookies twin_session" in line, (name, line)
        else:
            assert "--address" not in line or re.search(r"--address (localhost|127\.0\.0\.1)\b", line), (name, line)
    from twin.cli import build_parser

    assert build_parser().parse_args(["serve"]).address == "localhost"


# 13: sessions the server can revoke, no framing, secure cookies over HTTPS, clean refusals -------------

def test_a_copied_cookie_stops_working_at_sign_out(server):
    cookies = sign_in(server, "viewer", "127.0.0.7")
    assert call(server, "GET", "/metadata", cookies=cookies)[0] == 200
    status, headers, _ = call(server, "GET", "/logout", cookies=cookies)
    assert (status, headers["Location"]) == (302, "/login?message=signed_out")
    status, headers, _ = call(server, "GET", "/metadata", cookies=cookies)  # the cookies as an attacker copied them
    assert status == 302 and headers["Location"].startswith("/login?next=")
    assert asyncio.run(websocket_status(server, cookies)) == 403
    assert call(server, "GET", "/metadata", cookies=sign_in(server, "viewer", "127.0.0.7"))[0] == 200  # signs in again


def test_sessions_end_at_sign_out_at_their_age_and_past_a_users_limit():
    from apps.sessions import MAX_SESSIONS_PER_USER, SessionBook

    now = [0.0]
    sessions = SessionBook(max_age_s=100.0, clock=lambda: now[0])
    vera, olga = sessions.open("vera"), sessions.open("olga")
    assert (sessions.user(vera), sessions.user(olga), sessions.user("made-up"), sessions.user(None)) == \
        ("vera", "olga", None, None)
    sessions.close(vera)
    assert sessions.user(vera) is None and sessions.user(olga) == "olga"
    now[0] = 100.0
    assert sessions.user(olga) is None
    first = sessions.open("vera")
    assert len(sessions) == 1  # the ended ones are forgotten
    for _ in range(MAX_SESSIONS_PER_USER):
        sessions.open("vera")
    assert sessions.user(first) is None and len(sessions) == MAX_SESSIONS_PER_USER


def _open_session(path: str, name: str, answers) -> None:
    """In a process of its own: open a session of ``name`` in the book at ``path`` and say its id."""
    from apps.sessions import SessionBook

    answers.put(SessionBook(max_age_s=100.0, path=path).open(name))


def _session_user(path: str, session_id: str, answers) -> None:
    """In a process of its own: say whose session ``session_id`` is in the book at ``path`` (``None``: not live)."""
    from apps.sessions import SessionBook

    answers.put(SessionBook(max_age_s=100.0, path=path).user(session_id))


def _in_process(context, target, *args):
    answers = context.Queue()
    process = context.Process(target=target, args=(*args, answers))
    process.start()
    answer = answers.get(timeout=60)
    process.join(timeout=60)
    return answer


def test_a_session_opened_in_one_process_is_live_in_another_until_signed_out_in_either(tmp_path):
    import multiprocessing

    from apps.sessions import SessionBook

    spawn = multiprocessing.get_context("spawn")
    path = str(tmp_path / "sessions.sqlite3")
    here = SessionBook(max_age_s=100.0, path=path)
    there = _in_process(spawn, _open_session, path, "vera")
    assert here.user(there) == "vera"  # opened in another process
    mine = here.open("olga")
    assert _in_process(spawn, _session_user, path, mine) == "olga"
    here.close(there)  # signed out here: ended there too
    assert _in_process(spawn, _session_user, path, there) is None
    assert _in_process(spawn, _session_user, path, mine) == "olga"
    # A book made before the server forks its processes (Bokeh's num_procs) is used by each of them
    fork = multiprocessing.get_context("fork")
    forked = _in_process(fork, lambda _path, name, answers: answers.put(here.open(name)), path, "nina")
    assert here.user(forked) == "nina"


def test_twin_serve_refuses_a_negative_number_of_processes():
    code, stderr = run_until_exit_or([sys.executable, "-m", "twin", "serve", "--users", str(USERS),
                                      "--num-procs", "-1", "--port", str(free_port())])
    assert (code, stderr) == (2, "twin: error: --num-procs: -1 must be 0 (one per core) or a number of processes\n")


def test_twin_serve_with_two_processes_knows_a_sign_in_and_a_sign_out_in_both():
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "twin", "serve", "--users", str(USERS), "--port", str(port),
                                "--num-procs", "2"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    try:
        from apps.server import wait_until_listening

        wait_until_listening(port, timeout_s=90)
        base_url = f"http://localhost:{port}"
        cookies = sign_in(base_url, "viewer", "127.0.0.9")
        # Each request on a connection of its own: the kernel hands new connections to either process
        assert [call(base_url, "GET", "/metadata", cookies=cookies)[0] for _ in range(20)] == [200] * 20
        assert call(base_url, "GET", "/logout", cookies=cookies)[0] == 302
        assert [call(base_url, "GET", "/metadata", cookies=cookies)[0] for _ in range(20)] == [302] * 20
    finally:
        process.terminate()  # its server processes end with it
        _, stderr = process.communicate(timeout=STOP_S)
    assert "Traceback" not in stderr, stderr


async def websocket_status(base_url: str, cookies: str) -> int:
    """The status the server answers a websocket upgrade of the app with these cookies: 101 if it accepts it."""
    from tornado.httpclient import HTTPClientError, HTTPRequest
    from tornado.websocket import websocket_connect

    request = HTTPRequest(base_url.replace("http", "ws", 1) + "/ws", headers={"Cookie": cookies},
                          connect_timeout=30, request_timeout=30)
    try:
        connection = await websocket_connect(request, subprotocols=["bokeh", "no-token"])
    except HTTPClientError as error:
        return error.code
    connection.close()
    return 101


def test_a_page_never_holds_the_session_id(server):
    """Each page carries a session token its scripts can read (Bokeh's, with the request's cookies): the
    session id's cookie, HttpOnly, is left out of it; the user name, which Panel reads from it, is in."""
    from bokeh.util.token import get_token_payload

    cookies = sign_in(server, "viewer", "127.0.0.11")
    status, _, page = call(server, "GET", "/", cookies=cookies)
    assert status == 200
    tokens = re.findall(r'"token":\s*"([^"]+)"', page)
    assert tokens
    for token in tokens:
        assert set(get_token_payload(token)["cookies"]) == {"user"}
    assert all("HttpOnly" in cookie for cookie in call(server, "POST", "/login", {"username": "viewer", "password": \
               "viewer-demo"}, source="127.0.0.11")[1].get_all("Set-Cookie"))


def test_no_page_may_be_framed_by_another_site(server):
    cookies = sign_in(server, "viewer", "127.0.0.8")
    for path, cookie in (("/login", None), ("/", None), ("/metadata", cookies), ("/logout", cookies)):
        _, headers, _ = call(server, "GET", path, cookies=cookie)
        assert headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], path


def test_anonymous_autoload_is_refused_without_a_traceback(server, caplog):
    with caplog.at_level(logging.WARNING):
        status, _, _ = call(server, "GET", "/autoload.js?bokeh-autoload-element=x")
        time.sleep(0.2)  # the server logs from its own thread
    assert status == 401
    assert not [record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR]


def test_cookies_are_secure_over_https_only(server, tmp_path):
    openssl = shutil.which("openssl")
    assert openssl, "openssl makes the test's certificate (apt-get install openssl)"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem")],
                   check=True, capture_output=True)
    _, headers, _ = call(server, "POST", "/login", {"username": "viewer", "password": "viewer-demo"},
                         source="127.0.0.10")
    assert headers.get_all("Set-Cookie") and not any("Secure" in cookie for cookie in headers.get_all("Set-Cookie"))

    context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    context.check_hostname = False
    config = DashboardConfig(tmp_path, UserBook.from_file(USERS))
    with served(config, ssl_certfile=str(tmp_path / "cert.pem"), ssl_keyfile=str(tmp_path / "key.pem")) as url:
        assert url.startswith("https://")
        _, headers, _ = call(url, "POST", "/login", {"username": "viewer", "password": "viewer-demo"},
                             source="127.0.0.10", context=context)
    cookies = headers.get_all("Set-Cookie")
    assert len(cookies) == 2 and all(re.search(r";\s*Secure\b", cookie) for cookie in cookies), cookies


# The users file: no error repeats a password ----------------------------------------------------------

@pytest.mark.parametrize("entry", ['[users.vera]\nroles = ["viewer"]\npassword = "hunter2-plaintext"\n',
                                   '[users]\nvera = "hunter2-plaintext"\n'])
def test_a_users_file_error_never_repeats_a_password(tmp_path, entry):
    path = tmp_path / "users.toml"
    path.write_text(entry)
    with pytest.raises(UsersFileError, match=r"users\.vera") as error:
        UserBook.from_file(path)
    assert "hunter2" not in str(error.value)
