"""The documentation site (``docs/``: Markdown pages, the notebooks executed with their plots, the API reference
from the numpydoc docstrings) builds with Sphinx with no warning and no network, and the README is short and
links only to what exists. The examples on the pages run in ``tests/test_doc_examples.py``; those in the
docstrings run as doctests (``pytest --doctest-modules twin``).
"""

import importlib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("sphinx", reason="the docs extra is not installed (pip install '.[docs]')")
pytest.importorskip("numpydoc", reason="the docs extra is not installed (pip install '.[docs]')")
pytest.importorskip("myst_nb", reason="the docs extra is not installed (pip install '.[docs]')")

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README_MAX_LINES = 250
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
NOT_EXECUTED_HERE = {"poliastro_design_check"} if importlib.util.find_spec("poliastro") is None else set()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site built once from a clean state, with warnings as errors (the notebooks run: about a minute)."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-b", "html", "-W", "--keep-going", "-q",
                             str(DOCS), str(out)], capture_output=True, text=True, timeout=1200, check=False)
    # Sphinx's own (the notebook kernels log "[IPKernelApp] WARNING | ..." about their loopback transport)
    warnings = [line for line in result.stderr.splitlines() if re.search(r"\b(WARNING|ERROR): ", line)]
    assert result.returncode == 0 and not warnings, result.stderr[-5000:]
    return out


@pytest.mark.slow
def test_api_reference_builds_without_warnings(site):
    page = (site / "api" / "index.html").read_text()
    for documented in ("twin.accessor.TwinAccessor.power_margins", "twin.orbit.poliastro_bridge.from_poliastro",
                       "twin.run.simulate.run_scenario", "twin.telemetry.anomalies.find_anomalies"):
        assert f'id="{documented}"' in page, documented


@pytest.mark.slow
def test_every_page_is_in_the_site(site):
    for source in [*DOCS.glob("*.md"), *DOCS.glob("*.rst")]:
        assert (site / f"{source.stem}.html").is_file(), source.name
    index = (site / "index.html").read_text()
    for page in ("user-guide", "scenarios", "dataset", "model", "outputs", "scale-out", "telemetry", "dashboard",
                 "conjunctions", "validation", "studies", "notebooks", "performance", "api/index", "layout",
                 "libraries", "not-done"):
        assert f'href="{page}.html"' in index, f"{page} is not in the contents"
    # the dashboard page includes apps/README.md: its sign-in guarantees are on the site
    assert "Sign-in: what it guarantees" in (site / "dashboard.html").read_text()


@pytest.mark.slow
def test_notebooks_are_on_the_site_with_their_plots(site):
    for notebook in NOTEBOOKS:
        page = (site / "notebooks" / f"{notebook.stem}.html").read_text()
        images = re.findall(r'<img[^>]+src="(\.\./_images/[^"]+\.png)"', page)
        if notebook.stem in NOT_EXECUTED_HERE:
            assert not images, notebook.stem
            continue
        assert images, f"{notebook.stem}: no plot on its page"
        for image in images:
            assert (site / "notebooks" / image).resolve().stat().st_size > 1000, image


@pytest.mark.slow
def test_the_site_loads_nothing_from_the_network(site):
    for page in site.rglob("*.html"):
        text = page.read_text()
        remote = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="((?:https?:)?//[^"]+)"', text)
        assert not remote, f"{page.relative_to(site)} loads {remote[:3]}"


def _github_anchor(heading: str) -> str:
    """The anchor GitHub (and MyST, with myst_heading_anchors) gives a heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    lines = page.read_text().splitlines()
    return {_github_anchor(line.lstrip("#")) for line in lines if re.match(r"#{1,6} ", line)}


def test_readme_is_short():
    lines = (ROOT / "README.md").read_text().count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; the rest belongs on a page of docs/"


def test_links_of_the_readme_and_the_pages_lead_somewhere():
    for page in [ROOT / "README.md", ROOT / "apps" / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.exists(), f"{page.relative_to(ROOT)}: {target} does not exist"
            if anchor and linked.suffix == ".md":
                assert anchor in _anchors(linked), f"{page.relative_to(ROOT)}: {target}: no such heading"


def test_anchor_rule_matches_githubs():
    assert _github_anchor("Scale out (Dask)") == "scale-out-dask"
    assert _github_anchor("Set-up: two commands") == "set-up-two-commands"
    assert _github_anchor("What the `twin` accessor answers") == "what-the-twin-accessor-answers"


def test_every_file_and_test_the_pages_name_exists():
    """A page that says which test or benchmark checks a claim names one that is there."""
    tests_source = "\n".join(path.read_text() for path in (ROOT / "tests").glob("test_*.py"))
    for page in [ROOT / "README.md", ROOT / "apps" / "README.md", *DOCS.glob("*.md")]:
        text = page.read_text()
        for path in re.findall(r"\b((?:tests|benchmarks|twin|apps|viz|assets)/[\w/]+\.(?:py|toml|xml))\b", text):
            assert (ROOT / path).exists(), f"{page.relative_to(ROOT)} names {path}"
        for test in re.findall(r"::(test_\w+)", text):
            assert f"def {test}(" in tests_source, f"{page.relative_to(ROOT)} names {test}"


def _resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def test_every_python_name_the_pages_give_exists():
    """Module paths in the text (``twin.network.paths.best_path``) follow the package's layout."""
    for page in [ROOT / "README.md", ROOT / "apps" / "README.md", *DOCS.glob("*.md")]:
        for dotted in re.findall(r"`((?:twin|viz|apps)(?:\.\w+)+)", page.read_text()):
            assert _resolves(dotted), f"{page.relative_to(ROOT)} names {dotted}"
