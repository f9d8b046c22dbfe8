"""HiFi-GAN-2 (Su, Jin, Finkelstein 2021): predicted clean MFCCs condition HiFi-GAN's WaveNet.

Taught in ``notebooks/08_hifigan2.ipynb``. The pieces, in the order the signal meets them:

1. :class:`Features` -- MFCCs of the degraded audio (torchaudio), (B, 1, T) -> (B, n_mfcc, F);
2. :class:`MFCCPredictor` -- a bidirectional recurrent network over the frames that predicts
   the *clean* MFCCs, (B, n_mfcc, F) -> (B, n_mfcc, F); trained alone first (stage ``predictor``
   of ``hifigan_edu.train``) with :func:`predictor_loss`, then frozen;
3. :class:`Upsampler` -- frame rate to sample rate, (B, n_mfcc, F) -> (B, n_mfcc, T);
4. the WaveNet of ``hifigan_edu.hifigan.Generator``, whose every gated layer adds a 1x1
   convolution of these features: z = tanh(W_f*x + V_f*c) * sigmoid(W_g*x + V_g*c)
   (``hifigan_edu.nn.GatedResidualLayer``).

The paper gives none of the feature, network or upsampler sizes; ours are in
``config.ConditioningConfig``. Frame ``k`` of every feature map is centred on sample ``k * hop``
(torchaudio's ``center=True``), so a signal of T samples has ``T // hop + 1`` frames.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
import torchaudio
from torch import Tensor, nn

from hifigan_edu.audio import SAMPLE_RATE
from hifigan_edu.config import ConditioningConfig

FEATURE_SCALE = 10.0  # MFCCs span about -60..20 (c0) and +-10 (the rest); the predictor sees them divided by this


class Features(nn.Module):
    """Audio (B, 1, T) -> MFCCs (B, n_mfcc, T // hop + 1): natural log of an amplitude mel spectrogram
    (``n_mels`` bands, 20-8000 Hz), then an orthonormal DCT-II; computed in float32."""

    def __init__(self, c: ConditioningConfig) -> None:
        super().__init__()
        self.hop = c.hop
        melkwargs = dict(n_fft=c.n_fft, hop_length=c.hop, n_mels=c.n_mels, f_min=20.0, f_max=SAMPLE_RATE / 2, power=1.0)
        self.mfcc = torchaudio.transforms.MFCC(SAMPLE_RATE, n_mfcc=c.n_mfcc, log_mels=True, melkwargs=melkwargs)

    def forward(self, x: Tensor) -> Tensor:
        with torch.autocast(x.device.type, enabled=False):
            return self.mfcc(x.float().squeeze(1))


class MFCCPredictor(nn.Module):
    """Degraded MFCCs (B, n_mfcc, F) -> predicted clean MFCCs (B, n_mfcc, F).

    A bidirectional GRU or LSTM reads the whole utterance, so every frame's prediction can use
    context far beyond the WaveNet's 256 ms (who is speaking, what the room does). A linear layer
    maps its states to a correction that is *added* to the input; it starts at zero, so the
    untrained predictor returns the degraded MFCCs (the same identity start as the generator's
    ``residual`` option).
    """

    def __init__(self, n_mfcc: int, hidden: int, layers: int, rnn: str = "gru") -> None:
        super().__init__()
        cell = {"gru": nn.GRU, "lstm": nn.LSTM}[rnn]
        self.rnn = cell(n_mfcc, hidden, layers, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden, n_mfcc)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, mfcc: Tensor) -> Tensor:
        h, _ = self.rnn(mfcc.transpose(1, 2) / FEATURE_SCALE)  # (B, F, 2 * hidden)
        return mfcc + FEATURE_SCALE * self.out(h).transpose(1, 2)


class Upsampler(nn.Module):
    """Frame-rate features (B, C, F), frame k centred on sample k * hop -> sample-rate features (B, C, T).

    * ``repeat``: each frame's value held over the ``hop`` samples nearest its centre;
    * ``linear``: linear interpolation between frame centres;
    * ``transposed``: a learned transposed convolution (kernel 2 * hop, stride hop), one kernel per
      feature channel (our choice: the WaveNet's 1x1 convolutions already mix channels). It is
      initialised to linear interpolation, so training can only move it away from ``linear``
      where that lowers the loss.

    Outputs shorter than T are extended by repeating their last sample; longer ones are cut.
    """

    def __init__(self, channels: int, hop: int, kind: str = "linear") -> None:
        super().__init__()
        if kind not in ("repeat", "linear", "transposed"):
            raise ValueError(f"unknown upsampler {kind!r}: choose repeat, linear or transposed")
        self.hop, self.kind = hop, kind
        if kind == "transposed":  # weight (C, 1, 2 hop): tap j weighs a frame whose centre is j - hop samples away
            triangle = 1 - (torch.arange(2 * hop) - hop).abs() / hop
            self.weight = nn.Parameter(triangle.repeat(channels, 1, 1))  # set, not drawn: every upsampler leaves the RNG alone

    def forward(self, c: Tensor, length: int) -> Tensor:
        hop = self.hop
        if self.kind == "repeat":
            up = c.repeat_interleave(hop, dim=-1)[..., hop // 2 :]
        elif self.kind == "linear":
            up = F.interpolate(c, size=(c.shape[-1] - 1) * hop + 1, mode="linear", align_corners=True)
        else:
            up = F.conv_transpose1d(c, self.weight, stride=hop, padding=hop, groups=c.shape[1])
        if up.shape[-1] < length:
            up = F.pad(up, (0, length - up.shape[-1]), mode="replicate")
        return up[..., :length]


class Conditioning(nn.Module):
    """HiFi-GAN-2's conditioning path: degraded audio (B, 1, T) -> predicted clean MFCCs (B, n_mfcc, F)
    (:meth:`predict`), and those -> sample-rate features (B, n_mfcc, T) (:meth:`upsample`)."""

    def __init__(self, c: ConditioningConfig) -> None:
        super().__init__()
        self.features = Features(c)
        self.predictor = MFCCPredictor(c.n_mfcc, c.rnn_hidden, c.rnn_layers, c.rnn)
        self.upsampler = Upsampler(c.n_mfcc, c.hop, c.upsampler)

    def predict(self, x: Tensor) -> Tensor:
        return self.predictor(self.features(x))

    def upsample(self, mfcc: Tensor, length: int) -> Tensor:
        return self.upsampler(mfcc, length)


def predictor_loss(conditioning: Conditioning, degraded: Tensor, clean: Tensor) -> Tensor:
    """Stage ``predictor``: mean L1 between the predicted and the clean MFCCs (all coefficients), divided
    by :data:`FEATURE_SCALE`; audio (B, 1, T)."""
    return F.l1_loss(conditioning.predict(degraded), conditioning.features(clean)) / FEATURE_SCALE


def mel_cepstral_distortion(a: Tensor, b: Tensor, n_mels: int) -> Tensor:
    """Mel-cepstral distortion in dB between MFCCs ``a`` and ``b`` (..., n_mfcc, F) of ``n_mels`` bands,
    mean over frames.

    The usual definition, for real cepstra c_d of the log amplitude spectrum, is
    MCD = (10 / ln 10) * sqrt(2 * sum_{d >= 1} (c_d - c'_d)^2), without the energy term c0.
    Our MFCCs come from an orthonormal DCT of ``n_mels`` log mel amplitudes, whose coefficient d >= 1
    is sqrt(2 * n_mels) times that real cepstrum's, so here
    MCD = (10 / ln 10) * sqrt(sum_{d >= 1} (a_d - b_d)^2 / n_mels): the root-mean-square distance
    between the two log mel spectra (in dB-like units) once their mean level is removed. Mel bands
    and the truncation to n_mfcc differ from SPTK's mel-cepstra, so compare values within this
    course, not with published MCDs.
    """
    diff = (a[..., 1:, :] - b[..., 1:, :]).float()
    return (10 / math.log(10) * torch.sqrt((diff**2).sum(dim=-2) / n_mels)).mean(dim=-1)


@functools.cache
def _default_features() -> Features:
    """The :class:`Features` of ``ConditioningConfig()``, built once (the evaluation calls LTCD per item and system)."""
    return Features(ConditioningConfig())


def long_term_cepstral_distance(estimate: Tensor, clean: Tensor, active_db: float = 30.0) -> float:
    """Speaker-consistency proxy: :func:`mel_cepstral_distortion` between the *average* MFCC vectors of
    (T,) ``estimate`` and (T,) ``clean`` audio, over the frames where the clean speech is active
    (its log energy c0 within ``active_db`` of its loudest frame); default features
    (``ConditioningConfig()``: 40 MFCCs of 80 mel bands).

    Averaging over an utterance cancels what the words do to the spectrum and keeps the
    speaker's (and the channel's) long-term timbre, so an enhancer that shifts a voice's timbre
    scores high even when each frame looks plausible. Lower is better; 0 for identical timbre.
    """
    c = ConditioningConfig()
    features = _default_features()
    a, b = (features(torch.as_tensor(x, dtype=torch.float32)[None, None])[0] for x in (estimate, clean))  # (n_mfcc, F)
    frames = min(a.shape[-1], b.shape[-1])
    a, b = a[:, :frames], b[:, :frames]
    # c0 = sqrt(n_mels) * mean log mel amplitude; active_db dB of amplitude is active_db / 20 * ln 10 nats
    active = b[0] >= b[0].max() - active_db / 20 * math.log(10) * math.sqrt(c.n_mels)
    return mel_cepstral_distortion(a[:, active].mean(-1, keepdim=True), b[:, active].mean(-1, keepdim=True), c.n_mels).item()

