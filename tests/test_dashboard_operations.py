"""The Live tab as a control room, in a real browser, over a live virtual fleet (its own process) sending to a real
ingest server: the health matrix turns red when a fault shows, an alarm is acknowledged and shelved, an operator's
command waits for its satellite's window, executes on board and is verified in the telemetry, engineers and
viewers may not send (in the page and on the server), and a forecast from now lists a limit the fleet will cross.

Phase 1 flies from its epoch at 30 x real time, with CC1-001-02's radiator 90 % stuck from 45 min and
CC1-002-01's array 80 % degraded from the start (its battery reaches its floor about 2.5 h in).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from test_dashboard import TIMEOUT_MS, USERS, served
from test_dashboard_live import signed_in_page
from test_telemetry import TOKEN, free_port, start_server, stop_process

from apps.auth import AccessDenied, User, UserBook
from apps.dashboard import DashboardConfig
from apps.live_tab import REFRESH_S
from apps.live_view3d import REDRAW_EVERY_S

ARTIFACTS = __import__("pathlib").Path(__file__).resolve().parent / "artifacts"
COMMANDED = "CC1-003-03"  # out of reach from 00:08:50 to 00:58:20 of the fleet's time
SLOW_MS = 400_000  # what waits on the fleet's time (30 x real time: 3 h in 6 min)


def cell(page, subcenter: str, subsystem: str):
    return page.locator(f'td.health-cell[data-subcenter="{subcenter}"][data-subsystem="{subsystem}"]')


@pytest.fixture(scope="module")
def flying(tmp_path_factory):
    store = tmp_path_factory.mktemp("control") / "store.zarr"
    port = free_port()
    server = start_server(store, port)
    fleet = subprocess.Popen([sys.executable, "-m", "twin", "telemetry", "fly", "phase1", "--to", f"127.0.0.1:{port}",
                              "--speed", "30", "--duration", "3h", "--station", "kashi",
                              "--fault", "radiator_stuck:CC1-001-02:45min:0.9",
                              "--fault", "array_degraded:CC1-002-01:0s:0.8"],
                             env={**os.environ, "TWIN_TELEMETRY_TOKEN": TOKEN}, stdout=subprocess.DEVNULL)
    yield store
    stop_process(fleet)
    stop_process(server)


@pytest.fixture(scope="module")
def dashboard(flying, tmp_path_factory):
    config = DashboardConfig(tmp_path_factory.mktemp("runs"), UserBook.from_file(USERS), telemetry=flying,
                             telemetry_scenario="phase1")
    with served(config) as url:
        yield url


@pytest.fixture(scope="module")
def operator(browser, dashboard):
    from playwright.sync_api import expect

    expect.set_options(timeout=TIMEOUT_MS)
    page = signed_in_page(browser, dashboard, "operator")
    expect(page.locator("#fleet-time")).to_have_text(__import__("re").compile(r"2026-06-01T"), timeout=120_000)
    yield page
    page.context.close()


def fleet_time_after(page, moment: str, timeout_s: float = SLOW_MS / 1000) -> str:
    """Wait until the page shows a fleet time at or after ``moment`` (ISO text); that time."""
    deadline = time.monotonic() + timeout_s
    while (shown := page.locator("#fleet-time").inner_text()) < moment and time.monotonic() < deadline:
        time.sleep(1.0)
    assert shown >= moment, f"the fleet's time stayed at {shown}"
    return shown


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_an_operator_command_waits_for_its_window_executes_and_is_verified(operator):
    from playwright.sync_api import expect

    page = operator
    fleet_time = fleet_time_after(page, "2026-06-01T00:09")  # the satellite's first window (from the start) has closed
    assert fleet_time < "2026-06-01T00:58:20", f"the test came too late to see the command wait ({fleet_time})"
    page.get_by_label("Satellite").nth(1).select_option(COMMANDED)  # the command panel's
    page.get_by_label("Command").select_option("set_compute_cap")
    page.get_by_label("largest fraction of installed compute to use (0 to 1)").fill("0.05")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_text("C00001 queued for the window opening 00:58:20 UTC")).to_be_visible(timeout=120_000)
    row = page.locator(".tabulator-row", has_text="C00001")
    expect(row).to_contain_text("queued")
    expect(row).to_contain_text("00:58:20")
    _shot(page, "operations-command-queued")
    expect(row).to_contain_text("verified", timeout=SLOW_MS)
    expect(row).to_contain_text("compute utilisation at most")
    _shot(page, "operations-command-verified")


def test_the_3d_view_follows_the_fleet_redrawing_at_most_every_30_s(operator):
    """The view's clock follows the fleet's time, which moves 150 s at every 5 s refresh at 30 x: the browser redraws
    it at most once every REDRAW_EVERY_S of the page's life (counted by the view's clock), not at every refresh.
    (Second in the file: the fleet, 3 h at 30 x, must still be flying.)"""
    from playwright.sync_api import expect

    page = operator
    clock = page.locator(".live-fleet-view .twin-clock")
    expect(clock).to_have_attribute("data-rendered", re.compile("2026-06-01"), timeout=120_000)
    first = clock.get_attribute("data-rendered")
    expect(clock).not_to_have_attribute("data-rendered", first, timeout=int(1000 * (REDRAW_EVERY_S + 3 * REFRESH_S)))
    moved = clock.get_attribute("data-rendered")
    fleet = page.locator("#fleet-time").inner_text().replace("T", " ") + " UTC"
    assert first < moved <= fleet
    expect(page.locator("#live-view-time")).to_have_text(moved)
    page_life_s = page.evaluate("performance.now()") / 1000
    frames = int(clock.get_attribute("data-frames"))
    print(f"3D view: {frames} redraws in {page_life_s:.0f} s of the page at 30 x real time "
          f"(a refresh every {REFRESH_S:g} s); the fleet at {fleet}, the view at {moved}")
    assert 1 <= frames <= page_life_s / REDRAW_EVERY_S + 1
    _shot(page, "operations-3d-view")


def test_the_health_matrix_turns_red_when_the_fault_shows(operator):
    from playwright.sync_api import expect

    expect(cell(operator, "CC1-001", "thermal")).to_have_attribute("data-level", "critical", timeout=SLOW_MS)
    expect(cell(operator, "CC1-003", "thermal")).to_have_attribute("data-level", "ok")
    _shot(operator, "operations-matrix-red")


def test_an_operator_acknowledges_and_shelves_an_alarm(operator):
    from playwright.sync_api import expect

    page = operator
    alarm = page.locator(".tabulator-row", has_text="CC1-001-02").first
    expect(alarm).to_contain_text("payload temperature")
    alarm.click()
    page.get_by_role("button", name="Acknowledge selected").click()
    expect(page.locator(".tabulator-row", has_text="CC1-001-02").first).to_contain_text("operator")
    page.locator(".tabulator-row", has_text="CC1-001-02").first.click()
    page.get_by_role("button", name="Shelve selected for 1 h").click()
    expect(page.locator(".tabulator-row", has_text="CC1-001-02")).to_have_count(0)
    expect(page.get_by_text("(1 shelved)")).to_be_visible()
    expect(cell(page, "CC1-001", "thermal")).to_have_attribute("data-level", "ok")
    _shot(page, "operations-shelved")


def test_a_refresh_with_the_same_alarms_leaves_the_list_as_shown(flying):
    """A refresh whose alarm rows are those shown sends the page nothing for the list, so a row the operator has
    just clicked is not redrawn (and unselected) under the next click (before, the list was replaced every refresh)."""
    import panel as pn

    from apps.live_tab import LiveTab

    with pn.io.hold():
        tab = LiveTab(flying, "phase1", User("oper", frozenset({"operator"})))
        deadline = time.monotonic() + SLOW_MS / 1000
        view = tab.shared.latest(force=True)
        while view is None or view.alarms is None or view.alarms.alarms.empty:  # until the fault shows
            assert time.monotonic() < deadline, "no alarm in the fleet's telemetry"
            time.sleep(2.0)
            view = tab.shared.latest(force=True)
        tab.show(view)
        shown = tab.table.value
        assert len(shown) > 0
        tab.table.selection = [0]
        tab.show(view)
    assert tab.table.value is shown and tab.table.selection == [0]
    tab.close()


def test_a_forecast_from_now_lists_the_battery_reaching_its_floor(operator):
    from playwright.sync_api import expect

    page = operator
    page.get_by_role("button", name="Forecast from now").click()
    expect(page.locator("#forecast-count")).to_be_visible(timeout=120_000)
    forecast = page.locator(".forecast-table")  # not the alarm list, which may name the same battery
    forecast.scroll_into_view_if_needed()  # under the Live tab's 3D view: a reader scrolls down to it
    crossing = forecast.locator(".tabulator-row", has_text="battery state of charge").filter(has_text="CC1-002-01")
    expect(crossing.first).to_contain_text("critical")
    _shot(page, "operations-forecast")


@pytest.mark.parametrize("who, may_prepare", [("viewer", False), ("engineer", True)])
def test_viewers_and_engineers_may_not_send_in_the_page_or_on_the_server(browser, dashboard, flying, who, may_prepare):
    from playwright.sync_api import expect

    from apps.live_tab import LiveTab

    page = signed_in_page(browser, dashboard, who)
    expect(page.get_by_role("button", name="Send", exact=True)).to_be_disabled()
    expect(page.get_by_text("sending a command needs the operator role")).to_be_visible()
    prepare = page.get_by_role("button", name="Prepare")
    (expect(prepare).to_be_enabled if may_prepare else expect(prepare).to_be_disabled)()
    page.context.close()
    import panel as pn

    with pn.io.hold():  # outside a served session: the tab's server-side action alone
        tab = LiveTab(flying, "phase1", User(who[:4], frozenset({who})))
    tab.shared.latest(force=True)
    with pytest.raises(AccessDenied, match=f"{who[:4]} \\({who}\\) may not send a command: that needs the operator role"):
        tab.commands.submit("send", COMMANDED, "safe_mode", {"enter": 1})
    tab.close()
