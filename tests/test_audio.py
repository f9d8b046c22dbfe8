import numpy as np
import pytest
import soundfile as sf

from hifigan_edu import audio


def test_load_resamples_and_downmixes_with_a_note(tmp_path):
    t = np.arange(44_100) / 44_100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    path = tmp_path / "stereo.wav"
    sf.write(path, stereo, 44_100)
    with pytest.warns(audio.AudioConversionWarning) as notes:
        x = audio.load(path)
    messages = " ".join(str(n.message) for n in notes)
    assert "stereo.wav" in messages and "mono" in messages and "44100 Hz" in messages
    assert x.shape == (16_000,) and x.dtype == np.float32
    assert audio.rms(x) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_unreadable_file_error_names_the_file(tmp_path):
    bad = tmp_path / "broken.flac"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(ValueError, match="broken.flac"):
        audio.load(bad)
    with pytest.raises(FileNotFoundError, match="missing.wav"):
        audio.load(tmp_path / "missing.wav")


def test_save_round_trip_and_never_overwrites(tmp_path):
    x = (0.3 * np.sin(np.arange(1600) / 5)).astype(np.float32)
    path = audio.save(tmp_path / "x.flac", x)
    np.testing.assert_allclose(audio.load(path), x, atol=1e-4)
    with pytest.raises(FileExistsError, match="overwrite"):
        audio.save(path, x)
    with pytest.raises(ValueError, match="clips"):
        audio.save(tmp_path / "loud.flac", 2 * x / np.abs(x).max())


def test_si_sdr_is_scale_invariant_and_known_for_noise():
    rng = np.random.default_rng(0)
    s = rng.standard_normal(16_000)
    n = rng.standard_normal(16_000)
    n -= (n @ s) / (s @ s) * s  # orthogonal to s, so the SI-SDR is exactly the SNR
    n *= np.linalg.norm(s) / np.linalg.norm(n) / 10  # 20 dB
    assert audio.si_sdr(3 * (s + n), s) == pytest.approx(20.0, abs=0.05)
