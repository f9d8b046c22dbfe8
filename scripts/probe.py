"""Score a training probe: does its generator beat its input, the gain yardstick, and on real speech?

A probe is a short run of a config with one recipe change (docs/benchmarks.md, "Probes in HiFi-GAN's
regime"), for example 20 minutes of the ``cpu`` config with per-example level normalisation:

    python -m hifigan_edu train --config cpu --set loss.spectral_floor=1e-3 --max-minutes 20 --run-dir runs/probe-floor
    python scripts/probe.py runs/probe-floor

prints one markdown row: the steps and stage it reached, then on the run's validation clips (its
config's valid speakers, rooms and SNRs) the reconstruction loss against the input's and the gain
yardstick's (``hifigan.gain_yardstick``), SI-SDR and PESQ-WB against the input's; then on the real-speech
items of the main test set (Allison, a voice no config trains on) PESQ-WB, STOI and SI-SDR, model minus
input, and the output's level against the target's (median over items, dB). A recipe that learns
beats the yardstick on validation and loses nothing on the real items.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from hifigan_edu import enhance, evaluate, hifigan, runtime, train
from hifigan_edu.audio import level_db
from hifigan_edu.data import simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", type=Path, help="a run folder that `train` wrote (its generator.pt)")
    args = parser.parse_args()
    runtime.set_threads()
    model = enhance.load_enhancer(args.run_dir / train.GENERATOR)
    config = model.config
    degraded, clean = train.validation_set(config)
    with torch.no_grad():
        out = torch.stack([torch.from_numpy(model(x[0].numpy()))[None] for x in degraded])
    loss_in = hifigan.reconstruction_loss(degraded, clean, config.loss).item()
    loss_out = hifigan.reconstruction_loss(out, clean, config.loss).item()
    gain, loss_gain = hifigan.gain_yardstick(degraded, clean, config.loss)
    pesq = [evaluate.intrusive(y[0].numpy(), c[0].numpy())["PESQ-WB"] for y, c in zip((*degraded, *out), (*clean, *clean))]
    n = len(degraded)
    real = simulate.load_testset("main", source="real")
    scores = {k: [] for k in ("PESQ-WB", "STOI", "SI-SDR", "level")}
    for item in real:
        y = model(item.degraded)
        mine, theirs = evaluate.intrusive(y, item.clean), evaluate.intrusive(item.degraded, item.clean)
        for k in ("PESQ-WB", "STOI", "SI-SDR"):
            scores[k].append(mine[k] - theirs[k])
        scores["level"].append(level_db(y, item.clean))
    stage = train.read_metrics(args.run_dir)[-1]
    print("| run | step (stage) | valid loss: input / yardstick (gain) / model | valid SI-SDR: input / model | "
          "valid PESQ-WB: input / model | real items, model - input: PESQ-WB / STOI / SI-SDR | real level vs target (dB) |")
    print(f"| {args.run_dir.name} | {model.info['step']:,} ({stage['stage']}) | {loss_in:.3f} / {loss_gain:.3f} ({gain:.2f}) / "
          f"{loss_out:.3f} | {train.mean_si_sdr(degraded, clean):.2f} / {train.mean_si_sdr(out, clean):.2f} | "
          f"{np.mean(pesq[:n]):.2f} / {np.mean(pesq[n:]):.2f} | {np.mean(scores['PESQ-WB']):+.3f} / "
          f"{np.mean(scores['STOI']):+.3f} / {np.mean(scores['SI-SDR']):+.2f} | {np.median(scores['level']):+.1f} |")


if __name__ == "__main__":
    main()
