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
# # K3 · Plateaus of online learning shorten when the network has several outputs
#
# **The result.** Online gradient descent in a two-layer network often stalls on a plateau: the hidden units of
# the student stay interchangeable, because the target treats them symmetrically, until noise or a small initial
# asymmetry grows enough to break the tie. Yoshida, Karakida, Okada and Amari reduce the online dynamics of a
# two-layer perceptron with *several* outputs to ordinary differential equations for a few order parameters, and
# show that the plateau shrinks or disappears when the outputs pull the hidden units in different directions; the
# further the teacher is from a one-output network, the shorter the plateau {cite}`yoshida2019statistical`. The
# report lists it as its third result {cite}`report003`.
#
# **What we do.** A student with two erf hidden units learns a teacher with two erf hidden units whose output
# vectors make an angle $\theta$ (one output: $\theta = 0$ with a single output). We integrate the order-parameter
# ODEs (Saad and Solla's construction {cite}`saad1995online`, with learned output vectors as in
# {cite}`riegler1995online`) and run online SGD at $N$ = {glue:text}`n_inputs` inputs from the same initial
# weights, over several seeds.
#
# **What is ours.** The model, the order parameters and the idea of the angle come from the paper (we had its
# abstract, not its full text). The Gaussian integrals are our derivation by one device, tilting the Gaussian (see
# `dltheory.dynamics`), checked against Monte Carlo in the tests; the initialisation, the learning rate, the
# escape threshold and the sizes are ours.

# %% tags=["parameters"]
seed = 0
n_inputs = 500  # N
lr = 0.5  # eta, for both layers
alpha_max = 250.0  # run length in alpha = steps / N
runs = 5  # SGD seeds per configuration
angles_deg = [0, 15, 30, 45, 60, 75, 90]  # teacher output angles for the ODE sweep
escape_error = 0.005  # escaped once the generalisation error falls below this (plateau ~0.015, start ~0.33)
device = "cpu"

# %%
import math
import time

import numpy as np

from dltheory import dynamics as dy
from dltheory import plotting, repro, stats

session = repro.setup(seed, device=device)
repro.glue("n_inputs", n_inputs)

# %% [markdown]
# ## The order-parameter equations
#
# With fields $x_i = J_i\cdot\xi/\sqrt N$, $y_n = B_n\cdot\xi/\sqrt N$, outputs $f = \sum_i w_i g(x_i)$ and
# $t = \sum_n v_n g(y_n)$ in $\mathbb R^2$, and $\delta_i = g'(x_i)\,w_i\cdot(t - f)$, online SGD moves
# $Q = JJ^\top/N$, $R = JB^\top/N$ and $w$ by $O(1/N)$ per example, so in $\alpha = \text{steps}/N$
#
# $$ \dot R_{in} = \eta\langle\delta_i y_n\rangle,\qquad
#    \dot Q_{ik} = \eta\langle\delta_i x_k + \delta_k x_i\rangle + \eta^2\langle\delta_i\delta_k\rangle,\qquad
#    \dot w_i = \eta\langle g(x_i)(t - f)\rangle, \tag{1}$$
#
# and the generalisation error is $\epsilon_g = \tfrac12\langle |t - f|^2\rangle$, all averages Gaussian with
# covariance built from $Q$, $R$ and $T = I$. One output is the case $v_1 = v_2$ on a single axis; for two outputs
# $v_1 = (1, 0)$, $v_2 = (\cos\theta, \sin\theta)$.

# %% [markdown]
# ## SGD against the ODE
#
# Three configurations share each seed's initial input weights: one output, two parallel outputs ($\theta = 0$,
# the control) and two orthogonal outputs ($\theta = 90°$). The ODE starts from each run's own initial order
# parameters.

# %%
configs = {"one output": 0.0, "parallel (θ = 0)": 0.0, "orthogonal (θ = 90°)": math.pi / 2}
J, w, B = dy.initial_state(runs, n_inputs, outputs=2, rng=session.rng)
J, w = np.concatenate([J] * 3), np.concatenate([w] * 3)
w[:runs, :, 1] = 0.0  # one output: the second output is absent in student and teacher
v = np.concatenate([np.repeat(dy.teacher_at_angle(a).v[None], runs, 0) for a in configs.values()])
v[:runs, :, 1] = 0.0
t0 = time.process_time()
sgd = dy.simulate_sgd(J, w, B, v, alpha_max, lr=lr, record_every=2.0, rng=session.rng)
sgd_seconds = time.process_time() - t0
ode = [dy.integrate_ode(dy.State(sgd.Q[s, 0], sgd.R[s, 0], sgd.w[s, 0]), dy.Teacher(v[s]), sgd.alpha, lr=lr)
       for s in range(3 * runs)]
ode_err = np.array([o.error for o in ode])  # (3 runs, T)
print(f"SGD: {3 * runs} runs of {int(alpha_max * n_inputs)} steps in {sgd_seconds:.0f} s CPU")

# %%
fig, axes = plotting.subplots(1, 3, width=9.5, height=2.8, sharey=True)
for ax, (k, name) in zip(axes, enumerate(configs), strict=True):
    sl = slice(k * runs, (k + 1) * runs)
    for s, c in zip(range(sl.start, sl.stop), plotting.COLORS, strict=False):
        ax.plot(sgd.alpha, sgd.error[s], color=c, lw=1, alpha=0.6)
        ax.plot(sgd.alpha, ode_err[s], color=c, lw=1, ls="--")
    ax.axhline(escape_error, color="k", lw=0.7)
    ax.set(title=name, xlabel=r"$\alpha$", yscale="log", ylim=(1e-4, 0.5))
axes[0].set_ylabel(r"generalisation error $\epsilon_g$")
plotting.plt.show()

# %% [markdown]
# *What to see:* solid lines are SGD runs, dashed lines the ODE from the same start (one colour per seed). With one
# output or parallel outputs every run sits on the plateau near $\epsilon_g \approx 0.015$ from $\alpha \approx 30$
# on; the thin black line is the escape threshold. With orthogonal outputs most runs fall through without a long
# plateau.
#
# ## Escape time against the angle
#
# The ODE, from the same five initial states, for teacher angles between 0 and 90°.

# %%
alphas = np.linspace(0, alpha_max, 251)
sweep = np.array([[dy.escape_time(alphas, dy.integrate_ode(
    dy.State(sgd.Q[s, 0], sgd.R[s, 0], sgd.w[s, 0]), dy.teacher_at_angle(math.radians(a)), alphas, lr=lr,
    rtol=1e-6, atol=1e-9).error, escape_error) for s in range(2 * runs, 3 * runs)] for a in angles_deg])
sgd_escape = dy.escape_time(sgd.alpha, sgd.error, escape_error).reshape(3, runs)
censored = np.minimum(sgd_escape, alpha_max)  # not escaped by alpha_max counts as alpha_max: a lower bound
fig, ax = plotting.subplots(width=6, height=3)
ax.plot(angles_deg, np.median(np.minimum(sweep, alpha_max), 1), "o-", label="ODE, median of 5 starts")
ax.plot([0, 90], np.median(censored[1:], 1), "s", ms=7, label=f"SGD, N = {n_inputs}, median of {runs}")
ax.axhline(np.median(censored[0]), color="k", lw=0.8, ls=":", label="SGD, one output")
ax.set(xlabel=r"angle between teacher output vectors $\theta$ (degrees)",
       ylabel=r"escape time $\alpha$ (capped at $\alpha_{max}$)")
ax.legend(fontsize=8)
plotting.plt.show()
print("SGD escape times:", {n: np.round(e, 1).tolist() for n, e in zip(configs, sgd_escape, strict=True)})

# %% [markdown]
# *What to see:* the escape time falls as the teacher's output vectors open up, from the one-output plateau at
# $\theta = 0$ to a short transient at $90°$.
#
# ## The check and its control
#
# From `CLAIMS.md`: ODE and SGD ($N \ge 500$) agree within 10% along the trajectory; with one output the plateau is
# flat, $\epsilon_g(140)/\epsilon_g(40) > 0.9$; with two orthogonal outputs the median escape time is below 0.6 of
# the one-output time. We compare medians over seeds at every recorded $\alpha \le 140$ (the plateau window of the
# criterion), for each configuration, by the largest relative difference. Runs that have not escaped by
# $\alpha_{max}$ count as $\alpha_{max}$, which can only make the one-output time shorter, so the ratio we test is
# an upper bound. The control replaces the orthogonal outputs by parallel ones, where no shortening may occur.

# %%
def check(alpha, sgd_error, ode_error, escape, k_two):
    """CLAIMS.md's criterion for configuration ``k_two`` against the one-output configuration 0: errors
    (configurations x runs, len(alpha)) grouped by configuration, ``runs`` rows each; escape times (configurations,
    runs), censored at alpha_max."""
    window = alpha <= 140
    i40, i140 = np.searchsorted(alpha, 40), np.searchsorted(alpha, 140)
    one, two = slice(0, runs), slice(k_two * runs, (k_two + 1) * runs)
    med_sgd = {k: np.median(sgd_error[s], 0) for k, s in (("one", one), ("two", two))}
    med_ode = {k: np.median(ode_error[s], 0) for k, s in (("one", one), ("two", two))}
    dev = max(np.abs(med_sgd[k][window] / med_ode[k][window] - 1).max() for k in med_sgd)
    flat = med_sgd["one"][i140] / med_sgd["one"][i40]
    ratio = np.median(escape[k_two]) / np.median(escape[0])
    return ({"ode_sgd_within_10pct": bool(dev <= 0.1), "one_output_plateau_flat": bool(flat > 0.9),
             "escape_ratio_below_0.6": bool(ratio < 0.6)}, {"ode_sgd_max_deviation": dev, "flat_ratio": flat,
                                                             "escape_ratio": ratio})


checks, found = check(sgd.alpha, sgd.error, ode_err, censored, 2)
control, control_found = check(sgd.alpha, sgd.error, ode_err, censored, 1)
print(checks, found, control, control_found, sep="\n")

# %%
iv = stats.mean_interval(censored[2] / np.median(censored[0]))
repro.record_claim(
    "K3",
    title="Plateaus of online learning shorten with several outputs",
    status=repro.grade(checks),
    criterion="ODE and SGD (N >= 500) within 10% along the trajectory (medians over seeds, alpha <= 140); one "
              "output: eps_g(140)/eps_g(40) > 0.9; two orthogonal outputs: median escape time < 0.6 of one-output",
    checks=checks,
    measured={"ode_sgd_max_deviation": repro.measure(found["ode_sgd_max_deviation"], tol=0.05,
                                                     basis="finite-N fluctuations of 5 seeds"),
              "flat_ratio": repro.measure(found["flat_ratio"], tol=0.03, basis="spread of 5 seeds"),
              "escape_ratio": repro.measure(found["escape_ratio"], tol=2 * iv.sem, basis="2 standard errors, 5 seeds"),
              "escape_ratio_low": iv.low, "escape_ratio_high": iv.high,
              "one_output_median_escape": float(np.median(censored[0])),
              "orthogonal_median_escape": float(np.median(censored[2])),
              "ode_escape_90_median": float(np.median(np.minimum(sweep[-1], alpha_max))),
              "ode_escape_0_median": float(np.median(np.minimum(sweep[0], alpha_max))),
              "n_seeds": runs, "sgd_seconds": sgd_seconds},
    controls={"parallel": repro.control("two parallel outputs (theta = 0) in place of orthogonal ones", control,
                                        {"escape_ratio": control_found["escape_ratio"]})},
)
assert checks["one_output_plateau_flat"] and checks["escape_ratio_below_0.6"], checks
assert not all(control.values()), "the control passed the check"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. With one output the SGD runs sit on the plateau: the median generalisation error
# at $\alpha = 140$ is {glue:text}`flat_ratio:.3f` of that at $\alpha = 40$. With two orthogonal outputs the median
# escape time is {glue:text}`orthogonal_median_escape:.0f` against at least
# {glue:text}`one_output_median_escape:.0f` for one output, a ratio of {glue:text}`escape_ratio:.2f` (per-seed
# ratios to the one-output median: {glue:text}`escape_ratio_low:.2f` to {glue:text}`escape_ratio_high:.2f`, 95%
# interval over {glue:text}`n_seeds` seeds). Parallel outputs, the control, do not shorten the plateau (ratio
# {glue:text}`parallel.escape_ratio:.2f`). The ODE sweep shows the escape time falling with the angle between the
# teacher's output vectors, from {glue:text}`ode_escape_0_median:.0f` at 0° to
# {glue:text}`ode_escape_90_median:.0f` at 90°.
#
# The first criterion is **not reproduced**: ODE and SGD differ by up to {glue:text}`ode_sgd_max_deviation:.2f`
# (largest relative difference of the medians up to $\alpha = 140$), against the 0.10 allowed. Our reading, not
# tested here: on a plateau the dynamics amplify small asymmetries, and at $N = 500$ the $O(1/\sqrt N)$
# fluctuations of SGD break the symmetry at scattered times that the deterministic $N \to \infty$ limit does not
# follow. The per-seed escape ratios are widely spread; more seeds would narrow the interval above.
