"""HiFi-GAN's generator, discriminators and losses, checked on shapes and closed forms."""

import math

import torch

from hifigan_edu import config, hifigan
from hifigan_edu import nn as hnn


def test_full_generator_and_discriminators_have_the_papers_sizes():
    G, D = hifigan.build(config.load("full"))
    assert hnn.parameter_count(G.wavenet) == 4_993_793  # notebook 04
    assert hnn.parameter_count(G.postnet) == 5_252_481
    assert G.wavenet.receptive_field == 4097
    assert hnn.parameter_count(D.waveform) == 3 * 5_637_953 and hnn.parameter_count(D.mel) == 137_441


def test_shapes(tiny_config):
    G, D = hifigan.build(tiny_config)
    x = torch.randn(3, 1, 8000)
    first, final = G(x)
    assert first.shape == final.shape == x.shape
    judged = D(final)
    assert len(judged) == 4  # 16, 8, 4 kHz and mel
    assert [len(features) for _, features in judged] == [3, 3, 3, 4]  # every layer but the last
    assert judged[1][0].shape[-1] < judged[0][0].shape[-1]  # the 8 kHz scale sees half the samples


def test_residual_generator_starts_near_the_identity(tiny_config):
    G, _ = hifigan.build(tiny_config)
    assert tiny_config.generator.residual
    x = 0.1 * torch.randn(2, 1, 4000)
    first, _ = G(x, postnet=False)
    assert (first - x).abs().max() < 0.01 * x.abs().max()


def test_small_configs_have_leaky_output_units_and_the_full_one_the_papers_relus():
    def activations(name):
        return [m for m in hifigan.Generator(config.load(name).generator).wavenet.out if isinstance(m, (torch.nn.ReLU, torch.nn.LeakyReLU))]

    leaky = activations("ci")
    assert len(leaky) == 3 and all(isinstance(m, torch.nn.LeakyReLU) for m in leaky)
    assert torch.allclose(leaky[0](torch.tensor([-1.0, 2.0])), torch.tensor([-0.2, 2.0]))  # a negative input still passes
    assert [type(m) for m in activations("full")] == [torch.nn.ReLU] * 3


def test_spectral_loss_of_a_doubled_signal_is_log_2_per_resolution():
    x = torch.randn(2, 1, 8000)  # white noise: every bin far above the 1e-5 floor
    resolutions = ((2048, 512), (512, 128))
    assert hifigan.spectral_loss(x, x, resolutions) == 0
    assert math.isclose(hifigan.spectral_loss(2 * x, x, resolutions).item(), 2 * math.log(2), rel_tol=1e-4)


def test_gain_yardstick_turns_added_noise_down_and_leaves_a_clean_input_alone():
    loss = config.LossConfig()
    clean = 0.1 * torch.randn(2, 1, 8000) * torch.linspace(0, 1, 8000)  # quiet at the start
    gain, yardstick = hifigan.gain_yardstick(clean, clean, loss)
    assert gain == 1.0 and yardstick == 0.0
    noisy = clean + 0.05 * torch.randn_like(clean)
    gain, yardstick = hifigan.gain_yardstick(noisy, clean, loss)
    assert gain < 1.0 and yardstick < hifigan.reconstruction_loss(noisy, clean, loss).item()


def test_adversarial_losses_on_known_scores():
    def judgement(value):
        return [(torch.full((2, 1, 5), value), [torch.full((2, 3, 5), value)]) for _ in range(4)]

    ones, zeros = judgement(1.0), judgement(0.0)
    assert hifigan.discriminator_loss(ones, zeros, "least_squares") == 0  # real -> 1, fake -> 0 is perfect
    assert hifigan.discriminator_loss(zeros, ones, "least_squares") == 8  # (0-1)^2 + 1^2 per discriminator
    assert hifigan.generator_adversarial_loss(ones, "least_squares") == 0
    assert hifigan.generator_adversarial_loss(zeros, "least_squares") == 4
    assert hifigan.discriminator_loss(ones, judgement(-1.0), "hinge") == 0  # margins met
    assert hifigan.discriminator_loss(zeros, zeros, "hinge") == 8
    assert hifigan.generator_adversarial_loss(ones, "hinge") == -4
    assert hifigan.feature_matching_loss(ones, ones) == 0
    assert hifigan.feature_matching_loss(zeros, judgement(0.5)) == 4 * 0.5


def test_mel_discriminator_stays_float32_under_autocast():
    D = hnn.MelDiscriminator(channels=4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert D.spectrogram(torch.randn(1, 1, 8000)).dtype == torch.float32
