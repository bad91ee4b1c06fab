"""dltheory.gan: particle losses against finite differences and brute force, the MMD smoothness bound."""

import itertools

import numpy as np
import pytest
import torch

from dltheory import gan


def _points(m, n, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(m, 2)), rng.normal(size=(n, 2)) + 1.0


def _fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = eps
        g[idx] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


@pytest.mark.parametrize("loss", ["w1", "smoothed", "mmd"])
def test_gradients_match_finite_differences(loss):
    # at generic points the optimal plan is locally constant, so the envelope gradient is the true gradient
    x, y = _points(6, 6, seed=0)
    fns = {"w1": lambda p: gan.w1_loss(p, y), "smoothed": lambda p: gan.smoothed_w1_loss(p, y, 0.5),
           "mmd": lambda p: gan.mmd_loss(p, y, 0.8)}
    f = fns[loss]
    np.testing.assert_allclose(f(x)[1], _fd_grad(lambda p: f(p)[0], x), atol=1e-7)


def test_w1_equals_the_best_assignment_by_brute_force():
    # equal sizes and weights: W1 is the cheapest permutation (Birkhoff), checked over all 6! permutations
    x, y = _points(6, 6, seed=1)
    cost = np.linalg.norm(x[:, None] - y[None], axis=-1)
    best = min(cost[np.arange(6), list(p)].mean() for p in itertools.permutations(range(6)))
    np.testing.assert_allclose(gan.w1_loss(x, y)[0], best, rtol=1e-12)


def test_w1_gradient_has_norm_one_over_root_m_off_target():
    # every particle feels a unit vector scaled by 1/m: total norm 1/sqrt(m)
    x, y = _points(9, 9, seed=2)
    np.testing.assert_allclose(np.linalg.norm(gan.w1_loss(x, y)[1]), 1 / 3, rtol=1e-12)


def test_mmd_value_matches_the_double_sums():
    x, y = _points(5, 7, seed=3)

    def k(a, b):
        return np.exp(-np.sum((a - b) ** 2) / (2 * 0.7**2))

    direct = (np.mean([k(a, b) for a in x for b in x]) - 2 * np.mean([k(a, b) for a in x for b in y])
              + np.mean([k(a, b) for a in y for b in y]))
    np.testing.assert_allclose(gan.mmd_loss(x, y, 0.7)[0], direct, rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_mmd_hessian_is_within_the_smoothness_bound(seed):
    # the exact Hessian (autograd) never exceeds the bound 6 / (m s^2) in spectral norm, even at clustered particles
    m, s = 8, 0.5
    x, y = _points(m, 10, seed)
    x[:4] = x[0] + 0.01 * x[:4]  # nearly coincident particles: where the self term curves most
    yt = torch.tensor(y)

    def loss(flat):
        p = flat.reshape(m, 2)
        def k(a, b):
            return torch.exp(-((a[:, None] - b[None]) ** 2).sum(-1) / (2 * s**2))
        return k(p, p).mean() - 2 * k(p, yt).mean() + k(yt, yt).mean()

    H = torch.func.hessian(loss)(torch.tensor(x).reshape(-1))
    assert torch.linalg.matrix_norm(H, ord=2).item() <= gan.mmd_smoothness(m, s) + 1e-12


def test_critic_constants_see_relu_kinks_and_softplus_smoothness():
    # a ReLU critic's gradient jumps across kinks (large quotient); a softplus one's does not
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 2, generator=g)
    relu = gan.critic(activation=torch.nn.ReLU, generator=g)
    soft = gan.critic(activation=torch.nn.Softplus, generator=g)
    assert gan.critic_constants(relu, x, radius=1e-2, generator=g).smoothness > 10 * gan.critic_constants(
        soft, x, radius=1e-2, generator=g).smoothness


def test_w2_between_shifted_samples_is_the_shift():
    a = np.random.default_rng(4).normal(size=(50, 2))
    np.testing.assert_allclose(gan.w2_distance(a, a + np.array([3.0, 4.0])), 5.0, rtol=1e-9)


def test_measured_smoothness_separates_w1_from_its_inf_convolution():
    # W1's gradient jumps (the quotient grows as the probe shrinks); the Huber loss stays within 1/(m lambda) at
    # probes small enough not to switch the optimal plan (a loss minimised over plans is smooth only between switches)
    x, y = _points(8, 8, seed=5)
    rng = np.random.default_rng(0)
    lam = 0.5
    w1 = [gan.gradient_lipschitz(lambda p: gan.w1_loss(p, y), y + 1e-6 * x, r, rng) for r in (1e-2, 1e-4)]
    huber = [gan.gradient_lipschitz(lambda p: gan.smoothed_w1_loss(p, y, lam), x, r, rng) for r in (1e-4, 1e-6)]
    assert w1[1] > 20 * w1[0]
    assert max(huber) <= 1 / (8 * lam) * (1 + 1e-6)


def test_gradient_lipschitz_recovers_a_quadratic_curvature():
    # J = a |x|^2 / 2 has gradient a x: the quotient is exactly a for every perturbation
    a = 3.7
    loss = lambda p: (a * (p**2).sum() / 2, a * p)  # noqa: E731
    got = gan.gradient_lipschitz(loss, np.ones((4, 2)), 1e-3, np.random.default_rng(1))
    np.testing.assert_allclose(got, a, rtol=1e-9)


@pytest.mark.parametrize("variant", gan.VARIANTS)
def test_train_gan_moves_the_generator_towards_the_target(variant):
    # a few steps on a shifted blob: the generated mean moves towards the target mean, networks come from the
    # generator (same seed, same result), and every step records a finite gradient norm
    target = torch.randn(512, 2, generator=torch.Generator().manual_seed(1)) * 0.1 + torch.tensor([2.0, 0.0])
    runs = []
    for _ in range(2):
        g = torch.Generator().manual_seed(3)
        gen, _, norms = gan.train_gan(target, variant, steps=60, batch=64, lr=5e-3, generator=g)
        with torch.no_grad():
            runs.append(gen(torch.randn(500, 2, generator=torch.Generator().manual_seed(2))))
    assert torch.equal(runs[0], runs[1]) and np.isfinite(norms).all()
    g0 = gan.generator_net(generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        before = g0(torch.randn(500, 2, generator=torch.Generator().manual_seed(2))).mean(0)
    after = runs[0].mean(0)
    assert (after - target.mean(0)).norm() < (before - target.mean(0)).norm()


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="unknown variant"):
        gan.train_gan(torch.zeros(4, 2), "spectral", steps=1)


def _moreau_of_distance(r, lam):
    # inf-convolution of |.| with |.|^2 / (2 lam) at distance r, by direct minimisation over a fine grid of z
    z = np.linspace(0.0, r, 200_001)
    return float(np.min(z + (r - z) ** 2 / (2 * lam)))


@pytest.mark.parametrize("r", [0.05, 0.3, 0.7, 2.5])
def test_huber_cost_is_the_moreau_envelope_of_the_distance(r):
    # one particle, one target at distance r: the loss is the inf-convolution of the distance with |.|^2/(2 lam),
    # computed here by brute-force minimisation, not by the Huber formula; the gradient is (x - y) / max(r, lam)
    lam = 0.4
    direction = np.array([0.6, -0.8])
    x, y = np.array([[1.0, 2.0]]) + r * direction, np.array([[1.0, 2.0]])
    value, grad = gan.smoothed_w1_loss(x, y, lam)
    np.testing.assert_allclose(value, _moreau_of_distance(r, lam), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad[0], direction * min(r / lam, 1.0), rtol=1e-12)


def test_smoothed_w1_is_the_best_assignment_under_the_envelope_cost():
    # equal sizes: the smoothed loss is the cheapest permutation under the envelope cost (Birkhoff), brute force
    x, y = _points(5, 5, seed=6)
    x = y + 0.3 * (x - y)  # some pairs closer than lam, some farther: both branches of the cost in play
    lam = 0.5
    cost = np.array([[_moreau_of_distance(np.linalg.norm(a - b), lam) for b in y] for a in x])
    best = min(cost[np.arange(5), list(p)].mean() for p in itertools.permutations(range(5)))
    np.testing.assert_allclose(gan.smoothed_w1_loss(x, y, lam)[0], best, rtol=1e-9)


def test_train_gans_side_by_side_equals_each_run_alone(device):
    # each run draws from its own generator and Adam is elementwise: two runs stacked give what each gives alone
    target = torch.randn(300, 2, generator=torch.Generator().manual_seed(4)) * 0.2 + torch.tensor([1.0, -1.0])
    z = torch.randn(50, 2, generator=torch.Generator().manual_seed(5)).to(device)

    def gens(*seeds):
        return [torch.Generator(device=device).manual_seed(s) for s in seeds]

    for variant in gan.VARIANTS:
        both = gan.train_gans(target, variant, gens(7, 8), steps=15, batch=32, lr=5e-3)
        for k, s in enumerate((7, 8)):
            alone = gan.train_gans(target, variant, gens(s), steps=15, batch=32, lr=5e-3)
            with torch.no_grad():
                torch.testing.assert_close(both.generators[k](z), alone.generators[0](z), rtol=1e-4, atol=1e-5)
                torch.testing.assert_close(both.critics[k](z), alone.critics[0](z), rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(both.norms[k], alone.norms[0], rtol=1e-4)


def test_gradient_penalty_at_random_mixtures_of_real_and_fake():
    # for f(x) = |x|^2 / 2 the gradient at a point is the point: the penalty is the mean of (|mid| - 1)^2 over
    # mid = eps real + (1 - eps) fake, with eps uniform per point from the generator's stream
    g = torch.Generator().manual_seed(40)
    real, fake = torch.randn(9, 2, generator=g), 2 * torch.randn(9, 2, generator=g)
    eps = torch.rand(9, 1, generator=torch.Generator().manual_seed(41))
    mid = eps * real + (1 - eps) * fake
    want = ((mid.norm(dim=1) - 1) ** 2).mean()
    got = gan._gradient_penalty(lambda x: 0.5 * (x**2).sum(1), real, fake, torch.Generator().manual_seed(41))
    torch.testing.assert_close(got, want)

