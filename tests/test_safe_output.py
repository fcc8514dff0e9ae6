"""No writer destroys data (twin.safe_output): a path holding something else is refused, a twin run is
replaced only with --overwrite, and a write that fails or is killed leaves what was there before, with
the failure in one line naming the path and the cause."""

from __future__ import annotations

import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import xarray as xr

from twin import safe_output
from twin.cli import main
from twin.dataset import open_run, save
from twin.safe_output import OutputError
from twin.telemetry.store import MeasurementStore

SIMULATE = ["simulate", "phase1", "--duration", "1h", "--quiet"]


def twin_process(*args, preexec_fn=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "twin", *args], capture_output=True, text=True, timeout=300,
                          preexec_fn=preexec_fn, cwd=cwd)


def one_error_line(stderr: str) -> str:
    """The only line of ``stderr`` (after the scenario line), which must be a twin error, not a traceback."""
    lines = [line for line in stderr.splitlines() if not line.startswith("phase1: ")]
    assert len(lines) == 1 and lines[0].startswith("twin: error: "), stderr
    return lines[0]


def hidden_leftovers(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir() if path.name.startswith("."))


@pytest.fixture(scope="module")
def short_run(phase1_run):
    return phase1_run.isel(time=slice(0, 31))


@pytest.mark.parametrize("make, suffix", [
    (lambda path: (path.mkdir(), (path / "notes.txt").write_text("my thesis")), ".zarr"),
    (lambda path: MeasurementStore(path), ".zarr"),
    (lambda path: path.write_text("my thesis"), ".nc"),
    (lambda path: path.symlink_to(path.parent / "elsewhere"), ".zarr"),
])
def test_simulate_refuses_a_path_that_is_not_a_twin_run(tmp_path, capsys, make, suffix):
    out = tmp_path / f"mine{suffix}"
    make(out)
    before = sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*"))
    for overwrite in ([], ["--overwrite"]):
        assert main([*SIMULATE, "--out", str(out), *overwrite]) == 2
        line = one_error_line(capsys.readouterr().err)
        assert line == f"twin: error: --out: {str(out)!r} exists and is not a twin run; nothing was written"
    assert sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*")) == before


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_a_twin_run_is_replaced_only_with_overwrite(tmp_path, capsys, short_run, suffix):
    out = save(short_run, tmp_path / f"run{suffix}")
    assert main([*SIMULATE, "--out", str(out)]) == 2
    assert one_error_line(capsys.readouterr().err) == \
        f"twin: error: --out: {str(out)!r} already holds a twin run; --overwrite replaces it"
    xr.testing.assert_identical(open_run(out).load(), short_run)
    assert main([*SIMULATE, "--out", str(out), "--overwrite"]) == 0
    assert open_run(out).sizes["time"] == 61
    assert hidden_leftovers(tmp_path) == []
    with pytest.raises(OutputError, match="already holds a twin run"):
        save(short_run, out)
    save(short_run, out, overwrite=True)
    xr.testing.assert_identical(open_run(out).load(), short_run)


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_a_write_that_fails_midway_leaves_the_old_run_and_no_partial(tmp_path, short_run, monkeypatch, suffix):
    out = save(short_run, tmp_path / f"run{suffix}")
    method = "to_zarr" if suffix == ".zarr" else "to_netcdf"
    write = getattr(xr.Dataset, method)

    def write_then_fail(dataset, path, *args, **kwargs):
        write(dataset.isel(time=slice(0, 5)), path, *args, **kwargs)  # a part of the run is on disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(xr.Dataset, method, write_then_fail)
    with pytest.raises(OutputError) as raised:
        save(short_run.isel(time=slice(0, 3)), out, overwrite=True)
    assert str(raised.value) == f"out: cannot write {str(out)!r}: No space left on device"
    with pytest.raises(OutputError):
        save(short_run, tmp_path / f"new{suffix}")
    monkeypatch.undo()
    xr.testing.assert_identical(open_run(out).load(), short_run)
    assert not (tmp_path / f"new{suffix}").exists()
    assert hidden_leftovers(tmp_path) == []


def test_an_interrupted_write_leaves_the_old_run(tmp_path, short_run, monkeypatch):
    out = save(short_run, tmp_path / "run.zarr")

    def interrupted(dataset, path, *args, **kwargs):
        Path(path).mkdir()
        raise KeyboardInterrupt

    monkeypatch.setattr(xr.Dataset, "to_zarr", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(short_run, out, overwrite=True)
    monkeypatch.undo()
    xr.testing.assert_identical(open_run(out).load(), short_run)
    assert hidden_leftovers(tmp_path) == []


KILLED_WRITER = """
import os, signal, sys
import zarr.storage
import twin

set_chunk, writes = zarr.storage.LocalStore.set, []


async def set_then_die(self, key, value):
    writes.append(key)
    if len(writes) == 40:  # part of the chunks are on disk: killed as a power cut or the OOM killer would
        os.kill(os.getpid(), signal.SIGKILL)
    return await set_chunk(self, key, value)


zarr.storage.LocalStore.set = set_then_die
run = twin.run_scenario(twin.load_scenario("phase1"), duration_s=3600, step_s=60)
twin.save(run, sys.argv[1], overwrite=True)
"""


def test_a_killed_write_leaves_the_old_run_and_the_next_write_cleans_up(tmp_path, short_run):
    out = save(short_run, tmp_path / "run.zarr")
    killed = subprocess.run([sys.executable, "-c", KILLED_WRITER, str(out)], capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    xr.testing.assert_identical(open_run(out).load(), short_run)
    [leftover] = hidden_leftovers(tmp_path)
    assert leftover.startswith(".run.zarr.twin-partial-")
    save(short_run.isel(time=slice(0, 3)), out, overwrite=True)
    assert open_run(out).sizes["time"] == 3 and hidden_leftovers(tmp_path) == []


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_without_an_atomic_exchange_the_old_run_is_set_aside_and_put_back_after_a_crash(tmp_path, short_run,
                                                                                          monkeypatch):
    out = save(short_run, tmp_path / "run.zarr")
    monkeypatch.setattr(safe_output, "_renameat2", lambda source, target, flags: False)  # e.g. not Linux
    save(short_run.isel(time=slice(0, 3)), out, overwrite=True)
    assert open_run(out).sizes["time"] == 3 and hidden_leftovers(tmp_path) == []
    # A writer killed between its two renames: the old run set aside, nothing under the name.
    aside = tmp_path / f".run.zarr.{safe_output.REPLACED}-{dead_pid()}-abcdef.zarr"
    out.rename(aside)
    with pytest.raises(OutputError, match="already holds a twin run"):  # the next write puts it back first
        save(short_run, out)
    assert open_run(out).sizes["time"] == 3 and hidden_leftovers(tmp_path) == []


def limit_file_size(limit_bytes: int):
    """For a child process: files may not grow past ``limit_bytes``; writing past it fails with EFBIG
    (SIGXFSZ ignored) as on a quota or a full disk."""
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return limit


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_a_file_size_limit_is_one_line_and_leaves_nothing(tmp_path, suffix):
    out = tmp_path / f"run{suffix}"
    result = twin_process(*SIMULATE, "--out", str(out), preexec_fn=limit_file_size(20_000))
    assert result.returncode == 2
    assert one_error_line(result.stderr) == f"twin: error: --out: cannot write {str(out)!r}: File too large"
    assert list(tmp_path.iterdir()) == []


def small_file_system(tmp_path: Path, options: str, command: list[str]) -> subprocess.CompletedProcess:
    """Run ``command`` with a 64 kB tmpfs mounted (``options``) at ``tmp_path / "disk"``, in a user and
    mount namespace of its own (no root needed); skips if this system allows none."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1)")
    script = f'mount -t tmpfs -o size=64k,{options} tmpfs "$0" || exit 77; exec "$@"'
    result = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, str(disk),
                             *command], capture_output=True, text=True, timeout=300)
    if result.returncode == 77 or "unshare failed" in result.stderr:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip()}")
    return result


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, suffix):
    out = tmp_path / "disk" / f"run{suffix}"
    result = small_file_system(tmp_path, "rw", [sys.executable, "-m", "twin", *SIMULATE, "--out", str(out)])
    assert result.returncode == 2
    # netCDF says 'Permission denied' of a full disk: the cause is found by a probe write beside it
    assert one_error_line(result.stderr) == f"twin: error: --out: cannot write {str(out)!r}: No space left on device"


def test_a_read_only_disk_is_one_line(tmp_path):
    out = tmp_path / "disk" / "run.zarr"
    result = small_file_system(tmp_path, "ro", [sys.executable, "-m", "twin", *SIMULATE, "--out", str(out)])
    assert result.returncode == 2
    assert one_error_line(result.stderr) == f"twin: error: --out: cannot write {str(out)!r}: Read-only file system"


def test_an_output_under_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / "file" / "run.zarr"
    assert main([*SIMULATE, "--out", str(out)]) == 2
    assert one_error_line(capsys.readouterr().err) == f"twin: error: --out: cannot write {str(out)!r}: Not a directory"


def test_telemetry_outputs_follow_the_same_rules(tmp_path, capsys):
    recording = tmp_path / "fleet.tm"
    recording.write_bytes(b"yesterday's packets")
    generate = ["telemetry", "generate", "phase1", "--duration", "10min", "--out"]
    assert main([*generate, str(recording)]) == 2
    assert one_error_line(capsys.readouterr().err) == \
        f"twin: error: --out: {str(recording)!r} already holds a regular file; --overwrite replaces it"
    assert main([*generate, "/dev/full", "--overwrite"]) == 2
    assert one_error_line(capsys.readouterr().err) == \
        "twin: error: --out: '/dev/full' exists and is not a regular file; nothing was written"
    limited = twin_process(*generate, str(recording), "--overwrite", preexec_fn=limit_file_size(20_000))
    assert one_error_line(limited.stderr) == f"twin: error: --out: cannot write {str(recording)!r}: File too large"
    assert recording.read_bytes() == b"yesterday's packets" and hidden_leftovers(tmp_path) == []
    assert main([*generate, str(recording), "--overwrite"]) == 0
    assert recording.read_bytes() != b"yesterday's packets" and (tmp_path / "fleet.tm.json").is_file()
    mine = tmp_path / "mine.zarr"
    mine.mkdir()
    assert main(["telemetry", "assess", "phase1", "--store", str(tmp_path / "tm.zarr"), "--out", str(mine)]) == 2
    assert one_error_line(capsys.readouterr().err) == \
        f"twin: error: --out: {str(mine)!r} exists and is not a twin run; nothing was written"
    assert not (tmp_path / "tm.zarr").exists()  # refused before the store was opened


def test_the_dashboard_does_not_list_a_run_being_written(tmp_path, short_run):
    from apps.runs import Catalogue

    save(short_run, tmp_path / "done.zarr")
    (tmp_path / f".next.zarr.{safe_output.PARTIAL}-{os.getpid()}-abcdef.zarr").mkdir()
    catalogue = Catalogue(tmp_path)
    try:
        assert [key for key in catalogue.sources().values() if key.startswith("run:")] == ["run:done.zarr"]
    finally:
        catalogue.shutdown()


def test_render_follows_the_same_rules(tmp_path, short_run, capsys):
    pytest.importorskip("pyvista")
    run = save(short_run, tmp_path / "run.zarr")
    view = tmp_path / "view.png"
    view.write_bytes(b"my holiday photo")
    render = ["render", str(run), "--size", "160x120", "--out", str(view)]
    assert main(render) == 2
    assert one_error_line(capsys.readouterr().err) == \
        f"twin: error: --out: {str(view)!r} already holds a regular file; --overwrite replaces it"
    assert view.read_bytes() == b"my holiday photo"
    assert main([*render, "--overwrite"]) == 0
    assert view.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = tmp_path / "view.html"
    result = twin_process(*render[:-1], str(page), preexec_fn=limit_file_size(200_000))  # a page is ~10 MB
    assert result.returncode == 2
    assert one_error_line(result.stderr) == f"twin: error: --out: cannot write {str(page)!r}: File too large"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["run.zarr", "view.png"]
