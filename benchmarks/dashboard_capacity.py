"""Benchmark the dashboard server's own capacity: how many sessions it serves at once within the targets.

Browsers drawing WebGL in software on the server's own two cores measure the browsers, not the
server (``benchmarks/dashboard.py`` keeps one session's end-to-end times). Here each session is
headless: a client that does what a page's scripts do over HTTP and Bokeh's websocket protocol, and
nothing else (no drawing, no JavaScript): it asks for the page with a signed-in user's cookies,
opens the session's websocket with the page's token, pulls the document and reads every patch the
server sends. All clients run in this process, on one asyncio loop.

- first page: from asking for the page until the session's document holds the 3D view's clock
  (the server built the page, the run's scene and the view and sent them);
- time step: from sending the player's next value until the server's frame for the 3D view with the new
  clock arrives (the server moved the scene and serialised the satellites' positions and colours);
  each session steps at most once per player interval (300 ms), as a playing page does.

After one first session (the server's first page builds what every page shares), sessions are added
level by level (``--sessions 1 5 10 20``: the new ones open at once, then all of them step together);
the largest level whose first pages stay under 5 s and whose step p95 stays under 300 ms is what the
server holds. It prints the server's and the clients' CPU per step: on this machine both
share the same cores, so the clients' share is capacity the server would have alone.

    .venv/bin/python benchmarks/dashboard_capacity.py                        # phase 3, 144 chiefs
    .venv/bin/python benchmarks/dashboard_capacity.py --source phase1 --sessions 1 10 20 30
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import tempfile
import time
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
        self.changed, self.acknowledged = asyncio.Event(), asyncio.Event()
        self.socket = None
        self._reader = None

    async def open(self) -> float:
        """Ask for the page, connect and pull the document; seconds until it holds the 3D view's clock."""
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
        return time.perf_counter() - started

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


async def measure(base_url: str, query: str, levels: list[int], steps: int, cpu: CpuMeter) -> list[tuple]:
    """Each level: sessions opened to reach it, all stepping; (sessions, first pages s, steps s, CPU of the steps)."""
    cookie = await sign_in(base_url)
    first = HeadlessSession(base_url, query, cookie)  # the server's first page builds what every page shares
    print(f"first page of the server's first session (its shared caches empty): {await first.open():.3f} s",
          flush=True)
    first.close()
    sessions: list[HeadlessSession] = []
    results = []
    try:
        for level in levels:
            new = [HeadlessSession(base_url, query, cookie) for _ in range(level - len(sessions))]
            first_pages = await asyncio.gather(*(session.open() for session in new))
            sessions += new
            cpu.take()
            took = await asyncio.gather(*(paced_steps(session, steps) for session in sessions))
            results.append((level, list(first_pages), [s for each in took for s in each], cpu.take()))
            line = (f"{level:3d} sessions: " + summary(f"first page ({len(new)} opened at once)", first_pages,
                                                       FIRST_PAGE_TARGET_S, 1.0, "s") + "; "
                    + summary("time step", results[-1][2], STEP_P95_TARGET_S, 1e-3, "ms"))
            print(line, flush=True)
    finally:
        for session in sessions:
            session.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="phase3", help="scenario or stored run shown (default phase3)")
    parser.add_argument("--runs", help="directory of stored runs (default: none, a temporary directory)")
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 5, 10, 20],
                        help="levels of concurrent sessions, increasing (default 1 5 10 20)")
    parser.add_argument("--steps", type=int, default=20, help="time steps per session at each level (default 20)")
    args = parser.parse_args()
    if sorted(args.sessions) != args.sessions or args.sessions[0] < 1:
        parser.error(f"--sessions: {args.sessions} must be increasing counts of at least 1")

    runs_dir = Path(args.runs or tempfile.mkdtemp(prefix="twin-capacity-"))
    server, port, serving = start_server(runs_dir, args.source)
    print(serving)
    print(f"{os.cpu_count()} cores shared by the server (one process, Tornado's one event loop), the headless "
          f"clients (this process) and whatever else runs (load average {os.getloadavg()[0]:.1f} at the start); "
          f"each session steps at most every {PLAYER_INTERVAL_S * 1e3:g} ms")
    try:
        results = asyncio.run(measure(f"http://localhost:{port}", f"?source={args.source}", args.sessions,
                                      args.steps, CpuMeter(server.pid)))
    finally:
        server.terminate()
        server.join()
    held = 0  # the largest level that, with every level below it, stayed within the targets
    for level, pages, steps_s, _ in results:
        if max(pages or [0.0]) >= FIRST_PAGE_TARGET_S or np.percentile(steps_s, 95) >= STEP_P95_TARGET_S:
            break
        held = level
    alone_step_s = np.mean(results[0][2])
    for level, _, steps_s, spent in results:
        print(f"{level:3d} sessions: CPU per step {cpu_text(spent, len(steps_s), 1e-3, 'ms')}; step "
              f"{np.mean(steps_s) / alone_step_s:.2f}x one session's")
    _, _, steps_s, spent = results[-1]
    server_s = spent.get("server", 0.0) / len(steps_s)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"sessions held within the targets (first page < {FIRST_PAGE_TARGET_S:g} s, step p95 < "
          f"{STEP_P95_TARGET_S * 1e3:g} ms): {held} (levels tried {args.sessions}; target {SESSIONS_TARGET})")
    # One server process runs its sessions' callbacks on one event loop: one core at most, whatever the machine has.
    print(f"the server's CPU per step, {server_s * 1e3:.1f} ms, bounds the sessions one server process keeps "
          f"playing (a step every {PLAYER_INTERVAL_S * 1e3:g} ms) at {PLAYER_INTERVAL_S / server_s:.0f} on its one "
          f"core, with nothing else running; more processes (panel serve --num-procs) add a core each")

if __name__ == "__main__":
    main()
