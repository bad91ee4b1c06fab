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
# # Y3 · Predicting noise robustness from a single pass
#
# **The result.** To learn how badly Gaussian input noise degrades a classifier one normally corrupts every test
# input many times and counts the mistakes. Yasuda and co-authors derived a perturbative shortcut that predicts the
# misclassification rate under input noise without the noisy copies, and found it much faster than the Monte
# Carlo test on MNIST {cite}`yasuda2019noise`; the grant report lists it as its third result {cite}`report000`.
#
# **What we do.** We derive a first-order estimator, train eight multilayer perceptrons of different robustness
# on scikit-learn's 8x8 digits (the bundled stand-in for MNIST, which cannot be downloaded here), and compare the
# estimate with a Monte Carlo reference over noise levels from harmless to destructive. Two questions decide the
# claim: is the estimate accurate and does it rank the networks right, and is it faster than a Monte Carlo test
# *of the same accuracy*?
#
# **What is ours.** Only the paper's abstract could be read (its bibliographic record; we searched for the full
# text by title, authors and phrases without success). It says the method is a perturbative approximation, the
# target is the misclassification rate under artificial noise, and the test set is MNIST. The estimators below,
# the networks and the equal-error comparison are ours; the joint-Gaussian estimator is close to the one of Han,
# Srinivas and Lakkaraju {cite}`han2024characterizing`.

# %% tags=["parameters"]
seed = 0
sigmas = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8]  # noise standard deviations (pixels are in [0, 1])
n_samples = 500  # Monte Carlo noisy copies of each test point per noise level (the reference)
n_draws = 1000  # Gaussian draws in margin space for the joint estimate
epochs = 300  # full-batch Adam epochs per network
control_step = 0.25  # the control network rounds its hidden activations to multiples of this
device = "cpu"

# %%
import time

import torch
from scipy.stats import spearmanr

from dltheory import data, nets, plotting, repro, robustness

session = repro.setup(seed, device=device)

# %% [markdown]
# ## The estimators
#
# Let $f(x) \in \mathbb{R}^{10}$ be the logits at a clean test point $x$ of class $y$ and
# $\varepsilon \sim \mathcal{N}(0, \sigma^2 I)$. The point stays correctly classified while every margin
# $\mu_k(x) = f_y(x) - f_k(x)$, $k \ne y$, stays positive. To first order in $\varepsilon$,
#
# $$
# \mu_k(x + \varepsilon) \approx \mu_k(x) + g_k^\top \varepsilon, \qquad g_k = \nabla_x \mu_k(x),
# $$
#
# so the noisy margins are jointly Gaussian with means $\mu_k$ and covariance $\sigma^2 G G^\top$ ($G$ has rows
# $g_k^\top$). Neglecting their correlations gives a closed form, the *product* estimator,
#
# $$
# P(\text{correct} \mid x) \approx \prod_{k \ne y} \Phi\!\left(\frac{\mu_k(x)}{\sigma \lVert g_k \rVert}\right),
# \qquad \widehat{\mathrm{MCR}}(\sigma) = 1 - \frac{1}{N} \sum_{n} P(\text{correct} \mid x_n),
# $$
#
# which is the one `CLAIMS.md` suggests. The margins all contain $f_y$, so they are positively correlated, and by
# Slepian's inequality the product *overstates* the error rate. The *joint* estimator keeps the correlation: the
# 9-dimensional Gaussian orthant probability is integrated with `n_draws` fixed standard-normal draws in margin
# space. Both need one forward pass and one Jacobian per test point, and then serve every noise level.

# %% [markdown]
# ## Eight networks of different robustness, and a control
#
# Widths, depths, weight decay and noise augmentation differ, so that their robustness differs. The control
# network is the first one with its hidden activations rounded to multiples of `control_step`: it classifies
# almost as well, but its outputs are piecewise constant, so its margins are as far from linear as can be and
# their gradients vanish. A first-order estimate sees no noise at all there; the check must fail on it.

# %%
split = data.digits(seed=seed, device=session.device)
configs = {
    "narrow 16": dict(sizes=[64, 16, 10]),
    "small 32": dict(sizes=[64, 32, 10]),
    "deep 32x3": dict(sizes=[64, 32, 32, 32, 10]),
    "wide 128x2": dict(sizes=[64, 128, 128, 10]),
    "wide + decay": dict(sizes=[64, 128, 128, 10], weight_decay=1e-3),
    "64 + strong decay": dict(sizes=[64, 64, 10], weight_decay=1e-2),
    "noise-trained 0.1": dict(sizes=[64, 64, 10], input_noise=0.1),
    "noise-trained 0.3": dict(sizes=[64, 64, 10], input_noise=0.3),
}
models = {}
for name, cfg in configs.items():
    model = nets.mlp(cfg["sizes"], generator=session.generator)
    nets.train_classifier(model, split.x_train, split.y_train, epochs=epochs, lr=1e-2,
                          weight_decay=cfg.get("weight_decay", 0.0), input_noise=cfg.get("input_noise", 0.0),
                          generator=session.generator)
    models[name] = model
models["control: staircase"] = robustness.staircase(models["narrow 16"], control_step)
for name, model in models.items():
    print(f"{name:>18}: clean test accuracy {nets.accuracy(model, split.x_test, split.y_test):.3f}")

# %% [markdown]
# ## Estimates and reference, timed on the same machine

# %%
sig = torch.tensor(sigmas, device=session.device)
est = {k: {} for k in ("product", "joint", "mc", "mc_se")}
seconds = {k: {} for k in ("margins", "product", "joint", "mc")}
for name, model in models.items():
    t0 = time.perf_counter()
    m = robustness.margins(model, split.x_test, split.y_test)
    t1 = time.perf_counter()
    est["product"][name] = robustness.predicted_error_rate(m, sig)
    t2 = time.perf_counter()
    est["joint"][name], _ = robustness.predicted_error_rate_joint(m, sig, n_draws=n_draws, generator=session.generator)
    t3 = time.perf_counter()
    est["mc"][name], est["mc_se"][name] = robustness.monte_carlo_error_rate(
        model, split.x_test, split.y_test, sig, n_samples=n_samples, generator=session.generator)
    seconds["margins"][name], seconds["product"][name] = t1 - t0, t2 - t1
    seconds["joint"][name], seconds["mc"][name] = t3 - t2, time.perf_counter() - t3
print(f"largest Monte Carlo standard error: {max(v.max().item() for v in est['mc_se'].values()):.4f}")

# %% [markdown]
# ## Error rate against noise level
#
# Markers: the Monte Carlo reference (error bars: two standard errors, mostly smaller than the markers). Solid
# lines: the joint estimate; dotted: the product formula. The control network is drawn in black.

# %%
fig, axes = plotting.subplots(1, 2, width=8.5, height=3.6)
for i, name in enumerate(models):
    color = "k" if name.startswith("control") else plotting.COLORS[i % len(plotting.COLORS)]
    axes[0].errorbar(sigmas, est["mc"][name], yerr=2 * est["mc_se"][name], fmt="o", ms=3, color=color, label=name)
    axes[0].plot(sigmas, est["joint"][name], "-", color=color, lw=1)
    axes[0].plot(sigmas, est["product"][name], ":", color=color, lw=1)
    axes[1].plot(est["mc"][name], est["joint"][name], "o", ms=3, color=color)
    axes[1].plot(est["mc"][name], est["product"][name], "x", ms=3, color=color)
axes[0].set(xscale="log", xlabel=r"noise level $\sigma$", ylabel="misclassification rate")
axes[0].minorticks_off()
axes[0].set_xticks(sigmas, labels=[f"{s:g}" for s in sigmas])
axes[0].legend(fontsize=6, ncol=2)
axes[1].plot([0, 1], [0, 1], "k:", lw=1)
axes[1].set(xlabel="Monte Carlo rate", ylabel="estimate (o joint, x product)", xlim=(0, 0.9), ylim=(0, 0.9))
plotting.plt.show()

# %% [markdown]
# *What to see:* left, each ordinary network's estimated curves follow its Monte Carlo points closely up to
# $\sigma \approx 0.1$; beyond, the product formula (dotted) rises above the truth and the joint estimate (solid)
# falls below it. The control network's estimates (black) stay at its clean error rate at every noise level.
# Right, the points hug the diagonal at low error and fan out at high noise, crosses above and circles below.
#
# ## What a Monte Carlo test of the same accuracy costs
#
# The estimators' error is a bias, the price of the linearisation, and does not shrink with more computation. A
# fair comparison of cost therefore gives Monte Carlo just enough noisy copies to be as accurate. We take an
# estimator's accuracy on a network to be its largest absolute error over $\sigma \le 0.1$, the regime and the
# worst-case sense in which the criterion states accuracy; Monte Carlo's standard error falls as
# $1/\sqrt{\text{copies}}$, so the reference run (500 copies per level) tells how many copies give that standard
# error at each level, and how long they take.

# %%
names = [n for n in models if not n.startswith("control")]
low = sig <= 0.1


def equal_error_speedup(est, seconds, kind, names, low, n_samples):
    """Time of Monte Carlo tests as accurate as the estimator (its worst error at sigma <= 0.1) over its own."""
    mc_time = est_time = 0.0
    for name in names:
        error = (est[kind][name] - est["mc"][name]).abs()[low].max().expand(int(low.sum()))
        copies = robustness.copies_for_error(est["mc_se"][name][low], n_samples, error)
        mc_time += seconds["mc"][name] / (n_samples * len(low)) * copies.sum().item()
        est_time += seconds["margins"][name] + seconds[kind][name]
    return mc_time / est_time, mc_time, est_time


speedups = {kind: equal_error_speedup(est, seconds, kind, names, low, n_samples) for kind in ("product", "joint")}
reference_speedup = {kind: sum(seconds["mc"][n] for n in names) / sum(seconds["margins"][n] + seconds[kind][n]
                                                                      for n in names) for kind in ("product", "joint")}
for kind, (_, mc_time, est_time) in speedups.items():
    print(f"{kind:>8}: estimator {est_time:.3f} s; Monte Carlo of equal error {mc_time:.3f} s")

# %% [markdown]
# ## The check and its control
#
# From `CLAIMS.md`: Spearman rank correlation between estimate and Monte Carlo over all (network, noise level) pairs
# at least 0.95; absolute error at most 0.01 wherever $\sigma \le 0.1$; a measured speed-up of at least 3x over the
# Monte Carlo test (the 500-copy reference). That last bar is easy, because the reference is far more accurate than
# the estimate; the fair comparison is with a Monte Carlo test of *equal* error, which we report. It lands near the
# bar and, being a ratio of timings, moves with the machine's load from run to run, so we do not count the speed
# part as reproduced: the status is at most `partially reproduced`. The pooled Spearman is dominated by the noise
# level, so it hardly can fail; beside it, a stronger check: at every noise level $\sigma \le 0.1$, the estimate
# orders every pair of networks that the reference can resolve (rates more than two combined standard errors apart)
# as the reference does. At larger noise we count the pairs it misorders and report them. Each estimator is graded
# separately. Two controls must fail the accuracy check: the staircase network, and the eight networks at noise
# levels $\sigma \ge 0.2$, where the expansion is known to break.

# %%
def misordered(est, kind, names, levels):
    """Pairs of networks the estimate orders against the reference, summed over the noise levels ``levels``."""
    e = torch.stack([est[kind][n] for n in names])  # (M, S)
    mc, se = torch.stack([est["mc"][n] for n in names]), torch.stack([est["mc_se"][n] for n in names])
    return sum(robustness.misordered_pairs(e[:, s], mc[:, s], se[:, s]) for s in levels)


def check(est, kind, names, low, speedup):
    """CLAIMS.md's criterion, and the per-level ranking, for the estimator ``kind`` on the networks ``names``."""
    e = torch.stack([est[kind][n] for n in names])  # (M, S)
    mc = torch.stack([est["mc"][n] for n in names])
    return {f"{kind}_rank_correlation": bool(spearmanr(e.ravel(), mc.ravel()).statistic >= 0.95),
            f"{kind}_accurate_at_low_noise": bool((e - mc).abs()[:, low].max() <= 0.01),
            f"{kind}_ranks_networks_per_level": misordered(est, kind, names, torch.nonzero(low)[:, 0].tolist()) == 0,
            f"{kind}_faster_than_reference": bool(speedup >= 3)}


def worst(est, kind, names, levels):
    """The largest absolute error of estimator ``kind`` on networks ``names`` at the noise levels ``levels``."""
    return max((est[kind][n] - est["mc"][n]).abs()[levels].max().item() for n in names)


checks = {**check(est, "product", names, low, reference_speedup["product"]),
          **check(est, "joint", names, low, reference_speedup["joint"])}
control = {"joint_accurate_at_low_noise": worst(est, "joint", ["control: staircase"], low) <= 0.01}
high = torch.nonzero(~low)[:, 0].tolist()
# a second control: the same accuracy bar at large noise, where the linearisation must fail on every network
high_noise = {"joint_accurate": worst(est, "joint", names, ~low) <= 0.01}
print(checks, control, high_noise, sep="\n")

# %%
# The speed-up that matters is the one at equal error, and it sits at the 3x bar and moves with the machine's load
# (it is a ratio of timings): we do not count it as reproduced, whatever this run's figures say.
status = "partially reproduced" if all(checks.values()) else repro.grade(checks)
repro.record_claim(
    "Y3",
    title="A single pass predicts the misclassification rate under Gaussian input noise",
    status=status,
    criterion="per estimator (product, joint): Spearman >= 0.95 over networks x noise levels; |error| <= 0.01 for "
              "sigma <= 0.1; speed-up >= 3x over the Monte Carlo test; stronger: every pair of networks the "
              "reference resolves is ordered right at every noise level; the speed-up over a Monte Carlo test of "
              "equal error is reported, not counted (a timing at the bar)",
    checks=checks,
    measured={
        "product_spearman": spearmanr(torch.stack([est["product"][n] for n in names]).ravel(),
                                      torch.stack([est["mc"][n] for n in names]).ravel()).statistic,
        "joint_spearman": spearmanr(torch.stack([est["joint"][n] for n in names]).ravel(),
                                    torch.stack([est["mc"][n] for n in names]).ravel()).statistic,
        "product_max_error_low_noise": repro.measure(worst(est, "product", names, low), tol=0.003,
                                                     basis="about 3 reference standard errors"),
        "joint_max_error_low_noise": repro.measure(worst(est, "joint", names, low), tol=0.003,
                                                   basis="about 3 reference standard errors"),
        "joint_max_error_all_noise": repro.measure(worst(est, "joint", names, slice(None)), tol=0.02,
                                                   basis="spread over networks at large noise"),
        "product_speedup_equal_error": speedups["product"][0],
        "joint_speedup_equal_error": speedups["joint"][0],
        "joint_speedup_vs_reference": reference_speedup["joint"],
        "product_speedup_vs_reference": reference_speedup["product"],
        "product_misordered_pairs_high_noise": misordered(est, "product", names, high),
        "joint_misordered_pairs_high_noise": misordered(est, "joint", names, high),
        "n_networks": len(names),
    },
    controls={"staircase": repro.control("a network whose hidden activations are rounded: flat margins", control,
                                         {"max_error_low_noise": worst(est, "joint", ["control: staircase"], low)}),
              "high_noise": repro.control("the accuracy bar at sigma >= 0.2 on the eight networks", high_noise,
                                          {"max_error": worst(est, "joint", names, ~low)})},
)
assert checks["product_rank_correlation"] and checks["joint_rank_correlation"], checks
assert checks["joint_accurate_at_low_noise"] and checks["joint_ranks_networks_per_level"], checks
assert not all(control.values()), "the control network passed the accuracy check"
assert not all(high_noise.values()), "the estimate met the accuracy bar at large noise"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. The checks that hold and fail are listed in the record above; in words:
#
# - **Ranking.** Both estimators rank (network, noise level) pairs like the Monte Carlo test (Spearman
#   {glue:text}`product_spearman:.4f` for the product, {glue:text}`joint_spearman:.4f` for the joint estimate), and
#   the per-level check shows this is not just the noise level speaking: for $\sigma \le 0.1$ the estimates order
#   the networks as the reference does wherever it can tell them apart. At larger noise they misorder
#   {glue:text}`product_misordered_pairs_high_noise` (product) and {glue:text}`joint_misordered_pairs_high_noise`
#   (joint) resolved pairs over the four levels $\sigma \ge 0.2$.
# - **Accuracy at small noise.** For $\sigma \le 0.1$ the worst error is
#   {glue:text}`product_max_error_low_noise:.4f` for the product formula of `CLAIMS.md` and
#   {glue:text}`joint_max_error_low_noise:.4f` for the joint estimate, against a tolerance of 0.01. Treating the
#   correlated margins as independent overstates the error whenever two classes compete for a point, which is
#   why the joint estimate is the closer of the two. At large noise the joint estimate is off by up to
#   {glue:text}`joint_max_error_all_noise:.3f`, because the first-order expansion misses how the ReLU network
#   bends: run at $\sigma \ge 0.2$, the same accuracy bar fails (our second control, worst error
#   {glue:text}`high_noise.max_error:.3f`). The control network, whose rounded activations leave it flat between
#   steps, fails the accuracy check
#   (error {glue:text}`staircase.max_error_low_noise:.3f`): the check can fail, and it fails where the
#   linearisation is wrong.
# - **Speed.** Against the 500-copy reference the joint estimate is {glue:md}`joint_speedup_vs_reference` faster
#   and the product formula {glue:md}`product_speedup_vs_reference`, but that reference is far more accurate than
#   the estimate. Against a Monte Carlo test *as accurate as the
#   estimate*, the speed-up is {glue:md}`product_speedup_equal_error` for the product formula and
#   {glue:md}`joint_speedup_equal_error` for the joint estimate, against the 3x bar. The estimator's error is a
#   bias of a few thousandths, and a Monte Carlo test reaches that accuracy with a handful of copies per point; on
#   our small networks a noisy forward pass costs almost nothing, so those copies are cheap next to a Jacobian.
#   These ratios are timings: they move with the machine and its load, and `verify` does not compare them.
#
# On our scale, then, the single-pass test predicts and ranks noise robustness well (reproduced), but its speed
# advantage over an equally accurate Monte Carlo test is thin, of the order of the bar itself (not established).
# The balance would shift towards
# the estimate for larger networks, where a noisy pass costs more, and away from it for target errors below its
# bias. The paper's MNIST networks are not available to us, and we cannot say which side of that balance they
# were on. The data are 8x8 digits rather than MNIST, and the networks small MLPs.
