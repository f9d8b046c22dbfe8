"""Does bf16 train as well as fp32? The same run twice, from the same seed on the same batches.

Trains ``--config`` (default ``ci``) for ``--steps`` generator steps (default 500: the ``wavenet``
stage lengthened so that the schedule holds that many, its other stages kept) once in each
precision and for each of ``--seeds`` (the initial weights and the pairs) into
``--out``/SEED-PRECISION, and prints the validation losses at every validation, each precision's
mean over the seeds, and their relative difference. The bar: bf16's validation loss within 2 % of
fp32's.

    python scripts/precision_check.py --out runs/precision-check --seeds 0 1 2     # about 15 min on 2 cores

The runs go one after the other, each on every core, as a user would train.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from hifigan_edu import config as cfg
from hifigan_edu import runtime, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="ci")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--out", type=Path, required=True, help="a new folder for the runs")
    args = parser.parse_args()
    try:
        base = cfg.load(args.config)
    except cfg.ConfigError as err:
        sys.exit(f"error: {err}")
    others = sum(base.stages[name].steps for name in base.stage_names if name != "wavenet")
    if args.steps <= others:
        sys.exit(f"--steps must exceed the {others} steps of the stages after `wavenet`")
    device = runtime.get_device()
    runtime.set_threads()
    lengthened = cfg.load(args.config, [f"stages.wavenet.steps={args.steps - others}"])
    losses: dict[tuple[int, str], dict[int, float]] = {}
    for seed in args.seeds:
        for precision in ("fp32", "bf16"):
            sets = [f"stages.wavenet.steps={args.steps - others}", f"train.precision={precision}", f"train.seed={seed}"]
            config = cfg.load(args.config, sets)
            if train.precision_on(config, device) != precision:
                sys.exit(f"{device} cannot train in {precision} here, so there is nothing to compare")
            run_dir = args.out / f"{seed}-{precision}"
            train.train(config, run_dir, resume=(run_dir / train.CHECKPOINT).exists(), device=device, progress=False)
            losses[seed, precision] = {int(r["step"]): float(r["valid_loss"]) for r in train.read_metrics(run_dir)
                                       if r["valid_loss"] and r["stage"] != "input"}  # fmt: skip
    print(f"config {args.config}, {args.steps} steps, seeds {' '.join(map(str, args.seeds))}, device {device}, torch {torch.__version__}")
    print("validation loss; each seed: fp32 / bf16; then the means over the seeds, and bf16 / fp32 - 1")
    for step in losses[args.seeds[0], "fp32"]:
        pairs = [(losses[seed, "fp32"][step], losses[seed, "bf16"][step]) for seed in args.seeds]
        fp32, bf16 = (sum(p[i] for p in pairs) / len(pairs) for i in (0, 1))
        each = "  ".join(f"{a:.4f} / {b:.4f}" for a, b in pairs)
        print(f"{step:5d}  {train.stage_at(lengthened, step - 1)[0]:11s}  {each}   mean {fp32:.4f} / {bf16:.4f}  {100 * (bf16 / fp32 - 1):+6.2f} %")


if __name__ == "__main__":
    main()
