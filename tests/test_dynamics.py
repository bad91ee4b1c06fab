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


def _one_step_drift(lr, reps=60_000, n=400, seed=5):
    # the mean one-step change of Q, R, w over many fresh inputs, times N, computed from the weight update
    # J_i += (lr / sqrt N) delta_i xi itself (fields and |xi|^2 taken from xi), at a generic state: unequal
    # hidden units, nonzero output vectors, teacher outputs at an angle
    rng = np.random.default_rng(seed)
    J, w, B = dy.initial_state(1, n, outputs=2, weight_scale=0.6, output_scale=0.5, rng=rng)
    J, w = J[0] * np.array([[1.0], [0.7]]), w[0]
    v = dy.teacher_at_angle(1.1).v
    xi = rng.standard_normal((reps, n))
    x, y = xi @ J.T / math.sqrt(n), xi @ B.T / math.sqrt(n)
    r = dy._g(y) @ v - dy._g(x) @ w  # (reps, M)
    delta = dy._g_prime(x) * (r @ w.T)  # (reps, K)
    dJ = (lr / math.sqrt(n)) * delta  # J_i moves by dJ_i * xi
    # (J + dJ xi)(J + dJ xi)^T / n - J J^T / n, per sample
    dQ = (dJ[:, :, None] * x[:, None, :] + dJ[:, None, :] * x[:, :, None]) / math.sqrt(n) \
        + dJ[:, :, None] * dJ[:, None, :] * (xi * xi).sum(1)[:, None, None] / n
    state = dy.State(J @ J.T / n, J @ B.T / n, w)
    drift = dy.State(n * dQ.mean(0), (lr * delta[:, :, None] * y[:, None, :]).mean(0),
                     lr * (dy._g(x)[:, :, None] * r[:, None, :]).mean(0))
    return state, v, drift


@pytest.mark.parametrize("lr", [1.0, 3.0])
def test_ode_rhs_matches_sgd_drift(lr):
    # N times the mean one-step change of Q (both the eta <delta x> and the eta^2 <delta delta> terms, off-diagonal
    # included), R and w equals the ODE right-hand side; at lr = 3 the eta^2 term is about as large as the first,
    # so a wrong sign or a missing symmetrisation of Q fails. Tolerance: about 4 Monte Carlo standard errors at
    # 60,000 inputs (the O(1/N) bias of |xi|^2 / N is far below it)
    state, v, drift = _one_step_drift(lr)
    rhs = dy.ode_rhs(state, dy.Teacher(v), lr=lr, lr_out=lr)
    np.testing.assert_allclose(drift.R, rhs.R, atol=1.2e-2 * lr)
    np.testing.assert_allclose(drift.w, rhs.w, atol=1.2e-2 * lr)
    np.testing.assert_allclose(drift.Q, rhs.Q, atol=1.5e-2 * lr * lr)
    assert abs(rhs.Q[0, 1] - rhs.Q[1, 0]) < 1e-14  # dQ is symmetric


def test_ode_rhs_second_order_term_is_visible():
    # the eta^2 term that the Monte Carlo test above resolves is large against its tolerance at lr = 3
    state, v, _ = _one_step_drift(3.0, reps=10)
    full = dy.ode_rhs(state, dy.Teacher(v), lr=3.0, lr_out=3.0)
    first = dy.ode_rhs(state, dy.Teacher(v), lr=3.0, lr_out=3.0, second_order=False)
    assert np.abs(full.Q - first.Q).max() > 10 * 1.5e-2 * 9


def test_order_parameter_step_is_the_weight_update():
    # one SGD step on the weights, then Q, R, w recomputed, equals order_parameter_step on the fields and |xi|^2
    rng = np.random.default_rng(8)
    S, n = 3, 50
    J, w, B = dy.initial_state(S, n, outputs=2, weight_scale=0.8, output_scale=0.6, rng=rng)
    v = rng.standard_normal((S, 2, 2))
    xi = rng.standard_normal((S, n))
    after = dy.simulate_sgd(J, w, B, v, 1 / n, lr=2.0, lr_out=1.5, record_every=1 / n,
                            rng=_Replay(xi[None]))
    x, y = np.einsum("skn,sn->sk", J, xi) / math.sqrt(n), xi @ B.T / math.sqrt(n)
    Q, R, W = dy.order_parameter_step(J @ J.transpose(0, 2, 1) / n, J @ B.T / n, w, v, x, y, (xi * xi).sum(1), n,
                                      lr=2.0, lr_out=1.5)
    np.testing.assert_allclose(Q, after.Q[:, -1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(R, after.R[:, -1], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(W, after.w[:, -1], rtol=1e-12, atol=1e-14)


class _Replay:
    """A stand-in generator whose standard_normal returns given inputs (shape (m, S, N))."""

    def __init__(self, xi):
        self.xi = xi

    def standard_normal(self, shape):
        assert shape == self.xi.shape, shape
        return self.xi


def test_order_parameter_chain_has_the_law_of_weight_space_sgd():
    # over 400 runs of 2N steps at N = 40 from one start, mean and spread of Q, R, w after the run agree between
    # SGD on the weights and the exact order-parameter chain (tolerance: 4 standard errors of a difference of means)
    rng = np.random.default_rng(9)
    S, n = 400, 40
    J, w, B = dy.initial_state(1, n, outputs=2, weight_scale=0.7, output_scale=0.5, rng=rng)
    J, w = np.repeat(J, S, 0), np.repeat(w, S, 0)
    v = np.repeat(dy.teacher_at_angle(0.8).v[None], S, 0)
    full = dy.simulate_sgd(J, w, B, v, 2.0, lr=2.0, record_every=2.0, rng=rng)
    chain = dy.simulate_order_parameters(full.Q[:, 0], full.R[:, 0], full.w[:, 0], v, n, 2.0, lr=2.0,
                                         record_every=2.0, rng=rng)
    for a, b in ((full.Q, chain.Q), (full.R, chain.R), (full.w, chain.w), (full.error, chain.error)):
        a, b = a[:, -1].reshape(S, -1), b[:, -1].reshape(S, -1)
        se = np.sqrt((a.var(0) + b.var(0)) / S)
        assert np.all(np.abs(a.mean(0) - b.mean(0)) <= 4 * se + 1e-12), (a.mean(0), b.mean(0), se)
        np.testing.assert_allclose(a.std(0), b.std(0), rtol=0.25, atol=1e-12)


def test_generalisation_errors_batch_matches_single():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((5, 2, 6))
    Q, R = A[:, :, :3] @ A[:, :, :3].transpose(0, 2, 1) / 3, rng.normal(scale=0.4, size=(5, 2, 2))
    w, v = rng.standard_normal((5, 2, 2)), rng.standard_normal((5, 2, 2))
    single = [dy.generalisation_error(dy.State(Q[s], R[s], w[s]), dy.Teacher(v[s])) for s in range(5)]
    np.testing.assert_allclose(dy.generalisation_errors(Q, R, w, v), single, rtol=1e-13)


def test_orthogonalise_outputs_keeps_norms():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 2, 3))
    o = dy.orthogonalise_outputs(w)
    np.testing.assert_allclose(np.einsum("skm,skm->sk", o, o), np.einsum("skm,skm->sk", w, w), rtol=1e-12)
    np.testing.assert_allclose(np.einsum("sm,sm->s", o[:, 0], o[:, 1]), 0, atol=1e-12)
    np.testing.assert_allclose(o[:, 0], w[:, 0], rtol=1e-12)  # the first unit's vector is unchanged


def test_escape_time_interpolates():
    alpha = np.array([0.0, 1.0, 2.0, 3.0])
    err = np.array([[1.0, 0.8, 0.2, 0.1], [1.0, 1.0, 1.0, 1.0]])
    np.testing.assert_allclose(dy.escape_time(alpha, err, 0.5), [1.5, np.inf])
