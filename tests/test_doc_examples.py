"""Every example in the README, ``apps/README.md`` and the documentation site (``docs/*.md``) runs here.

A code block's first word is its language and says how it is checked:

- ``console``: a session. Each ``$ command`` runs (in this process when it is a plain ``twin ...``, else in
  bash with the virtualenv first on the PATH) and what it prints, stdout and stderr together, must be the
  lines under it. ``...`` stands for any text within a line, and a line of just ``...`` for any number of
  lines (as in doctest's ELLIPSIS): printed values that depend on the machine or the day are elided so.
- ``bash``: each command must end with exit status 0 and no traceback.
- ``python``: the page's Python blocks run in order in one namespace (in ``docs/api``, reStructuredText's
  ``.. code-block:: python`` too).

A block that is not run says so and why after its language: ```` ```text not-run: printed by
benchmarks/scale.py ````, for output measured elsewhere (benchmarks, year-long studies) or commands that
serve until stopped. The blocks of a page run in order in one fresh folder, which holds beforehand only
the input files in ``INPUT_FILES`` (each described where a page uses it).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "apps" / "README.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "docs").glob("*/*.rst"))]
RUN = ("console", "bash", "python")
NOT_RUN = "not-run:"
COMMAND_TIMEOUT_S = 600
FENCE = re.compile(r"^( {0,3})(```+)(.*)$")


@dataclass(frozen=True)
class Block:
    """A fenced code block of a page: its first line's number, its language, the words after it, its text."""

    page: Path
    line: int
    language: str
    note: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def rst_blocks_of(page: Path) -> list[Block]:
    """The ``.. code-block:: LANGUAGE`` blocks of a reStructuredText page (all of them run)."""
    blocks, lines, number = [], page.read_text().splitlines(), 0
    while number < len(lines):
        opening = re.match(r"^\.\. code-block:: *(\S+)", lines[number])
        number += 1
        if not opening:
            continue
        while number < len(lines) and re.match(r"^\s+:\S+:", lines[number]):  # the directive's options
            number += 1
        start, body = number + 1, []
        while number < len(lines) and (not lines[number].strip() or lines[number].startswith(" ")):
            body.append(lines[number])
            number += 1
        blocks.append(Block(page, start, opening.group(1), "", textwrap.dedent("\n".join(body)).strip("\n") + "\n"))
    return blocks


def blocks_of(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page (MyST directives such as ```` ```{toctree} ```` excluded)."""
    if page.suffix == ".rst":
        return rst_blocks_of(page)
    blocks, lines, number = [], page.read_text().splitlines(), 0
    while number < len(lines):
        opening = FENCE.match(lines[number])
        number += 1
        if not opening:
            continue
        indent, fence, info = opening.groups()
        start, body = number, []
        while number < len(lines) and not lines[number].strip().startswith(fence):
            body.append(lines[number][len(indent):] if lines[number].startswith(indent) else lines[number])
            number += 1
        assert number < len(lines), f"{page.relative_to(ROOT)}:{start}: the code block is never closed"
        number += 1
        language, _, note = info.strip().partition(" ")
        if not language.startswith("{"):
            blocks.append(Block(page, start, language, note.strip(), "\n".join(body) + "\n"))
    return blocks


def runs(block: Block) -> bool:
    return not block.note.startswith(NOT_RUN)


def commands_of(text: str) -> list[str]:
    """Shell commands of a bash block: lines joined at a trailing backslash, blank and comment lines left out."""
    commands, pending = [], ""
    for line in text.splitlines():
        pending += line.strip() if pending else line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip() + " "
            continue
        if pending.strip() and not pending.lstrip().startswith("#"):
            commands.append(pending.strip())
        pending = ""
    return commands


def session_of(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) of a console block; a command continues on lines after a backslash."""
    steps: list[tuple[str, list[str]]] = []
    continued = False
    for line in text.splitlines():
        if continued:
            steps[-1] = (steps[-1][0][:-1].rstrip() + " " + line.strip(), steps[-1][1])
        elif line.startswith("$ "):
            steps.append((line[2:].strip(), []))
        elif steps:
            steps[-1][1].append(line.rstrip())
        else:
            raise AssertionError(f"a console block starts with output, not a '$ ' command: {line!r}")
        continued = steps[-1][0].endswith("\\")
    return steps


def output_pattern(expected: list[str]) -> re.Pattern:
    """The printed lines as a regular expression: ``...`` any text within a line, a line of ``...`` any lines."""
    parts = []
    for line in expected:
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(piece) for piece in line.split("...")) + r"\n")
    return re.compile("".join(parts) + r"\Z")


def _operators(command: str) -> set[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return {token for token in lexer if token and set(token) <= set("();<>|&")}


def run_command(command: str) -> tuple[int, str]:
    """Exit status and output (stdout and stderr as printed) of a command run in the current folder."""
    words = shlex.split(command, comments=True)
    serves = "serve" in words[1:3]  # a server that failed to refuse would never return: in its own process, timed
    if words[:1] == ["twin"] and not serves and not _operators(command) and "$" not in command:
        from twin.cli import main

        printed = io.StringIO()
        with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
            try:
                status = main(words[1:])
            except SystemExit as stop:  # argparse's usage errors and --version
                status = stop.code if isinstance(stop.code, int) else 1
        return status or 0, printed.getvalue()
    environment = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    done = subprocess.run(["bash", "-c", command], capture_output=False, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, env=environment, timeout=COMMAND_TIMEOUT_S, check=False)
    return done.returncode, done.stdout


def _phase1_with(old: str, new: str) -> str:
    from twin.assets import asset_path

    text = asset_path("scenarios", "phase1.toml").read_text()
    assert old in text, old
    return text.replace(old, new, 1)


def _iss_with_a_corrupted_digit() -> str:
    from twin.assets import asset_path

    name, line1, line2 = asset_path("tle", "iss-2019-12-09.tle").read_text().splitlines()[:3]
    return "\n".join([name, line1, line2.replace("211.2001", "211.2002")]) + "\n"


# Input files the pages use, each described where it is used.
INPUT_FILES = {
    "bad.toml": lambda: _phase1_with("ltan_hours = 18.0", "ltan_hours = 25.0"),
    "crowded.toml": lambda: _phase1_with("phase_deg = 60.0", "phase_deg = 0.0"),
    "smaller.toml": lambda: _phase1_with("solar_array_area_m2 = 20.0 ", "solar_array_area_m2 = 16.0 "),
    "iss.tle": _iss_with_a_corrupted_digit,
    "starved.toml": lambda: _phase1_with("propellant_kg = 25.0 ", "propellant_kg = 0.01 "),
    "solar-max.toml": lambda: _phase1_with("budget_years = 10.0 ", 'indices = "fixed"\nf107_sfu = 250.0\n'
                                           'f107_81day_sfu = 250.0\nap = 30.0\nbudget_years = 10.0 '),
    "catalog.tle": (ROOT / "tests" / "data" / "catalog-subset-2026-03-19.tle").read_text,
    "apps/users.example.toml": (ROOT / "apps" / "users.example.toml").read_text,
}


def _run_console(block: Block) -> None:
    for command, expected in session_of(block.text):
        status, printed = run_command(command)
        assert "Traceback" not in printed, f"{block.where}: $ {command}\n{printed}"
        assert output_pattern(expected).match(printed), (
            f"{block.where}: $ {command} (exit {status}) printed\n{printed}\ninstead of\n" + "\n".join(expected))


def _run_bash(block: Block) -> None:
    for command in commands_of(block.text):
        status, printed = run_command(command)
        assert status == 0 and "Traceback" not in printed, f"{block.where}: $ {command} (exit {status})\n{printed}"


def _run_python(block: Block, namespace: dict) -> None:
    exec(compile(block.text, block.where, "exec"), namespace)  # noqa: S102 (the page's own example)


def test_every_block_is_run_or_says_why_not():
    for page in PAGES:
        for block in blocks_of(page):
            if runs(block):
                assert block.language in RUN, f"{block.where}: a {block.language or 'plain'} block is never run: " \
                                              f"give it one of {RUN} or say '{NOT_RUN} why'"
            else:
                assert block.note[len(NOT_RUN):].strip(), f"{block.where}: '{NOT_RUN}' says why"


def test_console_output_matching():
    pattern = output_pattern(["wrote ... (25 satellites x ... steps)", "...", "last"])
    assert pattern.match("wrote run.zarr (25 satellites x 121 steps)\na\nb\nlast\n")
    assert pattern.match("wrote run.zarr (25 satellites x 121 steps)\nlast\n")
    assert not pattern.match("wrote run.zarr (24 satellites x 121 steps)\nlast\n")
    assert not pattern.match("wrote run.zarr (25 satellites x 121 steps)\nlast\nmore\n")
    assert session_of("$ twin a \\\n    --b\nout\n$ twin c\n") == [("twin a --b", ["out"]), ("twin c", [])]
    assert commands_of("# set up\ntwin a \\\n  --b   # why\n\ntwin c\n") == ["twin a --b   # why", "twin c"]


PAGES_WITH_EXAMPLES = [page for page in PAGES if any(runs(block) for block in blocks_of(page))]


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES_WITH_EXAMPLES, ids=[str(p.relative_to(ROOT)) for p in PAGES_WITH_EXAMPLES])
def test_the_examples_of_a_page_run_as_shown(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name, make in INPUT_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(make())
    namespace: dict = {"__name__": "__doc_example__"}
    for block in filter(runs, blocks_of(page)):
        if block.language == "console":
            _run_console(block)
        elif block.language == "bash":
            _run_bash(block)
        else:
            _run_python(block, namespace)
