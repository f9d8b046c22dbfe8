import numpy as np
import pytest

from hifigan_edu.audio import si_sdr
from hifigan_edu.data import rooms


@pytest.fixture(scope="module")
def rir():
    return rooms.simulate_rir(0.4, seed=11)


def test_rir_is_deterministic_and_labelled(rir):
    again = rooms.simulate_rir(0.4, seed=11)
    np.testing.assert_array_equal(rir.h, again.h)
    assert rir.rt60_measured == again.rt60_measured
    assert 0.2 < rir.rt60_measured < 0.9  # Sabine's target is only approximate
    assert -15 < rir.drr_db < 20
    assert set(rir.labels()) == {"rt60_target", "rt60_measured", "drr_db", "room_dims", "source", "mic"}


def test_drr_of_a_known_response():
    h = np.zeros(1000)
    h[100] = 1.0
    h[500:510] = 0.1  # reverberant energy 10 * 0.01 = 0.1 -> DRR 10 dB
    assert rooms.drr_db(h) == pytest.approx(10.0)
    assert rooms.direct_path_index(h) == 100


def test_target_is_the_aligned_direct_path(rir):
    rng = np.random.default_rng(0)
    clean = rng.standard_normal(16_000).astype(np.float32)
    wet, target = rooms.reverberate(clean, rir.h)
    d = rooms.direct_path_index(rir.h)
    assert wet.shape == target.shape == clean.shape
    np.testing.assert_allclose(target, rir.h[d] * clean, rtol=1e-6)
    # aligned, the reverberant signal is still correlated with the target at lag 0 ...
    aligned = si_sdr(wet, target)
    # ... and a misaligned target (the raw convolution from sample 0) is far worse.
    unaligned = si_sdr(np.convolve(clean, rir.h)[: len(clean)], target)
    assert aligned > unaligned + 10


def test_rt60_outside_range_is_refused():
    with pytest.raises(ValueError, match="0.1-2.0 s"):
        rooms.simulate_rir(5.0, seed=0)


@pytest.mark.parametrize("seed", range(5))
def test_talker_and_microphone_keep_their_distance(seed):
    rir = rooms.simulate_rir(0.3, seed=seed)
    distance = np.linalg.norm(np.subtract(rir.mic, rir.source))
    assert rooms.DISTANCE_RANGE[0] <= distance <= rooms.DISTANCE_RANGE[1]
    assert all(rooms.WALL_MARGIN <= m <= d - rooms.WALL_MARGIN for m, d in zip(rir.mic, rir.room_dims))
