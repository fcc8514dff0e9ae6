"""The wheel works outside the checkout: it carries its scenarios, telemetry definitions and textures.

The wheel is built from the source tree, installed (without dependencies) into a fresh virtual
environment in a temporary folder, and run from there; the dependencies come from this
environment's site-packages on ``PYTHONPATH`` (which does not read its ``.pth`` files, so the
editable install of the checkout stays out of sight).
"""

import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parent.parent
SOURCE_PACKAGES = ("twin", "viz", "apps", "assets")


def test_the_listed_packages_are_every_package_of_the_source_tree():
    """pyproject lists its packages (so that assets/ can ship as twin._assets): none may be forgotten."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = set(find_packages(str(ROOT), include=["twin*", "viz*", "apps*"]))
    data_folders = {f"twin._assets.{folder.name}" for folder in (ROOT / "assets").iterdir()
                    if folder.is_dir() and folder.name != "__pycache__"}
    assert listed == found | {"twin._assets"} | data_folders


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh environment holding only the wheel, and the environment variables to run it with."""
    folder = tmp_path_factory.mktemp("wheel")
    source = folder / "source"  # a copy, so that no build/ folder of an earlier build (with files since removed) is used
    for package in SOURCE_PACKAGES:
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(folder / "dist"),
                            str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    assert "is absent from the `packages` configuration" not in built.stderr, built.stderr[-3000:]  # nothing left out
    [wheel] = (folder / "dist").glob("orbital_dc_twin-*.whl")
    venv.create(folder / "env", with_pip=True)
    python = folder / "env" / "bin" / "python"
    done = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--quiet", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    environment = {"PATH": f"{folder / 'env' / 'bin'}:/usr/bin:/bin", "HOME": str(folder),
                   "PYTHONPATH": sysconfig.get_paths()["purelib"], "MPLBACKEND": "Agg"}
    return folder, python, environment


def run_installed(installed, *command: str) -> subprocess.CompletedProcess:
    folder, _, environment = installed
    work = folder / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run(command, cwd=work, env=environment, capture_output=True, text=True, timeout=900)


@pytest.mark.slow
def test_the_installed_twin_is_the_wheels_not_the_checkouts(installed):
    folder, python, _ = installed
    result = run_installed(installed, str(python), "-c", "import twin, twin.assets; print(twin.__file__); "
                           "print(twin.assets.asset_path('scenarios'))")
    assert result.returncode == 0, result.stderr[-3000:]
    module, scenarios = result.stdout.split()
    assert Path(module).is_relative_to(folder / "env") and not Path(module).is_relative_to(ROOT)
    assert Path(scenarios) == Path(module).parent / "_assets" / "scenarios"


@pytest.mark.slow
def test_twin_scenarios_version_and_a_short_simulate_run_from_the_wheel(installed):
    from twin.version import __version__

    assert run_installed(installed, "twin", "--version").stdout.strip() == f"twin {__version__}"
    listed = run_installed(installed, "twin", "scenarios")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert [line.split()[0] for line in listed.stdout.splitlines()] == ["lifecycle", "phase1", "phase2", "phase3"]
    simulated = run_installed(installed, "twin", "simulate", "phase1", "--duration", "2h", "--step", "120s",
                              "--network", "--out", "run.zarr", "--quiet")
    assert simulated.returncode == 0, simulated.stderr[-3000:]
    assert "wrote run.zarr (25 satellites x 61 steps)" in simulated.stdout
    assert "generated" in simulated.stdout


@pytest.mark.slow
def test_the_wheel_carries_the_telemetry_definitions_and_the_earth_texture(installed):
    _, python, _ = installed
    result = run_installed(installed, str(python), "-c",
                           "from twin.telemetry.packets import layouts_by_name; from viz.scene import TEXTURE_PATH; "
                           "print(sorted(layouts_by_name()), TEXTURE_PATH.stat().st_size > 100_000)")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "['command_report', 'compute', 'gnss', 'power', 'thermal'] True"

