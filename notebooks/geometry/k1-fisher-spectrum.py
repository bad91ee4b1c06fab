# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (dltheory, portable numerics)
#     language: python
#     name: dltheory
# ---

# %% [markdown]
# # K1 · The Fisher spectrum of wide random networks, and the learning-rate bound it sets
#
# **The result.** In a wide fully connected network with random weights and biases, the eigenvalues of the Fisher
# information matrix are almost all close to zero, while a few are huge. Karakida, Akaho and Amari computed the
# spectrum's mean, second moment and largest eigenvalue from a handful of mean-field order parameters: the mean
# shrinks like $1/M$ in the width $M$, the largest eigenvalue grows like $M$
# {cite}`karakida2019universal`, and for a finite training set of $T$ inputs the large eigenvalues come from the
# mean of the outputs over the inputs {cite}`karakida2019pathological`. Since the Fisher matrix is the Gauss–Newton
# curvature of the squared loss, gradient descent is stable only below the learning rate $2/\lambda_{max}$. The
# report lists this as its first result {cite}`report003`.
#
# **What we do.** Compute the order parameters by Gaussian quadrature, predict the mean $m_\lambda$, the second
# moment $s_\lambda$ and $\lambda_{max}$, and compare with the exact spectrum of random tanh networks with biases on
# Gaussian inputs at widths 128 to 1024, three networks each. The exact spectrum comes from the $TC \times TC$ dual
# (neural tangent kernel) Gram matrix; `curvlinops` {cite}`dangel2025curvlinops`, which works in the
# $P$-dimensional parameter space, gives the same eigenvalues, and we time both. Then we run gradient descent just
# below and just above $2/\lambda_{max}$, and scan where it blows up.
#
# **What is ours.** The recursions, $\kappa_1$, $\kappa_2$ and the three predictions are the papers'; the
# factorised dual Gram matrix, the mean-residual contraction measurement, the controls and every setting are
# ours (the papers show figures for similar settings; we do not copy their sizes).

# %% tags=["parameters"]
seed = 0
widths = [128, 256, 512, 1024]  # hidden widths M (input dimension M_0 = M)
depth = 3  # weight layers L: M_0 -> M -> M -> C
outputs = 3  # C
inputs = 100  # T training inputs
sigma_w2 = 2.0
sigma_b2 = 0.5
n_seeds = 3
n_extra = 10  # further networks at the largest width, for the spread of lambda_max
narrow = 32  # the control off the theory's regime
gd_steps = 10  # steps over which the mean residual's contraction is measured
scan_steps = 30  # steps in the divergence scan
scan_networks = 1  # networks scanned (reported, not asserted; each costs a third of the page)
device = "cpu"

# %%
import time

import numpy as np
import torch
from scipy.sparse.linalg import eigsh

from dltheory import data, plotting, repro, stats
from dltheory import fisher as fi

session = repro.setup(seed, device=device)
seeds = [seed + i for i in range(n_seeds)]
problems = {(m, s): fi.gaussian_problem([m] * depth + [outputs], inputs, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                                        generator=torch.Generator(device=session.device).manual_seed(s))
            for m in [*widths, narrow] for s in seeds}
targets = {s: torch.randn(inputs, outputs, generator=torch.Generator(device=session.device).manual_seed(10_000 + s),
                          dtype=torch.float64, device=session.device) for s in seeds}


# %% [markdown]
# ## Order parameters and the predicted spectrum
#
# Write $u^l = W^l h^{l-1} + b^l$, $h^l = \varphi(u^l)$, $W^l_{ij} \sim \mathcal N(0, \sigma_w^2/M_{l-1})$,
# $b^l_i \sim \mathcal N(0, \sigma_b^2)$, with linear outputs $f = u^L \in \mathbb R^C$. For two independent inputs the
# forward order parameters (variance $q_1^l$ and covariance $q_2^l$ of the pre-activations) and the backward ones
# ($\tilde q^l_1 = \sum_i \delta^l_i(t)^2$ and $\tilde q^l_2 = \sum_i \delta^l_i(t)\delta^l_i(s)$ with
# $\delta^l_i = \partial f_k / \partial u^l_i$) obey
#
# $$
# q^l_{1,2} = \sigma_w^2 \hat q^{l-1}_{1,2} + \sigma_b^2,\quad \hat q^l_1 = \mathbb E\varphi(u)^2,\ \hat q^l_2 =
# \mathbb E\varphi(u)\varphi(v),\quad \tilde q^l_1 = \sigma_w^2\tilde q^{l+1}_1\mathbb E\varphi'(u)^2,\ \tilde q^l_2 =
# \sigma_w^2 \tilde q^{l+1}_2 \mathbb E\varphi'(u)\varphi'(v), \tag{1}
# $$
#
# with $\hat q^0_1 = 1$, $\hat q^0_2 = 0$ for Gaussian inputs and $\tilde q^L = 1$. With $\alpha = \sum_{l<L}
# M_l M_{l-1}/M^2$ (so $P \simeq \alpha M^2$), $\kappa_{1,2} = \sum_l \frac{M_{l-1}}{\alpha M}\tilde q^l_{1,2}
# \hat q^{l-1}_{1,2}$ and the Fisher matrix $F = J^\top J / T$ on $T$ inputs,
#
# $$
# m_\lambda \simeq \frac{\kappa_1 C}{M},\qquad s_\lambda \simeq \alpha C\,\frac{\kappa_1^2 + (T-1)\kappa_2^2}{T},
# \qquad \lambda_{max} \simeq \alpha M\,\frac{\kappa_1 + (T-1)\kappa_2}{T}. \tag{2}
# $$
#
# The bias makes $\kappa_2 > 0$: the outputs share a common part over inputs, and its direction (the mean of the
# outputs) carries an eigenvalue of order $M$.

# %%
op = fi.order_parameters(depth, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
pred = {m: fi.predict_spectrum([m] * depth + [outputs], inputs, sigma_w2=sigma_w2, sigma_b2=sigma_b2) for m in widths}
p = pred[widths[-1]]
print("q1 =", np.round(op.q1, 4), " q2 =", np.round(op.q2, 4))
print("qt1 =", np.round(op.qt1, 4), " qt2 =", np.round(op.qt2, 4))
print(f"kappa1 = {p.kappa1:.4f}, kappa2 = {p.kappa2:.4f}, alpha = {p.alpha:.1f}")

# %% [markdown]
# ## The exact spectrum through the dual Gram matrix
#
# Each weight layer's gradient is an outer product $\delta^l h^{l-1\top}$, so the $TC\times TC$ Gram matrix
# factorises, $(JJ^\top)_{(t,k),(s,k')} = \sum_l (\delta^l_k(t)\cdot\delta^l_{k'}(s))(h^{l-1}(t)\cdot h^{l-1}(s)+1)$,
# and its eigenvalues divided by $T$ are the nonzero eigenvalues of $F$; the other $P - TC$ are zero.

# %%
spectra = {m: [fi.empirical_spectrum(*problems[(m, s)]) for s in seeds] for m in widths}
ratio = {name: {m: np.array([getattr(sp, attr) / getattr(pred[m], key) for sp in spectra[m]]) for m in widths}
         for name, attr, key in [("m", "mean", "m"), ("s", "second_moment", "s"), ("max", "max", "lambda_max")]}
for m in widths:
    print(f"M = {m:5d}: empirical / predicted  m {ratio['m'][m].mean():.3f}  s {ratio['s'][m].mean():.3f}"
          f"  lambda_max {ratio['max'][m].mean():.3f}  (means of {n_seeds} networks)")

# %% [markdown]
# Three networks are few for a figure that scatters by a few percent, so beside the check we draw
# {glue:text}`n_extra` more networks at the largest width. We also average the $C$ outliers instead of taking the
# largest: each output has its own outlier, and the largest of $C$ scattered values is biased upward.

# %%
extra = [fi.empirical_spectrum(*fi.gaussian_problem(
    [widths[-1]] * depth + [outputs], inputs, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
    generator=torch.Generator(device=session.device).manual_seed(1000 + seed + i))) for i in range(n_extra)]
extra_max = stats.mean_interval(np.array([sp.max for sp in extra]) / pred[widths[-1]].lambda_max)
extra_outliers = stats.mean_interval(np.array([sp.eigenvalues[:outputs].mean() for sp in extra])
                                     / pred[widths[-1]].lambda_max)
print(f"{n_extra} more networks: lambda_max / predicted = {extra_max.value:.3f} "
      f"[{extra_max.low:.3f}, {extra_max.high:.3f}]; mean of the {outputs} outliers / predicted = "
      f"{extra_outliers.value:.3f} [{extra_outliers.low:.3f}, {extra_outliers.high:.3f}]")
repro.glue("n_extra", n_extra)

# %%
fig, axes = plotting.subplots(1, 2, width=8.5, height=3.2)
for ax, (attr, key, label) in zip(axes, [("mean", "m", r"$m_\lambda$"), ("max", "lambda_max", r"$\lambda_{max}$")],
                                  strict=True):
    emp = np.array([[getattr(sp, attr) for sp in spectra[m]] for m in widths])
    ax.errorbar(widths, emp.mean(1), yerr=emp.std(1, ddof=1), fmt="o", label="exact spectrum")
    ax.plot(widths, [getattr(pred[m], key) for m in widths], "-", label="theory (2)")
    ax.set(xscale="log", yscale="log", xlabel="width M", ylabel=label)
    ax.minorticks_off()
    ax.set_xticks(widths, [str(m) for m in widths])
axes[0].legend()
plotting.plt.show()

# %% [markdown]
# *What to see:* the mean eigenvalue falls like $1/M$ and the largest grows like $M$, on the theory's lines; the
# bars (one standard deviation over three networks) shrink with the width.

# %%
eig = np.concatenate([sp.eigenvalues for sp in spectra[widths[-1]]])
fig, ax = plotting.subplots(width=7, height=3.0)
ax.hist(eig, bins=np.logspace(np.log10(eig.min()), np.log10(eig.max() * 1.1), 60))
ax.axvline(p.lambda_max, color="k", ls="--", label=r"predicted $\lambda_{max}$")
ax.axvline(p.m, color="C1", ls=":", label=r"predicted mean $m_\lambda$ (all $P$ eigenvalues)")
ax.set(xscale="log", xlabel="nonzero Fisher eigenvalue", ylabel="count")
ax.legend(fontsize=8)
plotting.plt.show()

# %% [markdown]
# *What to see:* of the $P$ eigenvalues only $TC$ are nonzero (the others, exactly zero, are not drawn). They form a
# bulk near $\alpha M(\kappa_1 - \kappa_2)/T$ and $C$ outliers at $\lambda_{max}$, one per output. The mean
# $m_\lambda$ of the whole spectrum lies far below both, pulled down by the $P - TC$ zeros.
#
# ## The same eigenvalues from curvlinops, and the time each takes
#
# `curvlinops` multiplies the generalised Gauss–Newton matrix of the summed squared error, $2J^\top J$, onto
# vectors in parameter space; scaled by $1/(2T)$ it is $F$. On a small network we form it densely and compare every
# eigenvalue; at width 1024 ($P \approx 2\cdot 10^6$) we compare the $C$ largest, found by Lanczos (`eigsh`) on the
# peer's operator, with ours, both in float32.

# %%
small, xs = fi.gaussian_problem([5, 6, 6, outputs], 4, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                                generator=torch.Generator(device=session.device).manual_seed(seed))
peer_dense = fi.peer_fisher_operator(small, xs) @ np.eye(fi.n_params(small))
peer_eig = np.sort(np.linalg.eigvalsh(peer_dense))[::-1]
ours_small = fi.empirical_spectrum(small, xs).eigenvalues
small_error = float(np.abs(peer_eig[: len(ours_small)] - ours_small).max() / ours_small.max())
rest = np.abs(peer_eig[len(ours_small):]).max()
print(f"small net (P = {fi.n_params(small)}): largest relative difference {small_error:.1e}; "
      f"peer's remaining {len(peer_eig) - len(ours_small)} eigenvalues below {rest:.0e}")

big, xb = problems[(widths[-1], seed)]
big = fi.Network([w.float() for w in big.weights], [b.float() for b in big.biases], big.activation)
t0 = time.process_time()
ours_top = fi.empirical_spectrum(big, xb.float()).eigenvalues[:outputs]
ours_seconds = time.process_time() - t0
t0 = time.process_time()
peer_op = fi.peer_fisher_operator(big, xb.float())
peer_top = np.sort(eigsh(peer_op, k=outputs, which="LA", return_eigenvectors=False, tol=1e-6,
                         v0=np.ones(peer_op.shape[0])))[::-1]  # a fixed start vector: the same digits every run
peer_seconds = time.process_time() - t0
peer_error = float(np.abs(peer_top - ours_top).max() / ours_top[0])
print(f"width {widths[-1]}: top {outputs} eigenvalues ours {np.round(ours_top, 2)}, curvlinops {np.round(peer_top, 2)}")
print(f"CPU time: ours {ours_seconds:.2f} s (all {inputs * outputs} nonzero eigenvalues), "
      f"curvlinops + eigsh {peer_seconds:.2f} s (top {outputs})")

# %% [markdown]
# ## Gradient descent at the bound
#
# For the loss $\frac1{2T}\sum_t|f(x_t) - y_t|^2$ the linearised residual evolves as $r \leftarrow (I - \eta JJ^\top/T)
# r$. The top eigenvector $u$ of $JJ^\top$ is close to the uniform vector over the inputs of one output, so the mean
# residual, which we measure as the component $u^\top r$ (the plain average over inputs would mix in slowly decaying
# bulk modes), changes by the factor $|1 - \eta\lambda_{max}|$ per step: below $2/\lambda_{max}$ it contracts, above
# it oscillates with growing amplitude. On the three networks of width 1024, with standard Gaussian targets, we set
# the rates from each network's own $\lambda_{max}$ (the exact one, from the dual) and measure the factor over the
# first {glue:text}`gd_steps` steps, while the network is still close to its linearisation. Beside it we set them from
# the *predicted* $\lambda_{max}$: then the outcome also depends on how close each network is to the prediction.

# %%
rates = (0.95, 1.05)
m_top = widths[-1]
lam_exact = {s: sp.max for s, sp in zip(seeds, spectra[m_top], strict=True)}
runs = {(mult, s): fi.mean_residual_contraction(*problems[(m_top, s)], targets[s], mult * 2 / lam_exact[s],
                                                steps=gd_steps) for mult in rates for s in seeds}
factors = {mult: np.array([runs[(mult, s)][0] for s in seeds]) for mult in rates}
factors_pred = {mult: np.array([fi.mean_residual_contraction(*problems[(m_top, s)], targets[s],
                                                             mult * 2 / p.lambda_max, steps=gd_steps)[0]
                                for s in seeds]) for mult in rates}
for mult in rates:
    print(f"eta = {mult} x 2/lambda_max: contraction factor per step {np.round(factors[mult], 4)} "
          f"(predicted lambda_max: {np.round(factors_pred[mult], 4)})")
repro.glue("gd_steps", gd_steps)

# %% [markdown]
# Outright divergence needs a larger rate: once the residual grows, the network leaves its linearisation and the
# curvature along the mean direction drops, which can bring the loss back down (the large-learning-rate "catapult"
# of {cite}`lewkowycz2020large`). We scan multiples of $2/\lambda_{max}$ and record, for the first
# {glue:text}`scan_networks` network(s) of width {glue:text}`check_width`, the smallest at which the loss after
# {glue:text}`scan_steps` steps exceeds $10^3$ times its start. This is reported, not asserted.

# %%
scan = np.arange(1.5, 3.01, 0.25)
curves, onset = {}, []
for s in seeds[:scan_networks]:
    onset.append(np.inf)
    for mult in scan:  # ascending; stop at the first rate that runs away
        _, losses = fi.mean_residual_contraction(*problems[(m_top, s)], targets[s], mult * 2 / lam_exact[s],
                                                 steps=scan_steps)
        curves[(s, mult)] = losses
        if not losses[-1] <= 1e3 * losses[0]:
            onset[-1] = float(mult)
            break
print("divergence onset (x 2/lambda_max) per network:", onset)
repro.glue("scan_steps", scan_steps)
repro.glue("scan_networks", scan_networks)

# %%
fig, ax = plotting.subplots(width=7, height=3.2)
for mult in rates:
    ax.plot(runs[(mult, seed)][1], "o-", label=f"{mult} x 2/λmax")
for (s, mult), losses in curves.items():
    if s == seed:
        ax.plot(losses, "-", label=f"{mult} x 2/λmax")
ax.set(yscale="log", xlabel="gradient-descent step", ylabel="training loss", ylim=(1e-3, 1e8))
ax.legend(fontsize=8, ncol=2)
plotting.plt.show()

# %% [markdown]
# *What to see:* at 0.95 × $2/\lambda_{max}$ the loss falls steadily; at 1.05 × it falls more slowly and then
# levels off: the bulk modes still contract while the mean component grows by the factor printed above, and in
# {glue:text}`gd_steps` steps it does not yet dominate the loss. Between 1.5 and 2 times the bound the loss shoots
# up by orders of magnitude and then comes back down (the catapult); the last curve, the first rate of the scan that
# runs away, does not come back.
#
# ## The check and its controls
#
# From `CLAIMS.md`: at width $\ge 512$ (we use the widest, {glue:text}`check_width`), $m_\lambda$ and
# $\lambda_{max}$ within 5% of theory over 3 networks (the mean of the three ratios); gradient descent's
# mean-residual contraction factor below 1 at $0.95 \times 2/\lambda_{max}$ and above 1 at $1.05\times$ (every
# network, each at its own exact $\lambda_{max}$). Beside it, stronger: the log-log slopes of $m_\lambda$ and
# $\lambda_{max}$ against $M$ within 0.1 of $-1$ and $+1$.
#
# The controls run the same check where it must fail:
#
# - *Narrow:* width {glue:text}`narrow_width`, far from the wide limit.
# - *Structured inputs:* 8×8 digit images (each scaled to unit mean square) instead of Gaussian vectors. Their pixels
#   are all non-negative, so two images overlap strongly ($\hat q^0_2 > 0$) and prediction (2), made for independent
#   Gaussian inputs, must miss $\lambda_{max}$. (Feeding the measured overlap into (1) repairs it: shown beside.)
# - *Wrong side:* gradient descent at 0.95 and 1.05 times $2/\lambda_{bulk}$, with $\lambda_{bulk} =
#   \alpha M(\kappa_1-\kappa_2)/T$, the bound one would read off the bulk of the spectrum without its outliers.

# %%
def check(r_m, r_max, f_low, f_high, slopes=(-1.0, 1.0)):
    """CLAIMS.md's criterion from the per-network ratios to theory and the contraction factors."""
    return {"m_within_5pct": bool(abs(np.mean(r_m) - 1) <= 0.05),
            "lambda_max_within_5pct": bool(abs(np.mean(r_max) - 1) <= 0.05),
            "gd_contracts_at_0.95": bool(np.all(f_low < 1)), "gd_grows_at_1.05": bool(np.all(f_high > 1)),
            "mean_slope_minus_1": bool(abs(slopes[0] + 1) <= 0.1), "max_slope_plus_1": bool(abs(slopes[1] - 1) <= 0.1)}


mean_of = {attr: [np.mean([getattr(sp, attr) for sp in spectra[m]]) for m in widths] for attr in ("mean", "max")}
slopes = {attr: float(np.polyfit(np.log(widths), np.log(v), 1)[0]) for attr, v in mean_of.items()}
checks = check(ratio["m"][m_top], ratio["max"][m_top], factors[0.95], factors[1.05], (slopes["mean"], slopes["max"]))
repro.glue("check_width", m_top)
repro.glue("narrow_width", narrow)
print(checks)

# %%
pn = fi.predict_spectrum([narrow] * depth + [outputs], inputs, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
sn = [fi.empirical_spectrum(*problems[(narrow, s)]) for s in seeds]
control_narrow = check([sp.mean / pn.m for sp in sn], [sp.max / pn.lambda_max for sp in sn],
                       factors[0.95], factors[1.05])

digits = data.digits(dtype=torch.float64, device=session.device).x_train[:inputs]
digits = digits / digits.pow(2).mean(1, keepdim=True).sqrt()  # each image: unit mean square, like the Gaussians
overlap = float((digits @ digits.T).fill_diagonal_(0).sum() / (inputs * (inputs - 1) * digits.shape[1]))
d_widths = [digits.shape[1]] + [m_top] * (depth - 1) + [outputs]
pd0 = fi.predict_spectrum(d_widths, inputs, sigma_w2=sigma_w2, sigma_b2=sigma_b2)
pd1 = fi.predict_spectrum(d_widths, inputs, sigma_w2=sigma_w2, sigma_b2=sigma_b2, qhat2_input=overlap)
sd = [fi.empirical_spectrum(fi.random_network(d_widths, sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                                              generator=torch.Generator(device=session.device).manual_seed(s)), digits)
      for s in seeds]
control_digits = check([sp.mean / pd0.m for sp in sd], [sp.max / pd0.lambda_max for sp in sd],
                       factors[0.95], factors[1.05])
digits_repaired = float(np.mean([sp.max / pd1.lambda_max for sp in sd]))

lam_bulk = p.alpha * m_top * (p.kappa1 - p.kappa2) / inputs
wrong = {mult: np.array([fi.mean_residual_contraction(*problems[(m_top, s)], targets[s], mult * 2 / lam_bulk,
                                                      steps=gd_steps)[0] for s in seeds]) for mult in rates}
control_wrong = check(ratio["m"][m_top], ratio["max"][m_top], wrong[0.95], wrong[1.05])
print(f"narrow: {control_narrow}\ndigits: {control_digits} (input overlap {overlap:.3f})\nwrong side: {control_wrong}")

# %%
r_m, r_max = stats.mean_interval(ratio["m"][m_top]), stats.mean_interval(ratio["max"][m_top])
repro.record_claim(
    "K1",
    title="Fisher spectrum of wide random networks: mean ~ 1/M, largest ~ M, and the learning-rate bound 2/lambda_max",
    status=repro.grade(checks),
    criterion="at width >= 512 (tanh, biases, Gaussian inputs) m_lambda and lambda_max within 5% of theory over 3 "
              "seeds; GD mean-residual contraction < 1 at 0.95 x 2/lambda_max and > 1 at 1.05 x (each network's exact "
              "lambda_max; every network); stronger: log-log "
              "slopes of m_lambda and lambda_max in M within 0.1 of -1 and +1",
    checks=checks,
    measured={
        "m_ratio": repro.measure(r_m.value, tol=2 * r_m.sem, basis="2 standard errors over 3 networks"),
        "m_ratio_sem": r_m.sem,
        "lambda_max_ratio": repro.measure(r_max.value, tol=2 * r_max.sem, basis="2 standard errors over 3 networks"),
        "lambda_max_ratio_sem": r_max.sem,
        "m_ratio_worst_network": float(ratio["m"][m_top][np.argmax(np.abs(ratio["m"][m_top] - 1))]),
        "lambda_max_ratio_worst_network": float(ratio["max"][m_top][np.argmax(np.abs(ratio["max"][m_top] - 1))]),
        "lambda_max_ratio_512": float(ratio["max"][512].mean()) if 512 in widths else float("nan"),
        "s_ratio": float(ratio["s"][m_top].mean()),
        "lambda_max_ratio_more_networks": extra_max.value, "lambda_max_ratio_more_networks_sem": extra_max.sem,
        "outlier_mean_ratio_more_networks": extra_outliers.value,
        "kappa1": p.kappa1, "kappa2": p.kappa2, "predicted_lambda_max": p.lambda_max,
        "mean_slope": slopes["mean"], "max_slope": slopes["max"],
        "factor_at_0.95_max": float(factors[0.95].max()), "factor_at_1.05_min": float(factors[1.05].min()),
        "predicted_rate_factor_at_0.95_max": float(factors_pred[0.95].max()),
        "predicted_rate_factor_at_1.05_min": float(factors_pred[1.05].min()),
        "divergence_onset": float(max(onset)),
        "peer_small_relative_difference": repro.measure(small_error, tol=1e-9, basis="rounding (float64)"),
        "peer_top_relative_difference": repro.measure(peer_error, tol=1e-4, basis="float32 rounding, Lanczos tol 1e-6"),
        "ours_seconds": ours_seconds, "peer_seconds": peer_seconds,
        "peer_over_ours_speedup": peer_seconds / ours_seconds,
        "n_seeds": n_seeds,
    },
    controls={
        "narrow": repro.control(f"width {narrow}, far from the wide limit", control_narrow,
                                {"m_ratio": float(np.mean([sp.mean / pn.m for sp in sn])),
                                 "lambda_max_ratio": float(np.mean([sp.max / pn.lambda_max for sp in sn]))}),
        "digits": repro.control("digit images (overlapping, non-Gaussian) against the Gaussian-input prediction",
                                control_digits,
                                {"lambda_max_ratio": float(np.mean([sp.max / pd0.lambda_max for sp in sd])),
                                 "input_overlap": overlap, "repaired_lambda_max_ratio": digits_repaired}),
        "wrong_side": repro.control("rates set from the bulk eigenvalue instead of lambda_max", control_wrong,
                                    {"factor_at_0.95": float(wrong[0.95].min()), "lambda_bulk": lam_bulk}),
    },
)
assert checks["m_within_5pct"] and checks["lambda_max_within_5pct"], checks
assert checks["gd_contracts_at_0.95"] and checks["gd_grows_at_1.05"], checks
assert not any(c.passed_check for c in (repro.control("", control_narrow), repro.control("", control_digits),
                                         repro.control("", control_wrong))), "a control passed the check"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. At width {glue:text}`check_width` the exact spectrum of three random tanh networks
# has mean {glue:text}`m_ratio:.3f` times the predicted $m_\lambda$ (standard error {glue:text}`m_ratio_sem:.3f`) and
# largest eigenvalue {glue:text}`lambda_max_ratio:.3f` times the predicted $\lambda_{max}$ (standard error
# {glue:text}`lambda_max_ratio_sem:.3f`); the second moment comes out at {glue:text}`s_ratio:.3f` times $s_\lambda$.
# Across widths the mean falls with log-log slope {glue:text}`mean_slope:.3f` and the largest eigenvalue grows with
# slope {glue:text}`max_slope:.3f`. The network-to-network spread is not small: the network farthest from the theory has
# ratios {glue:text}`m_ratio_worst_network:.3f` and {glue:text}`lambda_max_ratio_worst_network:.3f` (the criterion is
# on the mean of three; a single network can miss 5%), and at width 512 the mean ratio for
# $\lambda_{max}$ is {glue:text}`lambda_max_ratio_512:.3f`, and it is biased upward because $\lambda_{max}$ is the
# largest of $C$ nearly equal outliers, one per output, each fluctuating by a few percent. Over
# {glue:text}`n_extra` further networks the largest eigenvalue averages {glue:text}`lambda_max_ratio_more_networks:.3f`
# times the prediction (standard error {glue:text}`lambda_max_ratio_more_networks_sem:.3f`), the mean of the $C$
# outliers {glue:text}`outlier_mean_ratio_more_networks:.3f` times. So the 5% criterion on three networks is met
# here, but with little room: another three networks can land near the line.
#
# Gradient descent obeys the bound: the mean residual shrinks by at most {glue:text}`factor_at_0.95_max:.3f` per step
# at 0.95 × $2/\lambda_{max}$ and grows by at least {glue:text}`factor_at_1.05_min:.3f` at 1.05 ×. The loss only
# runs away for good from {glue:text}`divergence_onset:.2f` times the bound (the scanned network, from 1.5 in
# steps of 0.25); in between, it spikes and recovers. With the rates
# set from the predicted $\lambda_{max}$ instead, the largest factor at 0.95 × is
# {glue:text}`predicted_rate_factor_at_0.95_max:.3f` and the smallest at 1.05 × is
# {glue:text}`predicted_rate_factor_at_1.05_min:.3f`; these cross 1 on any network whose $\lambda_{max}$ lies more
# than about 5% from the prediction, which the spread above allows.
#
# The peer agrees: on a small network every eigenvalue of curvlinops' dense Fisher matches ours to a relative
# {glue:text}`peer_small_relative_difference:.0e`, and at width 1024 the top eigenvalues agree to
# {glue:text}`peer_top_relative_difference:.0e`. Ours took {glue:md}`ours_seconds` of CPU for all $TC$ nonzero
# eigenvalues, curvlinops with Lanczos {glue:md}`peer_seconds` for the top $C$ (a {glue:md}`peer_over_ours_speedup`
# ratio): the dual Gram matrix is small when $T C \ll P$, which is exactly the regime of the theory.
#
# The controls fail as they must. At width {glue:text}`narrow_width` the largest eigenvalue is
# {glue:text}`narrow.lambda_max_ratio:.2f` times the prediction. On digit images, whose mean overlap
# {glue:text}`digits.input_overlap:.2f` violates the theory's independent-input assumption, $\lambda_{max}$ is
# {glue:text}`digits.lambda_max_ratio:.2f` times the Gaussian-input prediction (the measured overlap fed into (1)
# brings it to {glue:text}`digits.repaired_lambda_max_ratio:.3f`). Rates read off the bulk of the spectrum make
# gradient descent grow by at least {glue:text}`wrong_side.factor_at_0.95:.2f` per step even at "0.95 ×".
