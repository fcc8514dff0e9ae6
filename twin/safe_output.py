"""Writing an output without destroying anything: every file or store the twin writes goes through here.

The rules, for ``twin simulate --out``, ``twin demo``, ``twin render --out``, ``twin telemetry assess
--out``, ``twin telemetry generate --out``, :func:`twin.save` and the 3D writers of :mod:`viz.export`:

* Nothing at the path: it is written.
* Something there that is not this kind of output (a folder of the user's files, a measurement
  store, a device such as ``/dev/full``, a symbolic link): refused, nothing touched.
* An output of the same kind (a twin run for a run, a regular file for an image or a recording):
  replaced only when asked (``overwrite``, ``--overwrite``).
* The output is written to a hidden sibling, ``.NAME.twin-partial-PID-TOKEN.SUFFIX``, and renamed to
  ``NAME`` once complete. A directory replaces the old one in one step (Linux ``renameat2`` with
  ``RENAME_EXCHANGE``), then the old one is deleted; a file replaces the old one with ``rename``. So
  a failed or killed write never leaves a part of a run under the user's name: ``NAME`` holds the
  old output or the new one. Any failure removes the partial; a killed writer's partial (or an old
  run set aside, ``.NAME.twin-replaced-...``, where the exchange is not available) is removed, or
  put back, by the next write to ``NAME``.
* A failure of the disk (full, read-only, a file-size limit) is one :class:`OutputError` naming the
  path and the cause.

Durability is against a killed process, not a power cut (nothing is ``fsync``-ed).
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PARTIAL = "twin-partial"    # an output being written
REPLACED = "twin-replaced"  # an old output set aside while the new one is renamed in (no RENAME_EXCHANGE)
DEFINITE_CAUSES = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}  # an OSError that names the cause itself
PROBE_BYTES = 1 << 20  # written beside a failed output to find the cause a library did not name (netCDF)

# renameat2(2) flags, <linux/fs.h>; AT_FDCWD from <fcntl.h>.
RENAME_NOREPLACE, RENAME_EXCHANGE, AT_FDCWD = 1, 2, -100


class OutputError(ValueError):
    """An output that may not be written, or could not be: one line naming the path and the cause."""


@dataclass(frozen=True)
class OutputKind:
    """What an output is (``what``, for messages) and how an existing one of that kind is recognised."""

    what: str
    recognise: Callable[[Path], bool]


FILE = OutputKind("a regular file", Path.is_file)


def check_target(path: str | Path, kind: OutputKind, overwrite: bool) -> None:
    """Raise :class:`OutputError` if ``path`` holds something that may not be replaced by a ``kind`` output.

    Leftovers of killed writers to ``path`` are cleaned first (an old run set aside is put back).
    """
    path = Path(path)
    if path.parent.is_dir():
        _clean_leftovers(path)
    if not os.path.lexists(path):
        return
    if path.is_symlink() or not kind.recognise(path):
        raise OutputError(f"out: {str(path)!r} exists and is not {kind.what}; nothing was written")
    if not overwrite:
        raise OutputError(f"out: {str(path)!r} already holds {kind.what}; --overwrite replaces it")


@contextmanager
def written_into_place(path: str | Path, kind: OutputKind, overwrite: bool) -> Iterator[Path]:
    """The temporary sibling to write a ``kind`` output to; renamed to ``path`` when the block ends without error.

    Checked with :func:`check_target` before and again just before the rename; on any failure the
    sibling is removed, and an ``OSError`` of the file system (one with an ``errno``, not a lost
    connection) becomes an :class:`OutputError` naming ``path`` and the cause.
    """
    path = Path(path)
    check_target(path, kind, overwrite)
    partial = _sibling(path, PARTIAL)
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # a file where the folder should be: say so, not "File exists"
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent)) from None
        yield partial
        check_target(path, kind, overwrite)  # something may have appeared there while writing
        _put_in_place(partial, path)
    except BaseException as error:
        _remove(partial)
        if isinstance(error, OSError) and error.errno is not None and not isinstance(error, ConnectionError):
            raise OutputError(f"out: cannot write {str(path)!r}: {_cause(error, path.parent)}") from None
        raise  # not the disk's: a bug, an interrupt, a lost connection to a worker


def put_in_place(partial: str | Path, path: str | Path, kind: OutputKind, overwrite: bool) -> None:
    """Rename the complete output ``partial`` (written by its writer, resumable, at a name it chose beside ``path``)
    to ``path`` under the rules above; an ``OSError`` of the file system becomes an :class:`OutputError`."""
    path = Path(path)
    check_target(path, kind, overwrite)
    try:
        _put_in_place(Path(partial), path)
    except OSError as error:
        raise OutputError(f"out: cannot write {str(path)!r}: {_cause(error, path.parent)}") from None


def _sibling(path: Path, tag: str) -> Path:
    """A hidden sibling of ``path`` that says whose it is: ``.NAME.TAG-PID-TOKEN.SUFFIX`` (the suffix kept for
    writers that choose a format by it)."""
    return path.with_name(f".{path.name}.{tag}-{os.getpid()}-{secrets.token_hex(3)}{path.suffix}")


def process_start(pid: int) -> str:
    """When process ``pid`` of this machine started, as ``BOOT_ID:TICKS`` (Linux: the boot's id and the start
    in clock ticks since boot), so a process number taken again later, or after a reboot, is told apart;
    "" where the system does not say (the process number alone then stands for the process)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"  # field 22, after the command's name


def process_alive(pid: int, started: str = "") -> bool:
    """Whether process ``pid`` of this machine still runs (a writer, a server, a command's sender); with
    ``started`` (:func:`process_start` of it then), whether it is still the same process."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        pass
    return not started or process_start(pid) in ("", started)


def _clean_leftovers(path: Path) -> None:
    """Remove the partials of killed writers to ``path``; put back an old output they had set aside if ``path`` is empty."""
    name = re.compile(rf"\.{re.escape(path.name)}\.({PARTIAL}|{REPLACED})-(\d+)-[0-9a-f]+{re.escape(path.suffix)}")
    try:
        siblings = list(path.parent.iterdir())
    except OSError:  # a folder that cannot be listed: the write itself will say why if it fails
        return
    for leftover in siblings:
        match = name.fullmatch(leftover.name)
        if match is None or process_alive(int(match[2])):
            continue
        tag = match[1]
        if tag == REPLACED and not os.path.lexists(path):
            try:
                os.rename(leftover, path)
            except OSError:  # a read-only directory: leave it for a write that can
                pass
        else:
            _remove(leftover)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def _renameat2(source: Path, target: Path, flags: int) -> bool:
    """``renameat2(source, target, flags)``; False where the system or the file system does not have it."""
    function = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if function is None:
        return False
    if function(AT_FDCWD, os.fsencode(source), AT_FDCWD, os.fsencode(target), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(target))


def _put_in_place(partial: Path, path: Path) -> None:
    """Rename the complete ``partial`` to ``path``: ``path`` holds the old output or the new one at every moment."""
    if not os.path.lexists(path):
        if not _renameat2(partial, path, RENAME_NOREPLACE):
            os.rename(partial, path)
    elif not partial.is_dir():
        os.replace(partial, path)
    elif _renameat2(partial, path, RENAME_EXCHANGE):
        _remove(partial)  # the old output, now under the partial's name
    else:
        aside = _sibling(path, REPLACED)
        os.rename(path, aside)
        os.rename(partial, path)
        _remove(aside)


def _cause(error: OSError, directory: Path) -> str:
    """Why a write failed: the error's own words, or those of a probe write beside it when a library's error
    does not say (netCDF reports a full disk as 'Permission denied')."""
    if error.errno not in DEFINITE_CAUSES and directory.is_dir():
        probe = _sibling(directory / "probe", PARTIAL)
        try:
            with open(probe, "wb") as handle:
                handle.write(bytes(PROBE_BYTES))
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as probed:
            if probed.errno in DEFINITE_CAUSES:
                return probed.strerror
        finally:
            _remove(probe)
    return error.strerror or str(error)
