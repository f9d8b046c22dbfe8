"""Degraded/clean pairs: on the fly for training, and one fixed test set for every evaluation.

Taught in ``notebooks/00_the_problem_and_the_data.ipynb``.

A degraded example is made from a clean utterance in three steps (see :func:`degrade`):
reverberate it with a simulated room (aligned to the direct path, which is the target), add
noise at a chosen SNR relative to the reverberant speech, and scale input and target by the
same gain if the input would clip.

The course's task is HiFi-GAN's regime (:data:`MAIN`): noise at 20-40 dB SNR and rooms with a
DRR of -6..18 dB, as the paper's public reimplementation reads it. Its first, harsher task stays
as the **hard** test set (:data:`HARD`: SNR -5..25 dB, DRR about -12..+4 dB), where HiFi-GAN-2
claims its gain. Both test sets cover the same measured-RT60 bins and noise types.

RIRs are the slow part (0.03-0.3 s each), so training draws them from a :class:`RIRBank`
simulated once per (split, size, seed, distances, DRRs) and cached under ``data/cache``. Every
room's seed is drawn from a ``numpy.random.SeedSequence`` keyed by its purpose (the train, valid
or test bank, or the test sets), so rooms of different splits never coincide.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyroomacoustics as pra
import torch
from torch.utils.data import Dataset
from tqdm.auto import tqdm

from hifigan_edu.audio import SAMPLE_RATE, load, resample, save
from hifigan_edu.data import corpus, rooms
from hifigan_edu.data.noise import NOISE_TYPES, make_noise, mix_at_snr
from hifigan_edu.data.rooms import RIR, reverberate, simulate_rir
from hifigan_edu.files import atomic_path, sha256

CACHE_DIR = corpus.DATA_DIR / "cache"
ROOM_PURPOSES = ("train", "valid", "test", "testset")  # seed streams that never overlap
RT60_RANGE = (0.2, 1.2)  # requested RT60s of the training rooms
RT60_BINS = ((0.2, 0.5), (0.5, 0.8), (0.8, 1.2))  # of the *measured* RT60, in both test sets
SNR_RANGE = (20.0, 40.0)  # HiFi-GAN's (papers.md); the configs' data.snr_range
DRR_RANGE = (-6.0, 18.0)  # HiFi-GAN's, in our DRR (rooms.drr_db: the direct path within 2.5 ms); data.drr_range


@dataclass(frozen=True)
class Regime:
    """The conditions a test set is drawn from: SNR bins (dB, against the reverberant speech; each
    cell of SNR bin x :data:`RT60_BINS` gets the same number of items), talker distances (metres,
    log-uniform or uniform) and the DRRs a room must have (dB; others are simulated again)."""

    name: str
    folder: Path
    version: int  # bump when its files change
    prefix: str  # its items' ids: "<prefix>-000", ...
    snr_bins: tuple[tuple[float, float], ...]
    distance: tuple[float, float]
    log_distance: bool
    drr_range: tuple[float, float]
    stream: tuple[int, ...]  # more keys of its random stream (the hard set keeps version 3's: none)


# version 4 of the test set: HiFi-GAN's regime, the course's main task
MAIN = Regime("main", corpus.DATA_DIR / "testset", 4, "test", ((20.0, 26.0), (26.0, 33.0), (33.0, 40.0)),
              rooms.DISTANCE_RANGE, True, DRR_RANGE, (1,))  # fmt: skip
# the course's first task: version 3 of the test set, its items renamed (2: the clean files are the direct path with
# its exact gain and sub-sample delay; 3: a smaller starter corpus, whose babble voices read other sentences)
HARD = Regime("hard", corpus.DATA_DIR / "testset-hard", 3, "hard", ((-5.0, 5.0), (5.0, 15.0), (15.0, 25.0)),
              rooms.HARD_DISTANCE_RANGE, False, (-np.inf, np.inf), ())  # fmt: skip
REGIMES = {r.name: r for r in (MAIN, HARD)}
PEAK = 0.99
MAX_ROOM_TRIES = 30  # rooms simulated for one that has the RT60 and DRR asked for
MAX_CUT_TRIES = 100  # draws of a training segment before its speech counts as silent
NO_ROOM = RIR(
    h=np.ones(1, np.float32), h_direct=np.ones(1, np.float32), direct_index=0, seed=-1, rt60_target=0.0,
    rt60_measured=0.0, drr_db=float("inf"), room_dims=(0.0, 0.0, 0.0), source=(0.0, 0.0, 0.0), mic=(0.0, 0.0, 0.0),
)  # fmt: skip  # ``rirs=0``: no room, the impulse itself (denoising only)
TESTSET_FIELDS = (
    "id", "set", "source", "speaker", "utterance_id", "noise_type", "snr_db", "rt60_target", "rt60_measured",
    "drr_db", "room_seed", "duration_s", "degraded", "degraded_sha256", "clean", "clean_sha256",
)  # fmt: skip


def room_seed(purpose: str, *keys: int) -> int:
    """A 32-bit room seed for ``purpose`` (one of :data:`ROOM_PURPOSES`) and integer ``keys``."""
    if purpose not in ROOM_PURPOSES:
        raise ValueError(f"unknown purpose {purpose!r}; choose one of {', '.join(ROOM_PURPOSES)}.")
    return int(np.random.SeedSequence([ROOM_PURPOSES.index(purpose), *keys]).generate_state(1)[0])


@dataclass(frozen=True)
class Example:
    """One degraded/clean pair, both (T,) float32 at 16 kHz, with the conditions that made it."""

    degraded: np.ndarray
    clean: np.ndarray
    noise_type: str
    snr_db: float
    rt60_target: float
    rt60_measured: float
    drr_db: float


def degrade(clean: np.ndarray, rir: RIR, noise: np.ndarray, snr: float) -> tuple[np.ndarray, np.ndarray]:
    """(degraded, target), both (T,): ``clean`` (T,) through the room ``rir`` plus unit ``noise``
    (T,) at ``snr`` dB; the target is the direct path (:func:`rooms.reverberate`).

    The SNR is measured against the reverberant speech, the speech the microphone hears.
    """
    wet, target = reverberate(clean, rir)
    degraded, _ = mix_at_snr(wet, noise, snr)
    gain = min(1.0, PEAK / max(float(np.abs(degraded).max()), float(np.abs(target).max())))
    return gain * degraded, gain * target


class RIRBank:
    """``size`` RIRs of one split with RT60 targets uniform in :data:`RT60_RANGE`, talkers
    log-uniformly ``distance`` metres from the microphone and DRRs in ``drr_range`` dB (a room
    outside it is simulated again, with a new seed), cached on disk.

    Attributes:
        rirs: list of :class:`rooms.RIR` (the room's response, its direct path and their labels).
    """

    def __init__(self, split: str, size: int, seed: int = 0, cache_dir: Path = CACHE_DIR,
                 distance: tuple[float, float] = rooms.DISTANCE_RANGE, drr_range: tuple[float, float] = DRR_RANGE) -> None:  # fmt: skip
        if split not in ROOM_PURPOSES[:3]:
            raise ValueError(f"unknown split {split!r}; choose one of {', '.join(ROOM_PURPOSES[:3])}.")
        distance, drr_range = tuple(map(float, distance)), tuple(map(float, drr_range))
        path = cache_dir / f"rirs-{split}-{size}-seed{seed}-{self.key(distance, drr_range)}.npz"
        if not path.is_file():
            self._simulate(split, size, seed, path, distance, drr_range)
        with np.load(path) as data:
            labels = json.loads(str(data["labels"]))
            self.rirs = [
                RIR(h=data[f"h{i}"], h_direct=data[f"direct{i}"], **{k: tuple(v) if isinstance(v, list) else v for k, v in row.items()})
                for i, row in enumerate(labels)
            ]

    @staticmethod
    def key(distance: tuple[float, float], drr_range: tuple[float, float]) -> str:
        """A short hash of the room code and settings, so a changed simulation never reuses an old cache."""
        settings = (inspect.getsource(rooms), inspect.getsource(RIRBank._simulate), RT60_RANGE, distance, drr_range, pra.__version__)
        return hashlib.sha256(repr(settings).encode()).hexdigest()[:8]

    @staticmethod
    def _simulate(split: str, size: int, seed: int, path: Path, distance: tuple[float, float], drr_range: tuple[float, float]) -> None:
        rng = np.random.default_rng(room_seed(split, seed))
        arrays, labels = {}, []
        for i in tqdm(range(size), desc=f"simulating {split} rooms", unit="room"):
            rt60 = float(rng.uniform(*RT60_RANGE))
            for attempt in range(MAX_ROOM_TRIES):
                rir = simulate_rir(rt60, room_seed(split, seed, i, attempt), distance=distance)
                if drr_range[0] <= rir.drr_db <= drr_range[1]:
                    break
            else:
                raise RuntimeError(f"no {split} room with a DRR in {drr_range} dB after {MAX_ROOM_TRIES} tries; widen data.drr_range or data.distance_range.")
            arrays[f"h{i}"], arrays[f"direct{i}"] = rir.h, rir.h_direct
            labels.append(rir.labels())
        with atomic_path(path) as tmp:
            np.savez(tmp, labels=json.dumps(labels), **arrays)

    def __len__(self) -> int:
        return len(self.rirs)


def rooms_on(rirs: list[RIR], device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """RIRs as tensors on ``device``: (N, L) responses, (N, L) direct paths (both zero-padded to the
    longest) and (N,) arrival samples of the direct paths."""
    length = max(max(len(r.h), len(r.h_direct)) for r in rirs)
    h, direct = (torch.stack([torch.from_numpy(np.pad(x, (0, length - len(x)))) for x in xs]).to(device)
                 for xs in ([r.h for r in rirs], [r.h_direct for r in rirs]))  # fmt: skip
    return h, direct, torch.tensor([r.direct_index for r in rirs], device=device)


def degrade_batch(speech: torch.Tensor, noise: torch.Tensor, snr_db: torch.Tensor, room: torch.Tensor,
                  bank: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
    """:func:`degrade` for a batch, in torch on the tensors' device (a GPU: no loader worker convolves):
    clean (B, 1, T) ``speech`` through room ``room`` (B,) of the ``bank`` (:func:`rooms_on`), plus
    unit-RMS ``noise`` (B, 1, T) at ``snr_db`` (B,) against the reverberant speech, both scaled by
    one gain if the input would clip. Returns (degraded, target), (B, 1, T) each; the same numbers as
    :func:`degrade` to float32 rounding (``tests/test_simulate.py``).
    """
    h, direct, arrival = (x[room] for x in bank)
    n, taps = speech.shape[-1], h.shape[-1]
    size = 1 << (n + taps - 2).bit_length()  # a power of 2 >= n + taps - 1: a linear convolution, and a fast FFT
    spectrum = torch.fft.rfft(speech[:, 0], size)
    window = arrival[:, None] + torch.arange(n, device=speech.device)  # [d, d + T): from the direct path's arrival
    wet, target = (torch.fft.irfft(spectrum * torch.fft.rfft(x, size), size).gather(1, window) for x in (h, direct))
    gain = (wet.square().mean(-1) / noise[:, 0].square().mean(-1)).sqrt() / 10 ** (snr_db / 20)
    degraded = wet + gain[:, None] * noise[:, 0]
    peak = torch.maximum(degraded.abs().amax(-1), target.abs().amax(-1))
    clip = torch.clamp(PEAK / peak, max=1.0)[:, None]
    return (clip * degraded)[:, None], (clip * target)[:, None]


def change_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """(T,) speech played ``factor`` times faster: (about T / factor,), pitch and formants times ``factor``.

    It is resampled as if it had been recorded at ``factor`` x 16 kHz (rounded to 100 Hz, so the
    resampler's rational ratio stays small): the speed perturbation of Ko et al. (Interspeech 2015).
    """
    rate = round(SAMPLE_RATE * factor / 100) * 100
    return x if rate == SAMPLE_RATE else resample(x, rate, SAMPLE_RATE)


class PairDataset(Dataset):
    """(degraded, clean) segment pairs made on the fly; item ``i`` is a pure function of (split, seed, i).

    Each item: a random utterance of ``split`` cut (or zero-padded) to ``segment`` samples, a
    random RIR of the split's bank of ``rirs`` rooms (``rirs=0``: no reverberation, denoising
    only; :class:`RIRBank`, with ``distance`` and ``drr_range``), a random noise type and an SNR
    uniform in ``snr_range``; a ``dry_fraction`` of the items gets no room and a ``noiseless_fraction``
    no noise (each drawn only when it is above 0). With ``speed_range`` other
    than (1, 1) the utterance is first played faster or slower by a factor uniform in that range
    (:func:`change_speed`), which moves its pitch and formants: new voices from the same speakers.
    Returns a dict of ``degraded`` and ``clean`` tensors of shape (1, segment), and the
    conditions (noise_type, snr_db, rt60_measured, drr_db); with ``undegraded`` set, the item's
    ``speech`` and unit-RMS ``noise`` (1, segment), its ``room`` (an index into ``rooms``),
    ``snr_db`` and ``noise_type``, for :func:`degrade_batch` to mix on the training device.
    """

    def __init__(
        self,
        split: str = "train",
        segment: int = 2 * SAMPLE_RATE,
        length: int = 1000,
        seed: int = 0,
        rirs: int = 64,
        snr_range: tuple[float, float] = SNR_RANGE,
        noise_types: tuple[str, ...] = NOISE_TYPES,
        corpus_dir: Path = corpus.STARTER_DIR,
        cache_dir: Path = CACHE_DIR,
        speed_range: tuple[float, float] = (1.0, 1.0),
        distance: tuple[float, float] = rooms.DISTANCE_RANGE,
        drr_range: tuple[float, float] = DRR_RANGE,
        dry_fraction: float = 0.0,
        noiseless_fraction: float = 0.0,
    ) -> None:
        rows = corpus.utterances(corpus_dir, split)
        if not rows:
            raise ValueError(f"no utterances of split {split!r} in {corpus_dir}/manifest.csv")
        self.speech = [load(corpus_dir / r["path"]) for r in rows]
        self.bank = RIRBank(split, rirs, cache_dir=cache_dir, distance=distance, drr_range=drr_range) if rirs else None
        self.rooms = [*(self.bank.rirs if self.bank else []), NO_ROOM]  # the last: no room (dry pairs, rirs=0)
        self.babble = corpus.babble_clips("test" if split == "test" else "train", corpus_dir)
        self.segment, self.length = segment, length
        # the random stream of item i: the training split's is (seed, i); the others add the split,
        # so a validation item never repeats the noise and SNR of the training item of its number
        self.stream = [seed] if split == "train" else [seed, ROOM_PURPOSES.index(split)]
        self.snr_range, self.noise_types, self.speed_range = snr_range, noise_types, tuple(speed_range)
        self.dry_fraction, self.noiseless_fraction = dry_fraction, noiseless_fraction
        self.undegraded = False  # True: items are the parts (clean speech, room, noise, SNR) that degrade_batch mixes

    def __len__(self) -> int:
        return self.length

    def parts(self, i: int) -> tuple[np.ndarray, int, str, float, np.ndarray]:
        """What item ``i`` is made of: its clean (segment,) speech, the index of its room in ``rooms``
        (one of the bank's, or the last, :data:`NO_ROOM`), its noise type, SNR (infinite: no noise) and
        unit-RMS (segment,) noise."""
        rng = np.random.default_rng([*self.stream, i])
        speech = self.speech[int(rng.integers(len(self.speech)))]
        if self.speed_range != (1.0, 1.0):  # drawn only when asked, so runs without it keep their items
            speech = change_speed(speech, float(rng.uniform(*self.speed_range)))
        speech = self.cut(speech, rng)
        room = len(self.rooms) - 1 if self.bank is None else int(rng.integers(len(self.bank)))
        kind = str(rng.choice(self.noise_types))
        snr = float(rng.uniform(*self.snr_range))
        noise = make_noise(kind, self.segment, rng, self.babble)
        if self.dry_fraction and rng.random() < self.dry_fraction:  # drawn only when asked, as the speed is
            room = len(self.rooms) - 1
        if self.noiseless_fraction and rng.random() < self.noiseless_fraction:
            snr = math.inf
        return speech, room, kind, snr, noise

    def example(self, i: int) -> Example:
        """Item ``i`` as numpy arrays with its conditions."""
        speech, room, kind, snr, noise = self.parts(i)
        rir = self.rooms[room]
        degraded, clean = degrade(speech, rir, noise, snr)
        return Example(degraded, clean, kind, snr, rir.rt60_target, rir.rt60_measured, rir.drr_db)

    def cut(self, speech: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random ``segment``-long stretch of (T,) ``speech`` (zero-padded if shorter) that is
        not digital silence: MBROLA and Pico leave pauses of exact zeros (MBROLA's up to 0.28 s),
        longer than a short segment, and no SNR can be set against silence. A silent stretch is drawn
        again, so every other item stays as it was."""
        if len(speech) < self.segment:
            return np.pad(speech, (0, self.segment - len(speech)))
        for _ in range(MAX_CUT_TRIES):
            start = int(rng.integers(len(speech) - self.segment + 1))
            piece = speech[start : start + self.segment]
            if np.any(piece):
                return piece
        raise ValueError(f"{MAX_CUT_TRIES} segments of {self.segment} samples were all silent; is the corpus's speech silent?")

    def __getitem__(self, i: int) -> dict[str, torch.Tensor | str | float]:
        if self.undegraded:  # for degrade_batch, on the training device
            speech, room, kind, snr, noise = self.parts(i)
            return dict(speech=torch.from_numpy(speech)[None], noise=torch.from_numpy(noise)[None], room=room, snr_db=snr, noise_type=kind)
        ex = self.example(i)
        return dict(
            degraded=torch.from_numpy(ex.degraded)[None], clean=torch.from_numpy(ex.clean)[None],
            noise_type=ex.noise_type, snr_db=ex.snr_db, rt60_measured=ex.rt60_measured, drr_db=ex.drr_db,
        )  # fmt: skip


# ----------------------------------------------------------------------------- the test sets
MAX_TEST_SECONDS = 6.0


def room_in_bin(rt60_bin: tuple[float, float], keys: tuple[int, ...], regime: Regime = MAIN) -> rooms.RIR:
    """Simulate rooms until one's *measured* RT60 lies in ``rt60_bin`` and its DRR in the regime's range.

    The first request is the bin's middle; each retry rescales the request by how far the
    last measurement missed, with a new room (seed from ``keys`` and the try number).
    """
    lo, hi = rt60_bin
    ask = (lo + hi) / 2
    for attempt in range(MAX_ROOM_TRIES):
        rir = simulate_rir(float(np.clip(ask, *rooms.RT60_RANGE)), room_seed("testset", *keys, attempt),
                           distance=regime.distance, log_distance=regime.log_distance)  # fmt: skip
        if lo <= rir.rt60_measured <= hi and regime.drr_range[0] <= rir.drr_db <= regime.drr_range[1]:
            return rir
        ask *= (lo + hi) / 2 / rir.rt60_measured
    raise RuntimeError(f"no room with a measured RT60 in {rt60_bin} s and a DRR in {regime.drr_range} dB after "
                       f"{MAX_ROOM_TRIES} tries; widen the bin.")  # fmt: skip


def build_testset(
    regime: Regime = MAIN, out_dir: Path | None = None, corpus_dir: Path = corpus.STARTER_DIR, per_cell: int = 3,
    real_per_cell: int = 1, seed: int = 0, overwrite: bool = False,
) -> list[dict[str, object]]:
    """Write the fixed test set of ``regime`` (into its folder, or ``out_dir``): every (SNR bin x
    measured-RT60 bin) cell gets ``per_cell`` synthetic-speech and ``real_per_cell`` real-speech
    mixtures, with unseen speakers, rooms and noise clips.

    Writes ``degraded/*.flac``, ``clean/*.flac`` (the direct-path target) and ``manifest.csv``
    with the conditions (SNR, requested and measured RT60, DRR, noise type) and checksums. It
    is built in a sibling ``.partial`` folder and moved into place at the end.

    Raises:
        FileExistsError: the test set exists and ``overwrite`` is false.
    """
    out_dir = regime.folder if out_dir is None else out_dir
    if out_dir.exists() and not overwrite:
        raise FileExistsError(f"{out_dir} exists; pass --overwrite to rebuild it (then bump its Regime's version).")
    final_dir, out_dir = out_dir, out_dir.with_name(out_dir.name + ".partial")
    shutil.rmtree(out_dir, ignore_errors=True)
    rng = np.random.default_rng(room_seed("testset", seed, *regime.stream))
    sources = {
        "synthetic": corpus.utterances(corpus_dir, "test"),
        "real": corpus.read_manifest(corpus_dir / "real_manifest.csv"),
    }
    babble = corpus.babble_clips("test", corpus_dir)
    cells = [(s, r) for s in regime.snr_bins for r in RT60_BINS]
    plan = [(src, cell) for cell in cells for src, n in (("synthetic", per_cell), ("real", real_per_cell))
            for _ in range(n)]  # fmt: skip
    rows: list[dict[str, object]] = []
    for k, (source, (snr_bin, rt60_bin)) in enumerate(tqdm(plan, desc="test set", unit="mixture")):
        row = sources[source][int(rng.integers(len(sources[source])))]
        speech = load(corpus_dir / row["path"])[: int(MAX_TEST_SECONDS * SAMPLE_RATE)]
        rir = room_in_bin(rt60_bin, (seed, *regime.stream, k), regime)
        kind = str(rng.choice(NOISE_TYPES))
        snr = float(rng.uniform(*snr_bin))
        degraded, clean = degrade(speech, rir, make_noise(kind, len(speech), rng, babble), snr)
        item = f"{regime.prefix}-{k:03d}"
        files = {folder: save(out_dir / folder / f"{item}.flac", x) for folder, x in (("degraded", degraded), ("clean", clean))}
        rows.append(
            dict(id=item, set=regime.name, source=source, speaker=row["speaker"], utterance_id=row["utterance_id"], noise_type=kind,
                 snr_db=f"{snr:.2f}", rt60_target=f"{rir.rt60_target:.3f}", rt60_measured=f"{rir.rt60_measured:.3f}",
                 drr_db=f"{rir.drr_db:.2f}", room_seed=rir.seed, duration_s=f"{len(speech) / SAMPLE_RATE:.3f}",
                 **{name: path.relative_to(out_dir).as_posix() for name, path in files.items()},
                 **{f"{name}_sha256": sha256(path) for name, path in files.items()})
        )  # fmt: skip
    corpus.write_manifest(out_dir / "manifest.csv", rows, TESTSET_FIELDS)
    (out_dir / "VERSION").write_text(f"{regime.version}\n")
    if final_dir.exists():
        shutil.rmtree(final_dir)
    out_dir.replace(final_dir)
    return rows


@dataclass(frozen=True)
class TestItem:
    """One test mixture: (T,) ``degraded`` and ``clean`` at 16 kHz and its manifest row."""

    degraded: np.ndarray
    clean: np.ndarray
    info: dict[str, str]


def load_testset(regime: str = "main", source: str | None = None) -> list[TestItem]:
    """The fixed test set of ``regime`` ("main" or "hard"; optionally only ``source`` = "synthetic" or "real")."""
    test_dir = REGIMES[regime].folder
    rows = corpus.read_manifest(test_dir / "manifest.csv")
    return [
        TestItem(load(test_dir / r["degraded"]), load(test_dir / r["clean"]), r)
        for r in rows
        if source is None or r["source"] == source
    ]
