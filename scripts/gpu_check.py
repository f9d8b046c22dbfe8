"""GPU check: full-profile HiFi-GAN training speed, peak memory and enhancement real-time factor.

Runs each of the three stages for a fixed number of steps with the real updates of
``hifigan_edu.train`` (in the config's precision) on real training pairs, then enhances 30 s of
audio. Prints one line per measurement; paste the output, with the device line, into
``docs/benchmarks.md``. About 3-5 minutes on one H100 with the defaults.

The GPU machine has torch, torchaudio, numpy, scipy and tqdm but not soundfile or
pyroomacoustics, so the pairs are made on a CPU machine first and carried along:

    python scripts/gpu_check.py --prepare                  # on the CPU machine: writes data/cache/gpu_pairs.pt (32 pairs, 4 MiB)
    PYTHONPATH=. python scripts/gpu_check.py               # on the GPU machine

``--config ci --device cpu --steps 2`` runs the same script in seconds on a CPU (the tests do).
``--config gpu-long --stages wavenet --set train.precision=bf16`` times one stage of another config,
with a value changed as ``train --set`` does: which precision a long run should use, in seconds.

``--compare`` times, side by side in one run on one device, today's path (fp32 eager, glibc's
default allocator, PyTorch's own backward for the postnet's and the waveform discriminators'
convolutions) against fp32 and bf16 with the allocator that keeps freed memory
(``runtime.keep_freed_memory``) and those convolutions' faster backward (``nn.FastConv1d``); bf16 is autocast where the device computes in bf16, on a GPU
with ``data.degrade_on_device``, plus the ``--set`` values (e.g. ``train.compile=true``). Each
path runs in a fresh process, on pairs that ``train.batches`` simulates with the config's loader
workers, as training does (so it needs the data tools: on the GPU machine, the wheels
``gpu_lease.sh`` installs), and each stage's line gives the share of its time spent waiting for
batches. ``--rounds R`` runs the three paths R times in turn and compares medians (a shared
machine's slow spells then slow every path alike). On the 2-core development machine, for the
CPU configs:

    python scripts/gpu_check.py --compare --config cpu --device cpu --steps 8 --rounds 2
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

from hifigan_edu import config as cfg
from hifigan_edu import enhance, hifigan, runtime, train
from hifigan_edu import nn as hnn
from hifigan_edu.audio import SAMPLE_RATE
from hifigan_edu.files import ROOT, atomic_path

PAIRS = ROOT / "data" / "cache" / "gpu_pairs.pt"


def prepare(path: Path, count: int, config: cfg.Config) -> None:
    """Write ``count`` (degraded, clean) training pairs of the config's segment length as int16 tensors (N, 1, T)."""
    d = config.data
    data = train.pair_dataset(config, "train", d.segment_s, count)
    items = [data[i] for i in range(count)]
    pairs = {key: (torch.stack([x[key] for x in items]) * 32767).round().to(torch.int16) for key in ("degraded", "clean")}
    with atomic_path(path) as tmp:
        torch.save(pairs, tmp)
    print(f"wrote {count} pairs of {d.segment_s} s to {path} ({path.stat().st_size / 2**20:.1f} MiB)")


def time_stages(config: cfg.Config, device: torch.device, stages: list[str], steps: int,
                next_batch: Callable[[], tuple[torch.Tensor, torch.Tensor]]) -> list[dict[str, float]]:  # fmt: skip
    """Train a fresh generator (seed 0) through ``stages``, 3 warm-up then ``steps`` timed generator steps each
    (the real updates of ``hifigan_edu.train``); per stage: steps/s, audio s/s (every batch a step uses),
    the share of the time spent waiting for batches, peak memory (GiB, CUDA only)."""
    torch.manual_seed(0)
    G, D = (m.to(device) for m in hifigan.build(config))
    if config.train.compile:
        G.compile()
        D.compile()
    autocast = train.autocast_for(config, device)
    results, waited = [], 0.0

    def batch() -> tuple[torch.Tensor, torch.Tensor]:
        nonlocal waited
        start = time.perf_counter()
        out = next_batch()
        waited += time.perf_counter() - start
        return out

    for stage in stages:
        objects = train.optimisers(config, stage, G, D)
        d_steps = config.stages[stage].d_steps if stage == "adversarial" else 0
        for i in range(3 + steps):
            if i == 3:  # warm-up done: start timing
                if device.type == "cuda":
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                start, waited = time.perf_counter(), 0.0
            for _ in range(d_steps):
                train.discriminator_step(G, D, *batch(), objects["d_opt"], config.loss.adversarial, autocast)
            train.generator_step(G, D, *batch(), objects["g_opt"], stage, config.loss, autocast)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        audio = steps * (1 + d_steps) * config.data.batch_size * config.data.segment_s
        memory = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else math.nan
        results.append(dict(stage=stage, steps_per_s=steps / seconds, audio_per_s=audio / seconds, data_share=waited / seconds, memory=memory))
    return results


PATHS = {  # today's path, then the config values and allocator each faster path uses
    "today": (["train.precision=fp32", "train.compile=false"], "0"),
    "fp32": (["train.precision=fp32", "train.compile=false"], "1"),
    "bf16": (["train.precision=bf16"], "1"),
}  # today's path also keeps PyTorch's own convolution backward (hifigan_edu.nn.FastConv1d)


def compare(args: argparse.Namespace) -> None:
    """Today's path (fp32 eager, glibc's default allocator) against fp32 and bf16 with the allocator that
    keeps freed memory (``runtime.keep_freed_memory``), all with the ``--set`` values, on one device:
    each path in a fresh process (the allocator is set when hifigan_edu is imported), one after the
    other, all on pairs that ``train.batches`` simulates with the config's loader workers. One line per
    stage and path, then the speed-ups over today's path. With ``--rounds`` R > 1 the three paths run
    R times in turn, so that a slow spell of a shared machine slows every path alike, and the
    speed-ups compare the medians."""
    rows: dict[str, list[list[dict]]] = {label: [] for label in PATHS}
    for round_ in range(1, args.rounds + 1):
        for label, (values, keep) in PATHS.items():
            on_gpu = label == "bf16" and args.device.startswith("cuda")  # and the GPU degrades the pairs itself
            sets = args.set + values + (["data.degrade_on_device=true"] if on_gpu else [])  # the path's own values win
            command = [sys.executable, __file__, "--path", label, "--config", args.config, "--device", args.device,
                       "--steps", str(args.steps), *(["--stages", *args.stages] if args.stages else [])]  # fmt: skip
            command += [f"--set={value}" for value in sets]
            out = subprocess.run(command, env=os.environ | {runtime.KEEP_MEMORY_ENV: keep}, capture_output=True, text=True)
            if out.returncode:
                sys.exit(f"path {label} failed:\n{out.stderr}")
            rows[label].append(json.loads(out.stdout.splitlines()[-1]))
            for r in rows[label][-1]:
                memory = "" if r["memory"] is None else f", peak memory {r['memory']:.1f} GiB"
                print(f"round {round_}, {label:5s} ({r['precision']}) stage {r['stage']:11s}: {r['steps_per_s']:6.2f} generator steps/s, "
                      f"{r['audio_per_s']:7.1f} audio s/s, {100 * r['data_share']:4.1f} % of the time waiting for batches{memory}")
    speed = {label: [statistics.median(r["audio_per_s"] for r in stage) for stage in zip(*runs)] for label, runs in rows.items()}
    for label in ("fp32", "bf16"):
        for stage, old, new in zip(rows["today"][0], speed["today"], speed[label]):
            print(f"speed-up of {label} over today, stage {stage['stage']:11s}: {new / old:.2f}x "
                  f"({new:.1f} against {old:.1f} audio s/s, medians of {args.rounds} rounds)")


def time_path(path: str, config: cfg.Config, device: torch.device, stages: list[str], steps: int) -> None:
    """One path of :func:`compare`, in its own process: prints its results as one line of JSON."""
    hnn.FastConv1d.forward_backward = path != "today"
    data = train.batches(config, 0, device)
    results = time_stages(config, device, stages, steps, lambda: next(data))
    precision = train.precision_on(config, device) + (" + compile" if config.train.compile else "")
    print(json.dumps([r | {"precision": precision, "memory": None if math.isnan(r["memory"]) else r["memory"]} for r in results]))


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
    parser.add_argument("--compare", action="store_true",
                        help="time today's path (fp32 eager, glibc's allocator) against fp32 and bf16 with the kept memory, on pairs the loaders simulate")
    parser.add_argument("--rounds", type=int, default=1, help="with --compare: run the three paths this many times in turn (medians)")
    parser.add_argument("--path", choices=PATHS, help=argparse.SUPPRESS)  # one path of --compare, in its own process
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
    device = torch.device(args.device)
    train.use_fastest_kernels(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    header = f"device: {name}; torch {torch.__version__}; config {config.name}; batch {config.data.batch_size} x {config.data.segment_s} s"
    if args.path:
        time_path(args.path, config, device, stages, args.steps)
        return
    if args.compare:
        if args.rounds < 1:
            sys.exit(f"--rounds must be at least 1, got {args.rounds}")
        print(header)
        compare(args)
        return
    if not args.pairs.is_file():
        sys.exit(f"no training pairs at {args.pairs}: run `python scripts/gpu_check.py --prepare` where the data tools are installed")
    pairs = {k: v.float() / 32767 for k, v in torch.load(args.pairs, weights_only=True).items()}
    n, batch = len(pairs["clean"]), config.data.batch_size
    segment = round(config.data.segment_s * SAMPLE_RATE)
    if pairs["clean"].shape[-1] < segment:
        sys.exit(f"{args.pairs} holds {pairs['clean'].shape[-1]}-sample pairs; config {config.name} needs {segment}: prepare again")
    precision = train.precision_on(config, device)
    print(f"{header}; precision {precision}")
    batches = (tuple(pairs[key][[(k * batch + j) % n for j in range(batch)], :, :segment].to(device) for key in ("degraded", "clean"))
               for k in itertools.count())  # fmt: skip
    for r in time_stages(config, device, stages, args.steps, lambda: next(batches)):
        memory = "n/a" if math.isnan(r["memory"]) else f"{r['memory']:.1f} GiB"
        print(f"stage {r['stage']:11s}: {r['steps_per_s']:6.2f} generator steps/s, {r['audio_per_s']:7.1f} audio s/s "
              f"(every batch the step uses), peak memory {memory}")
    torch.manual_seed(0)
    G = hifigan.generator(config).to(device).eval()
    autocast = train.autocast_for(config, device)
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
          f"({precision}, 10 s chunks, untrained weights)")


if __name__ == "__main__":
    main()
