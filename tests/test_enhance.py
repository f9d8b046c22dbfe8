"""Enhancement: chunks join exactly, files of any format, no overwriting, checkpoint errors that say what differs."""

import numpy as np
import pytest
import soundfile as sf
import torch

from hifigan_edu import audio, enhance, hifigan, train


@pytest.fixture
def export(tiny_config, tmp_path):
    torch.manual_seed(0)
    G, D = hifigan.build(tiny_config)
    run = train.Run(tiny_config, G, D, step=7)
    train.save_checkpoint(run, tmp_path)
    return tmp_path / train.GENERATOR


def test_chunked_enhancement_equals_the_whole_file(export):
    G, config, info = enhance.load_generator(export)
    assert config.name == "tiny" and info["step"] == 7
    x = 0.1 * np.random.default_rng(0).standard_normal(20_000).astype(np.float32)
    with torch.no_grad():
        whole = G(torch.from_numpy(x)[None, None])[1][0, 0].numpy()
    assert G.receptive_field > 16
    chunked = enhance.enhance(G, x, chunk_s=0.001)  # 16-sample chunks, shorter than the receptive field of context
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    chunked = enhance.enhance(G, x, chunk_s=0.1)
    np.testing.assert_allclose(chunked, whole, atol=1e-6)
    enhancer = enhance.load_enhancer(export)  # step 7 of 2 + 2 + 2: past stage postnet, so the postnet is used
    assert enhancer.postnet and enhancer.label == "HiFi-GAN (tiny, step 7)"
    np.testing.assert_allclose(enhancer(x, chunk_s=0.1), whole, atol=1e-6)


def test_a_stereo_44k_file_is_converted_with_notes(export, tmp_path):
    src = tmp_path / "in.wav"
    t = np.arange(44_100) / 44_100
    sf.write(src, np.stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2, axis=1), 44_100)
    notes = enhance.enhance_file(src, tmp_path / "out.wav", export)
    assert any("2 channels averaged to mono" in n for n in notes) and any("resampled from 44100 Hz" in n for n in notes)
    y, sr = sf.read(tmp_path / "out.wav")
    assert sr == 16_000 and y.ndim == 1 and len(y) == 16_000


def test_the_input_is_never_overwritten(export, tmp_path):
    src = audio.save(tmp_path / "in.wav", np.zeros(8000, np.float32))
    before = src.read_bytes()
    with pytest.raises(ValueError, match="is the input file"):
        enhance.enhance_file(src, tmp_path / "." / "in.wav", export)
    (tmp_path / "out.wav").write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="--overwrite"):
        enhance.enhance_file(src, tmp_path / "out.wav", export)
    assert src.read_bytes() == before and (tmp_path / "out.wav").read_bytes() == b"keep"
    with pytest.raises(ValueError, match=r"give the output a \.wav or \.flac name"):
        enhance.enhance_file(src, tmp_path / "out.mp3", export)
    assert not (tmp_path / "out.mp3").exists()
    for chunk_s in (0, float("inf"), float("nan"), 1e-300):  # no overflow, no one-sample chunks
        with pytest.raises(ValueError, match="chunk_s must be a finite number of seconds >= 0.1"):
            enhance.enhance_file(src, tmp_path / "new.wav", export, chunk_s=chunk_s)
    with pytest.raises(ValueError, match="chunk_s must be a finite number of seconds, at least one sample"):
        enhance.enhance(enhance.load_generator(export)[0], np.zeros(100, np.float32), chunk_s=float("inf"))
    with pytest.raises(FileNotFoundError, match="input file not found"):
        enhance.enhance_file(tmp_path / "missing.wav", tmp_path / "new.wav", export)


def test_checkpoint_errors_name_what_differs(export, tmp_path):
    state = torch.load(export, weights_only=True)
    state["config"]["generator"]["channels"] = 8
    torch.save(state, tmp_path / "mismatch.pt")
    with pytest.raises(enhance.CheckpointError, match=r"do not fit the generator.*wrong shape: wavenet.inp.weight \(4, 1, 1\) vs \(8, 1, 1\)"):
        enhance.load_generator(tmp_path / "mismatch.pt")
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(enhance.CheckpointError, match="not a hifigan-edu checkpoint"):
        enhance.load_generator(tmp_path / "other.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(enhance.CheckpointError, match="not a PyTorch checkpoint"):
        enhance.load_generator(tmp_path / "text.pt")
    with pytest.raises(FileNotFoundError, match="python -m hifigan_edu train"):
        enhance.load_generator(tmp_path / "none.pt")


def test_a_generator_stopped_before_the_postnet_stage_skips_its_postnet(tiny_config, tmp_path):
    assert not enhance.postnet_trained(tiny_config, 2) and enhance.postnet_trained(tiny_config, 3)  # 2 wavenet steps
    torch.manual_seed(0)
    G, D = hifigan.build(tiny_config)
    train.save_checkpoint(train.Run(tiny_config, G, D, step=2), tmp_path)
    x = 0.1 * np.random.default_rng(0).standard_normal(8000).astype(np.float32)
    src = audio.save(tmp_path / "in.wav", x)
    notes = enhance.enhance_file(src, tmp_path / "out.wav", tmp_path / train.GENERATOR)
    assert any("untrained postnet was skipped" in n for n in notes)
    with torch.no_grad():
        wavenet_only = G(torch.from_numpy(audio.load(src))[None, None], postnet=False)[0][0, 0].numpy()
    np.testing.assert_allclose(audio.load(tmp_path / "out.wav"), wavenet_only, atol=1e-4)  # 16-bit file
    early = enhance.load_enhancer(tmp_path / train.GENERATOR)  # what `evaluate` and the notebooks use: the same choice
    assert not early.postnet and early.label == "HiFi-GAN (tiny, step 2)" and early.info["step"] == 2
    np.testing.assert_allclose(early(audio.load(src)), wavenet_only, atol=1e-6)
