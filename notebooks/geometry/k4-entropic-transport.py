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
# is smallest at a blurred copy of $p$, build the corrected divergence, and test the paper's headline property,
# translation invariance: the barycenter of translated copies of one pattern is that pattern, translated, with no
# blur. Beside it we compare barycenters of Gaussians: exact (linear-programming, $W_2$), plain entropic (iterative
# Bregman projections {cite}`benamou2015iterative`), debiased {cite}`janati2020debiased`, and the corrected one.
# POT {cite}`flamary2021pot` runs beside ours on the same inputs.
#
# **What is ours.** The paper's full text is stored publicly, but the stored copies our search tool reaches
# return only its abstract and introduction, so we could not read its definitions; reading section 4 of the paper
# would settle this. From what we could read we take the problem (that $C_\lambda$ fails as a divergence, that its
# minimiser is a blur, that a correction keeps translation invariance and sharpens barycenters). The closed form of
# the minimiser, the form of the corrected divergence (2) below, and the barycenter algorithm (entropic barycenter,
# then un-blurring) are our derivations, built to have the stated properties; they may differ in detail from the
# paper's. All code is ours; POT is only a cross-check.

# %% tags=["parameters"]
seed = 0
n_grid = 200  # points of the 1-D grid on [0, 1]
reg = 2e-3  # lambda: entropic regularisation (kernel variance lambda / 2 for the squared distance)
regs = [1e-3, 2e-3, 4e-3]  # the 1-D barycenter figure
means = [0.3, 0.7]  # the two Gaussians whose barycenter we take
sds = [0.03, 0.05]
n_pairs = 8  # random histogram pairs for the divergence check
shifts = [0.1, 0.2]  # translations for D(p, p shifted) = shift^2
centres = [0.3, 0.7]  # two translates of one pattern on the 1-D grid; the barycenter should sit at their middle
edge_centres = [0.06, 0.5]  # the control: the first translate pressed against the grid's edge
image = 16  # side of the 2-D images
ring_centres = [[0.375, 0.375], [0.625, 0.625]]  # two translates of a ring in 2-D
device = "cpu"

# %%
import time
import warnings

import numpy as np
import ot

from dltheory import plotting, repro
from dltheory import transport as tp

session = repro.setup(seed, device=device, cpu_only="numpy and POT on small histograms")
x = np.linspace(0, 1, n_grid)
M = tp.squared_distance_cost(x)


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
p = tp.gaussian_histogram(x, means[0], sds[0])
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
pairs = [(tp.random_histogram(x, session.rng), tp.random_histogram(x, session.rng)) for _ in range(n_pairs)]
# and, for each first histogram, two partners close to it: its blur (the minimiser of C(p, .)) and a 10% random
# multiplicative perturbation, where a failure of D >= 0 or of (1) would show first
near = [(a, tp.blur(a, M, reg)) for a, _ in pairs]
near += [(a, a * np.exp(0.1 * session.rng.standard_normal(a.size))) for a, _ in pairs]
pairs_all = pairs + [(a, b / b.sum()) for a, b in near]

# %%
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
ps = np.stack([tp.gaussian_histogram(x, m, s) for m, s in zip(means, sds, strict=True)], 1)  # (n, 2)
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
# ## Translation invariance: barycenters of translated patterns
#
# The paper's headline property. Shift a histogram by $a$ (away from the grid's edges): the plan of
# $C_\lambda(p, \tilde K^\top q)$ shifted by $a$ is feasible for the shifted pair, keeps its entropy, and changes the
# quadratic cost by $a^2 - 2a(\bar p - \overline{\tilde K^\top p}) = a^2$, since the blur keeps the mean. Hence
#
# $$ D_\lambda(p, T_a p) = a^2 \quad\text{for every shape } p, \qquad
#    \arg\min_q \textstyle\sum_k w_k D_\lambda(T_{a_k} p, q) = T_{\bar a}\, p,\ \ \bar a = \sum_k w_k a_k, \tag{4}$$
#
# the second because the terms linear in the shifts cancel in the weighted sum, so the entropic barycenter of
# the translates is the blurred middle translate, $r^\star = \tilde K^\top T_{\bar a} p$, and $T_{\bar a} p$
# attains the bound of (3). The first identity is a theorem for any mean-keeping blur (a sanity check here: the
# tests show it survives a blur of the wrong width). The second is the claim: we measure the **gap** of (3) at the
# middle translate of an asymmetric two-bump pattern, and of a ring in 2-D. A wrong divergence (the raw
# $C_\lambda$, whose barycenter is $r^\star$ itself) or a broken symmetry leaves a positive gap. The same
# cancellation holds for the Sinkhorn divergence $C_\lambda(p,q) - \tfrac12 C_\lambda(p,p) - \tfrac12
# C_\lambda(q,q)$, whose barycenter is the debiased one {cite}`janati2020debiased`: it shares the property, so we
# show it beside ours rather than as a control.

# %%
fine = {"tol": 1e-11, "n_iter": 200_000}
shift_ratio = np.array([tp.corrected_divergence(f(x, 0.4), f(x, 0.4 + a), M, reg, **fine) / a ** 2
                        for f in (lambda x, c: tp.gaussian_histogram(x, c, sds[0]), tp.two_bumps) for a in shifts])
translates = np.stack([tp.two_bumps(x, c) for c in centres], 1)  # (n, 2)
middle = tp.two_bumps(x, np.mean(centres))
gap_1d = tp.barycenter_gap(translates, middle, M, reg, **fine)
edge = np.stack([tp.two_bumps(x, c) for c in edge_centres], 1)
gap_edge = tp.barycenter_gap(edge, tp.two_bumps(x, np.mean(edge_centres)), M, reg, **fine)
with warnings.catch_warnings(record=True) as slow:  # un-blurring a sharp pattern stops at its iteration limit
    warnings.simplefilter("always", RuntimeWarning)
    tr_bars = {"entropic": tp.barycenter_ibp(translates, M, reg, tol=1e-10),
               "debiased": tp.barycenter_debiased(translates, M, reg, tol=1e-9, n_iter=50_000),
               "corrected": tp.barycenter_corrected(translates, M, reg, tol=1e-10)}
tr_l1 = {k: np.abs(b / b.sum() - middle).sum() for k, b in tr_bars.items()}
gap_raw = sum(0.5 * (tp.entropic_cost(translates[:, k], middle, M, reg, **fine)
                     - tp.entropic_cost(translates[:, k], tr_bars["entropic"], M, reg, **fine)) for k in range(2))
deb_at_middle = (tp.debiased_objective(translates, middle, M, reg, **fine)
                 - tp.debiased_objective(translates, tr_bars["debiased"], M, reg, **fine))
print(f"D(p, p shifted by a) / a^2: {shift_ratio.round(8).tolist()}")
print(f"gap of (3) at the middle translate: {gap_1d:.1e}; pressed against the edge: {gap_edge:.1e}; "
      f"for the raw cost: {gap_raw:.1e}")
print("L1 distance of each computed barycenter to the middle translate: "
      + ", ".join(f"{k} {v:.4f}" for k, v in tr_l1.items()))
print(f"Sinkhorn-divergence objective, middle translate minus the debiased iterate: {deb_at_middle:.1e}")
print(f"{len(slow)} iterations stopped at their limit: " + "; ".join(str(w.message) for w in slow))

# %%
fig, ax = plotting.subplots(width=6.5, height=2.8)
ax.plot(x, translates[:, 0], color="grey", lw=1, label="the two translates")
ax.plot(x, translates[:, 1], color="grey", lw=1)
ax.plot(x, middle, "k", lw=2.5, alpha=0.35, label="middle translate (exact)")
for k, b in tr_bars.items():
    ax.plot(x, b / b.sum(), label=k, ls="--" if k == "debiased" else "-")
ax.set(xlabel="$x$", ylabel="mass", xlim=(0.15, 0.85))
ax.legend(fontsize=7)
plotting.plt.show()

# %% [markdown]
# *What to see:* the plain entropic barycenter of two translates of the two-bump pattern is a blurred bump; the
# corrected and the debiased barycenters keep the two bumps at the middle position. Their remaining distance to
# the exact translate (printed above) is that of the iterations, Richardson–Lucy un-blurring for ours, not of the
# objective: the gap of (3) at the exact translate is what the check reads.
#
# ## The same in two dimensions
#
# A ring on a {glue:text}`image_side` x {glue:text}`image_side` grid at two positions; the barycenter should be
# the same ring halfway between.

# %%
g = (np.arange(image) + 0.5) / image
gx, gy = np.meshgrid(g, g, indexing="ij")
M2 = tp.squared_distance_cost(np.stack([gx.ravel(), gy.ravel()], 1))
rings = np.stack([tp.ring_histogram(gx, gy, c) for c in ring_centres], 1)  # (image^2, 2)
ring_mid = tp.ring_histogram(gx, gy, np.mean(ring_centres, 0))
gap_2d = tp.barycenter_gap(rings, ring_mid, M2, reg, **fine)
ring_bars = {"entropic": tp.barycenter_ibp(rings, M2, reg, tol=1e-9),
             "corrected": tp.barycenter_corrected(rings, M2, reg, tol=1e-9)}
ring_l1 = {k: np.abs(b / b.sum() - ring_mid).sum() for k, b in ring_bars.items()}
gap_2d_raw = sum(0.5 * (tp.entropic_cost(rings[:, k], ring_mid, M2, reg, **solve)
                        - tp.entropic_cost(rings[:, k], ring_bars["entropic"], M2, reg, **solve)) for k in range(2))
print(f"2-D: gap of (3) at the middle ring {gap_2d:.1e} (raw cost: {gap_2d_raw:.1e}); L1 distance to the middle "
      "ring: " + ", ".join(f"{k} {v:.3f}" for k, v in ring_l1.items()))
repro.glue("image_side", image)

# %%
panels = [("ring, first", rings[:, 0]), ("ring, second", rings[:, 1]), ("middle ring (exact)", ring_mid)]
panels += [(f"{k} (L1 {ring_l1[k]:.2f})", b) for k, b in ring_bars.items()]
fig, axes = plotting.subplots(1, 5, width=10, height=2.3)
for ax, (name, img) in zip(axes, panels, strict=True):
    ax.imshow(img.reshape(image, image), cmap="Greys")
    ax.set(title=name, xticks=[], yticks=[])
    ax.grid(False)
plotting.plt.show()

# %% [markdown]
# *What to see:* the entropic barycenter of the two rings is a soft blob at the middle; the corrected one is the
# ring again, sharp, at the middle. The titles give each barycenter's L1 distance to the exact middle ring.

# %% [markdown]
# ## The check and its controls
#
# The acceptance criterion: $D(p,p) = 0$ and $D \ge 0$ on random pairs; the corrected barycenter's width within
# 5% of the exact (LP) barycenter's while the plain entropic one is more than 1.2 times wider, at the same
# $\lambda$. We add the paper's headline property, (4). Which checks could fail:
#
# - **Evidence.** The plain entropic barycenter is more than 1.2 times wider than the exact one (a claim about
#   entropic transport that a smaller $\lambda$ would break). The gap of (3) at the middle translate is below
#   $10^{-9}$, in 1-D and in 2-D (above the Sinkhorn tolerance of $10^{-11}$ by a wide margin; a divergence without
#   translation invariance, or a setting that breaks the symmetry, leaves a positive gap).
# - **Sanity**, true by construction once the code is right: $|D(p,p)| \le 10^{-10}$ (definition (2) subtracts a
#   number from itself); $D \ge 0$ and $D > 10^{-9}$ off the diagonal (they follow from (1) and from blurring being
#   injective); $D(p, T_a p) = a^2$ to $10^{-6}$ (a theorem, see above); the Gaussian barycenter's width within 5% (the
#   entropic barycenter of Gaussians is the blurred exact one, so un-blurring returns it); and the corrected
#   barycenter attains the bound of (3) to $10^{-9}$.
#
# The **near miss** runs the same checks on translates pressed against the grid's edge (centres
# {glue:text}`edge_first:.2f` and {glue:text}`edge_second:.2f`): same divergence, same code, but the pattern is
# cut off and the blur is no longer a convolution there, so the symmetry (4) rests on is gone and the translate
# must not be the barycenter. A **far** control uses the raw $C_\lambda$ as the divergence, with the plain
# entropic barycenter as its barycenter: it fails the sanity checks as well as the evidence.

# %%
def check(d_self, d_pair, shift_ratio, width_ratio, plain_ratio, gap_1d, gap_2d, opt_gap):
    """The criterion (and the translation property) as checks; see the list above for their kinds."""
    return {"plain_entropic_over_1.2x": repro.evidence(plain_ratio, ">", 1.2),
            "translate_is_barycenter_1d": repro.evidence(gap_1d, "<=", 1e-9, scale=1e-9),
            "translate_is_barycenter_2d": repro.evidence(gap_2d, "<=", 1e-9, scale=1e-9),
            "zero_on_diagonal": repro.sanity(np.abs(d_self).max(), "<=", 1e-10, scale=1e-10),
            "nonnegative_on_pairs": repro.sanity(d_pair.min(), ">=", 0, scale=1e-9),
            "positive_off_diagonal": repro.sanity(d_pair.min(), ">", 1e-9, scale=1e-9),
            "shift_costs_its_square": repro.sanity(np.abs(shift_ratio - 1).max(), "<=", 1e-6, scale=1e-6),
            "gaussian_width_within_5pct": repro.sanity(abs(width_ratio - 1), "<=", 0.05),
            "corrected_barycenter_optimal": repro.sanity(abs(opt_gap), "<=", 1e-9, scale=1e-9)}


r = ratios[reg]
raw_shift = np.array([(tp.entropic_cost(f(x, 0.4), f(x, 0.4 + a), M, reg, **fine)
                       - tp.entropic_cost(f(x, 0.4), f(x, 0.4), M, reg, **fine)) / a ** 2
                      for f in (lambda x, c: tp.gaussian_histogram(x, c, sds[0]), tp.two_bumps) for a in shifts])
checks = check(d_self, d_pair, shift_ratio, r["corrected"], r["entropic"], gap_1d, gap_2d, gap)
edge_checks = check(d_self, d_pair, shift_ratio, r["corrected"], r["entropic"], gap_edge, gap_2d, gap)
raw_checks = check(c_self, c_pair, raw_shift, r["entropic"], r["entropic"], gap_raw, gap_2d_raw, 0.0)
repro.glue("edge_first", edge_centres[0])
repro.glue("edge_second", edge_centres[1])

# %%
measured = {
    "entropic_width_ratio": repro.measure(r["entropic"], tol=1e-6, basis="iterations stop at 1e-10"),
    "corrected_width_ratio": repro.measure(r["corrected"], tol=1e-4, basis="iterations stop at 1e-10"),
    "debiased_width_ratio": repro.measure(r["debiased"], tol=1e-4, basis="iterations stop at 1e-8"),
    "translate_gap_1d": repro.measure(gap_1d, tol=1e-10, basis="Sinkhorn stops at a marginal error of 1e-11"),
    "translate_gap_2d": repro.measure(gap_2d, tol=1e-10, basis="as above"),
    "raw_translate_gap_1d": gap_raw, "max_shift_ratio_error": repro.measure(
        np.abs(shift_ratio - 1).max(), tol=1e-8, basis="Sinkhorn tolerance"),
    "translate_l1_entropic": tr_l1["entropic"], "translate_l1_debiased": tr_l1["debiased"],
    "translate_l1_corrected": tr_l1["corrected"], "ring_l1_entropic": ring_l1["entropic"],
    "ring_l1_corrected": ring_l1["corrected"],
    "debiased_objective_at_translate": repro.measure(deb_at_middle, tol=1e-9, basis="iterate stops at 1e-9"),
    "max_abs_D_self": repro.measure(np.abs(d_self).max(), tol=1e-12, basis="rounding"),
    "min_D_pairs": repro.measure(d_pair.min(), tol=1e-8, basis="Sinkhorn stops at a marginal error of 1e-9"),
    "n_pairs": n_pairs, "n_pairs_all": len(pairs_all),
    "optimality_gap": repro.measure(abs(gap), tol=1e-8, basis="rounding"),
    "pot_max_difference": repro.measure(max(diffs["plan"], diffs["barycenter"]), tol=1e-6,
                                        basis="same numbers to 1e-6"),
    "pot_debiased_difference": repro.measure(diffs["debiased"], tol=1e-6, basis="stopping tolerance"),
    "debiased_objective_excess_pot": repro.measure(deb_excess[1e-13], tol=1e-12,
                                                   basis="evaluations at 1e-10 and 1e-13 agree far closer"),
    "debiased_objective_excess_pot_at_1e-10": repro.measure(deb_excess[1e-10], tol=1e-12, basis="as above"),
    "pot_scaling_difference": repro.measure(diffs["barycenter (POT scaling)"], tol=1e-6, basis="stopping tolerance"),
    "ours_seconds": t_ours, "pot_log_seconds": t_pot_log, "pot_scaling_seconds": t_pot,
    "speedup_vs_pot_log": t_pot_log / t_ours, "pair_seconds": t_pair, "pot_pair_seconds": t_pair_pot,
}

# %%
controls = {
    "edge": repro.control("the same translates pressed against the grid's edge, where translation symmetry fails",
                          edge_checks, {"translate_gap_1d": gap_edge}, kind="near miss"),
    "raw_cost": repro.control("the uncorrected entropic cost C_lambda used as the divergence", raw_checks,
                              {"min_C_self": c_self.min(), "max_C_self": c_self.max(),
                               "negative_pairs": int((c_pair < 0).sum()), "translate_gap_1d": gap_raw},
                              kind="far"),
}
repro.record_claim(
    "K4",
    title="Entropic transport is not a divergence; a corrected divergence gives sharp, translation-invariant "
          "barycenters",
    status=repro.grade(checks, cap="partially reproduced",
                       reason="the corrected divergence is our reconstruction, built to be translation invariant, so "
                              "its evidence checks test our construction; the paper's own definition was not at hand"),
    criterion="corrected divergence D(p,p) = 0 (to 1e-10) and D >= 0 on random pairs; corrected barycenter width "
              "within 5% of the exact (LP) barycenter while the plain entropic one is > 1.2x wider at the same "
              "regularisation; and (stronger) the barycenter of two translates of a pattern is the middle translate "
              "(gap of the objective to its bound <= 1e-9, in 1-D and 2-D); POT side by side",
    checks=checks, measured=measured, controls=controls,
)
assert all(c.passed for c in checks.values()), checks
assert max(diffs["plan"], diffs["barycenter"]) < 1e-6, diffs
assert controls["edge"].sanity_passed and not controls["edge"].passed_check, controls["edge"]
assert not controls["raw_cost"].passed_check, controls["raw_cost"]

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**, capped: the divergence is ours, built to have the property the evidence checks
# test, so a referee cannot count them as a test of the paper's own divergence, whose definition we could not read. The entropic cost of a histogram with itself is far from zero (from
# {glue:text}`raw_cost.min_C_self:.4f` to {glue:text}`raw_cost.max_C_self:.4f` over our random histograms), and
# in {glue:text}`raw_cost.negative_pairs` of {glue:text}`n_pairs_all` pairs another histogram is *closer* to $p$ than
# $p$ itself: as a divergence it fails (the far control). The corrected divergence (2) vanishes on the diagonal
# (largest $|D(p,p)|$ {glue:text}`max_abs_D_self:.1e`) and is positive on every pair (smallest
# {glue:text}`min_D_pairs:.3e`); these hold by construction and are shown as sanity checks.
#
# Translation invariance, the evidence: the barycenter of two translates of the two-bump pattern is the middle
# translate, the gap of (3) there being {glue:text}`translate_gap_1d:.1e` in 1-D and
# {glue:text}`translate_gap_2d:.1e` for the 2-D ring, against {glue:text}`raw_cost.translate_gap_1d:.1e` for the raw
# cost and {glue:text}`edge.translate_gap_1d:.1e` for the near miss at the grid's edge, which fails as it must.
# Shifting any pattern by $a$ costs $a^2$ in $D$ (largest relative error {glue:text}`max_shift_ratio_error:.1e`), as
# in $W_2$. As computed, the corrected barycenter of the 1-D translates is {glue:text}`translate_l1_corrected:.3f`
# from the exact translate in L1, the debiased one {glue:text}`translate_l1_debiased:.3f` and the plain entropic one
# {glue:text}`translate_l1_entropic:.3f`; in 2-D the corrected ring is {glue:text}`ring_l1_corrected:.3f` away
# and the entropic blob {glue:text}`ring_l1_entropic:.3f`. Ours stays short of 0 because un-blurring converges
# slowly, not because the objective prefers another shape.
#
# At the published $\lambda$ the plain entropic barycenter of the two Gaussians is
# {glue:text}`entropic_width_ratio:.3f` times as wide as the exact one, the corrected barycenter
# {glue:text}`corrected_width_ratio:.4f` times, and the debiased barycenter of Janati et al.
# {glue:text}`debiased_width_ratio:.4f` times. The corrected barycenter attains the lower bound of (3) to
# {glue:text}`optimality_gap:.1e`.
#
# The debiased (Sinkhorn-divergence) barycenter is not a control here: it passes the same checks, and for good
# reason, since the shift terms cancel in its objective too. Its objective at the middle translate minus that at
# its own iterate is {glue:text}`debiased_objective_at_translate:.1e` (not positive within the iterate's
# tolerance), so the translate is at least as good a minimiser. On Gaussians and on translates the two corrections
# agree; where they differ, if anywhere, would need shapes that are not translates of each other, which our checks
# do not cover.
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
# states; the stored copies of the paper we could reach did not show its formulas (see the top of the page).
