"""Kokoro-82M English synthesis (hifigan_edu.data.kokoro); skipped where the engine is not installed."""

import numpy as np
import pytest

from hifigan_edu.data import kokoro

_missing = kokoro.available()
if _missing:
    pytest.skip(_missing, allow_module_level=True)

TEXT = "The birch canoe slid on the smooth planks."


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("kokoro")


@pytest.fixture(scope="module")
def alpha(cache_dir):
    return kokoro.synthesize(TEXT, {"jf_alpha": 1.0}, cache_dir=cache_dir)


def test_voice_packs_name_their_gender():
    assert kokoro.VOICE_PACKS == {
        "jf_alpha": "F", "jf_gongitsune": "F", "jf_nezumi": "F", "jf_tebukuro": "F", "jm_kumo": "M",
    }


def test_phonemize_maps_espeak_to_kokoro_symbols():
    phonemes = kokoro.phonemize("I owe you a boy, George.")
    assert {"I", "O", "Y", "ʤ"} <= set(phonemes)
    assert "^" not in phonemes and "ː" not in phonemes
    assert phonemes.endswith("ʤ.") and ", " in phonemes


def test_model_is_joined_once_and_atomically(cache_dir, alpha):
    path = kokoro.model_path(cache_dir)
    assert [p.name for p in cache_dir.iterdir()] == [path.name]  # no temporary file left
    mtime = path.stat().st_mtime_ns
    assert kokoro.model_path(cache_dir) == path and path.stat().st_mtime_ns == mtime


def test_synthesize_returns_plausible_audio(alpha):
    assert alpha.dtype == np.float32 and alpha.ndim == 1
    assert kokoro.SAMPLE_RATE == 24_000
    assert 0.5 < len(alpha) / kokoro.SAMPLE_RATE < 5.0
    assert np.isfinite(alpha).all()
    assert np.sqrt(np.mean(alpha**2)) > 0.01


def test_synthesize_is_deterministic(cache_dir, alpha):
    again = kokoro.synthesize(TEXT, {"jf_alpha": 1.0}, cache_dir=cache_dir)
    np.testing.assert_array_equal(again, alpha)


def test_blend_is_a_new_speaker_between_its_packs(cache_dir, alpha):
    """A 50/50 blend of a female and a male pack speaks with a pitch between theirs."""
    import librosa

    kumo = kokoro.synthesize(TEXT, {"jm_kumo": 1.0}, cache_dir=cache_dir)
    blend = kokoro.synthesize(TEXT, {"jf_alpha": 0.5, "jm_kumo": 0.5}, cache_dir=cache_dir)

    def median_f0(x):
        f0, voiced, _ = librosa.pyin(x, fmin=60, fmax=500, sr=kokoro.SAMPLE_RATE, frame_length=2048)
        return float(np.median(f0[voiced]))

    low, middle, high = median_f0(kumo), median_f0(blend), median_f0(alpha)
    assert low * 1.15 < middle < high / 1.15


@pytest.mark.parametrize(
    "mix", [{}, {"af_heart": 1.0}, {"jf_alpha": 0.5}, {"jf_alpha": 1.5, "jm_kumo": -0.5}]
)
def test_bad_mix_is_refused(mix):
    with pytest.raises(ValueError):
        kokoro.synthesize(TEXT, mix)


def test_long_text_is_split_at_sentences_and_an_overlong_sentence_refused():
    sentence = kokoro.phonemize("Speech enhancement removes noise from a recording.")
    chunks = kokoro._chunks(" ".join([sentence] * 20))
    assert len(chunks) > 1 and all(len(c) <= kokoro.MAX_TOKENS for c in chunks)
    assert " ".join(chunks) == " ".join([sentence] * 20)
    assert kokoro._chunks("a" * kokoro.MAX_TOKENS) == ["a" * kokoro.MAX_TOKENS]  # a sentence of exactly the limit: one chunk
    with pytest.raises(ValueError, match="split it"):
        kokoro.synthesize("and " * 300, {"jf_alpha": 1.0})
