"""Tests of dltheory.dynamics: Gaussian integrals by Monte Carlo, the ODE against SGD, escape times."""

import math

import numpy as np
import pytest

from dltheory import dynamics as dy


@pytest.fixture(scope="module")
def gauss_sample():
    rng = np.random.default_rng(11)
    A = rng.standard_normal((4, 4))
    C = A @ A.T / 4 + 0.3 * np.eye(4)  # a generic covariance, unequal variances, nonzero correlations
    z = rng.multivariate_normal(np.zeros(4), C, size=400_000)
    return C, z


def test_gauss_integrals_match_monte_carlo(gauss_sample):
    # I2, I3, I4 (the tilting derivation) against sample means; tolerance ~ 5 standard errors
    C, z = gauss_sample
    g, gp = dy._g(z), dy._g_prime(z)
    n = len(z)
    np.testing.assert_allclose(dy.gauss_i2(C), g.T @ g / n, atol=4e-3)
    np.testing.assert_allclose(dy.gauss_i3(C, 1), np.einsum("n,nb,nc->bc", gp[:, 1], z, g) / n, atol=6e-3)
    np.testing.assert_allclose(dy.gauss_i4(C, 0, 2), np.einsum("n,nc,nd->cd", gp[:, 0] * gp[:, 2], g, g) / n,
                               atol=3e-3)
    np.testing.assert_allclose(dy.gauss_i4(C, 3, 3), np.einsum("n,nc,nd->cd", gp[:, 3] ** 2, g, g) / n, atol=3e-3)


def test_gauss_i2_closed_form_unit_variance():
    # <g(u)^2> for u ~ N(0, 1) is (2/pi) arcsin(1/2) = 1/3
    assert abs(dy.gauss_i2(np.eye(1))[0, 0] - 1 / 3) < 1e-14


def test_generalisation_error_zero_at_teacher():
    # a student equal to the teacher (Q = R = T = I, w = v) has zero error; a zero student has E|t|^2/2 = 1/3
    t = dy.teacher_at_angle(0.7)
    assert abs(dy.generalisation_error(dy.State(np.eye(2), np.eye(2), t.v.copy()), t)) < 1e-14
    assert abs(dy.generalisation_error(dy.State(np.eye(2), np.zeros((2, 2)), np.zeros((2, 2))), t) - 1 / 3) < 1e-14


def test_ode_rhs_matches_sgd_drift():
    # the mean one-step change of R and w over many inputs, times N / eta, equals the ODE right-hand side
    # (tolerance: about 4 Monte Carlo standard errors at 60,000 inputs)
    rng = np.random.default_rng(5)
    n, reps = 400, 60_000
    J, w, B = dy.initial_state(1, n, outputs=2, weight_scale=0.6, output_scale=0.5, rng=rng)
    v = dy.teacher_at_angle(1.1).v
    xi = rng.standard_normal((reps, n))
    x, y = xi @ J[0].T / math.sqrt(n), xi @ B.T / math.sqrt(n)
    r = dy._g(y) @ v - dy._g(x) @ w[0]  # (reps, M)
    delta = dy._g_prime(x) * (r @ w[0].T)  # (reps, K)
    rhs = dy.ode_rhs(dy.State(J[0] @ J[0].T / n, J[0] @ B.T / n, w[0]), dy.Teacher(v), lr=1.0, lr_out=1.0)
    np.testing.assert_allclose((delta[:, :, None] * y[:, None, :]).mean(0), rhs.R, atol=1.2e-2)
    np.testing.assert_allclose((dy._g(x)[:, :, None] * r[:, None, :]).mean(0), rhs.w, atol=1.2e-2)


def test_escape_time_interpolates():
    alpha = np.array([0.0, 1.0, 2.0, 3.0])
    err = np.array([[1.0, 0.8, 0.2, 0.1], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(dy.escape_time(alpha, err, 0.5), [1.5, np.inf])
