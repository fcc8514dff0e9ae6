"""Key figures as cards in the browser, rewritten in place at each time step.

The cards are built once; a new time changes their text and nothing else. An HTML pane would
send a whole new fragment with fresh stylesheets at every step, which the browser parses,
restyles and lays out again: about a fifth of a step's time in the page and in the server.
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
        """Show ``figures`` under ``title`` (one message to the browser)."""
        self.param.update(title=title, figures=[[kpi.label, kpi.at_time, kpi.whole_run] for kpi in figures])

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
      const draw = () => {
        title.textContent = model.title;
        const figures = model.figures;
        if (cards.length !== figures.length || cards.some((c, i) => c.label.textContent !== figures[i][0])) {
          cards = figures.map(([label]) => card(label));
          grid.replaceChildren(...cards.map((c) => c.element));
        }
        figures.forEach(([, now, run], i) => {
          cards[i].now.textContent = now;
          cards[i].run.textContent = `run: ${run}`;
        });
      };
      draw();
      model.on(["title", "figures"], draw);
    }
    """

    _stylesheets = ["""
    .kpi-title { font-weight: 600; margin: 0 0 6px; }
    .kpis { display: grid; grid-template-columns: 1fr 1fr; gap: 6px; }
    .kpi { border: 1px solid rgba(128,128,128,0.35); border-radius: 6px; padding: 5px 8px; }
    .kpi-label { font-size: 12px; opacity: 0.75; } .kpi-now { font-size: 17px; font-weight: 600; }
    .kpi-run { font-size: 12px; opacity: 0.8; }
    """]
