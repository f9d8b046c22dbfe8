"""The project's long training runs: continue one from its committed state for a number of minutes.

Two runs train through all three stages, a session at a time, on whatever machine is at hand:
HiFi-GAN with the ``cpu`` config (the size of the shipped generators) in ``data/checkpoints/long-run/``,
and HiFi-GAN-2 with ``hifigan2-cpu`` in ``data/checkpoints/long-run-hifigan2/``. Each folder holds
the run's whole resumable state (weights, both optimisers and schedules, every random generator,
the batch counter) next to its ``metrics.csv``, its ``generator.pt`` and the curves ``curves.png``;
git tracks them, so a fresh clone on any machine continues a run exactly (both configs train on
the ``recorded`` corpus: ``python -m hifigan_edu data recorded`` first):

    python scripts/long_run.py --minutes 60                         # then commit data/checkpoints/long-run/
    python scripts/long_run.py --config hifigan2-cpu --minutes 60   # data/checkpoints/long-run-hifigan2/

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

CHECKPOINTS = Path(__file__).resolve().parent.parent / "data" / "checkpoints"
RUN_DIRS = {"cpu": CHECKPOINTS / "long-run", "hifigan2-cpu": CHECKPOINTS / "long-run-hifigan2"}  # config -> its run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, required=True, help="train this long, then checkpoint and stop")
    parser.add_argument("--config", choices=list(RUN_DIRS), default="cpu", help="which run: HiFi-GAN (cpu, the default) or HiFi-GAN-2")
    parser.add_argument("--run-dir", type=Path, help="the run's folder (default: the config's folder in data/checkpoints)")
    args = parser.parse_args()
    run_dir = args.run_dir or RUN_DIRS[args.config]
    runtime.set_threads()
    resume = (run_dir / train.CHECKPOINT).exists()
    try:
        run = train.train(cfg.load(args.config), run_dir, resume=resume, max_minutes=args.minutes)
    except (cfg.ConfigError, train.CheckpointError, train.NonFiniteLoss, OSError, ValueError) as err:
        sys.exit(f"error: {err}")
    fig = train.plot_metrics(run_dir)
    with atomic_path(run_dir / "curves.png") as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    print(f"the long run is at step {run.step} ({run.stage}), {run.elapsed_s / 3600:.2f} h of training in all; "
          f"commit {run_dir}")


if __name__ == "__main__":
    main()
