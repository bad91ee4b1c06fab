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
# # M3 · Spatial Monte Carlo integration makes DBM learning more accurate with few persistent chains
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
# compare the variance of plain Monte Carlo, first-order and second-order SMCI on every pair statistic. *Learning:*
# ten random bias-free 5–5–5 DBMs generate data; each is learned twice from the same start with the same persistent
# chains, conventionally (mean-field data term, chain average for the model term) and with first-order SMCI for
# both terms; the exact KL divergence from the generating model is computed by enumeration after every epoch.
#
# **What is ours.** Through our search tool we could read the abstracts, introductions and section outlines of
# the 2018 and 2020 papers (the MDPI page and ar5iv), not their derivations. From them we take the definition of
# SMCI (sum exactly over a region around the target, condition on the sampled boundary; the order sets how many
# neighbour shells are summed), that its higher orders are more accurate, and that SMCI was combined with
# persistent chains. The closed form of the pair's conditional, the layer-window form of second-order SMCI for a
# DBM, the DBM learning loops (the papers treat fully visible pairwise machines), the sizes and the control are
# ours; the report names no paper for SMCI learning of DBMs.

# %% tags=["parameters"]
seed = 0
est_sizes = [5, 5, 5, 5]  # DBM for the estimator comparison (second order is not exact on every pair)
est_scale = 0.5  # its weights are N(0, est_scale^2): every pair product must change sign in the sample budget
n_samples = 100  # exact samples per estimate
n_reps = 200  # independent estimates, for the variances
sizes = [5, 5, 5]  # generating and learned DBMs (no biases)
true_scale = 1.0  # generating weights N(0, true_scale^2)
n_trials = 10  # generating models, each learned by both methods
n_data = 1000  # training samples of the visible layer
epochs = 150
lr = 0.1
n_chains = 10  # persistent chains for the model term, shared by both methods
many_chains = 100  # the same comparison with ten times the chains
many_chains_trials = 10  # ... on the first trials
final_window = 10  # "final KL" = mean over the last epochs
device = "cpu"

# %%
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
runs = {k: torch.stack(v).numpy() for k, v in runs.items()}  # (n_reps, n_pairs)
variance = {k: v.var(0, ddof=1) for k, v in runs.items()}
mse = {k: ((v - truth_est.numpy()) ** 2).mean(0) for k, v in runs.items()}
ratio1 = variance["SMCI, 1st order"] / variance["plain MC"]
ratio2 = variance["SMCI, 2nd order"] / variance["plain MC"]
# plain MC's variance is also known exactly: a product of two spins is +-1, so (1 - mu^2) / S for S exact samples
ratio1_exact = variance["SMCI, 1st order"] / ((1 - truth_est.numpy() ** 2) / n_samples)
print(f"rarest sign flip of a pair product: probability {rarest_flip:.3g}")
print(f"{ratio1.size} pair statistics; variance ratio to plain MC: 1st order median {np.median(ratio1):.3f}, "
      f"max {ratio1.max():.3f}; 2nd order median {np.median(ratio2):.3g}, max {ratio2.max():.3g}")
print(f"1st order against plain MC's exact variance (1 - mu^2)/S: median {np.median(ratio1_exact):.3f}, "
      f"max {ratio1_exact.max():.3f}")

# %% [markdown]
# The estimates are unbiased as they must be: the largest deviation of a mean over the repetitions from the exact
# moment, in standard errors, is printed below for each estimator (over 75 pairs a few above 2 are expected; the
# standard error is floored at $10^{-12}$, since the pairs that second-order SMCI computes exactly have a
# rounding-level spread). The shuffled row is the control introduced below.

# %%
for k, v in runs.items():
    z = np.abs(v.mean(0) - truth_est.numpy()) / np.maximum(np.sqrt(variance[k] / n_reps), 1e-12)
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
# $\langle x_l x_{l+1}^\top\rangle_{\rm data} - \langle x_l x_{l+1}^\top\rangle_{\rm model}$. The *conventional*
# method takes the data term from mean field (hidden means given each data point) and the model term from the
# average over persistent Gibbs chains. The *SMCI* method takes both terms from (1): the data term on persistent
# chains clamped to the data, the model term on persistent chains of the same number, started alike (the random
# streams part after the first epoch, since the SMCI learner also draws its clamped sweeps). The two learners thus
# differ in both terms. To separate them we add an ablation, *MF + SMCI*: the conventional data term and the SMCI
# model term, its chains driven by the same random numbers as the conventional learner's (identical in the first
# epoch; after that the two models, and so their chains, part). After each epoch the exact
# $\mathrm{KL}(P_{\rm true}(v) \,\|\, P_{\rm model}(v))$ is computed over all $2^5$ visible states.

# %%
METHODS = {"conventional": "conventional", "smci": "smci", "smci_shuffled": "smci", "mf_smci": "mf_smci"}


def learn_trials(names, trials, chains_per_method):
    """KL curves (len(trials), epochs + 1) per learner in ``names``; each trial draws its generating DBM, data and
    start, and every learner of a trial starts its chains from the same seed (common random numbers). Also the
    number of conventional epochs whose mean field hit its sweep limit."""
    curves, unconverged = {name: [] for name in names}, 0
    for trial in trials:
        g = torch.Generator(device=device).manual_seed(1000 * seed + trial)
        truth = bz.random_dbm(sizes, true_scale, generator=g)
        v = bz.dbm_exact_sample(truth, n_data, generator=g)[0]
        init = bz.random_dbm(sizes, 0.01, generator=g)
        for name in names:
            chains = torch.Generator(device=device).manual_seed(1000 * seed + trial)
            c = bz.learn_dbm(v, init, truth, method=METHODS[name], shuffle=name == "smci_shuffled", epochs=epochs,
                             lr=lr, n_chains=chains_per_method, generator=chains)
            curves[name].append(c.kl.numpy())
            unconverged += c.mf_unconverged if name == "conventional" else 0
    return {k: np.stack(v) for k, v in curves.items()}, unconverged


t0 = time.process_time()
curves, mf_unconverged = learn_trials(list(METHODS), range(n_trials), n_chains)
final = {k: v[:, -final_window:].mean(1) for k, v in curves.items()}
learning_seconds = time.process_time() - t0
print({k: np.round(v, 4).tolist() for k, v in final.items()})
print(f"mean field unconverged in {mf_unconverged} of {n_trials * epochs} conventional epochs")
ablation_wins = int((final["mf_smci"] < final["conventional"]).sum())
print(f"ablation (MF data term + SMCI model term) better than conventional in {ablation_wins} of {n_trials} trials")

# %%
fig, axes = plotting.subplots(1, 2, width=9, height=3.4)
for k, label in (("conventional", "conventional (MF + PCD)"), ("smci", "1st-order SMCI")):
    ivs = [stats.mean_interval(col) for col in curves[k].T]
    m, lo, hi = (np.array([getattr(i, f) for i in ivs]) for f in ("value", "low", "high"))
    axes[0].semilogy(m, label=label)
    axes[0].fill_between(np.arange(len(m)), np.maximum(lo, 1e-2), hi, alpha=0.2)
axes[0].set(xlabel="epoch", ylabel="KL(true || model), nats", title=f"mean over {n_trials} trials, 95% interval",
            ylim=(1e-2, None))
axes[0].legend()
lim = [0.8 * min(final["smci"].min(), final["conventional"].min()), 1.2 * max(final["conventional"].max(),
                                                                           final["smci"].max())]
axes[1].loglog(final["conventional"], final["smci"], "o")
axes[1].plot(lim, lim, "k--", lw=1)
axes[1].set(xlabel="final KL, conventional", ylabel="final KL, SMCI", title="one point per trial")
plotting.plt.show()

# %% [markdown]
# *What to see:* left, both methods drop fast and then level off, and the question is which ends lower; right,
# points below the diagonal are trials that SMCI learned better. The check compares the two under the same,
# deliberately small, sampling budget.
#
# ## With ten times the chains
#
# With {glue:text}`n_chains` chains the model term is noisy, and noise is what SMCI removes. We rerun the
# conventional learner, the SMCI learner and the ablation on the first {glue:text}`many_chains_trials` trials with
# {glue:text}`many_chains` chains each. The report states no sampling budget, so an advantage that holds only for
# few chains is only part of the claim: beside the criterion we ask that SMCI also ends lower on average here.

# %%
many, _ = learn_trials(["conventional", "smci", "mf_smci"], range(many_chains_trials), many_chains)
many_final = {k: v[:, -final_window:].mean(1) for k, v in many.items()}
many_wins = int((many_final["smci"] < many_final["conventional"]).sum())
many_ablation_wins = int((many_final["mf_smci"] < many_final["conventional"]).sum())
print({k: np.round(v, 4).tolist() for k, v in many_final.items()})
print(f"with {many_chains} chains, better than conventional in {many_chains_trials} trials: SMCI {many_wins}, "
      f"ablation {many_ablation_wins}")

# %% [markdown]
# ## The check and its control
#
# From `CLAIMS.md`: the SMCI estimator's variance is below plain Monte Carlo's on every pair statistic tested
# (we test both orders, all {glue:text}`n_pairs` pairs), and the mean final KL of SMCI learning is below the
# conventional one's, with SMCI better in at least 7 of 10 trials. A variance says nothing of bias, so beside it we
# ask that the mean squared error against the exact moments is below plain Monte Carlo's on every pair
# (`mse_below_mc_every_pair`); and, stronger, that the mean final KL is lower with SMCI also with ten times the
# chains (`smci_lower_with_10x_chains`).
#
# *Control: shuffled neighbours.* SMCI is only right because it conditions on the *joint* sampled configuration
# around the pair: that is what the Markov property licenses. Permuting each unit's values across samples
# independently keeps every unit's marginal but destroys the joint configuration, so the conditional in (1) is
# evaluated at configurations the model never produced. The estimator is then biased, and learning with it must
# lose: the same check must fail.

# %%
def check(var_ratios, mse_ratios, final_smci, final_conv):
    """CLAIMS.md's criterion (variance below plain MC on every pair; mean final KL lower, >= 7/10 trials) and the
    mean squared error against the exact moments below plain MC's on every pair."""
    wins = int((final_smci < final_conv).sum())
    return {"variance_below_mc_every_pair": bool(all((r < 1).all() for r in var_ratios)),
            "mse_below_mc_every_pair": bool(all((r < 1).all() for r in mse_ratios)),
            "mean_final_kl_lower": bool(final_smci.mean() < final_conv.mean()),
            "smci_better_in_7_of_10": wins >= 7}, wins


mse_ratio = {k: mse[k] / mse["plain MC"] for k in mse}
checks, wins = check([ratio1, ratio2], [mse_ratio["SMCI, 1st order"], mse_ratio["SMCI, 2nd order"]], final["smci"],
                     final["conventional"])
checks["smci_lower_with_10x_chains"] = bool(many_final["smci"].mean() < many_final["conventional"].mean())
ratio_shuffled = variance["SMCI, shuffled"] / variance["plain MC"]
control_checks, control_wins = check([ratio_shuffled], [mse_ratio["SMCI, shuffled"]], final["smci_shuffled"],
                                     final["conventional"])
print(checks, control_checks)

# %%
def measure_mean(x, what):
    """The mean over trials, with two standard errors as its tolerance."""
    iv = stats.mean_interval(np.asarray(x))
    return repro.measure(iv.value, tol=2 * iv.sem, basis=f"2 standard errors of {what} over {iv.n} trials")


repro.record_claim(
    "M3",
    title="With few persistent chains, SMCI makes DBM learning more accurate than mean field plus plain averages",
    status=repro.grade(checks),
    criterion="SMCI estimator variance below plain MC on every pair statistic tested; mean final KL(SMCI) < mean "
              f"KL(conventional), SMCI better in >= 7/10 trials (learning with {n_chains} persistent chains)",
    checks=checks,
    measured={
        "var_ratio_first_max": repro.measure(ratio1.max(), tol=0.15, basis="sampling error of a variance ratio "
                                             f"from {n_reps} repetitions"),
        "var_ratio_first_median": repro.measure(np.median(ratio1), tol=0.05, basis="median of 75 such ratios"),
        "var_ratio_second_max": repro.measure(ratio2.max(), tol=0.15, basis="as the first-order maximum"),
        "rarest_flip": repro.measure(rarest_flip, tol=0.0, basis="exact, by enumeration"),
        "final_kl_smci": measure_mean(final["smci"], "the final KL"),
        "final_kl_conventional": measure_mean(final["conventional"], "the final KL"),
        "smci_wins": repro.measure(wins, tol=stats.count_tolerance(wins, n_trials), basis="binomial spread"),
        "mf_unconverged_epochs": mf_unconverged, "conventional_epochs": n_trials * epochs,
        "n_trials": n_trials, "n_chains": n_chains, "est_scale": est_scale, "many_chains": many_chains,
        "many_chains_trials": many_chains_trials, "n_pairs": int(ratio1.size), "learning_seconds": learning_seconds,
        "var_ratio_first_max_exact_mc": repro.measure(ratio1_exact.max(), tol=0.15,
                                                      basis="sampling error of a variance from 200 repetitions"),
        "final_kl_mf_smci": measure_mean(final["mf_smci"], "the final KL"),
        "ablation_wins": repro.measure(ablation_wins, tol=stats.count_tolerance(ablation_wins, n_trials),
                                       basis="binomial spread"),
        "final_kl_smci_many_chains": measure_mean(many_final["smci"], "the final KL"),
        "final_kl_conventional_many_chains": measure_mean(many_final["conventional"], "the final KL"),
        "many_chains_wins": repro.measure(many_wins, tol=stats.count_tolerance(many_wins, many_chains_trials),
                                          basis="binomial spread"),
        "final_kl_mf_smci_many_chains": measure_mean(many_final["mf_smci"], "the final KL"),
        "many_chains_ablation_wins": repro.measure(many_ablation_wins,
                                                   tol=stats.count_tolerance(many_ablation_wins, many_chains_trials),
                                                   basis="binomial spread"),
    },
    controls={"shuffled_neighbours": repro.control(
        "SMCI evaluated on samples whose units were permuted independently", control_checks,
        {"final_kl": float(final["smci_shuffled"].mean()), "wins": control_wins,
         "var_ratio_max": float(ratio_shuffled.max()), "mse": float(mse["SMCI, shuffled"].mean()),
         "mse_ratio_max": float(mse_ratio["SMCI, shuffled"].max())})},
)
# the verdict rests on the criterion of CLAIMS.md, which must hold; the many-chain check decides between
# "reproduced" and "partially reproduced"
assert all(v for k, v in checks.items() if k != "smci_lower_with_10x_chains"), checks
assert not all(control_checks.values()), "the control passed the check"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. At the estimator level SMCI did what the theory promises: over
# {glue:text}`n_pairs` pair statistics of a four-layer DBM (weights of scale {glue:text}`est_scale`; the rarest
# sign flip of a pair product had probability {glue:text}`rarest_flip:.2g`) the first-order variance was at most
# {glue:text}`var_ratio_first_max:.2f` times plain Monte Carlo's (median {glue:text}`var_ratio_first_median:.2f`),
# and the second order at most {glue:text}`var_ratio_second_max:.2g` times. In learning, the mean final KL
# divergence was {glue:text}`final_kl_smci:.4f` nats with SMCI against {glue:text}`final_kl_conventional:.4f`
# conventionally, and SMCI learned better in {glue:text}`smci_wins` of {glue:text}`n_trials` trials
# ({glue:md}`learning_seconds` for the learning runs with {glue:text}`n_chains` chains, the control included).
#
# The check can fail: evaluated on samples whose units were shuffled independently, SMCI's estimates were biased,
# with a mean squared error against the exact moments of {glue:text}`shuffled_neighbours.mse:.1e` on average and up
# to {glue:text}`shuffled_neighbours.mse_ratio_max:.0f` times plain Monte Carlo's on one pair, so the error part of
# the check fails. Its variance stayed below plain Monte Carlo's (largest ratio
# {glue:text}`shuffled_neighbours.var_ratio_max:.2f`): a biased estimator can be steady, which is why the variance
# criterion alone cannot tell a right estimator from a wrong one. Learning with the shuffled estimates ended at a
# KL of {glue:text}`shuffled_neighbours.final_kl:.3f` nats, better than the conventional method in
# {glue:text}`shuffled_neighbours.wins` trials.
#
# The conventional method's mean field stopped at its sweep limit without converging in
# {glue:text}`mf_unconverged_epochs` of {glue:text}`conventional_epochs` epochs (it then uses the last iterate), a
# sign of couplings strong enough that the mean-field data term should not be trusted far.
#
# Which change does the work. Our SMCI learner differs from the conventional one in both terms. The ablation that
# keeps the conventional mean-field data term and changes only the model term to SMCI, on chains driven by the
# same random numbers as the conventional learner's,
# ended at a mean final KL of {glue:text}`final_kl_mf_smci:.4f` nats and beat the conventional learner in
# {glue:text}`ablation_wins` of {glue:text}`n_trials` trials; compare the full SMCI learner's
# {glue:text}`final_kl_smci:.4f` and {glue:text}`smci_wins` wins. Where the two agree, the gain belongs to SMCI's
# averaging of the model term, not to sampling the data term.
#
# How far the verdict carries. The criterion is met with {glue:text}`n_chains` persistent chains. With
# {glue:text}`many_chains` chains ({glue:text}`many_chains_trials` trials) the mean final KL was
# {glue:text}`final_kl_conventional_many_chains:.4f` conventionally, {glue:text}`final_kl_smci_many_chains:.4f` with
# SMCI (better in {glue:text}`many_chains_wins` trials) and {glue:text}`final_kl_mf_smci_many_chains:.4f` for the
# ablation (better in {glue:text}`many_chains_ablation_wins`); this is the stronger check, and the status above
# counts it. A smaller variance should matter less as the chains multiply, but it should not hurt; where SMCI ends
# higher, note that persistent chains are not equilibrium samples, so the guarantee behind (1) does not cover
# them. Why the plain average does better there we have not established.
#
# On the estimator side, plain Monte Carlo's variance is also known exactly, $(1-\mu_{ij}^2)/S$ for a product of
# two spins; against it the first-order SMCI variance was at most {glue:text}`var_ratio_first_max_exact_mc:.2f`
# times as large, in line with the sample-variance comparison.
