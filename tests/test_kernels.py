"""dltheory.kernels: MMD and HSIC against double sums, cdt, and their defining properties."""

import warnings

import numpy as np
import torch

from conftest import TOL
from dltheory import kernels

with warnings.catch_warnings():  # cdt announces at import whether it found a GPU
    warnings.simplefilter("ignore")
    from cdt.causality.pairwise.ANM import FastHsicTestGamma
    from cdt.utils.loss import MMDloss


def _sample(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _k(u, v, widths):
    return sum(np.exp(-np.sum((u - v) ** 2) / (2 * s**2)) for s in widths)


def test_mmd2_matches_the_double_sums():
    # the V-statistic written out with Python loops, two bandwidths, unequal sample sizes
    x, y, widths = _sample(5, 2, seed=1).numpy(), _sample(7, 2, seed=2).numpy() + 0.5, (0.5, 2.0)
    want = (np.mean([[_k(a, b, widths) for b in x] for a in x]) + np.mean([[_k(a, b, widths) for b in y] for a in y])
            - 2 * np.mean([[_k(a, b, widths) for b in y] for a in x]))
    np.testing.assert_allclose(kernels.mmd2(torch.tensor(x), torch.tensor(y), widths).item(), want,
                               **TOL["float64"])


def test_mmd2_vanishes_on_identical_samples_and_separates_shifted_ones():
    x = _sample(30, 2, seed=3)
    assert abs(kernels.mmd2(x, x.clone(), 1.0).item()) < 1e-14
    assert kernels.mmd2(x, x + 1.0, 1.0).item() > 0.1


def test_joint_mmd2_equals_mmd2_of_the_stacked_samples():
    # the factorised form over a shared cause == the plain MMD of the 2-D joint samples
    x, y, yh = _sample(3, 9, seed=4), _sample(3, 9, seed=5), _sample(3, 9, seed=6)
    widths = (0.3, 1.0, 3.0)
    joint = kernels.joint_mmd2(x, y, yh, widths)
    plain = kernels.mmd2(torch.stack([x, y], -1), torch.stack([x, yh], -1), widths)
    torch.testing.assert_close(joint, plain, **TOL["float64"])


def test_joint_mmd2_matches_cdt():
    # cdt's MMDloss uses exp(-gamma d^2); bandwidth s corresponds to gamma = 1 / (2 s^2)
    x, y, yh = (t.float() for t in (_sample(1, 20, seed=7), _sample(1, 20, seed=8), _sample(1, 20, seed=9)))
    gammas = torch.tensor([0.05, 0.5, 5.0])
    ours = kernels.joint_mmd2(x, y, yh, tuple((1 / (2 * gammas)).sqrt().tolist()))
    theirs = MMDloss(20, bandwidths=gammas)(torch.stack([x[0], yh[0]], 1), torch.stack([x[0], y[0]], 1))
    torch.testing.assert_close(ours[0], theirs, rtol=1e-4, atol=1e-6)


def test_hsic_matches_cdt_with_ties():
    # same statistic, same median heuristic; integer data has ties, which the median must skip
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    y = np.round(x**2 + rng.normal(size=40))
    np.testing.assert_allclose(kernels.hsic(torch.tensor(x), torch.tensor(y)).item(), FastHsicTestGamma(x, y),
                               rtol=1e-10)


def test_hsic_separates_dependence_from_independence():
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.normal(size=200))
    independent = [kernels.hsic(x, torch.tensor(rng.normal(size=200))).item() for _ in range(5)]
    assert kernels.hsic(x, torch.cos(2 * x)).item() > 5 * max(independent)
