"""twin review A B --out review.html: two stored runs side by side, with what changed in their scenarios."""

import hashlib

import pytest

import twin
from twin.cli import main
from twin.scenario import SCENARIO_DIR


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review")
    text = (SCENARIO_DIR / "phase1.toml").read_text(encoding="utf-8")
    edited = folder / "phase1b.toml"
    edited.write_text(text.replace("offered_load = 0.35 ", "offered_load = 0.5 "), encoding="utf-8")
    for name, scenario in (("a.zarr", "phase1"), ("b.zarr", str(edited))):
        twin.save(twin.run_scenario(twin.load_scenario(scenario), duration_s=1800, step_s=60), folder / name)
    return folder, text, edited.read_text(encoding="utf-8")


def test_the_review_shows_both_runs_the_change_and_the_stamp(two_runs, capsys):
    folder, text_a, text_b = two_runs
    out = folder / "review.html"
    assert main(["review", str(folder / "a.zarr"), str(folder / "b.zarr"), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "<h2>What changed in the scenario (1)</h2><pre>compute.classes[training].offered_load: 0.35 -&gt; 0.5\n" in page
    for text in (text_a, text_b):
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() in page
    assert f"by twin {twin.__version__}." in page and page.count("data:image/png;base64,") == 4  # plot and 3D still
    for name in ("a.zarr", "b.zarr"):
        assert f"<img alt='{folder / name} in 3D' style='max-width:100%' src='data:image/png;base64,iVBORw0KGgo" in page
    assert page.count("energy (fleet, mean over the run)") == 2  # each run's twin report text
    assert main(["review", str(folder / "a.zarr"), str(folder / "b.zarr"), "--out", str(out)]) == 2
    assert capsys.readouterr().err.endswith("already holds a regular file; --overwrite replaces it\n")


def test_a_missing_run_is_one_line(two_runs, capsys):
    folder, _, _ = two_runs
    assert main(["review", str(folder / "a.zarr"), str(folder / "none.zarr"), "--out", str(folder / "r.html")]) == 2
    assert capsys.readouterr().err == f"twin: error: run: {str(folder / 'none.zarr')!r} does not exist\n"
    assert not (folder / "r.html").exists()


def test_the_review_as_pdf_has_the_stamp_page_and_a_page_per_run(two_runs, capsys):
    folder, _, _ = two_runs
    out = folder / "review.pdf"
    assert main(["review", str(folder / "a.zarr"), str(folder / "b.zarr"), "--out", str(out)]) == 0
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and data.count(b"/Type /Page") - data.count(b"/Type /Pages") == 3
    assert data.count(b"/Subtype /Image") == 4  # each run's plot and 3D still
    assert main(["review", str(folder / "a.zarr"), str(folder / "b.zarr"), "--out", str(folder / "r.txt")]) == 2
    assert capsys.readouterr().err.endswith(f"--out: {str(folder / 'r.txt')!r} must end in .html or .pdf\n")
