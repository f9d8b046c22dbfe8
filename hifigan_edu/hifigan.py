"""HiFi-GAN for speech enhancement (Su, Jin, Finkelstein 2020): the generator, the four
discriminators, and the losses as plain functions.

Taught in ``notebooks/06_hifigan_anatomy.ipynb``; trained by ``hifigan_edu.train``
(``notebooks/07_training_hifigan.ipynb``). The blocks come from ``hifigan_edu.nn``
(notebooks 04-05).

Shapes: audio is (B, 1, T) at 16 kHz. A discriminator output is a list with one
``(score, features)`` pair per discriminator: the 16, 8 and 4 kHz waveform discriminators,
then the mel-spectrogram discriminator.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hifigan_edu import gan, hifigan2
from hifigan_edu import nn as hnn
from hifigan_edu.config import Config, ConditioningConfig, DiscriminatorConfig, GeneratorConfig, LossConfig

Judgement = list[tuple[Tensor, list[Tensor]]]  # one (score, features) per discriminator


class Generator(nn.Module):
    """Degraded audio (B, 1, T) -> (WaveNet output, postnet output), both (B, 1, T).

    The feed-forward WaveNet does the enhancement; the postnet, a stack of wide convolutions,
    cleans up what is left (its correction is added to the WaveNet's output). With
    ``residual`` (our CPU choice) the WaveNet's output is added to its input and starts tiny.

    With ``conditioning`` it is HiFi-GAN-2's generator (notebook 08): ``self.conditioning``
    (:class:`hifigan2.Conditioning`) predicts clean MFCCs from the input, and every WaveNet layer
    is conditioned on them, upsampled to the sample rate.
    """

    def __init__(self, config: GeneratorConfig, conditioning: ConditioningConfig | None = None) -> None:
        super().__init__()
        c = config
        self.residual = c.residual
        self.conditioning = hifigan2.Conditioning(conditioning) if conditioning else None
        self.wavenet = hnn.WaveNet(c.channels, c.layers, c.stacks, c.kernel_size, c.skip_channels, c.out_channels, c.out_kernel,
                                   cond_channels=conditioning.n_mfcc if conditioning else 0, negative_slope=c.out_negative_slope)  # fmt: skip
        self.postnet = hnn.Postnet(c.postnet_channels, c.postnet_layers, c.postnet_kernel)
        if self.residual:
            with torch.no_grad():  # a tiny correction, with no constant offset
                self.wavenet.out[-1].weight.mul_(0.01)
                self.wavenet.out[-1].bias.zero_()

    @property
    def receptive_field(self) -> int:
        """Receptive field of WaveNet then postnet, in samples."""
        return self.wavenet.receptive_field + self.postnet.receptive_field - 1

    def forward(self, x: Tensor, postnet: bool = True, mfcc: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``postnet=False`` skips the postnet (stage 1) and returns the WaveNet output twice.

        A conditioned generator predicts the clean MFCCs (B, n_mfcc, T // hop + 1) of ``x`` itself,
        unless they are given as ``mfcc`` (``enhance`` predicts them once for a whole file). The
        prediction gets no gradient: the predictor is trained by its own stage, never by these losses.
        """
        c = None
        if self.conditioning is not None:
            if mfcc is None:
                with torch.no_grad():
                    mfcc = self.conditioning.predict(x)
            c = self.conditioning.upsample(mfcc, x.shape[-1])
        y = self.wavenet(x, c)
        if self.residual:
            y = x + y
        return y, self.postnet(y) if postnet else y


class Discriminators(nn.Module):
    """Audio (B, 1, T) -> a :data:`Judgement`: the waveform discriminators at ``config.rates``, then the mel one."""

    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        c = config
        self.waveform = hnn.MultiScaleDiscriminator(c.rates, channels=c.channels, kernels=c.kernels, strides=c.strides, groups=c.groups)
        self.mel = hnn.MelDiscriminator(channels=c.mel_channels) if c.mel else None

    def forward(self, x: Tensor) -> Judgement:
        x = x.float()  # real and generated audio resampled alike, even when the generator ran in bf16
        return self.waveform(x) + ([self.mel(x)] if self.mel is not None else [])


def generator(config: Config) -> Generator:
    """The generator of a config: HiFi-GAN's, or HiFi-GAN-2's conditioned one."""
    return Generator(config.generator, config.conditioning if config.model == "hifigan2" else None)


def build(config: Config) -> tuple[Generator, Discriminators]:
    """The generator and the discriminators of a config."""
    return generator(config), Discriminators(config.discriminator)


# ----------------------------------------------------------------------------- reconstruction losses


def log_magnitude(x: Tensor, n_fft: int, hop: int, floor: float = 1e-5) -> Tensor:
    """(B, 1, T) -> log(|STFT| + ``floor``) (B, n_fft / 2 + 1, frames), Hann window, in float32 (also under autocast)."""
    window = torch.hann_window(n_fft, device=x.device)
    spec = torch.stft(x.float().squeeze(1), n_fft, hop, window=window, return_complex=True)
    return torch.log(spec.abs() + floor)


def spectral_loss(y: Tensor, target: Tensor, resolutions: tuple[tuple[int, int], ...], floor: float = 1e-5) -> Tensor:
    """Mean L1 between the log magnitudes of (B, 1, T) ``y`` and ``target``, summed over (n_fft, hop) ``resolutions``.

    Both go through the same :func:`log_magnitude`, so no level bias creeps in. Every time-frequency
    bin counts the same, down to ``floor``: the bins a quiet target leaves nearly empty weigh as much as speech.
    """
    return sum(F.l1_loss(log_magnitude(y, n, h, floor), log_magnitude(target, n, h, floor)) for n, h in resolutions)


def reconstruction_loss(y: Tensor, target: Tensor, config: LossConfig) -> Tensor:
    """L1 on samples plus :func:`spectral_loss`, weighted by ``config``."""
    spectral = spectral_loss(y, target, config.spectral_resolutions, config.spectral_floor)
    return config.l1_weight * F.l1_loss(y.float(), target) + config.spectral_weight * spectral


def gain_yardstick(degraded: Tensor, clean: Tensor, config: LossConfig) -> tuple[float, float]:
    """(gain, loss): the single gain g in [0.01, 1] (a log grid, 41 points) for which g * ``degraded``
    (B, 1, T) has the lowest :func:`reconstruction_loss` against ``clean`` (B, 1, T).

    Noise and reverberation add energy to almost every time-frequency bin, so the log-magnitude
    terms reward turning *everything* down, speech included. A generator has learned to enhance
    only where it beats this yardstick, not merely the unscaled input (notebook 07).
    """
    gains = torch.logspace(-2, 0, 41)
    losses = [reconstruction_loss(g * degraded, clean, config).item() for g in gains]
    best = min(range(len(gains)), key=losses.__getitem__)
    return gains[best].item(), losses[best]


# ----------------------------------------------------------------------------- adversarial losses


def discriminator_loss(real: Judgement, fake: Judgement, kind: str) -> Tensor:
    """Summed over the discriminators: the GAN loss ``kind`` of :data:`gan.LOSSES` (least squares:
    D(x) -> 1, D(G(z)) -> 0; or hinge), every patch score of a discriminator's map one sample."""
    d_loss = gan.LOSSES[kind][0]
    return sum(d_loss(r.float().flatten(), f.float().flatten()) for (r, _), (f, _) in zip(real, fake))


def generator_adversarial_loss(fake: Judgement, kind: str) -> Tensor:
    """Summed over the discriminators: least squares (D(G(z)) -> 1) or hinge (-D(G(z))), from :data:`gan.LOSSES`."""
    g_loss = gan.LOSSES[kind][1]
    return sum(g_loss(f.float().flatten()) for f, _ in fake)


def feature_matching_loss(real: Judgement, fake: Judgement) -> Tensor:
    """Deep feature matching: mean L1 between the feature maps of clean and enhanced audio, every
    layer but the last, averaged over each discriminator's layers and summed over discriminators.

    ``real`` should be computed without gradient (the clean audio's features are targets).
    """
    total = torch.zeros((), device=real[0][0].device)
    for (_, real_features), (_, fake_features) in zip(real, fake):
        layers = [F.l1_loss(f.float(), r.float().detach()) for r, f in zip(real_features, fake_features)]
        total = total + sum(layers) / len(layers)
    return total
