"""The building blocks of hifigan_edu.nn: receptive fields, output lengths, causality, feature maps, sizes."""

import itertools

import pytest
import torch
from torch import nn

from hifigan_edu import nn as hnn


def small_wavenet(**kw) -> hnn.WaveNet:
    torch.manual_seed(1)  # (with seed 0 the tiny non-causal net's last ReLUs are off almost everywhere)
    return hnn.WaveNet(channels=4, skip_channels=4, out_channels=(32, 32), **kw)


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(kernel_size=2, layers=10, stacks=1, causal=True, out_kernel=1), 1024),  # WaveNet, one 1..512 block
        (dict(kernel_size=3, layers=10, stacks=2, out_kernel=1), 4093),  # HiFi-GAN's dilated stacks
        (dict(kernel_size=3, layers=10, stacks=3, out_kernel=1), 6139),  # Rethage et al.
        (dict(kernel_size=3, layers=10, stacks=2), 4097),  # HiFi-GAN with its two kernel-3 output convolutions
        (dict(kernel_size=5, layers=4, stacks=1), 65),
    ],
)
def test_receptive_field_formula_equals_the_probe(kw, expected):
    model = small_wavenet(**kw)
    assert model.receptive_field == expected
    assert hnn.probe_receptive_field(model) == expected


def test_causal_layers_do_not_see_the_future_and_non_causal_ones_do():
    for causal, kernel in ((True, 2), (False, 3)):
        model = small_wavenet(kernel_size=kernel, layers=4, stacks=1, causal=causal, out_kernel=1).double()
        x = torch.randn(1, 1, 200, dtype=torch.float64, requires_grad=True)
        model(x)[0, 0, 100:110].sum().backward()  # a few samples, so that some ReLU of the output stack is on
        past, future = x.grad[0, 0, :100].abs().sum(), x.grad[0, 0, 110:].abs().sum()
        assert past > 0 and ((future == 0) if causal else (future > 0))
    with pytest.raises(ValueError, match="odd kernel"):
        hnn.WaveNet(kernel_size=2, causal=False)


def test_wavenet_keeps_the_length_and_takes_conditioning():
    model = small_wavenet(layers=3, stacks=1, cond_channels=5)
    x, c = torch.randn(2, 1, 300), torch.randn(2, 5, 300)
    assert model(x, c).shape == (2, 1, 300)
    with pytest.raises(ValueError, match="conditioning features"):
        model(x)
    # the conditioning changes the output: it enters every gated layer
    assert not torch.allclose(model(x, c), model(x, torch.zeros_like(c)))


@pytest.mark.parametrize(
    "shape",  # (in, out, kernel, stride, groups, padding): the postnet's, the waveform discriminators', edge cases
    [(1, 16, 31, 1, 1, "same"), (16, 16, 32, 1, 1, "same"), (16, 1, 15, 1, 1, "same"), (16, 16, 1, 1, 1, "same"),
     (1, 16, 15, 1, 1, 7), (16, 64, 41, 4, 4, 20), (64, 128, 41, 4, 16, 20), (8, 8, 5, 3, 2, 0), (4, 6, 2, 5, 2, 1),
     (4, 6, 3, 2, 2, "valid")],
)
def test_fast_conv_is_nn_conv1d_with_faster_gradients(shape, monkeypatch):
    # its backward is two forward convolutions, the same numbers as nn.Conv1d's
    *channels, kernel, stride, groups, padding = shape
    torch.manual_seed(0)
    reference = nn.Conv1d(*channels, kernel, stride=stride, groups=groups, padding=padding).double()
    fast = hnn.FastConv1d(*channels, kernel, stride=stride, groups=groups, padding=padding).double()
    fast.load_state_dict(reference.state_dict())
    for length in (501, 503):  # (T + 2 p - k) divisible by the stride for some shapes, not for others; all when it is 1
        x = torch.randn(3, channels[0], length, dtype=torch.float64, requires_grad=True)
        want, got = reference(x), fast(x)
        grad = torch.randn_like(want)
        wanted = torch.autograd.grad(want, [x, *reference.parameters()], grad)
        gotten = torch.autograd.grad(got, [x, *fast.parameters()], grad)
        for a, b in zip((want, *wanted), (got, *gotten)):
            torch.testing.assert_close(b, a, rtol=1e-12, atol=1e-12)
    # under bf16 autocast: the output in bf16 like nn.Conv1d's, the weight gradient summed in float32
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False)  # (with AMX it would be nn.Conv1d's own)
    x = x.detach().float().requires_grad_()
    fast, reference = fast.float(), reference.float()
    exact = torch.autograd.grad(reference(x), [x, *reference.parameters()], grad.float())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = fast(x)
    assert got.dtype == torch.bfloat16
    for a, b in zip(exact, torch.autograd.grad(got, [x, *fast.parameters()], grad.bfloat16())):
        assert b.dtype == torch.float32 and (b - a).abs().max() <= 0.02 * a.abs().max()


def test_same_conv_pads_as_nn_conv1d_does_with_or_without_a_batch():
    same, reference = hnn.SameConv1d(2, 3, 32), nn.Conv1d(2, 3, 32, padding="same")
    same.load_state_dict(reference.state_dict())
    for x in (torch.randn(1, 2, 100), torch.randn(2, 100)):
        torch.testing.assert_close(same(x), reference(x))
        same(x).sum().backward()


def test_output_lengths_match_pytorch():
    for length, k, s, p, d, g in itertools.product((1000, 1001, 4097), (1, 3, 4, 15, 41), (1, 2, 4), (0, 1, 20), (1, 2, 3), (1, 4)):
        if length + 2 * p < d * (k - 1) + 1:
            continue
        conv = nn.Conv1d(4, 8, k, stride=s, padding=p, dilation=d, groups=g)
        assert conv(torch.zeros(1, 4, length)).shape[-1] == hnn.conv_output_length(length, k, s, p, d), (length, k, s, p, d)


def test_paper_configurations_have_the_published_sizes():
    # HiFi-GAN's WaveNet: 20 gated layers of 131,584 (dilated 128 -> 256 kernel 3, residual and skip 1x1),
    # input 1x1 conv, output convs 128 -> 2048 -> 256 (kernel 3) -> 1: about 5.0 M
    layer = (128 * 256 * 3 + 256) + 2 * (128 * 128 + 128)
    out = (128 * 2048 * 3 + 2048) + (2048 * 256 * 3 + 256) + (256 + 1)
    assert hnn.parameter_count(hnn.WaveNet()) == 20 * layer + 256 + out == 4_993_793
    # MelGAN's waveform discriminator block: about 5.6 M
    convs = [(1, 16, 15, 1), (16, 64, 41, 4), (64, 256, 41, 16), (256, 1024, 41, 64), (1024, 1024, 41, 256), (1024, 1024, 5, 1), (1024, 1, 3, 1)]
    assert hnn.parameter_count(hnn.WaveformDiscriminator()) == sum(o * (i // g) * k + o for i, o, k, g in convs) == 5_637_953
    assert hnn.parameter_count(hnn.Postnet()) == (128 * 32 + 128) + 10 * (128 * 128 * 32 + 128) + (128 * 32 + 1)


SMALL_BLOCK = dict(channels=(4, 8, 16, 16, 16, 16, 1), groups=(1, 2, 4, 4, 4, 1, 1))


def test_strided_receptive_field_equals_the_probe():
    d = hnn.WaveformDiscriminator(**SMALL_BLOCK)
    expected = 1 + 14 + 40 * (1 + 4 + 16 + 64) + 4 * 256 + 2 * 256
    assert hnn.strided_receptive_field([15, 41, 41, 41, 41, 5, 3], [1, 4, 4, 4, 4, 1, 1]) == expected == 4951
    assert hnn.probe_receptive_field(d, length=40000) == expected


def test_waveform_discriminator_returns_every_feature_map():
    d = hnn.WaveformDiscriminator(**SMALL_BLOCK)
    score, features = d(torch.randn(2, 1, 16000))
    assert [f.shape[1:] for f in features] == [(4, 16000), (8, 4000), (16, 1000), (16, 250), (16, 63), (16, 63)]
    assert score.shape == (2, 1, 63)


def test_multi_scale_sees_16_8_and_4_khz():
    d = hnn.MultiScaleDiscriminator(**SMALL_BLOCK)
    outs = d(torch.randn(1, 1, 16000))
    assert [features[0].shape[-1] for _, features in outs] == [16000, 8000, 4000]
    assert len({id(b) for b in d.blocks}) == 3 and d.blocks[0].convs[0].weight is not d.blocks[1].convs[0].weight


def test_mel_discriminator_shapes():
    d = hnn.MelDiscriminator()
    x = torch.randn(2, 1, 32000)  # 2 s
    assert d.spectrogram(x).shape == (2, 1, 80, 63)
    score, features = d(x)
    assert [f.shape[1:] for f in features] == [(32, 80, 32), (32, 80, 16), (32, 80, 8), (32, 80, 4)]
    assert score.shape == (2, 1, 80, 4)
