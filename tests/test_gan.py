import math

import pytest
import torch
from torch import nn

from hifigan_edu import gan

LOGITS = torch.tensor([2.0, -1.0, 0.0])


def sig(x):
    return torch.sigmoid(x)


def test_classifier_losses_match_their_formulas():
    real, fake = LOGITS, -LOGITS
    expected_d = -(torch.log(sig(real)).mean() + torch.log(1 - sig(fake)).mean())
    assert gan.d_loss_minimax(real, fake) == pytest.approx(expected_d.item(), rel=1e-6)
    assert gan.g_loss_minimax(fake) == pytest.approx(torch.log(1 - sig(fake)).mean().item(), rel=1e-6)
    assert gan.g_loss_nonsaturating(fake) == pytest.approx(-torch.log(sig(fake)).mean().item(), rel=1e-6)
    # at D = 1/2 everywhere, the discriminator's loss is 2 log 2 (the equilibrium of the game)
    assert gan.d_loss_minimax(torch.zeros(4), torch.zeros(4)) == pytest.approx(2 * math.log(2))


def test_critic_losses_match_their_formulas():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.5])
    assert gan.d_loss_wasserstein(real, fake) == pytest.approx(-0.75 - 2.0)
    assert gan.g_loss_wasserstein(fake) == pytest.approx(0.75)
    assert gan.d_loss_hinge(real, fake) == pytest.approx((0 + 0) / 2 + (0 + 1.5) / 2)
    assert gan.d_loss_least_squares(real, fake) == pytest.approx((0 + 4) / 2 + (4 + 0.25) / 2)
    assert gan.g_loss_least_squares(fake) == pytest.approx((9 + 0.25) / 2)
    assert set(gan.LOSSES) == {"minimax", "nonsaturating", "wasserstein", "hinge", "least_squares"}


def test_saturation_the_gradient_each_generator_loss_gets_from_a_confident_discriminator():
    fake = torch.tensor([-8.0], requires_grad=True)  # D(G(z)) = sigmoid(-8): D is sure it is fake
    (g_minimax,) = torch.autograd.grad(gan.g_loss_minimax(fake), fake)
    (g_ns,) = torch.autograd.grad(gan.g_loss_nonsaturating(fake), fake)
    assert abs(g_minimax) < 1e-3 < 0.99 < abs(g_ns)


def test_gradient_penalty_of_a_linear_critic():
    critic = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # gradient norm 5 everywhere
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    assert gan.gradient_penalty(critic, real, fake).item() == pytest.approx((5 - 1) ** 2)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8]]))  # unit norm: no penalty
    assert gan.gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-10)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.3, 0.4]]))  # slope 0.5: only the two-sided penalty objects
    assert gan.gradient_penalty(critic, real, fake).item() == pytest.approx(0.25)
    assert gan.gradient_penalty(critic, real, fake, one_sided=True).item() == 0.0


def test_unrolling_leaves_the_real_discriminator_unchanged_and_changes_the_gradient():
    torch.manual_seed(0)
    g, d = gan.Generator(), gan.Discriminator()
    before = {k: v.clone() for k, v in d.state_dict().items()}
    real, z = gan.mixture(64, gan.ring_centres(), 0.02), torch.randn(64, 2)
    grads = []
    for steps in (0, 5):
        g.zero_grad()
        gan.unrolled_g_loss(g, d, real, z, steps=steps, lr=0.1).backward()
        grads.append(torch.cat([p.grad.flatten() for p in g.parameters()]))
        assert all(torch.equal(before[k], v) for k, v in d.state_dict().items())
    plain = gan.g_loss_nonsaturating(d(g(z)))
    assert gan.unrolled_g_loss(g, d, real, z, steps=0, lr=0.1).item() == pytest.approx(plain.item())
    assert not torch.allclose(grads[0], grads[1])


def test_mode_metrics_on_hand_built_samples():
    centres = gan.ring_centres(8, 2.0)
    std = 0.02
    on_three_modes = torch.cat([centres[:3] + 0.01, centres[:1] + 1.0])  # last one is off every mode
    assert gan.mode_metrics(on_three_modes, centres, std) == (3, 75.0)
    assert gan.mode_metrics(centres, centres, std) == (8, 100.0)
    assert gan.mode_metrics(torch.zeros(5, 2), centres, std) == (0, 0.0)


def test_toy_data_shapes_and_spread():
    g = torch.Generator().manual_seed(1)
    x = gan.mixture(5000, gan.grid_centres(5, 2.0), 0.05, generator=g)
    assert x.shape == (5000, 2)
    # in 2-D, P(|x - mu| <= 3 sigma) = 1 - exp(-9/2) = 98.89 %
    assert gan.mode_metrics(x, gan.grid_centres(), 0.05) == (25, pytest.approx(100 * (1 - math.exp(-4.5)), abs=0.5))
    assert gan.grid_centres().abs().max() == 4.0 and gan.ring_centres(8, 2.0).norm(dim=1).allclose(torch.tensor(2.0))


def test_packing_and_spectral_norm():
    d = gan.Discriminator(pack=2, spectral_norm=True)
    assert d(torch.randn(10, 2)).shape == (5,)
    with pytest.raises(ValueError, match="multiple of 2"):
        d(torch.randn(9, 2))
    for layer in d.net:
        if isinstance(layer, nn.Linear):
            assert torch.linalg.matrix_norm(layer.weight, ord=2).item() == pytest.approx(1.0, rel=1e-5)
    stacked = gan.Discriminator(pack=4, spectral_norm=True, copies=3)
    assert stacked(torch.randn(3, 12, 2)).shape == (3, 3)
    for layer in stacked.net:
        if isinstance(layer, gan.StackedLinear):
            assert torch.allclose(torch.linalg.matrix_norm(layer.weight, ord=2), torch.ones(3))


def single_copy(stacked: nn.Module, single: nn.Module, i: int) -> None:
    """Load copy i of a network built with ``copies`` into the same network built without."""
    with torch.no_grad():
        for s, p in zip(stacked.net, single.net):
            if isinstance(p, nn.Linear):
                p.weight.copy_(s.weight[i].T)
                p.bias.copy_(s.bias[i, 0])


@pytest.mark.parametrize("loss, unroll", [("nonsaturating", 0), ("wasserstein", 0), ("nonsaturating", 2)])
def test_copies_train_exactly_like_separate_runs(loss, unroll):
    d_loss, g_loss = gan.LOSSES[loss]
    torch.manual_seed(0)
    stacked = gan.Generator(hidden=16, copies=3), gan.Discriminator(hidden=16, copies=3)
    real, z = torch.randn(3, 8, 2), torch.randn(3, 8, 2)

    def train(g: nn.Module, d: nn.Module, real: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        g_opt, d_opt = torch.optim.Adam(g.parameters(), 1e-2), torch.optim.Adam(d.parameters(), 1e-2)
        for _ in range(3):
            d_opt.zero_grad()
            d_loss(d(real), d(g(z).detach())).backward()
            d_opt.step()
            g_opt.zero_grad()
            (gan.unrolled_g_loss(g, d, real, z, unroll, 0.1, d_loss, g_loss) if unroll else g_loss(d(g(z)))).backward()
            g_opt.step()
        return g(z).detach()

    separate = []  # copy i of the untrained stacked networks, as networks of their own
    for i in range(3):
        alone = gan.Generator(hidden=16), gan.Discriminator(hidden=16)
        for s, a in zip(stacked, alone):
            single_copy(s, a, i)
        separate.append(alone)
    together = train(*stacked, real, z)
    for i, alone in enumerate(separate):
        assert torch.allclose(together[i], train(*alone, real[i], z[i]), atol=1e-6)


def test_the_generator_draws_its_input_from_the_noise_it_is_given():
    for noise, values in (("normal", None), ("uniform", None), ("binary", {-1.0, 1.0})):
        g = gan.Generator(z_dim=1, data_dim=1, hidden=4, noise=noise)
        g.net = torch.nn.Identity()  # the samples are then z itself
        z = g.sample(20_000, generator=torch.Generator().manual_seed(0)).flatten()
        assert abs(z.mean().item()) < 0.05 and abs(z.var().item() - 1) < 0.05, noise  # every kind has mean 0, variance 1
        if values:
            assert set(z.unique().tolist()) == values
        if noise == "uniform":
            assert z.abs().max() <= 3**0.5 and z.abs().max() > 1.7
        if noise == "normal":
            assert z.abs().max() > 3  # tails a bounded input never has
    with pytest.raises(ValueError, match="unknown noise 'laplace'"):
        gan.Generator(noise="laplace")
