"""scripts/precision_check.py trains its three arms and compares them (a tiny config, a few steps)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hifigan_edu import hifigan, train

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not train.cpu_has_bf16(), reason="this CPU has no native bf16: the script has nothing to compare")
def test_precision_check_trains_fp32_bf16_and_a_nudged_fp32(tiny_config, tmp_path):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(tiny_config.to_dict()))
    script = [sys.executable, str(ROOT / "scripts" / "precision_check.py"), "--config", str(path), "--seeds", "0"]
    run = subprocess.run(script + ["--steps", "7", "--out", str(tmp_path / "runs")], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.strip()[:1].isdigit()]
    assert rows and all("bf16" in row and "nudged" in row for row in rows)
    # the nudged run started one float32 step from fp32's initial weights, every weight of it
    start = torch.load(tmp_path / "runs" / "0-start" / train.GENERATOR, weights_only=True)["generator"]
    torch.manual_seed(0)
    for name, weight in hifigan.build(tiny_config)[0].named_parameters():
        away = torch.nextafter(weight.detach(), torch.where(start[name] > weight, torch.inf, -torch.inf))
        assert torch.equal(start[name], away), name
    too_few = subprocess.run(script + ["--steps", "4", "--out", str(tmp_path / "x")], capture_output=True, text=True, cwd=ROOT)
    assert too_few.returncode != 0 and "--steps must exceed the 4 steps" in too_few.stderr
