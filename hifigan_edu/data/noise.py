"""Noise: synthetic generators, babble clips, and mixing at a requested SNR.

Taught in ``notebooks/00_the_problem_and_the_data.ipynb``.

No real ambient-noise corpus can be reached offline, so the course synthesises its noise:

* ``colored`` -- 1/f^beta noise (beta 0 white, 1 pink, 2 brown), drawn with beta in [0, 2];
* ``hum``     -- 50 or 60 Hz mains hum with decaying, randomly weighted harmonics, over a
  little white noise;
* ``fan``     -- low-pass noise whose amplitude is modulated at a blade rate of 3-30 Hz,
  plus a tonal whine at its blade-pass frequency;
* ``babble``  -- a random excerpt of a babble clip: 6 espeak-ng voices talking at once
  (built by ``python -m hifigan_edu data build``; train and test clips use different voices).

Every generator takes an ``np.random.Generator`` so a seed fixes the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.signal

from hifigan_edu.audio import SAMPLE_RATE, rms

SYNTHETIC_TYPES = ("colored", "hum", "fan")
NOISE_TYPES = (*SYNTHETIC_TYPES, "babble")


def colored(n: int, rng: np.random.Generator, beta: float | None = None) -> np.ndarray:
    """(n,) noise with power spectrum ~ 1/f^beta (beta drawn from [0, 2] if not given), unit RMS."""
    beta = rng.uniform(0.0, 2.0) if beta is None else beta
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1]  # avoid dividing by zero at DC
    x = np.fft.irfft(spectrum / f ** (beta / 2), n)
    return (x / rms(x)).astype(np.float32)


def hum(n: int, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """(n,) mains hum: 50 or 60 Hz and up to 12 harmonics (1/k-ish, random weights), unit RMS."""
    f0 = rng.choice([50.0, 60.0]) * rng.uniform(0.995, 1.005)
    t = np.arange(n) / sr
    x = np.zeros(n)
    for k in range(1, int(rng.integers(4, 13)) + 1):
        x += rng.uniform(0.2, 1.0) / k * np.sin(2 * np.pi * k * f0 * t + rng.uniform(0, 2 * np.pi))
    x += 0.05 * rng.standard_normal(n) * rms(x)
    return (x / rms(x)).astype(np.float32)


def fan(n: int, rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """(n,) fan-like noise: amplitude-modulated low-pass noise plus a blade-pass whine, unit RMS."""
    cutoff = rng.uniform(300.0, 3000.0)
    sos = scipy.signal.butter(4, cutoff, fs=sr, output="sos")
    body = scipy.signal.sosfilt(sos, rng.standard_normal(n))
    t = np.arange(n) / sr
    rate = rng.uniform(3.0, 30.0)
    depth = rng.uniform(0.2, 0.8)
    x = body * (1 + depth * np.sin(2 * np.pi * rate * t))
    blades = int(rng.integers(3, 9))
    x += rng.uniform(0.05, 0.3) * rms(body) * np.sin(2 * np.pi * rate * blades * t)
    return (x / rms(x)).astype(np.float32)


def excerpt(clip: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """A random (n,) excerpt of a (T,) clip (looped when the clip is shorter), unit RMS."""
    start = int(rng.integers(0, len(clip)))
    x = np.take(clip, np.arange(start, start + n), mode="wrap").astype(np.float64)
    return (x / rms(x)).astype(np.float32)


def make_noise(
    kind: str, n: int, rng: np.random.Generator, babble_clips: Sequence[np.ndarray] = ()
) -> np.ndarray:
    """(n,) unit-RMS noise of ``kind`` (one of :data:`NOISE_TYPES`)."""
    if kind == "colored":
        return colored(n, rng)
    if kind == "hum":
        return hum(n, rng)
    if kind == "fan":
        return fan(n, rng)
    if kind == "babble":
        if not babble_clips:
            raise ValueError("babble noise needs babble clips; load them with hifigan_edu.data.corpus.babble_clips().")
        return excerpt(babble_clips[int(rng.integers(len(babble_clips)))], n, rng)
    raise ValueError(f"unknown noise type {kind!r}; choose one of {', '.join(NOISE_TYPES)}.")


def mix_at_snr(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> tuple[np.ndarray, np.ndarray]:
    """Scale (T,) ``noise`` so that 10 log10(|speech|^2 / |noise|^2) = ``snr_db``; return (mixture, scaled noise).
    An infinite ``snr_db`` adds no noise."""
    if len(noise) != len(speech):
        raise ValueError(f"speech has {len(speech)} samples but noise {len(noise)}; cut the noise to match.")
    for name, x in (("speech", speech), ("noise", noise)):
        if not np.any(x):
            raise ValueError(f"the {name} is silent (all zeros), so no SNR can be set; pass a stretch that holds {name}.")
    gain = rms(speech) / (rms(noise) * 10 ** (snr_db / 20))
    scaled = (gain * noise).astype(np.float32)
    return (speech + scaled).astype(np.float32), scaled
