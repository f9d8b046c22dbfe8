"""Does bf16 train as well as fp32? The same run in both, from the same seed on the same batches.

Trains ``--config`` (default ``ci``) for ``--steps`` generator steps (default 500: the ``wavenet``
stage lengthened so that the schedule holds that many, its other stages kept) for each of
``--seeds`` (the initial weights and the pairs) three times, into ``--out``/SEED-ARM: in fp32, in
bf16, and in fp32 again from initial weights that are each one float32 step (``torch.nextafter``)
away ("nudged"). The third says how far apart two fp32 runs end when they start a rounding error
apart: training amplifies any rounding, so a difference smaller than that is noise, not precision.
Prints the validation losses at every validation, each arm's mean over the seeds, and bf16's and
the nudged run's relative difference from fp32. The bar: bf16's validation loss within 2 % of fp32's.

    python scripts/precision_check.py --out runs/precision-check --seeds 0 1     # about 15 min on 2 cores

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
        for arm in ARMS:
            precision = "fp32" if arm == "nudged" else arm
            sets = [f"stages.wavenet.steps={args.steps - others}", f"train.precision={precision}", f"train.seed={seed}"]
            config = cfg.load(args.config, sets)
            if train.precision_on(config, device) != precision:
                sys.exit(f"{device} cannot train in {precision} here, so there is nothing to compare")
            run_dir = args.out / f"{seed}-{arm}"
            init = nudged_start(config, args.out / f"{seed}-start", device) if arm == "nudged" else None
            resume = (run_dir / train.CHECKPOINT).exists()
            train.train(config, run_dir, resume=resume, device=device, progress=False, init=None if resume else init)
            losses[seed, arm] = {int(r["step"]): float(r["valid_loss"]) for r in train.read_metrics(run_dir)
                                 if r["valid_loss"] and r["stage"] != "input"}  # fmt: skip
    print(f"config {args.config}, {args.steps} steps, seeds {' '.join(map(str, args.seeds))}, device {device}, torch {torch.__version__}")
    print(f"validation loss; each seed: {' / '.join(ARMS)}; then the means over the seeds, and each / fp32 - 1")
    for step in losses[args.seeds[0], "fp32"]:
        each = "  ".join(" / ".join(f"{losses[seed, arm][step]:.4f}" for arm in ARMS) for seed in args.seeds)
        mean = {arm: sum(losses[seed, arm][step] for seed in args.seeds) / len(args.seeds) for arm in ARMS}
        gaps = "  ".join(f"{arm} {100 * (mean[arm] / mean['fp32'] - 1):+6.2f} %" for arm in ARMS[1:])
        print(f"{step:5d}  {train.stage_at(lengthened, step - 1)[0]:11s}  {each}   mean {' / '.join(f'{v:.4f}' for v in mean.values())}  {gaps}")


ARMS = ("fp32", "bf16", "nudged")


def nudged_start(config: cfg.Config, folder: Path, device: torch.device) -> Path:
    """The generator ``config`` starts from, each weight moved one float32 step up or down (at random,
    seeded), saved in ``folder`` as the ``--init`` of the nudged run; returns its path."""
    if not (folder / train.GENERATOR).exists():
        folder.mkdir(parents=True, exist_ok=True)
        run = train.start_run(config, folder, resume=False, device=device)
        signs = torch.Generator().manual_seed(config.train.seed)
        with torch.no_grad():
            for p in run.G.parameters():
                up = torch.rand(p.shape, generator=signs) < 0.5
                p.copy_(torch.nextafter(p, torch.where(up, torch.inf, -torch.inf).to(p)))
        train.save_checkpoint(run, folder)
    return folder / train.GENERATOR


if __name__ == "__main__":
    main()
