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
# # Y1 · Layer-wise pretraining raises a lower bound of a deep Boltzmann machine's likelihood
#
# **The result.** A deep Boltzmann machine (DBM) is usually pretrained greedily: train a restricted Boltzmann
# machine (RBM) on the data, train a second RBM on the first one's hidden representations, and assemble the DBM
# from the two. Yasuda showed that this recipe is not just a heuristic: approximating one part of the DBM's
# log-likelihood with a directed (Bayesian-network) model and the other with a cluster-variation (Bethe-type)
# decomposition turns pretraining into the maximisation of a variational lower bound of the true likelihood, and
# the second stage provably raises that bound {cite}`yasuda2016pretraining`; the grant report lists it first
# {cite}`report000`. The layer-wise idea and its bound for deep belief nets are due to Hinton, Osindero and Teh
# {cite}`hinton2006fast`; the weight-halving assembly of a DBM to Salakhutdinov and Hinton
# {cite}`salakhutdinov2012better`.
#
# **What we do.** On tiny DBMs whose likelihood is exact by enumeration, we pretrain in two stages for many seeds
# and track a variational lower bound and the exact likelihood after each stage. We test three things: that the
# bound is a bound, that the second stage raises it (the theorem), and whether the bound after pretraining
# certifies anything, i.e. whether it rises above what the untrained model already achieves.
#
# **What is ours.** We looked for the paper's full text in the stored public pages (PMLR and its mirrors) and
# found only its abstract, so the bound below is *our* derivation following the abstract's two steps: a
# two-cluster (Hölder) decomposition bounds the partition function where the paper uses a Bethe-type cluster
# variation, and a directed recognition model replaces the posterior as in the paper's Bayesian-network step.
# Our bound may be looser than the paper's; the verdict below is about ours.

# %% tags=["parameters"]
seed = 0
n_seeds = 20  # independent pretraining runs per data set
hidden = 6  # units of the middle layer h1
top = 4  # units of the top layer h2
n_random = 12  # patterns in each random 8-pixel data set
steps = 300  # Adam steps of exact-gradient maximum likelihood per RBM
lr = 0.05  # Adam learning rate
init_scale = 0.01  # standard deviation of the initial couplings
device = "cpu"

# %%
import numpy as np
import torch

from dltheory import boltzmann as bz
from dltheory import data, plotting, repro, stats

session = repro.setup(seed, device=device)

# %% [markdown]
# ## The bound
#
# Take $\pm 1$ layers $v, h_1, h_2$ and two RBMs: $A$ on $(v, h_1)$, trained first, and $B$ on $(h_1, h_2)$,
# trained second. Assemble the DBM with half of each RBM's couplings, so that its energy is the average of theirs,
# $-E = \tfrac12(-E_A) + \tfrac12(-E_B)$ (the middle bias is the mean of the two RBMs' $h_1$ biases).
#
# *The partition function (cluster part).* Hölder's inequality with exponents 2 and 2 splits the sum over all
# states into the two clusters:
#
# $$
# Z = \sum e^{-E_A/2}\, e^{-E_B/2} \le \Big(\sum e^{-E_A}\Big)^{1/2}\Big(\sum e^{-E_B}\Big)^{1/2}
# \;\Rightarrow\; \log Z \le U = \tfrac12\big(\log Z_A + n_2 \log 2\big) + \tfrac12\big(\log Z_B + n_0\log 2\big),
# $$
#
# so $\log P(v) \ge \log \sum_{h} e^{-E(v,h)} - U$, the *cluster bound*. The two factors are the RBMs' own
# partition functions: this is where the layer-wise models enter the DBM's likelihood.
#
# *The rest (Bayesian-network part).* Replace the DBM's posterior by the directed model
# $Q_1(h_1\mid v)\,Q_2(h_2\mid h_1)$ with $Q_1 = P_A(h_1 \mid v)$, the first RBM's recognition distribution. Jensen's
# inequality, the best $Q_2$, and $\sum_{h_2}\sqrt{P_B(h_1,h_2)} \ge \sqrt{P_B(h_1)}$ give the *layer-wise bound*
#
# $$
# \mathcal L(v) = \tfrac12 \log P_A(v) + \tfrac12 H\big(Q_1(\cdot\mid v)\big) + \tfrac12\,\mathbb E_{Q_1}\log P_B(h_1)
# - \tfrac12 (n_0 + n_2)\log 2 \;\le\; \text{cluster bound} \;\le\; \log P_{\rm DBM}(v).
# $$
#
# Averaged over the data, $B$ enters only through $\mathbb E_{\rm data}\mathbb E_{Q_1}\log P_B(h_1)$, the
# log-likelihood of $B$ on the *aggregated posterior* of $A$. Training $B$ by maximum likelihood on the
# aggregated posterior, which is exactly the second pretraining stage, therefore raises $\mathcal L$ by half of
# what it gains, and can never lower it while its own objective rises. The first stage, training $A$ on the
# data, maximises the $\tfrac12\log P_A(v)$ term but ignores the others: it is an approximation, not a guarantee.
# Every quantity above is computed exactly by enumeration.

# %% [markdown]
# ## One pretraining run
#
# Stage 1 trains $A$ on the data by exact-gradient maximum likelihood. The DBN argument would start $B$ as the
# mirror image of $A$, which needs as many top units as visible ones; our top layer is smaller, so $B$ starts from
# the best prior with independent units, $b_B = \operatorname{artanh} \mathbb E_q[h_1]$, and tiny random
# couplings (exactly zero couplings are a saddle that gradient ascent never leaves). Stage 2 trains $B$ on the
# aggregated posterior $q(h_1) = \frac1N \sum_n Q_1(h_1 \mid v_n)$, an explicit distribution over the $2^6$
# middle states (`bz.pretrain`).

# %%
settings = dict(steps=steps, lr=lr, init_scale=init_scale, generator=session.generator)
bars = data.bars_and_stripes(3).to(session.device)
run = bz.pretrain(bars, hidden, top, **settings)
for name in ("untrained", "stage1", "stage2"):
    s = getattr(run, name)
    print(f"{name:>9}: layer-wise {s.layerwise:8.4f}  cluster {s.cluster:8.4f}  exact {s.exact:8.4f}  "
          f"bounds hold: {s.bounds_hold}")
print(f"first RBM alone {run.first_log_likelihood:.4f}; stage 2: B's objective gained {run.second_gain:.4f}, "
      f"the bound {run.stage2.layerwise - run.stage1.layerwise:.4f}")

# %% [markdown]
# ## Many seeds on two data sets
#
# The 14 bars-and-stripes patterns on a 3x3 grid (a 9–6–4 DBM) and, for each seed, a fresh set of 12 random
# 8-pixel patterns (an 8–6–4 DBM). The *untrained* DBM is the baseline any certificate must beat: with
# (near-)zero couplings it gives every pattern probability $2^{-n_0}$, so its exact log-likelihood is
# $-n_0 \log 2$.

# %%
runs = {"bars and stripes 9-6-4": [bz.pretrain(bars, hidden, top, **settings) for _ in range(n_seeds)],
        "random patterns 8-6-4": [bz.pretrain(data.random_patterns(n_random, 8, generator=session.generator),
                                              hidden, top, **settings) for _ in range(n_seeds)]}

# %% [markdown]
# ## Bound and exact likelihood per stage
#
# Thin lines: single seeds; thick: the mean. Each panel shows the layer-wise bound (blue), the cluster bound
# (green) and the exact DBM log-likelihood (orange) per data point; the dashed line is the first RBM's own
# log-likelihood after stage 1, the dotted line the untrained DBM's exact log-likelihood.

# %%
fig, axes = plotting.subplots(1, 2, width=8.5, height=3.4, sharey=True)
x = [0, 1, 2]
for ax, (name, rs) in zip(axes, runs.items(), strict=True):
    for field, label, color in (("layerwise", "layer-wise bound", plotting.COLORS[0]),
                                ("cluster", "cluster bound", plotting.COLORS[2]), ("exact", "exact DBM", plotting.COLORS[1])):
        ys = np.array([[getattr(getattr(r, st), field) for st in ("untrained", "stage1", "stage2")] for r in rs])
        ax.plot(x, ys.T, color=color, alpha=0.15, lw=0.8)
        ax.plot(x, ys.mean(0), "o-", color=color, lw=2.2, label=label)
    ax.axhline(np.mean([r.first_log_likelihood for r in rs]), color="k", ls="--", lw=1, label="first RBM alone")
    ax.axhline(np.mean([r.untrained.exact for r in rs]), color="k", ls=":", lw=1, label="untrained DBM")
    ax.set(title=name, xticks=x, xticklabels=["untrained", "stage 1", "stage 2"])
axes[0].set_ylabel("mean log-likelihood per pattern (nats)")
axes[0].legend(fontsize=7)
plotting.plt.show()

# %% [markdown]
# *What to see:* both bounds lie below the exact likelihood. The layer-wise bound (blue) *falls* at stage 1 and
# rises at stage 2. The cluster bound (green) is exact for the untrained, almost independent RBMs and loosens at
# each stage, as the RBMs grow structured and Hölder's inequality becomes less tight. The exact likelihood
# (orange) rises mostly at stage 1; compare where the bound ends with the dotted line.
#
# ## The check
#
# From `CLAIMS.md`: the bounds never exceed the exact log-likelihood (every run, every stage, both bounds, every
# data point), and stage 2 does not lower the bound in at least 95% of at least 20 seeds, per data set. The second
# criterion is algebraic here: the bound depends on $B$ only through $\tfrac12\,\mathbb E_q \log P_B$, so it rises
# by exactly half of $B$'s gain (counted as `half_gain`) whenever the optimiser makes progress; it checks our
# algebra and the optimiser, not the world. Of the criterion as written, only the bound check could fail. We
# therefore add two checks beyond it: over the whole of pretraining the bound rises
# (`pretraining_raises_bound`), and it ends above the untrained DBM's exact log-likelihood, so that it certifies
# an improvement over doing nothing (`bound_certifies_improvement`), each in at least 95% of the seeds; we count
# the same certification for the tighter cluster bound (`cluster_certifies_improvement`, reported).

# %%
def counts(rs):
    """Per data set, the number of seeds where each statement holds."""
    return {
        "bounds_hold": sum(all(getattr(r, st).bounds_hold for st in ("untrained", "stage1", "stage2")) for r in rs),
        "stage2_not_lowered": sum(r.stage2.layerwise >= r.stage1.layerwise - 1e-9 for r in rs),
        "half_gain": sum(abs(r.stage2.layerwise - r.stage1.layerwise - r.second_gain / 2) < 1e-9 for r in rs),
        "pretraining_raises_bound": sum(r.stage2.layerwise > r.untrained.layerwise for r in rs),
        "bound_certifies_improvement": sum(r.stage2.layerwise > r.untrained.exact for r in rs),
        "cluster_certifies_improvement": sum(r.stage2.cluster > r.untrained.exact for r in rs),
        "stage1_raises_bound": sum(r.stage1.layerwise > r.untrained.layerwise for r in rs),
        "stage2_raises_exact": sum(r.stage2.exact > r.stage1.exact for r in rs),
    }


found = {name.split()[0]: counts(rs) for name, rs in runs.items()}
for name, c in found.items():
    print(f"{name:>7}: " + ", ".join(f"{k} {v}/{n_seeds}" for k, v in c.items()))
at_least = int(np.ceil(0.95 * n_seeds))
checks = {"at_least_20_seeds": n_seeds >= 20,
          **{f"{k}_{d}": found[d][k] == n_seeds for d in found for k in ("bounds_hold",)},
          **{f"{k}_{d}": found[d][k] >= at_least for d in found
             for k in ("stage2_not_lowered", "pretraining_raises_bound", "bound_certifies_improvement")}}

# %% [markdown]
# **Negative controls.** (a) The layer-wise bound with its Hölder constant $\tfrac12(n_0 + n_2)\log 2$ left out,
# a slip that is easy to make, is *not* a bound: run through the same per-pattern check after pretraining, it must
# fail. (b) The theorem needs $B$ to be trained on the aggregated posterior of $A$; trained on the same
# probabilities scrambled among the middle states, stage 2 has no guarantee, and the "not lowered" check must fail.

# %%
bars_runs = runs["bars and stripes 9-6-4"]
slip = 0.5 * (bars.shape[1] + top) * np.log(2)
first_below = sum(bool(torch.all(bz.pretraining_bound(r.first, r.second, bars).layerwise + slip
                                 <= bz.dbm_log_likelihood(bz.compose_dbm(r.first, r.second), bars) + 1e-9))
                  for r in bars_runs)
scrambled = [bz.pretrain(bars, hidden, top, scramble_target=True, **settings) for _ in range(n_seeds)]
scrambled_kept = sum(r.stage2.layerwise >= r.stage1.layerwise - 1e-9 for r in scrambled)
print(f"first RBM's log-likelihood below the DBM's: {first_below}/{n_seeds}; "
      f"scrambled target, stage 2 did not lower the bound: {scrambled_kept}/{n_seeds}")
controls = {
    "constant_dropped": repro.control("the layer-wise bound without its Hölder constant, per pattern (bars)",
                                      {"bounds_hold": first_below == n_seeds}, {"seeds_below": first_below}),
    "scrambled_target": repro.control("stage 2 trained on the aggregated posterior scrambled among states (bars)",
                                      {"stage2_not_lowered": scrambled_kept >= at_least},
                                      {"seeds_not_lowered": scrambled_kept}),
}

# %%
bound_gap = stats.mean_interval(np.array([r.stage2.layerwise - r.untrained.exact for r in bars_runs]))
repro.record_claim(
    "Y1",
    title="Layer-wise pretraining of a DBM raises a variational lower bound of its likelihood",
    status=repro.grade(checks),
    criterion="bounds <= exact DBM log-likelihood in every run; stage 2 does not lower the bound in >= 95% of "
              ">= 20 seeds (added: pretraining raises the bound, and the bound ends above the untrained DBM's "
              "exact log-likelihood, each in >= 95% of seeds)",
    checks=checks,
    measured={
        **{f"{d}_{k}": v for d, c in found.items() for k, v in c.items()},
        "bars_bound_untrained": np.mean([r.untrained.layerwise for r in bars_runs]),
        "bars_bound_stage1": np.mean([r.stage1.layerwise for r in bars_runs]),
        "bars_bound_stage2": np.mean([r.stage2.layerwise for r in bars_runs]),
        "bars_exact_untrained": np.mean([r.untrained.exact for r in bars_runs]),
        "bars_exact_stage2": np.mean([r.stage2.exact for r in bars_runs]),
        "bars_first_rbm": np.mean([r.first_log_likelihood for r in bars_runs]),
        "bars_bound_minus_untrained": repro.measure(bound_gap.value, tol=2 * bound_gap.sem,
                                                    basis=f"2 standard errors over {n_seeds} seeds"),
        "n_seeds": n_seeds,
    },
    controls=controls,
)

# %% [markdown]
# What the verdict rests on: the bound is a bound in every run and both controls fail (that stage 2 never lowers
# it is asserted too, but it holds by the algebra above).

# %%
assert all(v for k, v in checks.items() if k.startswith(("bounds_hold", "stage2_not", "at_least"))), checks
assert not any(c.passed_check for c in controls.values()), "a negative control passed the check"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. The provable part holds: in every run, at every stage and for every pattern both
# bounds stay below the exact log-likelihood ({glue:text}`bars_bounds_hold` and {glue:text}`random_bounds_hold` of
# {glue:text}`n_seeds` seeds), and stage 2 raises the layer-wise bound by exactly half of what the second RBM gains
# on the aggregated posterior ({glue:text}`bars_half_gain` and {glue:text}`random_half_gain` seeds to $10^{-9}$),
# so it does not lower it ({glue:text}`bars_stage2_not_lowered` and {glue:text}`random_stage2_not_lowered`). The
# check can fail: trained on a scrambled target, stage 2 kept the bound in only
# {glue:text}`scrambled_target.seeds_not_lowered` seeds of {glue:text}`n_seeds`, and the first RBM's own
# bound with its constant dropped stayed below the exact likelihood at every pattern in only
# {glue:text}`constant_dropped.seeds_below` seeds.
#
# What the bound does *not* do is certify that pretraining helps. Stage 1 raised it in
# {glue:text}`bars_stage1_raises_bound` (bars) and {glue:text}`random_stage1_raises_bound` (random) seeds: training
# $A$ on the data maximises $\tfrac12 \log P_A(v)$ but sharpens $Q_1$, whose entropy and prior terms fall faster.
# Over both stages the bound went from {glue:text}`bars_bound_untrained:.3f` to
# {glue:text}`bars_bound_stage2:.3f` nats per pattern on bars and stripes, which stays below the exact
# log-likelihood of the *untrained* DBM, {glue:text}`bars_exact_untrained:.3f` (by
# {glue:text}`bars_bound_minus_untrained:.3f` on average): the bound ends above it in only
# {glue:text}`bars_bound_certifies_improvement` (bars) and {glue:text}`random_bound_certifies_improvement`
# (random) seeds, the cluster bound in {glue:text}`bars_cluster_certifies_improvement` and
# {glue:text}`random_cluster_certifies_improvement`. Much of that gap is the price of our own derivation: the
# step $\sum_{h_2}\sqrt{P_B(h_1,h_2)} \ge \sqrt{P_B(h_1)}$ alone costs up to $\tfrac12 n_2 \log 2$ (1.39 nats
# here) even at the untrained model, where the layer-wise bound is {glue:text}`bars_bound_untrained:.3f` against
# the exact {glue:text}`bars_exact_untrained:.3f`. The exact likelihood itself did rise, to {glue:text}`bars_exact_stage2:.3f`, yet stayed below
# the first RBM alone ({glue:text}`bars_first_rbm:.3f`): halving the weights to assemble the DBM costs more than the
# top layer gives back at this size. So: the guarantee the paper proves for stage 2 holds for our bound, but our
# bound is too loose to show that pretraining as a whole improves the model. The status names that split: the
# bound and the stage-2 guarantee are reproduced, a certified improvement is not. A tighter bound, perhaps the
# paper's Bethe-type one, might certify more; without its text we cannot test it.
