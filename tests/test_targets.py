"""scripts/targets.py reads an evaluation and prints the paired margins and the output level of a generator."""

import subprocess
import sys
from pathlib import Path

import torch

from hifigan_edu import enhance, evaluate, hifigan, train

ROOT = Path(__file__).resolve().parents[1]


def test_margins_and_levels_of_both_sets(tiny_config, tmp_path):
    torch.manual_seed(0)
    G, D = hifigan.build(tiny_config)
    train.save_checkpoint(train.Run(tiny_config, G, D, step=7), tmp_path)
    label = enhance.load_enhancer(tmp_path / train.GENERATOR).label
    rows = []  # made-up scores: the model 0.5 dB of SI-SDR above the input on every item and 0.7 dB quiet, level with it elsewhere
    for item in evaluate.all_test_items():
        for k, system in enumerate(("degraded", "WPE", "WPE + gating", label)):
            scores = {m: 1.0 for m in evaluate.METRICS} | {"SI-SDR": 0.5 if system == label else 0.1 * (k - 1),
                                                          "level": -0.7 if system == label else 0.0}
            rows.append({"id": item.info["id"], "system": system, "groups": "|".join(evaluate.condition_groups(item.info)),
                         **scores, "DNSMOS": ""})  # fmt: skip
    evaluate.write(rows, tmp_path / "eval")
    script = [sys.executable, str(ROOT / "scripts" / "targets.py"), str(tmp_path / train.GENERATOR), str(tmp_path / "eval")]
    out = subprocess.run(script, capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.count("output level against the target's: median -0.70 dB") == 4  # main and hard, synthetic and real
    assert "- degraded       PESQ-WB +0.000 [+0.000, +0.000] 0/27  STOI +0.000" in out
    assert "SI-SDR +0.600 [+0.600, +0.600] 27/27" in out and "SI-SDR +0.400 [+0.400, +0.400] 9/9" in out
    missing = subprocess.run([*script[:3], str(tmp_path / "eval-of-another")], capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode != 0 and missing.stderr.startswith("error: no ") and "evaluate --checkpoint" in missing.stderr
    for r in rows:
        del r["level"]
    evaluate.write(rows, tmp_path / "old")  # as evaluate wrote it before the level column
    old = subprocess.run([*script[:3], str(tmp_path / "old")], capture_output=True, text=True, cwd=ROOT)
    assert old.returncode != 0 and "no level column" in old.stderr
