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
# # K2 · Natural gradient with approximate Fisher matrices: one step suffices in wide networks
#
# **The result.** Natural gradient descent preconditions the gradient with the inverse Fisher matrix, which is too
# large to invert in a deep network. Amari, Karakida and Oizumi showed that in wide random networks the Fisher
# matrix is close to block diagonal over units, and that one unit's block is a multiple of the identity plus a
# rank-2 matrix, with an explicit inverse {cite}`amari2019fisher`. Karakida and Osawa showed that in the
# neural-tangent regime exact natural gradient and several approximations (layer-wise block diagonal, K-FAC
# {cite}`martens2015optimizing`, unit-wise) all move the outputs isotropically in function space, so each converges
# in one step at its own learning rate: 1 for the exact Fisher, $1/L$ for $L$ layer blocks
# {cite}`karakida2020understanding`. The report lists this as its second result {cite}`report003`.
#
# **What we do.** Check the single-unit block and its inverse against Monte Carlo and rounding; implement the exact
# natural gradient and the three approximations in their dual ($T\times T$) forms; measure each one's function-space
# gain; and train a wide tanh network on a two-class digits task, one natural-gradient step against tuned gradient
# descent, over three draws of data and network.
#
# **What is ours.** The dual forms, the per-method one-step rates for our parametrisation (in particular K-FAC's, which
# depends on how the Kronecker factors are normalised) and the way the diagonal-plus-rank-2 block is written (an
# orthonormal pair of directions and a $2\times2$ core) are our derivations of the papers' statements; the task,
# sizes and controls are ours.

# %% tags=["parameters"]
seed = 0
classes = (3, 8)  # the two digit classes, targets +1 and -1
per_class = 24  # training images per class: T = 48 <= 65 = pixels + 1, which K-FAC and unit-wise need
width = 1024
depth = 3  # weight layers L: 64 -> M -> M -> 1
sigma_w2 = 2.0
sigma_b2 = 0.5
n_seeds = 3
steps = 5  # steps shown per method
unit_inputs = 16  # fan-in of the single unit
mc_samples = 1_000_000
device = "cpu"

# %%
import numpy as np
import torch

from dltheory import data, plotting, repro
from dltheory import fisher as fi

session = repro.setup(seed, device=device)
seeds = [seed + i for i in range(n_seeds)]

# %% [markdown]
# ## One unit: a multiple of the identity plus rank 2
#
# For a unit $\varphi(w\cdot x + b)$ with inputs $x \sim \mathcal N(0, vI_n)$, the Fisher block over $(w, b)$ is
# $G = \mathbb E[\varphi'(u)^2\,\tilde x\tilde x^\top]$, $\tilde x = (x, 1)$. Split $x$ along $e = w/|w|$: with
# $u = b + \sqrt v|w|z$ and $A_k = \mathbb E[\varphi'(u)^2 z^k]$ (one-dimensional integrals),
#
# $$
# G = vA_0\,(I - UU^\top) + U K U^\top,\quad U = \begin{pmatrix} e & 0\\ 0 & 1\end{pmatrix},\quad
# K = \begin{pmatrix} vA_2 & \sqrt v A_1\\ \sqrt v A_1 & A_0\end{pmatrix},\qquad
# G^{-1} = \frac{I - UU^\top}{vA_0} + U K^{-1} U^\top. \tag{1}
# $$
#
# Only a $2\times 2$ matrix is inverted. We compare (1) with a Monte Carlo average and check the inverse.

# %%
w_unit = session.rng.normal(size=unit_inputs) * 0.5
b_unit, v_unit = 0.4, 1.3
block = fi.unit_fisher(w_unit, b_unit, variance=v_unit)
mc = fi.unit_fisher_monte_carlo(w_unit, b_unit, session.rng, variance=v_unit, n_samples=mc_samples)
mc_error = float(np.linalg.norm(mc - block.matrix) / np.linalg.norm(block.matrix))
inverse_error = float(np.abs(fi.unit_fisher_inverse(block) @ block.matrix - np.eye(unit_inputs + 1)).max())
print(f"closed form vs Monte Carlo ({mc_samples} draws): relative Frobenius difference {mc_error:.4f}")
print(f"closed-form inverse times G: largest deviation from the identity {inverse_error:.1e}")

# %%
fig, axes = plotting.subplots(1, 2, width=8, height=3.2)
lim = np.abs(block.matrix).max()
for ax, mat, name in zip(axes, (block.matrix, mc), ("closed form (1)", "Monte Carlo"), strict=True):
    ax.imshow(mat, cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set(title=name, xlabel="parameter (w, then b)", ylabel="parameter")
    ax.grid(False)
plotting.plt.show()

# %% [markdown]
# *What to see:* the two matrices are the same to the eye: a constant diagonal, plus a rank-2 pattern along $w$ and the
# bias (last row and column).

# %% [markdown]
# ## Natural gradient in the dual, and the rate each approximation needs
#
# With residuals $r$ (T,) and the Jacobian $J$ (T, P) of the outputs, the Fisher matrix is $F = J^\top J/T$ and the
# natural-gradient step $-\eta F^{+}\nabla L = -\eta J^\top (JJ^\top)^{+} r$ needs only the $T\times T$ Gram matrix.
# Linearised, it moves the outputs by $-\eta r$. Replacing $F$ by its layer blocks moves them by $-\eta\sum_l
# J_lJ_l^\top(J_lJ_l^\top)^{-1}r = -\eta L r$; K-FAC ($F_l \approx B_l\otimes A_{l-1}$, factors averaged over inputs)
# moves them by $T r$ per hidden layer and $r$ for the output layer; unit-wise blocks by $r$ per unit. So one step
# zeroes the residual at
#
# $$
# \eta_{\text{exact}} = 1,\qquad \eta_{\text{block}} = \frac1L,\qquad \eta_{\text{K-FAC}} = \frac1{(L-1)T + 1},\qquad
# \eta_{\text{unit}} = \frac1{\sum_l M_l}, \tag{2}
# $$
#
# when every dual Gram matrix is invertible (for K-FAC and the unit blocks this needs $T \le$ pixels $+1$). We
# measure each gain with a step of $10^{-7}$ on the first network.

# %%
tasks = {}
for s in seeds:  # the data by numpy's generator of seed s, the network by torch's
    x, y = data.two_class_digits(classes, per_class, np.random.default_rng(s), device=session.device)
    net = fi.random_network([x.shape[1]] + [width] * (depth - 1) + [1], sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                            generator=torch.Generator(device=session.device).manual_seed(s))
    tasks[s] = (net, x, y)

net0, x0, y0 = tasks[seed]
t_in = x0.shape[0]
methods = ("exact", "block", "kfac", "unit")
f0 = fi.forward(net0, x0)[0][-1]
for m in methods:
    df = (fi.forward(fi.ngd_step(net0, x0, y0, 1e-7, method=m), x0)[0][-1] - f0) / 1e-7
    gain = float(-(df * (f0 - y0)).sum() / ((f0 - y0) ** 2).sum())
    print(f"{m:>6}: measured gain {gain:10.3f}, predicted 1/eta = {1 / fi.one_step_rate(m, net0.widths, t_in):8.1f}")

# %% [markdown]
# ## One step on a wide network, against tuned gradient descent
#
# For each of three draws we take {glue:text}`steps` steps of each method at its rate (2), and of layer blocks at rate
# 1, the rate that is right for the exact Fisher. Gradient descent is tuned: of 24 rates up to $2/\lambda_{max}$ (the
# largest Fisher eigenvalue of that network, from K1's dual Gram matrix) we keep the one with the lowest loss after
# one step, and likewise after {glue:text}`steps` steps.

# %%
runs = {"exact": ("exact", 1.0), "block 1/L": ("block", 1 / depth), "block rate 1": ("block", 1.0),
        "K-FAC": ("kfac", None), "unit-wise": ("unit", None), "GD at rate 1": ("gd", 1.0)}


curves = {name: [] for name in [*runs, "tuned GD"]}
gd_one = []
for s in seeds:
    net, x, y = tasks[s]
    for name, (m, lr) in runs.items():
        curves[name].append(fi.train(net, x, y, lr or fi.one_step_rate(m, net.widths, x.shape[0]), method=m,
                                     steps=steps))
    grid = np.linspace(1 / 12, 2, 24) / fi.empirical_spectrum(net, x).max
    gd = [fi.train(net, x, y, lr, method="gd", steps=steps) for lr in grid]
    gd_one.append(min(c[1] for c in gd))
    curves["tuned GD"].append(min(gd, key=lambda c: c[-1]))
one = {name: np.array([c[1] for c in cs]) for name, cs in curves.items()}
for name, v in one.items():
    print(f"{name:>13}: loss after one step / start = {np.round(v, 4)}")
print(f"{'tuned GD':>13}: best loss after one step / start = {np.round(gd_one, 4)}")
repro.glue("steps", steps)

# %%
fig, ax = plotting.subplots(width=7, height=3.4)
for name, cs in curves.items():
    ax.plot(np.median(cs, axis=0), "o-", label=name)
ax.axhline(0.05, color="k", ls=":", lw=0.8)
ax.set(yscale="log", xlabel="step", ylabel="training loss / initial loss", ylim=(1e-7, 1e4))
ax.legend(fontsize=8, ncol=2)
plotting.plt.show()

# %% [markdown]
# *What to see:* the median over three draws. Exact natural gradient and layer blocks at $1/L$ drop the loss by
# orders of magnitude in one step; layer blocks at rate 1 overshoot (less than the linear factor $(L-1)^2$, as the
# network bends under so large a step) and do not recover; gradient
# descent at the natural-gradient rate 1 explodes, and tuned gradient descent creeps down. The dotted line is 5% of
# the start.

# %% [markdown]
# How wide must the network be? The one-step property is a statement about the linearised network. We repeat the
# single step of exact natural gradient and of layer blocks at both rates on narrower networks (same draws of data).

# %%
narrower = [w for w in (128, 256, 512) if w < width]
sweep = {w: {name: [] for name in ("exact", "block 1/L", "block rate 1")} for w in narrower}
for w in narrower:
    for s in seeds:
        _, x, y = tasks[s]
        net = fi.random_network([x.shape[1]] + [w] * (depth - 1) + [1], sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                                generator=torch.Generator(device=session.device).manual_seed(s))
        for name in sweep[w]:
            m, lr = runs[name]
            sweep[w][name].append(fi.train(net, x, y, lr, method=m, steps=1)[1])
fig, ax = plotting.subplots(width=6, height=3.0)
for name in ("exact", "block 1/L", "block rate 1"):
    vals = [np.median(sweep[w][name]) for w in narrower] + [np.median(one[name])]
    ax.plot([*narrower, width], vals, "o-", label=name)
ax.axhline(0.05, color="k", ls=":", lw=0.8)
ax.axhline(1.0, color="k", lw=0.8)
ax.set(xscale="log", yscale="log", xlabel="width M", ylabel="loss after one step / start")
ax.minorticks_off()
ax.set_xticks([*narrower, width], [str(w) for w in [*narrower, width]])
ax.legend(fontsize=8)
plotting.plt.show()

# %% [markdown]
# *What to see:* medians over the three draws. What the exact and $1/L$ steps leave shrinks as the network widens and
# its linearisation becomes exact; the narrowest networks are where the 5% line (dotted) can be missed. Rate 1 lifts
# the loss above its start (solid line) in the median at every width, though not on every draw of the narrower
# networks.
#
# ## The check and its controls
#
# From `CLAIMS.md`: the single-unit block (1) matches Monte Carlo within 3% and its closed-form inverse is exact
# (we require $|G^{-1}G - I| < 10^{-10}$); on every draw one step of exact natural gradient and of layer blocks at rate
# $1/L$ leaves less than 5% of the starting loss, layer blocks at rate 1 raise the loss, and both natural gradients end
# their one step below tuned gradient descent's best one step. Stronger, beside it: their one step also beats tuned
# gradient descent after {glue:text}`steps` steps. Controls: *plain gradient descent at the natural-gradient rate 1*
# in place of exact natural gradient, and *layer blocks at rate 1* in place of rate $1/L$; each must fail.

# %%
def check(exact, blocks, blocks_rate1):
    """CLAIMS.md's criterion from one-step loss ratios (per draw) of the two methods and of blocks at rate 1."""
    return {"unit_block_within_3pct_of_monte_carlo": mc_error < 0.03, "unit_inverse_exact": inverse_error < 1e-10,
            "exact_one_step_below_5pct": bool(np.all(exact < 0.05)),
            "block_one_step_below_5pct": bool(np.all(blocks < 0.05)),
            "block_rate1_overshoots": bool(np.all(blocks_rate1 > 1)),
            "both_beat_tuned_gd": bool(np.all(np.maximum(exact, blocks) < np.array(gd_one))),
            "both_beat_tuned_gd_after_steps": bool(np.all(np.maximum(exact, blocks) <
                                                         np.array([c[-1] for c in curves["tuned GD"]])))}


checks = check(one["exact"], one["block 1/L"], one["block rate 1"])
control_gd = check(one["GD at rate 1"], one["block 1/L"], one["block rate 1"])
control_rate1 = check(one["exact"], one["block rate 1"], one["block rate 1"])
print(f"{checks}\nGD at rate 1: {control_gd}\nblocks at rate 1: {control_rate1}")

# %%
repro.record_claim(
    "K2",
    title="Natural gradient with exact and layer-block Fisher converges in one step in a wide network",
    status=repro.grade(checks),
    criterion="single-unit Fisher block formula within 3% of Monte Carlo, closed-form inverse exact; wide net on "
              "two-class digits: one step of exact NGD and of layer-wise block-diagonal NGD (rate 1/L) below 5% of "
              "the starting loss, block-diagonal at rate 1 raises the loss, both beat tuned GD (every one of 3 draws); "
              "stronger: both beat tuned GD after several steps",
    checks=checks,
    measured={
        "unit_monte_carlo_difference": repro.measure(mc_error, tol=0.005, basis="Monte Carlo error, 1e6 draws"),
        "unit_inverse_error": repro.measure(inverse_error, tol=1e-12, basis="rounding"),
        "exact_one_step_max": float(one["exact"].max()), "block_one_step_max": float(one["block 1/L"].max()),
        "block_rate1_one_step_min": float(one["block rate 1"].min()),
        "kfac_one_step_max": float(one["K-FAC"].max()), "unit_one_step_min": float(one["unit-wise"].min()),
        "tuned_gd_one_step_min": float(min(gd_one)),
        "tuned_gd_after_steps_min": float(min(c[-1] for c in curves["tuned GD"])),
        "n_seeds": n_seeds, "n_train": t_in,
        "exact_one_step_median_narrowest": float(np.median(sweep[narrower[0]]["exact"])) if narrower else float("nan"),
        "narrowest_width": narrower[0] if narrower else width,
    },
    controls={
        "gd_at_ngd_rate": repro.control("plain gradient descent at the natural-gradient rate 1", control_gd,
                                        {"one_step_min": float(one["GD at rate 1"].min())}),
        "block_rate_1": repro.control("layer blocks at rate 1 instead of 1/L", control_rate1,
                                      {"one_step_min": float(one["block rate 1"].min())}),
    },
)
assert all(checks.values()), checks
assert not any(repro.control("", c).passed_check for c in (control_gd, control_rate1)), "a control passed the check"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. The single-unit Fisher block is a multiple of the identity plus rank 2: the closed
# form (1) differs from a Monte Carlo average by {glue:text}`unit_monte_carlo_difference:.4f` (relative Frobenius),
# and its inverse, which needs only a $2\times2$ inversion, reproduces the identity to
# {glue:text}`unit_inverse_error:.0e`.
#
# On {glue:text}`n_train` digit images and a network of width 1024, one step of exact natural gradient leaves at most
# {glue:text}`exact_one_step_max:.4f` of the starting loss and one step with layer blocks at rate $1/L$ at most
# {glue:text}`block_one_step_max:.4f`, over three draws. Tuned gradient descent keeps at least
# {glue:text}`tuned_gd_one_step_min:.3f` after one step and {glue:text}`tuned_gd_after_steps_min:.3f` after
# {glue:text}`steps`. Layer blocks at rate 1, the exact Fisher's rate, raise the loss by a factor of at least
# {glue:text}`block_rate1_one_step_min:.2f` (the linear prediction is $(L-1)^2 = 4$; the step is large enough for the
# network to bend). Plain gradient descent at rate 1 multiplies the loss by {glue:text}`gd_at_ngd_rate.one_step_min:.0f`
# or more: the natural gradient's rate is safe only because the Fisher matrix whitens the pathological spectrum of K1.
#
# Width matters: at width {glue:text}`narrowest_width` the median exact step leaves
# {glue:text}`exact_one_step_median_narrowest:.3f` of the loss (see the sweep above), so "wide" is part of the claim.
#
# The two other approximations are reported, not checked. K-FAC at its rate (2) keeps at most
# {glue:text}`kfac_one_step_max:.3f` of the loss: close to one-step convergence. The unit-wise blocks at their rate
# keep at least {glue:text}`unit_one_step_min:.3f`: at our width they do not converge in one step. Their step for unit
# $i$ divides the residual by that unit's backward signal $\delta_i(t)$, which passes close to zero on some inputs,
# so a few units take huge steps and the network leaves its linearisation (even the $10^{-7}$ step above shows a
# gain off the prediction). Karakida and Osawa's unit-wise result holds in the infinite-width limit under extra
# conditions; we do not see it at width 1024.
