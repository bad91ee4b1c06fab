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
# **What we do.** Sample a 1-D target with a unit jump at five sizes $n$ from 128 to 2048, with eight independent
# data sets, fit three fixed-basis estimators with their hyper-parameters tuned on the *true* error (the most
# favourable tuning they could get) and one ReLU network with a single fixed training recipe, and compare the
# fitted log-log slopes, each data set giving its own slope and so an interval. The near-miss control runs the
# same comparison, trained the same way, on the same function *without* its jump, where the claim must fail.
#
# **What is ours.** The rates are the papers' (full texts: arXiv:1802.04474 and its journal version,
# arXiv:2011.02256): the network rate belongs to the minimiser of the empirical risk over a sparse ReLU class,
# and the papers prove that linear estimators cannot reach it when the target has a singularity. The one-line
# window argument below, the 1-D target, the noise level, the oracle tuning of the baselines and the training
# recipe are ours. We train by gradient descent, which is what a practitioner would do and is not guaranteed to
# find the minimiser. The papers' 2-D case with a curved boundary does not fit the time budget and is left out.

# %% tags=["parameters"]
seed = 0
sizes = [128, 256, 512, 1024, 2048]  # sample sizes n (each data set's samples are nested)
n_seeds = 8  # independent data sets of the target with a jump
control_seeds = 3  # independent data sets of the smooth control
noise = 0.2  # standard deviation of the target noise
relu_width = 32  # units per hidden layer
relu_depth = 3  # hidden layers
relu_steps = 1500  # full-batch Adam steps, cosine-decayed learning rate
relu_lr = 0.02  # initial learning rate
long_steps = 3000  # the plateau probe: the first data set at the largest n, trained twice as long
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
# with $x$ uniform and $\varepsilon \sim \mathcal N(0, 0.2^2)$. The error is $\int_0^1 (\hat f - f)^2$, computed on
# a grid of 2001 points. Each data set draws 2048 points once; its sample of size $n$ is the first $n$ of them,
# so a data set's errors along $n$ differ by $n$ and not by a fresh draw.
#
# *Why linear estimators are slow.* A linear smoother averages over a window of width $h$: near the jump it is off
# by $O(1)$ on a set of width $h$ (squared bias $\asymp h$), elsewhere its variance is $\asymp \sigma^2/(nh)$.
# The best $h \asymp n^{-1/2}$ gives error $\asymp n^{-1/2}$, and no choice of fixed basis escapes it. A ReLU
# network can instead place a steep ramp at the jump, located to within $\asymp 1/n$; a linear ramp of width
# $w$ across a unit jump costs $w/12$, so the ramp must narrow like $1/n$ for the network to keep its rate.
#
# *Tuning.* Fourier series: the number of terms (3 to 201); cubic splines: the number of uniform knots (2 to 150);
# Gaussian kernel ridge: bandwidth (8 values from 0.002 to 0.1) and ridge (two values) (`est.BASELINES`). Each is
# tuned per data set and size on the true error; we count how often a tuned setting sits at an end of its grid.
#
# *The network and its recipe.* $3 \times 32$ ReLU units; the input is centred ($t = 2x - 1$) and the targets
# standardised; full-batch Adam from a learning rate of 0.02 decayed to zero by a cosine over 1500 steps. The
# recipe and the noise level were first chosen on probe data sets drawn apart from the page's streams: with a
# learning rate of 0.005 (the earlier version of this page) the ramp at the jump was still being built when
# training stopped, and at noise 0.1 the network was already ahead of the baselines at $n = 128$, which leaves
# little room for a slope to show within $n \le 2048$ (noise 0.2 is also what an independent run used). One
# choice was made on this page's own data: a first full run at a learning rate of 0.05 left one network of eight
# at $n = 2048$ with a training loss 1.4 times the noise variance (it had not fitted the data), and we lowered the
# rate to 0.02. The robustness runs at seeds 1 to 3 check that this is not tuned to seed 0; the sanity check
# `networks_fit_the_data` now flags such a network.

# %%
grid = np.linspace(0, 1, 2001)
relu = dict(width=relu_width, depth=relu_depth, steps=relu_steps, lr=relu_lr)


def streams(session, name, count, sizes):
    """Numpy streams for `count` data sets and torch generators for each (data set, size) network."""
    rngs = [session.rng_for(f"{name} data", s) for s in range(count)]
    gens = [[session.generator_for(f"{name} network", s * len(sizes) + k) for k in range(len(sizes))]
            for s in range(count)]
    return rngs, gens


rngs, gens = streams(session, "jump", n_seeds, sizes)
run = est.benchmark(data.jump_target, sizes, noise=noise, grid=grid, rngs=rngs, generators=gens, **relu)
n = np.array(sizes)
rates = {name: est.fit_rate(n, e) for name, e in run.errors.items()}
for name, r in rates.items():
    print(f"{name:>13}: slope {r.slope:+.3f} (95% interval {r.low:+.3f} to {r.high:+.3f}), "
          f"error at n = {sizes[-1]}: {run.errors[name][:, -1].mean():.3e}")

# %% [markdown]
# The control: the same estimators, the same recipe and the same number of steps on $\sin(2\pi x) + x^2$, the
# target without its jump, in its own batch and on its own streams.

# %%
c_rngs, c_gens = streams(session, "smooth", control_seeds, sizes)
control_run = est.benchmark(data.smooth_target, sizes, noise=noise, grid=grid, rngs=c_rngs, generators=c_gens,
                            **relu)
for name, e in control_run.errors.items():
    print(f"{name:>13}: slope {est.fit_rate(n, e).slope:+.3f}, error at n = {sizes[-1]}: {e[:, -1].mean():.3e}")

# %% [markdown]
# ## Has training reached its plateau?
#
# Two measures. Every network logs its training loss; we take the largest relative fall of that loss over the
# last quarter of its steps, over all networks of both runs. And the probe: the first data set at the largest
# $n$ trained again for twice as many steps; if the error moved much, the recipe would be stopping short.

# %%
def last_quarter_fall(losses):
    """Largest relative fall of the training loss over the last quarter of the log, over networks: (..., R)."""
    r = losses.shape[-1]
    return float(np.max((losses[..., -(r // 4) - 1] - losses[..., -1]) / losses[..., -1]))


x_probe, y_probe = data.regression(data.jump_target, sizes[-1], noise, session.rng_for("jump data", 0))
probe = est.relu_fit(x_probe[None], y_probe[None], [session.generator_for("jump network", len(sizes) - 1)],
                     **{**relu, "steps": long_steps})
probe_error = float(np.mean((probe.predict(grid)[0] - data.jump_target(grid)) ** 2))
probe_change = probe_error / run.errors["ReLU network"][0, -1] - 1
plateau = max(last_quarter_fall(run.losses), last_quarter_fall(control_run.losses))
print(f"largest fall over the last quarter: {plateau:.2%}; twice the steps changes the error at n = {sizes[-1]} "
      f"by {probe_change:+.1%}")

# %% [markdown]
# ## Error against sample size
#
# Markers: mean over data sets (bars: their range); dashed: fitted slopes; grey dotted: the theoretical rates
# $n^{-1/2}$ (linear estimators) and $n^{-1}$ (networks, logarithms dropped), anchored at the first point. Middle:
# the fits around the jump at the largest $n$. Right: the networks' training loss at the largest $n$, over steps.

# %%
fig, axes = plotting.subplots(1, 3, width=11, height=3.4)
for i, (name, e) in enumerate(run.errors.items()):
    color = plotting.COLORS[i]
    axes[0].errorbar(n, e.mean(0), yerr=[e.mean(0) - e.min(0), e.max(0) - e.mean(0)], fmt="o", color=color,
                     label=f"{name} ({rates[name].slope:+.2f})")
    axes[0].plot(n, np.exp(np.mean(np.log(e)) + rates[name].slope * (np.log(n) - np.log(n).mean())), "--",
                 color=color, lw=1)
start = run.errors["cubic spline"][:, 0].mean()
for power in (0.5, 1.0):
    axes[0].plot(n, start * (n / n[0]) ** -power, ":", color="grey", lw=1)
axes[0].set(xscale="log", yscale="log", xlabel="sample size n", ylabel="mean squared error")
axes[0].set_xticks(n, [str(v) for v in n], minor=False)
axes[0].set_xticks([], minor=True)
axes[0].legend(fontsize=7)
zoom = np.abs(grid - 0.4) < 0.06
axes[1].plot(*run.example_data, ".", color="0.8", ms=2)
axes[1].plot(grid[zoom], data.jump_target(grid)[zoom], "k-", lw=1, label="target")
for i, (name, fit) in enumerate(run.example_fits.items()):
    axes[1].plot(grid[zoom], fit[zoom], color=plotting.COLORS[i], lw=1.2, label=name)
axes[1].set(xlim=(0.34, 0.46), ylim=(0.2, 2.3), xlabel="x (around the jump)", ylabel=f"fit at n = {sizes[-1]}")
axes[1].legend(fontsize=7)
steps_logged = np.linspace(0, relu_steps, run.losses.shape[-1])
axes[2].plot(steps_logged, run.losses[:, -1].T / noise**2, color=plotting.COLORS[3], lw=0.8)
axes[2].set(ylim=(0.8, 1.6), xlabel="Adam step", ylabel="training loss / noise variance")
plotting.plt.show()

# %% [markdown]
# *What to see:* left, the fixed-basis estimators fall together along a slope near $-1/2$, and the question is
# whether the network's points fall faster. Middle, around the jump the fixed bases smear or ring over a window,
# while the network builds a steep ramp. Right, the training loss of every network at the largest $n$ flattens
# near the noise variance well before the last step.
#
# ## Slopes per data set, and the checks
#
# A pooled slope hides how much it moves with the data. Each data set gives its own slope; the difference between
# the network's and the steepest baseline's slope on the *same* data sets is a paired comparison, and its
# interval says whether the network is steeper beyond the noise. `compare` computes the catalogue's criterion and
# that stronger check, and is run unchanged on the control.

# %%
def compare(n, errors, losses, noise, name="ReLU network"):
    """The checks on one run: pooled and paired slopes, the error ratio at the largest n, sanity of the fit."""
    pooled = {b: est.fit_rate(n, e).slope for b, e in errors.items()}
    bases = [b for b in errors if b != name]  # sanity below: true when the code and the recipe are right
    best = min(bases, key=pooled.get)
    diff = stats.mean_interval(est.slopes(n, errors[name]) - est.slopes(n, errors[best]))
    ratio = errors[name][:, -1].mean() / np.min([errors[b][:, -1] for b in bases], axis=0).mean()
    base_slopes = [pooled[b] for b in bases]
    checks = {
        "steeper": repro.evidence(pooled[name] - pooled[best], "<=", -0.2),
        "baselines_slope_low": repro.evidence(min(base_slopes), ">=", -0.75),
        "baselines_slope_high": repro.evidence(max(base_slopes), "<=", -0.3),
        "half_error": repro.evidence(ratio, "<=", 0.5),
        "steeper_beyond_noise": repro.evidence(diff.high, "<=", -0.2),
        "pooled_slope_is_mean_of_seed_slopes": repro.sanity(
            abs(pooled[name] - est.slopes(n, errors[name]).mean()), "<=", 1e-9, scale=1e-9),
        "training_plateau": repro.sanity(last_quarter_fall(losses), "<=", 0.05),
        "networks_fit_the_data": repro.sanity(losses[..., -1].max() / noise**2, "<=", 1.25),
    }
    figures = {"relu_slope": pooled[name], "best_baseline_slope": pooled[best], "relu_error_ratio": ratio,
               **{f"{b.split()[0].lower()}_slope": pooled[b] for b in bases}}
    return checks, diff, best, figures


checks, diff, best, figures = compare(n, run.errors, run.losses, noise)
c_checks, c_diff, c_best, c_figures = compare(n, control_run.errors, control_run.losses, noise)
checks["longer_training_changes_little"] = repro.sanity(abs(probe_change), "<=", 0.25)
print(f"steepest baseline: {best}; paired slope difference {diff.value:+.3f} "
      f"(95% interval {diff.low:+.3f} to {diff.high:+.3f}, {n_seeds} data sets); error ratio "
      f"{figures['relu_error_ratio']:.3f}")

# %% [markdown]
# ## The check, and its control
#
# The acceptance criterion (the catalogue, `book/claims.yml`): the ReLU slope is at least 0.2 steeper than the
# best baseline's (`steeper`); every baseline slope lies in $[-0.75, -0.3]$ (split in `baselines_slope_low` and
# `baselines_slope_high`); the ReLU error at the largest $n$ is at most half the best baseline's (`half_error`).
# Beside them, stronger: the paired per-data-set interval of the slope difference lies below $-0.2$
# (`steeper_beyond_noise`). These five are **evidence**: a network no faster than the baselines, or baselines
# faster than the theory allows, fails them. **Sanity** (recorded, not graded): the pooled slope equals the mean
# of the per-data-set slopes (an identity of least squares on a balanced design); training has reached its
# plateau (the loss fell by at most 5% over the last quarter of steps; twice the steps move the error at the
# largest $n$ by at most 25%); and every network fitted its data (final training loss at most 1.25 times the
# noise variance). These hold when the recipe works; if one failed, the run would be too small to decide, and the
# status would say *undecided at this size* rather than count a failed optimisation against the theorem. The
# status says the same when the paired 95% interval of the slope difference contains $-0.2$: then the data sets
# cannot tell the catalogue's slope gap from a smaller one, and a verdict short of *reproduced* would rest on
# noise (a run whose whole interval lies above $-0.2$ is graded as the checks say).
#
# **The near miss** is the smooth control: the same estimators, recipe and checks, on the target without its
# jump. It passes the sanity checks (same training, same identity), and the claim must fail there: splines and
# kernels reach fast rates on smooth functions, so the network has no advantage to show.
#
# **The rule that chose the sizes.** Every evidence check's margin must exceed its spread over seeds (the
# robustness runs at seeds 1 to 3, on the status page). The tightest by design is `steeper_beyond_noise`: its margin is
# the distance of the paired interval's upper end from $-0.2$; the interval narrows as $1/\sqrt{S}$ in the
# number $S$ of data sets, while the slopes themselves need $n$ to reach the range where the network's ramp is
# built. We took $n$ up to 2048 (4096 would cost eight times the fixed-basis tuning and twice the training, past
# any budget here) and as many data sets as then fit: eight, with three for the control, whose checks fail by
# wide margins. The run costs more than the two-minute CPU budget of a page; it declares
# up to 240 s for this reason. The cost went where the measurements said (cProfile): the Fourier tuning solves
# every number of terms from one QR factorisation, kernel ridge solves its banded system (entries below
# $3 \times 10^{-18}$ dropped), and small networks train in batches while large ones train alone.

# %%
reasons = ([] if all(c.passed for c in checks.values() if c.kind == "sanity")
           else ["training did not settle (a sanity check failed)"])
if diff.low < -0.2 < diff.high:  # the paired interval cannot tell a slope gap of 0.2 from none beyond it
    reasons.append("the paired interval of the slope difference contains -0.2")
undecided = "; ".join(reasons) or None
controls = {"smooth_target": repro.control("the same comparison, trained the same way, on the target without "
                                           "its jump", c_checks, c_figures, kind="near miss")}
repro.record_claim(
    "F1",
    title="ReLU networks estimate a function with a jump at a faster rate than fixed-basis estimators",
    status=repro.grade(checks, undecided=undecided),
    criterion="ReLU log-log slope >= 0.2 steeper than the best baseline; baseline slopes in [-0.75, -0.3]; ReLU "
              "error at the largest n <= 0.5 x the best baseline's (added: the paired per-data-set slope "
              "difference's 95% interval lies below -0.2)",
    checks=checks,
    measured={
        "relu_slope": repro.measure(figures["relu_slope"], tol=2 * rates["ReLU network"].stderr,
                                    basis="2 standard errors of the pooled slope"),
        "best_baseline_slope": repro.measure(figures["best_baseline_slope"], tol=2 * rates[best].stderr,
                                             basis="2 standard errors of the pooled slope"),
        **{k: v for k, v in figures.items() if k not in ("relu_slope", "best_baseline_slope")},
        "slope_difference": repro.measure(diff.value, tol=2 * diff.sem, basis=f"2 standard errors, {n_seeds} seeds"),
        "slope_difference_low": diff.low, "slope_difference_high": diff.high,
        "plateau_fall": plateau, "longer_training_change": probe_change,
        "tuned_at_grid_edge": int(sum(e.sum() for e in run.edge.values())),
        "tunings": int(sum(e.size for e in run.edge.values())),
        "n_seeds": n_seeds, "control_seeds": control_seeds, "largest_n": sizes[-1],
    },
    controls=controls,
)

# %% [markdown]
# What the verdict rests on: where reproduced, every evidence check; always, the near miss passing its sanity
# checks and failing an evidence check.

# %%
if repro.grade(checks).status == "reproduced":
    assert all(c.passed for c in checks.values()), checks
assert controls["smooth_target"].sanity_passed, c_checks
assert not controls["smooth_target"].passed_check, "every evidence check passed on the smooth control"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. The fixed-basis estimators, tuned as favourably as possible, fall at slopes near
# the $-1/2$ set by the jump: Fourier {glue:text}`fourier_slope:.2f` (its periodic basis also sees a jump at the
# wrap-around), splines {glue:text}`cubic_slope:.2f`, kernel ridge {glue:text}`kernel_slope:.2f`; of
# {glue:text}`tunings` tunings, {glue:text}`tuned_at_grid_edge` stopped at an end of their grid. The
# gradient-trained ReLU network falls at {glue:text}`relu_slope:.2f` against {glue:text}`best_baseline_slope:.2f`
# for the steepest baseline; per data set the network's slope minus the baseline's is
# {glue:text}`slope_difference:.2f`, with a 95% interval from {glue:text}`slope_difference_low:.2f` to
# {glue:text}`slope_difference_high:.2f` over {glue:text}`n_seeds` data sets. At $n =$ {glue:text}`largest_n`
# the network's error is {glue:text}`relu_error_ratio:.2f` times the best baseline's (the criterion asks at most
# one half). The training loss had flattened: it fell by at most {glue:text}`plateau_fall:.3f` (relative) over
# the last quarter of steps. The probe is the harder test: twice the steps changed the error of the first data
# set's network at the largest $n$ by {glue:text}`longer_training_change:.2f` (relative; the sanity check allows
# a quarter either way). Where the probe moves the error by more than that, the error at $n = 2048$ still depends
# on how long the network trains by more than the margins at stake, and the status says *undecided at this size*
# whatever the evidence checks give: we do not count a recipe whose test error has not settled either for or
# against the theorem.
#
# On the smooth control the network falls at {glue:text}`smooth_target.relu_slope:.2f`, splines at
# {glue:text}`smooth_target.cubic_slope:.2f` and kernel ridge at {glue:text}`smooth_target.kernel_slope:.2f`
# (Fourier, {glue:text}`smooth_target.fourier_slope:.2f`, still sees the wrap-around jump), and the network's
# error at the largest $n$ is {glue:text}`smooth_target.relu_error_ratio:.1f` times the best baseline's: the
# network checks fail there, as they must.
#
# **Against the referees (issues 19 and 20).** The earlier version of this page was cut to fit the clock (4000
# steps at a learning rate of 0.005, $n \le 1024$, four data sets) and recorded `not reproduced` while saying that
# its network had not finished building the ramp at the jump: an optimisation shortfall, not evidence against
# the theorem. Now: $n$ runs to 2048 (4096 does not fit, see the rule above); eight data sets; inputs centred;
# a learning rate four times larger, with the plateau shown (right panel) and probed (twice the steps); the
# control trained the same way in its own batch; every check a number against a threshold, classified as
# evidence or sanity; the smooth control recorded as the near miss (it passes the sanity checks); every data set
# and network drawn from its own derived stream (`session.rng_for`, `session.generator_for`). A run whose
# training fails a sanity check is graded *undecided at this size*, never *not reproduced*. What would decide
# it: a recipe whose test error settles (several restarts per data set, keeping the one of least training loss,
# which is closer to the papers' empirical risk minimiser; or longer training at a smaller final rate), with
# more data sets to narrow the paired interval; both cost a multiple of this page's budget. What remains ours
# and not the papers': gradient descent in place of the empirical risk minimiser, one fixed architecture for
# every $n$ (the theory lets the network grow with $n$), oracle-tuned baselines, and one dimension only.
