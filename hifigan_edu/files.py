"""Writing files safely: a file is either its old self or completely new, never half written.

Used wherever the course writes a file; ``notebooks/07_training_hifigan.ipynb`` says why checkpoints need it.
A write that the disk refuses (full, read-only, no permission) raises :class:`CannotWrite`, whose
message names the path and the reason, instead of the writer's own error.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository: data/, notebooks/, build/ (the one place that computes it)
MIN_FREE = 1 << 16  # bytes: a disk with less free space than this (64 KiB) counts as full


class CannotWrite(OSError):
    """The disk refused a write; the message names the path, says why and what to do."""


def why_not_writable(folder: Path, err: BaseException | None = None) -> str | None:
    """Why files cannot be written in the existing ``folder`` (or why ``err``, raised by a write there,
    happened): a read-only disk, no permission, a full disk; None if none of these holds."""
    code = getattr(err, "errno", None)
    read_only = hasattr(os, "statvfs") and os.statvfs(folder).f_flag & os.ST_RDONLY  # POSIX
    free = shutil.disk_usage(folder).free
    if code == errno.EROFS or read_only:
        return "its disk is mounted read-only; choose a folder on another disk"
    if code in (errno.EACCES, errno.EPERM) or not os.access(folder, os.W_OK | os.X_OK):
        return f"no permission to write in {folder}; choose a folder of your own"
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or (err is not None and free < MIN_FREE):
        return f"no space left on its disk ({free / 1e6:.2f} MB free); free some space or choose another disk"
    return None


def require_file(path: Path, what: str, missing: str, refuse: type[ValueError] = ValueError) -> None:
    """Raise unless ``path`` is a regular file: FileNotFoundError(``missing``) if nothing is there,
    ``refuse`` saying what is there instead of ``what`` ("an audio file"): a folder, a device, a pipe."""
    if path.is_file():
        return
    if not path.exists():
        raise FileNotFoundError(missing)
    mode = path.stat().st_mode
    kind = ("a folder" if stat.S_ISDIR(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")  # fmt: skip
    inside = "; give the path of one inside it" if stat.S_ISDIR(mode) else ""
    raise refuse(f"{path} is {kind}, not {what}{inside}.")


# Linux's inode flags (linux/fs.h): files that no one, not even their owner or root, may replace
_FS_IOC_GETFLAGS, _LOCKS = 0x80086601, {0x10: ("immutable", "i"), 0x20: ("append-only", "a")}  # flag: (name, chattr letter)


def why_not_replaceable(path: Path) -> str | None:
    """Why the existing file ``path`` cannot be replaced though its folder is writable: it is marked
    immutable or append-only (Linux; elsewhere, and for a file that is not there, None)."""
    try:
        import fcntl

        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)  # a link is replaced, not what it points to
    except (ImportError, OSError):
        return None
    try:
        flags = int.from_bytes(fcntl.ioctl(fd, _FS_IOC_GETFLAGS, bytes(8))[:4], sys.byteorder)  # the kernel writes an int
    except OSError:  # a file system without these flags
        return None
    finally:
        os.close(fd)
    for bit, (name, letter) in _LOCKS.items():
        if flags & bit:
            return (f"the file {path} is marked {name} (chattr +{letter}), so nobody may replace it; choose another "
                    f"output path, or unmark it with `chattr -{letter} {path}`")
    return None


def make_dir(path: Path) -> Path:
    """``mkdir -p path``, or :class:`CannotWrite` saying which part of it is in the way or why the disk refuses."""
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise CannotWrite(f"cannot write in {path}: {part} is a file, not a folder; choose another path.")
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        existing = next(p for p in path.parents if p.exists())
        raise CannotWrite(f"cannot make the folder {path}: {why_not_writable(existing, err) or err}") from err
    return path


def check_can_write(path: Path, size: int = 0) -> None:
    """Raise :class:`CannotWrite` now, before any long computation, unless a file of about ``size``
    bytes can be written at ``path``: its folder can be made, is writable and has the space, and
    ``path`` is not a folder."""
    if path.is_dir():
        raise CannotWrite(f"cannot write {path}: it is a folder; give a file name inside it.")
    folder = make_dir(path.parent)
    reason = why_not_writable(folder) or (why_not_replaceable(path) if path.is_file() else None)
    free = shutil.disk_usage(folder).free
    if reason is None and free < size + MIN_FREE:
        needs = f"it needs {size / 1e6:.2f} MB" if size else "too little to write anything safely"
        reason = f"its disk has {free / 1e6:.2f} MB free, {needs} ({MIN_FREE >> 10} KiB kept spare); free some space or choose another disk"
    if reason:
        raise CannotWrite(f"cannot write {path}: {reason}")


def remove_leftovers(path: Path) -> list[Path]:
    """Delete the temporary siblings of ``path`` that :func:`atomic_path` left behind in processes that
    were killed while writing (those whose process id no longer runs; on Linux and macOS, not on
    Windows, where no process is asked); returns what was deleted."""
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.stem)}.*.part{glob.escape(path.suffix)}"):
        pid = tmp.name[len(path.stem) + 2 : -len(f".part{path.suffix}")]
        if pid.isdigit() and not _running(int(pid)):
            with suppress(FileNotFoundError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def _running(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would end the process there: keep every leftover
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; it replaces ``path`` only if the block succeeds.

    The temporary name keeps the suffix (writers that pick a format by suffix still work) and
    carries the process id (parallel writers never share one; the leftovers of a killed writer are
    deleted by the next write to ``path``). The new bytes are flushed to disk before they take the
    name, so even a power cut leaves the old file or the complete new one.

    Raises:
        CannotWrite: the disk refuses the write (full, read-only, no permission; see
            :func:`check_can_write`), or ``path`` is a folder or lies under a file; the old ``path`` is untouched.
    """
    check_can_write(path)
    remove_leftovers(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.part{path.suffix}")
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as err:
        # a full disk reaches torch.save as a RuntimeError ("iostream error"), soundfile as LibsndfileError:
        # ask why while the partial file still fills the disk
        reason = None
        if isinstance(err, (OSError, RuntimeError)) and not isinstance(err, CannotWrite):
            with suppress(OSError):
                locked = getattr(err, "errno", None) == errno.EPERM and why_not_replaceable(path)
                reason = locked or why_not_writable(path.parent, err)
        with suppress(OSError):  # a failing clean-up must not hide the error that matters
            tmp.unlink(missing_ok=True)
        if reason:
            raise CannotWrite(f"cannot write {path}: {reason}") from err
        raise


@contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Yield a new, empty, hidden sibling folder to build in; it takes ``path``'s name only if the block succeeds.

    On success an existing ``path`` is first renamed aside, then the new folder takes its name, then
    the old one is deleted: an interruption leaves the old folder or the new one under ``path``
    (and at worst a hidden ``.<name>.*`` sibling), never half of either. On failure the new folder
    is deleted and ``path`` is untouched. The temporary names are unique, so no existing folder is
    ever deleted but ``path`` itself: callers decide beforehand whether it may be replaced.
    """
    make_dir(path.parent)
    partial = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        yield partial
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    if path.exists():
        path.replace(old / path.name)
    partial.replace(path)
    shutil.rmtree(old)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
