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
# # M3 · Spatial Monte Carlo integration makes DBM learning more accurate
#
# **The result.** Learning a Boltzmann machine needs expectations of pair products $x_i x_j$, which are estimated
# from samples. Spatial Monte Carlo integration (SMCI) replaces each sampled product by its exact conditional
# expectation given the sampled values *around* the pair, so the Markov structure of the model does part of the
# averaging; Yasuda proved it never less accurate than plain Monte Carlo {cite}`yasuda2015smci`, built a learning
# rule on its first-order version {cite}`yasuda2018smci`, and later combined it with persistent chains and
# generalised it {cite}`yasuda2020smci`. The grant report states that an SMCI-based learning algorithm for deep
# Boltzmann machines (DBMs) beats the conventional one {cite}`report002`.
#
# **What we do.** Two levels. *Estimators:* on a four-layer DBM we draw exact independent samples many times and
# compare the variance of plain Monte Carlo, first-order and second-order SMCI on every pair statistic.
# *Learning:* random bias-free 5–5–5 DBMs generate data; each is learned from the same start by the conventional
# method (mean-field data term, persistent-chain average for the model term) and by first-order SMCI for both
# terms, with 10, 100 and 1000 persistent chains; the exact KL divergence from the generating model is computed by
# enumeration after every epoch, and the two learners are compared trial by trial.
#
# **What is ours.** Through our search tool we could read the abstracts, introductions and section outlines of
# the 2018 and 2020 papers (the MDPI page and ar5iv), not their derivations. From them we take the definition of
# SMCI (sum exactly over a region around the target, condition on the sampled boundary; the order sets how many
# neighbour shells are summed), that its higher orders are more accurate, and that SMCI was combined with
# persistent chains. The learning setting follows the public DBM code of Yasuda's group (repository
# `106-/Deep-Boltzmann-Machine`, which we read for its settings and did not copy): 5–5–5 machines without biases,
# generating weights $\mathcal N(0, 10/(n_l + n_{l+1}))$ (standard deviation 1 here), 500 training vectors,
# Glorot–Bengio uniform starting weights, Adamax on minibatches of 100, persistent model chains advanced one sweep
# per update, a mean-field data term warm-started from the previous update with one sweep per update, and for
# SMCI a persistent chain clamped to each training vector. Ours: the step size (0.01 against their default
# 0.002) and the length (200 epochs against their 5000), so that three chain counts fit our CPU budget; 100
# burn-in sweeps instead of 1000; exact samples for the data; the chain counts (their code used 1000, and 500 in
# its last revision); the closed
# form of the pair's conditional, the layer-window form of second-order SMCI, the paired comparison and the
# control.

# %% tags=["parameters"]
seed = 0
est_sizes = [5, 5, 5, 5]  # DBM for the estimator comparison (second order is not exact on every pair)
est_scale = 0.5  # its weights are N(0, est_scale^2): every pair product must change sign in the sample budget
n_samples = 100  # exact samples per estimate
n_reps = 200  # independent estimates, for the variances
sizes = [5, 5, 5]  # generating and learned DBMs (no biases)
true_scale = 1.0  # generating weights N(0, true_scale^2)
n_data = 500  # training vectors per generating model
batch_size = 100  # minibatch
epochs = 200
lr = 0.01  # Adamax step
chain_counts = [10, 100, 1000]  # persistent model chains
trial_counts = [20, 20, 10]  # generating models learned at each chain count (the first ones are shared)
ablation_up_to = 100  # the ablation and the placebo run at chain counts up to this
final_window = 50  # "final KL" = mean over the last epochs
device = "cpu"

# %%
import math
import time

import numpy as np
import torch

from dltheory import boltzmann as bz
from dltheory import plotting, repro, stats

session = repro.setup(seed, device=device)

# %% [markdown]
# ## SMCI on a DBM
#
# A DBM on $\pm1$ layers $x_0 = v, x_1, \dots, x_L$ has $P(x) \propto \exp\sum_l x_l^\top W_l x_{l+1}$ (no biases
# here). For a pair $C = \{i, j\}$, $i$ in layer $l$ and $j$ in layer $l+1$, the Markov property gives
# $\langle x_i x_j\rangle = \mathbb E\big[\mathbb E[x_i x_j \mid x_{N(C)}]\big]$ for any set $N(C)$ that separates
# $C$ from the rest. First-order SMCI conditions on all other units. With $a$ and $b$ the fields on $i$ and $j$
# from everyone but each other, the pair's conditional is $\propto e^{a s + b t + W_{ij} s t}$, so
#
# $$
# \hat\mu^{(1)}_{ij} = \frac1S \sum_{s=1}^S \tanh\!\Big(W_{ij} + \tfrac12\big[\log\cosh(a^{(s)} + b^{(s)})
#   - \log\cosh(a^{(s)} - b^{(s)})\big]\Big). \tag{1}
# $$
#
# Second-order SMCI sums exactly over $C$ and its neighbours $N_1(C)$, conditioning on the next shell
# $N_2(C)$. In a DBM $N_1(C)$ fills layers $l-1, \dots, l+2$, and $N_2(C)$ is layers $l-2$ and $l+3$: given those
# sampled layers the window is a small DBM whose pair moment we compute by enumerating every other layer,
#
# $$
# \hat\mu^{(2)}_{ij} = \frac1S \sum_{s=1}^S \mathbb E\big[x_i x_j \,\big|\, x_{l-2}^{(s)}, x_{l+3}^{(s)}\big].
#   \tag{2}
# $$
#
# Both are conditional expectations of the plain estimator $\frac1S\sum_s x_i^{(s)}x_j^{(s)}$ (Rao–Blackwell), so
# they are unbiased for exact samples and their variance is never larger; (2) conditions on less than (1), so it
# is at least as accurate as (1). Exact samples come from enumerating the odd layers (`bz.dbm_exact_sample`).
#
# **Why weak couplings here.** A variance can only be measured if the pair product changes sign within the
# sample budget (`n_reps` x `n_samples` samples). With weights of scale 1, some pairs of some random four-layer models
# are locked so tightly that a sign flip has probability near $10^{-5}$: at one of the seeds we tried, plain Monte
# Carlo then never saw a flip, its sample variance was exactly zero, and the comparison was undefined rather than
# lost. We therefore compare the estimators at scale `est_scale` = 0.5 and print the probability of the rarest
# flip; the learning experiment below uses scale 1. We chose this after the comparison at scale 1 broke at one seed,
# so say plainly what the variance check is: by Rao–Blackwell it cannot fail for a correct implementation of (1)
# and (2) on exact samples, and it tests our code, not the claim. The evidence for the claim is the learning
# comparison below.

# %%
gen = session.generator
est_dbm = bz.random_dbm(est_sizes, est_scale, generator=gen)
truth_est = torch.cat([m.flatten() for m in bz.exact_pair_stats(est_dbm)])
rarest_flip = float((1 - truth_est.abs()).min() / 2)  # the smallest P(x_i x_j differs from its usual sign)
runs = {"plain MC": [], "SMCI, 1st order": [], "SMCI, 2nd order": [], "SMCI, shuffled": []}
for _ in range(n_reps):
    layers = bz.dbm_exact_sample(est_dbm, n_samples, generator=gen)
    shuffled = bz.shuffle_units(layers, generator=gen)
    for name, est in (("plain MC", bz.mc_pair_stats(layers)), ("SMCI, 1st order", bz.smci1_pair_stats(est_dbm, layers)),
                      ("SMCI, 2nd order", bz.smci2_pair_stats(est_dbm, layers)),
                      ("SMCI, shuffled", bz.smci1_pair_stats(est_dbm, shuffled))):
        runs[name].append(torch.cat([m.flatten() for m in est]))
runs = {k: repro.to_numpy(torch.stack(v)) for k, v in runs.items()}  # (n_reps, n_pairs)
variance = {k: v.var(0, ddof=1) for k, v in runs.items()}
mse = {k: ((v - repro.to_numpy(truth_est)) ** 2).mean(0) for k, v in runs.items()}
ratio1 = variance["SMCI, 1st order"] / variance["plain MC"]
ratio2 = variance["SMCI, 2nd order"] / variance["plain MC"]
# plain MC's variance is also known exactly: a product of two spins is +-1, so (1 - mu^2) / S for S exact samples
ratio1_exact = variance["SMCI, 1st order"] / ((1 - repro.to_numpy(truth_est) ** 2) / n_samples)
print(f"rarest sign flip of a pair product: probability {rarest_flip:.3g}")
print(f"{ratio1.size} pair statistics; variance ratio to plain MC: 1st order median {np.median(ratio1):.3f}, "
      f"max {ratio1.max():.3f}; 2nd order median {np.median(ratio2):.3g}, max {ratio2.max():.3g}")
print(f"1st order against plain MC's exact variance (1 - mu^2)/S: median {np.median(ratio1_exact):.3f}, "
      f"max {ratio1_exact.max():.3f}")

# %% [markdown]
# The estimates are unbiased as they must be: the largest deviation of a mean over the repetitions from the exact
# moment, in standard errors, is printed below for each estimator (over 75 pairs a few above 2 are expected; the
# standard error is floored at $10^{-12}$, since the pairs that second-order SMCI computes exactly have a
# rounding-level spread). The shuffled row is an illustration: SMCI evaluated on samples whose units were
# permuted across samples independently, which keeps every unit's marginal but destroys the joint configuration
# that (1) conditions on; it must be biased.

# %%
for k, v in runs.items():
    z = np.abs(v.mean(0) - repro.to_numpy(truth_est)) / np.maximum(np.sqrt(variance[k] / n_reps), 1e-12)
    print(f"{k:16s} max |z| = {z.max():8.2f}   mean squared error {mse[k].mean():.2e}")

# %%
fig, ax = plotting.subplots(1, 1, width=5.5, height=3.4)
order = np.argsort(ratio1)
floor = 1e-4  # second-order estimates that are exact (ratio at rounding level) are drawn here
ax.semilogy(ratio1[order], "o", ms=3, label="SMCI, 1st order", color=plotting.COLORS[1])
ax.semilogy(np.maximum(ratio2[order], floor), "s", ms=3, label="SMCI, 2nd order", color=plotting.COLORS[2])
ax.axhline(1.0, color="k", lw=1, ls="--", label="plain MC")
ax.set(xlabel="pair statistic (sorted by the 1st-order ratio)", ylabel="variance / plain-MC variance")
ax.legend()
plotting.plt.show()

# %% [markdown]
# *What to see:* every first-order point lies below the dashed line of plain Monte Carlo, and the second order
# lies far below; for pairs between the two middle layers the second-order window is the whole network, so the
# estimate is exact: those points sit on the floor of the plot (their variance is at rounding level).
#
# ## Learning
#
# The gradient of the log-likelihood in $W_l$ is
# $\langle x_l x_{l+1}^\top\rangle_{\rm data} - \langle x_l x_{l+1}^\top\rangle_{\rm model}$, here on a minibatch
# of the data and ascended by Adamax. The *conventional* learner takes the data term from mean field (the hidden
# means given each data vector, one sweep per update from the previous update's means) and the model term from
# the average over the persistent chains. The *SMCI* learner takes both terms from (1): the data term on
# persistent chains clamped to the data, the model term on the persistent chains. Both learners of a trial start
# from the same weights, see the same minibatches in the same order, and drive their model chains with the same
# random numbers (common random numbers; the chains part as the two models do). Two more learners separate the
# causes: the *ablation* keeps the conventional mean-field data term and takes only the model term from SMCI, and
# the *placebo* is the conventional learner again with other random numbers for its chains.
#
# **Sizes.** The trials differ far more from one another than the learners do, so we compare the learners trial
# by trial: the paired difference $d_t = \mathrm{KL}_{\rm conv} - \mathrm{KL}_{\rm SMCI}$ of the final KL
# (the mean over the last `final_window` epochs). In a pilot at another seed, 20 trials were enough for the 95%
# lower bound of the mean of $d_t$ to clear zero at 100 and 1000 chains, and only just at 10; a run with 1000
# chains costs about ten times the CPU of one with 10 (the work grows with the chains there, while at 10 and 100
# chains it is mostly fixed overhead), so we take 20 trials at 10 and 100 chains and 10 at 1000, the most that fit
# our budget of 120 s of CPU. The run reports, from its own spread, how many trials a decisive test would need; the
# catalogue's paper scale takes 200 trials at each chain count.

# %%
def make_trials(n_trials, sizes, true_scale, n_data, session):
    """Generating DBMs, their training data (exact samples) and the learners' start, batched over trials;
    trial t always draws from stream ("trial", t), so the first trials are shared between chain counts."""
    truths, data, starts = [], [], []
    for t in range(n_trials):
        g = session.generator_for("trial", t)
        truths.append(bz.random_dbm(sizes, true_scale, generator=g))
        data.append(bz.dbm_exact_sample(truths[-1], n_data, generator=g)[0])
        starts.append(bz.uniform_dbm(sizes, generator=g))
    return torch.stack(data), bz.stack_dbms(starts), bz.stack_dbms(truths)


def learn(name, trials, n_chains, session, *, epochs, lr, batch_size):
    """One learner on every trial at once; every learner but the placebo drives its chains with the same stream."""
    method = {"conventional": "conventional", "placebo": "conventional", "smci": "smci", "ablation": "mf_smci"}
    chains = "placebo chains" if name == "placebo" else "chains"
    data, start, truth = trials
    return bz.learn_dbms(data, start, truth, method=method[name], epochs=epochs, n_chains=n_chains, lr=lr,
                         batch_size=batch_size, generator=session.generator_for(chains, n_chains),
                         order_generator=session.generator_for("minibatch order", n_chains),
                         aux_generator=session.generator_for("clamped chains", n_chains))

# %%
curves, final, residual, cpu = {}, {}, {}, {}
for n_chains, n_trials in zip(chain_counts, trial_counts, strict=True):
    trials = make_trials(n_trials, sizes, true_scale, n_data, session)
    names = ["conventional", "smci"] + (["ablation", "placebo"] if n_chains <= ablation_up_to else [])
    t0 = time.process_time()
    for name in names:
        run = learn(name, trials, n_chains, session, epochs=epochs, lr=lr, batch_size=batch_size)
        curves[name, n_chains] = repro.to_numpy(run.kl)  # (trials, epochs + 1)
        final[name, n_chains] = curves[name, n_chains][:, -final_window:].mean(1)
        residual[name, n_chains] = run.mf_residual
    cpu[n_chains] = time.process_time() - t0
    print(f"{n_chains:5d} chains, {n_trials} trials ({cpu[n_chains]:.0f} s): mean final KL " +
          ", ".join(f"{k} {final[k, n_chains].mean():.4f}" for k in names))

# %%
fig, axes = plotting.subplots(1, len(chain_counts), width=10, height=3.3, sharey=True)
for ax, n_chains in zip(np.atleast_1d(axes), chain_counts, strict=True):
    for k, label in (("conventional", "conventional (MF + chains)"), ("smci", "SMCI"), ("ablation", "MF + SMCI")):
        if (k, n_chains) not in curves:
            continue
        ivs = [stats.mean_interval(col) for col in curves[k, n_chains].T]
        m, lo, hi = (np.array([getattr(i, f) for i in ivs]) for f in ("value", "low", "high"))
        ax.semilogy(m, label=label)
        ax.fill_between(np.arange(len(m)), np.maximum(lo, 1e-3), hi, alpha=0.2)
    ax.set(xlabel="epoch", title=f"{n_chains} chains, {len(curves['smci', n_chains])} trials", ylim=(5e-3, None))
np.atleast_1d(axes)[0].set(ylabel="KL(true || model), nats")
np.atleast_1d(axes)[0].legend(fontsize=7)
plotting.plt.show()

# %% [markdown]
# *What to see:* mean KL over trials with its 95% interval. SMCI ends lower at every chain count; the
# conventional learner levels off higher and fluctuates, and more chains do not help it, because what limits it
# is the mean-field data term, which more model chains cannot correct. The ablation (mean-field data term with an
# SMCI model term) follows the conventional learner.

# %%
fig, ax = plotting.subplots(1, 1, width=6, height=3.3)
for i, n_chains in enumerate(chain_counts):
    for k, (other, color, dx) in enumerate((("smci", plotting.COLORS[1], -0.12), ("placebo", plotting.COLORS[3], 0.12))):
        if (other, n_chains) not in final:
            continue
        d = final["conventional", n_chains] - final[other, n_chains]
        ax.plot(np.full(len(d), i + dx), d, "o", ms=3, color=color, alpha=0.7,
                label=("conventional - SMCI", "conventional - placebo")[k] if i == 0 else None)
ax.axhline(0, color="k", lw=1)
ax.set(xticks=range(len(chain_counts)), xticklabels=[f"{c} chains" for c in chain_counts],
       ylabel="paired difference of final KL, nats")
ax.legend(fontsize=7)
plotting.plt.show()

# %% [markdown]
# *What to see:* one point per trial; points above the line are trials that SMCI (or the placebo) learned better
# than the conventional learner. Most SMCI points sit above zero at every chain count, a few far above, a few just
# below; the placebo's straddle it, as a learner that differs from the conventional one only in its random numbers
# must.
#
# ## The checks and the control
#
# From the [catalogue](../catalogue.md): the SMCI estimator's variance is below plain Monte Carlo's on every pair
# statistic tested, and the mean final KL of SMCI learning is below the conventional one's, with SMCI better in at
# least 7 of 10 trials.
#
# - *Sanity: the estimator checks.* By Rao–Blackwell both orders of SMCI have smaller variance than plain Monte
#   Carlo on exact samples, and, being unbiased, smaller mean squared error; on {glue:text}`n_pairs` pairs and
#   {glue:text}`n_reps` repetitions these hold for a correct implementation by construction. We record the largest
#   ratio of each (`variance_below_mc_every_pair`, `mse_below_mc_every_pair`, both < 1); they test our code.
# - *Evidence: the learning comparison, at each chain count.* SMCI better in at least 70% of the trials
#   (`wins_<chains>`, the catalogue's 7 of 10), and the mean final KL lower with a margin: the lower end of the
#   95% Student interval of the paired difference $d_t$ is above zero (`gap_lower_<chains>`, in units of its
#   standard error on the status page).
#
# *Near-miss controls.* The same paired checks, run against the conventional learner at the chain counts where
# the controls run, on two learners that pass the sanity checks (the estimators are the same):
# - *the ablation*, a plausible half-way method: SMCI for the model term only, the data term left to mean field.
#   Nothing guarantees its failure; if the claim's gain came from the model term, it would pass.
# - *the placebo*, the conventional learner with other random numbers for its chains: a null control with no
#   advantage to find, which shows the paired checks do not pass by chance.

# %%
def estimator_checks(var_ratios, mse_ratios):
    """Sanity: the largest ratio to plain Monte Carlo of the variance and of the mean squared error, over every
    pair statistic of every estimator given."""
    return {"variance_below_mc_every_pair": repro.sanity(float(max(r.max() for r in var_ratios)), "<", 1.0),
            "mse_below_mc_every_pair": repro.sanity(float(max(r.max() for r in mse_ratios)), "<", 1.0)}


def paired_checks(final_conv, final_other, label):
    """Evidence that a learner ends below the conventional one: the trials it wins (>= 70%) and the lower end of
    the 95% interval of the mean paired difference (> 0)."""
    d = final_conv - final_other
    iv = stats.mean_interval(d)
    return {f"wins_{label}": repro.evidence(int((d > 0).sum()), ">=", math.ceil(0.7 * len(d))),
            f"gap_lower_{label}": repro.evidence(iv.low, ">", 0.0, scale=iv.sem)}


def learner_control(name, what):
    """A control: the paired checks of learner ``name`` against the conventional one (with the sanity checks),
    its wins and its mean differences, at the chain counts where it ran."""
    counts = [c for c in chain_counts if (name, c) in final]
    cc = dict(sanity)
    for c in counts:
        cc |= paired_checks(final["conventional", c], final[name, c], c)
    measured = {**{f"wins_{c}": int(cc[f"wins_{c}"].value) for c in counts},
                **{f"mean_gap_{c}": float(np.mean(final["conventional", c] - final[name, c])) for c in counts}}
    return repro.control(what, cc, measured, kind="near miss")


mse_ratio = {k: mse[k] / mse["plain MC"] for k in mse}
sanity = estimator_checks([ratio1, ratio2], [mse_ratio["SMCI, 1st order"], mse_ratio["SMCI, 2nd order"]])
checks = dict(sanity)
for n_chains in chain_counts:
    checks |= paired_checks(final["conventional", n_chains], final["smci", n_chains], n_chains)
for k, c in checks.items():
    print(f"{c.kind:8s} {k:30s} {c.value:9.4g} {c.op} {c.threshold:g}: {'holds' if c.passed else 'fails'}")

# %%
def measure_mean(x, what):
    """The mean over trials, with two standard errors as its tolerance."""
    iv = stats.mean_interval(np.asarray(x))
    return repro.measure(iv.value, tol=2 * iv.sem, basis=f"2 standard errors of {what} over {iv.n} trials")


def wins(a, b):
    """How many trials learner b ended below learner a, with its binomial tolerance."""
    w = int((a > b).sum())
    return repro.measure(w, tol=stats.count_tolerance(w, len(a)), basis="binomial spread")

# %%
learning = {}
for n_chains in chain_counts:
    conv = final["conventional", n_chains]
    learning[f"final_kl_conventional_{n_chains}"] = measure_mean(conv, "the final KL")
    for k in ("smci", "ablation", "placebo"):
        if (k, n_chains) in final:
            learning[f"final_kl_{k}_{n_chains}"] = measure_mean(final[k, n_chains], "the final KL")
            learning[f"{k}_wins_{n_chains}"] = wins(conv, final[k, n_chains])
    gap = stats.mean_interval(conv - final["smci", n_chains])
    learning[f"mean_gap_{n_chains}"] = repro.measure(gap.value, tol=2 * gap.sem, basis="2 standard errors of the "
                                                     f"paired difference over {gap.n} trials")
    learning[f"gap_lower_{n_chains}"] = repro.measure(gap.low, tol=2 * gap.sem, basis="as the mean difference")
    # power rule: trials for the lower bound to clear zero by one more standard error, at this run's spread
    learning[f"trials_needed_{n_chains}"] = math.ceil((3 * gap.sem * math.sqrt(gap.n) / max(gap.value, 1e-12)) ** 2)
    ratio = stats.mean_interval(np.log(conv / final["smci", n_chains]))
    learning[f"kl_ratio_{n_chains}"] = repro.measure(np.exp(ratio.value), tol=2 * ratio.sem * np.exp(ratio.value),
                                                     basis="2 standard errors of the mean log ratio")
    learning[f"n_trials_{n_chains}"] = len(conv)
    learning[f"learning_seconds_{n_chains}"] = cpu[n_chains]

controls = {"ablation": learner_control("ablation", "SMCI for the model term only, mean field for the data term"),
            "placebo": learner_control("placebo", "the conventional learner again, its chains driven by other "
                                                  "random numbers")}

# %% [markdown]
# The power rule decides whether the run can grade the claim: where, at this run's spread, the paired comparison at
# some chain count needs more trials than were run, a check that falls short is undecided at this size, not a
# failure of the claim.

# %%
underpowered = {c: learning[f"trials_needed_{c}"] for c in chain_counts
                if learning[f"trials_needed_{c}"] > learning[f"n_trials_{c}"]}
power = (f"the paired comparison needs about {max(underpowered.values())} trials at {sorted(underpowered)} chains "
         "at this run's spread, more than were run" if underpowered else None)
repro.glue("power_verdict", f"finds that {power}, so a check that falls short grades the claim undecided at this "
           "size, not partially reproduced" if power else "finds every chain count run with at least the trials "
           "its paired comparison needs, so the checks grade the claim as they fall")

# %%
repro.record_claim(
    "M3",
    title="SMCI makes DBM learning more accurate than mean field plus plain chain averages, at 10 to 1000 chains",
    status=repro.grade(checks, undecided=power),
    criterion="SMCI estimator variance below plain MC on every pair statistic tested (sanity: Rao-Blackwell); at "
              f"each of {chain_counts} persistent chains, SMCI better than the conventional learner in >= 70% of "
              "the trials and the 95% lower bound of the mean paired difference of final KL above zero",
    checks=checks,
    measured={
        "var_ratio_first_max": repro.measure(ratio1.max(), tol=0.15, basis="sampling error of a variance ratio "
                                             f"from {n_reps} repetitions"),
        "var_ratio_first_median": repro.measure(np.median(ratio1), tol=0.05, basis="median of 75 such ratios"),
        "var_ratio_second_max": repro.measure(ratio2.max(), tol=0.15, basis="as the first-order maximum"),
        "var_ratio_first_max_exact_mc": repro.measure(ratio1_exact.max(), tol=0.15,
                                                      basis="sampling error of a variance from 200 repetitions"),
        "mse_ratio_shuffled_max": repro.measure(mse_ratio["SMCI, shuffled"].max(), tol=0.5 * mse_ratio[
            "SMCI, shuffled"].max(), basis="a ratio of small mean squared errors"),
        "rarest_flip": repro.measure(rarest_flip, tol=0.0, basis="exact, by enumeration"),
        "n_pairs": int(ratio1.size), "n_reps": n_reps, "est_scale": est_scale, "epochs": epochs,
        "mf_residual_max": repro.measure(max(v for (k, _), v in residual.items() if k != "smci"), tol=1.0,
                                         basis="largest jump of a mean-field mean; varies with the run"),
        **learning,
    },
    controls=controls,
)
# what the verdict rests on: the sanity checks, the power rule's verdict, and the near miss failing
assert all(c.passed for c in checks.values() if c.kind == "sanity"), checks
assert power is not None or all(c.passed for c in checks.values()), (power, checks)
assert all(c.sanity_passed and not c.passed_check for c in controls.values()), controls

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. At the estimator level SMCI did what the theory promises: over
# {glue:text}`n_pairs` pair statistics of a four-layer DBM (weights of scale {glue:text}`est_scale`; the rarest
# sign flip of a pair product had probability {glue:text}`rarest_flip:.2g`) the first-order variance was at most
# {glue:text}`var_ratio_first_max:.2f` times plain Monte Carlo's (median {glue:text}`var_ratio_first_median:.2f`),
# and the second order at most {glue:text}`var_ratio_second_max:.2g` times; against plain Monte Carlo's exact
# variance $(1-\mu_{ij}^2)/S$ the first order was at most {glue:text}`var_ratio_first_max_exact_mc:.2f` times as
# large. These are sanity checks: they test our code. Evaluated on samples with their units shuffled, SMCI's mean
# squared error rose to {glue:text}`mse_ratio_shuffled_max:.0f` times plain Monte Carlo's on one pair, so the
# error check does see a wrong estimator.
#
# In learning, SMCI ended lower *on average* at every chain count, and by a wide factor:
#
# | chains | trials | mean final KL, conventional | mean final KL, SMCI | typical ratio | SMCI better in | mean difference (95% lower bound) |
# |---|---|---|---|---|---|---|
# | 10 | {glue:text}`n_trials_10` | {glue:text}`final_kl_conventional_10:.3f` | {glue:text}`final_kl_smci_10:.3f` | {glue:text}`kl_ratio_10:.1f` | {glue:text}`smci_wins_10` | {glue:text}`mean_gap_10:.3f` ({glue:text}`gap_lower_10:.3f`) |
# | 100 | {glue:text}`n_trials_100` | {glue:text}`final_kl_conventional_100:.3f` | {glue:text}`final_kl_smci_100:.3f` | {glue:text}`kl_ratio_100:.1f` | {glue:text}`smci_wins_100` | {glue:text}`mean_gap_100:.3f` ({glue:text}`gap_lower_100:.3f`) |
# | 1000 | {glue:text}`n_trials_1000` | {glue:text}`final_kl_conventional_1000:.3f` | {glue:text}`final_kl_smci_1000:.3f` | {glue:text}`kl_ratio_1000:.1f` | {glue:text}`smci_wins_1000` | {glue:text}`mean_gap_1000:.3f` ({glue:text}`gap_lower_1000:.3f`) |
#
# (the typical ratio is the geometric mean of KL(conventional) / KL(SMCI) over trials). But the advantage is not
# uniform over trials: in most trials the conventional learner ends somewhat higher, in a few far higher, and in
# about one trial in four it ends slightly lower. The paired differences are therefore heavy-tailed: with a few
# tens of trials their 95% lower bound sits near zero, and a win rate near three in four sits near the catalogue's
# threshold of 7 in 10, so with few trials which side of it a run falls is largely chance (the runs at seeds 1 to 3
# on the book's robustness page show how far the checks move). At the spreads of this run, for the lower bound to
# clear zero by a further standard error, the paired test needs about {glue:text}`trials_needed_10`,
# {glue:text}`trials_needed_100` and {glue:text}`trials_needed_1000` trials at 10, 100 and 1000 chains; the run's
# power rule {glue:md}`power_verdict`. The book's run takes what fits our CPU budget; the catalogue's paper scale,
# 200 trials at each chain count, is sized past the need: it runs with `python -m dltheory run M3 --scale paper`
# (about 36 CPU-minutes on one core), its page and status land in `_build/scaled/paper/`, and the README reports
# the verdict it reached.
#
# The checks can fail. The ablation, SMCI for the model term only, beat the conventional learner in
# {glue:text}`ablation.wins_10` of {glue:text}`n_trials_10` trials at 10 chains and
# {glue:text}`ablation.wins_100` of {glue:text}`n_trials_100` at 100, with mean differences
# {glue:text}`ablation.mean_gap_10:.3f` and {glue:text}`ablation.mean_gap_100:.3f` (mean final KL
# {glue:text}`final_kl_ablation_10:.3f` and {glue:text}`final_kl_ablation_100:.3f`): it fails the paired checks.
# The placebo, the conventional learner with other random numbers, beat it in {glue:text}`placebo.wins_10` and
# {glue:text}`placebo.wins_100` trials, with mean differences {glue:text}`placebo.mean_gap_10:.3f` and
# {glue:text}`placebo.mean_gap_100:.3f`: it fails them too, as a learner with no advantage must.
#
# Which change does the work. Since the ablation is no better than the conventional learner, in this setting the
# gain comes from replacing the mean-field data term by a sampled one, SMCI on chains clamped to the data: the
# conventional learner's error is the bias of its mean field, which more model chains cannot remove, and indeed
# its final KL does not fall from 10 to 1000 chains. We did not run plain Monte Carlo on the same clamped chains,
# so this page does not separate SMCI's variance reduction from sampling the data term at all; and the baseline is
# the authors' one-sweep, warm-started mean field, not mean field iterated to convergence (see below), so the
# claim is shown against that baseline. The warm-started mean field also jumps: a mean changed by up to
# {glue:text}`mf_residual_max:.2f` in one sweep at some update, a sign that it switches between fixed points as
# the weights move.
#
# How this answers the earlier verdict. An earlier version of this page learned by full-batch gradient ascent with
# mean field iterated to convergence, and found SMCI better with 10 chains but worse with 100; that run turned on a
# single comparison of means with no margin. In the authors' setting (Adamax, minibatches of 100, warm-started mean
# field) and with the comparison made trial by trial, SMCI's mean final KL is lower at every chain count we tried,
# and the question left open is only how consistent the advantage is from one generating model to the next. A
# referee's independent run with 500 chains in the authors' setting also found SMCI ahead, in every one of its
# trials.
