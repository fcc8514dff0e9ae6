"""``./bootstrap.sh``, the README's first command, installs what the suite needs beside Python on a fresh Debian
machine: Mesa's EGL and Chromium, with apt, through sudo when not root, and only what is missing.

The script runs from a copy in a temporary folder with stand-ins first on the PATH: ``dpkg`` says every package
is missing (or installed), ``apt-get`` and ``sudo`` record their calls, ``id`` gives the user, and the Python
found stops the script at the virtualenv, so nothing is installed for real.
"""

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _stand_in(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)


def _bootstrap(tmp_path: Path, uid: int, installed: bool) -> list[str]:
    """The apt-get and sudo calls bootstrap.sh makes before it creates the virtualenv, one line each."""
    shutil.copy(ROOT / "bootstrap.sh", tmp_path / "bootstrap.sh")
    bin_dir, log = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    _stand_in(bin_dir, "dpkg", "exit 0" if installed else "exit 1")
    _stand_in(bin_dir, "apt-get", f'echo "apt-get $*" >> {log}')
    _stand_in(bin_dir, "sudo", f'echo "sudo $*" >> {log}; exec "$@"')
    _stand_in(bin_dir, "id", f"echo {uid}")
    # Python 3.11 or newer for the check, and a failure at 'python -m venv': the script stops there.
    _stand_in(bin_dir, "python3", 'case "$1" in -c) exit 0;; *) exit 3;; esac')
    environment = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    environment.pop("PYTHON", None)
    done = subprocess.run(["bash", str(tmp_path / "bootstrap.sh")], env=environment, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 3, done.stderr  # stopped at the virtualenv, past the system packages
    return log.read_text().splitlines() if log.exists() else []


def test_bootstrap_installs_mesa_egl_and_chromium_when_missing(tmp_path):
    installs = [call for call in _bootstrap(tmp_path, uid=0, installed=False) if " install " in call]
    assert any(call.endswith("libegl1 libegl-mesa0 libgl1-mesa-dri") for call in installs), installs
    assert any(call.endswith(" chromium") for call in installs), installs
    assert not any(call.startswith("sudo") for call in installs), "root needs no sudo"


def test_bootstrap_uses_sudo_when_not_root(tmp_path):
    calls = _bootstrap(tmp_path, uid=1000, installed=False)
    assert any(call.startswith("sudo env DEBIAN_FRONTEND=noninteractive apt-get install") and call.endswith(" chromium")
               for call in calls), calls


def test_bootstrap_installs_nothing_already_there(tmp_path):
    assert _bootstrap(tmp_path, uid=0, installed=True) == []
