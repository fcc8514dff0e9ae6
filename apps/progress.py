"""A session's view of background jobs: a progress bar and a line of text, then the result or a clear message."""

from __future__ import annotations

import html
from collections.abc import Callable

import panel as pn

from .runs import Job

POLL_PERIOD_MS = 200


class JobProgress:
    """Shows the progress of jobs (:class:`apps.runs.Job`) and calls ``on_done(jobs)`` in the session when all are done.

    A job that fails, or an ``on_done`` that raises ``ValueError``, ends with the message on the
    page (:meth:`error`); the session goes on.
    """

    def __init__(self):
        self.bar = pn.indicators.Progress(value=0, max=100, visible=False, sizing_mode="stretch_width", height=16)
        self.text = pn.pane.Markdown("", margin=(0, 10))
        self.message = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.layout = pn.Column(self.message, self.text, self.bar, sizing_mode="stretch_width")
        self._poll: pn.io.PeriodicCallback | None = None

    def error(self, text: str) -> None:
        """Show ``text`` as an error (and stop watching); it may quote what a user typed, so it is shown as text."""
        self._stop()
        self.message.object = html.escape(text)
        self.message.visible = True

    def clear(self) -> None:
        self.message.visible = False
        self.text.object = ""

    def watch(self, jobs: list[Job], on_done: Callable[[list[Job]], None]) -> None:
        """Follow ``jobs`` until all are done, then call ``on_done(jobs)`` (at once if they are done already)."""
        self._stop()
        self.clear()
        self._jobs, self._on_done = jobs, on_done
        if all(job.done.is_set() for job in jobs):
            self._finish()
            return
        self.bar.visible = True
        self._update()
        self._poll = pn.state.add_periodic_callback(self._update, period=POLL_PERIOD_MS)

    def _update(self) -> None:
        jobs = self._jobs
        progress = sum(job.progress for job in jobs) / len(jobs)
        self.bar.value = round(100 * progress)
        self.text.object = "Working on " + html.escape("; ".join(job.label for job in jobs if not job.done.is_set())) \
            + f": {100 * progress:.0f} %"
        if all(job.done.is_set() for job in jobs):
            self._finish()

    def _finish(self) -> None:
        self._stop()
        self.text.object = ""
        errors = [job.error for job in self._jobs if job.error]
        if errors:
            self.error("; ".join(errors))
            return
        try:
            self._on_done(self._jobs)
        except ValueError as error:  # e.g. a stored run without the variables a view needs
            self.error(str(error))

    def _stop(self) -> None:
        self.bar.visible = False
        if self._poll is not None:
            self._poll.stop()
            self._poll = None
