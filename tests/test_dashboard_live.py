"""The dashboard's Live tab in a real browser, following a real ingest server's store as packets arrive.

A virtual phase-1 fleet with a radiator stuck on CC1-001-02 sends its first hour through
``twin telemetry serve`` (its own process); the operator sees the measurements and the anomaly,
then a second half-hour arrives and the count grows; the operator acknowledges the anomaly, and a
viewer is refused, in the page and by the server-side call.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from test_dashboard import TIMEOUT_MS, USERS, served
from test_telemetry import stop_process

from apps.auth import AccessDenied, User, UserBook
from apps.dashboard import DashboardConfig
from apps.live_tab import REFRESH_S
from apps.live_view3d import REDRAW_EVERY_S
from twin.telemetry import virtual_fleet
from twin.telemetry.client import TelemetrySender

TOKEN = "live-test-token"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def recording(phase1):
    faults = [virtual_fleet.InjectedFault.parse("radiator_stuck:CC1-001-02:0s:0.9")]
    sensors = virtual_fleet.load_sensors()
    truth = virtual_fleet.simulate_truth(phase1, phase1.epoch, 1.5 * 3600, sensors, faults)
    return virtual_fleet.record(truth, sensors, faults, seed=2)


@pytest.fixture(scope="module")
def ingest_server(tmp_path_factory):
    store = tmp_path_factory.mktemp("telemetry") / "store.zarr"
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "twin", "telemetry", "serve", "--store", str(store), "--port",
                                str(port), "--clock", "stream"], env={**os.environ, "TWIN_TELEMETRY_TOKEN": TOKEN},
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().startswith("listening")
    yield store, port
    stop_process(process)


def send(recording, port: int, until_s: float, after_s: float = -1.0) -> None:
    """Send the packets arriving in (after_s, until_s] of the recording, and wait until they are stored."""
    first = int(np.searchsorted(recording.arrival_s, after_s, side="right"))
    last = int(np.searchsorted(recording.arrival_s, until_s, side="right"))
    begin = int(recording.packet_ends[first - 1]) if first else 0
    with TelemetrySender("127.0.0.1", port, TOKEN, "kashi") as sender:
        sender.send(recording.stream[begin:int(recording.packet_ends[last - 1])])
        sender.flush()


@pytest.fixture(scope="module")
def dashboard(ingest_server, tmp_path_factory):
    store, _ = ingest_server
    config = DashboardConfig(tmp_path_factory.mktemp("runs"), UserBook.from_file(USERS), telemetry=store,
                             telemetry_scenario="phase1")
    with served(config) as url:
        yield url


def signed_in_page(browser, dashboard, user: str):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    response = context.request.post(f"{dashboard}/login", max_redirects=0,
                                    form={"username": user, "password": f"{user}-demo"})
    assert response.status == 302
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{dashboard}/")
    page.locator(".bk-tab", has_text="Live").click()
    return page


@pytest.fixture(autouse=True)
def patient_expect():
    """Assertions wait as long as the page's other waits (TIMEOUT_MS): the tab's first assessment takes seconds, more
    on a loaded machine, past expect's own default of 5 s."""
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)


def view_follows_fleet_time(page, rendered: bool = True,
                            timeout_s: float = REDRAW_EVERY_S + 2 * REFRESH_S + TIMEOUT_MS / 1000) -> str:
    """Wait until the 3D view's clock shows the fleet's time and (``rendered``) vtk.js has rendered that step as a
    frame (the view moves at most every REDRAW_EVERY_S, at a refresh; its first scene comes whole); that time."""
    deadline = time.monotonic() + timeout_s
    clock = page.locator(".live-fleet-view .twin-clock")
    while True:
        wanted = page.locator("#fleet-time").inner_text().replace("T", " ") + " UTC"
        if clock.inner_text() == wanted and (not rendered or clock.get_attribute("data-rendered") == wanted):
            return wanted
        assert time.monotonic() < deadline, (f"the 3D view shows {clock.inner_text()!r} (rendered "
                                             f"{clock.get_attribute('data-rendered')!r}), the fleet's time is {wanted!r}")
        time.sleep(0.5)


def stored_count(page) -> int:
    return int(page.locator("#stored-count").inner_text().replace(",", ""))


def test_operator_sees_measurements_arrive_and_acknowledges_the_anomaly(browser, dashboard, ingest_server, recording):
    from playwright.sync_api import expect

    store, port = ingest_server
    send(recording, port, until_s=3600.0)
    page = signed_in_page(browser, dashboard, "operator")
    expect(page.locator("#stored-count")).to_be_visible()
    first = stored_count(page)
    assert first > 0
    anomaly = page.locator(".tabulator-row", has_text="CC1-001-02")
    expect(anomaly.first).to_be_visible()
    expect(anomaly.first).to_contain_text(re.compile("(payload|bus) temperature"))
    page.screenshot(path=str(ARTIFACTS / "live-anomaly.png"), full_page=True)

    shown = view_follows_fleet_time(page, rendered=False)  # the 3D view at the fleet's time: its first scene
    fleet_time = page.locator("#fleet-time").inner_text()
    page.locator(".live-fleet-view input[type=checkbox]").uncheck()  # paused: it stays there while telemetry arrives
    send(recording, port, until_s=recording.arrival_s[-1], after_s=3600.0)  # more telemetry arrives
    expect(page.locator("#stored-count")).not_to_have_text(f"{first:,d}")
    assert stored_count(page) > first
    expect(page.locator("#fleet-time")).not_to_have_text(fleet_time)
    expect(page.locator(".live-view-caption")).to_contain_text(f"{shown} (paused; the telemetry is at")
    time.sleep(REDRAW_EVERY_S + 2 * REFRESH_S)
    assert page.locator(".live-fleet-view .twin-clock").inner_text() == shown
    # following again: the view's clock and caption are the newest packet's time, rendered by vtk.js
    page.locator(".live-fleet-view input[type=checkbox]").check()
    followed = view_follows_fleet_time(page)
    assert followed > shown
    expect(page.locator("#live-view-time")).to_have_text(followed)

    anomaly.first.click()
    page.get_by_role("button", name="Acknowledge selected").click()
    expect(page.locator(".tabulator-row", has_text="CC1-001-02").first).to_contain_text("operator")
    page.screenshot(path=str(ARTIFACTS / "live-acknowledged.png"), full_page=True)
    page.context.close()


def test_a_viewer_cannot_acknowledge_even_by_calling_the_server(browser, dashboard, ingest_server):
    from playwright.sync_api import expect

    from apps.live_tab import LiveTab

    page = signed_in_page(browser, dashboard, "viewer")
    expect(page.get_by_role("button", name="Acknowledge selected")).to_be_disabled()
    expect(page.get_by_text("acknowledging an alarm needs the operator role")).to_be_visible()
    page.context.close()
    store, _ = ingest_server
    import panel as pn

    with pn.io.hold():  # outside a served session: the tab's server-side action alone
        tab = LiveTab(store, "phase1", User("vera", frozenset({"viewer"})))
    with pytest.raises(AccessDenied, match="vera \\(viewer\\) may not acknowledge an alarm"):
        tab.acknowledge("CC1-001-02|temperature:payload")
    tab.close()


def test_the_alarm_acknowledged_is_the_one_picked_even_when_a_refresh_moves_the_rows(ingest_server, recording):
    """Rows move as alarms come and go (critical first, then the oldest): the selection follows the alarm picked,
    not its row number, so an operator never acknowledges another satellite's alarm."""
    import dataclasses

    import panel as pn

    from apps.live_tab import LiveTab

    store, port = ingest_server
    send(recording, port, until_s=3600.0)  # (packets already stored are duplicates: kept once)
    with pn.io.hold():  # outside a served session: the tab's server-side actions alone
        tab = LiveTab(store, "phase1", User("olga", frozenset({"operator"})))
    try:
        view = tab.shared.latest(force=True)
        tab.show(view)
        picked = str(view.alarms.alarms.iloc[0]["key"])
        tab.table.selection = [0]
        newcomer = view.alarms.alarms.iloc[[0]].assign(satellite="CC1-003-01", key="CC1-003-01|temperature:payload")
        moved = dataclasses.replace(view.alarms, alarms=pd.concat([newcomer, view.alarms.alarms], ignore_index=True))
        tab.show(dataclasses.replace(view, alarms=moved))  # a new alarm takes the first row
        assert tab.table.selection == [1]
        acknowledged = []
        tab.acknowledge = acknowledged.append
        tab.on_alarm("acknowledge")
        assert acknowledged == [picked]
    finally:
        tab.close()


def test_an_engineer_forks_a_whatif_from_the_live_state(browser, dashboard, ingest_server, recording):
    """The What-if tab starts a what-if from the assimilated live state, in the background with its progress, and
    says where it started; both it and its baseline begin at the fleet's time, not at the scenario's epoch."""
    from playwright.sync_api import expect

    store, port = ingest_server
    send(recording, port, until_s=3600.0)  # (packets already stored are duplicates: kept once)
    page = signed_in_page(browser, dashboard, "engineer")
    expect(page.locator("#fleet-time")).to_have_text(re.compile(r"2026-06-01T0\d:\d\d"))
    page.locator(".bk-tab", has_text="What-if").click()
    page.get_by_label("Start from").select_option("the live state (telemetry)")
    expect(page.get_by_label("Satellites per sub-center")).to_be_disabled()
    page.get_by_label("Failed ground station").select_option("Kashi")
    page.get_by_label("Fault start (after the run starts)").fill("30min")
    page.get_by_role("button", name="Run what-if").click()
    expect(page.get_by_text("Working on phase1 with Kashi lost at 30min, from the live state")).to_be_visible()
    heading = page.get_by_role("heading", name=re.compile(
        r"^phase1 with Kashi lost at 30min, from the live state at 2026-06-01 0\d:\d\d:\d\d UTC$"))
    expect(heading).to_be_visible()
    table = page.locator("table", has_text="change (what-if - baseline)")
    expect(table).to_be_visible(timeout=300_000)
    expect(table).to_contain_text("latency to ground")
    page.screenshot(path=str(ARTIFACTS / "whatif-from-live.png"), full_page=True)
    page.context.close()
