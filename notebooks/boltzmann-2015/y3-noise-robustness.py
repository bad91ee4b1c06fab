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
# **What we do.** We derive a first-order estimator, train sixteen multilayer perceptrons of different robustness
# (eight configurations, two replicas each) on scikit-learn's 8x8 digits (the bundled stand-in for MNIST, which
# cannot be downloaded here), and compare the estimate with a Monte Carlo reference over noise levels from harmless
# to destructive. Two questions decide the claim: is the estimate accurate and does it rank the networks right, and
# is it faster than a Monte Carlo test *of the same accuracy*?
#
# **What is ours.** Only the paper's abstract could be read (its bibliographic record; we searched for the full
# text by title, authors and phrases without success). It says the method is a perturbative approximation, the
# target is the misclassification rate under artificial noise, and the test set is MNIST. The estimators below,
# the networks, the equal-error comparison and the controls (diagonal moment propagation among them) are ours; the
# joint-Gaussian estimator is close to the one of Han, Srinivas and Lakkaraju {cite}`han2024characterizing`.

# %% tags=["parameters"]
seed = 0
sigmas = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8]  # noise standard deviations (pixels are in [0, 1])
n_samples = 400  # Monte Carlo noisy copies of each test point per noise level (the reference)
n_draws = 1000  # Gaussian draws in margin space for the joint estimate
epochs = 300  # full-batch Adam epochs per network
replicas = 2  # networks per configuration, each from its own random stream
control_step = 0.25  # the staircase control rounds its hidden activations to multiples of this
device = "cpu"

# %%
import time

import numpy as np
import torch
from scipy.stats import spearmanr

from dltheory import data, nets, noise, plotting, repro

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
# which is the one the [catalogue](../catalogue.md) suggests. The margins all contain $f_y$, so they are mostly
# positively correlated, and then (Slepian's inequality) the product *overstates* the error rate. The *joint*
# estimator keeps the correlation: the 9-dimensional Gaussian orthant probability is integrated with `n_draws` fixed
# standard-normal draws in margin space. Both need one forward pass and one Jacobian per test point, and then serve
# every noise level.
#
# **A rival without the Jacobian** (our near-miss control): propagate the mean and the variance of every unit
# through the layers as if the units of a layer were independent Gaussians (diagonal moment matching: the exact
# mean and variance of $\mathrm{relu}(z)$ for Gaussian $z$, then $W$ acting on means and $W^{\circ 2}$ on
# variances), and treat the ten logits as independent Gaussians at the end. It is cheap, exact for a linear model
# whose rows are orthogonal, and plausible; but it drops the correlations that one noise vector induces between all
# the units of a layer. A *zero-order* predictor, the clean error rate at every noise level, is kept as a far
# illustration.

# %% [markdown]
# ## Sixteen networks of different robustness, and a staircase
#
# Eight configurations differ in width, depth, weight decay and noise augmentation, so that their robustness
# differs; each is trained `replicas` times from its own random stream, so that the worst-case figures below are
# taken over a population of networks, not over one draw of each. The staircase network is the first narrow
# network with its hidden activations rounded to multiples of `control_step`: it classifies almost as well, but its
# outputs are piecewise constant, so its margins' gradients vanish and a first-order estimate sees no noise at all.

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
    for r in range(replicas):
        g = session.generator_for(f"network {name}", r)
        model = nets.mlp(cfg["sizes"], generator=g)
        nets.train_classifier(model, split.x_train, split.y_train, epochs=epochs, lr=1e-2, generator=g,
                              weight_decay=cfg.get("weight_decay", 0.0), input_noise=cfg.get("input_noise", 0.0))
        models[f"{name} #{r}"] = model
models["staircase"] = noise.staircase(models["narrow 16 #0"], control_step)
accuracy = {name: nets.accuracy(model, split.x_test, split.y_test) for name, model in models.items()}
print("clean test accuracy:", {k: round(v, 3) for k, v in accuracy.items()})

# %% [markdown]
# ## Estimates and reference, timed on the same machine
#
# Every estimate is also taken at $\sigma = 10^{-6}$, where each must give the clean error rate exactly (a sanity
# check of the code: the limit holds by construction); the Monte Carlo reference is run at the levels `sigmas`
# only (its value at $\sigma \to 0$ is the clean error rate).

# %%
def estimate(model, x, y, sig, *, n_samples, n_draws, generator):
    """Every estimate of one network's error rates at noise levels ``sig`` (S,), as numpy arrays, and its time."""
    rates, secs = {}, {}
    t0 = time.perf_counter()
    m = noise.margins(model, x, y)
    secs["margins"], t0 = time.perf_counter() - t0, time.perf_counter()
    rates["product"] = noise.predicted_error_rate(m, sig)
    secs["product"], t0 = time.perf_counter() - t0, time.perf_counter()
    rates["joint"] = noise.predicted_error_rate_joint(m, sig, n_draws=n_draws, generator=generator)[0]
    secs["joint"], t0 = time.perf_counter() - t0, time.perf_counter()
    if not any(isinstance(layer, noise.Staircase) for layer in model):
        rates["moments"] = noise.predicted_error_rate_moments(model, x, y, sig)
    secs["moments"], t0 = time.perf_counter() - t0, time.perf_counter()
    mc, se = noise.monte_carlo_error_rate(model, x, y, sig[1:], n_samples=n_samples, generator=generator)
    secs["mc"] = time.perf_counter() - t0
    rates["zero"] = noise.clean_error_rate(m).expand(len(sig))
    rates["mc"], rates["mc_se"] = torch.cat([rates["zero"][:1].to(mc.dtype), mc]), torch.cat([0 * se[:1], se])
    return {k: repro.to_numpy(v).astype(float) for k, v in rates.items()}, secs

# %%
sig = torch.tensor([1e-6, *sigmas], device=session.device)  # the first level checks the clean limit
est, seconds = {}, {}
for name, model in models.items():
    est[name], seconds[name] = estimate(model, split.x_test, split.y_test, sig, n_samples=n_samples,
                                        n_draws=n_draws, generator=session.generator)
print(f"largest Monte Carlo standard error: {max(e['mc_se'][1:].max() for e in est.values()):.4f}")
print("time per network:", ", ".join(f"{k} {float(np.mean([s[k] for s in seconds.values()])):.3g} s"
                                     for k in ("margins", "product", "joint", "moments", "mc")))

# %% [markdown]
# ## Error rate against noise level
#
# Markers: the Monte Carlo reference (error bars: two standard errors, mostly smaller than the markers). Solid
# lines: the joint estimate; dotted: the product formula; dashed: diagonal moments. One colour per configuration
# (both replicas); the staircase network in black.

# %%
fig, axes = plotting.subplots(1, 2, width=8.5, height=3.6)
for name, e in est.items():
    config = name.split(" #")[0]
    color = "k" if name == "staircase" else plotting.COLORS[list(configs).index(config) % len(plotting.COLORS)]
    label = config if name.endswith("#0") or name == "staircase" else None
    axes[0].errorbar(sigmas, e["mc"][1:], yerr=2 * e["mc_se"][1:], fmt="o", ms=2.5, color=color, label=label)
    axes[0].plot(sigmas, e["joint"][1:], "-", color=color, lw=0.8)
    axes[0].plot(sigmas, e["product"][1:], ":", color=color, lw=0.8)
    if "moments" in e:
        axes[0].plot(sigmas, e["moments"][1:], "--", color=color, lw=0.6)
        axes[1].plot(e["mc"][1:], e["moments"][1:], "s", ms=2, color=color, alpha=0.5)
    axes[1].plot(e["mc"][1:], e["joint"][1:], "o", ms=2.5, color=color)
    axes[1].plot(e["mc"][1:], e["product"][1:], "x", ms=2.5, color=color)
axes[0].set(xscale="log", xlabel=r"noise level $\sigma$", ylabel="misclassification rate")
axes[0].minorticks_off()
axes[0].set_xticks(sigmas, labels=[f"{s:g}" for s in sigmas])
axes[0].legend(fontsize=6, ncol=2)
axes[1].plot([0, 1], [0, 1], "k:", lw=1)
axes[1].set(xlabel="Monte Carlo rate", ylabel="estimate (o joint, x product, s moments)", xlim=(0, 0.9),
            ylim=(0, 0.9))
plotting.plt.show()

# %% [markdown]
# *What to see:* left, each ordinary network's estimated curves follow its Monte Carlo points closely up to
# $\sigma \approx 0.1$; beyond, the product formula (dotted) rises above the truth and the joint estimate (solid)
# falls below it. The diagonal-moment curves (dashed) stray from the points on several networks already at small
# noise. The staircase network's estimates (black) stay at its clean error rate. Right, the joint and
# product estimates hug the diagonal at low error and fan out at high noise; the moment estimates (squares)
# scatter about it.
#
# ## What a Monte Carlo test of the same accuracy costs
#
# The estimators' error is a bias, the price of the linearisation, and does not shrink with more computation. A
# fair comparison of cost therefore gives Monte Carlo just enough noisy copies to be as accurate. We take an
# estimator's accuracy on a network to be its largest absolute error over $\sigma \le 0.1$, the regime and the
# worst-case sense in which the criterion states accuracy; Monte Carlo's standard error falls as
# $1/\sqrt{\text{copies}}$, so the reference run (`n_samples` copies per level) tells how many copies give that
# standard error at each level, and how long they take. We compute the ratio over all networks and, for its
# spread, over each replica's eight networks separately.

# %%
def equal_error_speedup(est, seconds, kind, names, low, n_samples):
    """Time of Monte Carlo tests as accurate as estimator ``kind`` (its worst error at the levels ``low`` on each
    network) over the estimator's own time, summed over the networks ``names``."""
    mc_time = est_time = 0.0
    for name in names:
        e = est[name]
        error = torch.full((int(low.sum()),), float(np.abs(e[kind] - e["mc"])[low].max()))
        copies = noise.copies_for_error(torch.as_tensor(e["mc_se"][low]), n_samples, error)
        mc_time += seconds[name]["mc"] / (n_samples * (len(low) - 1)) * float(copies.sum())  # per copy and level
        est_time += seconds[name]["margins"] + seconds[name][kind]
    return mc_time / est_time


levels = np.array([False, *[s <= 0.1 for s in sigmas]])  # sigma <= 0.1, without the 1e-6 sanity level
high = np.array([False, *[s > 0.1 for s in sigmas]])
names = [n for n in models if n != "staircase"]
by_replica = [[n for n in names if n.endswith(f"#{r}")] for r in range(replicas)]
equal = {kind: (equal_error_speedup(est, seconds, kind, names, levels, n_samples),
                [equal_error_speedup(est, seconds, kind, group, levels, n_samples) for group in by_replica])
         for kind in ("product", "joint")}
for kind, (pooled, per) in equal.items():
    print(f"{kind:>8}: speed-up over a Monte Carlo test of equal error {pooled:.2f}-fold (per replica "
          + ", ".join(f"{p:.2f}-fold" for p in per) + ")")

# %% [markdown]
# ## The check and its controls
#
# From the [catalogue](../catalogue.md), for each estimator on the sixteen networks: Spearman rank correlation between
# estimate and Monte Carlo over all (network, noise level) pairs at least 0.95; absolute error at most 0.01 wherever
# $\sigma \le 0.1$ (the worst network and level); a measured speed-up of at least 3x over the Monte Carlo test
# (the `n_samples`-copy reference). Beside them, a stronger check: at every noise level $\sigma \le 0.1$ the
# estimate orders every pair of networks that the reference can resolve (rates more than two combined standard
# errors apart) as the reference does, counted as misordered pairs (0 allowed). The rank correlation, the error
# and the ordering are **evidence**. The **sanity** checks are the clean limit (at $\sigma = 10^{-6}$ each estimate
# equals the clean error rate) and the 3x bar against the reference: any single-pass estimator clears it, right or
# wrong (the zero-order and staircase controls clear it too), so it cannot grade the claim.
#
# **What is not graded.** The 3x bar against the reference is easy, because the reference is far more accurate
# than the estimate; the fair comparison is with a Monte Carlo test of *equal* error. That ratio sits at the bar
# and, being a ratio of timings on a shared machine, moves between replicas and seeds (over seeds 0 to 3 of the
# previous version of this page it ranged from 1.2x to 4.0x), by more than its distance from the bar: we report it
# and do not grade it, and the status is capped at `partially reproduced` for that part of the claim.
#
# **Controls**, through the same check function. Near misses: the *diagonal-moment* estimator on the same networks
# (a plausible cheap rival that passes the sanity check), and the joint estimate judged at $\sigma \ge 0.2$, where
# the expansion is known to break. Far illustrations: the *zero-order* predictor, and the joint estimate with one
# network replaced by its staircase.

# %%
def check(est, kind, names, levels, seconds):
    """The catalogue's criterion (evidence) and the clean limit (sanity) for estimator ``kind`` on networks ``names``
    at the noise levels ``levels`` (a boolean mask over the columns, the first being sigma = 1e-6)."""
    e = np.stack([est[n][kind][1:] for n in names])  # (M, S)
    mc, se = np.stack([est[n]["mc"][1:] for n in names]), np.stack([est[n]["mc_se"][1:] for n in names])
    at = np.flatnonzero(levels[1:])
    wrong = sum(noise.misordered_pairs(torch.as_tensor(e[:, s]), torch.as_tensor(mc[:, s]),
                                            torch.as_tensor(se[:, s])) for s in at)
    cost = {"product": ("margins", "product"), "joint": ("margins", "joint"), "moments": ("moments",),
            "zero": ("margins",)}[kind]  # what the estimator has to compute
    speed = sum(seconds[n]["mc"] for n in names) / sum(seconds[n][part] for n in names for part in cost)
    limit = max(abs(est[n][kind][0] - est[n]["zero"][0]) for n in names)
    return {"rank_correlation": repro.evidence(spearmanr(e.ravel(), mc.ravel()).statistic, ">=", 0.95),
            "max_error_low_noise": repro.evidence(np.abs(e - mc)[:, at].max(), "<=", 0.01),
            "misordered_pairs_per_level": repro.evidence(wrong, "<=", 0, scale=1),
            # any single pass clears it, right or wrong (the zero-order control does): sanity, not evidence
            "speedup_vs_reference": repro.sanity(speed, ">=", 3),
            "clean_limit": repro.sanity(limit, "<=", 1e-6)}  # float32 rounding of a mean over the test points


checks = {f"{kind}_{k}": c for kind in ("product", "joint")
          for k, c in check(est, kind, names, levels, seconds).items()}
staircase_names = ["staircase" if n == "narrow 16 #0" else n for n in names]
control_checks = {"diagonal_moments": check(est, "moments", names, levels, seconds),
                  "high_noise": check(est, "joint", names, high, seconds),
                  "zero_order": check(est, "zero", names, levels, seconds),
                  "staircase": check(est, "joint", staircase_names, levels, seconds)}
for name, cc in {"page": checks, **control_checks}.items():
    print(name, {k: f"{c.value:.4g}{'-fold' if 'speedup' in k else ''} {'holds' if c.passed else 'fails'}"
                 for k, c in cc.items()})

# %%
verdict = repro.grade(checks, cap="partially reproduced",
                      reason="the speed-up over a Monte Carlo test of equal error, the paper's point, is a timing "
                             "and so reported, not graded; the product formula's stays below the 3x bar in most "
                             "replicas and the joint estimate's falls below it in some replicas and seeds")
figures = {k: c.value for k, c in checks.items() if not k.endswith(("speedup_vs_reference", "clean_limit"))}
measured = {
    **figures,
    "product_max_error_low_noise": repro.measure(figures["product_max_error_low_noise"], tol=0.003,
                                                 basis="about 3 reference standard errors"),
    "joint_max_error_low_noise": repro.measure(figures["joint_max_error_low_noise"], tol=0.003,
                                               basis="about 3 reference standard errors"),
    "joint_max_error_all_noise": repro.measure(max(np.abs(est[n]["joint"] - est[n]["mc"])[1:].max() for n in names),
                                               tol=0.02, basis="spread over networks at large noise"),
    "product_speedup_vs_reference": checks["product_speedup_vs_reference"].value,
    "joint_speedup_vs_reference": checks["joint_speedup_vs_reference"].value,
    **{f"{kind}_speedup_equal_error": pooled for kind, (pooled, _) in equal.items()},
    **{f"{kind}_speedup_equal_error_min": min(per) for kind, (_, per) in equal.items()},
    **{f"{kind}_speedup_equal_error_max": max(per) for kind, (_, per) in equal.items()},
    "product_misordered_pairs_high_noise": check(est, "product", names, high,
                                                 seconds)["misordered_pairs_per_level"].value,
    "joint_misordered_pairs_high_noise": control_checks["high_noise"]["misordered_pairs_per_level"].value,
    "n_networks": len(names), "n_replicas": replicas,
}
mc_low = [np.array([est[n][k][1:] for n in names]) for k in ("mc", "mc_se")]  # (M, S) each
measured["resolved_pairs_low_noise"] = sum(  # a negated estimate misorders every resolved pair
    noise.misordered_pairs(torch.as_tensor(-mc_low[0][:, s]), torch.as_tensor(mc_low[0][:, s]),
                                torch.as_tensor(mc_low[1][:, s])) for s in np.flatnonzero(levels[1:]))
repro.glue("product_accuracy_words", "meets" if checks["product_max_error_low_noise"].passed else "misses")

# %%
what = {"diagonal_moments": ("diagonal moment propagation on the same networks", "near miss"),
        "high_noise": ("the joint estimate judged at sigma >= 0.2, where the expansion breaks", "near miss"),
        "zero_order": ("the clean error rate at every noise level", "far"),
        "staircase": ("the joint estimate with one network replaced by its staircase", "far")}
controls = {name: repro.control(text, control_checks[name],
                                {k: control_checks[name][k].value for k in ("rank_correlation", "max_error_low_noise")},
                                kind=kind) for name, (text, kind) in what.items()}
repro.record_claim(
    "Y3",
    title="A single pass predicts the misclassification rate under Gaussian input noise",
    status=verdict,
    criterion="per estimator (product, joint) on 8 configurations x replicas of trained MLPs: Spearman >= 0.95 "
              "over networks x noise levels; |error| <= 0.01 for sigma <= 0.1 (worst network and level); speed-up "
              ">= 3x over the Monte Carlo reference; stronger: no resolved pair of networks misordered at any "
              "sigma <= 0.1; the speed-up over a Monte Carlo test of equal error is reported, not graded (capped)",
    checks=checks,
    measured=measured,
    controls=controls,
)
# what the verdict rests on: the sanity checks, both rank correlations, the joint estimate's accuracy, and the near
# misses failing the evidence while passing the sanity checks
assert all(c.passed for c in checks.values() if c.kind == "sanity"), checks
assert all(checks[k].passed for k in ("product_rank_correlation", "joint_rank_correlation",
                                      "joint_max_error_low_noise")), checks
assert all(not controls[n].passed_check and controls[n].sanity_passed for n in ("diagonal_moments", "high_noise"))

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. Every check, with its value, threshold and margin, is in the record printed above;
# in words:
#
# - **Ranking.** Both estimators rank (network, noise level) pairs like the Monte Carlo test (Spearman
#   {glue:text}`product_rank_correlation:.4f` for the product, {glue:text}`joint_rank_correlation:.4f` for the
#   joint estimate, over {glue:text}`n_networks` networks), but that figure is carried by the noise level. The
#   stronger per-level check asks more: of the {glue:text}`resolved_pairs_low_noise` (pair, level) cases with
#   $\sigma \le 0.1$ that the reference resolves, the product formula misorders
#   {glue:text}`product_misordered_pairs_per_level` and the joint estimate
#   {glue:text}`joint_misordered_pairs_per_level`. An estimate with a bias of a few thousandths cannot order networks
#   whose rates differ by less than that, and with two replicas of each configuration such close pairs are common;
#   in the earlier version of this page (one network per configuration) the check already failed at one seed in
#   four for each estimator. At larger noise they misorder {glue:text}`product_misordered_pairs_high_noise`
#   (product) and {glue:text}`joint_misordered_pairs_high_noise` (joint) resolved cases over the four levels
#   $\sigma \ge 0.2$.
# - **Accuracy at small noise.** For $\sigma \le 0.1$ the worst error over the networks is
#   {glue:text}`product_max_error_low_noise:.4f` for the product formula of the [catalogue](../catalogue.md) and
#   {glue:text}`joint_max_error_low_noise:.4f` for the joint estimate, against a bar of 0.01: the product formula
#   {glue:md}`product_accuracy_words` the bar here. It is the fragile one: treating the correlated margins as
#   independent overstates the error wherever two classes compete for a point, and how much depends on the network. In
#   an earlier version of this page, with one network per configuration, its worst error was below the bar at seeds 0
#   and 3 but 0.021 and 0.014 at seeds 1 and 2; a worst case over eight networks is too small a sample to settle it,
#   which is why we now take it over {glue:text}`n_replicas` replicas of each configuration and grade what that gives.
#   At large noise the joint estimate is off by up to {glue:text}`joint_max_error_all_noise:.3f`, because the
#   first-order expansion misses how the ReLU network bends: judged at $\sigma \ge 0.2$ it fails the bar (near-miss
#   control `high_noise`).
# - **The near miss.** Diagonal moment propagation on the same networks passes the sanity check (it gives the
#   clean error in the limit) but not the evidence: Spearman {glue:text}`diagonal_moments.rank_correlation:.3f` and
#   worst low-noise error {glue:text}`diagonal_moments.max_error_low_noise:.3f`. Carrying only the variance of each
#   unit loses how one noise vector moves all units together, and that is most of what decides a margin. An
#   independent run on other networks and noise levels found a rank correlation near 0.59 for this estimator; we
#   did not rerun its setting. Pooled over (network, noise level) pairs, the correlation credits any estimate that
#   rises with $\sigma$, as this one does, so the worst error at small noise is the sharper of the two tests. The
#   zero-order predictor (Spearman {glue:text}`zero_order.rank_correlation:.3f`) and the staircase network (worst
#   error {glue:text}`staircase.max_error_low_noise:.3f`) fail too, as illustrations.
# - **Speed.** Against the Monte Carlo reference the joint estimate is faster by
#   {glue:md}`joint_speedup_vs_reference` and the product formula by {glue:md}`product_speedup_vs_reference`, but
#   that reference is far more accurate than the estimate.
#   Against a Monte Carlo test *as accurate as the estimate*, the speed-up is {glue:md}`product_speedup_equal_error`
#   for the product formula (replicas: {glue:md}`product_speedup_equal_error_min` to
#   {glue:md}`product_speedup_equal_error_max`) and {glue:md}`joint_speedup_equal_error` for the joint estimate
#   ({glue:md}`joint_speedup_equal_error_min` to {glue:md}`joint_speedup_equal_error_max`), against the 3x bar. The
#   product formula's bias of about a hundredth is matched by a Monte Carlo test with a handful of copies per point,
#   cheap next to a Jacobian on networks this small. The joint figure is dominated by whichever network the estimate
#   happens to fit best, where an equally accurate Monte Carlo test needs many copies, so it swings between
#   replicas; and every one of these ratios is a timing on a shared machine. They move by more than their distance
#   from the bar, so they are reported, not graded, and cap the status.
#
# On our scale, then, the single-pass test in its joint form predicts the error rate under small noise within the
# bar and ranks (network, noise level) pairs well, but it does not order networks of nearly equal robustness, and the
# product formula of the [catalogue](../catalogue.md) {glue:md}`product_accuracy_words` the accuracy bar by a few
# thousandths at most (worst error {glue:text}`product_max_error_low_noise:.4f` against 0.01; the robustness page
# gives it at other seeds). Whether it
# is worth its cost depends on the accuracy asked of the Monte Carlo test it replaces, and we could not establish a
# stable speed-up at equal accuracy. The balance would shift towards the estimate for larger networks, where a noisy
# pass costs more. The paper's MNIST networks are not available to us, and we cannot say which side of that balance
# they were on. The data are 8x8 digits rather than MNIST, and the networks small MLPs.
