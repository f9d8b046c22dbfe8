"""Enhancing recordings with a trained generator: loading checkpoints, chunked inference, files.

Taught in ``notebooks/07_training_hifigan.ipynb``; from the shell:
``python -m hifigan_edu enhance noisy.wav enhanced.wav --checkpoint data/checkpoints/hifigan-gpu-budget.pt``.

Long recordings are processed in chunks, each with a receptive field of real context on
either side, so memory stays bounded and the result equals processing the whole file at once.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from hifigan_edu import config as cfg
from hifigan_edu import hifigan
from hifigan_edu.audio import SAMPLE_RATE, AudioConversionWarning, check_writable, load, save

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "checkpoints" / "hifigan-gpu-budget.pt"  # configs/gpu-budget.json, on a GPU
KINDS = ("hifigan-generator", "hifigan-checkpoint")


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded into the model its config describes; the message says what differs."""


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> tuple[hifigan.Generator, cfg.Config, dict]:
    """(generator in eval mode, its config, the checkpoint's other fields: step, elapsed_s, ...).

    Accepts the ``generator.pt`` export or a full ``checkpoint.pt`` of ``hifigan_edu.train``.

    Raises:
        FileNotFoundError: no file at ``path`` (says how to restore the shipped one or train one).
        CheckpointError: not a hifigan-edu checkpoint, or its weights do not fit its config.
    """
    path = Path(path)
    if not path.is_file():
        shipped = "this is the shipped checkpoint's place: if your copy of the course has one, `git checkout -- data/checkpoints` restores it"
        raise FileNotFoundError(f"no checkpoint at {path}" + (f" ({shipped})" if path.resolve() == SHIPPED else "") +
                                "; pass --checkpoint with a generator.pt, which `python -m hifigan_edu train` writes to runs/<config>/.")  # fmt: skip
    try:
        state = torch.load(path, map_location=device, weights_only=False)
    except Exception as err:  # torch raises several types for a file that is not a checkpoint
        raise CheckpointError(f"{path} is not a PyTorch checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(state, dict) or state.get("kind") not in KINDS:
        raise CheckpointError(f"{path} is not a hifigan-edu checkpoint (expected one of {', '.join(KINDS)}).")
    try:
        config = cfg.from_dict(cfg.Config, state["config"])
    except cfg.ConfigError as err:
        raise CheckpointError(f"{path}: its config no longer matches this version of hifigan-edu: {err}") from None
    G = hifigan.generator(config)
    missing, unexpected, wrong = weight_differences(G.state_dict(), state["generator"])
    if missing or unexpected or wrong:
        parts = [f"{name}: {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}"
                 for name, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)) if keys]  # fmt: skip
        raise CheckpointError(f"{path}: the weights do not fit the generator of config {config.name!r}; " + "; ".join(parts))
    G.load_state_dict(state["generator"])
    info = {k: v for k, v in state.items() if k not in ("generator", "discriminators", "stage_objects", "rng", "config")}
    return G.to(device).eval(), config, info


def weight_differences(expected: dict[str, torch.Tensor], found: dict[str, torch.Tensor]) -> tuple[list[str], list[str], list[str]]:
    """(keys missing from ``found``, keys it has extra, keys whose shapes differ, with both shapes)."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    wrong = [f"{k} {tuple(found[k].shape)} vs {tuple(v.shape)}" for k, v in expected.items() if k in found and found[k].shape != v.shape]
    return missing, unexpected, wrong


def postnet_trained(config: cfg.Config, step: int) -> bool:
    """Whether a generator saved after ``step`` steps of ``config`` has trained its postnet (stage
    ``postnet`` or later); before that the postnet is still random and enhancement skips it."""
    return step > sum(config.stages[s].steps for s in ("predictor", "wavenet"))


@torch.no_grad()
def enhance(G: hifigan.Generator, x: np.ndarray, chunk_s: float = 10.0, postnet: bool = True) -> np.ndarray:
    """(T,) degraded audio at 16 kHz -> (T,) enhanced, in chunks of ``chunk_s`` seconds; the postnet's
    output, or with ``postnet=False`` the WaveNet's (for a generator stopped before stage ``postnet``).

    Each chunk is computed with a receptive field of real input on both sides where the file
    has it, so chunk edges never reach an output sample: the result equals ``G`` on the whole file.
    HiFi-GAN-2's predictor reads the whole file once (its recurrent network has no finite
    receptive field); the chunks then start on frame centres and take their frames of it.
    """
    if chunk_s <= 0:
        raise ValueError(f"chunk_s must be > 0 seconds, got {chunk_s}")
    device = next(G.parameters()).device
    ctx, chunk = G.receptive_field, max(1, int(chunk_s * SAMPLE_RATE))
    signal = torch.from_numpy(x.astype(np.float32)).to(device)
    mfcc, hop = None, 1
    if G.conditioning is not None:
        mfcc, hop = G.conditioning.predict(signal[None, None]), G.conditioning.upsampler.hop  # (1, n_mfcc, T // hop + 1)
        ctx, chunk = -(-ctx // hop) * hop + hop, -(-chunk // hop) * hop  # whole frames, one more for the upsampler's reach
    out = np.empty(len(x), np.float32)
    for start in range(0, len(x), chunk):
        stop = min(start + chunk, len(x))
        lo, hi = max(0, start - ctx), min(len(x), stop + ctx)
        _, y = G(signal[lo:hi][None, None], postnet=postnet, mfcc=None if mfcc is None else mfcc[..., lo // hop : hi // hop + 1])
        out[start:stop] = y[0, 0, start - lo : stop - lo].float().cpu().numpy()
    return out


@dataclass(frozen=True)
class Enhancer:
    """A generator ready to use: ``enhancer(x)`` maps (T,) degraded audio at 16 kHz to (T,) enhanced.

    Attributes:
        G: the generator, in eval mode.
        postnet: use its postnet's output; False for a generator stopped before stage ``postnet``,
            whose postnet is still random (then the WaveNet's output is the result).
        label: its name in evaluation tables and listening widgets, e.g. ``"HiFi-GAN (gpu-budget, step 3626)"``.
        config: the config it was trained with (None for a generator built in a notebook).
        info: the checkpoint's other fields: ``step``, ``elapsed_s``, ...
    """

    G: hifigan.Generator
    postnet: bool
    label: str
    config: cfg.Config | None = None
    info: dict = field(default_factory=dict)

    def __call__(self, x: np.ndarray, chunk_s: float = 10.0) -> np.ndarray:
        return enhance(self.G, x, chunk_s, self.postnet)


def load_enhancer(path: str | Path, device: str | torch.device = "cpu") -> Enhancer:
    """The generator saved at ``path`` (see :func:`load_generator`, which raises the same errors),
    using its postnet only if it was trained, and labelled "<model> (<config>, step <N>)"."""
    G, config, info = load_generator(path, device)
    model = "HiFi-GAN-2" if config.model == "hifigan2" else "HiFi-GAN"
    return Enhancer(G, postnet_trained(config, info["step"]), f"{model} ({config.name}, step {info['step']})", config, info)


def enhance_file(src: str | Path, dst: str | Path, checkpoint: str | Path = SHIPPED, overwrite: bool = False,
                 chunk_s: float = 10.0) -> list[str]:  # fmt: skip
    """Enhance audio file ``src`` into ``dst`` (16-bit, 16 kHz); returns notes on what was converted.

    Any sample rate and channel count is accepted: it is resampled to 16 kHz and averaged to
    mono, with a note. If the result would clip it is scaled down, with a note.

    Raises:
        FileNotFoundError: ``src`` or the checkpoint does not exist.
        ValueError: ``dst`` is ``src`` (the input is never overwritten), is not .wav or .flac, or a bad checkpoint.
        FileExistsError: ``dst`` exists and ``overwrite`` is false.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise FileNotFoundError(f"input file not found: {src}")
    if dst.resolve() == src.resolve():
        raise ValueError(f"the output {dst} is the input file; choose another output path (the input is never overwritten).")
    check_writable(dst)
    if dst.exists() and not overwrite:
        raise FileExistsError(f"{dst} exists; choose another output path or pass --overwrite.")
    enhancer = load_enhancer(checkpoint)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AudioConversionWarning)
        x = load(src)
    notes = [str(w.message) for w in caught if issubclass(w.category, AudioConversionWarning)]
    if not enhancer.postnet:
        notes.append(f"the checkpoint stopped at step {enhancer.info['step']}, before stage postnet: its untrained postnet was skipped")
    y = enhancer(x, chunk_s)
    peak = float(np.abs(y).max()) if len(y) else 0.0
    if peak > 0.999:
        y = y * (0.999 / peak)
        notes.append(f"the enhanced signal peaked at {peak:.2f}; scaled by {0.999 / peak:.3f} to avoid clipping")
    save(dst, y, overwrite=overwrite)
    return notes
