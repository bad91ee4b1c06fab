r"""Mining trained networks: input–output mutual information from Gaussian mixtures, and mean-field inverse
inference from a desired output to the input the network finds most plausible.

No paper gives these estimators' details (report002 only names the ideas), so both are derived here:

* mutual information: a Gaussian mixture, fitted by EM with the number of components chosen by BIC, models the
  joint density of one input element and one output unit; its marginals are mixtures too, and :math:`I` is the
  mutual information of the fitted density (:func:`gmm_mutual_information`, :func:`input_output_mi`);
* inverse inference: the posterior :math:`P(x \mid c) \propto P(c \mid x) \prod_i p_i^{x_i}(1-p_i)^{1-x_i}` over
  binary inputs, approximated by a product of Bernoullis whose means solve a damped mean-field fixed point
  (:func:`mean_field_inverse`); exact marginals by enumeration for tiny inputs (:func:`exact_inverse`).

References: report002.
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["gaussian_mutual_information", "fit_gmm", "gmm_log_density", "gmm_mutual_information",
           "input_output_mi", "input_output_mi_intervened", "ignore_input", "InverseResult",
           "bernoulli_prior_logit", "mean_field_inverse",
           "exact_inverse", "binary_entropy_bits", "ambiguity", "InverseSummary", "inverse_summary"]


# ---------------------------------------------------------------------------------------------------------------
# M1: mutual information from Gaussian mixtures


def gaussian_mutual_information(cov: np.ndarray, x_index: list[int], y_index: list[int]) -> float:
    r"""Mutual information (nats) between the blocks ``x_index`` and ``y_index`` of a Gaussian with covariance
    ``cov`` (d, d): :math:`\tfrac12 \log(\det\Sigma_{xx}\det\Sigma_{yy} / \det\Sigma_{(x,y)})`."""
    cov = np.asarray(cov, dtype=float)
    both = list(x_index) + list(y_index)
    ld = [np.linalg.slogdet(cov[np.ix_(s, s)])[1] for s in (list(x_index), list(y_index), both)]
    return 0.5 * (ld[0] + ld[1] - ld[2])


def fit_gmm(data: np.ndarray, *, max_components: int = 6, reg_covar: float = 1e-4, n_init: int = 2,
            covariance_type: str = "full", rng: np.random.Generator):
    """A Gaussian mixture fitted by EM (scikit-learn's ``GaussianMixture``) to ``data`` (n, d), with 1 to
    ``max_components`` components, the number chosen by the lowest BIC. ``covariance_type`` ``"full"`` or
    ``"diag"`` (components that cannot correlate the coordinates). ``rng`` seeds each fit."""
    from sklearn.mixture import GaussianMixture

    best, best_bic = None, np.inf
    for k in range(1, max_components + 1):
        gm = GaussianMixture(k, covariance_type=covariance_type, reg_covar=reg_covar, n_init=n_init,
                             random_state=int(rng.integers(2**31 - 1)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence warnings of over-large k: BIC rejects those fits
            gm.fit(data)
        bic = gm.bic(data)
        if bic < best_bic:
            best, best_bic = gm, bic
    return best


def _covariances(gmm) -> np.ndarray:
    """The components' covariance matrices (K, d, d), whatever the mixture's ``covariance_type`` (full or diag)."""
    cov = np.asarray(gmm.covariances_)
    return cov if cov.ndim == 3 else np.stack([np.diag(c) for c in cov])


def gmm_log_density(gmm, points: np.ndarray, index: list[int]) -> np.ndarray:
    """Log density at ``points`` (n, len(index)) of the fitted mixture's marginal over coordinates ``index``
    (the marginal of a Gaussian mixture is the mixture of the components' marginals). Returns (n,)."""
    from scipy.stats import multivariate_normal

    idx = list(index)
    comps = [np.log(w) + multivariate_normal(mu[idx], cov[np.ix_(idx, idx)]).logpdf(points)
             for w, mu, cov in zip(gmm.weights_, gmm.means_, _covariances(gmm), strict=True)]
    comps = np.stack([np.atleast_1d(c) for c in comps])  # (K, n)
    top = comps.max(0)
    return top + np.log(np.exp(comps - top).sum(0))


def gmm_mutual_information(x: np.ndarray, y: np.ndarray, *, max_components: int = 6, n_mc: int = 20000,
                           reg_covar: float = 1e-4, covariance_type: str = "full",
                           rng: np.random.Generator) -> float:
    r"""Mutual information (nats) between ``x`` (n,) or (n, dx) and ``y`` (n,) or (n, dy) from a Gaussian mixture
    fitted to the standardised joint sample (BIC picks the number of components).

    .. math:: \hat I = \frac1M \sum_{m=1}^M \log \frac{\hat p(x_m, y_m)}{\hat p(x_m)\,\hat p(y_m)},
              \qquad (x_m, y_m) \sim \hat p

    the mutual information of the fitted density, by ``n_mc`` draws from it (its Monte Carlo error is far below
    the estimator's own). Standardising changes no mutual information and keeps ``reg_covar`` scale-free.
    ``covariance_type`` goes to :func:`fit_gmm`.
    """
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    y = np.asarray(y, dtype=float).reshape(len(y), -1)
    joint = np.hstack([x, y])
    sd = joint.std(0)
    joint = (joint - joint.mean(0)) / np.where(sd > 0, sd, 1.0)
    gmm = fit_gmm(joint, max_components=max_components, reg_covar=reg_covar, covariance_type=covariance_type,
                  rng=rng)
    comp = rng.choice(len(gmm.weights_), size=n_mc, p=gmm.weights_ / gmm.weights_.sum())
    draws = np.empty((n_mc, joint.shape[1]))
    for k in range(len(gmm.weights_)):  # draw each component's share of the sample
        sel = comp == k
        draws[sel] = rng.multivariate_normal(gmm.means_[k], _covariances(gmm)[k], size=int(sel.sum()))
    dx = x.shape[1]
    ix, iy = list(range(dx)), list(range(dx, joint.shape[1]))
    log_ratio = (gmm_log_density(gmm, draws, ix + iy) - gmm_log_density(gmm, draws[:, ix], ix)
                 - gmm_log_density(gmm, draws[:, iy], iy))
    return float(log_ratio.mean())


def input_output_mi(x: np.ndarray, y: np.ndarray, *, max_components: int = 6, n_mc: int = 20000,
                    rng: np.random.Generator) -> np.ndarray:
    r"""The table :math:`I(x_i; y_k)` for every input column of ``x`` (n, d) and output column of ``y`` (n, K), by
    :func:`gmm_mutual_information`. Returns (d, K), nats."""
    d, k = x.shape[1], y.shape[1]
    table = np.empty((d, k))
    for i, j in itertools.product(range(d), range(k)):
        table[i, j] = gmm_mutual_information(x[:, i], y[:, j], max_components=max_components, n_mc=n_mc, rng=rng)
    return table


def input_output_mi_intervened(predict, x: np.ndarray, *, max_components: int = 6, n_mc: int = 20000,
                               n_perm: int = 4, rng: np.random.Generator) -> np.ndarray:
    r"""The network's own reading of each input: the table :math:`I(\tilde x_i; f_k(x_{-i}, \tilde x_i))`, (d, K),
    nats, where input ``i`` is replaced by an independent draw :math:`\tilde x_i` from its own marginal.

    ``predict`` maps inputs (m, d) to outputs (m, K) (numpy in, numpy out); ``x`` (n, d) is the data. For input
    ``i`` the sample is ``n_perm`` copies of ``x``, each with column ``i`` permuted at random (``rng``), so that
    :math:`\tilde x_i` keeps its marginal but no longer correlates with the other inputs; the mutual information is
    then :func:`gmm_mutual_information` on the ``n * n_perm`` pairs. Unlike :func:`input_output_mi` over the data,
    an input that the function ignores scores (nearly) zero however strongly it correlates with inputs it uses.
    """
    x = np.asarray(x, dtype=float)
    n, d = x.shape
    tables = []
    for i in range(d):
        xt = np.tile(x, (n_perm, 1))  # (n * n_perm, d)
        xt[:, i] = np.concatenate([rng.permutation(x[:, i]) for _ in range(n_perm)])
        y = np.asarray(predict(xt), dtype=float)  # (n * n_perm, K)
        tables.append([gmm_mutual_information(xt[:, i], y[:, k], max_components=max_components, n_mc=n_mc, rng=rng)
                       for k in range(y.shape[1])])
    return np.array(tables)


def ignore_input(model: nn.Sequential, index: int) -> nn.Sequential:
    """Zero the first layer's weights from input ``index`` (in place), so the network provably ignores it; the
    model is returned for chaining."""
    first = next(m for m in model if isinstance(m, nn.Linear))
    with torch.no_grad():
        first.weight[:, index] = 0
    return model


# ---------------------------------------------------------------------------------------------------------------
# M2: inverse inference by mean field


class InverseResult(NamedTuple):
    """``mean`` (D,): posterior means :math:`q(x_i = 1)`; ``class_prob``: :math:`P(c \\mid m)` at the means;
    ``n_iter``: iterations used; ``converged``: whether the update fell below the tolerance."""

    mean: Tensor
    class_prob: float
    n_iter: int
    converged: bool


def bernoulli_prior_logit(x: Tensor, *, pseudo_count: float = 1.0) -> Tensor:
    r"""Logits :math:`\log(p_i / (1 - p_i))` of an independent Bernoulli prior fitted to binary data ``x`` (N, D),
    with ``pseudo_count`` added to both outcomes of every pixel (so no logit is infinite). Returns (D,)."""
    p = (x.sum(0) + pseudo_count) / (x.shape[0] + 2 * pseudo_count)
    return torch.log(p) - torch.log1p(-p)


def mean_field_inverse(model: nn.Module, target: int, prior_logit: Tensor, *, damping: float = 0.5,
                       n_iter: int = 2000, tol: float = 1e-7, init: Tensor | None = None) -> InverseResult:
    r"""Mean-field posterior over binary inputs given the desired class ``target`` of a classifier ``model``.

    The posterior is :math:`P(x \mid c) \propto \mathrm{softmax}(f(x))_c \prod_i p_i^{x_i}(1-p_i)^{1-x_i}`,
    :math:`x \in \{0,1\}^D`. With :math:`q(x) = \prod_i m_i^{x_i}(1-m_i)^{1-x_i}` and the network's
    log-likelihood evaluated at the means (:math:`\mathbb E_q \log P(c\mid x) \approx \log P(c \mid m)`), the
    stationarity conditions of :math:`\mathrm{KL}(q \,\|\, P(\cdot \mid c))` read

    .. math:: m_i = \sigma\Big(\mathrm{logit}\, p_i + \frac{\partial \log P(c \mid m)}{\partial m_i}\Big),

    iterated with damping :math:`m \leftarrow (1-\alpha) m + \alpha\,\sigma(\cdot)`, :math:`\alpha` = ``damping``,
    from the prior means (or ``init``). ``prior_logit`` shape (D,); warns if ``n_iter`` updates do not reach
    ``tol`` (raise ``n_iter`` or lower ``damping``).
    """
    dtype = next(model.parameters()).dtype
    m = torch.sigmoid(prior_logit).to(dtype) if init is None else init.detach().clone().to(dtype)
    prior_logit = prior_logit.to(dtype)
    converged, used = False, 0
    for it in range(1, n_iter + 1):
        used = it
        mm = m.detach().requires_grad_(True)
        logp = torch.log_softmax(model(mm[None]), dim=1)[0, target]
        (grad,) = torch.autograd.grad(logp, mm)
        new = (1 - damping) * m + damping * torch.sigmoid(prior_logit + grad)
        step = (new - m).abs().max().item()
        m = new.detach()
        if step < tol:
            converged = True
            break
    if not converged:
        warnings.warn(f"mean_field_inverse did not converge in {n_iter} iterations (raise n_iter or lower "
                      "damping)", RuntimeWarning, stacklevel=2)
    with torch.no_grad():
        prob = torch.softmax(model(m[None]), dim=1)[0, target].item()
    return InverseResult(m, prob, used, converged)


@torch.no_grad()
def exact_inverse(model: nn.Module, target: int, prior_logit: Tensor) -> Tensor:
    r"""Exact posterior marginals :math:`P(x_i = 1 \mid c)` by enumerating all :math:`2^D` binary inputs
    (D <= ~16). ``prior_logit`` shape (D,); returns (D,)."""
    d = prior_logit.numel()
    dtype = next(model.parameters()).dtype
    idx = torch.arange(2**d)
    x = ((idx[:, None] >> torch.arange(d - 1, -1, -1)) & 1).to(dtype)  # (2^D, D)
    prior = prior_logit.to(dtype)
    logw = torch.log_softmax(model(x), dim=1)[:, target] + x @ prior - nn.functional.softplus(prior).sum()
    w = torch.softmax(logw, 0)
    return w @ x


def binary_entropy_bits(m: Tensor) -> Tensor:
    """Entropy in bits of Bernoulli variables with means ``m`` (any shape), elementwise."""
    m = m.clamp(0, 1)
    return -(torch.special.xlogy(m, m) + torch.special.xlogy(1 - m, 1 - m)) / math.log(2)


def ambiguity(mean: Tensor) -> float:
    """How undecided an inferred input is: the mean entropy per input (bits) of the mean-field posterior with
    means ``mean`` (D,): 0 for a definite image, 1 when every pixel is a coin flip."""
    return binary_entropy_bits(mean).mean().item()


class InverseSummary(NamedTuple):
    """Mean-field inverses of a classifier for every class: ``mean`` (C, D) the inferred images;
    ``predicted`` (C,) the class the network gives each; ``class_prob`` (C,); ``correlation`` (C,) with its own
    class mean; ``centred_correlation`` (C, C): entry (c, k) the correlation of inferred image c minus the prior
    mean with class mean k minus the prior mean; ``nearest_centred`` (C,) its arg-max over k; ``ambiguity`` (C,)
    in bits per input; ``converged`` (C,)."""

    mean: np.ndarray
    predicted: np.ndarray
    class_prob: np.ndarray
    correlation: np.ndarray
    centred_correlation: np.ndarray
    nearest_centred: np.ndarray
    ambiguity: np.ndarray
    converged: np.ndarray


def inverse_summary(model: nn.Module, prior_logit: Tensor, class_means: Tensor, *, damping: float = 0.2,
                    n_iter: int = 4000, tol: float = 1e-6) -> InverseSummary:
    r"""Run :func:`mean_field_inverse` for every class of ``model`` and compare each inferred image with the class
    means ``class_means`` (C, D) of the training images, raw and with the prior mean
    :math:`\sigma(\text{prior\_logit})` removed from both. ``prior_logit`` shape (D,), on the model's device."""
    p0 = torch.sigmoid(prior_logit).detach().cpu().double().numpy()
    cm = class_means.detach().cpu().double().numpy()
    rows = []
    for c in range(cm.shape[0]):
        r = mean_field_inverse(model, c, prior_logit, damping=damping, n_iter=n_iter, tol=tol)
        m = r.mean.detach().cpu().double().numpy()
        with torch.no_grad():
            pred = int(model(r.mean[None]).argmax())
        centred = np.array([np.corrcoef(m - p0, cm[k] - p0)[0, 1] for k in range(cm.shape[0])])
        rows.append((m, pred, r.class_prob, np.corrcoef(m, cm[c])[0, 1], centred, int(np.argmax(centred)),
                     ambiguity(r.mean), r.converged))
    return InverseSummary(*(np.array(col) for col in zip(*rows, strict=True)))
