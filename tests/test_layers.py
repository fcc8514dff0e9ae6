"""The package's shape: no import circle, and no import that runs back up the pipeline's layers.

The layers are the import-linter contract in ``pyproject.toml`` (``[tool.importlinter]``): the CLI on
top, then the dashboard (apps), the 3D view (viz), the accessor, telemetry, report, run, network,
subsystems, orbit, scenario, dataset and the foundation modules. Each may import only the layers
below it.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("twin", "viz", "apps")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter's verdict on the packages under ``root`` with the project's contracts."""
    command = [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command; "
               "sys.exit(lint_imports_command())", "--config", str(ROOT / "pyproject.toml"), "--no-cache"]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def import_cycles(graph) -> list[list[str]]:
    """Strongly connected groups of more than one module in ``graph`` (Tarjan's algorithm, iterative)."""
    index, low, on_stack, stack, cycles, counter = {}, {}, set(), [], [], [0]
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == module:
                        break
                if len(group) > 1:
                    cycles.append(sorted(group))
    return cycles


def test_no_module_imports_a_layer_above_its_own():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_the_layer_contract_catches_an_upward_import(tmp_path):
    """The contract bites: the orbit layer importing the network (a layer above it) breaks it."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    fleet = tmp_path / "twin" / "orbit" / "fleet.py"
    fleet.write_text(fleet.read_text() + "\nfrom twin.network import routing  # noqa: E402,F401\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "twin.orbit.fleet -> twin.network.routing" in result.stdout


def test_there_is_no_import_circle():
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    assert import_cycles(graph) == []


def test_the_cycle_finder_finds_a_circle():
    graph = grimp.ImportGraph()
    for module in ("a", "b", "c", "d"):
        graph.add_module(module)
    graph.add_import(importer="a", imported="b")
    graph.add_import(importer="b", imported="c")
    graph.add_import(importer="c", imported="a")
    graph.add_import(importer="c", imported="d")
    assert import_cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", ["twin.orbit", "twin.subsystems", "twin.network", "twin.scenario", "twin.dataset"])
def test_the_core_never_imports_the_dashboard_or_the_3d_view(module):
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    reached = graph.find_upstream_modules(module, as_package=True)  # what it imports, directly or not
    assert not {name for name in reached if name.split(".")[0] in ("viz", "apps")}
