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
# **What we do.** Sample a 1-D target with a unit jump at several $n$, with several independent data sets per $n$,
# fit three fixed-basis estimators with their hyper-parameters tuned on the *true* error (the most favourable
# tuning they could get) and one ReLU network with a single fixed training recipe, and compare the fitted log-log
# slopes, each seed's slope giving an interval. As a negative control we run the same comparison on the same
# function *without* its jump, where the network has no advantage to show.
#
# **What is ours.** The rates are the papers' (full texts: arXiv:1802.04474 and its journal version,
# arXiv:2011.02256): the network rate belongs to the minimiser of the empirical risk over a sparse ReLU class,
# and the papers prove that linear estimators cannot reach it when the target has a singularity. The one-line
# window argument below, the 1-D target, the oracle tuning of the baselines and the training recipe are ours. We
# train by gradient descent, which is what a practitioner would do and is not guaranteed to find the minimiser.
# The papers' 2-D case with a curved boundary does not fit the time budget and is left out.

# %% tags=["parameters"]
seed = 0
sizes = [128, 256, 512, 1024]  # sample sizes n
n_seeds = 4  # independent data sets per n
control_seeds = 2  # data sets per n for the smooth control
noise = 0.1  # standard deviation of the target noise
relu_width = 32  # units per hidden layer
relu_depth = 3  # hidden layers
relu_steps = 4000  # full-batch Adam steps, cosine-decayed learning rate
relu_lr = 0.005  # initial learning rate
device = "cpu"

# %%
import numpy as np

from dltheory import data, plotting, repro, stats
from dltheory import estimation as est

session = repro.setup(seed, device=device)

# %% [markdown]
# ## Target and estimators
#
# The target is $f(x) = \sin(2\pi x) + x^2 + \mathbf{1}[x > 0.4]$ on $[0, 1]$, observed as $y = f(x) + \varepsilon$
# with $x$ uniform and $\varepsilon \sim \mathcal N(0, 0.1^2)$. The error is $\int_0^1 (\hat f - f)^2$, computed on
# a grid of 2001 points.
#
# *Why linear estimators are slow.* A linear smoother averages over a window of width $h$: near the jump it is off
# by $O(1)$ on a set of width $h$ (squared bias $\asymp h$), elsewhere its variance is $\asymp \sigma^2/(nh)$.
# The best $h \asymp n^{-1/2}$ gives error $\asymp n^{-1/2}$, and no choice of fixed basis escapes it. A ReLU
# network can instead place a steep ramp at the jump, located to within $\asymp 1/n$.
#
# *Tuning.* Fourier series: the number of terms (3 to 201); cubic splines: the number of uniform knots (2 to 150);
# Gaussian kernel ridge: bandwidth (0.003 to 0.05) and ridge on a 5 x 2 grid (`est.BASELINES`). Each is tuned per
# data set on the true error. The ReLU network ($3 \times 32$ units, Adam with cosine decay) has no per-data-set
# tuning; its recipe was chosen on probe data sets drawn separately from the ones below, and its length was cut to
# fit the two-minute budget.

# %%
grid = np.linspace(0, 1, 2001)
targets = [data.jump_target] * n_seeds + [data.smooth_target] * control_seeds  # the control rides along
run = est.benchmark(targets, sizes, noise=noise, grid=grid, rng=session.rng, generator=session.generator,
                    width=relu_width, depth=relu_depth, steps=relu_steps, lr=relu_lr)
jump_errors = {name: e[:n_seeds] for name, e in run.errors.items()}
smooth_errors = {name: e[n_seeds:] for name, e in run.errors.items()}
n = np.array(sizes)
rates = {name: est.fit_rate(n, e) for name, e in jump_errors.items()}
for name, r in rates.items():
    print(f"{name:>13}: slope {r.slope:+.3f} (95% interval {r.low:+.3f} to {r.high:+.3f}), "
          f"error at n = {sizes[-1]}: {jump_errors[name][:, -1].mean():.2e}")

# %% [markdown]
# ## Error against sample size
#
# Markers: mean over seeds (bars: the range of seeds); dashed: fitted slopes; grey dotted: the theoretical
# rates $n^{-1/2}$ (linear estimators) and $n^{-1}$ (networks, logarithms dropped), anchored at the first point.

# %%
fig, axes = plotting.subplots(1, 2, width=8.5, height=3.4)
for i, (name, e) in enumerate(jump_errors.items()):
    color = plotting.COLORS[i]
    axes[0].errorbar(n, e.mean(0), yerr=[e.mean(0) - e.min(0), e.max(0) - e.mean(0)], fmt="o", color=color,
                     label=f"{name} ({rates[name].slope:+.2f})")
    fitted = np.exp(np.mean(np.log(e)) + rates[name].slope * (np.log(n) - np.log(n).mean()))
    axes[0].plot(n, fitted, "--", color=color, lw=1)
start = jump_errors["cubic spline"][:, 0].mean()
for power in (0.5, 1.0):
    axes[0].plot(n, start * (n / n[0]) ** -power, ":", color="grey", lw=1)
axes[0].set(xscale="log", yscale="log", xlabel="sample size n", ylabel="mean squared error")
axes[0].legend(fontsize=8)
zoom = np.abs(grid - 0.4) < 0.06
axes[1].plot(*run.example_data, ".", color="0.8", ms=2)
axes[1].plot(grid[zoom], data.jump_target(grid)[zoom], "k-", lw=1, label="target")
for i, (name, fit) in enumerate(run.example_fits.items()):
    axes[1].plot(grid[zoom], fit[zoom], color=plotting.COLORS[i], lw=1.2, label=name)
axes[1].set(xlim=(0.34, 0.46), ylim=(0.3, 2.2), xlabel="x (around the jump)", ylabel=f"fit at n = {sizes[-1]}")
plotting.plt.show()

# %% [markdown]
# *What to see:* left, the fixed-basis estimators fall together along a slope near $-1/2$, and the question is
# whether the network's points fall faster. Right, around the jump the fixed bases smear or ring over a window,
# while the network builds a ramp whose steepness depends on how far training got.
#
# ## Slopes per seed
#
# A pooled slope hides how much it moves with the data. Each seed gives its own slope; the difference between
# the network's and the steepest baseline's slope on the *same* data sets is a paired comparison, and its
# interval says whether the network is steeper beyond the noise.

# %%
def compare(errors):
    """Pooled slopes, the steepest baseline, the paired slope difference and error ratio at the largest n."""
    pooled = {name: est.fit_rate(n, e).slope for name, e in errors.items()}
    best = min((b for b in errors if b != "ReLU network"), key=pooled.get)
    diff = stats.mean_interval(est.slopes(n, errors["ReLU network"]) - est.slopes(n, errors[best]))
    baseline_error = np.min([errors[b][:, -1] for b in errors if b != "ReLU network"], axis=0)  # (S,)
    ratio = errors["ReLU network"][:, -1].mean() / baseline_error.mean()
    checks = {"steeper": pooled["ReLU network"] <= pooled[best] - 0.2,
              "baselines_linear_rate": all(-0.75 <= v <= -0.3 for b, v in pooled.items() if b != "ReLU network"),
              "half_error": ratio <= 0.5,
              "steeper_beyond_noise": diff.high <= -0.2}
    return pooled, best, diff, ratio, {k: bool(v) for k, v in checks.items()}


pooled, best, diff, ratio, checks = compare(jump_errors)
print(f"steepest baseline: {best}; paired slope difference {diff.value:+.3f} "
      f"(95% interval {diff.low:+.3f} to {diff.high:+.3f}, {n_seeds} seeds); error ratio {ratio:.3f}")
print(checks)

# %% [markdown]
# ## The check, and its control
#
# From `CLAIMS.md`: the ReLU slope is at least 0.2 steeper than the best baseline's; every baseline slope lies in
# $[-0.75, -0.3]$; the ReLU error at the largest $n$ is at most half the best baseline's. Beside them we ask that
# the paired interval of the slope difference lie below $-0.2$ (`steeper_beyond_noise`). The control runs the same
# comparison on $\sin(2\pi x) + x^2$, the target without its jump (its data sets were fitted above, beside the
# others): there every estimator is fast and the network has no advantage, so the check must fail.

# %%
c_pooled, c_best, c_diff, c_ratio, c_checks = compare(smooth_errors)
print(f"smooth target: slopes {', '.join(f'{k} {v:+.2f}' for k, v in c_pooled.items())}; "
      f"error ratio {c_ratio:.2f}; {c_checks}")

# %%
# The baselines' rate is the setting, not the claim: if no part of the network's advantage holds, nothing of the
# claim is reproduced, whatever the baselines do.
network_parts = ("steeper", "half_error", "steeper_beyond_noise")
status = repro.grade(checks) if any(checks[k] for k in network_parts) else "not reproduced"
repro.record_claim(
    "F1",
    title="ReLU networks estimate a function with a jump at a faster rate than fixed-basis estimators",
    status=status,
    criterion="ReLU log-log slope >= 0.2 steeper than the best baseline; baseline slopes in [-0.75, -0.3]; ReLU "
              "error at the largest n <= 0.5 x the best baseline's (added: the paired per-seed slope difference's "
              "95% interval lies below -0.2)",
    checks=checks,
    measured={
        "relu_slope": repro.measure(pooled["ReLU network"], tol=2 * rates["ReLU network"].stderr,
                                    basis="2 standard errors of the pooled slope"),
        "best_baseline_slope": repro.measure(pooled[best], tol=2 * rates[best].stderr,
                                             basis="2 standard errors of the pooled slope"),
        **{f"{b.split()[0].lower()}_slope": pooled[b] for b in est.BASELINES},
        "slope_difference": repro.measure(diff.value, tol=2 * diff.sem, basis=f"2 standard errors, {n_seeds} seeds"),
        "slope_difference_low": diff.low, "slope_difference_high": diff.high,
        "relu_error_ratio_at_largest_n": ratio,
        "n_seeds": n_seeds, "largest_n": sizes[-1],
    },
    controls={"smooth_target": repro.control(
        "the same comparison on the target without its jump", c_checks,
        {"relu_slope": c_pooled["ReLU network"], "best_baseline_slope": c_pooled[c_best],
         **{f"{b.split()[0].lower()}_slope": c_pooled[b] for b in est.BASELINES}, "relu_error_ratio": c_ratio})},
)

# %% [markdown]
# What the verdict rests on: the parts that hold, and every network check failing on the control. The status is
# `not reproduced` whenever no part of the network's advantage holds: the baselines' rate is the setting of the
# claim, not the claim.

# %%
assert checks["baselines_linear_rate"], "a tuned baseline left the range of a linear estimator's rate"
assert not any(c_checks[k] for k in network_parts), "a network check passed on the smooth control"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. The fixed-basis estimators behave as the theory says: tuned as favourably as
# possible, all three fall at slopes near the $-1/2$ set by the jump (Fourier, whose periodic basis also sees a
# jump at the wrap-around, {glue:text}`fourier_slope:.2f`,
# splines {glue:text}`cubic_slope:.2f`, kernel ridge {glue:text}`kernel_slope:.2f`; a little steeper at these
# $n$, where the smooth part still contributes). The gradient-trained ReLU network does not beat them here: its
# pooled slope is {glue:text}`relu_slope:.3f` against {glue:text}`best_baseline_slope:.3f` for the steepest
# baseline, and per seed the network's slope minus the baseline's is {glue:text}`slope_difference:.3f`, with a 95%
# interval from {glue:text}`slope_difference_low:.2f` to {glue:text}`slope_difference_high:.2f` over
# {glue:text}`n_seeds` data sets per size, which includes no advantage at all. At $n =$ {glue:text}`largest_n` its
# error is {glue:text}`relu_error_ratio_at_largest_n:.2f` times the best baseline's, not half. On the smooth
# control the network falls at {glue:text}`smooth_target.relu_slope:.2f` and the steepest baseline at
# {glue:text}`smooth_target.best_baseline_slope:.2f`; splines and kernel ridge are fast (slopes {glue:text}`smooth_target.cubic_slope:.2f` and
# {glue:text}`smooth_target.kernel_slope:.2f`), Fourier less so ({glue:text}`smooth_target.fourier_slope:.2f`:
# its basis is periodic and $\sin(2\pi x) + x^2$ jumps by one at the wrap-around), and the network's error is
# {glue:text}`smooth_target.relu_error_ratio:.1f` times the best baseline's: every network check fails there, as it
# must.
#
# Why it does not reproduce at our scale. The theorem's rate belongs to the minimiser of the empirical risk over a
# sparse ReLU class; gradient descent approaches it only with enough steps, and an under-trained network's error
# concentrates at the jump, where the steep ramp is still being built (right panel). Within a two-minute budget on
# one CPU thread we can afford {glue:text}`n_seeds` data sets per size up to $n = 1024$ and a few thousand Adam
# steps; `CLAIMS.md` asks for $n \ge 2048$ and a network trained to convergence, which we do not reach, and there
# the network's advantage is not visible above the seed-to-seed spread. An earlier version of this page reported
# the claim reproduced from 3 seeds, a longer run and sizes up to 2048, with a margin of about one standard error.
# We do not read this as evidence against the theorem,
# which is about a different estimator; it is evidence that the advantage needs more data and training than our
# budget gives. A reader with a GPU can raise `relu_steps`, `sizes` and `n_seeds` (`-p`), and the figures above
# will say whether the intervals separate.
