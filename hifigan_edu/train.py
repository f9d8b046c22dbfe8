"""Training HiFi-GAN (and HiFi-GAN-2) in stages, with checkpoints you can resume and a log you can plot.

Taught in ``notebooks/07_training_hifigan.ipynb`` (HiFi-GAN-2's predictor stage in
``08_hifigan2.ipynb``); run from the shell with
``python -m hifigan_edu train --config ci --run-dir runs/ci``.

The schedule (Su et al. 2020): stage ``wavenet`` trains the WaveNet alone on reconstruction
losses; stage ``postnet`` adds the postnet (losses on both outputs); stage ``adversarial``
adds the discriminators, updated ``d_steps`` times per generator update. HiFi-GAN-2
(notebook 08) first trains its MFCC predictor alone (stage ``predictor``) and then keeps it
frozen.

Each update is its own pass, so neither network ever receives the other's gradient:

* :func:`discriminator_step` judges a *detached* generator output (the postnet's), so the
  generator's parameters get no gradient and do not change;
* :func:`generator_step` freezes the discriminators (``requires_grad_(False)``) while their
  judgement flows back into the generator, and only the generator's optimiser steps.

One summed loss back-propagated into both networks breaks this (notebook 07, "pitfalls").
"""

from __future__ import annotations

import csv
import functools
import itertools
import math
import os
import random
import re
import signal
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from hifigan_edu import config as cfg
from hifigan_edu import hifigan, hifigan2, runtime
from hifigan_edu.audio import SAMPLE_RATE, si_sdr
from hifigan_edu.enhance import CheckpointError, load_generator, non_finite, read_checkpoint
from hifigan_edu.files import CannotWrite, atomic_path, make_dir, remove_leftovers

if TYPE_CHECKING:
    from hifigan_edu.data.simulate import PairDataset

CHECKPOINT = "checkpoint.pt"  # everything needed to resume
GENERATOR = "generator.pt"  # the generator and its config, for enhancement (what we ship)
METRICS = "metrics.csv"
COLUMNS = ("step", "stage", "predictor", "wavenet", "postnet", "adversarial", "feature_matching", "discriminator",
           "valid_loss", "valid_si_sdr", "valid_mcd", "lr_g", "lr_d", "elapsed_s", "audio_s_per_s")  # fmt: skip


class ProcessLost(RuntimeError):
    """Under ``torchrun``, another process of the job stopped (killed, or its machine lost); the message
    says which checkpoint is on disk."""


class NonFiniteLoss(RuntimeError):
    """A loss, a gradient, the weights or the generator's output became NaN or infinite; training
    stopped, and the message says which checkpoint is on disk (every checkpoint holds finite weights)."""


# ----------------------------------------------------------------------------- the two updates


def discriminator_step(G: hifigan.Generator, D: hifigan.Discriminators, degraded: Tensor, clean: Tensor,
                       opt: torch.optim.Optimizer, kind: str, autocast=nullcontext) -> float:  # fmt: skip
    """One discriminator update on (B, 1, T) audio: clean is real, the detached postnet output is fake."""
    with torch.no_grad(), autocast():
        _, enhanced = G(degraded)
    with autocast():
        loss = hifigan.discriminator_loss(D(clean), D(enhanced.detach()), kind)
    check_finite({"discriminator": loss})
    opt.zero_grad(set_to_none=True)
    loss.backward()
    check_gradients(opt)
    opt.step()
    return loss.item()


class GeneratorLoss(nn.Module):
    """The generator's loss terms in one stage: ``(degraded, clean)`` (B, 1, T) -> {term: loss}.

    Reconstruction losses on the WaveNet output, and from stage ``postnet`` on the postnet
    output; in stage ``adversarial`` the discriminators judge the postnet output (frozen) and
    add the adversarial and feature-matching terms. Stage ``predictor`` (HiFi-GAN-2) trains
    only the MFCC predictor, on :func:`hifigan2.predictor_loss`.

    A module, so that under ``torchrun`` DistributedDataParallel can wrap it (:func:`parallel`):
    the gradients of the weights the stage trains are then averaged over the processes.
    """

    def __init__(self, G: hifigan.Generator, D: hifigan.Discriminators | None, stage: str, losses: cfg.LossConfig,
                 autocast: Callable[[], AbstractContextManager] = nullcontext) -> None:  # fmt: skip
        super().__init__()
        self.G, self.D, self.stage, self.losses, self.autocast = G, D, stage, losses, autocast

    def forward(self, degraded: Tensor, clean: Tensor) -> dict[str, Tensor]:
        G, D, stage, losses, autocast = self.G, self.D, self.stage, self.losses, self.autocast
        if stage == "predictor":
            with autocast():
                return {"predictor": hifigan2.predictor_loss(G.conditioning, degraded, clean)}
        with autocast():
            first, final = G(degraded, postnet=stage != "wavenet")
        terms = {"wavenet": hifigan.reconstruction_loss(first, clean, losses)}
        if stage != "wavenet":
            terms["postnet"] = hifigan.reconstruction_loss(final, clean, losses)
        if stage == "adversarial":
            D.requires_grad_(False)
            try:
                with torch.no_grad(), autocast():
                    real = D(clean)
                with autocast():
                    fake = D(final)
                terms["adversarial"] = losses.adversarial_weight * hifigan.generator_adversarial_loss(fake, losses.adversarial)
                terms["feature_matching"] = losses.feature_matching_weight * hifigan.feature_matching_loss(real, fake)
            finally:
                D.requires_grad_(True)
        return terms


def generator_step(G: hifigan.Generator, D: hifigan.Discriminators | None, degraded: Tensor, clean: Tensor,
                   opt: torch.optim.Optimizer, stage: str, losses: cfg.LossConfig, autocast=nullcontext) -> dict[str, float]:  # fmt: skip
    """One generator update on (B, 1, T) audio (the terms of :class:`GeneratorLoss`); returns each loss term."""
    return update(GeneratorLoss(G, D, stage, losses, autocast)(degraded, clean), opt)


def update(terms: dict[str, Tensor], opt: torch.optim.Optimizer) -> dict[str, float]:
    """Back-propagate the sum of the loss ``terms`` and step ``opt``, refusing NaN or infinite losses
    and gradients; returns each term's value."""
    check_finite(terms)
    opt.zero_grad(set_to_none=True)
    sum(terms.values()).backward()
    check_gradients(opt)
    opt.step()
    return {k: v.item() for k, v in terms.items()}


def use_fastest_kernels(device: torch.device) -> None:
    """On CUDA, let cuDNN time its kernels once per input shape and keep the fastest (the training
    segments have one fixed shape, so the timing pays off after the first steps), unless
    :func:`runtime.seed_everything` asked for deterministic kernels (as the notebooks do)."""
    if device.type == "cuda" and not torch.backends.cudnn.deterministic:
        torch.backends.cudnn.benchmark = True


def cpu_has_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (x86 AVX512-BF16 or AMX), where CPU autocast pays off;
    elsewhere oneDNN emulates bf16, slower than float32."""
    return torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported()


def precision_on(config: cfg.Config, device: torch.device) -> str:
    """The precision the forward passes run in on ``device``: ``config.train.precision``, except ``fp32``
    for ``bf16`` on a CPU without native bf16 (with a one-line note)."""
    if config.train.precision == "bf16" and device.type == "cpu" and not cpu_has_bf16():
        note_once("note: this CPU has no native bfloat16 (AVX512-BF16 or AMX), so training runs in float32")
        return "fp32"
    return config.train.precision


@functools.cache
def note_once(text: str) -> None:
    """Print ``text`` the first time it is asked for in this process."""
    print(text)


def autocast_for(config: cfg.Config, device: torch.device) -> Callable[[], AbstractContextManager]:
    """A factory of the context the forward passes run in: bf16 autocast on CUDA or a bf16 CPU for
    ``precision: bf16`` (:func:`precision_on`), plain float32 otherwise.

    Under autocast the convolutions, matrix products and recurrent layers run in bf16; what needs
    float32 numerically stays there: the STFTs and logs of the losses (``hifigan.log_magnitude``),
    the mel and MFCC features (``nn.MelDiscriminator.spectrogram``, ``hifigan2.Features``), every
    loss's reduction (the losses cast their inputs to float32 first), and the WaveNet's residual
    stream and skip sum (``nn.WaveNet.forward``). On the CPU the mel discriminator's convolutions stay
    in float32 too (``nn.MelDiscriminator.forward``), and so do the weight gradients of the postnet and
    the waveform discriminators (``nn.FastConv1d``).
    """
    if precision_on(config, device) == "bf16":
        return lambda: torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext


def check_finite(terms: dict[str, Tensor]) -> None:
    """Raise :class:`NonFiniteLoss` naming the first NaN or infinite term; under ``torchrun`` every process
    raises as soon as one of them has such a term (the others would wait for it forever)."""
    bad = torch.stack([~torch.isfinite(v.detach()) for v in terms.values()]).int()
    if dist.is_initialized():
        dist.all_reduce(bad, op=dist.ReduceOp.MAX)
    for (name, value), is_bad in zip(terms.items(), bad.tolist()):
        if is_bad:
            detail = "not finite in another process" if torch.isfinite(value) else value.item()
            raise NonFiniteLoss(f"the {name} loss is {detail}")


def check_gradients(opt: torch.optim.Optimizer) -> None:
    """Raise :class:`NonFiniteLoss` before a step that a NaN or infinite gradient would poison."""
    grads = [p.grad for group in opt.param_groups for p in group["params"] if p.grad is not None]
    norm = torch.nn.utils.get_total_norm(grads)
    if not torch.isfinite(norm):
        raise NonFiniteLoss(f"the gradient norm is {norm.item()} (the losses were finite)")


# ----------------------------------------------------------------------------- data


def batches(config: cfg.Config, start: int, device: torch.device, rank: int = 0, world: int = 1) -> Iterator[tuple[Tensor, Tensor]]:
    """(degraded, clean) batches (B / world, 1, segment) from batch number ``start`` on: process ``rank``'s
    share of each global batch of B = ``config.data.batch_size``.

    Batch ``k`` holds items ``k * B ... (k + 1) * B - 1`` of the training ``PairDataset``, rank ``r``
    the ``r``-th of ``world`` equal slices of them, and item ``i`` is a pure function of (seed, i): a
    resumed run sees exactly the batches it would have, and ``world`` processes together see the
    pairs one process sees. With ``data.degrade_on_device`` the loaders make each item's parts and
    ``device`` mixes them (``simulate.degrade_batch``): the same pairs, to float32 rounding.
    """
    from hifigan_edu.data.simulate import degrade_batch, rooms_on  # with the room simulator, as in pair_dataset

    d = config.data
    share = d.batch_size // world
    data = pair_dataset(config, "train", d.segment_s, 2**62)
    data.undegraded = d.degrade_on_device
    rooms = rooms_on(data.rooms, device) if d.degrade_on_device else None
    items = ([k * d.batch_size + rank * share + j for j in range(share)] for k in itertools.count(start))
    loader = torch.utils.data.DataLoader(data, batch_sampler=items, num_workers=d.workers, persistent_workers=d.workers > 0)
    for batch in loader:
        if rooms is None:
            yield batch["degraded"].to(device), batch["clean"].to(device)
        else:  # the parts, mixed here (data.degrade_on_device)
            speech, noise, room = (batch[key].to(device) for key in ("speech", "noise", "room"))
            yield degrade_batch(speech, noise, batch["snr_db"].to(device, torch.float32), room, rooms)


def pair_dataset(config: cfg.Config, split: str, seconds: float, length: int) -> PairDataset:
    """``length`` pairs of ``seconds`` s from ``split`` of the config's corpus, simulated as ``config.data``
    says (its rooms, SNRs and noises; its speed perturbation and dry and noiseless shares on the training split only)."""
    from hifigan_edu.data import corpus  # the corpus and the room simulator are needed only here
    from hifigan_edu.data.simulate import PairDataset

    d = config.data
    return PairDataset(split, round(seconds * SAMPLE_RATE), length=length, seed=config.train.seed, rirs=d.rirs,
                       snr_range=d.snr_range, drr_range=d.drr_range, distance=d.distance_range,
                       noise_types=d.noise_types, corpus_dir=corpus.resolve(d.corpus),
                       speed_range=d.speed_range if split == "train" else (1.0, 1.0),
                       dry_fraction=d.dry_fraction if split == "train" else 0.0,
                       noiseless_fraction=d.noiseless_fraction if split == "train" else 0.0)  # fmt: skip


def validation_set(config: cfg.Config) -> tuple[Tensor, Tensor]:
    """The fixed validation clips (N, 1, T): degraded and clean, from the valid speakers."""
    d = config.data
    data = pair_dataset(config, "valid", d.valid_seconds, d.valid_items)
    items = [data[i] for i in range(len(data))]
    return torch.stack([x["degraded"] for x in items]), torch.stack([x["clean"] for x in items])


def mean_si_sdr(estimate: Tensor, reference: Tensor) -> float:
    """Mean SI-SDR in dB (``hifigan_edu.audio.si_sdr``) over a batch of (N, 1, T) signals."""
    pairs = zip(estimate.float().cpu().numpy()[:, 0], reference.float().cpu().numpy()[:, 0])
    return float(np.mean([si_sdr(e, r) for e, r in pairs]))


# ----------------------------------------------------------------------------- torchrun


@dataclass(frozen=True)
class Processes:
    """This process's place in a ``torchrun`` job (rank 0 of 1 without torchrun)."""

    rank: int = 0  # 0 writes the checkpoints, metrics.csv and the progress bar
    world: int = 1  # processes in all, over every machine
    local: int = 0  # rank on this machine: which GPU it uses
    joined: bool = False  # whether join_processes started the process group (and train() ends it)

    @property
    def lead(self) -> bool:
        return self.rank == 0


def join_processes(config: cfg.Config, device_type: str = "cpu") -> Processes:
    """Under ``torchrun`` (which sets ``WORLD_SIZE``, ``RANK``, ``LOCAL_RANK``), join its process group:
    NCCL between GPUs (``device_type`` ``cuda``), gloo between CPU processes. Without it, a single process.

    Raises:
        cfg.ConfigError: the global batch does not split evenly over the processes.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Processes()
    if config.data.batch_size % world:
        raise cfg.ConfigError(f"data.batch_size {config.data.batch_size} is the global batch and must split evenly over "
                              f"the {world} processes; choose a multiple of {world} (--set data.batch_size=...).")  # fmt: skip
    joined = not dist.is_initialized()
    if joined:
        dist.init_process_group("nccl" if device_type == "cuda" else "gloo")
    return Processes(dist.get_rank(), world, int(os.environ.get("LOCAL_RANK", "0")), joined)


def parallel(module: nn.Module, processes: Processes, device: torch.device, unused: bool = False) -> nn.Module:
    """``module`` in DistributedDataParallel under ``torchrun`` (each backward pass then averages, over the
    processes, the gradients of the weights that required one when it was wrapped), itself otherwise.
    ``unused``: some of those weights may get no gradient, and DDP must not wait for theirs."""
    if processes.world == 1:
        return module
    with warnings.catch_warnings():  # torch 2.14 renames broadcast_buffers; 2.11 (on the GPU machines) knows only it
        warnings.simplefilter("ignore", FutureWarning)
        return DistributedDataParallel(module, device_ids=[device] if device.type == "cuda" else None,
                                       find_unused_parameters=unused, broadcast_buffers=False)  # the buffers are constants


def stopped_by_torchrun(signum: int, frame: object) -> None:
    """SIGTERM handler: torchrun stops every process of a job when one of them has failed (or it was interrupted).
    Raises once; a second SIGTERM must not cut the message short."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise ProcessLost("another process of this torchrun job stopped, so torchrun stopped this one (SIGTERM)")


def mean_over_processes(values: dict[str, float], processes: Processes, device: torch.device) -> dict[str, float]:
    """``values`` averaged over the processes (each holds the losses of its share of the global batch)."""
    if processes.world == 1:
        return values
    tensor = torch.tensor(list(values.values()), dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return dict(zip(values, (tensor / processes.world).tolist()))


def stage_modules(G: hifigan.Generator, D: hifigan.Discriminators, stage: str, config: cfg.Config, autocast: Callable[[], AbstractContextManager],
                  processes: Processes, device: torch.device) -> tuple[nn.Module, nn.Module]:  # fmt: skip
    """What each update of ``stage`` calls: the generator's loss (:class:`GeneratorLoss`) and the
    discriminators, under torchrun in DistributedDataParallel (:func:`parallel`).

    The generator's weights that the stage does not train are frozen (``requires_grad`` off), so
    no gradient is computed for them and DDP averages only those it trains.
    """
    G.requires_grad_(False)
    for p in trained_parameters(config, stage, G):
        p.requires_grad_(True)
    D.requires_grad_(False)  # the generator's loss trains none of the discriminators' weights
    generator_loss = GeneratorLoss(G, D, stage, config.loss, autocast)
    generator_loss = parallel(generator_loss, processes, device, unused=stage != "predictor")  # the WaveNet's last residual convolution feeds nothing
    D.requires_grad_(True)
    return generator_loss, parallel(D, processes, device) if stage == "adversarial" else D


def agree(flag: bool, processes: Processes, device: torch.device) -> bool:
    """Whether ``flag`` holds in any process (itself without torchrun)."""
    if processes.world == 1:
        return flag
    value = torch.tensor([int(flag)], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


# ----------------------------------------------------------------------------- the run


def stage_at(config: cfg.Config, step: int) -> tuple[str, int]:
    """(stage name, steps already done in it) at global generator step ``step``; ``("done", 0)`` past the end."""
    for name in config.stage_names:
        steps = config.stages[name].steps
        if step < steps:
            return name, step
        step -= steps
    return "done", 0


def trained_parameters(config: cfg.Config, stage: str, G: nn.Module) -> list[nn.Parameter]:
    """The generator's weights that ``stage`` trains.

    HiFi-GAN-2's predictor trains in stage ``predictor`` only; its upsampler, if learned, trains
    with the WaveNet.
    """
    wavenet = ("wavenet.", "conditioning.upsampler.")  # parameter names, by prefix
    trained = {"predictor": ("conditioning.predictor.",), "wavenet": wavenet,
               "postnet": wavenet + ("postnet.",) if config.train.postnet_trains_wavenet else ("postnet.",),
               "adversarial": wavenet + ("postnet.",)}[stage]  # fmt: skip
    return [p for name, p in G.named_parameters() if name.startswith(trained)]


def optimisers(config: cfg.Config, stage: str, G: nn.Module, D: nn.Module) -> dict[str, object]:
    """The optimisers and linear-decay schedules of one stage (Adam, as in the paper), over the
    generator's :func:`trained_parameters` (and in stage ``adversarial`` the discriminators')."""
    s = config.stages[stage]
    out: dict[str, object] = {"g_opt": torch.optim.Adam(trained_parameters(config, stage, G), lr=s.lr_g)}
    if stage == "adversarial":
        out["d_opt"] = torch.optim.Adam(D.parameters(), lr=s.lr_d)
    for key in list(out):
        out[key.replace("opt", "sched")] = torch.optim.lr_scheduler.LinearLR(
            out[key], start_factor=1.0, end_factor=s.lr_end_factor, total_iters=max(1, s.steps)
        )
    return out


def rng_state() -> dict[str, object]:
    """Every random generator's state, as tensors and plain values (a checkpoint loads with ``weights_only``)."""
    numpy = np.random.get_state(legacy=False)
    numpy["state"]["key"] = numpy["state"]["key"].tolist()  # 624 integers
    return {"python": random.getstate(), "numpy": numpy, "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []}  # fmt: skip


def set_rng_state(state: dict[str, object]) -> None:
    random.setstate(state["python"])
    numpy = state["numpy"]
    np.random.set_state(numpy | {"state": numpy["state"] | {"key": np.array(numpy["state"]["key"], dtype=np.uint32)}})
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class Run:
    """A training run's state: what a checkpoint holds."""

    config: cfg.Config
    G: hifigan.Generator
    D: hifigan.Discriminators
    step: int = 0  # generator updates done
    batch: int = 0  # batches drawn (the discriminator steps draw their own)
    elapsed_s: float = 0.0  # training time over all sessions
    stage_objects: dict[str, object] | None = None  # optimisers and schedules of the current stage
    stage: str = ""
    init: str = ""  # the checkpoint whose generator weights the run started from ("" for random weights)
    saved_step: int | None = None  # the step of the checkpoint in the run folder (None: there is none)


def check_weights(run: Run, probe: Tensor | None = None) -> None:
    """Raise :class:`NonFiniteLoss` unless every weight of G and D is finite, and so is G's output on
    the (N, 1, T) ``probe`` clips if given (huge finite weights give an infinite output)."""
    for name, module in (("generator", run.G), ("discriminators", run.D)):
        bad, total = non_finite(module.state_dict())
        if bad:
            raise NonFiniteLoss(f"{bad:,} of the {total:,} {name} weights are NaN or infinite")
    if probe is not None:
        with torch.no_grad():
            bad = int((~torch.isfinite(run.G(probe, postnet=run.stage not in ("predictor", "wavenet"))[1])).sum())
        if bad:
            raise NonFiniteLoss(f"the generator's output on a validation clip has {bad:,} NaN or infinite samples")


def on_disk(run: Run, run_dir: Path) -> str:
    """What the run folder holds to resume from, in words, for messages."""
    if run.saved_step is None:
        return "no checkpoint was written, so there is nothing to resume"
    return f"{run_dir / CHECKPOINT} holds step {run.saved_step}, the last checkpoint written (its weights are finite)"


def save_checkpoint(run: Run, run_dir: Path, probe: Tensor | None = None) -> Path:
    """Write ``checkpoint.pt`` (to resume) and ``generator.pt`` (to enhance), each atomically, after
    :func:`check_weights` (a checkpoint never holds a NaN or infinite weight, nor, given ``probe``
    clips, a generator whose output on them is not finite)."""
    check_weights(run, probe)
    state = {
        "kind": "hifigan-checkpoint", "config": run.config.to_dict(), "step": run.step, "batch": run.batch,
        "elapsed_s": run.elapsed_s, "stage": run.stage, "init": run.init, "generator": run.G.state_dict(), "discriminators": run.D.state_dict(),
        "stage_objects": {k: v.state_dict() for k, v in (run.stage_objects or {}).items()}, "rng": rng_state(),
    }  # fmt: skip
    with atomic_path(run_dir / CHECKPOINT) as tmp:
        torch.save(state, tmp)
    run.saved_step = run.step  # what checkpoint.pt holds now, even if the export below fails
    export = {"kind": "hifigan-generator", "config": state["config"], "step": run.step, "elapsed_s": run.elapsed_s,
              "init": run.init, "generator": run.G.state_dict()}  # fmt: skip
    with atomic_path(run_dir / GENERATOR) as tmp:
        torch.save(export, tmp)
    return run_dir / CHECKPOINT


def config_differences(a: dict, b: dict, prefix: str = "") -> list[str]:
    """Keys whose values differ between two config dicts, as dotted paths."""
    keys = sorted(set(a) | set(b))
    out = []
    for k in keys:
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += config_differences(va, vb, f"{prefix}{k}.")
        elif va != vb:
            out.append(f"{prefix}{k}: {va!r} -> {vb!r}")
    return out


# settings that change how a run computes or reports, not what it learns from: --resume accepts new values
# (bf16 autocast changes the rounding of the forward passes, and compilation how they run, not the model, the data
# or the optimiser)
RESUMABLE_CHANGES = ("train.log_every", "train.valid_every", "train.checkpoint_every", "data.workers", "data.degrade_on_device",
                     "train.precision", "train.compile")


def start_run(config: cfg.Config, run_dir: Path, resume: bool, device: torch.device, init: str | Path | None = None) -> Run:
    """A fresh run, or the one saved in ``run_dir`` with ``resume``.

    A fresh run with ``init`` (a ``generator.pt`` or ``checkpoint.pt``) starts its generator from
    that checkpoint's weights instead of random ones, and goes through ``config``'s stages from
    step 0: fine-tuning, e.g. the shipped generator with another loss weight.

    Raises:
        FileExistsError: ``run_dir`` holds a checkpoint and ``resume`` is false (nothing is overwritten).
        FileNotFoundError: ``resume`` without a checkpoint, or no file at ``init``.
        cfg.ConfigError: the checkpoint was trained with another config (names the keys that differ), or
            ``init``'s generator is not the one ``config`` builds, or ``init`` is given with ``resume``.
        CheckpointError: the checkpoint (or ``init``) would run code, is damaged, or is a generator
            export where a run checkpoint is needed (``enhance.read_checkpoint``).
    """
    path = run_dir / CHECKPOINT
    if path.exists() and not resume:
        raise FileExistsError(f"{path} exists; pass --resume to continue that run, or choose another --run-dir.")
    if init is not None and resume:
        raise cfg.ConfigError("--init starts a new run from a generator's weights; a resumed run has its own. Drop --init or --resume.")
    torch.manual_seed(config.train.seed)
    G, D = hifigan.build(config)
    run = Run(config, G.to(device), D.to(device))
    if init is not None:
        if not Path(init).exists():
            raise FileNotFoundError(f"--init: no checkpoint at {init}; give a generator.pt (or checkpoint.pt) that `train` wrote.")
        source, source_config, _ = load_generator(init)
        keys = ("model", "generator") + (("conditioning",) if config.model == "hifigan2" else ())
        source_dict, config_dict = source_config.to_dict(), config.to_dict()
        differ = config_differences({k: source_dict[k] for k in keys}, {k: config_dict[k] for k in keys})
        if differ:
            raise cfg.ConfigError(f"--init {init}: its generator is not the one config {config.name!r} builds; "
                                  f"differences: {'; '.join(differ)}. Choose a config with the same generator.")  # fmt: skip
        run.G.load_state_dict(source.state_dict())
        run.init = str(init)
    if not resume:
        return run
    if not path.exists():
        raise FileNotFoundError(f"--resume: no {CHECKPOINT} in {run_dir}; start without --resume.")
    state = read_checkpoint(path, kinds=("hifigan-checkpoint", "hifigan-generator"))  # on the CPU, where RNG states must stay
    if state["kind"] == "hifigan-generator":
        raise CheckpointError(f"--resume: {path} is a generator export (generator.pt), which has no discriminators, "
                              f"optimisers or random state to resume from; start a new run from its weights with "
                              f"--init {path} and another --run-dir.")  # fmt: skip
    try:
        saved = cfg.from_dict(cfg.Config, state["config"]).to_dict()  # keys added to the config since then take their defaults
    except cfg.ConfigError as err:
        raise CheckpointError(f"--resume: {path}: its config no longer matches this version of hifigan-edu: {err}") from None
    changed = [d for d in config_differences(saved, config.to_dict()) if d.split(":")[0] not in RESUMABLE_CHANGES]
    if changed:
        raise cfg.ConfigError(f"{path} was trained with another config; differences: {'; '.join(changed)}. "
                              "Resume with the same config, or start a new --run-dir.")  # fmt: skip
    try:
        run.G.load_state_dict(state["generator"])
        run.D.load_state_dict(state["discriminators"])
        run.step, run.batch, run.elapsed_s, run.stage = state["step"], state["batch"], state["elapsed_s"], state["stage"]
        run.init = state.get("init", "")  # checkpoints from before --init existed have none
        if run.stage and run.stage != "done":
            run.stage_objects = optimisers(config, run.stage, run.G, run.D)
            for key, obj in run.stage_objects.items():
                obj.load_state_dict(state["stage_objects"][key])
        set_rng_state(state["rng"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"--resume: {path} is damaged ({type(err).__name__}: {err}); resume from a copy, or start "
                              "a new --run-dir (--init with its generator.pt keeps the weights).") from None  # fmt: skip
    run.saved_step = run.step
    return run


def log_rows(run_dir: Path, rows: list[dict[str, object]], keep_until: int | None = None) -> None:
    """Append ``rows`` to ``metrics.csv``; with ``keep_until``, first drop rows logged after that step
    (a resumed run repeats them)."""
    path = run_dir / METRICS
    old = []
    if path.exists():
        with path.open(newline="") as f:
            old = list(csv.DictReader(f))
    if keep_until is not None:
        old = [r for r in old if int(r["step"]) <= keep_until]
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(old + rows)


def read_metrics(run_dir: Path) -> list[dict[str, str]]:
    """The rows of a run's ``metrics.csv``."""
    with (Path(run_dir) / METRICS).open(newline="") as f:
        return list(csv.DictReader(f))


def train(config: cfg.Config, run_dir: str | Path, resume: bool = False, device: torch.device | None = None,
          max_steps: int | None = None, max_minutes: float | None = None, progress: bool = True,
          init: str | Path | None = None) -> Run:  # fmt: skip
    """Train ``config`` into ``run_dir`` (checkpoint, generator export, metrics.csv); returns the run.

    ``init`` starts a new run from another checkpoint's generator weights (see :func:`start_run`).

    ``max_steps`` stops early after that many generator steps in this call, ``max_minutes``
    after the first step that ends past that much wall time (for a lease of fixed length); either
    way the run stops with a validation row and a checkpoint, and can be resumed later. A NaN or
    infinite loss, gradient or weight, or a generator whose output on a validation clip is not
    finite when a checkpoint is due, raises :class:`NonFiniteLoss`, a disk that refuses a write
    :class:`files.CannotWrite`; either message says which checkpoint is on disk.

    Raises:
        ValueError: ``max_steps`` < 1 or ``max_minutes`` is not a finite number >= 0.
        NonFiniteLoss: a loss, gradient, weight or the checkpoint's validation-clip output is not finite.
        files.CannotWrite: the disk refused a write (full, read-only, a file in the way).
        ProcessLost: under ``torchrun``, another process of the job stopped.
        Those of :func:`start_run`.

    Under ``torchrun`` every process calls it (``python -m hifigan_edu train`` does): each trains on its
    share of every batch (:func:`batches`), DistributedDataParallel averages the gradients, and rank 0
    alone validates and writes; all of them stop at the same step.
    """
    called = time.perf_counter()  # --max-minutes counts from here, setup included
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be >= 1 (the generator steps to train in this call), got {max_steps}")
    if max_minutes is not None and not (math.isfinite(max_minutes) and max_minutes >= 0):
        raise ValueError(f"max_minutes must be a finite number >= 0, got {max_minutes}")
    run_dir = Path(run_dir)
    device = device or runtime.get_device()
    processes = join_processes(config, device.type)
    if device.type == "cuda" and processes.world > 1:
        device = torch.device("cuda", processes.local)
        torch.cuda.set_device(device)
    use_fastest_kernels(device)
    run = start_run(config, run_dir, resume, device, init)
    if processes.world > 1:  # every process must have read the same checkpoint: one run folder that they all share
        steps = torch.tensor([run.step, -run.step], device=device)
        dist.all_reduce(steps, op=dist.ReduceOp.MAX)
        if steps[0] != -steps[1]:
            raise CheckpointError(f"the processes of this torchrun job found different checkpoints in {run_dir} (steps "
                                  f"{-steps[1].item()} to {steps[0].item()}): --run-dir must be a folder every machine shares.")  # fmt: skip
    if processes.lead:
        make_dir(run_dir)
        for name in (CHECKPOINT, GENERATOR, METRICS):  # what a process killed while writing left behind
            remove_leftovers(run_dir / name)
    if config.train.compile:
        run.G.compile()
        run.D.compile()
    total = sum(config.stages[name].steps for name in config.stage_names)
    autocast = autocast_for(config, device)

    valid_degraded, valid_clean = (t.to(device) for t in validation_set(config))

    @torch.no_grad()
    def valid_mcd(predicted: bool) -> str:  # HiFi-GAN-2: MCD of the predicted (or the degraded) MFCCs against the clean clips
        k = run.G.conditioning
        mfcc = k.predict(valid_degraded) if predicted else k.features(valid_degraded)
        return f"{hifigan2.mel_cepstral_distortion(mfcc, k.features(valid_clean), config.conditioning.n_mels).mean().item():.3f}"

    def validate() -> dict[str, str]:  # reconstruction loss and SI-SDR of the stage's output on the validation clips
        if run.stage == "predictor":  # or the predicted MFCCs' mel-cepstral distortion
            return dict(valid_mcd=valid_mcd(predicted=True))
        with torch.no_grad(), autocast():
            _, y = run.G(valid_degraded, postnet=run.stage != "wavenet")
        loss = hifigan.reconstruction_loss(y, valid_clean, config.loss).item()
        return dict(valid_loss=f"{loss:.5f}", valid_si_sdr=f"{mean_si_sdr(y, valid_clean):.3f}")

    rows: list[dict[str, object]] = []
    if processes.lead:
        log_rows(run_dir, [], keep_until=run.step if resume else -1)  # a resumed run repeats the rows after its checkpoint
    if run.step == 0 and processes.lead:
        rows.append(dict(step=0, stage="input", valid_loss=f"{hifigan.reconstruction_loss(valid_degraded, valid_clean, config.loss).item():.5f}",
                         valid_si_sdr=f"{mean_si_sdr(valid_degraded, valid_clean):.3f}"))
        if run.G.conditioning is not None:
            rows[0]["valid_mcd"] = valid_mcd(predicted=False)
    data = batches(config, run.batch, device, processes.rank, processes.world)
    sums: dict[str, float] = {}
    count, window_start, stop_at = 0, time.perf_counter(), run.step + (max_steps if max_steps is not None else total)
    deadline = called + 60 * max_minutes if max_minutes is not None else math.inf
    bar = tqdm(total=total, initial=run.step, desc=config.name, unit="step", disable=not (progress and processes.lead))
    where, wrapped = f"step {run.step + 1}", ""
    if processes.world > 1:  # torchrun stops the other processes with SIGTERM when one fails: say so, and where
        signal.signal(signal.SIGTERM, stopped_by_torchrun)
    try:
        while run.step < min(total, stop_at):
            stage, _ = stage_at(config, run.step)
            if stage != run.stage or run.stage_objects is None:
                run.stage, run.stage_objects = stage, optimisers(config, stage, run.G, run.D)
            if stage != wrapped:
                generator_loss, discriminators = stage_modules(run.G, run.D, stage, config, autocast, processes, device)
                wrapped = stage
            objects, s = run.stage_objects, config.stages[stage]
            where = f"step {run.step + 1} ({stage})"  # for the message if this step fails
            step_start = time.perf_counter()
            if stage == "adversarial":
                for _ in range(s.d_steps):
                    degraded, clean = next(data)
                    run.batch += 1
                    sums["discriminator"] = sums.get("discriminator", 0.0) + discriminator_step(
                        run.G, discriminators, degraded, clean, objects["d_opt"], config.loss.adversarial, autocast) / s.d_steps
            degraded, clean = next(data)
            run.batch += 1
            for k, v in update(generator_loss(degraded, clean), objects["g_opt"]).items():
                sums[k] = sums.get(k, 0.0) + v
            for key in ("g_sched", "d_sched"):
                if key in objects:
                    objects[key].step()
            run.step += 1
            count += 1
            run.elapsed_s += time.perf_counter() - step_start
            if agree(time.perf_counter() >= deadline, processes, device):  # every process stops at the same step
                stop_at = run.step  # time is up: log, validate and checkpoint this step, then stop
            bar.update(1)
            stage_end = stage_at(config, run.step)[0] != stage
            if run.step % config.train.log_every == 0 or stage_end or run.step == stop_at:
                seconds = time.perf_counter() - window_start
                sums = mean_over_processes(sums, processes, device)  # the loss of the whole global batch
                row = dict(step=run.step, stage=stage, **{k: f"{v / count:.5f}" for k, v in sums.items()},
                           lr_g=f"{objects['g_sched'].get_last_lr()[0]:.3g}", elapsed_s=f"{run.elapsed_s:.1f}",
                           audio_s_per_s=f"{count * (1 + (s.d_steps if stage == 'adversarial' else 0)) * config.data.batch_size * config.data.segment_s / seconds:.2f}")  # fmt: skip
                if "d_sched" in objects:
                    row["lr_d"] = f"{objects['d_sched'].get_last_lr()[0]:.3g}"
                if (run.step % config.train.valid_every == 0 or stage_end or run.step == stop_at) and processes.lead:
                    row.update(validate())
                if processes.lead:
                    rows.append(row)
                bar.set_postfix({k: f"{v / count:.3g}" for k, v in sums.items()})
                sums, count, window_start = {}, 0, time.perf_counter()
            if run.step % config.train.checkpoint_every == 0 or stage_end or run.step == stop_at:
                where = f"after step {run.step} ({stage})"
                if processes.lead:
                    log_rows(run_dir, rows)
                    rows = []
                    save_checkpoint(run, run_dir, probe=valid_degraded[:1])
                else:  # the same weights as rank 0's: it fails here when rank 0 does
                    check_weights(run, probe=valid_degraded[:1])
                    run.saved_step = run.step  # what rank 0 has just written
    except NonFiniteLoss as err:
        advice = (f"train with a lower learning rate for this stage (--set stages.{run.stage}.lr_g=...)"
                  + (" into a new --run-dir: resuming replays the same batches and would fail again" if run.saved_step is not None else ""))  # fmt: skip
        raise NonFiniteLoss(f"{where}: {err}. Training stopped; {on_disk(run, run_dir)}. To go on, {advice}.") from None
    except CannotWrite as err:
        raise CannotWrite(f"{err}. Training stopped at step {run.step}; {on_disk(run, run_dir)}.") from None
    except RuntimeError as err:  # ProcessLost, or a collective that failed because another process is gone
        peer_gone = isinstance(err, (ProcessLost, dist.DistError)) or "by peer" in str(err)  # gloo's RuntimeError
        if processes.world == 1 or not peer_gone:
            raise
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # torchrun's SIGTERM must not cut this message short
        detail = re.sub(r"^\[[^]]*\] *", "", str(err).splitlines()[0]).split(". ")[0]  # gloo: "[pair.cc:561] Connection closed by peer ..."
        reason = err if isinstance(err, ProcessLost) else f"another process of this torchrun job stopped ({detail})"
        advice = "run the same torchrun command with --resume" if run.saved_step is not None else "run the same torchrun command again"
        raise ProcessLost(f"{where}: {reason}. Training stopped; {on_disk(run, run_dir)}. To go on, {advice}.") from None
    finally:
        bar.close()
        run.G.requires_grad_(True)  # as built: stage_modules froze what each stage did not train
        if rows and processes.lead:  # only when stopped by an error: a disk that refuses must not hide that error
            with suppress(OSError):
                log_rows(run_dir, rows)
        if processes.world > 1:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if processes.joined:
            dist.destroy_process_group()
    if run.step >= total:
        run.stage = "done"
    return run


def plot_metrics(run_dir: str | Path):
    """Plot a run's logged losses and validation SI-SDR against the step, stages marked; returns the figure."""
    import matplotlib.pyplot as plt

    rows = read_metrics(Path(run_dir))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 3.8))
    for key in ("predictor", "wavenet", "postnet", "adversarial", "feature_matching", "discriminator"):
        points = [(int(r["step"]), float(r[key])) for r in rows if r.get(key)]
        if points:
            ax1.plot(*zip(*points), label=key)
    points = [(int(r["step"]), float(r["valid_si_sdr"])) for r in rows if r.get("valid_si_sdr") and r["stage"] != "input"]
    if points:
        ax2.plot(*zip(*points), "o-", color="C2", label="enhanced")
    inputs = [float(r["valid_si_sdr"]) for r in rows if r["stage"] == "input"]
    if inputs:
        ax2.axhline(inputs[0], color="k", ls=":", label="degraded input")
    ends = {}
    for r in rows:
        if r["stage"] != "input":
            ends[r["stage"]] = int(r["step"])
    for ax in (ax1, ax2):
        for stage, end in list(ends.items())[:-1]:
            ax.axvline(end, color="0.6", lw=0.8)
            ax.text(end, 1.0, f" end of {stage}", transform=ax.get_xaxis_transform(), fontsize=7, va="top", color="0.4")
    ax1.set(xlabel="generator step", ylabel="loss (mean over the log window)", title="training losses", yscale="log")
    ax2.set(xlabel="generator step", ylabel="SI-SDR (dB)", title="validation SI-SDR (higher is better)")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    fig.tight_layout()
    return fig

