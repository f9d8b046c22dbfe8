"""GAN fundamentals on toy data: distributions, small networks, losses, and the remedies for mode collapse.

Taught in ``notebooks/01_gan_fundamentals.ipynb`` (the adversarial game, minimax and
non-saturating losses), ``02_wasserstein_gans.ipynb`` (the Wasserstein loss, the gradient
penalty) and ``03_mode_collapse.ipynb`` (unrolling, packing, spectral norm, the mode metrics,
and ``copies``: several seeds trained at once).

Every loss takes the discriminator's raw outputs (logits for the classifier losses, scores for
the Wasserstein critic), shape (B,), or (C, B) for C independent copies trained together, and
returns a scalar to *minimise*: the batch mean, summed over copies.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

# ----------------------------------------------------------------------------- toy data


def ring_centres(modes: int = 8, radius: float = 2.0) -> Tensor:
    """(modes, 2) centres evenly spaced on a circle of ``radius``."""
    angles = torch.arange(modes) * 2 * math.pi / modes
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)


def grid_centres(side: int = 5, spacing: float = 2.0) -> Tensor:
    """(side**2, 2) centres of a square grid centred on the origin, ``spacing`` apart."""
    axis = (torch.arange(side) - (side - 1) / 2) * spacing
    return torch.cartesian_prod(axis, axis)


def mixture(
    n: int, centres: Tensor, std: float, generator: torch.Generator | None = None, copies: int | None = None
) -> Tensor:
    """(n, D) samples of an equal-weight Gaussian mixture with (K, D) ``centres`` and isotropic ``std``.

    With ``copies`` = C: (C, n, D), a separate batch for each of C networks trained together.
    """
    shape = (n,) if copies is None else (copies, n)
    k = torch.randint(len(centres), shape, generator=generator)
    return centres[k] + std * torch.randn(*shape, centres.shape[1], generator=generator)


# ----------------------------------------------------------------------------- networks


class StackedLinear(nn.Module):
    """``copies`` independent linear layers evaluated as one batched matmul: (C, B, n_in) -> (C, B, n_out).

    Each copy is initialised like ``nn.Linear`` (uniform in +-1/sqrt(n_in)). Because every loss
    below sums over copies and Adam updates each weight on its own, C copies trained together
    follow exactly the trajectories C separate runs would: one run, C seeds (notebook 03).
    """

    def __init__(self, n_in: int, n_out: int, copies: int) -> None:
        super().__init__()
        bound = 1 / math.sqrt(n_in)
        self.weight = nn.Parameter(torch.empty(copies, n_in, n_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(copies, 1, n_out).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


def mlp(
    n_in: int, n_out: int, hidden: int = 128, layers: int = 2, activation: type[nn.Module] = nn.ReLU,
    copies: int | None = None,
) -> nn.Sequential:
    """``layers`` hidden layers of ``hidden`` units: (B, n_in) -> (B, n_out), or (C, B, .) with ``copies`` = C."""
    sizes = [n_in] + [hidden] * layers

    def linear(a: int, b: int) -> nn.Module:
        return nn.Linear(a, b) if copies is None else StackedLinear(a, b, copies)

    blocks: list[nn.Module] = []
    for a, b in zip(sizes, sizes[1:]):
        blocks += [linear(a, b), activation()]
    return nn.Sequential(*blocks, linear(sizes[-1], n_out))


class SpectralNorm(nn.Module):
    """Parametrisation W -> W / sigma_max(W): every (n, m) matrix of a (..., n, m) weight gets spectral norm 1.

    Miyato et al. (2018) estimate sigma_max with one power iteration per step; here it is computed
    exactly (the matrices are small), so the constraint holds from the first step.
    """

    def forward(self, weight: Tensor) -> Tensor:
        return weight / torch.linalg.matrix_norm(weight, ord=2, keepdim=True)


NOISES = ("normal", "uniform", "binary")  # the generator's input distributions (notebook 01 compares them)


class Generator(nn.Module):
    """z (B, z_dim) -> samples (B, data_dim); with ``copies`` = C, (C, B, z_dim) -> (C, B, data_dim).

    ``noise`` is the distribution :meth:`sample` draws z from, each coordinate with mean 0 and variance 1:
    ``normal`` (the usual choice), ``uniform`` (on [-sqrt 3, sqrt 3]) or ``binary`` (-1 or +1: a discrete input).
    """

    def __init__(self, z_dim: int = 2, data_dim: int = 2, hidden: int = 128, layers: int = 2, copies: int | None = None,
                 noise: str = "normal") -> None:
        super().__init__()
        if noise not in NOISES:
            raise ValueError(f"unknown noise {noise!r}: choose one of {', '.join(NOISES)}")
        self.z_dim, self.copies, self.noise = z_dim, copies, noise
        self.net = mlp(z_dim, data_dim, hidden, layers, copies=copies)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)

    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """(n, data_dim) samples from noise of the kind ``noise``, or (C, n, data_dim) for C copies."""
        shape = (n, self.z_dim) if self.copies is None else (self.copies, n, self.z_dim)
        if self.noise == "normal":
            z = torch.randn(shape, generator=generator)
        elif self.noise == "uniform":
            z = (2 * torch.rand(shape, generator=generator) - 1) * 3**0.5
        else:
            z = 2 * torch.randint(0, 2, shape, generator=generator).float() - 1
        return self(z)


class Discriminator(nn.Module):
    """Samples (B, data_dim) -> one raw score per packed group, (B / pack,); (C, B, .) -> (C, B / pack) with ``copies``.

    ``pack`` > 1 concatenates that many samples into one input (PacGAN); ``spectral_norm``
    divides every layer's weight by its largest singular value (``SpectralNorm``).
    """

    def __init__(
        self, data_dim: int = 2, hidden: int = 128, layers: int = 2, pack: int = 1, spectral_norm: bool = False,
        copies: int | None = None,
    ) -> None:
        super().__init__()
        self.pack = pack
        self.net = mlp(data_dim * pack, 1, hidden, layers, nn.LeakyReLU, copies)
        if spectral_norm:
            for layer in self.net:
                if isinstance(layer, (nn.Linear, StackedLinear)):
                    nn.utils.parametrize.register_parametrization(layer, "weight", SpectralNorm())

    def forward(self, x: Tensor) -> Tensor:
        return self.net(pack(x, self.pack)).squeeze(-1)


def pack(x: Tensor, m: int) -> Tensor:
    """(..., B, D) -> (..., B / m, m * D): m consecutive samples judged together (PacGAN)."""
    *lead, b, d = x.shape
    if b % m:
        raise ValueError(f"batch of {b} cannot be packed in groups of {m}; use a multiple of {m}.")
    return x.reshape(*lead, b // m, m * d)


# ----------------------------------------------------------------------------- losses


def batch_mean(x: Tensor) -> Tensor:
    """Mean over the batch (last) axis, summed over any leading axis of independent copies."""
    return x.mean(-1).sum()


def d_loss_minimax(real: Tensor, fake: Tensor) -> Tensor:
    """-(E[log D(x)] + E[log(1 - D(G(z)))]), D = sigmoid(logit): binary cross-entropy, real = 1, fake = 0."""
    return batch_mean(F.softplus(-real)) + batch_mean(F.softplus(fake))  # -log sigmoid(r), -log(1 - sigmoid(f))


def g_loss_minimax(fake: Tensor) -> Tensor:
    """E[log(1 - D(G(z)))], the original (saturating) generator loss: flat where D is confident."""
    return -batch_mean(F.softplus(fake))  # log(1 - sigmoid(f)) = -softplus(f)


def g_loss_nonsaturating(fake: Tensor) -> Tensor:
    """-E[log D(G(z))], the modified generator loss: steep where D is confident."""
    return batch_mean(F.softplus(-fake))  # -log sigmoid(f) = softplus(-f)


def d_loss_wasserstein(real: Tensor, fake: Tensor) -> Tensor:
    """E[D(G(z))] - E[D(x)]: the critic maximises the gap its scores put between real and fake."""
    return batch_mean(fake) - batch_mean(real)


def g_loss_wasserstein(fake: Tensor) -> Tensor:
    """-E[D(G(z))]."""
    return -batch_mean(fake)


def d_loss_hinge(real: Tensor, fake: Tensor) -> Tensor:
    """E[max(0, 1 - D(x))] + E[max(0, 1 + D(G(z)))]."""
    return batch_mean(F.relu(1 - real)) + batch_mean(F.relu(1 + fake))


g_loss_hinge = g_loss_wasserstein  # the hinge GAN's generator loss is -E[D(G(z))] too


def d_loss_least_squares(real: Tensor, fake: Tensor) -> Tensor:
    """LSGAN: E[(D(x) - 1)^2] + E[D(G(z))^2] (Mao et al. halve both terms; the HiFi-GAN vocoder, which
    ``hifigan_edu.hifigan`` follows, does not)."""
    return batch_mean((real - 1) ** 2) + batch_mean(fake**2)


def g_loss_least_squares(fake: Tensor) -> Tensor:
    """LSGAN: E[(D(G(z)) - 1)^2]."""
    return batch_mean((fake - 1) ** 2)


LOSSES: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], Callable[[Tensor], Tensor]]] = {
    "minimax": (d_loss_minimax, g_loss_minimax),
    "nonsaturating": (d_loss_minimax, g_loss_nonsaturating),
    "wasserstein": (d_loss_wasserstein, g_loss_wasserstein),
    "hinge": (d_loss_hinge, g_loss_hinge),
    "least_squares": (d_loss_least_squares, g_loss_least_squares),
}


def gradient_penalty(
    critic: nn.Module, real: Tensor, fake: Tensor, one_sided: bool = False, generator: torch.Generator | None = None
) -> Tensor:
    """WGAN-GP: E[(||grad_x D(x_hat)|| - 1)^2] at random interpolates x_hat of (B, D) or (C, B, D) ``real`` and ``fake``.

    ``one_sided`` penalises only slopes above 1, E[max(0, ||grad|| - 1)^2] (Petzka et al. 2018),
    which lets the critic flatten where it needs to.
    """
    alpha = torch.rand(*real.shape[:-1], 1, generator=generator)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)
    excess = grad.norm(dim=-1) - 1
    return batch_mean((F.relu(excess) if one_sided else excess) ** 2)


# ----------------------------------------------------------------------------- unrolling


def unrolled_g_loss(
    g: nn.Module, d: nn.Module, real: Tensor, z: Tensor, steps: int, lr: float,
    d_loss: Callable[[Tensor, Tensor], Tensor] = d_loss_minimax,
    g_loss: Callable[[Tensor], Tensor] = g_loss_nonsaturating,
) -> Tensor:
    """The generator's loss against D unrolled ``steps`` SGD steps ahead (Metz et al. 2017).

    The unrolled parameters are functions of G's output, so the gradient of the returned loss
    flows through the D updates: G learns how D would react. The real ``d`` is not modified.
    """
    params = dict(d.named_parameters())
    fake = g(z)
    for _ in range(steps):
        loss = d_loss(functional_call(d, params, (real,)), functional_call(d, params, (fake,)))
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        params = {name: p - lr * gr for (name, p), gr in zip(params.items(), grads)}
    return g_loss(functional_call(d, params, (fake,)))


# ----------------------------------------------------------------------------- mode metrics


def mode_metrics(samples: Tensor, centres: Tensor, std: float) -> tuple[int, float]:
    """(modes covered, % high-quality samples), as VEEGAN and PacGAN define them.

    A sample is high quality when it lies within 3 ``std`` of its nearest centre; a mode is
    covered when it is the nearest centre of at least one high-quality sample. ``samples`` is
    (N, D), ``centres`` (K, D).
    """
    distance, nearest = torch.cdist(samples, centres).min(dim=1)
    good = distance <= 3 * std
    return int(nearest[good].unique().numel()), 100.0 * float(good.float().mean())
