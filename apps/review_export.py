"""The current review as one self-contained HTML file: headings, tables, plots and a 3D snapshot, openable offline.

Plots stay interactive (Bokeh, embedded); the 3D snapshot is a PNG inside the page (a data URI);
Bokeh's and Panel's JavaScript and CSS are written inline, so the file needs no server and no
network (a few megabytes).
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field

import pandas as pd
import panel as pn

from .plots import plot_panes

SNAPSHOT_WIDTH_PX = 900


@dataclass
class Section:
    """One part of the review: a heading, a line of text, tables, plots (HoloViews objects) and PNG images."""

    heading: str
    text: str = ""
    tables: list[pd.DataFrame] = field(default_factory=list)
    plots: list = field(default_factory=list)
    images: list[bytes] = field(default_factory=list)


def _image(png: bytes) -> pn.pane.HTML:
    data = base64.b64encode(png).decode("ascii")
    return pn.pane.HTML(f'<img alt="3D view" src="data:image/png;base64,{data}" style="width:{SNAPSHOT_WIDTH_PX}px">',
                        width=SNAPSHOT_WIDTH_PX)


def review_html(title: str, sections: list[Section]) -> bytes:
    """The HTML file (UTF-8 bytes) of a review titled ``title`` made of ``sections``."""
    from bokeh.resources import INLINE

    parts = [pn.pane.Markdown(f"# {title}")]
    for section in sections:
        parts.append(pn.pane.Markdown(f"## {section.heading}" + (f"\n{section.text}" if section.text else "")))
        parts += [pn.pane.DataFrame(table, sizing_mode="stretch_width") for table in section.tables]
        parts += [_image(png) for png in section.images]
        if section.plots:
            parts.append(pn.GridBox(*plot_panes(section.plots), ncols=2, sizing_mode="stretch_width"))
    page = pn.Column(*parts, sizing_mode="stretch_width")
    buffer = io.StringIO()
    inline = pn.config.inline
    try:
        pn.config.inline = True  # Panel's own CSS too: the file must open offline
        page.save(buffer, title=title, resources=INLINE, embed=True)
    finally:
        pn.config.inline = inline
    return buffer.getvalue().encode("utf-8")
