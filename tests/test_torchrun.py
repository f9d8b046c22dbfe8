"""``torchrun``: two CPU processes (gloo) train as one process does, and a killed process stops the run
with a resumable checkpoint (``hifigan_edu.train``, "torchrun")."""

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from hifigan_edu import config, train
from hifigan_edu.__main__ import main

ROOT = Path(__file__).resolve().parent.parent
WORKER = Path(__file__).with_name("torchrun_worker.py")
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]  # a free port on this machine
ONE_THREAD = os.environ | {"OMP_NUM_THREADS": "1", "HIFIGAN_EDU_THREADS": "1"}  # torchrun's processes use 1 thread each


def write(c: config.Config, path: Path) -> Path:
    path.write_text(json.dumps(c.to_dict()))
    return path


def run(args: list, timeout: int = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, env=ONE_THREAD, timeout=timeout, **kwargs)


def test_two_processes_apply_the_gradient_of_the_whole_batch(tiny_config2, tmp_path):
    # every stage of HiFi-GAN-2 (predictor, wavenet, postnet, adversarial and the discriminators) from the same
    # weights: each process simulates its half of the batch, DDP averages, and the result is one process's gradient
    path = write(tiny_config2, tmp_path / "tiny2.json")
    alone = run([sys.executable, WORKER, tmp_path / "one.pt", path, "grads"])
    assert alone.returncode == 0, alone.stderr
    both = run(TORCHRUN + [WORKER, tmp_path / "two.pt", path, "grads"])
    assert both.returncode == 0, both.stderr
    one, two = (torch.load(tmp_path / f"{n}.pt", weights_only=True) for n in ("one", "two"))
    assert list(one) == ["predictor", "wavenet", "postnet", "adversarial", "discriminators"] and list(two) == list(one)
    for stage, grads in one.items():
        assert grads.keys() == two[stage].keys()
        assert any(g.count_nonzero() for g in grads.values()), stage  # (the predictor's zero-initialised output layer lets through no gradient to its RNN yet)
        for name, grad in grads.items():
            torch.testing.assert_close(two[stage][name], grad, rtol=1e-4, atol=1e-5 * grad.abs().max().item(), msg=f"{stage} {name}")


def test_a_nan_in_one_process_stops_both(tiny_config, tmp_path):
    out = run(TORCHRUN + [WORKER, tmp_path / "x.pt", write(tiny_config, tmp_path / "tiny.json"), "nan"], timeout=120)
    assert out.returncode != 0
    assert "rank 1: the wavenet loss is nan" in out.stderr
    assert "rank 0: the wavenet loss is not finite in another process" in out.stderr


def train_command(path: Path, run_dir: Path, *extra: str) -> list:
    return ["-m", "hifigan_edu", "train", "--config", str(path), "--run-dir", str(run_dir), *extra]


def test_train_under_torchrun_logs_the_global_batch_and_resumes(tiny_config, tmp_path):
    path = write(tiny_config, tmp_path / "tiny.json")
    alone = run([sys.executable, *train_command(path, tmp_path / "one")])
    assert alone.returncode == 0, alone.stderr
    first = run(TORCHRUN + train_command(path, tmp_path / "two", "--max-steps", "3"))
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("training config 'tiny' into") == 1  # rank 0 speaks for both
    resumed = run(TORCHRUN + train_command(path, tmp_path / "two", "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == sorted(p.name for p in (tmp_path / "one").iterdir())
    one, two = train.read_metrics(tmp_path / "one"), train.read_metrics(tmp_path / "two")
    assert [(r["step"], r["stage"]) for r in two] == [(r["step"], r["stage"]) for r in one]  # 0 (input) to 6, every stage
    assert float(two[1]["wavenet"]) == pytest.approx(float(one[1]["wavenet"]), rel=1e-5)  # the first step: the same pairs
    assert two[0]["valid_loss"] == one[0]["valid_loss"]
    state = torch.load(tmp_path / "two" / train.CHECKPOINT, weights_only=True)
    assert (state["step"], state["stage"], state["batch"]) == (6, "adversarial", 10)  # 2 + 2 + 2 x (1 + 2 d_steps) batches


def start_and_kill(rank: str, tiny_config: config.Config, tmp_path: Path) -> tuple[Path, str]:
    """Start a long torchrun job of 2 processes, kill process ``rank`` after the first checkpoint; (run folder, stderr)."""
    c = config.from_dict(config.Config, tiny_config.to_dict() | {"stages": tiny_config.to_dict()["stages"] | {
        "wavenet": {"steps": 10_000, "lr_g": 1e-3, "lr_d": 0.0, "d_steps": 0, "lr_end_factor": 1.0}}})  # fmt: skip
    run_dir = tmp_path / "run"
    job = subprocess.Popen(TORCHRUN + train_command(write(c, tmp_path / "long.json"), run_dir), cwd=ROOT, env=ONE_THREAD,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 120
    while not (run_dir / train.CHECKPOINT).exists() and time.monotonic() < deadline and job.poll() is None:
        time.sleep(0.2)
    assert (run_dir / train.CHECKPOINT).exists(), job.communicate()[1]
    time.sleep(0.5)  # rank 0's progress bar has drawn a line
    ranks = {}
    for pid in subprocess.run(["pgrep", "-f", "--", f"--run-dir {run_dir}"], capture_output=True, text=True).stdout.split():
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        found = next((v[5:].decode() for v in environ if v.startswith(b"RANK=")), None)
        if found is not None:
            ranks[found] = int(pid)
    os.kill(ranks[rank], signal.SIGKILL)
    _, stderr = job.communicate(timeout=120)
    assert job.returncode != 0
    return run_dir, stderr


def test_a_killed_process_stops_the_run_with_a_resumable_checkpoint(tiny_config, tmp_path):
    run_dir, stderr = start_and_kill("1", tiny_config, tmp_path)
    assert "error (rank 0 of 2): " in stderr and "another process of this torchrun job stopped" in stderr  # rank 0 may be checkpointing
    assert "the last checkpoint written (its weights are finite). To go on, run the same torchrun command with --resume." in stderr
    saved = torch.load(run_dir / train.CHECKPOINT, weights_only=True)["step"]
    resumed = run([sys.executable, *train_command(tmp_path / "long.json", run_dir, "--resume", "--max-steps", "1")])
    assert resumed.returncode == 0, resumed.stderr
    assert f"stopped at step {saved + 1} (wavenet)" in resumed.stdout


def test_a_rank_other_than_0_starts_its_message_on_a_line_of_its_own(monkeypatch, tmp_path):
    def lost(*args, **kwargs):
        raise train.ProcessLost("step 3: another process of this torchrun job stopped")

    monkeypatch.setattr(train, "train", lost)
    for rank, start in (("0", "error (rank 0 of 2)"), ("1", "\nerror (rank 1 of 2)")):  # rank 0 ends its own bar first
        monkeypatch.setenv("RANK", rank)
        monkeypatch.setenv("WORLD_SIZE", "2")
        with pytest.raises(SystemExit) as stop:
            main(["train", "--config", "ci", "--run-dir", str(tmp_path / "run")])
        assert str(stop.value.code).startswith(start), stop.value.code


def test_the_survivor_of_a_killed_rank_0_starts_its_message_on_a_line_of_its_own(tiny_config, tmp_path):
    _, stderr = start_and_kill("0", tiny_config, tmp_path)
    assert "step/s]" in stderr or "s/step]" in stderr  # rank 0's progress bar, cut off mid-line by the kill
    assert re.search(r"(^|\n)error \(rank 1 of 2\): ", stderr), stderr[-2000:]


def test_the_global_batch_must_split_evenly(tiny_config, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "3")
    with pytest.raises(config.ConfigError, match=r"data.batch_size 2 is the global batch and must split evenly over the 3 processes"):
        train.join_processes(tiny_config)
