"""Writing files safely: a file is either its old self or completely new, never half written.

Used wherever the course writes a file; ``notebooks/07_training_hifigan.ipynb`` says why checkpoints need it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; it replaces ``path`` only if the block succeeds.

    The temporary name keeps the suffix (writers that pick a format by suffix still work) and
    carries the process id (parallel writers never share one). The new bytes are flushed to disk
    before they take the name, so even a power cut leaves the old file or the complete new one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.part{path.suffix}")
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Yield a new, empty, hidden sibling folder to build in; it takes ``path``'s name only if the block succeeds.

    On success an existing ``path`` is first renamed aside, then the new folder takes its name, then
    the old one is deleted: an interruption leaves the old folder or the new one under ``path``
    (and at worst a hidden ``.<name>.*`` sibling), never half of either. On failure the new folder
    is deleted and ``path`` is untouched. The temporary names are unique, so no existing folder is
    ever deleted but ``path`` itself: callers decide beforehand whether it may be replaced.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
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
