r"""Online learning of a two-layer network with vector outputs: order-parameter ODEs, SGD, plateau escape.

Student and teacher are soft committee machines with learned output vectors (``g(u) = erf(u / sqrt 2)``):

.. math::
    f(\xi) = \sum_{i=1}^K w_i\, g(x_i),\quad x_i = J_i\cdot\xi/\sqrt N, \qquad
    t(\xi) = \sum_{n=1}^L v_n\, g(y_n),\quad y_n = B_n\cdot\xi/\sqrt N,

with :math:`w_i, v_n \in \mathbb R^M`, inputs :math:`\xi \sim N(0, I_N)`, the loss :math:`\tfrac12|t - f|^2`, and
online SGD :math:`J_i \mathrel{+}= \tfrac{\eta}{\sqrt N}\,\delta_i\,\xi`, :math:`\delta_i = g'(x_i)\, w_i\cdot(t-f)`,
:math:`w_i \mathrel{+}= \tfrac{\eta_w}{N}\, g(x_i)(t - f)`. As :math:`N \to \infty` the order parameters
:math:`Q = JJ^\top/N`, :math:`R = JB^\top/N` and the output vectors :math:`W` follow deterministic ODEs in
:math:`\alpha = \text{steps}/N` (Saad & Solla's construction, extended to vector outputs as in the paper):

.. math::
    \dot R_{in} = \eta\,\langle\delta_i y_n\rangle,\quad
    \dot Q_{ik} = \eta\,\langle\delta_i x_k + \delta_k x_i\rangle + \eta^2\langle\delta_i\delta_k\rangle,\quad
    \dot w_i = \eta_w\,\langle g(x_i)(t - f)\rangle .

The Gaussian averages have closed forms (:func:`gauss_i2`, :func:`gauss_i3`, :func:`gauss_i4`). We derive them by
one device: a factor :math:`g'(a) = \sqrt{2/\pi}\,e^{-a^2/2}` *tilts* the Gaussian, i.e. adds 1 to the precision of
``a``; the tilted covariance follows from Woodbury and the normalisation from the determinant lemma; what is left
is :math:`\langle g(c) g(d)\rangle = \tfrac2\pi\arcsin(C_{cd}/\sqrt{(1+C_{cc})(1+C_{dd})})` or, by Stein's lemma,
:math:`\langle b\, g(c)\rangle = C_{bc}\,\sqrt{2/\pi}/\sqrt{1 + C_{cc}}`.

References: yoshida2019statistical, saad1995online, riegler1995online.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
from scipy.integrate import solve_ivp
from scipy.special import erf

__all__ = ["Teacher", "State", "Trajectory", "gauss_i2", "gauss_i3", "gauss_i4", "field_covariance",
           "generalisation_error", "generalisation_errors", "ode_rhs", "integrate_ode", "initial_state",
           "simulate_sgd", "order_parameter_step", "simulate_order_parameters", "escape_time", "teacher_at_angle",
           "orthogonalise_outputs"]

_C2 = 2.0 / math.pi


class Teacher(NamedTuple):
    """Teacher output vectors ``v`` (L, M); the teacher's input weights are orthonormal (``T = I``)."""

    v: np.ndarray


class State(NamedTuple):
    """Order parameters: ``Q`` (K, K), ``R`` (K, L) and the student's output vectors ``w`` (K, M)."""

    Q: np.ndarray
    R: np.ndarray
    w: np.ndarray


class Trajectory(NamedTuple):
    """``alpha`` (T,), generalisation error ``error`` (T,), and order parameters ``Q`` (T, K, K), ``R`` (T, K, L),
    ``w`` (T, K, M) along the run. From :func:`simulate_sgd` every array has a leading run axis (S, ...) except
    ``alpha``."""

    alpha: np.ndarray
    error: np.ndarray
    Q: np.ndarray
    R: np.ndarray
    w: np.ndarray


def teacher_at_angle(angle: float, *, outputs: int = 2) -> Teacher:
    """Two teacher hidden units whose unit output vectors make ``angle`` (radians); ``outputs=1`` gives the
    classical soft committee machine ``v = (1, 1)``. Returns a :class:`Teacher` with ``v`` of shape (2, outputs)."""
    if outputs == 1:
        return Teacher(np.ones((2, 1)))
    v = np.zeros((2, outputs))
    v[0, 0] = 1.0
    v[1, 0], v[1, 1] = math.cos(angle), math.sin(angle)
    return Teacher(v)


def field_covariance(Q: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Covariance (K+L, K+L) of the fields ``(x_1..x_K, y_1..y_L)`` from ``Q`` (K, K), ``R`` (K, L), ``T = I``."""
    K, L = R.shape
    C = np.empty((K + L, K + L))
    C[:K, :K], C[:K, K:], C[K:, :K], C[K:, K:] = Q, R, R.T, np.eye(L)
    return C


def gauss_i2(C: np.ndarray) -> np.ndarray:
    r""":math:`\langle g(z_a) g(z_b)\rangle` for all pairs, from the covariance ``C`` (..., D, D) -> (..., D, D)."""
    d = 1.0 + np.diagonal(C, axis1=-2, axis2=-1)  # (..., D)
    return _C2 * np.arcsin(C / np.sqrt(d[..., :, None] * d[..., None, :]))


def _tilt(C: np.ndarray, idx: list[int] | tuple[int, ...]) -> tuple[np.ndarray, float]:
    """Covariance after multiplying the density by ``prod_{a in idx} exp(-z_a^2 / 2)`` (repeats allowed), and the
    normalisation ``det(I + E^T C E)^{-1/2}``. ``C`` (D, D) -> ((D, D), float)."""
    E = np.zeros((C.shape[0], len(idx)))
    E[list(idx), np.arange(len(idx))] = 1.0
    CE = C @ E  # (D, s)
    G = np.eye(len(idx)) + E.T @ CE  # (s, s)
    return C - CE @ np.linalg.solve(G, CE.T), float(np.linalg.det(G)) ** -0.5


def gauss_i3(C: np.ndarray, a: int) -> np.ndarray:
    r""":math:`\langle g'(z_a)\, z_b\, g(z_c)\rangle` for all b, c: ``C`` (D, D) -> (D, D) indexed [b, c]."""
    Ct, z = _tilt(C, (a,))
    d = 1.0 + np.diag(Ct)
    return math.sqrt(_C2) * z * Ct * math.sqrt(_C2) / np.sqrt(d)[None, :]


def gauss_i4(C: np.ndarray, a: int, b: int) -> np.ndarray:
    r""":math:`\langle g'(z_a) g'(z_b)\, g(z_c) g(z_d)\rangle` for all c, d: ``C`` (D, D) -> (D, D) [c, d]."""
    Ct, z = _tilt(C, (a, b))
    return _C2 * z * gauss_i2(Ct)


def _signed_outputs(w: np.ndarray, teacher: Teacher) -> np.ndarray:
    """Output vectors of every field with the sign it enters ``t - f``: (K+L, M)."""
    return np.concatenate([-w, teacher.v], axis=0)


def generalisation_error(state: State, teacher: Teacher) -> float:
    r""":math:`\epsilon_g = \tfrac12\langle|t - f|^2\rangle = \tfrac12\sum_{ab} (s_a\cdot s_b) I_2(a, b)` for the
    signed output vectors ``s = (-w, v)``."""
    s = _signed_outputs(state.w, teacher)
    return 0.5 * float(np.sum((s @ s.T) * gauss_i2(field_covariance(state.Q, state.R))))


def _pack(state: State) -> np.ndarray:
    return np.concatenate([state.Q.ravel(), state.R.ravel(), state.w.ravel()])


def _unpack(y: np.ndarray, K: int, L: int, M: int) -> State:
    Q = y[: K * K].reshape(K, K)
    R = y[K * K: K * K + K * L].reshape(K, L)
    return State(0.5 * (Q + Q.T), R, y[K * K + K * L:].reshape(K, M))


def ode_rhs(state: State, teacher: Teacher, *, lr: float, lr_out: float, second_order: bool = True) -> State:
    r"""Time derivatives (dQ, dR, dw) of the order parameters per unit alpha; shapes as in :class:`State`.
    ``second_order=False`` drops the :math:`\eta^2\langle\delta_i\delta_k\rangle` term of ``dQ`` (the
    small-learning-rate limit; a control, not the model)."""
    Q, R, w = state
    K, L = R.shape
    C = field_covariance(Q, R)  # (D, D)
    s = _signed_outputs(w, teacher)  # (D, M)
    A = w @ s.T  # (K, D): delta_i = g'(x_i) sum_c A[i, c] g(z_c)
    I2 = gauss_i2(C)
    d_delta_z = np.stack([gauss_i3(C, i) @ A[i] for i in range(K)])  # (K, D): <delta_i z_b>
    dd = np.array([[A[i] @ gauss_i4(C, i, k) @ A[k] for k in range(K)] for i in range(K)])  # (K, K)
    dQ = lr * (d_delta_z[:, :K] + d_delta_z[:, :K].T) + (lr ** 2 * dd if second_order else 0.0)
    dR = lr * d_delta_z[:, K:]
    dw = lr_out * (I2[:K] @ s)  # <g(x_i)(t - f)> = sum_c I2[i, c] s_c
    return State(dQ, dR, dw)


def integrate_ode(state: State, teacher: Teacher, alphas: np.ndarray, *, lr: float, lr_out: float | None = None,
                  rtol: float = 1e-8, atol: float = 1e-10, second_order: bool = True) -> Trajectory:
    """Integrate the order-parameter ODEs from ``state`` and report at ``alphas`` (T,), starting at ``alphas[0]``.
    ``lr_out`` defaults to ``lr``; ``second_order`` as in :func:`ode_rhs`. Uses scipy's ``LSODA``; warns if the
    solver fails."""
    lr_out = lr if lr_out is None else lr_out
    K, L = state.R.shape
    M = state.w.shape[1]

    def f(_, y):
        return _pack(ode_rhs(_unpack(y, K, L, M), teacher, lr=lr, lr_out=lr_out, second_order=second_order))

    sol = solve_ivp(f, (alphas[0], alphas[-1]), _pack(state), t_eval=alphas, method="LSODA", rtol=rtol, atol=atol)
    if not sol.success:
        warnings.warn(f"ODE integration failed ({sol.message}); lower lr or raise rtol", RuntimeWarning,
                      stacklevel=2)
    states = [_unpack(y, K, L, M) for y in sol.y.T]
    return Trajectory(sol.t, np.array([generalisation_error(s, teacher) for s in states]),
                      np.array([s.Q for s in states]), np.array([s.R for s in states]),
                      np.array([s.w for s in states]))


def initial_state(runs: int, n: int, *, hidden: int = 2, teacher_hidden: int = 2, outputs: int = 1,
                  weight_scale: float = 0.5, output_scale: float = 0.1,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random student weights for ``runs`` SGD runs in ``n`` dimensions, and the teacher's input weights.

    Returns ``J`` (runs, K, n) with entries N(0, weight_scale^2), ``w`` (runs, K, M) with entries
    N(0, output_scale^2), and ``B`` (L, n) with orthonormal rows scaled to ``B B^T / n = I``."""
    J = weight_scale * rng.standard_normal((runs, hidden, n))
    w = output_scale * rng.standard_normal((runs, hidden, outputs))
    B, _ = np.linalg.qr(rng.standard_normal((n, teacher_hidden)))
    return J, w, math.sqrt(n) * B.T


def generalisation_errors(Q: np.ndarray, R: np.ndarray, w: np.ndarray, v: np.ndarray) -> np.ndarray:
    r""":func:`generalisation_error` for many states at once: ``Q`` (..., K, K), ``R`` (..., K, L), ``w`` (..., K, M)
    and teacher output vectors ``v`` (..., L, M) broadcast against them -> (...)."""
    K, L = R.shape[-2:]
    C = np.empty(R.shape[:-2] + (K + L, K + L))
    C[..., :K, :K], C[..., :K, K:] = Q, R
    C[..., K:, :K], C[..., K:, K:] = np.swapaxes(R, -1, -2), np.eye(L)
    s = np.concatenate([-w, np.broadcast_to(v, w.shape[:-2] + v.shape[-2:])], axis=-2)  # (..., D, M)
    return 0.5 * np.sum((s @ np.swapaxes(s, -1, -2)) * gauss_i2(C), axis=(-2, -1))


def orthogonalise_outputs(w: np.ndarray) -> np.ndarray:
    """Student output vectors ``w`` (..., K, M), K <= M, made orthogonal (Gram-Schmidt in the order of the hidden
    units) with each row's norm kept: the orthogonalised initialisation of the paper."""
    q, r = np.linalg.qr(np.swapaxes(w, -1, -2))  # q (..., M, K)
    sign = np.sign(np.diagonal(r, axis1=-2, axis2=-1))[..., None, :]
    return np.swapaxes(q * sign, -1, -2) * np.linalg.norm(w, axis=-1, keepdims=True)


def order_parameter_step(Q: np.ndarray, R: np.ndarray, w: np.ndarray, v: np.ndarray, x: np.ndarray, y: np.ndarray,
                         xi2: np.ndarray, n: int, *, lr: float, lr_out: float) -> tuple[np.ndarray, ...]:
    r"""One online SGD step written on the order parameters, for S runs at once.

    With fields ``x`` (S, K), ``y`` (S, L) of the input :math:`\xi` and its squared norm ``xi2`` (S,), the weight
    update :math:`J_i \mathrel{+}= \tfrac{\eta}{\sqrt N}\delta_i\xi` moves
    :math:`Q_{ik}` by :math:`\tfrac{\eta}{N}(\delta_i x_k + \delta_k x_i) + \tfrac{\eta^2}{N^2}\delta_i\delta_k|\xi|^2`,
    :math:`R_{in}` by :math:`\tfrac{\eta}{N}\delta_i y_n` and :math:`w_i` by :math:`\tfrac{\eta_w}{N} g(x_i)(t-f)`
    exactly. ``Q`` (S, K, K), ``R`` (S, K, L), ``w`` (S, K, M), ``v`` (S, L, M). Returns new ``(Q, R, w)``."""
    gx = _g(x)
    r = np.einsum("sl,slm->sm", _g(y), v) - np.einsum("sk,skm->sm", gx, w)  # (S, M)
    delta = _g_prime(x) * np.einsum("skm,sm->sk", w, r)  # (S, K)
    dx = delta[:, :, None] * x[:, None, :]  # (S, K, K)
    Q = Q + (lr / n) * (dx + np.swapaxes(dx, 1, 2)) + (lr * lr / (n * n)) * (
        delta[:, :, None] * delta[:, None, :] * xi2[:, None, None])
    R = R + (lr / n) * delta[:, :, None] * y[:, None, :]
    w = w + (lr_out / n) * gx[:, :, None] * r[:, None, :]
    return Q, R, w


def simulate_order_parameters(Q: np.ndarray, R: np.ndarray, w: np.ndarray, v: np.ndarray, n: int,
                              alpha_max: float, *, lr: float, lr_out: float | None = None,
                              record_every: float = 1.0, chunk: int = 512,
                              rng: np.random.Generator) -> Trajectory:
    r"""Online SGD at input dimension ``n`` for S runs, simulated exactly on the order parameters.

    Given the weights, the fields of a fresh input :math:`\xi \sim N(0, I_n)` are Gaussian with covariance
    :func:`field_covariance` ``(Q, R)``, and :math:`|\xi|^2` is the squared norm of its projection on the span of
    the K + L weight vectors plus an independent :math:`\chi^2_{n-K-L}`. Drawing the projection's coordinates
    :math:`z \sim N(0, I_{K+L})` and setting the fields to :math:`A z` with :math:`AA^\top` the covariance
    (Cholesky), :func:`order_parameter_step` then moves ``(Q, R, w)`` with exactly the law of SGD on the weights
    (:func:`simulate_sgd`), at a cost per step independent of ``n``.

    ``Q`` (S, K, K), ``R`` (S, K, L), ``w`` (S, K, M): initial order parameters; ``v`` (S, L, M) each run's teacher
    output vectors. Returns a :class:`Trajectory` every ``record_every`` in alpha, arrays with a leading run axis.
    """
    lr_out = lr if lr_out is None else lr_out
    Q, R, w = (np.array(a, dtype=float) for a in (Q, R, w))
    S, K, L = R.shape
    D = K + L
    every = max(1, int(round(record_every * n)))
    steps = int(round(alpha_max * n))
    rec = {"alpha": [0.0], "Q": [Q], "R": [R], "w": [w]}
    C = np.empty((S, D, D))
    C[:, K:, K:] = np.eye(L)
    step = 0
    while step < steps:
        m = min(chunk, steps - step)
        z = rng.standard_normal((m, S, D))
        chi = rng.chisquare(n - D, size=(m, S))
        for t in range(m):
            C[:, :K, :K], C[:, :K, K:], C[:, K:, :K] = Q, R, np.swapaxes(R, 1, 2)
            u = np.einsum("sab,sb->sa", np.linalg.cholesky(C), z[t])  # (S, D) fields with covariance C
            xi2 = np.einsum("sa,sa->s", z[t], z[t]) + chi[t]
            Q, R, w = order_parameter_step(Q, R, w, v, u[:, :K], u[:, K:], xi2, n, lr=lr, lr_out=lr_out)
            step += 1
            if step % every == 0:
                for k, a in (("alpha", step / n), ("Q", Q), ("R", R), ("w", w)):
                    rec[k].append(a)
    Qs, Rs, Ws = (np.stack(rec[k], axis=1) for k in ("Q", "R", "w"))  # (S, T, ...)
    return Trajectory(np.array(rec["alpha"]), generalisation_errors(Qs, Rs, Ws, v[:, None]), Qs, Rs, Ws)


def _g(u: np.ndarray) -> np.ndarray:
    return erf(u / math.sqrt(2.0))


def _g_prime(u: np.ndarray) -> np.ndarray:
    return math.sqrt(_C2) * np.exp(-0.5 * u * u)


def simulate_sgd(J: np.ndarray, w: np.ndarray, B: np.ndarray, v: np.ndarray, alpha_max: float, *, lr: float,
                 lr_out: float | None = None, record_every: float = 1.0, chunk: int = 256,
                 rng: np.random.Generator) -> Trajectory:
    """Online SGD for S independent runs at once (one fresh Gaussian input per run per step).

    Parameters
    ----------
    J : ndarray, shape (S, K, N), student input weights (not modified).
    w : ndarray, shape (S, K, M), student output vectors (not modified).
    B : ndarray, shape (L, N), teacher input weights with ``B B^T / N = I``.
    v : ndarray, shape (S, L, M), each run's teacher output vectors.
    alpha_max : run length in alpha = steps / N.

    Returns a :class:`Trajectory` with the order parameters and the exact generalisation error of the current
    weights every ``record_every`` in alpha; arrays have a leading run axis S.
    """
    lr_out = lr if lr_out is None else lr_out
    J, w = J.copy(), w.copy()
    S, K, N = J.shape
    every = max(1, int(round(record_every * N)))
    steps = int(round(alpha_max * N))
    sq = math.sqrt(N)
    rec = {"alpha": [], "Q": [], "R": [], "w": []}

    def record(step):
        rec["alpha"].append(step / N)
        rec["Q"].append(np.einsum("skn,sjn->skj", J, J) / N)
        rec["R"].append(np.einsum("skn,ln->skl", J, B) / N)
        rec["w"].append(w.copy())

    record(0)
    step = 0
    while step < steps:
        m = min(chunk, steps - step, every - step % every)
        xi = rng.standard_normal((m, S, N))
        ys = np.einsum("tsn,ln->tsl", xi, B) / sq  # (m, S, L), teacher fields need no update
        ts = np.einsum("tsl,slm->tsm", _g(ys), v)  # (m, S, M)
        for t in range(m):
            xt = xi[t]  # (S, N)
            x = np.matmul(J, xt[:, :, None])[:, :, 0] / sq  # (S, K)
            gx = _g(x)
            r = ts[t] - np.matmul(gx[:, None, :], w)[:, 0, :]  # (S, M)
            delta = _g_prime(x) * np.matmul(w, r[:, :, None])[:, :, 0]  # (S, K)
            w += (lr_out / N) * gx[:, :, None] * r[:, None, :]
            J += (lr / sq) * delta[:, :, None] * xt[:, None, :]
        step += m
        if step % every == 0:
            record(step)
    Q, R, W = (np.array(rec[k]).swapaxes(0, 1) for k in ("Q", "R", "w"))  # (S, T, ...)
    err = np.array([[generalisation_error(State(Q[s, t], R[s, t], W[s, t]), Teacher(v[s]))
                     for t in range(Q.shape[1])] for s in range(S)])
    return Trajectory(np.array(rec["alpha"]), err, Q, R, W)


def escape_time(alpha: np.ndarray, error: np.ndarray, threshold: float) -> float:
    """First ``alpha`` (T,) at which ``error`` (..., T) falls below ``threshold`` (linear interpolation); ``inf``
    where it never does. Returns an array of shape (...) (a float for one curve)."""
    error = np.asarray(error, dtype=float)
    below = error < threshold
    out = np.full(error.shape[:-1], np.inf)
    for idx in np.ndindex(out.shape):
        hit = np.flatnonzero(below[idx])
        if hit.size == 0:
            continue
        j = hit[0]
        if j == 0:
            out[idx] = alpha[0]
            continue
        e0, e1 = error[idx][j - 1], error[idx][j]
        out[idx] = alpha[j - 1] + (alpha[j] - alpha[j - 1]) * (e0 - threshold) / (e0 - e1)
    return out if out.shape else float(out)
