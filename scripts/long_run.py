"""The project's long training run: continue it from its committed state for a number of minutes.

The run trains the ``cpu`` config (HiFi-GAN at the size of the shipped generators) through all
three stages, a session at a time, on whatever machine is at hand. Its whole resumable state
(weights, both optimisers and schedules, every random generator, the batch counter) lives in
``data/checkpoints/long-run/`` next to its ``metrics.csv``, its ``generator.pt`` and the curves
``curves.png``; git tracks them, so a fresh clone on any machine continues it exactly:

    python scripts/long_run.py --minutes 60          # then commit data/checkpoints/long-run/

Every write replaces the file before it (atomically), so the folder only ever holds the latest
state; ``data/checkpoints/README.md`` ("The long run") keeps its record: the sessions, their
machines and how far each got.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hifigan_edu import config as cfg
from hifigan_edu import runtime, train
from hifigan_edu.files import atomic_path

RUN_DIR = Path(__file__).resolve().parent.parent / "data" / "checkpoints" / "long-run"
CONFIG = "cpu"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, required=True, help="train this long, then checkpoint and stop")
    parser.add_argument("--run-dir", type=Path, default=RUN_DIR, help=f"the run's folder (default {RUN_DIR})")
    args = parser.parse_args()
    runtime.set_threads()
    resume = (args.run_dir / train.CHECKPOINT).exists()
    try:
        run = train.train(cfg.load(CONFIG), args.run_dir, resume=resume, max_minutes=args.minutes)
    except (cfg.ConfigError, train.CheckpointError, train.NonFiniteLoss, OSError, ValueError) as err:
        sys.exit(f"error: {err}")
    fig = train.plot_metrics(args.run_dir)
    with atomic_path(args.run_dir / "curves.png") as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    print(f"the long run is at step {run.step} ({run.stage}), {run.elapsed_s / 3600:.2f} h of training in all; "
          f"commit {args.run_dir}")


if __name__ == "__main__":
    main()
