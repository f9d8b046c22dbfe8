import numpy as np
import pytest

from hifigan_edu.audio import rms, snr_db
from hifigan_edu.data import noise


@pytest.mark.parametrize("kind", noise.NOISE_TYPES)
@pytest.mark.parametrize("snr", [-5.0, 0.0, 12.5, 25.0])
def test_mixture_has_the_requested_snr(kind, snr):
    rng = np.random.default_rng(1)
    speech = (0.1 * rng.standard_normal(8000)).astype(np.float32)
    clips = [rng.standard_normal(3000).astype(np.float32)]
    n = noise.make_noise(kind, 8000, rng, clips)
    assert n.shape == (8000,) and rms(n) == pytest.approx(1.0, rel=1e-3)
    mixture, scaled = noise.mix_at_snr(speech, n, snr)
    assert snr_db(speech, mixture - speech) == pytest.approx(snr, abs=0.1)
    np.testing.assert_allclose(mixture - speech, scaled, atol=1e-6)


def test_colored_noise_slope():
    x = noise.colored(2**16, np.random.default_rng(0), beta=2.0)
    power = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x))
    band = (f > 0.001) & (f < 0.1)
    slope = np.polyfit(np.log10(f[band]), np.log10(power[band]), 1)[0]
    assert slope == pytest.approx(-2.0, abs=0.2)


@pytest.mark.parametrize("seed", range(4))
def test_hum_energy_sits_on_mains_harmonics(seed):
    x = noise.hum(16_000, np.random.default_rng(seed))  # 1 s, so FFT bin k is k Hz
    power = np.abs(np.fft.rfft(x)) ** 2
    hz = np.arange(len(power))
    near = lambda f0: np.minimum(hz % f0, f0 - hz % f0) <= 4  # noqa: E731
    on_harmonics = max(power[near(50)].sum(), power[near(60)].sum()) / power.sum()
    assert on_harmonics > 0.95


def test_noise_is_seeded_and_errors_are_clear():
    a = noise.make_noise("fan", 4000, np.random.default_rng(5))
    b = noise.make_noise("fan", 4000, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="babble clips"):
        noise.make_noise("babble", 100, np.random.default_rng(0))
    with pytest.raises(ValueError, match="colored, hum, fan, babble"):
        noise.make_noise("rain", 100, np.random.default_rng(0))
    with pytest.raises(ValueError, match="cut the noise"):
        noise.mix_at_snr(np.ones(10), np.ones(9), 0.0)
    with pytest.raises(ValueError, match="speech is silent"):
        noise.mix_at_snr(np.zeros(10), np.ones(10), 0.0)
