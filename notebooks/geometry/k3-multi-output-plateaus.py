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
# further the teacher is from a one-output network, the shorter the plateau; and with orthogonalised initial
# output weights such plateaus seldom occur {cite}`yoshida2019statistical`. The report lists it as its third
# result {cite}`report003`.
#
# **What we do.** A student with two erf hidden units learns a teacher with two erf hidden units whose output
# vectors make an angle $\theta$ (one output: a single output unit). We integrate the order-parameter ODEs (Saad
# and Solla's construction {cite}`saad1995online`, with learned output vectors as in {cite}`riegler1995online`)
# and simulate online SGD at $N$ = {glue:text}`n_inputs` inputs, with several noise replicas (independent input
# streams) from each of several initial states, and compare each start's replica mean with the ODE from that
# start's own initial order parameters. We repeat the comparison at other $N$ to see the finite-size gap shrink.
#
# **What is ours.** The model, the order parameters, the angle between outputs and the orthogonalised
# initialisation come from the paper; the stored copies of it we could reach give its abstract only, so the
# equations below are our derivation: the Gaussian integrals by one device, tilting the Gaussian (see
# `dltheory.dynamics`), checked against Monte Carlo over one SGD step in the tests. The exact order-parameter
# simulation of SGD, the learning rate, the initial weight variance, the escape threshold, the comparison
# windows and the sizes are ours.

# %% tags=["parameters"]
seed = 0
n_inputs = 1000  # N of the published comparison
scaling_inputs = [500, 2000]  # further N for the finite-size figure
lr = 0.5  # eta, for both layers
init_variance = 1e-3  # variance of the initial weights (small, as in the paper)
alpha_max = 200.0  # run length in alpha = steps / N
alpha_scaling = 100.0  # run length of the finite-size runs
starts = 4  # initial states per configuration
replicas = 12  # noise replicas (input streams) per initial state
scaling_starts = 3
scaling_replicas = 12
sweep_starts = 8  # initial states for the ODE sweep over angles
window = 140.0  # the criterion's plateau window: compare ODE and SGD for alpha <= window
angles_deg = [0, 15, 30, 45, 60, 75, 90]  # teacher output angles for the ODE sweep
escape_error = 0.005  # escaped once the generalisation error falls below this (plateau ~0.014, start ~0.33)
device = "cpu"

# %%
import math

import numpy as np

from dltheory import dynamics as dy
from dltheory import plotting, repro

session = repro.setup(seed, device=device, cpu_only="numpy and scipy ODEs on small order-parameter arrays")
repro.glue("n_inputs", n_inputs)
repro.glue("init_variance", init_variance)
repro.glue("sweep_starts", sweep_starts)

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
# covariance built from $Q$, $R$ and $T = I$. One output is the case of a single output unit; for two outputs
# $v_1 = (1, 0)$, $v_2 = (\cos\theta, \sin\theta)$. The $\eta^2$ term comes from $|\xi|^2/N \to 1$ in the square
# of the weight step; dropping it gives the small-learning-rate ODE, which we use as a control.
#
# ## SGD, simulated exactly on the order parameters
#
# Given the weights, a fresh input's fields $(x, y)$ are Gaussian with the covariance of (1), and one SGD step
# changes $Q$, $R$, $w$ through the fields and $|\xi|^2$ alone:
#
# $$ \Delta Q_{ik} = \tfrac{\eta}{N}(\delta_i x_k + \delta_k x_i) + \tfrac{\eta^2}{N^2}\delta_i\delta_k|\xi|^2,\quad
#    \Delta R_{in} = \tfrac{\eta}{N}\delta_i y_n,\quad \Delta w_i = \tfrac{\eta}{N}g(x_i)(t - f), \tag{2}$$
#
# where $|\xi|^2$ is the squared length of the input's projection on the four weight vectors plus an independent
# $\chi^2_{N-4}$. So $(Q, R, w)$ is itself a Markov chain, and drawing the four projection coordinates and the
# $\chi^2$ simulates SGD at input dimension $N$ *exactly in law*, at a cost per step independent of $N$ and
# vectorised over every run at once (`dy.simulate_order_parameters`; the tests check it against SGD on the weights,
# step by step and in distribution). Finite $N$ enters through the $1/N$ step and the noise of each example.

# %%
CONFIGS = {"one output": (0.0, 1), "parallel (θ = 0)": (0.0, 2), "orthogonal (θ = 90°)": (90.0, 2)}


def initial_states(n, configs, starts, variance, rng):
    """Order parameters (Q, R, w, v) of `starts` random students at input dimension `n` (weights N(0, variance)),
    for every configuration (angle in degrees, number of outputs): arrays (configs, starts, ...)."""
    J, w, B = dy.initial_state(starts, n, outputs=2, weight_scale=math.sqrt(variance),
                               output_scale=math.sqrt(variance), rng=rng)
    Q, R = J @ J.transpose(0, 2, 1) / n, J @ B.T / n
    ws, vs = [], []
    for angle, outputs in configs.values():
        v, wc = dy.teacher_at_angle(math.radians(angle)).v.copy(), w.copy()
        if outputs == 1:  # a single output unit: the second output is absent in student and teacher
            v[:, 1], wc[:, :, 1] = 0.0, 0.0
        ws.append(wc)
        vs.append(np.repeat(v[None], starts, 0))
    c = len(configs)
    return np.stack([Q] * c), np.stack([R] * c), np.stack(ws), np.stack(vs)


# %%
def replicate(arrays, replicas):
    """Each (configs, starts, ...) array repeated `replicas` times, flattened to runs (configs*starts*replicas, ...)."""
    return [np.repeat(a.reshape(-1, *a.shape[2:]), replicas, 0) for a in arrays]


def ode_errors(states, alphas, lr, *, second_order=True):
    """Generalisation error of the ODE (1) from every initial state (configs, starts, ...) -> (configs, starts, T)."""
    Q, R, w, v = states
    return np.array([[dy.integrate_ode(dy.State(Q[c, s], R[c, s], w[c, s]), dy.Teacher(v[c, s]), alphas, lr=lr,
                                       second_order=second_order).error for s in range(Q.shape[1])]
                     for c in range(Q.shape[0])])


# %%
def deviation(alpha, sgd_error, ode_error, *, window, threshold):
    """Per start, the largest |mean over replicas of SGD / ODE - 1| over alpha <= window while the ODE's error is
    above `threshold`; sgd_error (configs, starts, replicas, T), ode_error (configs, starts, T) -> (configs, starts)."""
    ratio = np.abs(sgd_error.mean(2) / ode_error - 1)
    keep = (alpha <= window) & (ode_error >= threshold)
    return np.where(keep, ratio, 0.0).max(-1)


def run_size(n, configs, n_starts, n_replicas, run_alpha, *, variance, lr, rng_init, rng_sgd):
    """Initial states, the exact SGD simulation (errors (configs, starts, replicas, T)) and its alpha grid."""
    states = initial_states(n, configs, n_starts, variance, rng_init)
    sim = dy.simulate_order_parameters(*replicate(states, n_replicas), n, run_alpha, lr=lr, record_every=1.0,
                                       rng=rng_sgd)
    return states, sim.alpha, sim.error.reshape(len(configs), n_starts, n_replicas, -1)


# %%
states, alpha, sgd_err = run_size(n_inputs, CONFIGS, starts, replicas, alpha_max, variance=init_variance, lr=lr,
                                  rng_init=session.rng_for("init", n_inputs), rng_sgd=session.rng_for("sgd", n_inputs))
ode_err = ode_errors(states, alpha, lr)
ode_first = ode_errors(states, alpha, lr, second_order=False)  # the control: no eta^2 term
dev = deviation(alpha, sgd_err, ode_err, window=window, threshold=escape_error)
dev_first = deviation(alpha, sgd_err, ode_first, window=window, threshold=escape_error)
print("largest per-start deviation, by configuration:", dict(zip(CONFIGS, dev.max(1).round(3), strict=True)))
print("the same against the ODE without the eta^2 term:", dict(zip(CONFIGS, dev_first.max(1).round(3), strict=True)))

# %%
fig, axes = plotting.subplots(1, 3, width=9.5, height=2.8, sharey=True)
for ax, (k, name) in zip(axes, enumerate(CONFIGS), strict=True):
    for s, c in zip(range(starts), plotting.COLORS, strict=False):
        ax.plot(alpha, sgd_err[k, s].mean(0), color=c, lw=1.2, alpha=0.7)
        ax.plot(alpha, ode_err[k, s], color=c, lw=1, ls="--")
        ax.plot(alpha, ode_first[k, s], color=c, lw=0.8, ls=":")
    ax.axhline(escape_error, color="k", lw=0.7)
    ax.axvline(window, color="grey", lw=0.7)
    ax.set(title=name, xlabel=r"$\alpha$", yscale="log", ylim=(1e-4, 0.5))
axes[0].set_ylabel(r"generalisation error $\epsilon_g$")
plotting.plt.show()

# %% [markdown]
# *What to see:* one colour per initial state; solid lines are the mean of its SGD replicas, dashed lines the ODE
# (1) from the same initial order parameters, dotted lines the ODE without its $\eta^2$ term. Solid and dashed lie
# on top of each other on the plateau ($\epsilon_g \approx 0.014$) and through the escape with orthogonal outputs;
# the dotted curves sit visibly off. The thin black line is the escape threshold, the grey one the end of the
# comparison window.
#
# ## The gap against N
#
# The same comparison at other input dimensions, over $\alpha \le$ {glue:text}`alpha_scaling` (fewer starts and
# replicas). Finite-$N$ corrections to (1) are $O(1/N)$ per step but the plateau amplifies fluctuations, so we
# expect the gap to shrink roughly like $1/\sqrt N$.

# %%
scaling = {n_inputs: deviation(alpha, sgd_err[:, :scaling_starts, :scaling_replicas], ode_err[:, :scaling_starts],
                               window=alpha_scaling, threshold=escape_error)}  # same numbers of runs
for n in scaling_inputs:
    st, al, err = run_size(n, CONFIGS, scaling_starts, scaling_replicas, alpha_scaling, variance=init_variance, lr=lr,
                           rng_init=session.rng_for("init", n), rng_sgd=session.rng_for("sgd", n))
    scaling[n] = deviation(al, err, ode_errors(st, al, lr), window=alpha_scaling, threshold=escape_error)
ns = np.array(sorted(scaling))
devs = np.array([scaling[n].max() for n in ns])  # largest over configurations and starts
devs_mean = np.array([scaling[n].mean() for n in ns])  # mean over configurations and starts
fig, ax = plotting.subplots(width=4.5, height=2.8)
ax.plot(ns, devs, "o-", label="largest per-start gap")
ax.plot(ns, devs_mean, "s-", label="mean per-start gap")
ax.plot(ns, devs_mean[0] * np.sqrt(ns[0] / ns), "k:", lw=0.8, label=r"$\propto 1/\sqrt{N}$")
ax.set(xscale="log", yscale="log", xlabel="input dimension $N$", ylabel="|SGD / ODE - 1|")
ax.legend(fontsize=8)
plotting.plt.show()
print({int(n): (round(float(d), 4), round(float(m), 4)) for n, d, m in zip(ns, devs, devs_mean, strict=True)})
repro.glue("alpha_scaling", alpha_scaling)

# %% [markdown]
# *What to see:* the largest and the mean relative gap between a start's replica mean and its ODE, over all starts
# and configurations, against $N$ on log axes, with a $1/\sqrt N$ guide through the first mean. The largest gap is
# a maximum over few noisy curves, so it moves more than the mean.

# %% [markdown]
# ## Escape time against the angle, and orthogonalised initial output weights
#
# The ODE from the same initial states for teacher angles between 0 and 90°, once with the random initial output
# vectors and once with them orthogonalised (Gram–Schmidt, lengths kept): the paper's second prediction is that
# plateaus seldom occur from orthogonalised initial output weights. This part is reported, not graded: the
# catalogue's criterion does not contain it.

# %%
def ode_escape_sweep(states, angles, alphas, lr, threshold, *, orthogonal=False):
    """ODE escape times (angles, starts) from the two-output initial states (Q, R, w) (starts, ...), capped at
    alphas[-1]; `orthogonal` orthogonalises each student's output vectors first."""
    Q, R, w = states
    w = dy.orthogonalise_outputs(w) if orthogonal else w
    return np.array([[min(dy.escape_time(alphas, dy.integrate_ode(
        dy.State(Q[s], R[s], w[s]), dy.teacher_at_angle(math.radians(a)), alphas, lr=lr).error, threshold),
        alphas[-1]) for s in range(len(Q))] for a in angles])


two = tuple(a[0] for a in initial_states(n_inputs, {"two outputs": (90.0, 2)}, sweep_starts, init_variance,
                                         session.rng_for("sweep", 0))[:3])  # (Q, R, w) of fresh two-output students
sweep_alphas = np.linspace(0, 2 * alpha_max, 401)
sweep = {o: ode_escape_sweep(two, angles_deg, sweep_alphas, lr, escape_error, orthogonal=o) for o in (False, True)}
sgd_escape = np.minimum(dy.escape_time(alpha, sgd_err, escape_error), alpha_max).reshape(len(CONFIGS), -1)
print("median ODE escape by angle, random w:", np.median(sweep[False], 1).round(1).tolist())
print("median ODE escape by angle, orthogonalised w:", np.median(sweep[True], 1).round(1).tolist())
print("median SGD escape (capped at alpha_max):", dict(zip(CONFIGS, np.median(sgd_escape, 1).round(1), strict=True)))

# %%
fig, ax = plotting.subplots(width=6, height=3)
ax.plot(angles_deg, np.median(sweep[False], 1), "o-", label=f"ODE, random $w$, median of {sweep_starts}")
ax.plot(angles_deg, np.median(sweep[True], 1), "^--", label="ODE, orthogonalised $w$")
ax.plot([0, 90], np.median(sgd_escape[1:], 1), "s", ms=7,
        label=f"SGD, N = {n_inputs}, median of {starts * replicas} (capped at {alpha_max:g})")
ax.axhline(np.median(sgd_escape[0]), color="k", lw=0.8, ls=":", label="SGD, one output (capped)")
ax.set(xlabel=r"angle between teacher output vectors $\theta$ (degrees)", ylabel=r"escape time $\alpha$")
ax.legend(fontsize=7)
plotting.plt.show()

# %% [markdown]
# *What to see:* with random initial output weights the escape time is longest at $\theta = 0$ (parallel teacher
# outputs, the one-output plateau) and shortest at $90°$; in between, with a handful of starts, the median need not
# fall monotonically. The triangles show the same starts with orthogonalised output vectors. The ODE runs to
# $2\alpha_{max}$ and escape times are capped there; SGD escape times are capped at $\alpha_{max}$.
#
# ## The check and its controls
#
# The acceptance criterion: ODE and SGD ($N \ge 500$) agree within 10% along the trajectory; with one output the
# plateau is flat, $\epsilon_g(140)/\epsilon_g(40) > 0.9$; with two orthogonal outputs the median escape time is
# below 0.6 of the one-output time. All three are **evidence**: a wrong ODE (see the control below), a wrong
# simulation or a false claim fails them. We read "along the trajectory" per start, as above: the largest gap
# between each start's replica mean and the ODE from that start, over $\alpha \le$ {glue:text}`window_alpha` while
# the ODE's error is above the escape threshold (past it, relative gaps of a vanishing error measure only the
# tail's timing), over all starts and configurations. Runs not escaped by $\alpha_{max}$ count as
# $\alpha_{max}$, which can only shorten the one-output time, so the escape ratio we test is an upper bound. The
# **sanity** check, true by construction, is that SGD and ODE start from the same error.
#
# Two **near-miss** controls run the same checks. *No $\eta^2$ term:* the small-learning-rate ODE, a plausible
# simplification of (1), against the same SGD runs; it must fail the 10% agreement. *Parallel outputs:* two
# outputs with $\theta = 0$ in place of orthogonal ones, a nearby case where the plateau must not shorten.

# %%
def check(alpha, sgd_error, ode_error, dev_value, k_two, threshold):
    """The criterion for configuration `k_two` against the one-output configuration 0; errors
    (configs, starts, replicas, T) and (configs, starts, T); `dev_value` the per-start deviation; `threshold` the
    escape threshold."""
    i40, i140 = np.searchsorted(alpha, 40), np.searchsorted(alpha, 140)
    one = np.median(sgd_error[0].reshape(-1, alpha.size), 0)
    flat = one[i140] / one[i40]
    esc = np.minimum(dy.escape_time(alpha, sgd_error, threshold), alpha[-1])
    ratio = np.median(esc[k_two]) / np.median(esc[0])
    start_gap = np.abs(sgd_error[..., 0].mean(2) - ode_error[..., 0]).max()
    return ({"ode_sgd_within_10pct": repro.evidence(dev_value, "<=", 0.1),
             "one_output_plateau_flat": repro.evidence(flat, ">", 0.9),
             "escape_ratio_below_0.6": repro.evidence(ratio, "<", 0.6),
             "same_start": repro.sanity(start_gap, "<=", 1e-12, scale=threshold)},
            {"ode_sgd_max_deviation": dev_value, "flat_ratio": flat, "escape_ratio": ratio})


checks, found = check(alpha, sgd_err, ode_err, dev.max(), 2, escape_error)
no_eta2, no_eta2_found = check(alpha, sgd_err, ode_first, dev_first.max(), 2, escape_error)
parallel, parallel_found = check(alpha, sgd_err, ode_err, dev.max(), 1, escape_error)
for name, c in (("claim", checks), ("no eta^2", no_eta2), ("parallel", parallel)):
    print(name, {k: f"{v.value:.4g} {v.op} {v.threshold:g}: {'holds' if v.passed else 'fails'}" for k, v in c.items()})
repro.glue("window_alpha", window)

# %%
esc = sgd_escape  # (configs, runs), capped at alpha_max
i40, i140 = np.searchsorted(alpha, 40), np.searchsorted(alpha, 140)
flat_runs = (sgd_err[0, ..., i140] / sgd_err[0, ..., i40]).ravel()
esc_runs = esc[2] / np.median(esc[0])
n_runs = starts * replicas
tol = {"dev": 2 * dev.std(), "flat": 2 * flat_runs.std() / math.sqrt(n_runs),
       "esc": 2 * esc_runs.std() / math.sqrt(n_runs)}
measured = {
    "ode_sgd_max_deviation": repro.measure(found["ode_sgd_max_deviation"], tol=tol["dev"],
                                          basis="2 standard deviations of the per-start deviations"),
    "flat_ratio": repro.measure(found["flat_ratio"], tol=tol["flat"], basis="2 standard errors over one-output runs"),
    "escape_ratio": repro.measure(found["escape_ratio"], tol=tol["esc"], basis="2 standard errors over runs"),
    "one_output_median_escape": float(np.median(esc[0])), "orthogonal_median_escape": float(np.median(esc[2])),
    "ode_escape_0_median": float(np.median(sweep[False][0])),
    "ode_escape_90_median": float(np.median(sweep[False][-1])),
    "orthogonalised_shorter_fraction": float(np.mean(sweep[True][1:] < sweep[False][1:])),
    "orthogonalised_median_ratio": float(np.median(sweep[True][1:] / sweep[False][1:])),
    "ode_escape_0_orthogonalised_median": float(np.median(sweep[True][0])),
    "mean_deviation_n_smallest": float(devs_mean[0]), "mean_deviation_n_largest": float(devs_mean[-1]),
    "max_deviation_all_n": float(devs.max()),
    "n_small": int(ns[0]), "n_large": int(ns[-1]), "n_starts": starts, "n_replicas": replicas,
}

# %%
controls = {
    "no_eta2": repro.control("the ODE without its eta^2 term (small-learning-rate limit) against the same SGD runs",
                             no_eta2, {"ode_sgd_max_deviation": no_eta2_found["ode_sgd_max_deviation"]},
                             kind="near miss"),
    "parallel": repro.control("two parallel outputs (theta = 0) in place of orthogonal ones", parallel,
                              {"escape_ratio": parallel_found["escape_ratio"]}, kind="near miss"),
}
repro.record_claim(
    "K3",
    title="Plateaus of online learning shorten with several outputs",
    status=repro.grade(checks),
    criterion="ODE and SGD (N >= 500) within 10% along the trajectory (per start: mean of noise replicas against "
              "the ODE from that start, alpha <= 140 while eps_g >= the escape threshold); one output: "
              "eps_g(140)/eps_g(40) > 0.9; two orthogonal outputs: median escape time < 0.6 of one-output",
    checks=checks, measured=measured, controls=controls,
)
assert all(c.passed for c in checks.values()), checks
assert all(c.sanity_passed and not c.passed_check for c in controls.values()), controls

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. At $N$ = {glue:text}`n_inputs`, from {glue:text}`n_starts` initial states with
# {glue:text}`n_replicas` noise replicas each, the replica mean of SGD follows the ODE from its own start to within
# {glue:text}`ode_sgd_max_deviation:.3f` (largest relative gap over all starts and configurations while on or
# above the escape threshold, $\alpha \le 140$), inside the 0.10 allowed. The earlier version of this page
# compared medians over runs from *different* starts, which mixes escape fronts at different times, and found a
# gap over the 10% allowed; that was an artefact of the metric, not a failure of (1). Against $N$ (over
# $\alpha \le 100$, fewer starts) the mean per-start gap is {glue:text}`mean_deviation_n_smallest:.3f` at
# $N$ = {glue:text}`n_small` and {glue:text}`mean_deviation_n_largest:.3f` at $N$ = {glue:text}`n_large`, and the
# largest gap at any of the three sizes is {glue:text}`max_deviation_all_n:.3f`. A mean over a fixed number of
# replicas keeps noise of its own, so three sizes show a tendency, not a law. The $\eta^2$ term matters: without
# it the ODE misses the same runs by {glue:text}`no_eta2.ode_sgd_max_deviation:.2f`, and that control fails.
#
# With one output the SGD runs sit on the plateau: the median error at $\alpha = 140$ is
# {glue:text}`flat_ratio:.3f` of that at $\alpha = 40$. With two orthogonal outputs the median escape time is
# {glue:text}`orthogonal_median_escape:.0f`, against at least {glue:text}`one_output_median_escape:.0f` for one
# output (capped at $\alpha_{max}$), a ratio of at most {glue:text}`escape_ratio:.2f`; parallel outputs, the
# other control, give {glue:text}`parallel.escape_ratio:.2f` and fail. In the ODE sweep the median escape time is
# {glue:text}`ode_escape_0_median:.0f` at 0° and {glue:text}`ode_escape_90_median:.0f` at 90°.
#
# Orthogonalised initial output weights (reported, not graded): over the angles above 0° and the
# {glue:text}`sweep_starts` starts of the sweep, orthogonalising the initial output vectors shortened the ODE's
# escape in a fraction {glue:text}`orthogonalised_shorter_fraction:.2f` of the cases, with a median ratio of escape
# times (orthogonalised over random) of {glue:text}`orthogonalised_median_ratio:.2f`; at 0° (parallel teacher
# outputs) the medians are {glue:text}`ode_escape_0_orthogonalised_median:.0f` against
# {glue:text}`ode_escape_0_median:.0f`. We know the paper's statement, that plateaus seldom occur from
# orthogonalised initialisations, from its abstract only, and test one reading of it, in the ODE only: our initial
# output vectors are small (variance {glue:text}`init_variance:.0e`), so orthogonalising them moves the start
# little. Other readings (output vectors of order one, orthogonal input weights) and SGD runs are what a fuller
# test would take.
#
# Ours throughout: the per-start reading of "along the trajectory", the exact order-parameter simulation of SGD,
# the escape threshold and all sizes. The sizes were chosen so that every margin is several times its spread
# over starts ({glue:text}`n_starts` starts x {glue:text}`n_replicas` replicas at $N$ = {glue:text}`n_inputs`).
