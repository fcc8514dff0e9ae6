"""Benchmark the dashboard server's own capacity: how many sessions it serves at once within the targets.

Browsers drawing WebGL in software on the server's own two cores measure the browsers, not the
server (``benchmarks/dashboard.py`` keeps one session's end-to-end times). Here each session is
headless: a client that does what a page's scripts do over HTTP and Bokeh's websocket protocol, and
nothing else (no drawing, no JavaScript): it asks for the page with a signed-in user's cookies,
opens the session's websocket with the page's token, pulls the document and reads every patch the
server sends. All clients run in this process, on one asyncio loop.

- first page: from asking for the page until the session's document holds the 3D view's clock (the
  server built the page, the run's scene and the view and sent them: "3D view"), then, once the client says
  the document is ready (Bokeh's ``document_ready`` event, which a browser sends when it has drawn the page and
  on which Panel makes the time-series plots), until their figures arrive ("first page");
- time step: from sending the player's next value until the server's frame for the 3D view with the new
  clock arrives (the server moved the scene and serialised the satellites' positions and colours);
  each session steps at most once per player interval (300 ms), as a playing page does.

For each count of server processes (``--num-procs 1 2``, ``twin serve --num-procs``: Bokeh forks them, the
kernel hands each new connection to one of them), a server is started with the run made and one page of it
built before the fork (what every page shares is then made once), and sessions are added level by level
(``--sessions 1 5 10 20``: the new ones open at once, then all of them step together); the largest level
whose first pages stay under 5 s and whose step p95 stays under 300 ms is what the server holds. It prints,
per level and side by side for each count of processes, the p95s, the server's and the clients' CPU per
step and the load average: on this machine the clients share the server's cores, so their share is capacity
the server would have alone.

Then (``--one-by-one 20``) users arrive as they do in a control room or a review: one at a time, every
``--arrival-gap`` seconds, while everyone already there keeps playing. Each newcomer's first page is timed under
the load of all the others stepping, and every step is timed throughout; the server holds the count reached
if every first page stayed under 5 s and the steps' p95 with all of them playing under 300 ms. The levels
above are the harder case of many pages opened in the same instant (a burst), which the CPU a page costs
bounds on two cores.

    .venv/bin/python benchmarks/dashboard_capacity.py                        # phase 3, 144 chiefs
    .venv/bin/python benchmarks/dashboard_capacity.py --source phase1 --sessions 1 10 20 30 --num-procs 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bokeh.client.websocket import WebSocketClientConnectionWrapper
from bokeh.protocol import Protocol
from bokeh.protocol.messages.patch_doc import patch_doc
from bokeh.protocol.receiver import Receiver
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

from dashboard import CpuMeter, cpu_text, start_server

FIRST_PAGE_TARGET_S, STEP_P95_TARGET_S, SESSIONS_TARGET = 5.0, 0.300, 20
PLAYER_INTERVAL_S = 0.300  # apps.constellation_tab.PLAYER_INTERVAL_MS: a playing page's pace
TOKEN = re.compile(r'"token":\s*"([^"]+)"')
PROTOCOL = Protocol()
MAX_MESSAGE_BYTES = 100 * 2**20


def objects(value):
    """Every serialised Bokeh model (``{"type": "object", "id": ..., "attributes": ...}``) inside ``value``."""
    if isinstance(value, dict):
        if value.get("type") == "object" and "id" in value:
            yield value
        for inner in value.values():
            yield from objects(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from objects(inner)


class HeadlessSession:
    """One page of the dashboard without a browser: its websocket, the ids of the player and of the 3D view's clock
    in its document, and the clock as the server last set it."""

    def __init__(self, base_url: str, query: str, cookie: str):
        self.base_url, self.query, self.cookie = base_url, query, cookie
        self.player_id = self.clock_id = None
        self.clock, self.end, self.value = "", 1, 0
        self.figures = 0  # time-series figures the server has sent
        self.changed, self.acknowledged = asyncio.Event(), asyncio.Event()
        self.socket = None
        self._reader = None

    async def open(self) -> tuple[float, float]:
        """Ask for the page, connect and pull the document, then say it is ready as a browser does once it has drawn
        it (Panel makes the time-series plots then); seconds until the document holds the 3D view's clock, and until
        it holds the plots."""
        started = time.perf_counter()
        page = await AsyncHTTPClient().fetch(f"{self.base_url}/{self.query}", headers={"Cookie": self.cookie},
                                             follow_redirects=False, request_timeout=300)
        token = TOKEN.search(page.body.decode()).group(1)
        ws_url = self.base_url.replace("http", "ws", 1) + "/ws"
        request = HTTPRequest(ws_url, headers={"Cookie": self.cookie, "Origin": self.base_url})
        self.socket = WebSocketClientConnectionWrapper(await websocket_connect(
            request, subprotocols=["bokeh", token], max_message_size=MAX_MESSAGE_BYTES))
        self._reader = asyncio.ensure_future(self._read_forever())
        await asyncio.wait_for(self.acknowledged.wait(), timeout=300)  # the server reads messages from then on
        await PROTOCOL.create("PULL-DOC-REQ").send(self.socket)
        while not (self.clock and self.player_id):
            await self._changed()
        view_s = time.perf_counter() - started
        ready = {"kind": "MessageSent", "msg_type": "bokeh_event",
                 "msg_data": {"type": "event", "name": "document_ready", "values": {"type": "map"}}}
        await patch_doc(patch_doc.create_header(), {}, {"events": [ready]}).send(self.socket)
        while not self.figures:
            await self._changed()
        return view_s, time.perf_counter() - started

    async def step(self) -> float:
        """Move the player one step on; seconds until the server's frame with the new clock arrives."""
        before = self.clock
        self.value = self.value + 1 if self.value < self.end else 0
        event = {"kind": "ModelChanged", "model": {"id": self.player_id}, "attr": "value", "new": self.value}
        message = patch_doc(patch_doc.create_header(), {}, {"events": [event]})
        started = time.perf_counter()
        await message.send(self.socket)
        while self.clock == before:
            await self._changed()
        return time.perf_counter() - started

    def close(self) -> None:
        self.socket.close()
        self._reader.cancel()

    async def _changed(self) -> None:
        await asyncio.wait_for(self.changed.wait(), timeout=300)
        self.changed.clear()

    async def _read_forever(self) -> None:
        receiver = Receiver(PROTOCOL)
        while (fragment := await self.socket.read_message()) is not None:
            message = await receiver.consume(fragment)
            if message is None:
                continue
            if message.msgtype == "ACK":
                self.acknowledged.set()
            elif message.msgtype == "PULL-DOC-REPLY":
                self._index(message.content["doc"])
            elif message.msgtype == "PATCH-DOC":
                self._index(message.content.get("references", []))
                for event in message.content["events"]:
                    self._index(event)
                    self._apply(event)
            self.changed.set()

    def _index(self, content) -> None:
        """Find the player and the clock among the models the server sent."""
        for model in objects(content):
            attributes = model.get("attributes", {})
            self.figures += model.get("name") == "Figure"
            if model.get("name", "").endswith("Player"):
                self.player_id = model["id"]
                self.end = attributes.get("end", self.end)
            elif "clock" in attributes and "views" in attributes:
                self.clock_id, self.clock = model["id"], attributes["clock"]

    def _apply(self, event: dict) -> None:
        if event.get("kind") == "MessageSent":  # a frame for the 3D view (apps.view3d.FrameChannel), with its clock
            values = dict(event["msg_data"].get("values", {}).get("entries", []))
            data = values.get("data")
            frame = dict(data["entries"]) if isinstance(data, dict) and data.get("type") == "map" else {}
            self.clock = frame.get("clock", self.clock)
        if event.get("kind") != "ModelChanged":
            return
        model = event["model"]["id"]
        if model == self.clock_id and event["attr"] == "clock":
            self.clock = event["new"]
        elif model == self.player_id and event["attr"] in ("end", "value"):
            setattr(self, event["attr"], event["new"])


async def sign_in(base_url: str) -> str:
    """The cookies of a signed-in viewer (one sign-in for every session: the password hash costs a third of a
    second of CPU by design, measured by benchmarks/login.py, not a page's cost)."""
    try:
        await AsyncHTTPClient().fetch(f"{base_url}/login", method="POST", body="username=viewer&password=viewer-demo",
                                      follow_redirects=False)
    except HTTPClientError as redirect:  # 302 to the page: the cookies come with it
        cookies = redirect.response.headers.get_list("Set-Cookie")
        return "; ".join(cookie.split(";", 1)[0] for cookie in cookies)
    raise SystemExit("sign-in: the server did not redirect after the viewer's password")


async def paced_steps(session: HeadlessSession, steps: int) -> list[float]:
    """``steps`` steps of ``session``, one at most every player interval; seconds each."""
    took = []
    for _ in range(steps):
        started = time.perf_counter()
        took.append(await session.step())
        await asyncio.sleep(max(0.0, PLAYER_INTERVAL_S - (time.perf_counter() - started)))
    return took


def summary(label: str, seconds: list[float], target_s: float, unit_s: float, unit: str) -> str:
    values = np.array(seconds) / unit_s
    return (f"{label} {values.mean():.3f} {unit} mean, {np.percentile(values, 95):.3f} {unit} p95 "
            f"(target < {target_s / unit_s:g} {unit})")


async def measure(base_url: str, query: str, levels: list[int], steps: int, cpu: CpuMeter) -> list[Level]:
    """Each level: sessions opened to reach it (their first pages), then all of them stepping."""
    cookie = await sign_in(base_url)
    sessions: list[HeadlessSession] = []
    results = []
    try:
        for level in levels:
            new = [HeadlessSession(base_url, query, cookie) for _ in range(level - len(sessions))]
            cpu.take()
            opened = await asyncio.gather(*(session.open() for session in new))
            pages_cpu_s = cpu.take()
            sessions += new
            took = await asyncio.gather(*(paced_steps(session, steps) for session in sessions))
            results.append(Level(level, [view for view, _ in opened], [page for _, page in opened],
                                 [s for each in took for s in each], cpu.take(), pages_cpu_s, os.getloadavg()[0]))
            print(f"{level:3d} sessions: " + summary(f"first page with its plots ({len(new)} opened at once)",
                                                     results[-1].pages_s, FIRST_PAGE_TARGET_S, 1.0, "s")
                  + "; " + summary("time step", results[-1].steps_s, STEP_P95_TARGET_S, 1e-3, "ms"), flush=True)
    finally:
        for session in sessions:
            session.close()
    return results


async def play_until(session: HeadlessSession, stop: asyncio.Event, took: list[tuple[int, float]],
                     playing: list) -> None:
    """Step ``session`` at the player's pace until ``stop``; each step's (sessions playing then, seconds)."""
    while not stop.is_set():
        started = time.perf_counter()
        took.append((len(playing), await session.step()))
        await asyncio.sleep(max(0.0, PLAYER_INTERVAL_S - (time.perf_counter() - started)))


@dataclass
class Arrivals:
    """Sessions arriving one at a time while the others play: each newcomer's first page (s) and every step
    (sessions playing at the time, s)."""

    pages_s: list[float]
    steps: list[tuple[int, float]]
    cpu_s: dict[str, float]
    load_average: float

    def steps_at(self, count: int) -> np.ndarray:
        return np.array([seconds for playing, seconds in self.steps if playing == count])

    @property
    def within_targets(self) -> bool:
        full = self.steps_at(len(self.pages_s))
        return max(self.pages_s) < FIRST_PAGE_TARGET_S and full.size > 0 and \
            np.percentile(full, 95) < STEP_P95_TARGET_S


async def measure_arrivals(base_url: str, query: str, count: int, gap_s: float, steps: int,
                           cpu: CpuMeter) -> Arrivals:
    """``count`` sessions arriving every ``gap_s`` while the earlier ones play; then ``steps`` steps of all of them."""
    cookie = await sign_in(base_url)
    stop, sessions, players, pages_s = asyncio.Event(), [], [], []
    took: list[tuple[int, float]] = []
    cpu.take()
    try:
        for _ in range(count):
            session = HeadlessSession(base_url, query, cookie)
            pages_s.append((await session.open())[1])
            sessions.append(session)
            players.append(asyncio.ensure_future(play_until(session, stop, took, sessions)))
            await asyncio.sleep(gap_s)
        await asyncio.sleep(steps * PLAYER_INTERVAL_S)  # everyone playing
        stop.set()
        await asyncio.gather(*players)
    finally:
        stop.set()
        for session in sessions:
            session.close()
    return Arrivals(pages_s, took, cpu.take(), os.getloadavg()[0])


def arrivals_text(procs: int, arrivals: Arrivals) -> str:
    count = len(arrivals.pages_s)
    full = arrivals.steps_at(count)
    return (f"{procs} process{'es' if procs > 1 else ''}, {count} sessions arriving one at a time while the others "
            f"play: first page with its plots {np.mean(arrivals.pages_s):.2f} s mean, "
            f"{np.percentile(arrivals.pages_s, 95):.2f} s p95, {max(arrivals.pages_s):.2f} s at most (the last, with "
            f"{count - 1} playing: {arrivals.pages_s[-1]:.2f} s); time step with all {count} playing "
            f"{1e3 * full.mean():.0f} ms mean, {1e3 * np.percentile(full, 95):.0f} ms p95 ({full.size} steps); server "
            f"CPU {arrivals.cpu_s.get('server', 0.0):.1f} s; load average {arrivals.load_average:.1f}: "
            f"{'within' if arrivals.within_targets else 'NOT within'} the targets")


@dataclass
class Level:
    """What one level of concurrent sessions measured."""

    sessions: int
    views_s: list[float]  # each new session's first page until its 3D view
    pages_s: list[float]  # ... until its time-series plots too
    steps_s: list[float]  # every session's steps
    cpu_s: dict[str, float]  # CPU seconds of the steps, per kind of process (server, other: these clients)
    pages_cpu_s: dict[str, float]  # ... of the new sessions' first pages
    load_average: float  # over the last minute, at the level's end

    @property
    def within_targets(self) -> bool:
        return max(self.pages_s or [0.0]) < FIRST_PAGE_TARGET_S and np.percentile(self.steps_s, 95) < STEP_P95_TARGET_S

    def per_step_ms(self, kind: str) -> float:
        return 1e3 * self.cpu_s.get(kind, 0.0) / len(self.steps_s)

    def per_page_s(self, kind: str) -> float:
        return self.pages_cpu_s.get(kind, 0.0) / len(self.pages_s)


def held(levels: list[Level]) -> int:
    """The largest level that, with every level below it, stayed within the targets (0: none)."""
    count = 0
    for level in levels:
        if not level.within_targets:
            break
        count = level.sessions
    return count


def measure_server(runs_dir: Path, source: str, num_procs: int, levels: list[int], steps: int,
                   one_by_one: int, gap_s: float) -> tuple[list[Level], Arrivals | None]:
    """Start a server of ``num_procs`` processes (one page made before they fork), measure it (levels, then
    ``one_by_one`` arrivals if not 0), stop it."""
    server, port, serving = start_server(runs_dir, source, num_procs, warm=True)
    print(f"--- {num_procs} server process{'es' if num_procs > 1 else ''}: {serving}; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    base_url, query = f"http://localhost:{port}", f"?source={source}"
    try:
        levels_measured = asyncio.run(measure(base_url, query, levels, steps, CpuMeter(server.pid))) if levels else []
        arrivals = asyncio.run(measure_arrivals(base_url, query, one_by_one, gap_s, steps, CpuMeter(server.pid))) \
            if one_by_one else None
        if arrivals:
            print(arrivals_text(num_procs, arrivals), flush=True)
        return levels_measured, arrivals
    finally:
        server.terminate()  # its forked processes end with it
        server.join()
        time.sleep(2.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="phase3", help="scenario or stored run shown (default phase3)")
    parser.add_argument("--runs", help="directory of stored runs (default: none, a temporary directory)")
    parser.add_argument("--sessions", type=int, nargs="*", default=[1, 5, 10, 20],
                        help="levels of concurrent sessions, increasing (default 1 5 10 20)")
    parser.add_argument("--steps", type=int, default=20, help="time steps per session at each level (default 20)")
    parser.add_argument("--num-procs", type=int, nargs="+", default=[1, 2],
                        help="server processes, one server after the other (twin serve --num-procs; default 1 2)")
    parser.add_argument("--one-by-one", type=int, default=SESSIONS_TARGET,
                        help=f"then sessions arriving one at a time while the others play (default {SESSIONS_TARGET}; "
                             "0: none)")
    parser.add_argument("--arrival-gap", type=float, default=5.0, help="seconds between two arrivals (default 5)")
    args = parser.parse_args()
    if sorted(args.sessions) != args.sessions or (args.sessions and args.sessions[0] < 1):
        parser.error(f"--sessions: {args.sessions} must be increasing counts of at least 1")
    if args.one_by_one < 0 or args.arrival_gap < 0:
        parser.error(f"--one-by-one {args.one_by_one}, --arrival-gap {args.arrival_gap}: must not be negative")
    if min(args.num_procs) < 1:
        parser.error(f"--num-procs: {args.num_procs} must be counts of at least 1")

    runs_dir = Path(args.runs or tempfile.mkdtemp(prefix="twin-capacity-"))
    print(f"{os.cpu_count()} cores shared by the server's processes, the headless clients (this process, one event "
          f"loop) and whatever else runs; each session steps at most every {PLAYER_INTERVAL_S * 1e3:g} ms; a first "
          f"page is counted until its time-series plots arrive")
    both = {procs: measure_server(runs_dir, args.source, procs, args.sessions, args.steps, args.one_by_one,
                                  args.arrival_gap) for procs in args.num_procs}
    measured = {procs: levels for procs, (levels, _) in both.items() if levels}
    if measured:
        print("\nCPU per page and per step: of the server's processes / of the clients (this process)")
        print(f"{'processes':>9} {'sessions':>8} {'3D view p95':>11} {'first page p95':>14} {'CPU per page':>15} "
              f"{'step p95':>8} {'CPU per step':>15} {'load average':>12}")
    for procs, levels in measured.items():
        for level in levels:
            print(f"{procs:9d} {level.sessions:8d} {np.percentile(level.views_s, 95):9.2f} s "
                  f"{np.percentile(level.pages_s, 95):12.2f} s {level.per_page_s('server'):6.2f} / "
                  f"{level.per_page_s('other'):4.2f} s {1e3 * np.percentile(level.steps_s, 95):5.0f} ms "
                  f"{level.per_step_ms('server'):5.1f} / {level.per_step_ms('other'):3.1f} ms {level.load_average:12.1f}")
    for procs, levels in measured.items():
        print(f"{procs} process{'es' if procs > 1 else ''}: sessions held within the targets (first page with its "
              f"plots < {FIRST_PAGE_TARGET_S:g} s, step p95 < {STEP_P95_TARGET_S * 1e3:g} ms): {held(levels)} "
              f"(levels tried {args.sessions}; target {SESSIONS_TARGET})")
    for procs, (_, arrivals) in both.items():
        if arrivals:
            print(arrivals_text(procs, arrivals))
    if not measured:
        return
    server_ms = float(np.median([level.per_step_ms("server") for levels in measured.values() for level in levels]))
    # A server process runs its sessions' callbacks on one event loop: one core at most, whatever the machine has.
    print(f"the server's CPU per session-step, {server_ms:.1f} ms (median over the levels), bounds the sessions one "
          f"process keeps playing (a step every {PLAYER_INTERVAL_S * 1e3:g} ms) at {PLAYER_INTERVAL_S * 1e3 / server_ms:.0f} "
          f"on a core of its own; each further process adds a core's worth")


if __name__ == "__main__":
    main()
