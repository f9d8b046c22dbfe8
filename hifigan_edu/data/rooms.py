"""Room impulse responses: simulation, measured labels, and the direct-path target.

Taught in ``notebooks/00_the_problem_and_the_data.ipynb``.

Rooms are pyroomacoustics shoeboxes (3-10 x 3-8 x 2.5-4 m) with wall absorption from
Sabine's formula for a requested RT60, simulated with the hybrid model: image sources up to
order 3 for the early reflections and ray tracing for the late tail (0.03-0.3 s per RIR on
one core). Sabine's formula is only a target: the simulated tail decays more slowly, so the
*measured* RT60 labels each RIR: T30 (the decay from -5 to -35 dB on Schroeder's backward
integral, extrapolated to 60 dB, ``pyroomacoustics.experimental.measure_rt60``), which the
truncated tail of a simulated RIR does not bias the way a full 60 dB fit does. It is measured on
the response as the microphone receives it: with a talker close to the microphone (a DRR above
about 5 dB) the direct path and the first reflections hold most of the energy and the decay
curve's -5..-35 dB span falls early, so the label reads shorter than the room's (a room asked
for 0.4 s read 0.10 s at a DRR of 11.6 dB); it measures how long the reverberation is *heard*, and
``rt60_target`` keeps what the walls were chosen for. (Measured after the direct path instead,
the hybrid simulator's decay has two slopes, strong image-source reflections and a weak
ray-traced tail, and T30 becomes erratic: 3.5 s for a room asked for 0.7 s.) Each RIR is
also labelled with its direct-to-reverberant ratio (DRR).

The clean training target is the **direct path**: the dry speech delayed and scaled as it
arrives at the microphone through the shortest route. pyroomacoustics places that arrival
between samples, as a windowed-sinc fractional-delay filter, so the direct path is simulated on
its own (the same source and microphone in free field: no walls, the same air absorption) and
the dry speech is filtered by it: the target keeps the arrival's exact gain and sub-sample
delay. (Scaling the dry speech by the RIR's value at the nearest sample instead, as the test
set's first version did, makes the target up to 4 dB too quiet, 1.3 dB on average over the
test set's rooms, and up to half a sample early or late: a different error in every room.)
The direct path's sample index comes from the geometry (distance / speed of sound, plus the
half-length of the fractional-delay filter), not from the RIR's largest peak, which can be two
reflections arriving together. :func:`reverberate` cuts the reverberant signal and the target
at that index, so the model is never asked to learn a delay.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pyroomacoustics as pra
import scipy.signal

from hifigan_edu.audio import SAMPLE_RATE

ROOM_MIN = np.array([3.0, 3.0, 2.5])
ROOM_MAX = np.array([10.0, 8.0, 4.0])
WALL_MARGIN = 0.5  # metres between the walls and the source or microphone
# Talker-to-microphone distance, metres. HiFi-GAN's training data spans a DRR of -6..18 dB (as
# its public reimplementation reads the paper; docs/benchmarks.md, "The course's regime"): with
# RT60s of 0.2-1.2 s that needs a talker from 0.1 m (+18 dB) to about 1.5 m (-6 dB), drawn
# log-uniformly so that every DRR is about as likely. The hard test set keeps the course's first
# range, 0.5-2.5 m drawn uniformly (a desk-to-meeting-room range: DRR about -12..+4 dB).
DISTANCE_RANGE = (0.1, 1.5)
HARD_DISTANCE_RANGE = (0.5, 2.5)
DIRECT_WINDOW_MS = 2.5  # half-width of the direct-path window used for the DRR
RT60_RANGE = (0.2, 2.0)  # what the room sizes can produce (shorter fails in pyroomacoustics)


@dataclass(frozen=True)
class RIR:
    """One simulated room impulse response and its labels.

    ``h`` is (L,) at 16 kHz, as pyroomacoustics returns it (including the propagation delay);
    ``h_direct`` is (L_d,), the direct path alone (the same delay and gain, no reflections);
    ``direct_index`` is the sample where the direct path arrives; ``seed`` made the room.
    """

    h: np.ndarray
    h_direct: np.ndarray
    direct_index: int
    seed: int
    rt60_target: float
    rt60_measured: float
    drr_db: float
    room_dims: tuple[float, float, float]
    source: tuple[float, float, float]
    mic: tuple[float, float, float]

    def labels(self) -> dict[str, float | tuple[float, float, float]]:
        """Everything but the waveform, for a manifest."""
        d = asdict(self)
        del d["h"], d["h_direct"]
        return d


def direct_path_index(source: np.ndarray, mic: np.ndarray, sr: int = SAMPLE_RATE, c: float | None = None) -> int:
    """Sample index of the direct path in a pyroomacoustics RIR: travel time plus the filter's delay."""
    c = pra.constants.get("c") if c is None else c
    delay = pra.constants.get("frac_delay_length") // 2
    return int(round(float(np.linalg.norm(np.subtract(mic, source))) / c * sr)) + delay


def drr_db(h: np.ndarray, d: int, sr: int = SAMPLE_RATE, window_ms: float = DIRECT_WINDOW_MS) -> float:
    """Direct-to-reverberant ratio in dB: energy within +-``window_ms`` of sample ``d`` vs the rest."""
    w = int(round(window_ms * 1e-3 * sr))
    energy = np.square(h.astype(np.float64))
    direct = energy[max(d - w, 0) : d + w + 1].sum()
    return float(10 * np.log10(direct / (energy.sum() - direct)))


def _place_mic(source: np.ndarray, dims: np.ndarray, rng: np.random.Generator, distance: tuple[float, float],
               log_distance: bool) -> np.ndarray:  # fmt: skip
    """A microphone position ``distance`` metres (a range, drawn uniformly, or log-uniformly) from
    ``source``, inside the wall margins."""
    low, high = np.log(distance) if log_distance else distance
    while True:
        direction = rng.standard_normal(3)
        r = rng.uniform(low, high)
        mic = source + (np.exp(r) if log_distance else r) * direction / np.linalg.norm(direction)
        if np.all(mic >= WALL_MARGIN) and np.all(mic <= dims - WALL_MARGIN):
            return mic


def simulate_rir(rt60: float, seed: int, sr: int = SAMPLE_RATE, distance: tuple[float, float] = DISTANCE_RANGE,
                 log_distance: bool = True) -> RIR:  # fmt: skip
    """Simulate one RIR for a random shoebox room with the requested RT60 (seconds).

    Room size, source position and a microphone ``distance`` metres away (log-uniform in the
    range, or uniform with ``log_distance=False``) are drawn from ``seed``; the ray tracer is
    seeded from it too, so the same arguments always give the same RIR.

    Raises:
        ValueError: the RT60 is outside what the room sizes can produce (:data:`RT60_RANGE`).
    """
    if not RT60_RANGE[0] <= rt60 <= RT60_RANGE[1]:
        lo, hi = RT60_RANGE
        raise ValueError(f"rt60={rt60} s is outside the supported {lo}-{hi} s; choose a value in that range.")
    rng = np.random.default_rng(seed)
    dims = rng.uniform(ROOM_MIN, ROOM_MAX)
    source = rng.uniform(WALL_MARGIN, dims - WALL_MARGIN)
    mic = _place_mic(source, dims, rng, distance, log_distance)
    absorption, _ = pra.inverse_sabine(rt60, dims)
    room = pra.ShoeBox(
        dims, fs=sr, materials=pra.Material(absorption), max_order=3, ray_tracing=True, air_absorption=True
    )
    room.add_source(source)
    room.add_microphone(mic)
    pra.random.seed(numpy=seed, libroom=seed)  # the ray tracer has its own RNG
    room.compute_rir()
    h = np.asarray(room.rir[0][0], dtype=np.float32)
    d = direct_path_index(source, mic, sr, room.c)
    free_field = pra.ShoeBox(dims, fs=sr, max_order=0, air_absorption=True)  # the walls absorb everything
    free_field.add_source(source)
    free_field.add_microphone(mic)
    free_field.compute_rir()
    return RIR(
        h=h,
        h_direct=np.asarray(free_field.rir[0][0], dtype=np.float32),
        direct_index=d,
        seed=seed,
        rt60_target=float(rt60),
        rt60_measured=float(pra.experimental.measure_rt60(h, fs=sr, decay_db=30)),
        drr_db=drr_db(h, d, sr),
        room_dims=tuple(float(v) for v in dims),
        source=tuple(float(v) for v in source),
        mic=tuple(float(v) for v in mic),
    )


def reverberate(clean: np.ndarray, rir: RIR) -> tuple[np.ndarray, np.ndarray]:
    """(reverberant, target), both (T,): (T,) ``clean`` through the room (``rir.h``) and through its
    direct path alone (``rir.h_direct``).

    Both are FFT convolutions cut to ``[d, d + T)`` with ``d = rir.direct_index``: the reverberant
    signal starts where the direct path arrives, and the target is that direct path, with its
    gain and sub-sample delay.
    """
    d, n = rir.direct_index, len(clean)
    wet = scipy.signal.fftconvolve(clean, rir.h)[d : d + n]
    target = scipy.signal.fftconvolve(clean, rir.h_direct)[d : d + n]
    return wet.astype(np.float32), target.astype(np.float32)
