"""Key figures as cards in the browser, rewritten in place at each time step.

The cards are built once; a new time changes their text and nothing else. An HTML pane would
send a whole new fragment with fresh stylesheets at every step, which the browser parses,
restyles and lays out again: a tenth to a fifth of a step's time in the page and in the server.
"""

from __future__ import annotations

import param
from panel.custom import JSComponent

from .kpis import Kpi


NO_WARNINGS = "warnings: none (no figure beyond the thresholds of twin.report.alerts)"


def warning_text(warnings) -> list[str]:
    """The lines shown for ``warnings``: each as ``warning: ...``, or one line saying there are none."""
    return [f"warning: {line}" for line in warnings] or [NO_WARNINGS]


class KeyFigureCards(JSComponent):
    """A title and one card per key figure: its label, its value at the time shown and its whole run's value."""

    title = param.String(default="", doc="what the figures are of, and when")
    figures = param.List(default=[], doc="[label, at the time shown, whole run] of each key figure")
    warnings = param.List(default=[], doc="the whole run's warning lines (twin.report.alerts), shown under the cards")

    def show(self, title: str, figures: list[Kpi], warnings: list[str] = ()) -> None:
        """Show ``figures`` under ``title``, and the run's ``warnings`` (or that there are none) below them.

        They go to the browser as one message, which costs the server less than a change of the
        document (a tenth of its time per step); the parameters keep them for a view made later.
        """
        values = {"title": title, "figures": [[kpi.label, kpi.at_time, kpi.whole_run] for kpi in figures],
                  "warnings": warning_text(warnings)}
        with param.discard_events(self):  # kept for a view made later, not sent as a change of the document
            self.param.update(values)
        self._send_msg(values)

    _esm = """
    function card(label) {
      const element = document.createElement("div");
      element.className = "kpi";
      const parts = {};
      for (const part of ["label", "now", "run"]) {
        parts[part] = document.createElement("div");
        parts[part].className = `kpi-${part}`;
        element.appendChild(parts[part]);
      }
      parts.label.textContent = label;
      return {element, ...parts};
    }
    export function render({ model, el }) {
      const title = document.createElement("div");
      title.className = "kpi-title";
      const grid = document.createElement("div");
      grid.className = "kpis";
      const warnings = document.createElement("ul");
      warnings.className = "kpi-warnings";
      el.append(title, grid, warnings);
      let cards = [];
      let shownWarnings = null;
      const draw = ({title: text, figures, warnings: lines}) => {
        title.textContent = text;
        const joined = JSON.stringify(lines || []);
        if (joined !== shownWarnings) {
          shownWarnings = joined;
          warnings.replaceChildren(...(lines || []).map((line) => {
            const item = document.createElement("li");
            item.textContent = line;
            return item;
          }));
        }
        if (cards.length !== figures.length || cards.some((c, i) => c.label.textContent !== figures[i][0])) {
          cards = figures.map(([label]) => card(label));
          grid.replaceChildren(...cards.map((c) => c.element));
        }
        figures.forEach(([, now, run], i) => {
          cards[i].now.textContent = now;
          cards[i].now.classList.toggle("kpi-why", !/^[0-9]/.test(now));  // a sentence saying why there is no number
          cards[i].run.textContent = `run: ${run}`;
        });
      };
      draw(model);
      model.on(["title", "figures", "warnings"], () => draw(model));
      model.on("msg:custom", draw);  // a time step: see show()
    }
    """

    _stylesheets = ["""
    .kpi-title { font-weight: 600; margin: 0 0 6px; }
    .kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 6px; }
    .kpi { min-width: 0; overflow-wrap: anywhere; }
    .kpi { border: 1px solid rgba(128,128,128,0.35); border-radius: 6px; padding: 5px 8px; }
    .kpi-label { font-size: 12px; opacity: 0.75; } .kpi-now { font-size: 17px; font-weight: 600; }
    .kpi-now.kpi-why { font-size: 13px; font-weight: 500; }
    .kpi-run { font-size: 12px; opacity: 0.8; }
    .kpi-warnings { margin: 6px 0 0; padding-left: 16px; color: #b45309; font-size: 12px; }
    """]
