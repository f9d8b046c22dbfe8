"""Enhancing recordings with a trained generator: loading checkpoints, chunked inference, files.

Taught in ``notebooks/07_training_hifigan.ipynb``; from the shell:
``python -m hifigan_edu enhance noisy.wav enhanced.wav --checkpoint data/checkpoints/hifigan-long-run.pt``.

Long recordings are processed in chunks, each with a receptive field of real context on
either side, so memory stays bounded and the result equals processing the whole file at once.
"""

from __future__ import annotations

import _compat_pickle
import io
import math
import pickletools
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import _weights_only_unpickler  # the allowlist of torch.load(weights_only=True)

from hifigan_edu import config as cfg
from hifigan_edu import hifigan
from hifigan_edu.audio import SAMPLE_RATE, AudioConversionWarning, check_audio_suffix, load, save
from hifigan_edu.files import ROOT, check_can_write, require_file

SHIPPED = ROOT / "data" / "checkpoints" / "hifigan-long-run.pt"  # the best shipped generator by the README's rule
KINDS = ("hifigan-generator", "hifigan-checkpoint")


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded into the model its config describes; the message says what differs."""


# what each kind of checkpoint must hold (hifigan_edu.train.save_checkpoint writes both)
REQUIRED = {"hifigan-generator": ("config", "step", "generator"),
            "hifigan-checkpoint": ("config", "step", "batch", "elapsed_s", "stage", "generator", "discriminators", "stage_objects", "rng")}  # fmt: skip


def read_checkpoint(path: Path, kinds: tuple[str, ...] = KINDS) -> dict:
    """The dict a checkpoint of one of ``kinds`` holds, read safely and checked for its fields.

    The file is unpickled with ``weights_only=True``: tensors and plain values (numbers, strings,
    lists, dicts) only, so a file cannot run code while it loads. A checkpoint from elsewhere can
    carry any program (a pickle may name any function to call); one that asks for more is refused.

    Raises:
        FileNotFoundError: nothing at ``path``.
        CheckpointError: ``path`` is a folder or a device, or the file asks to run code, is not a PyTorch
            checkpoint (or is truncated or damaged), is not one of ``kinds``, or lacks a field its kind has.
    """
    require_file(path, "a checkpoint file", f"no checkpoint at {path}", refuse=CheckpointError)
    try:
        with warnings.catch_warnings():  # torch's note on another pickle protocol: the load below says what matters
            warnings.filterwarnings("ignore", "Detected pickle protocol", UserWarning)
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises several types for a file that is not a checkpoint
        code = unsafe_globals(path, err)
        if code and all(name.startswith("numpy.") for name in code):  # numpy arrays: the RNG state of older runs
            raise CheckpointError(f"{path} was written by a hifigan-edu from before checkpoints held only plain values "
                                  f"(it stores numpy arrays, {', '.join(code)}), and is not loaded, to stay safe: start a "
                                  "new run from its weights with --init and the generator.pt next to it.") from None  # fmt: skip
        if code:
            raise CheckpointError(f"{path} was refused: loading it would run Python code ({', '.join(code)}), and a "
                                  "checkpoint from elsewhere can carry any program. hifigan-edu writes only tensors and "
                                  "plain values; load only checkpoints that `python -m hifigan_edu train` wrote.") from None  # fmt: skip
        reason = damage(err)
        what = "the file is empty" if path.stat().st_size == 0 else f"{type(err).__name__}: {reason}"
        raise CheckpointError(f"{path} is not a PyTorch checkpoint, or it is truncated or damaged ({what}); "
                              "use another copy of it.") from None  # fmt: skip
    kind = state.get("kind") if isinstance(state, dict) else None
    if kind not in kinds:
        raise CheckpointError(f"{path} is not a hifigan-edu checkpoint (expected one of {', '.join(kinds)}).")
    missing = [k for k in REQUIRED[kind] if k not in state]
    if missing:
        raise CheckpointError(f"{path} is a {kind} without its {', '.join(missing)}: it is damaged or was not written by hifigan-edu.")
    return state


ADVICE = re.compile(r"weights.only|safe_globals|documentation|Please use|trust|Weights only load failed\.?", re.I)


def damage(err: Exception) -> str:
    """What torch's refusal to load a damaged file says, without its advice on how to load it unsafely."""
    unpickler = re.search(r"WeightsUnpickler error:\s*(.+)", str(err))
    lines = [unpickler[1]] if unpickler else str(err).splitlines()
    for line in lines:
        kept = re.split(r"\.\s*Please use", line)[0].strip()  # torch's "Unsupported global: ... Please use add_safe_globals"
        if kept and not ADVICE.search(kept):
            return kept
    return "no more data"


def unsafe_globals(path: Path, err: Exception) -> list[str]:
    """The functions and classes that unpickling the checkpoint at ``path`` would call beyond what
    ``weights_only`` allows (``err`` is what that load raised), as Python would resolve them: a
    protocol-2 pickle spells ``subprocess.call`` as ``commands.call``. Read from the pickle's opcodes,
    nothing is run; in the zip format and the legacy one (``_use_new_zipfile_serialization=False``)."""
    try:
        with path.open("rb") as f:
            if zipfile.is_zipfile(f):
                with zipfile.ZipFile(f) as z:
                    pickles = [z.read(next(n for n in z.namelist() if n.endswith("/data.pkl")))]
            else:  # legacy: five pickles (magic number, protocol, system info, the object, storage keys), then tensor bytes
                f.seek(0)
                pickles = [f.read()]
        names = [name for data in pickles for name in pickled_globals(data, LEGACY_PICKLES)]
        allowed = _weights_only_unpickler._get_allowed_globals() | _weights_only_unpickler._get_user_allowed_globals()
        return list(dict.fromkeys(n for n in names if n not in allowed))
    except Exception:  # not a pickle we can read: the first name torch's refusal gives, if any
        return [python_name(*m) for m in re.findall(r"GLOBAL (\S+)\.(\w+) (?:was not an allowed global|whose module)", str(err))]


LEGACY_PICKLES = 5  # torch.save's legacy format: the pickles before the raw tensor bytes


def pickled_globals(data: bytes, count: int = 1) -> list[str]:
    """Every global (``module.name``) that the first ``count`` pickles in ``data`` would look up, read from
    their opcodes (the bytes after them are tensors, not code)."""
    names, stream = [], io.BytesIO(data)
    for _ in range(count):
        protocol, memo, recent = 0, {}, []
        try:
            for op, arg, _ in pickletools.genops(stream):
                if op.name == "PROTO":
                    protocol = arg
                elif op.name == "GLOBAL":  # protocols 0-3: "module name"
                    names.append(python_name(*arg.split(" ", 1), protocol=protocol))
                elif op.name == "STACK_GLOBAL" and len(recent) >= 2:  # protocol 4+: the two strings pushed before it
                    names.append(python_name(recent[-2], recent[-1], protocol=protocol))
                    recent.append(None)  # the global itself
                elif op.name in ("MEMOIZE", "BINPUT", "LONG_BINPUT", "PUT"):
                    memo[len(memo) if op.name == "MEMOIZE" else arg] = recent[-1] if recent else None
                elif op.name in ("BINGET", "LONG_BINGET", "GET"):
                    recent.append(memo.get(arg))
                elif isinstance(arg, str):
                    recent.append(arg)
                elif op.stack_after:
                    recent.append(None)
        except ValueError:  # raw tensor bytes after the pickles (legacy format), or a damaged stream
            break
    return names


def python_name(module: str, name: str, protocol: int = 2) -> str:
    """``module.name`` as Python's unpickler resolves a protocol < 3 global (Python 2's names mapped to 3's)."""
    if protocol < 3:
        module, name = _compat_pickle.NAME_MAPPING.get((module, name), (_compat_pickle.IMPORT_MAPPING.get(module, module), name))
    return f"{module}.{name}"


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> tuple[hifigan.Generator, cfg.Config, dict]:
    """(generator in eval mode, its config, the checkpoint's other fields: step, elapsed_s, ...).

    Accepts the ``generator.pt`` export or a full ``checkpoint.pt`` of ``hifigan_edu.train``, read
    by :func:`read_checkpoint` (which never runs code from the file).

    Raises:
        FileNotFoundError: nothing at ``path`` (says how to restore the shipped one or train one).
        CheckpointError: not a hifigan-edu checkpoint, or its weights do not fit its config or are not finite.
    """
    path = Path(path)
    if not path.exists():
        shipped = "this is the shipped checkpoint's place: if your copy of the course has one, `git checkout -- data/checkpoints` restores it"
        raise FileNotFoundError(f"no checkpoint at {path}" + (f" ({shipped})" if path.resolve() == SHIPPED else "") +
                                "; pass --checkpoint with a generator.pt, which `python -m hifigan_edu train` writes to runs/<config>/.")  # fmt: skip
    state = read_checkpoint(path)
    try:
        config = cfg.validate(cfg.from_dict(cfg.Config, state["config"]))
    except cfg.ConfigError as err:
        raise CheckpointError(f"{path}: its config no longer matches this version of hifigan-edu: {err}") from None
    G = hifigan.generator(config)
    weights = state["generator"]
    if not isinstance(weights, dict) or not all(isinstance(v, torch.Tensor) for v in weights.values()):
        raise CheckpointError(f"{path}: its generator is not a dict of tensors: it is damaged or was not written by hifigan-edu.")
    missing, unexpected, wrong = weight_differences(G.state_dict(), weights)
    if missing or unexpected or wrong:
        parts = [f"{name}: {', '.join(keys[:5])}{' ...' if len(keys) > 5 else ''}"
                 for name, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)) if keys]  # fmt: skip
        raise CheckpointError(f"{path}: the weights do not fit the generator of config {config.name!r}; " + "; ".join(parts))
    bad, total = non_finite(weights)
    if bad:
        raise CheckpointError(f"{path}: {bad:,} of its {total:,} generator weights are NaN or infinite (the run that "
                              "wrote it diverged); use an earlier checkpoint.")  # fmt: skip
    G.load_state_dict(weights)
    info = {k: v for k, v in state.items() if k not in ("generator", "discriminators", "stage_objects", "rng", "config")}
    return G.to(device).eval(), config, info


def non_finite(weights: dict[str, torch.Tensor]) -> tuple[int, int]:
    """(how many of the floating-point values in a state dict are NaN or infinite, how many there are)."""
    floats = [t for t in weights.values() if t.is_floating_point()]
    return sum(int((~torch.isfinite(t)).sum()) for t in floats), sum(t.numel() for t in floats)


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
    if not (math.isfinite(chunk_s) and chunk_s * SAMPLE_RATE >= 1):
        raise ValueError(f"chunk_s must be a finite number of seconds, at least one sample (1/{SAMPLE_RATE}), got {chunk_s}")
    device = next(G.parameters()).device
    ctx, chunk = G.receptive_field, int(min(chunk_s * SAMPLE_RATE, max(1, len(x))))  # no longer than the file
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


MIN_CHUNK_S = 0.1  # enhance_file's shortest chunk: shorter ones only make it slower (the result is the same)


def enhance_file(src: str | Path, dst: str | Path, checkpoint: str | Path = SHIPPED, overwrite: bool = False,
                 chunk_s: float = 10.0) -> list[str]:  # fmt: skip
    """Enhance audio file ``src`` into ``dst`` (16-bit, 16 kHz); returns notes on what was converted.

    Any sample rate and channel count is accepted: it is resampled to 16 kHz and averaged to
    mono, with a note, as are NaN or infinite input samples (set to 0) and a truncated file. If
    the result would clip it is scaled down, with a note. Everything that can be checked before the
    enhancement is (the output path, the disk, the checkpoint), so a long file is not enhanced in vain.

    Raises:
        FileNotFoundError: ``src`` or the checkpoint does not exist.
        ValueError: ``src`` is not a regular file (a folder, a device), ``dst`` is ``src`` (the input is never overwritten), is not .wav or .flac, ``chunk_s``
            is not a finite number >= :data:`MIN_CHUNK_S`, or a bad checkpoint (:class:`CheckpointError`;
            also when its output is NaN or infinite: nothing is written then).
        FileExistsError: ``dst`` exists and ``overwrite`` is false.
        files.CannotWrite: ``dst`` is a folder, lies under a file, or its disk refuses it (full, read-only).
    """
    src, dst = Path(src), Path(dst)
    require_file(src, "an audio file", f"input file not found: {src}")
    if dst.resolve() == src.resolve():
        raise ValueError(f"the output {dst} is the input file; choose another output path (the input is never overwritten).")
    check_audio_suffix(dst)
    if not (math.isfinite(chunk_s) and chunk_s >= MIN_CHUNK_S):
        raise ValueError(f"chunk_s must be a finite number of seconds >= {MIN_CHUNK_S}, got {chunk_s} (it only bounds "
                         "the memory: the result is the same for any length)")  # fmt: skip
    if dst.exists() and not dst.is_dir() and not overwrite:
        raise FileExistsError(f"{dst} exists; choose another output path or pass --overwrite.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", AudioConversionWarning)
        x = load(src)
    notes = [str(w.message) for w in caught if issubclass(w.category, AudioConversionWarning)]
    if not len(x):
        raise ValueError(f"{src} holds no audio; nothing to enhance.")
    check_can_write(dst, size=2 * len(x))  # 16-bit samples; before the checkpoint is even loaded
    enhancer = load_enhancer(checkpoint)
    if not enhancer.postnet:
        notes.append(f"the checkpoint stopped at step {enhancer.info['step']}, before stage postnet: its untrained postnet was skipped")
    y = enhancer(x, chunk_s)
    bad = int((~np.isfinite(y)).sum())
    if bad:
        raise CheckpointError(f"{checkpoint}: the generator's output has {bad:,} NaN or infinite samples of {len(y):,} "
                              f"(its weights are broken: the run that wrote it diverged?); {dst} was not written.")  # fmt: skip
    peak = float(np.abs(y).max()) if len(y) else 0.0
    if peak > 0.999:
        y = y * (0.999 / peak)
        notes.append(f"the enhanced signal peaked at {peak:.2f}; scaled by {0.999 / peak:.3f} to avoid clipping")
    save(dst, y, overwrite=overwrite)
    return notes
