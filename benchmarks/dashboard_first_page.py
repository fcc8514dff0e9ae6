"""Where a dashboard session's first page spends the server's CPU, once the run and what every page shares are made.

A page's Constellation tab is built as a session builds it (the run read or simulated once before, its figures and
plots' HoloViews objects cached by the first page), then its Bokeh document is made, as the server makes it to send
the page: the 3D view's scene and the page's widgets and cards, then the time-series plots (HoloViews rendered into
Bokeh models, a document's own: they cannot be shared between sessions), then both serialised as the session's
websocket sends them. Each part's CPU is printed with its share
of the page; the page is made ``--pages`` times and the median is kept.

    .venv/bin/python benchmarks/dashboard_first_page.py                  # phase 3, 144 chiefs (the capacity benchmark's)
    .venv/bin/python benchmarks/dashboard_first_page.py --source phase1
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import panel as pn
from bokeh.document import Document


def page_parts(catalogue, source: str) -> dict[str, float]:
    """CPU seconds of one page's parts: the tab (scene, widgets, key figures), its document without the plots, the plots."""
    from apps.constellation_tab import ConstellationTab

    started = time.process_time()
    tab = ConstellationTab(catalogue, source)
    built = time.process_time()
    plots = list(tab.plots.objects)
    tab.plots.objects = []
    page, plotted = Document(), Document()
    tab.layout.get_root(page)
    document = time.process_time()
    pn.Column(*plots).get_root(plotted)
    drawn = time.process_time()
    page.to_json(), plotted.to_json()
    serialised = time.process_time()
    tab.close()
    return {"tab (3D scene, widgets, key figures)": built - started, "document without the plots": document - built,
            "time-series plots (HoloViews to Bokeh)": drawn - document,
            "serialising both documents (what the websocket sends)": serialised - drawn}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="phase3", help="scenario shown (default phase3)")
    parser.add_argument("--pages", type=int, default=5, help="pages made after the first (default 5)")
    args = parser.parse_args()

    from apps.runs import Catalogue

    pn.extension("vtk", "tabulator")
    catalogue = Catalogue(tempfile.mkdtemp(prefix="twin-first-page-"))
    try:
        job = catalogue.job(f"scenario:{args.source}")
        job.done.wait()
        if job.error:
            raise SystemExit(job.error)
        print(f"run: {job.label}; load average {os.getloadavg()[0]:.1f}")
        first = page_parts(catalogue, args.source)
        print(f"the server's first page (shared caches empty): {sum(first.values()):.3f} s CPU")
        pages = [page_parts(catalogue, args.source) for _ in range(args.pages)]
    finally:
        catalogue.shutdown()
    total = float(np.median([sum(parts.values()) for parts in pages]))
    print(f"a later page: {total:.3f} s CPU (median of {args.pages})")
    for name in pages[0]:
        seconds = float(np.median([parts[name] for parts in pages]))
        print(f"  {name}: {seconds:.3f} s ({100 * seconds / total:.0f} %)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
