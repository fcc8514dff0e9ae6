"""Key figures as cards in the browser, rewritten in place at each time step.

The cards are built once; a new time changes their text and nothing else. An HTML pane would
send a whole new fragment with fresh stylesheets at every step, which the browser parses,
restyles and lays out again: a tenth to a fifth of a step's time in the page and in the server.
"""

from __future__ import annotations

import param
from panel.custom import JSComponent

from .kpis import Kpi


class KeyFigureCards(JSComponent):
    """A title and one card per key figure: its label, its value at the time shown and its whole run's value."""

    title = param.String(default="", doc="what the figures are of, and when")
    figures = param.List(default=[], doc="[label, at the time shown, whole run] of each key figure")

    def show(self, title: str, figures: list[Kpi]) -> None:
        """Show ``figures`` under ``title``.

        They go to the browser as one message, which costs the server less than a change of the
        document (a tenth of its time per step); the parameters keep them for a view made later.
        """
        values = {"title": title, "figures": [[kpi.label, kpi.at_time, kpi.whole_run] for kpi in figures]}
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
      el.append(title, grid);
      let cards = [];
      const draw = ({title: text, figures}) => {
        title.textContent = text;
        if (cards.length !== figures.length || cards.some((c, i) => c.label.textContent !== figures[i][0])) {
          cards = figures.map(([label]) => card(label));
          grid.replaceChildren(...cards.map((c) => c.element));
        }
        figures.forEach(([, now, run], i) => {
          cards[i].now.textContent = now;
          cards[i].run.textContent = `run: ${run}`;
        });
      };
      draw(model);
      model.on(["title", "figures"], () => draw(model));
      model.on("msg:custom", draw);  // a time step: see show()
    }
    """

    _stylesheets = ["""
    .kpi-title { font-weight: 600; margin: 0 0 6px; }
    .kpis { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }
    .kpi { border: 1px solid rgba(128,128,128,0.35); border-radius: 6px; padding: 5px 8px; }
    .kpi-label { font-size: 12px; opacity: 0.75; } .kpi-now { font-size: 17px; font-weight: 600; }
    .kpi-run { font-size: 12px; opacity: 0.8; }
    """]
