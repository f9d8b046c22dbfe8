"""Profiles, device, seeding and threads: the one place that decides how the course runs.

Taught in ``notebooks/00_the_problem_and_the_data.ipynb`` (first cell of every notebook).

Two profiles, chosen by the environment variable ``HIFIGAN_EDU_PROFILE``:

* ``ci``   -- tiny models and short runs that execute on 2 CPU cores. Outputs committed
  in the notebooks are recorded in this profile.
* ``full`` -- the paper-scale configuration, meant for a CUDA GPU.

Without the variable the profile is ``full`` when CUDA is available and ``ci`` otherwise.
``HIFIGAN_EDU_THREADS`` sets torch's CPU thread count (default: all cores).
``HIFIGAN_EDU_TRAIN_MINUTES`` sets how long one execution of a full-profile training cell
(notebooks 07 and 08) trains before it stops, checkpointed, to be resumed by the next one
(default 60). ``HIFIGAN_EDU_KEEP_MEMORY=0`` leaves glibc's allocator as it is (:func:`keep_freed_memory`).
"""

from __future__ import annotations

import ctypes
import math
import os
import random
from dataclasses import dataclass

import numpy as np
import torch

PROFILES = ("ci", "full")
PROFILE_ENV = "HIFIGAN_EDU_PROFILE"
THREADS_ENV = "HIFIGAN_EDU_THREADS"
MINUTES_ENV = "HIFIGAN_EDU_TRAIN_MINUTES"
KEEP_MEMORY_ENV = "HIFIGAN_EDU_KEEP_MEMORY"


class SettingError(ValueError):
    """An environment variable of the course holds a value it cannot use (the message says what to set)."""


def get_profile() -> str:
    """The active profile, ``"ci"`` or ``"full"``.

    Raises:
        SettingError: ``HIFIGAN_EDU_PROFILE`` holds something else.
    """
    value = os.environ.get(PROFILE_ENV, "").strip().lower()
    if not value:
        return "full" if torch.cuda.is_available() else "ci"
    if value not in PROFILES:
        raise SettingError(
            f"{PROFILE_ENV}={value!r} is not a profile; set it to one of {', '.join(PROFILES)} "
            f"(or unset it to choose 'full' with CUDA and 'ci' without)."
        )
    return value


def get_device() -> torch.device:
    """``cuda`` when available, else ``cpu``."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op CPU threads to ``n`` (default ``HIFIGAN_EDU_THREADS``, else the cores this process may
    use, shared among the processes ``torchrun`` starts on this machine).

    Raises:
        SettingError: ``HIFIGAN_EDU_THREADS`` or ``n`` is not a whole number >= 1.
    """
    if n is None:
        usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # Linux / others
        usable = max(1, usable // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))  # torchrun's processes on this machine
        value = os.environ.get(THREADS_ENV, str(usable))
        if not value.strip().isdigit():
            raise SettingError(f"{THREADS_ENV}={value!r} is not a whole number; set it to e.g. 2 or unset it.")
        n = int(value)
    if n < 1:
        raise SettingError(f"thread count must be >= 1, got {n}; fix {THREADS_ENV}.")
    torch.set_num_threads(n)
    return n


def keep_freed_memory() -> bool:
    """Let glibc keep the memory that freed tensors leave, for the next tensor (Linux; elsewhere a no-op).

    By default glibc serves every block of 32 MB or more with a fresh ``mmap`` and hands it back to
    the system when freed, so the next tensor of that size page-faults on each of its 4 KiB pages
    again, as the ``cpu`` WaveNet's 256-channel activations (64 MB each) did at every training step.
    With ``mmap`` off (``M_MMAP_MAX`` 0) and the heap trimmed only past 2 GiB of free space
    (``M_TRIM_THRESHOLD``), the process keeps its peak memory and reuses it: the same numbers,
    computed sooner (1.13-1.23x for the ``cpu`` config on 2 cores, ``docs/benchmarks.md``, "Side by
    side"). ``HIFIGAN_EDU_KEEP_MEMORY=0`` keeps glibc's defaults
    (``scripts/gpu_check.py --compare`` times both). Returns whether glibc took the settings.
    """
    if os.environ.get(KEEP_MEMORY_ENV, "1").strip() == "0":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.gnu_get_libc_version  # glibc only
    except (OSError, AttributeError):
        return False
    M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4  # from glibc's malloc.h
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1))


def train_minutes() -> float:
    """Minutes of training per execution of a full-profile training cell: ``HIFIGAN_EDU_TRAIN_MINUTES``, else 60.

    The paper's schedule takes days on a GPU, so notebooks 07 and 08 train it in chunks of this
    length into a run folder under ``runs/`` that the next execution resumes.

    Raises:
        SettingError: the variable is not a number > 0.
    """
    value = os.environ.get(MINUTES_ENV, "60")
    try:
        minutes = float(value)
    except ValueError:
        minutes = math.nan
    if not (math.isfinite(minutes) and minutes > 0):
        raise SettingError(f"{MINUTES_ENV}={value!r} is not a number of minutes > 0; set it to e.g. 30 or unset it (60).")
    return minutes


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed python, numpy and torch (all devices); optionally ask torch for deterministic kernels.

    With ``deterministic=True``, cuDNN autotuning is off and ops without a deterministic
    implementation warn instead of silently varying between runs.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        torch.use_deterministic_algorithms(True, warn_only=True)


@dataclass(frozen=True)
class Runtime:
    """What a notebook prints in its first cell."""

    profile: str
    device: torch.device
    threads: int
    seed: int
    torch_version: str

    def __str__(self) -> str:
        return (
            f"profile={self.profile} device={self.device} threads={self.threads} "
            f"seed={self.seed} torch={self.torch_version}"
        )


def setup(seed: int = 0, threads: int | None = None) -> Runtime:
    """Configure the run (threads, seeds, determinism) and return what was chosen."""
    runtime = Runtime(
        profile=get_profile(),
        device=get_device(),
        threads=set_threads(threads),
        seed=seed,
        torch_version=torch.__version__,
    )
    seed_everything(seed)
    return runtime
