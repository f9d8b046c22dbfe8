"""Does a generator meet the course's targets? Its paired margins and its output level, on both test sets.

`python -m hifigan_edu evaluate --checkpoint G.pt --out DIR` scores a generator and the baselines on
every test item; this script reads that ``DIR/evaluation.csv`` and prints, for each test set (main,
hard) and source (synthetic, real speech), the generator minus the input, WPE and WPE + gating on
PESQ-WB, STOI and SI-SDR, paired by item (mean, 95 % bootstrap interval, items ahead: what
``evaluate.margin`` computes), and the generator's output level against the clean target's (the
median over the items of evaluate's ``level`` column, dB; the targets ask for it within 1 dB):

    python -m hifigan_edu evaluate --checkpoint data/checkpoints/long-run/generator.pt --out results/long-run
    python scripts/targets.py data/checkpoints/long-run/generator.pt results/long-run
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from hifigan_edu import enhance, evaluate
from hifigan_edu.data import simulate

REFERENCES = ("degraded", "WPE", "WPE + gating")
METRICS = ("PESQ-WB", "STOI", "SI-SDR")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="the generator.pt that `evaluate` scored")
    parser.add_argument("evaluation", type=Path, help="the --out folder of that `evaluate` (its evaluation.csv)")
    args = parser.parse_args()
    table = args.evaluation / "evaluation.csv"
    if not table.is_file():
        raise SystemExit(f"error: no {table}: run `python -m hifigan_edu evaluate --checkpoint {args.checkpoint} --out {args.evaluation}` first")
    model = enhance.load_enhancer(args.checkpoint)
    rows = evaluate.read(table)
    if not any(r["system"] == model.label for r in rows):
        raise SystemExit(f"error: {table} has no rows of {model.label}; evaluate this checkpoint into it first")
    if rows[0].get("level", "") == "":
        raise SystemExit(f"error: {table} has no level column (an older evaluate wrote it); evaluate the checkpoint again")
    print(f"{model.label}: model minus system, mean [95 % interval], items ahead of n")
    for regime in simulate.REGIMES:
        for source in ("synthetic", "real"):
            if not any(r["system"] == model.label and evaluate.in_groups(r, (regime, source)) for r in rows):
                continue  # `evaluate --items` left them out
            print(f"\n{regime} set, {source} speech")
            for ref in REFERENCES:
                cells = [evaluate.margin(rows, model.label, ref, m, (regime, source)) for m in METRICS]
                print(f"  - {ref:13s}" + "".join(f"  {m} {c['mean']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}] {c['ahead']}/{c['n']}"
                                                for m, c in zip(METRICS, cells)))  # fmt: skip
            level = [float(r["level"]) for r in rows if r["system"] == model.label and evaluate.in_groups(r, (regime, source))]
            print(f"  output level against the target's: median {np.median(level):+.2f} dB (range {min(level):+.2f} to {max(level):+.2f})")


if __name__ == "__main__":
    main()
