"""GPU check: full-profile HiFi-GAN training speed, peak memory and enhancement real-time factor.

Runs each of the three stages for a fixed number of steps with the real updates of
``hifigan_edu.train`` (bf16 autocast on CUDA) on real training pairs, then enhances 30 s of
audio. Prints one line per measurement; paste the output, with the device line, into
``docs/benchmarks.md``. About 3-5 minutes on one H100 with the defaults.

The GPU machine has torch, torchaudio, numpy, scipy and tqdm but not soundfile or
pyroomacoustics, so the pairs are made on a CPU machine first and carried along:

    python scripts/gpu_check.py --prepare                  # on the CPU machine: writes data/cache/gpu_pairs.pt (32 pairs, 4 MiB)
    PYTHONPATH=. python scripts/gpu_check.py               # on the GPU machine

``--config ci --device cpu --steps 2`` runs the same script in seconds on a CPU (the tests do).
``--config gpu-long --stages wavenet --set train.precision=bf16`` times one stage of another config,
with a value changed as ``train --set`` does: which precision a long run should use, in seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from hifigan_edu import config as cfg
from hifigan_edu import enhance, hifigan, train
from hifigan_edu.audio import SAMPLE_RATE
from hifigan_edu.files import atomic_path

PAIRS = Path(__file__).resolve().parent.parent / "data" / "cache" / "gpu_pairs.pt"


def prepare(path: Path, count: int, config: cfg.Config) -> None:
    """Write ``count`` (degraded, clean) training pairs of the config's segment length as int16 tensors (N, 1, T)."""
    d = config.data
    data = train.pair_dataset(config, "train", d.segment_s, count)
    items = [data[i] for i in range(count)]
    pairs = {key: (torch.stack([x[key] for x in items]) * 32767).round().to(torch.int16) for key in ("degraded", "clean")}
    with atomic_path(path) as tmp:
        torch.save(pairs, tmp)
    print(f"wrote {count} pairs of {d.segment_s} s to {path} ({path.stat().st_size / 2**20:.1f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prepare", action="store_true", help="make the training pairs (on a machine with the data tools)")
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--config", default="full")
    parser.add_argument("--steps", type=int, default=40, help="timed generator steps per stage (after 3 warm-up steps)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--enhance-s", type=float, default=30.0, help="seconds of audio for the real-time factor")
    parser.add_argument("--stages", nargs="+", help="time only these stages (default: all of the config's)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="change one config value, as `train --set` does (e.g. train.precision=bf16)")
    args = parser.parse_args()
    try:
        config = cfg.load(args.config, args.set)
    except cfg.ConfigError as error:
        sys.exit(str(error))
    stages = args.stages or config.stage_names
    if unknown := set(stages) - set(config.stage_names):
        sys.exit(f"--stages: {', '.join(sorted(unknown))} not in config {config.name}; choose from {', '.join(config.stage_names)}")
    if args.prepare:
        prepare(args.pairs, 32, config)  # 32 x 2 s: small enough to travel with the 64 MiB a lease carries
        return
    if not args.pairs.is_file():
        sys.exit(f"no training pairs at {args.pairs}: run `python scripts/gpu_check.py --prepare` where the data tools are installed")
    device = torch.device(args.device)
    train.use_fastest_kernels(device)
    pairs = {k: v.float() / 32767 for k, v in torch.load(args.pairs, weights_only=True).items()}
    n, batch = len(pairs["clean"]), config.data.batch_size
    segment = round(config.data.segment_s * SAMPLE_RATE)
    if pairs["clean"].shape[-1] < segment:
        sys.exit(f"{args.pairs} holds {pairs['clean'].shape[-1]}-sample pairs; config {config.name} needs {segment}: prepare again")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device: {name}; torch {torch.__version__}; config {config.name}; batch {batch} x {config.data.segment_s} s; "
          f"precision {config.train.precision if device.type == 'cuda' else 'fp32'}")
    torch.manual_seed(0)
    G, D = (m.to(device) for m in hifigan.build(config))
    autocast = train.autocast_for(config, device)
    use_bf16 = config.train.precision == "bf16" and device.type == "cuda"  # for the printout

    def next_batch(k: int) -> tuple[torch.Tensor, torch.Tensor]:
        idx = [(k * batch + j) % n for j in range(batch)]
        return tuple(pairs[key][idx, :, :segment].to(device) for key in ("degraded", "clean"))

    k = 0
    for stage in stages:
        objects = train.optimisers(config, stage, G, D)
        d_steps = config.stages[stage].d_steps if stage == "adversarial" else 0
        for i in range(3 + args.steps):
            if i == 3:  # warm-up done: start timing
                if device.type == "cuda":
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                start = time.perf_counter()
            for _ in range(d_steps):
                train.discriminator_step(G, D, *next_batch(k), objects["d_opt"], config.loss.adversarial, autocast)
                k += 1
            train.generator_step(G, D, *next_batch(k), objects["g_opt"], stage, config.loss, autocast)
            k += 1
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        memory = f"{torch.cuda.max_memory_allocated(device) / 2**30:.1f} GiB" if device.type == "cuda" else "n/a"
        audio = args.steps * (1 + d_steps) * batch * config.data.segment_s
        print(f"stage {stage:11s}: {args.steps / seconds:6.2f} generator steps/s, {audio / seconds:7.1f} audio s/s "
              f"(every batch the step uses), peak memory {memory}")
    G.eval()
    x = torch.randn(int(args.enhance_s * SAMPLE_RATE)).mul(0.1).numpy()
    with autocast():
        enhance.enhance(G, x[: 10 * SAMPLE_RATE])  # warm-up, as timed: same precision, a full chunk
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    with autocast():
        enhance.enhance(G, x)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(f"enhance: {args.enhance_s:.0f} s of audio in {seconds:.2f} s, real-time factor {seconds / args.enhance_s:.3f} "
          f"({'bf16' if use_bf16 else 'fp32'}, 10 s chunks)")


if __name__ == "__main__":
    main()
