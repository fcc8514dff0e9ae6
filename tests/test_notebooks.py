"""The notebooks in ``notebooks/`` run top to bottom, each in a fresh kernel of this interpreter, show
their plots inline and end on an assertion of a physical result.

A notebook that needs an optional library (poliastro: Python 3.10 only, ``.ci/poliastro.sh``) is
skipped where the library is absent.
"""

import importlib.util
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the notebooks extra is not installed (pip install '.[notebooks]')")
nbclient = pytest.importorskip("nbclient", reason="the notebooks extra is not installed (pip install '.[notebooks]')")

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
NEEDS = {"poliastro_design_check": "poliastro"}
CELL_TIMEOUT_S = 600


def _code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs_and_ends_on_a_physical_check(path, tmp_path):
    needed = NEEDS.get(path.stem)
    if needed and importlib.util.find_spec(needed) is None:
        pytest.skip(f"{needed} is not installed (Python 3.10 extra: .ci/poliastro.sh)")
    notebook = nbformat.read(path, as_version=4)
    assert "assert " in _code_cells(notebook)[-1].source, "the last cell checks a physical result"
    client = nbclient.NotebookClient(notebook, timeout=CELL_TIMEOUT_S, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    images = [output for cell in _code_cells(notebook) for output in cell.get("outputs", [])
              if "image/png" in output.get("data", {})]
    assert images, "the notebook shows no plot inline"


def test_every_notebook_is_stored_without_outputs():
    """Outputs are made by running the notebook, not kept in git (they would go stale)."""
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        assert not any(cell.get("outputs") or cell.get("execution_count") for cell in _code_cells(notebook)), path.name
