"""Writing files safely: a file is either its old self or completely new, never half written.

Used wherever the course writes a file; ``notebooks/07_training_hifigan.ipynb`` says why checkpoints need it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
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
    """Yield an empty sibling folder ``<path>.partial`` to build in; it replaces ``path`` only if the block
    succeeds, so a failed or interrupted build never leaves half a folder behind (or loses the old one).
    Callers decide beforehand whether ``path`` may be replaced."""
    partial = path.with_name(path.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    yield partial
    if path.exists():
        shutil.rmtree(path)
    partial.replace(path)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
