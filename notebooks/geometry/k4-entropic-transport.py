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
# # K4 · Entropic transport is not a divergence; a corrected one gives sharp barycenters
#
# **The result.** Adding an entropy term to optimal transport makes it fast to compute (Sinkhorn's scaling
# {cite}`cuturi2013sinkhorn`) but spoils it as a way to compare distributions: the entropic cost $C_\lambda(p,q)$ of a
# histogram with itself is not zero, and its barycenters come out blurred. Amari, Karakida, Oizumi and Cuturi
# study this through information geometry and propose a corrected divergence that keeps Wasserstein-like properties
# such as translation invariance and gives sharper barycenters {cite}`amari2019regularized,amari2018entropy`; the
# report lists it as its fourth result {cite}`report003`.
#
# **What we do.** On a 1-D grid and on small 2-D images we compute $C_\lambda$, show that $q \mapsto C_\lambda(p, q)$
# is smallest at a blurred copy of $p$, build the corrected divergence, check that it is a divergence, and compare
# barycenters of Gaussians: exact (linear-programming, $W_2$), plain entropic (iterative Bregman projections
# {cite}`benamou2015iterative`), debiased {cite}`janati2020debiased`, and the corrected one. POT
# {cite}`flamary2021pot` runs beside ours on the same inputs.
#
# **What is ours.** Only the paper's abstract and introduction were available to us, not its derivations. From
# them we take the problem (that $C_\lambda$ fails as a divergence, that its minimiser is a blur, that a
# correction removes the blur). The closed form of the minimiser, the form of the corrected divergence below (1)–(3),
# and the barycenter algorithm (entropic barycenter, then un-blurring) are our derivations, built to have the stated
# properties; they may differ in detail from the paper's. All code is ours; POT is only a cross-check.

# %% tags=["parameters"]
seed = 0
n_grid = 200  # points of the 1-D grid on [0, 1]
reg = 2e-3  # lambda: entropic regularisation (kernel variance lambda / 2 for the squared distance)
regs = [1e-3, 2e-3, 4e-3]  # the 1-D barycenter figure
means = [0.3, 0.7]  # the two Gaussians whose barycenter we take
sds = [0.03, 0.05]
n_pairs = 8  # random histogram pairs for the divergence check
image = 16  # side of the 2-D images
device = "cpu"

# %%
import time
import warnings

import numpy as np
import ot

from dltheory import plotting, repro
from dltheory import transport as tp

session = repro.setup(seed, device=device)
x = np.linspace(0, 1, n_grid)
M = tp.squared_distance_cost(x)


def gaussian(x, m, s):
    """A Gaussian bump of mean ``m`` and width ``s`` on the grid ``x``, normalised to a histogram."""
    p = np.exp(-((x - m) ** 2) / (2 * s * s))
    return p / p.sum()


# %% [markdown]
# ## The entropic cost and its blur
#
# $C_\lambda(p, q) = \min_{P1=p,\,P^\top 1=q} \langle P, M\rangle + \lambda\sum_{ij}P_{ij}\log P_{ij}$ with
# $M_{ij} = (x_i - x_j)^2$. Drop the constraint on the columns and each row of the plan becomes a normalised row of
# the Gibbs kernel $K = e^{-M/\lambda}$, so
#
# $$ \arg\min_q C_\lambda(p, q) = \tilde K^\top p, \qquad \tilde K_{ij} = K_{ij} / \textstyle\sum_l K_{il}, \tag{1}$$
#
# a Gaussian blur of variance $\lambda/2$ away from the edges. In particular $C_\lambda(p, p) \ne 0$ and $p$ is not
# the closest histogram to itself.

# %%
p = gaussian(x, means[0], sds[0])
pb = tp.blur(p, M, reg)
c_pp, c_pb = tp.entropic_cost(p, p, M, reg), tp.entropic_cost(p, pb, M, reg)
print(f"C(p, p) = {c_pp:.5f}   C(p, blur p) = {c_pb:.5f}   width p = {tp.width(x, p):.4f}, "
      f"blur p = {tp.width(x, pb):.4f} (predicted {np.sqrt(sds[0] ** 2 + reg / 2):.4f})")
fig, ax = plotting.subplots(width=6, height=2.6)
ax.plot(x, p, label="$p$")
ax.plot(x, pb, label=r"$\tilde K^\top p$, the minimiser of $C_\lambda(p, \cdot)$")
ax.set(xlabel="$x$", ylabel="mass", xlim=(0, 0.6))
ax.legend()
plotting.plt.show()

# %% [markdown]
# *What to see:* the entropic cost prefers a wider copy of $p$ to $p$ itself.
#
# ## A corrected divergence
#
# Blurring is injective (the Gaussian kernel matrix is positive definite), and $C_\lambda(p,\cdot)$ is strictly
# convex, so comparing $p$ with the *blurred* $q$ and subtracting the minimum gives
#
# $$ D_\lambda(p, q) = C_\lambda(p, \tilde K^\top q) - C_\lambda(p, \tilde K^\top p) \ \ge\ 0, \qquad
#    D_\lambda(p, q) = 0 \iff q = p. \tag{2}$$
#
# We test both on random pairs: Gaussians of random position and width, and mixtures of three such Gaussians;
# and on pairs close together, each random histogram with its own blur and with a randomly perturbed copy.
# Each pair takes seven Sinkhorn solves. Ours keeps the potentials in the log domain but, between absorptions,
# scales the absorbed kernel with matrix-vector products instead of a log-sum-exp per sweep
# {cite}`schmitzer2019stabilized`; the timing against POT is below.

# %%
def random_hist(x, rng):
    """A random Gaussian on ``x``, or a random mixture of three."""
    if rng.random() < 0.5:
        return gaussian(x, rng.uniform(0.2, 0.8), rng.uniform(0.02, 0.1))
    mix = sum(rng.uniform(0.2, 1) * gaussian(x, rng.uniform(0.1, 0.9), rng.uniform(0.02, 0.1)) for _ in range(3))
    return mix / mix.sum()


pairs = [(random_hist(x, session.rng), random_hist(x, session.rng)) for _ in range(n_pairs)]
# and, for each first histogram, two partners close to it: its blur (the minimiser of C(p, .)) and a 10% random
# multiplicative perturbation, where a failure of D >= 0 or of (1) would show first
near = [(a, tp.blur(a, M, reg)) for a, _ in pairs]
near += [(a, a * np.exp(0.1 * session.rng.standard_normal(a.size))) for a, _ in pairs]
near = [(a, b / b.sum()) for a, b in near]
pairs_all = pairs + near
# a marginal error of 1e-9 is ample for divergences of order 1e-3; a solve that still stops at the sweep limit is
# counted rather than letting each warning print
solve = {"tol": 1e-9, "n_iter": 100_000}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always", RuntimeWarning)
    d_self = np.array([tp.corrected_divergence(a, a, M, reg, **solve) for a, _ in pairs])
    d_pair = np.array([tp.corrected_divergence(a, b, M, reg, **solve) for a, b in pairs_all])
    c_self = np.array([tp.entropic_cost(a, a, M, reg, **solve) for a, _ in pairs])
    c_pair = np.array([tp.entropic_cost(a, b, M, reg, **solve) - tp.entropic_cost(a, a, M, reg, **solve)
                       for a, b in pairs_all])
unconverged = [float(str(w.message).split("marginal error ")[1].split()[0]) for w in caught]
n_solves = 2 * len(pairs) + 5 * len(pairs_all)
print(f"{len(caught)} Sinkhorn solves of {n_solves} stopped at the sweep limit of {solve['n_iter']} before a "
      f"marginal error of 1e-9" + (f" (largest final error {max(unconverged):.1e})" if unconverged else ""))
print(f"max |D(p, p)| = {np.abs(d_self).max():.1e};  min D(p, q) = {d_pair.min():.3e}")
print(f"C(p, p) ranges over [{c_self.min():.4f}, {c_self.max():.4f}];  C(p, q) - C(p, p) < 0 in "
      f"{(c_pair < 0).sum()} of {len(pairs_all)} pairs ({(c_pair[:len(pairs)] < 0).sum()} of the {len(pairs)} "
      "random ones)")

# %% [markdown]
# ## Barycenters of two Gaussians
#
# The barycenter for (2) minimises $\sum_k w_k C_\lambda(p_k, \tilde K^\top q)$. Its value is bounded below by
# $\sum_k w_k C_\lambda(p_k, r^\star)$ at the plain entropic barycenter $r^\star$, so a $q$ with
# $\tilde K^\top q = r^\star$ is optimal: we un-blur $r^\star$ by the Richardson–Lucy (EM) update and check the
# gap to the bound,
#
# $$ q^\star = \arg\min_q \mathrm{KL}(r^\star \,\|\, \tilde K^\top q), \qquad
#    \text{gap} = \textstyle\sum_k w_k [C_\lambda(p_k, \tilde K^\top q^\star) - C_\lambda(p_k, r^\star)]. \tag{3}$$
#
# The exact barycenter of 1-D histograms averages their quantile functions: for Gaussians, mean of means and mean
# of widths.

# %%
ps = np.stack([gaussian(x, m, s) for m, s in zip(means, sds, strict=True)], 1)  # (n, 2)
lp = tp.lp_barycenter_1d(x, ps)
rows = {}
for lam in regs:
    rows[lam] = {"entropic": tp.barycenter_ibp(ps, M, lam, tol=1e-10),
                 "debiased": tp.barycenter_debiased(ps, M, lam, tol=1e-8),
                 "corrected": tp.barycenter_corrected(ps, M, lam, tol=1e-10)}
ratios = {lam: {k: tp.width(x, b) / tp.width(x, lp) for k, b in r.items()} for lam, r in rows.items()}
bars = rows[reg]
gap = sum(0.5 * (tp.entropic_cost(ps[:, k], tp.blur(bars["corrected"], M, reg), M, reg)
                 - tp.entropic_cost(ps[:, k], bars["entropic"], M, reg)) for k in range(2))
for lam, r in ratios.items():
    print(f"lambda = {lam:g}: width / exact width  " + "  ".join(f"{k} {v:.3f}" for k, v in r.items()))
print(f"optimality gap of the corrected barycenter at lambda = {reg:g}: {gap:.1e}")

# %%
fig, axes = plotting.subplots(1, len(regs), width=9, height=2.8, sharey=True)
for ax, lam in zip(axes, regs, strict=True):
    ax.plot(x, lp, "k", lw=2.5, alpha=0.35, label="exact (LP)")
    for k, b in rows[lam].items():
        ax.plot(x, b, label=k, ls="--" if k == "debiased" else "-")
    ax.set(title=rf"$\lambda$ = {lam:g}", xlabel="$x$", xlim=(0.3, 0.7))
axes[0].set_ylabel("mass")
axes[0].legend(fontsize=7)
plotting.plt.show()

# %% [markdown]
# *What to see:* the plain entropic barycenter widens as $\lambda$ grows; the corrected and the debiased ones stay
# close to the exact barycenter (their widths are checked at the published $\lambda$ below).
#
# ## POT side by side
#
# Same inputs, same tolerance. POT's default barycenter works with scalings rather than logarithms; its
# log-domain variant runs the same iteration as ours.

# %%
def timed(f):
    t0 = time.process_time()
    out = f()
    return out, time.process_time() - t0


ours_ibp, t_ours = timed(lambda: tp.barycenter_ibp(ps, M, reg, tol=1e-10))
pot_log, t_pot_log = timed(lambda: ot.bregman.barycenter(ps, M, reg, method="sinkhorn_log", stopThr=1e-10,
                                                         numItermax=100_000))
pot_scal, t_pot = timed(lambda: ot.bregman.barycenter(ps, M, reg, stopThr=1e-10, numItermax=100_000))
pair_ours, t_pair = timed(lambda: tp.sinkhorn(ps[:, 0], ps[:, 1], M, reg, tol=1e-9, n_iter=100_000).plan)
pair_pot, t_pair_pot = timed(lambda: ot.sinkhorn(ps[:, 0], ps[:, 1], M, reg, method="sinkhorn_stabilized",
                                                 stopThr=1e-9, numItermax=100_000))
pot_deb = ot.bregman.barycenter_debiased(ps, M, reg, method="sinkhorn_log", stopThr=1e-8, numItermax=100_000)
plan_diff = np.abs(tp.sinkhorn(ps[:, 0], ps[:, 1], M, reg).plan
                   - ot.sinkhorn(ps[:, 0], ps[:, 1], M, reg, method="sinkhorn_log", stopThr=1e-13)).max()
diffs = {"plan": plan_diff, "barycenter": np.abs(ours_ibp - pot_log).max(),
         "barycenter (POT scaling)": np.abs(ours_ibp - pot_scal).max(),
         "debiased": np.abs(bars["debiased"] - pot_deb).max()}
print("largest differences from POT: " + ", ".join(f"{k} {v:.1e}" for k, v in diffs.items()))
# which debiased barycenter is nearer the minimum of the objective both iterations aim at
deb_excess = {tol: tp.debiased_objective(ps, pot_deb, M, reg, tol=tol, n_iter=500_000)
              - tp.debiased_objective(ps, bars["debiased"], M, reg, tol=tol, n_iter=500_000) for tol in (1e-10, 1e-13)}
print("debiased objective, POT's point minus ours, evaluated at marginal tolerances 1e-10 and 1e-13: "
      + ", ".join(f"{v:.4e}" for v in deb_excess.values()))
print(f"CPU time, barycenter: ours {t_ours:.3f} s, POT log-domain {t_pot_log:.3f} s, POT scaling {t_pot:.3f} s")
print(f"CPU time, one plan at a marginal error of 1e-9: ours {t_pair:.4f} s, POT stabilised {t_pair_pot:.4f} s "
      f"(plans differ by {np.abs(pair_ours - pair_pot).max():.1e})")

# %% [markdown]
# ## Two-dimensional shapes
#
# The same three barycenters for a ring and a small square on a {glue:text}`image_side` x {glue:text}`image_side`
# grid.

# %%
g = (np.arange(image) + 0.5) / image
gx, gy = np.meshgrid(g, g, indexing="ij")
ring = ((np.hypot(gx - 0.5, gy - 0.5) - 0.3) ** 2 < 0.05 ** 2).astype(float)
square = ((np.abs(gx - 0.5) < 0.15) & (np.abs(gy - 0.5) < 0.15)).astype(float)
shapes = np.stack([ring.ravel() / ring.sum(), square.ravel() / square.sum()], 1)  # (image^2, 2)
M2 = tp.squared_distance_cost(np.stack([gx.ravel(), gy.ravel()], 1))
reg2 = 2e-3
shape_bars = {"entropic": tp.barycenter_ibp(shapes, M2, reg2, tol=1e-7),
              "corrected": tp.barycenter_corrected(shapes, M2, reg2, tol=1e-7, deconv_iter=2000)}
fig, axes = plotting.subplots(1, 4, width=8, height=2.2)
for ax, (name, img) in zip(axes, [("ring", shapes[:, 0]), ("square", shapes[:, 1]), *shape_bars.items()],
                           strict=True):
    ax.imshow(img.reshape(image, image), cmap="Greys")
    ax.set(title=name, xticks=[], yticks=[])
    ax.grid(False)
plotting.plt.show()
repro.glue("image_side", image)

# %% [markdown]
# *What to see:* the entropic barycenter of the ring and the square is a soft blob; the corrected one keeps a
# sharper outline.
#
# ## The check and its control
#
# From `CLAIMS.md`: $D(p,p) = 0$ and $D \ge 0$ on random pairs; the corrected barycenter's width within 5% of the
# exact (LP) barycenter's while the plain entropic one is more than 1.2 times wider, at the same $\lambda$. We read
# $D(p,p) = 0$ to rounding, $|D| \le 10^{-10}$. That part holds by construction (definition (2) subtracts the same
# number from itself), a sanity check; $D \ge 0$ is a real test of (1), since it fails if $\tilde K^\top p$ is not
# the minimiser of $C_\lambda(p, \cdot)$. Beside them we ask for the other half of (2), $D(p,q) > 0$ for $q \ne p$
# (`positive_off_diagonal`, above $10^{-9}$, well over the solver's tolerance). The control runs the same check with
# the uncorrected $C_\lambda$ in place of $D$ (its own barycenter, the plain entropic one, in place of the corrected
# one): it must fail.

# %%
def check(self_values, pair_values, bar_ratio, plain_ratio):
    return {"zero_on_diagonal": bool(np.abs(self_values).max() <= 1e-10),
            "nonnegative_on_pairs": bool(pair_values.min() >= 0),
            "positive_off_diagonal": bool(pair_values.min() > 1e-9),
            "barycenter_width_within_5pct": bool(abs(bar_ratio - 1) <= 0.05),
            "plain_entropic_over_1.2x": bool(plain_ratio > 1.2)}


r = ratios[reg]
checks = check(d_self, d_pair, r["corrected"], r["entropic"])
control = check(c_self, c_pair, r["entropic"], r["entropic"])
print(checks, control, sep="\n")

# %%
repro.record_claim(
    "K4",
    title="Entropic transport is not a divergence; a corrected divergence gives barycenters as sharp as exact ones",
    status=repro.grade(checks),
    criterion="corrected divergence D(p,p) = 0 (to 1e-10) and D >= 0 on random pairs; corrected barycenter width "
              "within 5% of the exact (LP) barycenter while the plain entropic one is > 1.2x wider at the same "
              "regularisation; POT side by side",
    checks=checks,
    measured={"corrected_width_ratio": repro.measure(r["corrected"], tol=1e-4, basis="iterations stop at 1e-10"),
              "entropic_width_ratio": repro.measure(r["entropic"], tol=1e-6, basis="iterations stop at 1e-10"),
              "debiased_width_ratio": repro.measure(r["debiased"], tol=1e-4, basis="iterations stop at 1e-8"),
              "max_abs_D_self": repro.measure(np.abs(d_self).max(), tol=1e-12, basis="rounding"),
              "min_D_pairs": repro.measure(d_pair.min(), tol=1e-8,
                                           basis="Sinkhorn stops at a marginal error of 1e-9"),
              "n_pairs": n_pairs, "n_pairs_all": len(pairs_all),
              "optimality_gap": repro.measure(abs(gap), tol=1e-8, basis="rounding"),
              "pot_max_difference": repro.measure(max(diffs["plan"], diffs["barycenter"]),
                                                  tol=1e-6, basis="same numbers to 1e-6"),
              "pot_debiased_difference": repro.measure(diffs["debiased"], tol=1e-6, basis="stopping tolerance"),
              "debiased_objective_excess_pot": repro.measure(
                  deb_excess[1e-13], tol=1e-12, basis="evaluations at 1e-10 and 1e-13 agree far closer"),
              "debiased_objective_excess_pot_at_1e-10": repro.measure(deb_excess[1e-10], tol=1e-12, basis="as above"),
              "pot_scaling_difference": repro.measure(diffs["barycenter (POT scaling)"], tol=1e-6,
                                                      basis="stopping tolerance"),
              "ours_seconds": t_ours, "pot_log_seconds": t_pot_log, "pot_scaling_seconds": t_pot,
              "speedup_vs_pot_log": t_pot_log / t_ours, "pair_seconds": t_pair, "pot_pair_seconds": t_pair_pot},
    controls={"raw_cost": repro.control("the uncorrected entropic cost C_lambda used as the divergence", control,
                                        {"min_C_self": c_self.min(), "max_C_self": c_self.max(),
                                         "negative_pairs": int((c_pair < 0).sum())})},
)
assert all(checks.values()), checks
assert max(diffs["plan"], diffs["barycenter"]) < 1e-6, diffs
assert not all(control.values()), "the control passed the check"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. The entropic cost of a histogram with itself is far from zero (from
# {glue:text}`raw_cost.min_C_self:.4f` to {glue:text}`raw_cost.max_C_self:.4f` over our random histograms), and
# in {glue:text}`raw_cost.negative_pairs` of {glue:text}`n_pairs_all` pairs another histogram is *closer* to $p$ than
# $p$ itself: as a divergence it fails, which is the control. The corrected divergence (2) vanishes on the diagonal
# (largest $|D(p,p)|$ {glue:text}`max_abs_D_self:.1e`) and is positive on every pair (smallest
# {glue:text}`min_D_pairs:.3e`).
#
# At the published $\lambda$ the plain entropic barycenter of the two Gaussians is
# {glue:text}`entropic_width_ratio:.3f` times as wide as the exact one, the corrected barycenter
# {glue:text}`corrected_width_ratio:.4f` times, and the debiased barycenter of Janati et al.
# {glue:text}`debiased_width_ratio:.4f` times. The corrected barycenter attains the lower bound
# of (3) to {glue:text}`optimality_gap:.1e`, so it is the exact minimiser, not an approximation.
#
# Ours and POT give the same plans and barycenters (largest difference {glue:text}`pot_max_difference:.1e`,
# against POT's log-domain code), and POT's default, scaling-domain barycenter agrees to
# {glue:text}`pot_scaling_difference:.1e`. Our debiased barycenter and POT's `barycenter_debiased` do *not* agree
# to $10^{-6}$: they settle {glue:text}`pot_debiased_difference:.1e` apart. On the objective both iterations
# minimise, $\sum_k w_k C_\lambda(p_k, q) - \tfrac12 C_\lambda(q, q)$, POT's point scores higher than ours by
# {glue:text}`debiased_objective_excess_pot:.2e` (evaluated with Sinkhorn at a marginal tolerance of $10^{-13}$; at
# $10^{-10}$ the figure is {glue:text}`debiased_objective_excess_pot_at_1e-10:.2e`, so the evaluation error is far
# below it). With both stopped at $10^{-8}$, each by its own rule, ours is the nearer to the minimum; the two points
# differ by $10^{-6}$-scale masses along which the objective changes only at the $10^{-11}$ level. Our
# log-domain barycenter took {glue:md}`ours_seconds` against {glue:md}`pot_log_seconds` for POT's log-domain one
# (speed ratio {glue:md}`speedup_vs_pot_log`) and {glue:md}`pot_scaling_seconds` for POT's scaling one: the
# scaling form multiplies by $K$ instead of taking log-sum-exps and is much faster, at the price of underflow
# when $\lambda$ is small against the largest cost; we keep the log domain for that stability. For a single plan
# both sides use the absorbed scaling sweeps: ours took {glue:md}`pair_seconds` and POT's stabilised Sinkhorn
# {glue:md}`pot_pair_seconds`.
#
# Differences from the paper: our corrected divergence is our own construction from the properties the paper
# states; we did not see its formulas. The 2-D figure is qualitative.
