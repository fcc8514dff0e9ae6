"""The twin's web dashboard: the constellation in 3D over time, phase review, what-if runs, review export.

Serve it with sign-in (users and hashed passwords from a users file, :mod:`apps.auth`)::

    twin serve --users apps/users.example.toml --runs out          # http://localhost:5006
    TWIN_USERS=apps/users.example.toml panel serve apps/dashboard.py --address localhost \\
        --exclude-cookies twin_session --auth-module apps/panel_auth.py \\
        --cookie-secret "$(python -c 'import secrets; print(secrets.token_hex(32))')"

``?source=phase3`` (a scenario) or ``?source=demo.zarr`` (a stored run) in the address opens that
run. Runs come from ``--runs`` or ``$TWIN_RUNS`` (default ``out/``) and the built-in scenarios.
Without sign-in configured the page says how to configure it and shows nothing else.
"""

from __future__ import annotations

import html
import io
import os
from dataclasses import dataclass
from pathlib import Path

import panel as pn

# Absolute imports: ``panel serve`` runs this file as a script, outside the package.
from apps.auth import USERS_ENV, User, UserBook
from apps.constellation_tab import ConstellationTab
from apps.lifecycle_tab import LifecycleTab
from apps.live_tab import LiveTab, NO_TELEMETRY, SharedOperations
from apps.review_export import review_html
from apps.review_tab import ReviewTab
from apps.runs import Catalogue, shared_catalogue
from apps.whatif_tab import WhatIfTab

RUNS_ENV = "TWIN_RUNS"
TELEMETRY_ENV, TELEMETRY_SCENARIO_ENV = "TWIN_TELEMETRY", "TWIN_TELEMETRY_SCENARIO"
CATALOG_ENV = "TWIN_CATALOG"
DEFAULT_RUNS_DIR = "out"
TITLE = "Orbital data center twin"
NO_SIGN_IN = f"""### Sign-in is not configured

This dashboard shows nothing until its users sign in. Start it with its login:

    twin serve --users FILE
    {USERS_ENV}=FILE panel serve apps/dashboard.py --address localhost \\
        --exclude-cookies twin_session --auth-module apps/panel_auth.py --cookie-secret SECRET

`apps/users.example.toml` holds demo users; `python -m apps.auth NAME --roles ROLE` writes an entry of your own.
"""
HEADER_BACKGROUND = "#14203f"
TABS_CSS = ".bk-tab.bk-active { color: #e8ecf4; background-color: #2a3a66; border-color: #2a3a66; }"

pn.extension("vtk", "tabulator", sizing_mode="stretch_width", theme="dark")


@dataclass(frozen=True)
class DashboardConfig:
    """Where the dashboard finds its runs and its users (``users`` ``None``: no sign-in configured), and the
    telemetry store its Live tab follows with the scenario the fleet flies (``None``: no Live tab content), and the
    catalogue of element sets the runs it simulates are screened against (``None``: against themselves only)."""

    runs_dir: Path
    users: UserBook | None
    telemetry: Path | None = None
    telemetry_scenario: str | None = None
    catalog: Path | None = None

    @classmethod
    def from_env(cls) -> DashboardConfig:
        """From ``$TWIN_RUNS`` (default ``out``), ``$TWIN_USERS`` (unset: no sign-in), ``$TWIN_TELEMETRY`` and
        ``$TWIN_TELEMETRY_SCENARIO`` (default phase1) and ``$TWIN_CATALOG``."""
        users = os.environ.get(USERS_ENV)
        telemetry, catalog = os.environ.get(TELEMETRY_ENV), os.environ.get(CATALOG_ENV)
        return cls(Path(os.environ.get(RUNS_ENV, DEFAULT_RUNS_DIR)), UserBook.from_file(users) if users else None,
                   Path(telemetry) if telemetry else None, os.environ.get(TELEMETRY_SCENARIO_ENV, "phase1"),
                   Path(catalog) if catalog else None)


class Dashboard:
    """One signed-in session's page: header (user, sign-out, export) and the five tabs.

    The Constellation tab is made with the page; each other tab the first time it is opened, so a
    page that is only looked at costs neither the server nor the browser their widgets and plots
    (and every later update of the page's document is smaller).
    """

    def __init__(self, catalogue: Catalogue, user: User, source: str | None = None,
                 telemetry: Path | None = None, telemetry_scenario: str | None = None, catalog: Path | None = None):
        self.user = user
        self.constellation = ConstellationTab(catalogue, source, catalog)
        self.review: ReviewTab | None = None
        self.whatif: WhatIfTab | None = None
        self.live: LiveTab | None = None
        self.lifecycle: LifecycleTab | None = None
        self._makers = {
            "Phase review": lambda: self._made("review", ReviewTab(catalogue)),
            "What-if": lambda: self._made("whatif", WhatIfTab(catalogue, user, SharedOperations.for_store(
                telemetry, telemetry_scenario) if telemetry and telemetry_scenario else None)),
            "Lifecycle": lambda: self._made("lifecycle", LifecycleTab(catalogue)),
            "Live": lambda: (self._made("live", LiveTab(telemetry, telemetry_scenario, user))
                             if telemetry and telemetry_scenario else pn.pane.Markdown(NO_TELEMETRY)),
        }
        self.export = pn.widgets.FileDownload(callback=self._export, filename="twin-review.html",
                                              label="Export review (HTML)", color="success", width=200)
        self._titles = ["Constellation", *self._makers]
        self.tabs = pn.Tabs(("Constellation", self.constellation.layout),
                            *((title, pn.Column(sizing_mode="stretch_width")) for title in self._makers),
                            dynamic=False, stylesheets=[TABS_CSS])
        self.tabs.param.watch(lambda event: self._open(event.new), "active")
        header = pn.Row(
            pn.pane.HTML(f"<h2 style='margin:0'>{TITLE}</h2>", sizing_mode="stretch_width", align="center"),
            pn.pane.HTML(f'<span class="twin-user">{html.escape(user.name)} ({user.role_text})</span> &middot; '
                         '<a href="/logout" style="color: inherit">Sign out</a>', width=240, align="center"),
            self.export, styles={"background": HEADER_BACKGROUND, "padding": "6px 12px"}, sizing_mode="stretch_width")
        self.page = pn.Column(header, self.tabs, sizing_mode="stretch_width")
        pn.state.on_session_destroyed(lambda context: self.close())

    def _made(self, name: str, tab):
        """Keep ``tab`` as attribute ``name``; its layout goes on the page."""
        setattr(self, name, tab)
        return tab.layout

    def _open(self, index: int) -> None:
        """Tab ``index`` chosen: its content, made the first time."""
        make = self._makers.pop(self._titles[index], None)
        if make is not None:
            self.tabs[index].objects = [make()]

    def _export(self) -> io.BytesIO:
        sections = [section for tab in (self.constellation, self.review, self.whatif, self.lifecycle)
                    if tab is not None
                    for section in tab.review()]
        title = f"{TITLE}: review by {self.user.name}"
        return io.BytesIO(review_html(title, sections))

    def close(self) -> None:
        """Free the session's 3D scenes (their render windows) and stop its live refresh."""
        for tab in (self.constellation, self.review, self.live):
            if tab is not None:
                tab.close()


def create_app(config: DashboardConfig) -> pn.viewable.Viewable:
    """The page of one session: the dashboard of the signed-in user, or a note when sign-in is not configured."""
    user = config.users.user(pn.state.user) if config.users is not None else None
    if user is None:
        return pn.Column(pn.pane.Markdown(NO_SIGN_IN), width=800)
    source = pn.state.session_args.get("source", [b""])[0].decode() or None
    return Dashboard(shared_catalogue(config.runs_dir), user, source, config.telemetry, config.telemetry_scenario,
                     config.catalog).page


if __name__.startswith("bokeh"):  # run by panel serve
    create_app(DashboardConfig.from_env()).servable(title=TITLE)
