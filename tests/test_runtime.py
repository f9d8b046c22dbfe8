import platform
import sys

import numpy as np
import pytest
import torch

from hifigan_edu import runtime


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv(runtime.PROFILE_ENV, "full")
    assert runtime.get_profile() == "full"
    monkeypatch.setenv(runtime.PROFILE_ENV, " CI ")
    assert runtime.get_profile() == "ci"


def test_profile_default_follows_cuda(monkeypatch):
    monkeypatch.delenv(runtime.PROFILE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.get_profile() == "full"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.get_profile() == "ci"


def test_bad_profile_says_what_to_do(monkeypatch):
    monkeypatch.setenv(runtime.PROFILE_ENV, "gpu")
    with pytest.raises(ValueError, match="one of ci, full"):
        runtime.get_profile()


def test_seeding_repeats_python_numpy_torch():
    def draw():
        runtime.seed_everything(7)
        import random

        return random.random(), np.random.rand(), torch.rand(1).item()

    assert draw() == draw()


def test_setup_sets_threads_and_reports(monkeypatch):
    monkeypatch.setenv(runtime.PROFILE_ENV, "ci")
    rt = runtime.setup(seed=3, threads=1)
    assert torch.get_num_threads() == 1
    assert str(rt).startswith("profile=ci device=cpu threads=1 seed=3")
    with pytest.raises(ValueError, match="thread count"):
        runtime.set_threads(0)


def test_thread_variable_is_checked(monkeypatch):
    monkeypatch.setenv(runtime.THREADS_ENV, "two")
    with pytest.raises(ValueError, match="whole number"):
        runtime.set_threads()
    monkeypatch.setenv(runtime.THREADS_ENV, "1")
    assert runtime.set_threads() == 1


def test_training_minutes_default_and_checks(monkeypatch):
    monkeypatch.delenv(runtime.MINUTES_ENV, raising=False)
    assert runtime.train_minutes() == 60
    monkeypatch.setenv(runtime.MINUTES_ENV, " 2.5 ")
    assert runtime.train_minutes() == 2.5
    for bad in ("half an hour", "0", "-5", "nan", "inf"):
        monkeypatch.setenv(runtime.MINUTES_ENV, bad)
        with pytest.raises(runtime.SettingError, match="HIFIGAN_EDU_TRAIN_MINUTES=.* is not a number of minutes > 0"):
            runtime.train_minutes()


def test_the_cli_turns_a_bad_setting_into_a_message(monkeypatch, tmp_path):
    from hifigan_edu.__main__ import main

    monkeypatch.setenv(runtime.THREADS_ENV, "two")
    with pytest.raises(SystemExit, match="HIFIGAN_EDU_THREADS='two' is not a whole number"):
        main(["evaluate", "--out", str(tmp_path)])
    monkeypatch.delenv(runtime.THREADS_ENV)
    monkeypatch.setenv(runtime.PROFILE_ENV, "gpu")
    with pytest.raises(SystemExit, match="'gpu' is not a profile"):
        main(["train", "--run-dir", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


def test_glibc_keeps_freed_memory_for_the_next_tensor(monkeypatch):
    # set when hifigan_edu is imported; setting it again is harmless
    monkeypatch.delenv(runtime.KEEP_MEMORY_ENV, raising=False)
    assert runtime.keep_freed_memory() == (sys.platform == "linux" and platform.libc_ver()[0] == "glibc")
    monkeypatch.setenv(runtime.KEEP_MEMORY_ENV, "0")
    assert not runtime.keep_freed_memory()
