"""HiFi-GAN-2: features, the predictor, the upsamplers, the conditioned generator, and its training stages."""

import math

import numpy as np
import pytest
import torch

from hifigan_edu import config, enhance, hifigan, hifigan2, train
from hifigan_edu.config import ConditioningConfig


def snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_features_are_torchaudio_mfccs_with_one_frame_per_hop():
    c = ConditioningConfig(n_mfcc=20, n_mels=40, n_fft=512, hop=128)
    x = 0.1 * torch.randn(2, 1, 4000)
    m = hifigan2.Features(c)(x)
    assert m.shape == (2, 20, 4000 // 128 + 1)
    loud, quiet = (hifigan2.Features(c)(a * x) for a in (1.0, 0.1))
    # log amplitude: a 20 dB level change moves every frame's c0 by ln(10) * sqrt(n_mels) and leaves the shape
    np.testing.assert_allclose((loud - quiet)[:, 0].numpy(), math.log(10) * math.sqrt(40), rtol=1e-3)
    np.testing.assert_allclose((loud - quiet)[:, 1:].numpy(), 0.0, atol=1e-2)


@pytest.mark.parametrize("kind", ["repeat", "linear", "transposed"])
def test_upsamplers_put_each_frame_on_its_centre(kind):
    hop, frames = 8, 6
    c = torch.randn(2, 3, frames)
    up = hifigan2.Upsampler(3, hop, kind)(c, length=(frames - 1) * hop + 5)
    assert up.shape == (2, 3, (frames - 1) * hop + 5)
    centres = torch.arange(frames - 1) * hop  # the last centre is the edge, where the transposed kernel runs out
    torch.testing.assert_close(up[..., centres], c[..., :-1])
    if kind == "repeat":  # held within half a hop of the centre
        torch.testing.assert_close(up[..., 2 * hop - hop // 2 : 2 * hop + hop // 2], c[..., 2:3].expand(-1, -1, hop))
    else:  # linear between centres; the transposed convolution starts as exactly that
        torch.testing.assert_close(up[..., 2 * hop + hop // 2], (c[..., 2] + c[..., 3]) / 2)


def test_the_upsampler_does_not_change_the_initial_network(tiny_config2):
    nets = []
    for kind in ("repeat", "linear", "transposed"):
        c = tiny_config2.to_dict()
        c["conditioning"]["upsampler"] = kind
        torch.manual_seed(0)
        G = hifigan.generator(config.from_dict(config.Config, c))
        nets.append({k: v for k, v in snapshot(G).items() if not k.startswith("conditioning.upsampler.")})
    assert same(nets[0], nets[1]) and same(nets[0], nets[2])  # a comparison of upsamplers compares only them


def test_the_upsampler_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="choose repeat, linear or transposed"):
        hifigan2.Upsampler(3, 8, "cubic")


def test_the_untrained_predictor_returns_its_input():
    p = hifigan2.MFCCPredictor(n_mfcc=10, hidden=8, layers=2, rnn="lstm")
    m = 10 * torch.randn(2, 10, 30)
    torch.testing.assert_close(p(m), m)


def test_mel_cepstral_distortion_on_known_vectors():
    a = torch.zeros(5, 4)
    b = a.clone()
    b[0] += 7.0  # c0, the energy term, is left out
    b[2] += 0.5
    assert hifigan2.mel_cepstral_distortion(a, b, n_mels=8).item() == pytest.approx(10 / math.log(10) * math.sqrt(0.25 / 8))
    assert hifigan2.mel_cepstral_distortion(a, a, n_mels=8).item() == 0.0
    # a log mel spectrum tilted by one nat between two bands: with the mean removed, it is +-0.5 nat in every band
    c = ConditioningConfig(n_mfcc=2, n_mels=2)
    dct = hifigan2.Features(c).mfcc.dct_mat  # (n_mels, n_mfcc), orthonormal
    tilt = (torch.tensor([[0.0, 1.0]]) @ dct).T  # (n_mfcc, 1 frame)
    assert hifigan2.mel_cepstral_distortion(tilt, torch.zeros_like(tilt), n_mels=2).item() == pytest.approx(10 / math.log(10) * 0.5)


def test_the_conditioned_generator_listens_to_its_features(tiny_config2):
    G = hifigan.generator(tiny_config2)
    assert G.conditioning is not None and G.wavenet.layers[0].cond.in_channels == 8
    x = 0.1 * torch.randn(2, 1, 4000)
    with torch.no_grad():
        mfcc = G.conditioning.predict(x)
        first, final = G(x)
        torch.testing.assert_close(G(x, mfcc=mfcc)[1], final)  # given features = predicted ones
        other = G(x, mfcc=mfcc + 1.0)[1]
    assert first.shape == final.shape == (2, 1, 4000) and mfcc.shape == (2, 8, 4000 // 64 + 1)
    assert (other - final).abs().max() > 1e-6  # small: the residual generator starts with a 0.01-scaled output


@pytest.mark.parametrize("kind", ["repeat", "linear", "transposed"])
def test_chunked_enhancement_equals_the_whole_file(tiny_config2, kind):
    torch.manual_seed(0)
    c = tiny_config2.to_dict()
    c["conditioning"]["upsampler"] = kind
    G = hifigan.generator(config.from_dict(config.Config, c)).eval()
    x = 0.1 * np.random.default_rng(0).standard_normal(20_000).astype(np.float32)
    with torch.no_grad():
        whole = G(torch.from_numpy(x)[None, None])[1][0, 0].numpy()
    for chunk_s in (0.001, 0.1):
        np.testing.assert_allclose(enhance.enhance(G, x, chunk_s=chunk_s), whole, atol=1e-6)


def test_the_predictor_trains_alone_and_then_stays_frozen(tiny_config2):
    G, D = hifigan.build(tiny_config2)
    torch.manual_seed(3)
    clean = 0.1 * torch.randn(2, 1, 8000)
    degraded = clean + 0.05 * torch.randn_like(clean)
    opts = {stage: train.optimisers(tiny_config2, stage, G, D)["g_opt"] for stage in tiny_config2.stage_names}
    before = snapshot(G)
    terms = train.generator_step(G, D, degraded, clean, opts["predictor"], "predictor", tiny_config2.loss)
    assert set(terms) == {"predictor"} and terms["predictor"] > 0
    changed = {k for k, v in snapshot(G).items() if not torch.equal(v, before[k])}
    assert changed and all(k.startswith("conditioning.predictor.") for k in changed)
    predictor = snapshot(G.conditioning.predictor)
    G.zero_grad(set_to_none=True)
    for stage in ("wavenet", "postnet", "adversarial"):
        train.generator_step(G, D, degraded, clean, opts[stage], stage, tiny_config2.loss)
        assert same(snapshot(G.conditioning.predictor), predictor), stage
        assert all(p.grad is None for p in G.conditioning.predictor.parameters())


def test_resume_continues_exactly_and_logs_the_distortion(tiny_config2, tmp_path):
    straight = train.train(tiny_config2, tmp_path / "straight", progress=False)
    train.train(tiny_config2, tmp_path / "split", max_steps=3, progress=False)  # stops inside the wavenet stage
    resumed = train.train(tiny_config2, tmp_path / "split", resume=True, progress=False)
    assert resumed.step == straight.step == 8
    assert same(snapshot(resumed.G), snapshot(straight.G)) and same(snapshot(resumed.D), snapshot(straight.D))
    rows = train.read_metrics(tmp_path / "straight")
    assert [r["stage"] for r in rows[1:3]] == ["predictor"] * 2
    assert float(rows[0]["valid_mcd"]) > 0 and float(rows[2]["valid_mcd"]) > 0  # the degraded input's, then the prediction's
    G, config, _ = enhance.load_generator(tmp_path / "split" / train.GENERATOR)
    assert config.model == "hifigan2" and G.conditioning is not None
