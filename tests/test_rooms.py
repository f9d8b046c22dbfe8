import dataclasses

import numpy as np
import pyroomacoustics as pra
import pytest
import scipy.signal

from hifigan_edu.audio import si_sdr
from hifigan_edu.data import rooms


@pytest.fixture(scope="module")
def rir():
    return rooms.simulate_rir(0.4, seed=11, distance=rooms.HARD_DISTANCE_RANGE, log_distance=False)


def test_rir_is_deterministic_and_labelled(rir):
    again = rooms.simulate_rir(0.4, seed=11, distance=rooms.HARD_DISTANCE_RANGE, log_distance=False)
    np.testing.assert_array_equal(rir.h, again.h)
    assert rir.rt60_measured == again.rt60_measured
    assert 0.25 < rir.rt60_measured < 0.7  # Sabine's target is only approximate
    assert -15 < rir.drr_db < 20
    assert set(rir.labels()) == {
        "direct_index", "seed", "rt60_target", "rt60_measured", "drr_db", "room_dims", "source", "mic",
    }  # fmt: skip


def test_direct_index_is_the_anechoic_peak():
    """Without walls the only arrival is the direct path: its peak is where the geometry says."""
    for seed in range(8):
        rng = np.random.default_rng(seed)
        dims = np.array([8.0, 6.0, 3.0])
        source = rng.uniform(1.0, dims - 1.0)
        mic = rooms._place_mic(source, dims, rng, rooms.DISTANCE_RANGE, log_distance=bool(seed % 2))
        room = pra.ShoeBox(dims, fs=16_000, max_order=0, air_absorption=True)
        room.add_source(source)
        room.add_microphone(mic)
        room.compute_rir()
        h = room.rir[0][0]
        assert int(np.argmax(np.abs(h))) == rooms.direct_path_index(source, mic, 16_000, room.c)


@pytest.mark.parametrize("seed", range(0, 60, 6))
def test_direct_index_is_the_first_arrival_in_a_room(seed):
    """Nothing arrives before the direct path, and it is a local peak, even where reflections sum higher."""
    rir = rooms.simulate_rir(1.0, seed=seed)
    d = rir.direct_index
    filter_half = pra.constants.get("frac_delay_length") // 2
    # before the direct path's fractional-delay filter there is only a small low-frequency offset
    assert np.abs(rir.h[: d - filter_half]).max(initial=0) < 0.05 * abs(rir.h[d])
    assert np.argmax(np.abs(rir.h[d - 2 : d + 3])) == 2


def test_a_closer_talker_hears_more_direct_sound():
    near, far = (rooms.simulate_rir(0.6, seed=3, distance=(d, d)) for d in (0.15, 1.5))
    assert near.room_dims == far.room_dims and near.drr_db > far.drr_db + 10
    assert near.drr_db > 10 and far.drr_db < 0  # towards either end of HiFi-GAN's DRR range, -6..18 dB


def test_drr_of_a_known_response():
    h = np.zeros(1000)
    h[100] = 1.0
    h[500:510] = 0.1  # reverberant energy 10 * 0.01 = 0.1 -> DRR 10 dB
    assert rooms.drr_db(h, 100) == pytest.approx(10.0)


def test_target_is_the_aligned_direct_path(rir):
    rng = np.random.default_rng(0)
    clean = rng.standard_normal(16_000).astype(np.float32)
    wet, target = rooms.reverberate(clean, rir)
    assert wet.shape == target.shape == clean.shape
    # the aligned reverberant signal matches the target far better than the raw convolution does
    unaligned = np.convolve(clean, rir.h)[: len(clean)]
    assert si_sdr(wet, target) > si_sdr(unaligned, target) + 10
    # and shifting the alignment by a single sample makes it worse
    shifted, _ = rooms.reverberate(clean, dataclasses.replace(rir, direct_index=rir.direct_index + 1))
    assert si_sdr(wet, target) > si_sdr(shifted, target) + 3


def first_reflection_lag(rir: rooms.RIR) -> float:
    """Samples between the direct path and the first wall reflection (the nearest first-order image)."""
    source, mic, dims = map(np.array, (rir.source, rir.mic, rir.room_dims))
    images = [np.where(np.arange(3) == axis, wall, source) for axis in range(3) for wall in (-source[axis], 2 * dims[axis] - source[axis])]
    nearest = min(np.linalg.norm(mic - image) for image in images)
    return (nearest - np.linalg.norm(mic - source)) / pra.constants.get("c") * 16_000


@pytest.mark.parametrize("seed", [1, 2, 4, 5, 7, 9])
def test_target_is_the_rooms_own_direct_path(seed):
    """The target is the RIR's first arrival, with its gain and sub-sample delay.

    In these rooms the first reflection comes over 45 samples after the direct path, so +-20
    samples of the RIR around it hold the direct path alone (pyroomacoustics' fractional-delay
    filter). Scaling the dry speech by the RIR's value at the nearest sample (what the test
    set's first version did) scores 2-26 dB SI-SDR against it in these rooms, and up to 2 dB
    too quiet.
    """
    rir = rooms.simulate_rir(0.4, seed=seed)
    assert first_reflection_lag(rir) > 45
    d = rir.direct_index
    direct_only = np.zeros_like(rir.h)
    direct_only[d - 20 : d + 21] = rir.h[d - 20 : d + 21]
    clean = np.random.default_rng(0).standard_normal(16_000)
    heard = scipy.signal.fftconvolve(clean, direct_only)[d : d + len(clean)]
    _, target = rooms.reverberate(clean, rir)
    assert si_sdr(target, heard) > 20
    assert 20 * np.log10(np.std(target) / np.std(heard)) == pytest.approx(0.0, abs=0.2)


def test_rt60_outside_range_is_refused():
    with pytest.raises(ValueError, match="0.2-2.0 s"):
        rooms.simulate_rir(5.0, seed=0)
    with pytest.raises(ValueError, match="0.2-2.0 s"):
        rooms.simulate_rir(0.1, seed=0)


@pytest.mark.parametrize("seed", range(5))
def test_talker_and_microphone_keep_their_distance(seed):
    rir = rooms.simulate_rir(0.3, seed=seed)
    distance = np.linalg.norm(np.subtract(rir.mic, rir.source))
    assert rooms.DISTANCE_RANGE[0] <= distance <= rooms.DISTANCE_RANGE[1]
    assert all(rooms.WALL_MARGIN <= m <= d - rooms.WALL_MARGIN for m, d in zip(rir.mic, rir.room_dims))
