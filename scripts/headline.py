"""The README's headline table: a generator against its input and WPE on the main test set.

``python -m hifigan_edu evaluate`` scores a generator and the baselines on every test item and
writes ``evaluation.csv``; the shipped generators have theirs committed next to them
(``data/checkpoints/NAME/evaluation.csv`` for ``data/checkpoints/NAME.pt``). This script reads one
and prints a markdown table of the main test set (HiFi-GAN's regime): the mean PESQ-WB, STOI and
SI-SDR of the input (``degraded``), of WPE and of the generator, on synthetic and on real speech,
and the output level against the clean target's when the evaluation has that column. It runs no
audio and takes seconds:

    python scripts/headline.py                                              # the default generator
    python scripts/headline.py --checkpoint data/checkpoints/hifigan-cpu.pt
    python -m hifigan_edu evaluate --checkpoint runs/ci/generator.pt --out results/ci
    python scripts/headline.py --checkpoint runs/ci/generator.pt --evaluation results/ci/evaluation.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hifigan_edu import enhance, evaluate

SET = "main"
SOURCES = ("synthetic", "real")
REFERENCES = {"degraded": "input (degraded)", "WPE": "WPE"}  # the baselines shown, and their names in the table
METRICS = {"PESQ-WB": "PESQ-WB", "STOI": "STOI", "SI-SDR": "SI-SDR (dB)", "level": "level (dB)"}  # column -> header


def evaluation_of(checkpoint: Path) -> Path:
    """Where the evaluation of a shipped checkpoint is committed: ``NAME/evaluation.csv`` next to ``NAME.pt``."""
    return checkpoint.with_suffix("") / "evaluation.csv"


def table(rows: list[dict[str, object]], model: str) -> str:
    """The markdown table of ``model`` against the references on the main set, synthetic then real speech.

    Raises:
        ValueError: ``rows`` hold no main-set row of ``model`` or of a reference.
    """
    systems = [*REFERENCES, model]
    chosen = [r for r in rows if r["system"] in systems and evaluate.in_groups(r, (SET,))]
    overall = evaluate.summarise(chosen, SET)  # it leaves out a column an older evaluation lacks ("level")
    metrics = [m for m in METRICS if all(m in overall.get(s, {}) for s in systems)]
    lines = ["| system | speech (items) | " + " | ".join(METRICS[m] for m in metrics) + " |",
             "|---|---|" + "---:|" * len(metrics)]  # fmt: skip
    for source in SOURCES:
        means = evaluate.summarise(chosen, SET, source)
        if not means.get(model, {}).get("n"):
            continue  # `evaluate --items` left this source out
        for system in systems:
            if not means.get(system, {}).get("n"):
                raise ValueError(f"the evaluation has no {SET}-set rows of {system!r} on {source} speech")
            name = REFERENCES.get(system, system)
            cells = " | ".join(f"{means[system][m]:.2f}" for m in metrics)
            lines.append(f"| {name} | {source} ({means[system]['n']}) | {cells} |")
    if len(lines) == 2:
        raise ValueError(f"the evaluation has no {SET}-set rows of {model!r}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, default=enhance.SHIPPED,
                        help="the generator (default: the shipped one, data/checkpoints/hifigan-long-run.pt)")
    parser.add_argument("--evaluation", type=Path,
                        help="the evaluation.csv that `evaluate` wrote for it (default: NAME/evaluation.csv next to NAME.pt)")
    args = parser.parse_args(argv)
    csv_path = args.evaluation or evaluation_of(args.checkpoint)
    if not csv_path.is_file():
        raise SystemExit(f"error: no {csv_path}: run `python -m hifigan_edu evaluate --checkpoint {args.checkpoint} "
                         f"--out DIR` and pass --evaluation DIR/evaluation.csv")  # fmt: skip
    try:
        model = enhance.load_enhancer(args.checkpoint).label  # its name in the evaluation
    except (ValueError, FileNotFoundError) as err:  # enhance.CheckpointError is a ValueError
        raise SystemExit(f"error: {err}") from None
    try:
        print(table(evaluate.read(csv_path), model))
    except ValueError as err:
        raise SystemExit(f"error: {csv_path}: {err}") from None


if __name__ == "__main__":
    main()
