# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # F1 · ReLU networks against fixed bases on a function with a jump
#
# **The result.** For functions that are smooth except across a boundary (a jump, in one dimension), the squared
# error of a deep ReLU network estimator falls with the sample size $n$ at a rate set by the smoothness of the
# pieces and of the boundary, up to logarithms; estimators that are linear in the data (fixed bases: Fourier
# series, splines, kernels) cannot do better than a slower rate fixed by the jump itself. In one dimension, with
# smooth pieces, the network can approach $n^{-1}$ while linear estimators are stuck near $n^{-1/2}$
# {cite}`imaizumi2019deep,imaizumi2020advantage`. The report lists it first {cite}`report001`.
#
# **What we do.** Sample a 1-D target with a unit jump at several $n$ and seeds, fit three fixed-basis
# estimators with their hyper-parameters tuned on the *true* error (the most favourable tuning they could get)
# and one ReLU network with a single fixed training recipe, and compare the fitted log-log slopes. The theory
# concerns the minimiser of the empirical risk over a network class; we train by gradient descent, which is what
# a practitioner would do and is not guaranteed to find it. The 2-D case with a curved boundary did not fit the
# time budget and is left out.

# %% tags=["parameters"]
seed = 0
sizes = [128, 256, 512, 1024, 2048]  # sample sizes n
n_seeds = 3  # independent data sets per n
noise = 0.1  # standard deviation of the target noise
relu_width = 32  # units per hidden layer
relu_depth = 3  # hidden layers
relu_steps = 6000  # full-batch Adam steps, cosine-decayed learning rate
relu_lr = 0.005  # initial learning rate
device = "cpu"

# %%
import numpy as np

from dltheory import estimation as est
from dltheory import plotting, repro

session = repro.setup(seed, device=device)

# %% [markdown]
# ## Target and estimators
#
# The target is $f(x) = \sin(2\pi x) + x^2 + \mathbf{1}[x > 0.4]$ on $[0, 1]$, observed as $y = f(x) + \varepsilon$
# with $x$ uniform and $\varepsilon \sim \mathcal N(0, 0.1^2)$. The error is $\int_0^1 (\hat f - f)^2$, computed on
# a grid of 4001 points.
#
# *Why linear estimators are slow.* A linear smoother averages over a window of width $h$: near the jump it is off
# by $O(1)$ on a set of width $h$ (squared bias $\asymp h$), elsewhere its variance is $\asymp \sigma^2/(nh)$.
# The best $h \asymp n^{-1/2}$ gives error $\asymp n^{-1/2}$, and no choice of fixed basis escapes it. A ReLU
# network can instead place a steep ramp at the jump, located to within $\asymp 1/n$.
#
# *Tuning.* Fourier series: the number of terms (3 to 201); cubic splines: the number of uniform knots (2 to 150);
# Gaussian kernel ridge: bandwidth (0.003 to 0.05) and ridge on a 5 x 2 grid. Each is tuned per data set on the
# true error. The ReLU network ($3 \times 32$ units, Adam with cosine decay) has no per-data-set tuning; its
# architecture and learning rate were chosen among five candidates on one probe data set drawn separately from
# the ones below, and its number of steps was then cut from 8000 to 6000 to fit the two-minute budget (the
# 8000-step run gave a slope of $-1.08$ and an error ratio of 0.33 at $n = 2048$).

# %%
grid = np.linspace(0, 1, 4001)
truth = est.jump_target(grid)
tuning = {
    "Fourier": (est.fourier_fit, list(range(3, 202, 4))),
    "cubic spline": (est.spline_fit, list(range(2, 151, 2))),
    "kernel ridge": (est.kernel_ridge_fit, [(w, r) for w in np.geomspace(0.003, 0.05, 5) for r in (1e-6, 1e-3)]),
}
errors = {name: np.zeros((n_seeds, len(sizes))) for name in [*tuning, "ReLU network"]}
example = {}
for s in range(n_seeds):
    for k, n in enumerate(sizes):
        x, y = est.sample(n, noise, session.rng)
        for name, (fit, settings) in tuning.items():
            errors[name][s, k], best = est.oracle_tuned(fit, x, y, settings, grid)
            if s == 0 and n == sizes[-1]:
                example[name] = fit(x, y, best)(grid)
        relu = est.relu_fit(x, y, width=relu_width, depth=relu_depth, steps=relu_steps, lr=relu_lr,
                            generator=session.generator, device=session.device)
        errors["ReLU network"][s, k] = np.mean((relu(grid) - truth) ** 2)
        if s == 0 and n == sizes[-1]:
            example["ReLU network"], example_data = relu(grid), (x, y)
rates = {name: est.fit_rate(np.array(sizes), e) for name, e in errors.items()}
for name, r in rates.items():
    print(f"{name:>13}: slope {r.slope:+.3f}  (95% interval {r.low:+.3f} to {r.high:+.3f}), "
          f"error at n = {sizes[-1]}: {errors[name][:, -1].mean():.2e}")

# %% [markdown]
# ## Error against sample size
#
# Markers: mean over seeds (thin bars: the spread of seeds); dashed: fitted slopes; grey dotted: the theoretical
# rates $n^{-1/2}$ (linear estimators) and $n^{-1}$ (networks, logarithms dropped), anchored at the first point.

# %%
fig, axes = plotting.subplots(1, 2, width=8.5, height=3.4)
n = np.array(sizes)
for i, (name, e) in enumerate(errors.items()):
    color = plotting.COLORS[i]
    axes[0].errorbar(n, e.mean(0), yerr=[e.mean(0) - e.min(0), e.max(0) - e.mean(0)], fmt="o", color=color,
                     label=f"{name} ({rates[name].slope:+.2f})")
    fitted = np.exp(np.mean(np.log(e)) + rates[name].slope * (np.log(n) - np.log(n).mean()))
    axes[0].plot(n, fitted, "--", color=color, lw=1)
start = errors["cubic spline"][:, 0].mean()
for power in (0.5, 1.0):
    axes[0].plot(n, start * (n / n[0]) ** -power, ":", color="grey", lw=1)
axes[0].set(xscale="log", yscale="log", xlabel="sample size n", ylabel="mean squared error")
axes[0].legend(fontsize=8)
zoom = np.abs(grid - 0.4) < 0.06
axes[1].plot(example_data[0], example_data[1], ".", color="0.8", ms=2)
axes[1].plot(grid[zoom], truth[zoom], "k-", lw=1, label="target")
for i, (name, fit) in enumerate(example.items()):
    axes[1].plot(grid[zoom], fit[zoom], color=plotting.COLORS[i], lw=1.2, label=name)
axes[1].set(xlim=(0.34, 0.46), ylim=(0.3, 2.2), xlabel="x (around the jump)", ylabel="fit at n = 2048")
plotting.plt.show()

# %% [markdown]
# *What to see:* left, the three fixed-basis estimators fall together along a slope near $-1/2$; the ReLU network
# falls faster. Right, around the jump the fixed bases smear or ring over a window, while the network builds a
# steeper ramp.
#
# ## The check
#
# From `CLAIMS.md`: the ReLU slope is at least 0.2 steeper than the best baseline's; every baseline slope lies in
# $[-0.75, -0.3]$; the ReLU error at the largest $n$ is at most half the best baseline's.

# %%
baselines = list(tuning)
best_slope = min(rates[b].slope for b in baselines)
best_error = min(errors[b][:, -1].mean() for b in baselines)
relu_rate, relu_error = rates["ReLU network"], errors["ReLU network"][:, -1].mean()
checks = dict(
    steeper=bool(relu_rate.slope <= best_slope - 0.2),
    baselines_linear_rate=bool(all(-0.75 <= rates[b].slope <= -0.3 for b in baselines)),
    half_error=bool(relu_error <= 0.5 * best_error),
)
print(checks)
passed = sum(checks.values())
repro.record_claim(
    "F1",
    title="ReLU networks estimate a function with a jump at a faster rate than fixed-basis estimators",
    status="reproduced" if passed == 3 else ("partially reproduced" if passed else "not reproduced"),
    criterion="ReLU log-log slope >= 0.2 steeper than the best baseline; baseline slopes in [-0.75, -0.3]; ReLU "
              "error at the largest n <= 0.5 x the best baseline's",
    measured={
        "relu_slope": relu_rate.slope, "relu_slope_stderr": relu_rate.stderr,
        "best_baseline_slope": best_slope,
        **{f"{b.split()[0].lower()}_slope": rates[b].slope for b in baselines},
        "relu_error_ratio_at_largest_n": relu_error / best_error,
        "checks_passed": passed,
    },
)

assert all(checks.values()), checks

# %% [markdown]
# ## What we found
#
# The claim reproduces. The fixed-basis estimators behave as the theory says: tuned as favourably as possible, all
# three fall at slopes between about $-0.58$ and $-0.65$, near the $-1/2$ set by the jump (slightly steeper at
# these $n$, where the smooth part still contributes). The gradient-trained ReLU network falls at a slope near
# $-1$, the rate the theory gives the network class, and ends with well under half the best baseline's error.
#
# The result depends on training the network long enough, and we say so plainly. Our first recipe (two layers of
# 64 units, 3000 steps) merely tied the tuned splines, with a slope near $-0.6$: gradient descent builds the steep
# ramp at the jump only gradually, and the error of an under-trained network is concentrated there. The theorem's
# rate belongs to the empirical-risk minimiser, which gradient descent approaches only with enough steps; at 8000
# steps the slope was $-1.08$, at the published 6000 it is about $-1$. A reader with a GPU can raise `relu_steps`
# and `sizes`.
