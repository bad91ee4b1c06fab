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
# large to invert in a deep network. Amari, Karakida and Oizumi argued that in wide random networks the Fisher
# matrix is close to block diagonal over units (the blocks between two units being smaller by a factor of order
# $1/\sqrt M$ than a unit's own block), and that one unit's block is a multiple of the identity plus a rank-2 matrix,
# with an explicit inverse {cite}`amari2019fisher`. Karakida and Osawa showed that in the neural-tangent regime exact
# natural gradient and several approximations (layer-wise block diagonal, K-FAC {cite}`martens2015optimizing`, and,
# under further assumptions, unit-wise) all move the outputs isotropically in function space, so each converges in
# one step at its own learning rate: 1 for the exact Fisher, $1/L$ for $L$ layer blocks
# {cite}`karakida2020understanding`. The report lists this as its second result {cite}`report003`.
#
# **What we do.** Check the single-unit block and its inverse against Monte Carlo and rounding; measure how large the
# blocks between units are against a unit's own block as the width grows; implement the exact natural gradient and
# three approximations in their dual ($T\times T$) forms and measure each one's function-space gain on the
# linearised network; train tanh networks of widths 128 to 1024 on a two-class digits task, one natural-gradient
# step against tuned gradient descent.
#
# **What is ours.** The dual forms, the per-method one-step rates for our parametrisation (in particular K-FAC's,
# which depends on how the Kronecker factors are normalised, and the unit-wise rate), the way the
# diagonal-plus-rank-2 block is written (an orthonormal pair of directions and a $2\times2$ core), the measure of
# block-diagonal dominance (root-mean-square Frobenius norm of the blocks between units over that of the units' own
# blocks) are our derivations of the papers' statements; the task, sizes, thresholds and controls are ours. We read
# the papers' abstracts and introductions; the unit-wise section of Karakida and Osawa was not available to us in
# full, so the unit-wise rate below is our own derivation (it agrees with the form $1/(\gamma (L-1) M)$, $\gamma$ the
# fraction of nonzero backward signals, which is 1 for tanh).

# %% tags=["parameters"]
seed = 0
classes = (3, 8)  # the two digit classes, targets +1 and -1
per_class = 24  # training images per class: T = 48 <= 65 = pixels + 1, which K-FAC and unit-wise need
width = 1024
narrower = [128, 256, 512]  # the width sweep below `width`
narrow = 64  # the near-miss control: far from the wide limit, yet wide enough (>= T) for every dual Gram matrix
depth = 3  # weight layers L: 64 -> M -> M -> 1
sigma_w2 = 2.0
sigma_b2 = 0.5
n_seeds = 3  # draws of data and network at `width` (and at `narrow`), each against tuned gradient descent
sweep_draws = 6  # draws per width in the width sweep
steps = 5  # steps shown per method
unit_inputs = 16  # fan-in of the single unit
mc_samples = 1_000_000
device = "cpu"

# %%
import numpy as np

from dltheory import data, plotting, repro
from dltheory import fisher as fi

session = repro.setup(seed, device=device)
layer_widths = [*narrower, width]


def draw_task(i, w, *, classes, per_class, depth, sigma_w2, sigma_b2, session):
    """Draw i of the task: digits from stream ('data', i), a width-w network from stream ('net-w', i)."""
    x, y = data.two_class_digits(classes, per_class, session.rng_for("data", i), device=session.device)
    net = fi.random_network([x.shape[1]] + [w] * (depth - 1) + [1], sigma_w2=sigma_w2, sigma_b2=sigma_b2,
                            generator=session.generator_for(f"net-{w}", i))
    return net, x, y


task = dict(classes=classes, per_class=per_class, depth=depth, sigma_w2=sigma_w2, sigma_b2=sigma_b2, session=session)

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
# Only a $2\times 2$ matrix is inverted. We compare (1) with a Monte Carlo average (evidence: a wrong $A_k$ or a
# missing rank-2 part would miss it) and check the inverse (sanity: (1) is an identity once $U$ is orthonormal).

# %%
w_unit = session.rng_for("unit").normal(size=unit_inputs) * 0.5
b_unit, v_unit = 0.4, 1.3
block = fi.unit_fisher(w_unit, b_unit, variance=v_unit)
mc = fi.unit_fisher_monte_carlo(w_unit, b_unit, session.rng_for("monte-carlo"), variance=v_unit, n_samples=mc_samples)
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
#
# ## Is the Fisher matrix block diagonal over units?
#
# Within one layer, write $F_{ij}$ for the block of $F = J^\top J/T$ between unit $i$'s incoming weights and bias and
# unit $j$'s. With backward signals $\delta_i(t) = \partial f(t)/\partial u_i(t)$ and layer inputs $\tilde h(t)$,
# $\|F_{ij}\|^2 = T^{-2}\sum_{t,s}\delta_i(t)\delta_j(t)\delta_i(s)\delta_j(s)\,(\tilde h(t)\cdot\tilde h(s))^2$,
# which we sum without forming $F$. The unit-wise approximation rests on the ratio
#
# $$
# \rho(M) = \Big(\operatorname{mean}_{i\ne j}\|F_{ij}\|^2 \big/ \operatorname{mean}_i\|F_{ii}\|^2\Big)^{1/2}, \tag{2}
# $$
#
# which should fall like $M^{-1/2}$ if the blocks between units are smaller by $1/\sqrt M$. We measure it for both
# hidden layers of the first draw at each width, and fit the log-log slope (evidence: at most $-0.25$, halfway between
# no decay and the stated $-0.5$).

# %%
dominance = {w: [fi.unit_block_norms(*draw_task(0, w, **task)[:2], layer).ratio for layer in range(1, depth)]
             for w in layer_widths}
rho = np.array([np.mean(v) for v in dominance.values()])
dominance_slope = float(np.polyfit(np.log(layer_widths), np.log(rho), 1)[0])
for w, v in dominance.items():
    print(f"M = {w:5d}: rho (layer 1, layer 2) = {np.round(v, 3)}")
print(f"log-log slope of rho in M: {dominance_slope:.3f} (unit-wise block dominance needs -0.5)")

# %%
fig, ax = plotting.subplots(width=6, height=3.0)
for layer in range(1, depth):
    ax.plot(layer_widths, [dominance[w][layer - 1] for w in layer_widths], "o-", label=f"layer {layer}")
ax.plot(layer_widths, rho[0] * (np.array(layer_widths) / layer_widths[0]) ** -0.5, "k--", label=r"$\propto M^{-1/2}$")
ax.set(xscale="log", ylim=(0, None), xlabel="width M", ylabel=r"$\rho$: blocks between units / own block")
ax.minorticks_off()
ax.set_xticks(layer_widths, [str(w) for w in layer_widths])
ax.legend(fontsize=8)
plotting.plt.show()

# %% [markdown]
# *What to see:* $\rho$ stays near the same value at every width instead of falling along the dashed line: the blocks
# between two units are not small against a unit's own block. Our reading of why: with one output, a hidden unit's
# backward signal carries the sign of the weights above it, so $\delta_i(t)\delta_j(t)$ has a mean over the inputs of
# the same order as $\delta_i(t)^2$ (for the last hidden layer $\delta_i\delta_j = v_iv_j\varphi'(u_i)\varphi'(u_j)$
# against $\delta_i^2 = v_i^2\varphi'(u_i)^2$, with output weights $v$ of one common size). The $1/\sqrt M$ of the
# paper comes from averaging over the random weights, which a single network does not do.
#
# ## Natural gradient in the dual, and the rate each approximation needs
#
# With residuals $r$ (T,) and the Jacobian $J$ (T, P) of the outputs, the Fisher matrix is $F = J^\top J/T$ and the
# natural-gradient step $-\eta F^{+}\nabla L = -\eta J^\top (JJ^\top)^{+} r$ needs only the $T\times T$ Gram matrix.
# Linearised, it moves the outputs by $-\eta r$. Replacing $F$ by its layer blocks moves them by $-\eta\sum_l
# J_lJ_l^\top(J_lJ_l^\top)^{-1}r = -\eta L r$; K-FAC ($F_l \approx B_l\otimes A_{l-1}$, factors averaged over inputs)
# moves them by $T r$ per hidden layer and $r$ for the output layer; unit-wise blocks by $r$ per unit whose backward
# signal is nonzero on every input (all of them for tanh). So one step zeroes the linearised residual at
#
# $$
# \eta_{\text{exact}} = 1,\qquad \eta_{\text{block}} = \frac1L,\qquad \eta_{\text{K-FAC}} = \frac1{(L-1)T + 1},\qquad
# \eta_{\text{unit}} = \frac1{\sum_l M_l}, \tag{3}
# $$
#
# when every dual Gram matrix is invertible (for K-FAC and the unit blocks this needs $T \le$ pixels $+1$). We
# measure each gain $g$ on the first draw at width {glue:text}`width` as the change $J\Delta\theta$ of the
# linearised outputs (a Jacobian-vector product, exact however large the step) for a step at rate 1:
# $g = -\langle J\Delta\theta, r\rangle/|r|^2$, and how far $J\Delta\theta$ is from $-g\,r$. Both are sanity checks:
# they test our code against our algebra (3), not the claim.

# %%
def linear_gains(net, x, y, methods):
    """Per method: (the gain g of a rate-1 step on the linearised outputs, |J dtheta + g r| / |g r|)."""
    r = fi.forward(net, x)[0][-1] - y
    out = {}
    for m in methods:
        move = fi.linearised_step(net, fi.ngd_step(net, x, y, 1.0, method=m), x)  # (T, 1)
        g = float(-(move * r).sum() / (r * r).sum())
        out[m] = (g, float((move + g * r).norm() / (g * r).norm()))
    return out


methods = ("exact", "block", "kfac", "unit")
net0, x0, y0 = draw_task(0, width, **task)
gains = linear_gains(net0, x0, y0, methods)
gain_error = max(abs(g * fi.one_step_rate(m, net0.widths, x0.shape[0]) - 1) for m, (g, _) in gains.items())
isotropy_error = max(iso for _, iso in gains.values())
for m, (g, iso) in gains.items():
    print(f"{m:>6}: linearised gain {g:9.3f}, predicted 1/eta = {1 / fi.one_step_rate(m, net0.widths, 48):7.1f},"
          f" off the direction of r by {iso:.1e}")

# %% [markdown]
# The unit-wise gain is exactly $\sum_l M_l$ on the linearised network. A finite difference with a step of $10^{-7}$
# in the learning rate (what an earlier version of this page measured) gives far less, because the unit-wise step
# is enormous in parameter space: each unit divides the residual by its own backward signal, and the first layer
# also inverts the ill-conditioned Gram matrix of the digit images. Even $10^{-7}$ of it leaves the linear regime:

# %%
def finite_difference_gain(net, x, y, method, eps):
    """The gain measured by actually stepping the network at learning rate eps."""
    f0 = fi.forward(net, x)[0][-1]
    df = (fi.forward(fi.ngd_step(net, x, y, eps, method=method), x)[0][-1] - f0) / eps
    return float(-(df * (f0 - y)).sum() / ((f0 - y) ** 2).sum())


def step_norm(net, x, y, method, lr):
    """|theta' - theta| of one step at rate lr."""
    new = fi.ngd_step(net, x, y, lr, method=method)
    return float(sum((a - b).pow(2).sum() for a, b in zip(new.weights + new.biases, net.weights + net.biases,
                                                           strict=True)).sqrt())


unit_fd_gain = finite_difference_gain(net0, x0, y0, "unit", 1e-7)
unit_step_ratio = (step_norm(net0, x0, y0, "unit", fi.one_step_rate("unit", net0.widths, x0.shape[0]))
                   / step_norm(net0, x0, y0, "exact", 1.0))
print(f"unit-wise gain by a 1e-7 finite difference: {unit_fd_gain:.1f}; "
      f"|unit-wise step| / |exact step| at their rates (3): {unit_step_ratio:.3g}")
repro.glue("width", width)

# %% [markdown]
# ## One step on a wide network, against tuned gradient descent
#
# For each of {glue:text}`n_seeds` draws of data and network we take {glue:text}`steps` steps of each method at its
# rate (3), and of layer blocks at rate 1, the rate that is right for the exact Fisher. Gradient descent is tuned: of
# 24 rates up to $2/\lambda_{max}$ (the largest Fisher eigenvalue of that network, from K1's dual Gram matrix) we keep
# the one with the lowest loss after one step, and likewise after {glue:text}`steps` steps.

# %%
runs = {"exact": ("exact", 1.0), "block 1/L": ("block", 1 / depth), "block rate 1": ("block", 1.0),
        "K-FAC": ("kfac", None), "unit-wise": ("unit", None), "GD at rate 1": ("gd", 1.0)}


def run_methods(net, x, y, runs, steps):
    """Relative losses (steps + 1,) of each method in `runs` (name -> (method, rate or None for rate (3)))."""
    return {name: fi.train(net, x, y, lr or fi.one_step_rate(m, net.widths, x.shape[0]), method=m, steps=steps)
            for name, (m, lr) in runs.items()}


def tuned_gd(net, x, y, steps, n_rates=24):
    """Gradient descent at n_rates rates up to 2/lambda_max: (best loss after one step, best curve after steps)."""
    grid = np.linspace(2 / n_rates, 2, n_rates) / fi.empirical_spectrum(net, x).max
    curves = [fi.train(net, x, y, lr, method="gd", steps=steps) for lr in grid]
    return min(c[1] for c in curves), min(curves, key=lambda c: c[-1])


def wide_runs(w, n, runs, steps, task):
    """One-step and multi-step results of every method and of tuned GD on draws 0..n-1 at width w."""
    curves, gd_one = {name: [] for name in [*runs, "tuned GD"]}, []
    for i in range(n):
        net, x, y = draw_task(i, w, **task)
        for name, c in run_methods(net, x, y, runs, steps).items():
            curves[name].append(c)
        best_one, best_curve = tuned_gd(net, x, y, steps)
        gd_one.append(best_one)
        curves["tuned GD"].append(best_curve)
    return curves, np.array(gd_one)


# %%
curves, gd_one = wide_runs(width, n_seeds, runs, steps, task)
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
# *What to see:* the median over the draws. Exact natural gradient and layer blocks at $1/L$ drop the loss by
# orders of magnitude in one step, and K-FAC at its rate nearly so; layer blocks at rate 1 overshoot (less than the
# linear factor $(L-1)^2$, as the network bends under so large a step) and do not recover; unit-wise blocks leave the
# loss near its start after one step and run away at the next (the curve ends: the loss is no longer finite);
# gradient descent at the natural-gradient rate 1 explodes, and tuned gradient descent creeps down. The dotted line
# is 5% of the start.
#
# ## How wide must the network be?
#
# The one-step property is a statement about the linearised network, which a finite network only approaches. The
# evidence that it is the width that makes it hold is the trend: over {glue:text}`sweep_draws` draws at each width
# we take one step of exact natural gradient, layer blocks at both rates and unit-wise blocks, and fit the log-log
# slope of the median loss left. The part of the step the linearisation misses is of second order in the step, of
# size $1/\sqrt M$ in the output, so the loss left should fall like $1/M$; we require a slope of at most $-0.5$.

# %%
sweep_runs = {name: runs[name] for name in ("exact", "block 1/L", "block rate 1", "unit-wise")}
sweep = {w: {name: [] for name in sweep_runs} for w in layer_widths}
for w in layer_widths:
    for i in range(sweep_draws):
        for name, c in run_methods(*draw_task(i, w, **task), sweep_runs, 1).items():
            sweep[w][name].append(c[1])
median = {name: np.array([np.median(sweep[w][name]) for w in layer_widths]) for name in sweep_runs}
width_slope = {name: float(np.polyfit(np.log(layer_widths), np.log(v), 1)[0]) for name, v in median.items()}
for name in sweep_runs:
    print(f"{name:>13}: median loss after one step {np.round(median[name], 4)}, slope {width_slope[name]:.2f}")
repro.glue("sweep_draws", sweep_draws)

# %%
fig, ax = plotting.subplots(width=6, height=3.0)
for name, v in median.items():
    ax.plot(layer_widths, v, "o-", label=name)
ax.axhline(0.05, color="k", ls=":", lw=0.8)
ax.axhline(1.0, color="k", lw=0.8)
ax.set(xscale="log", yscale="log", xlabel="width M", ylabel="loss after one step / start")
ax.minorticks_off()
ax.set_xticks(layer_widths, [str(w) for w in layer_widths])
ax.legend(fontsize=8)
plotting.plt.show()

# %% [markdown]
# *What to see:* medians over the draws. What the exact and $1/L$ steps leave falls steeply with the width; at rate 1
# layer blocks leave about as much as they started with, or more, and do not improve with width (the linear
# prediction is $(L-1)^2 = 4$ times the start); neither does the unit-wise step.

# %% [markdown]
# ## The check and its controls
#
# The acceptance criterion (the catalogue, `book/claims.yml`): the single-unit block (1) matches Monte Carlo within
# 3% and its closed-form inverse is exact; on every draw one step of exact natural gradient and of layer blocks at
# rate $1/L$ leaves less than 5% of the starting loss, layer blocks at rate 1 raise the loss, and both natural
# gradients end their one step below tuned gradient descent's best one step. Beside it, stronger:
#
# - their one step also beats tuned gradient descent after {glue:text}`steps` steps;
# - the trend with width: the slopes of the sweep above at most $-0.5$ for exact and $1/L$ steps;
# - the two unit-wise statements of the papers: the blocks between units shrink with width (slope of (2) at most
#   $-0.25$), and one unit-wise step at its rate (3) leaves less than 5% of the loss at width {glue:text}`width`.
#
# These are evidence: each is a property of the actual (not the linearised) network, and each fails somewhere
# nearby. The linearised gains (3) of the exact and $1/L$ steps and the exactness of the inverse hold by
# construction when the code is right, so they are sanity checks.
#
# Controls: *layer blocks at rate 1* in place of $1/L$ (near miss: the exact Fisher's rate, a natural mistake; it
# passes every sanity check); *a network of width {glue:text}`narrow`* (near miss: the same methods, rates and
# draws, far from the wide limit; the linearised step is still exact there); and *plain gradient descent at the
# natural-gradient rate 1* in place of exact natural gradient (far: it explodes).

# %%
def check(r, shared, slopes=None):
    """The criterion's parts from one setting's figures r (per-draw arrays and sanity figures), the unit-block figures
    shared by every setting, and (where a width sweep exists) the log-log slopes in width."""
    worst = np.maximum(r["exact"], r["block"])
    c = {"unit_block_vs_monte_carlo": repro.evidence(shared["mc_error"], "<=", 0.03),
         "exact_one_step_below_5pct": repro.evidence(r["exact"].max(), "<", 0.05),
         "block_one_step_below_5pct": repro.evidence(r["block"].max(), "<", 0.05),
         "block_rate1_overshoots": repro.evidence(r["block_rate1"].min(), ">", 1.0),
         "exact_beats_tuned_gd": repro.evidence((r["exact"] / r["gd_one"]).max(), "<", 1.0),
         "block_beats_tuned_gd": repro.evidence((r["block"] / r["gd_one"]).max(), "<", 1.0),
         "one_step_beats_tuned_gd_after_steps": repro.evidence((worst / r["gd_steps"]).max(), "<", 1.0),
         "blocks_between_units_shrink": repro.evidence(shared["dominance_slope"], "<=", -0.25, scale=0.25),
         "unit_wise_one_step_below_5pct": repro.evidence(r["unit"].max(), "<", 0.05),
         "unit_inverse_exact": repro.sanity(shared["inverse_error"], "<=", 1e-10),
         "linearised_gains_match_rates": repro.sanity(r["gain_error"], "<=", 1e-6),
         "linearised_step_along_residual": repro.sanity(r["isotropy_error"], "<=", 1e-6)}
    if slopes is not None:
        c["exact_width_slope"] = repro.evidence(slopes["exact"], "<=", -0.5, scale=0.5)
        c["block_width_slope"] = repro.evidence(slopes["block"], "<=", -0.5, scale=0.5)
    return c


def figures(one, gd_one, gd_steps, gains, net_widths, t):
    """The per-draw arrays and sanity figures of one setting, exact and 1/L blocks' gains against (3)."""
    rate = {m: fi.one_step_rate(m, net_widths, t) for m in ("exact", "block")}
    return {"exact": one["exact"], "block": one["block 1/L"], "block_rate1": one["block rate 1"],
            "unit": one["unit-wise"], "gd_one": gd_one, "gd_steps": gd_steps,
            "gain_error": max(abs(gains[m][0] * rate[m] - 1) for m in rate),
            "isotropy_error": max(gains[m][1] for m in rate)}


# %%
shared = {"mc_error": mc_error, "inverse_error": inverse_error, "dominance_slope": dominance_slope}
main = figures(one, gd_one, np.array([c[-1] for c in curves["tuned GD"]]), gains, net0.widths, x0.shape[0])
checks = check(main, shared, {"exact": width_slope["exact"], "block": width_slope["block 1/L"]})

rate1 = dict(main, block=main["block_rate1"])
control_rate1 = check(rate1, shared, {"exact": width_slope["exact"], "block": width_slope["block rate 1"]})

curves_n, gd_one_n = wide_runs(narrow, n_seeds, runs, steps, task)
one_n = {name: np.array([c[1] for c in cs]) for name, cs in curves_n.items()}
net_n, x_n, y_n = draw_task(0, narrow, **task)
narrow_fig = figures(one_n, gd_one_n, np.array([c[-1] for c in curves_n["tuned GD"]]),
                     linear_gains(net_n, x_n, y_n, ("exact", "block")), net_n.widths, x_n.shape[0])
control_narrow = check(narrow_fig, shared)

control_gd = check(dict(main, exact=one["GD at rate 1"]), shared)
for name, c in (("main", checks), ("blocks at rate 1", control_rate1), (f"width {narrow}", control_narrow),
                ("GD at rate 1", control_gd)):
    print(f"{name}: fails {[k for k, v in c.items() if not v.passed] or 'nothing'}")
repro.glue("narrow", narrow)

# %%
unit_parts = ("blocks_between_units_shrink", "unit_wise_one_step_below_5pct")
controls = {
    "block_rate_1": repro.control("layer blocks at rate 1 (the exact Fisher's rate) instead of 1/L", control_rate1,
                                  {"one_step_min": float(one["block rate 1"].min()),
                                   "width_slope": width_slope["block rate 1"]}, kind="near miss"),
    "narrow": repro.control(f"the same methods and rates on networks of width {narrow}", control_narrow,
                            {"exact_one_step_max": float(one_n["exact"].max()),
                             "block_one_step_max": float(one_n["block 1/L"].max())}, kind="near miss"),
    "gd_at_ngd_rate": repro.control("plain gradient descent at the natural-gradient rate 1", control_gd,
                                    {"one_step_min": float(one["GD at rate 1"].min())}, kind="far"),
}

# %%
measured = {
    "unit_monte_carlo_difference": repro.measure(mc_error, tol=0.005, basis="Monte Carlo error, 1e6 draws"),
    "unit_inverse_error": repro.measure(inverse_error, tol=1e-12, basis="rounding"),
    "exact_one_step_max": float(one["exact"].max()), "block_one_step_max": float(one["block 1/L"].max()),
    "block_rate1_one_step_min": float(one["block rate 1"].min()),
    "kfac_one_step_max": float(one["K-FAC"].max()),
    "unit_one_step_min": float(one["unit-wise"].min()), "unit_one_step_max": float(one["unit-wise"].max()),
    "tuned_gd_one_step_min": float(gd_one.min()),
    "tuned_gd_after_steps_min": float(main["gd_steps"].min()),
    "exact_width_slope": width_slope["exact"], "block_width_slope": width_slope["block 1/L"],
    "unit_width_slope": width_slope["unit-wise"],
    "exact_one_step_median_narrowest": float(median["exact"][0]), "narrowest_width": layer_widths[0],
    "dominance_ratio_narrowest": float(rho[0]), "dominance_ratio_widest": float(rho[-1]),
    "dominance_slope": dominance_slope,
    "gain_error": repro.measure(main["gain_error"], tol=1e-8, basis="rounding"),
    "unit_linear_gain": gains["unit"][0], "unit_sum_of_widths": int(sum(net0.widths[1:])),
    "unit_fd_gain": unit_fd_gain, "unit_step_ratio": unit_step_ratio,
    "n_seeds": n_seeds, "n_train": int(x0.shape[0]),
}

# %%
repro.record_claim(
    "K2",
    title="Natural gradient with exact and layer-block Fisher converges in one step in a wide network; "
          "unit-wise blocks do not",
    status=repro.grade(checks),
    criterion="single-unit Fisher block formula within 3% of Monte Carlo, closed-form inverse exact; wide net on "
              "two-class digits: one step of exact NGD and of layer-wise block-diagonal NGD (rate 1/L) below 5% of "
              "the starting loss, block-diagonal at rate 1 raises the loss, both beat tuned GD (every one of 3 draws); "
              "stronger: both beat tuned GD after several steps, the loss they leave falls with width (slope <= -0.5), "
              "the unit-wise statements (blocks between units shrink with width, slope <= -0.25; one unit-wise step "
              "below 5%)",
    checks=checks, measured=measured, controls=controls,
)
assert all(c.passed for k, c in checks.items() if k not in unit_parts), checks  # the parts the verdict rests on
for name in ("block_rate_1", "narrow"):
    assert controls[name].sanity_passed and not controls[name].passed_check, (name, controls[name].failed_evidence)
assert "block_one_step_below_5pct" in controls["block_rate_1"].failed_evidence
assert "exact_one_step_below_5pct" in controls["narrow"].failed_evidence

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**: every part of the catalogue's criterion holds, with its controls failing as they
# must; the two unit-wise statements we added beside it do not (below). The single-unit Fisher block is a multiple
# of the identity plus rank 2: the closed
# form (1) differs from a Monte Carlo average by {glue:text}`unit_monte_carlo_difference:.4f` (relative Frobenius),
# and its inverse, which needs only a $2\times2$ inversion, reproduces the identity to
# {glue:text}`unit_inverse_error:.0e`.
#
# On {glue:text}`n_train` digit images and networks of width {glue:text}`width`, one step of exact natural gradient
# leaves at most {glue:text}`exact_one_step_max:.4f` of the starting loss and one step with layer blocks at rate
# $1/L$ at most {glue:text}`block_one_step_max:.4f`, over {glue:text}`n_seeds` draws. Tuned gradient descent keeps
# at least {glue:text}`tuned_gd_one_step_min:.3f` after one step and {glue:text}`tuned_gd_after_steps_min:.3f` after
# {glue:text}`steps`. Layer blocks at rate 1 raise the loss by a factor of at least
# {glue:text}`block_rate1_one_step_min:.2f` (the linear prediction is $(L-1)^2 = 4$; the step is large enough for the
# network to bend). Plain gradient descent at rate 1 multiplies the loss by
# {glue:text}`gd_at_ngd_rate.one_step_min:.0f` or more.
#
# Width is what makes it work, and this is the evidence that the one-step result is not just the algebra of (3)
# (which holds on the linearised network by construction: the gains match (3) to {glue:text}`gain_error:.0e`): the
# median loss left by one exact step falls with log-log slope {glue:text}`exact_width_slope:.2f` in the width (layer
# blocks: {glue:text}`block_width_slope:.2f`); at width {glue:text}`narrowest_width` the exact step leaves
# {glue:text}`exact_one_step_median_narrowest:.3f` in the median, and at width {glue:text}`narrow` (the near miss)
# up to {glue:text}`narrow.exact_one_step_max:.2f`. At rate 1 the layer blocks do not improve with width (slope
# {glue:text}`block_rate_1.width_slope:.2f`).
#
# K-FAC at its rate (3) keeps at most {glue:text}`kfac_one_step_max:.3f` of the loss: close to one-step convergence.
#
# **The unit-wise statements do not reproduce here.** The blocks between units are not small: $\rho$ of (2) is
# {glue:text}`dominance_ratio_narrowest:.2f` at width {glue:text}`narrowest_width` and
# {glue:text}`dominance_ratio_widest:.2f` at width {glue:text}`width` (slope {glue:text}`dominance_slope:.2f`,
# against $-0.5$; our $F$ is taken over the training images, the paper's is an expectation over the input
# distribution, which we did not compute). One unit-wise step at its rate keeps between
# {glue:text}`unit_one_step_min:.2f` and
# {glue:text}`unit_one_step_max:.2f` of the loss at width {glue:text}`width`, and it does not improve with width
# (slope {glue:text}`unit_width_slope:.2f`). The rate itself is right: on the linearised network the unit-wise step
# has gain {glue:text}`unit_linear_gain:.1f`, which is $\sum_l M_l$ = {glue:text}`unit_sum_of_widths`; a finite
# difference with a $10^{-7}$ step finds only {glue:text}`unit_fd_gain:.0f`, because the step is
# {glue:text}`unit_step_ratio:.2g` times longer in parameter space than the exact natural-gradient step and even a
# small fraction of it leaves the linear regime. Each unit divides the residual by its own backward signal, which is
# small for some units and inputs, and the first layer inverts the ill-conditioned Gram matrix of the images. Karakida
# and Osawa's unit-wise result is a statement about the infinite-width limit under further assumptions; at widths up
# to {glue:text}`width` we do not approach it, and the sweep gives no sign that wider networks would.
