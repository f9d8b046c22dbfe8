"""scripts/long_run.py continues a long run a stage at a time and keeps each stage's last generator."""

import importlib.util
from pathlib import Path

import pytest
import torch

from hifigan_edu import config, train

ROOT = Path(__file__).resolve().parent.parent


def long_run(tiny_config, monkeypatch, run_dir: Path, minutes: str) -> None:
    spec = importlib.util.spec_from_file_location("long_run", ROOT / "scripts" / "long_run.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script.cfg, "load", lambda name: tiny_config)
    monkeypatch.setattr("sys.argv", ["long_run.py", "--run-dir", str(run_dir), "--minutes", minutes])
    script.main()


def test_a_long_run_stops_within_a_stage_and_keeps_each_finished_stage(tiny_config, monkeypatch, tmp_path, capsys):
    long_run(tiny_config, monkeypatch, tmp_path, "0.0001")  # out of time after its first step
    assert torch.load(tmp_path / train.CHECKPOINT, weights_only=True)["step"] == 1
    assert not list(tmp_path.glob("generator-after-*"))
    long_run(tiny_config, monkeypatch, tmp_path, "10")
    assert "the long run is at step 6 (done)" in capsys.readouterr().out
    for stage, step in (("wavenet", 2), ("postnet", 4), ("adversarial", 6)):
        kept = torch.load(tmp_path / f"generator-after-{stage}.pt", weights_only=True)
        assert kept["step"] == step, stage
    with pytest.raises(SystemExit, match="has finished all its stages"):
        long_run(tiny_config, monkeypatch, tmp_path, "10")


def test_a_stage_that_ends_when_the_time_is_up_is_kept_and_nothing_more_trains(tiny_config, monkeypatch, tmp_path):
    c = tiny_config.to_dict()
    c["stages"]["wavenet"]["steps"] = 1
    long_run(config.from_dict(config.Config, c), monkeypatch, tmp_path, "0.0001")  # out of time after the stage's only step
    assert torch.load(tmp_path / train.CHECKPOINT, weights_only=True)["step"] == 1
    assert [p.name for p in tmp_path.glob("generator-after-*")] == ["generator-after-wavenet.pt"]


@pytest.mark.parametrize("minutes", ["0", "-5", "nan", "inf", "ten"])
def test_minutes_must_be_a_finite_number_above_0(tiny_config, monkeypatch, tmp_path, capsys, minutes):
    with pytest.raises(SystemExit):
        long_run(tiny_config, monkeypatch, tmp_path, minutes)
    assert "--minutes" in capsys.readouterr().err and not (tmp_path / train.CHECKPOINT).exists()
