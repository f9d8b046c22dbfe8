"""Reading, writing, resampling and measuring audio.

Taught in ``notebooks/00_the_problem_and_the_data.ipynb``. Every waveform in the course is a
1-D float32 numpy array at 16 kHz unless a docstring says otherwise.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import torch
import torchaudio.functional as AF

from hifigan_edu.files import atomic_path, require_file

SAMPLE_RATE = 16_000
WRITABLE = (".wav", ".flac")  # what :func:`save` writes (16-bit PCM)


class AudioConversionWarning(UserWarning):
    """A file was converted or repaired on load: resampled, averaged to mono, non-finite samples set
    to 0, or shorter than its header says (truncated)."""


def resample(x: np.ndarray, orig_sr: int, new_sr: int) -> np.ndarray:
    """Band-limited resampling with torchaudio (windowed sinc). ``x``: (T,) -> (T * new_sr / orig_sr,)."""
    if orig_sr == new_sr:
        return x.astype(np.float32, copy=False)
    y = AF.resample(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), orig_sr, new_sr)
    return y.numpy()


def load(path: str | Path, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Read an audio file as mono float32 at ``sr``; returns (T,).

    Stereo files are averaged to mono and other sample rates resampled, NaN or infinite samples
    (a float file can hold them) set to 0, and a file that holds less audio than its header
    promises (truncated) is read as far as it goes, each with an :class:`AudioConversionWarning`
    naming the file.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: ``path`` is a folder or a device, or the file cannot be decoded (names the file and the decoder's reason).
    """
    import soundfile as sf  # imported here: the GPU machine trains without it

    path = Path(path)
    require_file(path, "an audio file", f"audio file not found: {path}")
    try:
        with sf.SoundFile(str(path)) as f:
            x, file_sr, header = f.read(dtype="float32", always_2d=True), f.samplerate, f.extra_info  # extra_info: libsndfile's log of the header
    except (sf.LibsndfileError, RuntimeError) as err:
        raise ValueError(
            f"cannot read audio file {path}: {err}. Check that it is a WAV/FLAC/OGG file "
            "and not truncated; re-export or delete it."
        ) from err
    promised = re.search(r"^data\s*:\s*(\d+) \(should be \d+\)", header, re.MULTILINE)  # a WAV cut short
    rate = re.search(r"^\s*Bytes/sec\s*:\s*(\d+)", header, re.MULTILINE)
    if promised and rate and int(rate[1]) and int(promised[1]) / int(rate[1]) > len(x) / file_sr:
        warnings.warn(f"{path}: truncated: its header promises {int(promised[1]) / int(rate[1]):.2f} s but it holds "
                      f"{len(x) / file_sr:.2f} s; only those were read", AudioConversionWarning, stacklevel=2)  # fmt: skip
    bad = ~np.isfinite(x)
    if bad.any():
        x[bad] = 0.0
        warnings.warn(f"{path}: {int(bad.sum())} NaN or infinite samples set to 0", AudioConversionWarning, stacklevel=2)
    if x.shape[1] > 1:
        warnings.warn(f"{path}: {x.shape[1]} channels averaged to mono", AudioConversionWarning, stacklevel=2)
    x = x.mean(axis=1)
    if file_sr != sr:
        warnings.warn(f"{path}: resampled from {file_sr} Hz to {sr} Hz", AudioConversionWarning, stacklevel=2)
        x = resample(x, file_sr, sr)
    return x


def check_audio_suffix(path: Path) -> None:
    """Raise ValueError unless :func:`save` can write ``path`` (a .wav or .flac name)."""
    if path.suffix.lower() not in WRITABLE:
        raise ValueError(f"cannot write audio to {path}: give the output a .wav or .flac name.")


def save(path: str | Path, x: np.ndarray, sr: int = SAMPLE_RATE, overwrite: bool = False) -> Path:
    """Write (T,) float audio as 16-bit PCM (FLAC or WAV by suffix); never silently replaces a file.

    Raises:
        FileExistsError: ``path`` exists and ``overwrite`` is false.
        ValueError: the name is not .wav or .flac, or the signal is not finite, clips (|x| > 1) or is not 1-D.
    """
    import soundfile as sf

    path = Path(path)
    check_audio_suffix(path)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError(f"expected a 1-D signal for {path}, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"signal for {path} has {int((~np.isfinite(x)).sum())} NaN or infinite samples; nothing was written")
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    if peak > 1.0:
        raise ValueError(f"signal for {path} clips (peak {peak:.3f} > 1); scale it down before saving")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; choose another path or pass overwrite=True")
    with atomic_path(path) as tmp:
        sf.write(str(tmp), x, sr, subtype="PCM_16")
    return path


def rms(x: np.ndarray) -> float:
    """Root mean square of (T,)."""
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def level_db(y: np.ndarray, reference: np.ndarray) -> float:
    """How much louder (dB, by RMS) the (T,) array ``y`` is than the (T',) array ``reference``."""
    return float(20.0 * np.log10(rms(y) / rms(reference)))


def db(power_ratio: float) -> float:
    """10 log10 of a power ratio."""
    return float(10.0 * np.log10(power_ratio))


def snr_db(signal: np.ndarray, noise: np.ndarray) -> float:
    """SNR in dB of two (T,) arrays of the same length."""
    return db(np.sum(np.square(signal, dtype=np.float64)) / np.sum(np.square(noise, dtype=np.float64)))


def si_sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Scale-invariant SDR in dB (Le Roux et al. 2019) of (T,) ``estimate`` against (T,) ``reference``."""
    reference = reference.astype(np.float64) - reference.mean()
    estimate = estimate.astype(np.float64) - estimate.mean()
    target = (estimate @ reference) / (reference @ reference) * reference
    return snr_db(target, estimate - target)
