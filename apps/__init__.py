"""The twin's web dashboard (Panel): ``twin serve`` or ``panel serve apps/dashboard.py``; see apps/README.md.

Modules, each with one job: :mod:`apps.dashboard` (the page) and :mod:`apps.server` (serving it),
:mod:`apps.auth` (users, hashed passwords, roles), :mod:`apps.login` and :mod:`apps.panel_auth`
(sign-in; with :mod:`apps.login_guard`, :mod:`apps.sessions`, :mod:`apps.demo_users`), :mod:`apps.runs` and
:mod:`apps.worker` (runs read or simulated once per process, in
the background), :mod:`apps.whatif` (scenario changes, engineers only), :mod:`apps.kpis`, :mod:`apps.kpi_cards` and
:mod:`apps.plots` (figures, their cards and time series), :mod:`apps.view3d` (the 3D view in the browser),
:mod:`apps.progress` (background jobs on the page), :mod:`apps.browser` (the Chromium the screenshots, benchmarks
and tests drive), the tabs (:mod:`apps.constellation_tab`,
:mod:`apps.review_tab`, :mod:`apps.whatif_tab`) and :mod:`apps.review_export` (one HTML file).
"""
