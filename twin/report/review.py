"""A review of two stored runs as one HTML page: each run's figures and warnings (``twin report``'s text, or a
build-up's by year), a plot of each, a 3D still of each when given (``stills``: PNG bytes, which ``twin review``
renders with :mod:`viz.still`), and what changed between their scenarios (:mod:`twin.scenario.diff`), stamped
with the date, the twin's version and both scenarios' SHA-256."""

from __future__ import annotations

import base64
import html
import io
import tomllib
from datetime import datetime, timezone

import xarray as xr

from twin.scenario import Scenario, scenario_from_dict, scenario_of_run
from twin.scenario.diff import scenario_diff
from twin.version import __version__


def recorded_scenario(run: xr.Dataset) -> Scenario:
    """The scenario a run recorded (its text), else the one its attributes name (:func:`scenario_of_run`)."""
    text = run.attrs.get("scenario_text", "")
    if text:
        return scenario_from_dict(tomllib.loads(text), source=run.attrs.get("scenario_source", "<run>"))
    return scenario_of_run(run.attrs)


def run_text(run: xr.Dataset) -> str:
    """The run's figures and warnings: ``twin report``'s text, or a build-up's by year with its targets."""
    if run.attrs.get("lifecycle"):
        from twin.report.buildup import buildup_text

        return buildup_text(run, "year", by_member=True)
    from twin.report.text import report

    return report(run, "total")


def run_plot_png(run: xr.Dataset) -> bytes:
    """A PNG of the run: the build-up by quarter, or the fleet's generated and used power over the run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    if run.attrs.get("lifecycle"):
        from twin.report.buildup import plot_buildup

        plot_buildup(run, buffer, "quarter", image_format="png")
        return buffer.getvalue()
    from twin.report.figures import time_series

    series = time_series(run)
    figure, axes = plt.subplots(figsize=(8, 3.5))
    for name in ("generated_power", "used_power", "curtailed_power"):
        axes.plot(series["time"].values, series[name].values / 1e6, label=name.replace("_", " "))
    axes.set_ylabel("MW")
    axes.legend(fontsize=8)
    axes.grid(alpha=0.3)
    axes.set_title(run.attrs.get("title", ""), fontsize=9)
    figure.autofmt_xdate()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    plt.close(figure)
    return buffer.getvalue()


def review_html(runs: tuple[xr.Dataset, xr.Dataset], names: tuple[str, str], made: datetime | None = None,
                stills: tuple[bytes, bytes] | None = None) -> str:
    """The review page of ``runs`` (stored at ``names``), made at ``made`` (default now, UTC), with the 3D ``stills``
    (PNG) of each if given."""
    made = made or datetime.now(timezone.utc)
    scenarios = [recorded_scenario(run) for run in runs]
    changes = scenario_diff(*scenarios)
    escape = html.escape
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Review: {escape(names[0])} and "
             f"{escape(names[1])}</title><style>body{{font-family:sans-serif}} pre{{font-size:11px}} "
             ".runs{display:flex;gap:1em} .run{flex:1;min-width:0;overflow-x:auto}</style></head><body>",
             f"<h1>Review: {escape(names[0])} and {escape(names[1])}</h1>",
             f"<p>Made {made:%Y-%m-%d %H:%M} UTC by twin {escape(__version__)}.</p><ul>"]
    for name, run, scenario in zip(names, runs, scenarios):
        parts.append(f"<li>{escape(name)}: scenario {escape(scenario.name)}, SHA-256 "
                     f"<code>{escape(run.attrs.get('scenario_sha256', '') or 'not recorded')}</code></li>")
    parts.append("</ul><div class='runs'>")
    for index, (name, run) in enumerate(zip(names, runs)):
        image = base64.b64encode(run_plot_png(run)).decode("ascii")
        still = "" if stills is None else (f"<img alt='{escape(name)} in 3D' style='max-width:100%' "
                                           f"src='data:image/png;base64,{base64.b64encode(stills[index]).decode('ascii')}'>")
        parts.append(f"<div class='run'><h2>{escape(name)}</h2><img alt='{escape(name)}' style='max-width:100%' "
                     f"src='data:image/png;base64,{image}'>{still}<pre>{escape(run_text(run))}</pre></div>")
    parts.append(f"</div><h2>What changed in the scenario ({len(changes)})</h2><pre>")
    parts += [escape(str(change)) + "\n" for change in changes] or ["no change\n"]
    parts.append("</pre></body></html>\n")
    return "".join(parts)


def review_pdf(runs: tuple[xr.Dataset, xr.Dataset], names: tuple[str, str], path, made: datetime | None = None,
               stills: tuple[bytes, bytes] | None = None) -> None:
    """The review of :func:`review_html` as a PDF at ``path`` (a file or binary stream): a first page with the stamp
    and what changed, then a page per run with its plot, its 3D still if given, and its figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    made = made or datetime.now(timezone.utc)
    scenarios = [recorded_scenario(run) for run in runs]
    changes = [str(change) for change in scenario_diff(*scenarios)] or ["no change"]
    with PdfPages(path) as pages:
        first = plt.figure(figsize=(11.7, 8.3))
        stamp = [f"Review: {names[0]} and {names[1]}", f"Made {made:%Y-%m-%d %H:%M} UTC by twin {__version__}."]
        stamp += [f"{name}: scenario {scenario.name}, SHA-256 {run.attrs.get('scenario_sha256', '') or 'not recorded'}"
                  for name, run, scenario in zip(names, runs, scenarios)]
        first.text(0.03, 0.97, "\n".join(stamp + ["", f"What changed in the scenario ({len(changes)}):", *changes]),
                   family="monospace", fontsize=7, verticalalignment="top")
        pages.savefig(first)
        plt.close(first)
        for index, (name, run) in enumerate(zip(names, runs)):
            page = plt.figure(figsize=(11.7, 8.3))
            images = [run_plot_png(run)] + ([] if stills is None else [stills[index]])
            for column, png in enumerate(images):
                width = 0.94 / len(images)
                axes = page.add_axes((0.03 + column * width, 0.45, width, 0.52))
                axes.imshow(plt.imread(io.BytesIO(png), format="png"))
                axes.axis("off")
            page.text(0.03, 0.43, f"{name}\n{run_text(run)}", family="monospace", fontsize=5, verticalalignment="top")
            pages.savefig(page)
            plt.close(page)
