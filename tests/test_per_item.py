"""scripts/per_item.py prints a generator's SI-SDR and band levels item by item, mildest input first."""

import re
import subprocess
import sys
from pathlib import Path

import torch

from hifigan_edu import hifigan, train

ROOT = Path(__file__).resolve().parents[1]


def test_every_synthetic_item_mildest_first(tiny_config, tmp_path):
    torch.manual_seed(0)
    G, D = hifigan.build(tiny_config)
    train.save_checkpoint(train.Run(tiny_config, G, D, step=3), tmp_path)
    script = [sys.executable, str(ROOT / "scripts" / "per_item.py"), str(tmp_path / train.GENERATOR)]
    out = subprocess.run(script, capture_output=True, text=True, cwd=ROOT, check=True).stdout.splitlines()
    rows = [re.search(r"SI-SDR +(-?[\d.]+) -> +(-?[\d.]+) +\| +output((?: +[+-][\d.]+){6}) +\| +input((?: +[+-][\d.]+){6})$", line)
            for line in out[1:]]  # fmt: skip
    assert len(rows) == 27 and all(rows)
    inputs = [float(r[1]) for r in rows]
    assert inputs == sorted(inputs, reverse=True)
    wrong = subprocess.run([*script, "--set", "easy"], capture_output=True, text=True, cwd=ROOT)
    assert wrong.returncode == 2 and "invalid choice: 'easy'" in wrong.stderr
