"""The building blocks of HiFi-GAN: a feed-forward WaveNet, its postnet, and the discriminators.

Taught in ``notebooks/04_dilated_convolutions_and_wavenet.ipynb`` (dilated convolutions, the
receptive field, gated residual layers, ``WaveNet``) and
``05_strided_convolutions_and_discriminators.ipynb`` (strided and grouped convolutions,
``WaveformDiscriminator``, ``MultiScaleDiscriminator``, ``MelDiscriminator``). The HiFi-GAN
notebooks (06-08) import them from here, with ``Postnet``.

Shapes: audio is (B, 1, T) at 16 kHz; discriminators return ``(score, features)``, the score
map of the last layer and a list with the output of every layer before it (for feature
matching).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
import torchaudio
from torch import Tensor, nn

# ----------------------------------------------------------------------------- arithmetic


def receptive_field(kernel_size: int, dilations: list[int], stacks: int = 1) -> int:
    """Samples of input that one output sample sees: (k - 1) * sum(dilations) * stacks + 1."""
    return (kernel_size - 1) * sum(dilations) * stacks + 1


def strided_receptive_field(kernels: list[int], strides: list[int]) -> int:
    """Receptive field of a stack of strided convolutions: 1 + sum_i (k_i - 1) * (product of the strides before layer i)."""
    rf, step = 1, 1
    for k, s in zip(kernels, strides):
        rf += (k - 1) * step
        step *= s
    return rf


def conv_output_length(length: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of ``nn.Conv1d``: floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1."""
    return (length + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1


def probe_receptive_field(model: nn.Module, length: int = 16384, tries: int = 10) -> int:
    """Receptive field *measured*: the span of input samples that the middle output sample depends on.

    Feeds random audio (1, 1, ``length``) in float64 and back-propagates from the middle sample
    of the output (of its first element, for a discriminator's ``(score, features)``); the input
    samples with a non-zero gradient are the ones it sees. A ReLU that happens to be off at
    that sample blocks every gradient, so another random input is tried then.
    """
    model = model.double()
    try:
        for _ in range(tries):
            x = torch.randn(1, 1, length, dtype=torch.float64, requires_grad=True)
            y = model(x)
            y = y[0] if isinstance(y, tuple) else y
            y[0, 0, y.shape[-1] // 2].sum().backward()
            seen = x.grad[0, 0].nonzero()
            if len(seen):
                return int(seen.max() - seen.min() + 1)
    finally:
        model.float()
    raise RuntimeError(f"the middle output sample had zero gradient for {tries} random inputs; is the model constant?")


def parameter_count(module: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# ----------------------------------------------------------------------------- WaveNet


class GatedResidualLayer(nn.Module):
    """One WaveNet layer: x (B, C, T) [and conditioning c (B, C_c, T)] -> (x + residual (B, C, T), skip (B, S, T)).

    z = tanh(W_f * x + V_f * c) * sigmoid(W_g * x + V_g * c), with W a dilated convolution and V
    a 1x1 convolution of the conditioning features (HiFi-GAN-2); then 1x1 convolutions give the
    residual and the skip output. ``causal`` pads only on the left, so output t sees inputs <= t;
    otherwise the padding is split and the layer sees (k - 1) d / 2 samples on each side.
    """

    def __init__(self, channels: int, skip_channels: int, kernel_size: int, dilation: int, causal: bool, cond_channels: int = 0) -> None:
        super().__init__()
        if not causal and kernel_size % 2 == 0:
            raise ValueError(f"a non-causal layer needs an odd kernel to stay centred, got kernel_size={kernel_size}")
        pad = (kernel_size - 1) * dilation
        self.padding = (pad, 0) if causal else (pad // 2, pad // 2)
        self.dilated = nn.Conv1d(channels, 2 * channels, kernel_size, dilation=dilation)
        self.cond = nn.Conv1d(cond_channels, 2 * channels, 1) if cond_channels else None
        self.residual = nn.Conv1d(channels, channels, 1)
        self.skip = nn.Conv1d(channels, skip_channels, 1)

    def forward(self, x: Tensor, c: Tensor | None = None) -> tuple[Tensor, Tensor]:
        h = self.dilated(F.pad(x, self.padding))
        if self.cond is not None:
            if c is None:
                raise ValueError("this layer was built with cond_channels > 0: pass the conditioning features c (B, C_c, T)")
            h = h + self.cond(c)
        filt, gate = h.chunk(2, dim=1)
        z = torch.tanh(filt) * torch.sigmoid(gate)
        return x + self.residual(z), self.skip(z)


class WaveNet(nn.Module):
    """Feed-forward WaveNet: audio (B, 1, T) [and features (B, C_c, T)] -> audio (B, 1, T).

    ``stacks`` x ``layers`` gated residual layers with dilations 1, 2, ..., 2^(layers - 1) in
    each stack; the skip outputs are summed and go through ReLU, a convolution to
    ``out_channels[0]``, ReLU, one to ``out_channels[1]`` (kernel ``out_kernel``), ReLU and a 1x1
    convolution to one channel; ``negative_slope`` > 0 makes those three ReLUs leaky, so that
    none of their units can die (stop passing anything, for every input). The defaults are
    HiFi-GAN's generator (Su et al. 2020): non-causal, 2 x 10 layers, kernel 3, 128 channels,
    output convolutions 2048 and 256 (about 5.0 M parameters; receptive field 4,097 samples: the
    paper's 4,093 of the dilated stacks, and 4 more from the two kernel-3 output convolutions).
    """

    def __init__(
        self, channels: int = 128, layers: int = 10, stacks: int = 2, kernel_size: int = 3, skip_channels: int = 128,
        out_channels: tuple[int, int] = (2048, 256), out_kernel: int = 3, causal: bool = False, cond_channels: int = 0,
        negative_slope: float = 0.0,
    ) -> None:
        super().__init__()
        self.dilations = [2**i for i in range(layers)] * stacks
        self.kernel_size, self.out_kernel = kernel_size, out_kernel
        self.inp = nn.Conv1d(1, channels, 1)
        self.layers = nn.ModuleList(
            GatedResidualLayer(channels, skip_channels, kernel_size, d, causal, cond_channels) for d in self.dilations
        )
        pad = (out_kernel - 1, 0) if causal else ((out_kernel - 1) // 2, out_kernel // 2)

        def relu() -> nn.Module:
            return nn.LeakyReLU(negative_slope) if negative_slope else nn.ReLU()

        self.out = nn.Sequential(
            relu(), nn.ConstantPad1d(pad, 0.0), nn.Conv1d(skip_channels, out_channels[0], out_kernel),
            relu(), nn.ConstantPad1d(pad, 0.0), nn.Conv1d(out_channels[0], out_channels[1], out_kernel),
            relu(), nn.Conv1d(out_channels[1], 1, 1),
        )

    @property
    def receptive_field(self) -> int:
        """Receptive field in samples: the dilated stacks' plus (out_kernel - 1) for each output convolution."""
        return receptive_field(self.kernel_size, self.dilations) + 2 * (self.out_kernel - 1)

    def forward(self, x: Tensor, c: Tensor | None = None) -> Tensor:
        """Under autocast the residual stream and the skip sum keep the input's float32 (bf16 keeps 8 bits of
        mantissa, too few for sums of 20 layers' outputs); the convolutions run in bf16."""
        h = self.inp(x).to(x.dtype)
        skips = 0
        for layer in self.layers:
            h, skip = layer(h, c)
            skips = skips + skip.to(x.dtype)
        return self.out(skips)


class _Conv1dFunction(torch.autograd.Function):
    """conv1d of x (B, C_in, T) with w (C_out, C_in / groups, k), bias b, zero padding ``pads`` (left, right),
    ``stride`` and ``groups``, whose backward is two *forward* convolutions: on a CPU, oneDNN's own backward
    for long kernels is several times slower than its forward (``FastConv1d``)."""

    @staticmethod
    def forward(ctx, x: Tensor, w: Tensor, b: Tensor, pads: tuple[int, int], stride: int, groups: int) -> Tensor:
        xp = F.pad(x, pads)
        ctx.save_for_backward(xp, w)
        ctx.pads, ctx.stride, ctx.groups = pads, stride, groups
        return F.conv1d(xp, w, b, stride=stride, groups=groups)  # under autocast, in its dtype

    @staticmethod
    def backward(ctx, gy: Tensor) -> tuple[Tensor | None, ...]:
        xp, w = ctx.saved_tensors  # the padded input (B, C_in, L), the weights (C_out, C_in / g, k)
        (left, right), s, g = ctx.pads, ctx.stride, ctx.groups
        (batch, c_in, padded), (c_out, c_in_g, k) = xp.shape, w.shape  # gy: (B, C_out, T_out)
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            # the transposed convolution, one phase of the stride at a time: input sample q * s + r receives
            # sum_m w[.., m * s + r] gy[q - m], a forward convolution of gy with every s-th tap of the flipped
            # kernel; the s phases are the output channels of one grouped convolution, interleaved after it
            taps, per_phase = -(-k // s), -(-padded // s)  # taps of each phase's kernel; samples of each phase
            wt = F.pad(w.to(gy.dtype), (0, taps * s - k)).view(g, c_out // g, c_in_g, taps, s).flip(3)
            wt = wt.permute(0, 4, 2, 1, 3).reshape(g * s * c_in_g, c_out // g, taps)  # (g s C_in / g, C_out / g, taps)
            gxp = F.conv1d(F.pad(gy, (taps - 1, per_phase - gy.shape[-1])), wt, groups=g)  # (B, g s C_in / g, per_phase)
            gxp = gxp.view(batch, g, s, c_in_g, per_phase).permute(0, 1, 3, 4, 2).reshape(batch, c_in, per_phase * s)
            gx = gxp[..., left : padded - right].to(xp.dtype)  # (B, C_in, T): the padding's gradient dropped
        if ctx.needs_input_grad[1]:
            # a correlation over (B, T), in float32 or wider: batch and channels swapped, gy the kernel, dilated by
            # the stride; group j's input channels meet only its output channels
            wide = torch.promote_types(gy.dtype, torch.float32)
            xt = xp.to(wide).view(batch, g, c_in_g, padded).permute(2, 1, 0, 3).reshape(c_in_g, g * batch, padded)
            gw = F.conv1d(xt, gy.to(wide).transpose(0, 1), groups=g, dilation=s)[..., :k].transpose(0, 1).to(w.dtype)
        if ctx.needs_input_grad[2]:
            gb = gy.sum((0, 2), dtype=torch.promote_types(gy.dtype, torch.float32)).to(w.dtype)
        return gx, gw, gb, None, None, None


class FastConv1d(nn.Conv1d):
    """``nn.Conv1d`` (same arguments, weights and output) that trains faster on a CPU.

    oneDNN's backward for long kernels is several times its forward: for the postnet's 8 x 16 x
    8,000 and kernel 31, forward and backward took 69 ms in float32 against 13.5 ms for the forward
    alone, 30 ms in bf16 (``scripts/conv_speed.py``, docs/benchmarks.md), and the waveform
    discriminators' strided, grouped kernel-41 convolutions fare worse still. Both gradients are
    convolutions too, so :class:`_Conv1dFunction` runs them as forward ones (postnet: 25 ms in
    float32, 17 ms in bf16), with the weight gradient summed in float32. On a GPU, under bf16
    autocast on a CPU with AMX (whose oneDNN bf16 backward took 6 ms forward and backward already:
    the Intel Xeon of docs/benchmarks.md), with a dilation or a padding mode other than zeros, on
    an input without a batch dimension, or with ``forward_backward`` false (``scripts/gpu_check.py --compare`` times both), it is ``nn.Conv1d``.
    """

    forward_backward = True

    @property
    def pads(self) -> tuple[int, int]:
        """The zero padding (left, right): ``padding="same"`` puts the odd sample of an even kernel on the right."""
        if self.padding == "same":
            k = self.kernel_size[0]
            return (k - 1) // 2, k - 1 - (k - 1) // 2
        if self.padding == "valid":
            return 0, 0
        return self.padding[0], self.padding[0]

    def forward(self, x: Tensor) -> Tensor:
        amx_bf16 = torch.is_autocast_enabled("cpu") and torch.cpu._is_amx_tile_supported()
        plain = self.dilation[0] == 1 and self.padding_mode == "zeros" and x.dim() == 3  # what _Conv1dFunction computes
        if x.device.type != "cpu" or not self.forward_backward or amx_bf16 or not plain:
            return super().forward(x)
        return _Conv1dFunction.apply(x, self.weight, self.bias, self.pads, self.stride[0], self.groups)


class SameConv1d(FastConv1d):
    """The postnet's ``FastConv1d(a, b, k, padding="same")``: (B, a, T) -> (B, b, T)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding="same")


class Postnet(nn.Module):
    """HiFi-GAN's postnet: audio (B, 1, T) -> audio + correction (B, 1, T).

    ``layers`` 1-D convolutions of ``channels`` channels with tanh between them (Su et al. 2020:
    12 layers, 128 channels, kernel about 32). The correction is added to the input, so a
    postnet whose output is near zero starts as the identity.
    """

    def __init__(self, channels: int = 128, layers: int = 12, kernel_size: int = 32) -> None:
        super().__init__()
        sizes = [1] + [channels] * (layers - 1) + [1]
        blocks: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
            blocks.append(SameConv1d(a, b, kernel_size))
            if i < layers - 1:
                blocks.append(nn.Tanh())
        self.net = nn.Sequential(*blocks)
        self.kernel_size, self.n_layers = kernel_size, layers

    @property
    def receptive_field(self) -> int:
        """Receptive field in samples: layers * (kernel_size - 1) + 1."""
        return self.n_layers * (self.kernel_size - 1) + 1

    def forward(self, x: Tensor) -> Tensor:
        return x + self.net(x)


# ----------------------------------------------------------------------------- discriminators


class WaveformDiscriminator(nn.Module):
    """MelGAN's waveform discriminator block: audio (B, 1, T) -> (score (B, 1, T / 256), features).

    Strided, grouped 1-D convolutions with leaky ReLU (slope 0.2); the defaults are the block
    HiFi-GAN uses at every scale: channels 16, 64, 256, 1024, 1024, 1024, 1; kernels 15, 41, 41,
    41, 41, 5, 3; strides 1, 4, 4, 4, 4, 1, 1; groups 1, 4, 16, 64, 256, 1, 1 (about 5.6 M
    parameters). ``features`` holds the output of every layer but the last.
    """

    def __init__(
        self, channels: tuple[int, ...] = (16, 64, 256, 1024, 1024, 1024, 1), kernels: tuple[int, ...] = (15, 41, 41, 41, 41, 5, 3),
        strides: tuple[int, ...] = (1, 4, 4, 4, 4, 1, 1), groups: tuple[int, ...] = (1, 4, 16, 64, 256, 1, 1),
    ) -> None:
        super().__init__()
        if not len(channels) == len(kernels) == len(strides) == len(groups):
            raise ValueError("channels, kernels, strides and groups need one entry per layer")
        ins = (1,) + channels[:-1]
        self.convs = nn.ModuleList(
            FastConv1d(i, o, k, stride=s, groups=g, padding=k // 2) for i, o, k, s, g in zip(ins, channels, kernels, strides, groups)
        )

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        features = []
        for conv in self.convs[:-1]:
            x = F.leaky_relu(conv(x), 0.2)
            features.append(x)
        return self.convs[-1](x), features


class MultiScaleDiscriminator(nn.Module):
    """One ``WaveformDiscriminator`` per sample rate (no shared weights): audio (B, 1, T) at ``sample_rate``
    -> a list of (score, features), one per rate in ``rates``.

    Each scale sees the audio resampled with torchaudio's anti-aliasing filter: HiFi-GAN judges
    16, 8 and 4 kHz versions, so the coarse scales focus on the low band and longer structure.
    """

    def __init__(self, rates: tuple[int, ...] = (16000, 8000, 4000), sample_rate: int = 16000, **block: tuple[int, ...]) -> None:
        super().__init__()
        self.rates, self.sample_rate = rates, sample_rate
        self.blocks = nn.ModuleList(WaveformDiscriminator(**block) for _ in rates)

    def forward(self, x: Tensor) -> list[tuple[Tensor, list[Tensor]]]:
        return [
            block(x if rate == self.sample_rate else torchaudio.functional.resample(x, self.sample_rate, rate))
            for rate, block in zip(self.rates, self.blocks)
        ]


def autocast_off_on_cpu(x: Tensor) -> torch.autocast:
    """The autocast context that ``x``'s device is in, except off on the CPU (for a block where oneDNN's bf16
    is wrong: ``MelDiscriminator``)."""
    device = x.device.type
    return torch.autocast(device, dtype=torch.get_autocast_dtype(device), enabled=device != "cpu" and torch.is_autocast_enabled(device))


class MelDiscriminator(nn.Module):
    """HiFi-GAN's spectrogram discriminator: audio (B, 1, T) -> (score (B, 1, mels, frames'), features).

    The log mel spectrogram (n_fft 2048, hop 512, 80 mels, 20-8000 Hz) is an image (B, 1, mels,
    frames); 2-D convolutions with gated linear units (GLU: half the channels gate the other half)
    and stride (1, 2), which halves the time axis per block, then a 3x3 convolution to one score
    map. Su et al. give 4 blocks of 32 channels with kernels (3, 9), (3, 8), (3, 8), (3, 6); they
    do not say which axis is which: here the first kernel size runs along mel bins, the second
    along frames.
    """

    def __init__(
        self, sample_rate: int = 16000, n_fft: int = 2048, hop: int = 512, mels: int = 80, f_min: float = 20.0, f_max: float = 8000.0,
        channels: int = 32, kernels: tuple[tuple[int, int], ...] = ((3, 9), (3, 8), (3, 8), (3, 6)),
    ) -> None:
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(sample_rate, n_fft=n_fft, hop_length=hop, n_mels=mels, f_min=f_min, f_max=f_max)
        ins = [1] + [channels] * (len(kernels) - 1)
        self.convs = nn.ModuleList(
            nn.Conv2d(i, 2 * channels, k, stride=(1, 2), padding=((k[0] - 1) // 2, (k[1] - 1) // 2)) for i, k in zip(ins, kernels)
        )
        self.score = nn.Conv2d(channels, 1, 3, padding=1)

    def spectrogram(self, x: Tensor) -> Tensor:
        """(B, 1, T) -> log mel spectrogram (B, 1, mels, frames), in float32 even under autocast."""
        with torch.autocast(x.device.type, enabled=False):
            return torch.log(self.mel(x.float()) + 1e-5)

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        h, features = self.spectrogram(x), []
        # On the CPU the convolutions stay in float32 under autocast: oneDNN's bf16 Conv2d with stride 2 returns
        # garbage (NaN, 1e14) where its output is one frame wide, as the last block's is for 0.5 s segments
        # (torch 2.14.1; tests/test_train.py checks that autocast changes the scores by bf16 rounding only).
        with autocast_off_on_cpu(x):
            for conv in self.convs:
                h = F.glu(conv(h), dim=1)
                features.append(h)
            return self.score(h), features
