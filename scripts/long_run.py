"""The project's long training runs: continue one from its committed state for a number of minutes.

Two runs train through all three stages, a session at a time, on whatever machine is at hand:
HiFi-GAN with the ``cpu`` config (the size of the shipped generators) in ``data/checkpoints/long-run/``,
and HiFi-GAN-2 with ``hifigan2-cpu`` in ``data/checkpoints/long-run-hifigan2/``. Each folder holds
the run's whole resumable state (weights, both optimisers and schedules, every random generator,
the batch counter) next to its ``metrics.csv``, its ``generator.pt`` and the curves ``curves.png``;
git tracks them, so a fresh clone on any machine continues a run exactly (both configs train on
the ``recorded`` corpus: ``python -m hifigan_edu data recorded`` first). When a stage ends, its
generator is kept beside the run as ``generator-after-STAGE.pt`` (notebooks 07 and 08 compare them;
a stage finished some other way, e.g. by ``train --resume``, has none):

    python scripts/long_run.py --minutes 60                         # then commit data/checkpoints/long-run/
    python scripts/long_run.py --config hifigan2-cpu --minutes 60   # data/checkpoints/long-run-hifigan2/

Every write replaces the file before it (atomically), so the folder only ever holds the latest
state; ``data/checkpoints/README.md`` ("The long run") keeps its record: the sessions, their
machines and how far each got.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
from pathlib import Path

from hifigan_edu import config as cfg
from hifigan_edu import runtime, train
from hifigan_edu.files import ROOT, atomic_path

CHECKPOINTS = ROOT / "data" / "checkpoints"
RUN_DIRS = {"cpu": CHECKPOINTS / "long-run", "hifigan2-cpu": CHECKPOINTS / "long-run-hifigan2"}  # config -> its run


def minutes(text: str) -> float:
    """``--minutes``: a finite number of minutes > 0."""
    value = float(text)  # argparse turns a ValueError here into "invalid minutes value"
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"give a number of minutes > 0, got {text!r}")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=minutes, required=True, help="train this long, then checkpoint and stop")
    parser.add_argument("--config", choices=list(RUN_DIRS), default="cpu", help="which run: HiFi-GAN (cpu, the default) or HiFi-GAN-2")
    parser.add_argument("--run-dir", type=Path, help="the run's folder (default: the config's folder in data/checkpoints)")
    args = parser.parse_args()
    run_dir = args.run_dir or RUN_DIRS[args.config]
    runtime.set_threads()
    config = cfg.load(args.config)
    checkpoint = run_dir / train.CHECKPOINT
    start = time.monotonic()
    try:
        step = train.read_checkpoint(checkpoint, kinds=("hifigan-checkpoint",))["step"] if checkpoint.exists() else 0
        if train.stage_at(config, step)[0] == "done":
            sys.exit(f"the run in {run_dir} has finished all its stages ({step} steps); nothing to train")
        while (stage := train.stage_at(config, step))[0] != "done":  # a stage at a time, to keep each one's last generator
            left = args.minutes - (time.monotonic() - start) / 60
            if left <= 0:
                break
            run = train.train(config, run_dir, resume=step > 0, max_steps=config.stages[stage[0]].steps - stage[1], max_minutes=left)
            step = run.step
            if train.stage_at(config, step)[0] == stage[0]:  # out of time within the stage
                break
            with atomic_path(run_dir / f"generator-after-{stage[0]}.pt") as tmp:
                shutil.copyfile(run_dir / train.GENERATOR, tmp)
    except (cfg.ConfigError, train.CheckpointError, train.NonFiniteLoss, OSError, ValueError) as err:
        sys.exit(f"error: {err}")
    fig = train.plot_metrics(run_dir)
    with atomic_path(run_dir / "curves.png") as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    print(f"the long run is at step {run.step} ({run.stage}), {run.elapsed_s / 3600:.2f} h of training in all; "
          f"commit {run_dir}")


if __name__ == "__main__":
    main()
