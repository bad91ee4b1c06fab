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
# **What we do.** On tiny DBMs whose likelihood is exact by enumeration, we pretrain in two stages for many seeds,
# from two starts of the second stage, and track two variational lower bounds and the exact likelihood after each
# stage. We test that the bounds are bounds, that pretraining as a whole raises the bound, whether the tighter of
# the two bounds rises too, and whether the assembled DBM models the data better than its first RBM alone. That
# the second stage raises the bound is also checked, but it holds by algebra (below), so it is a sanity check.
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
top = 4  # units of the top layer h2 from the independent start (the DBN start has as many as v)
n_random = 12  # patterns in each random 8-pixel data set
steps = 300  # Adam steps of exact-gradient maximum likelihood per RBM
lr = 0.05  # Adam learning rate
init_scale = 0.01  # standard deviation of the initial couplings
device = "cpu"

# %%
import numpy as np

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
# ## Two starts of the second stage
#
# Stage 1 trains $A$ on the data by exact-gradient maximum likelihood (`bz.first_stage`). Stage 2 trains $B$ on the
# aggregated posterior $q(h_1) = \frac1N \sum_n Q_1(h_1 \mid v_n)$, an explicit distribution over the $2^6$ middle
# states (`bz.second_stage`), from one of two starts:
#
# - *independent start* (a 9–6–4 DBM on bars and stripes, 8–6–4 on random data): the best prior with independent
#   middle units, $b_B = \operatorname{artanh} \mathbb E_q[h_1]$, and tiny random couplings (exactly zero couplings
#   are a saddle that gradient ascent never leaves);
# - *DBN start* (9–6–9 and 8–6–8): $B = A^\top$, the deep-belief-net initialisation, under which $P_B(h_1) =
#   P_A(h_1)$ before stage 2. It costs no more: the DBM's likelihood enumerates the middle layer only ($2^6$
#   states) and sums the visible and top layers analytically, whatever their size.
#
# The 14 bars-and-stripes patterns on a 3x3 grid are one data set; a fresh set of 12 random 8-pixel patterns per
# seed is the other. The *untrained* DBM, with (near-)zero couplings, gives every pattern probability $2^{-n_0}$:
# the baseline any certificate of improvement must beat. Every stream comes from the page's seed
# (`session.generator_for`).

# %%
settings = dict(steps=steps, lr=lr)


def run_seed(v, hidden, top, generator, settings, *, init_scale, scramble=None):
    """Stage 1 once; stage 2 from the independent and the DBN start, and (with a ``scramble`` generator) from the
    independent start on the scrambled target."""
    a0, a = bz.first_stage(v, hidden, init_scale=init_scale, generator=generator, **settings)

    def independent(first):
        return bz.independent_start(first, v, top, init_scale=init_scale, generator=generator)

    out = {"independent": bz.second_stage(a0, a, v, independent, **settings),
           "dbn": bz.second_stage(a0, a, v, bz.dbn_start, **settings)}
    if scramble is not None:
        out["scrambled"] = bz.second_stage(a0, a, v, independent, scramble=scramble, **settings)
    return out


# %%
bars = data.bars_and_stripes(3).to(session.device)
runs = {"bars": [run_seed(bars, hidden, top, session.generator_for("bars", i), settings, init_scale=init_scale,
                          scramble=session.generator_for("bars scramble", i)) for i in range(n_seeds)],
        "random": [run_seed(data.random_patterns(n_random, 8, generator=session.generator_for("random data", i)),
                            hidden, top, session.generator_for("random", i), settings, init_scale=init_scale)
                   for i in range(n_seeds)]}
for start in ("independent", "dbn"):
    r = runs["bars"][0][start]
    print(f"bars, seed stream 0, {start} start: " + "; ".join(
        f"{st} bound {getattr(r, st).layerwise:.3f} cluster {getattr(r, st).cluster:.3f} "
        f"exact {getattr(r, st).exact:.3f}"
        for st in ("untrained", "stage1", "stage2")) + f"; first RBM alone {r.first_log_likelihood:.3f}")

# %% [markdown]
# ## Bound and exact likelihood per stage
#
# Thin lines: single seeds; thick: the mean. Each panel shows the layer-wise bound (blue), the cluster bound
# (green) and the exact DBM log-likelihood (orange) per data point; the dashed line is the first RBM's own
# log-likelihood after stage 1, the dotted line the untrained DBM's exact log-likelihood. Top row: independent
# start; bottom row: DBN start.

# %%
STAGES = ("untrained", "stage1", "stage2")
fig, axes = plotting.subplots(2, 2, width=8.5, height=6.0, sharey=True)
for row, start in zip(axes, ("independent", "dbn"), strict=True):
    for ax, (name, rs) in zip(row, runs.items(), strict=True):
        for field, label, color in (("layerwise", "layer-wise bound", plotting.COLORS[0]),
                                    ("cluster", "cluster bound", plotting.COLORS[2]),
                                    ("exact", "exact DBM", plotting.COLORS[1])):
            ys = np.array([[getattr(getattr(r[start], st), field) for st in STAGES] for r in rs])
            ax.plot(range(3), ys.T, color=color, alpha=0.15, lw=0.8)
            ax.plot(range(3), ys.mean(0), "o-", color=color, lw=2.2, label=label)
        ax.axhline(np.mean([r[start].first_log_likelihood for r in rs]), color="k", ls="--", lw=1,
                   label="first RBM alone")
        ax.axhline(np.mean([r[start].untrained.exact for r in rs]), color="k", ls=":", lw=1, label="untrained DBM")
        ax.set(title=f"{name}, {start} start", xticks=range(3), xticklabels=["untrained", "stage 1", "stage 2"])
    row[0].set_ylabel("mean log-likelihood per pattern (nats)")
axes[0, 0].legend(fontsize=7)
plotting.plt.show()

# %% [markdown]
# *What to see:* every bound lies below the exact likelihood. From the independent start the layer-wise bound
# (blue) *falls* at stage 1 and rises at stage 2; from the DBN start it rises at stage 1 (where $B = A^\top$ follows
# $A$) and barely moves at stage 2, since $B$ starts close to its optimum. The cluster bound (green) is exact for
# the untrained, almost independent RBMs and falls at every stage from both starts, as the RBMs grow structured
# and Hölder's inequality loosens. The exact likelihood (orange) rises well above the untrained DBM (dotted) but
# ends below the first RBM alone (dashed).
#
# ## The check
#
# The acceptance criterion (the catalogue, `book/claims.yml`): the bound never exceeds the exact log-likelihood in
# any run; the second stage does not lower it in at least 95% of at least 20 seeds per data set; whether the exact
# DBM likelihood improves is stated, not assumed. The second part is algebraic here: the bound depends on $B$ only
# through $\tfrac12\,\mathbb E_q \log P_B$, so stage 2 raises it by exactly half of $B$'s gain on its target,
# whatever the data. We record it as two **sanity** checks (`stage2_half_gain`: the identity to $10^{-9}$;
# `stage2_not_lowered`: the optimiser made progress). The **evidence**, per data set and per start, counted
# over the seeds:
#
# - `bounds_hold`: both bounds below the exact log-likelihood at every stage and pattern (all seeds);
# - `pretraining_raises_bound`: the layer-wise bound after stage 2 above the untrained one (95% of seeds);
# - `cluster_bound_rises`: the same for the tighter cluster bound (95%): does the better bound confirm it?
# - `dbm_beats_first_rbm`: the assembled DBM's exact log-likelihood at least the first RBM's own (95%): does
#   pretraining, read as approximate maximum likelihood, give a DBM better than what stage 1 alone gave?
#
# The last two are ours, added because the first two can hold while pretraining improves nothing a reader cares
# about; each could go either way.

# %%
def pretraining_checks(runs, start, n_seeds, *, prefix=""):
    """The page's checks on the runs of one start (``runs[data set][seed][start]``), per data set."""
    need, out = int(np.ceil(0.95 * n_seeds)), {}
    for d, rs in runs.items():
        r = [x[start] for x in rs]
        gap = max(abs(p.stage2.layerwise - p.stage1.layerwise - p.second_gain / 2) for p in r)
        out |= {
            f"{prefix}bounds_hold_{d}": repro.evidence(
                sum(all(getattr(p, st).bounds_hold for st in STAGES) for p in r), ">=", n_seeds),
            f"{prefix}pretraining_raises_bound_{d}": repro.evidence(
                sum(p.stage2.layerwise > p.untrained.layerwise for p in r), ">=", need),
            f"{prefix}cluster_bound_rises_{d}": repro.evidence(sum(p.stage2.cluster > p.untrained.cluster for p in r),
                                                               ">=", need),
            f"{prefix}dbm_beats_first_rbm_{d}": repro.evidence(
                sum(p.stage2.exact >= p.first_log_likelihood for p in r), ">=", need),
            f"{prefix}stage2_half_gain_{d}": repro.sanity(gap, "<=", 1e-9, scale=1e-9),
            f"{prefix}stage2_not_lowered_{d}": repro.sanity(
                sum(p.stage2.layerwise >= p.stage1.layerwise - 1e-9 for p in r), ">=", need)}
    return out


checks = {"at_least_20_seeds": repro.sanity(n_seeds, ">=", 20),
          **pretraining_checks(runs, "independent", n_seeds), **pretraining_checks(runs, "dbn", n_seeds, prefix="dbn_")}
for k, c in checks.items():
    print(f"{c.kind:>8} {k}: {c.value:.4g} {c.op} {c.threshold:.4g} ({'holds' if c.passed else 'fails'})")

# %% [markdown]
# **Controls.** Each runs the same check function on a case where a check must fail.
#
# - *Near miss: the Hölder constant dropped.* The layer-wise bound without its constant
#   $\tfrac12(n_0 + n_2)\log 2$, an easy slip in the derivation. It passes every sanity check (the constant does not
#   depend on $B$, so stage 2 still raises it by half of $B$'s gain), but it is not a bound: `bounds_hold` must
#   fail.
# - *Near miss: the first stage alone.* Pretraining stopped after stage 1, $B$ left at its independent start. The
#   guarantee is about stage 2, so nothing protects the bound here; the sanity checks hold trivially (no gain, no
#   change), and `pretraining_raises_bound` should fail if stage 1 lowers the bound.
# - *Far: a scrambled target* (bars). $B$ trained on the aggregated posterior's probabilities shuffled among the
#   middle states: not a method anyone would use, kept as an illustration. The half-gain identity then ties the
#   bound to the wrong objective, so even the sanity checks fail.

# %%
def drop_constant(p, n0, n2):
    """A run with the Hölder constant left out of every layer-wise bound."""
    slip = 0.5 * (n0 + n2) * np.log(2)

    def stage(s):
        return s._replace(layerwise=s.layerwise + slip, layerwise_slack=s.layerwise_slack - slip,
                          bounds_hold=s.bounds_hold and s.layerwise_slack >= slip)

    return p._replace(untrained=stage(p.untrained), stage1=stage(p.stage1), stage2=stage(p.stage2))


def first_stage_only(p):
    """A run stopped after stage 1: the second RBM stays at its start."""
    return p._replace(stage2=p.stage1, second_gain=0.0, second=None)


def as_control(what, checks, kind):
    """A control whose figures are its evidence checks' values."""
    return repro.control(what, checks, {k: c.value for k, c in checks.items() if c.kind == "evidence"}, kind=kind)


# %%
sizes = {"bars": bars.shape[1], "random": 8}
dropped = {d: [{"independent": drop_constant(r["independent"], sizes[d], top)} for r in rs] for d, rs in runs.items()}
one_stage = {d: [{"independent": first_stage_only(r["independent"])} for r in rs] for d, rs in runs.items()}
scrambled = {"bars": runs["bars"]}
controls = {
    "constant_dropped": as_control("the layer-wise bound without its Hölder constant (independent start)",
                                      pretraining_checks(dropped, "independent", n_seeds), "near miss"),
    "first_stage_only": as_control("pretraining stopped after stage 1 (independent start)",
                                      pretraining_checks(one_stage, "independent", n_seeds), "near miss"),
    "scrambled_target": as_control("stage 2 trained on the aggregated posterior scrambled among states (bars)",
                                      pretraining_checks(scrambled, "scrambled", n_seeds), "far"),
}
for name, c in controls.items():
    print(f"{name} ({c.kind}): sanity passed {c.sanity_passed}; failed evidence {c.failed_evidence}")

# %%
def mean_over_seeds(values):
    """The mean over seeds; its tolerance is two standard errors of the difference of two such means (at least
    the last of the four digits recorded)."""
    iv = stats.mean_interval(np.asarray(values))
    return repro.measure(iv.value, tol=max(2 * np.sqrt(2) * iv.sem, 1e-3 * abs(iv.value)),
                         basis=f"2 standard errors of the difference of two means over {len(values)} seeds")


def count_of_seeds(count, n_seeds):
    return repro.measure(count, tol=stats.count_tolerance(count, n_seeds), basis="binomial spread of a count of seeds")


figures = {f"{d}_{start}_{field}_{st}": mean_over_seeds([getattr(getattr(r[start], st), field) for r in rs])
           for d, rs in runs.items() for start in ("independent", "dbn") for field in ("layerwise", "cluster", "exact")
           for st in STAGES}
counts = {f"{d}_{start}_{k}": count_of_seeds(sum(f(r[start]) for r in rs), n_seeds) for d, rs in runs.items()
          for start in ("independent", "dbn")
          for k, f in (("stage1_raises_bound", lambda p: p.stage1.layerwise > p.untrained.layerwise),
                       ("stage2_raises_exact", lambda p: p.stage2.exact > p.stage1.exact),
                       ("bound_certifies_improvement", lambda p: p.stage2.layerwise > p.untrained.exact),
                       ("cluster_certifies_improvement", lambda p: p.stage2.cluster > p.untrained.exact))}
first_rbm = {f"{d}_first_rbm": mean_over_seeds([r["independent"].first_log_likelihood for r in rs])
             for d, rs in runs.items()}

# %%
repro.record_claim(
    "Y1",
    title="Layer-wise pretraining of a DBM raises a variational lower bound of its likelihood",
    status=repro.grade(checks),
    criterion="bounds <= exact DBM log-likelihood in every run; stage 2 does not lower the bound in >= 95% of "
              ">= 20 seeds per data set (sanity: it rises by half of B's gain); added as evidence, per data set "
              "and start, in >= 95% of seeds: pretraining raises the layer-wise bound, raises the cluster bound, "
              "and gives a DBM at least as good as the first RBM alone",
    checks=checks,
    measured={**figures, **counts, **first_rbm, "n_seeds": n_seeds},
    controls=controls,
)
for k, c in checks.items():
    repro.glue(k, c.value)

# %% [markdown]
# What the verdict rests on: the bounds hold and pretraining raises the layer-wise bound (every data set, both
# starts), the sanity checks hold, and each near miss passes the sanity checks and fails an evidence check.

# %%
held = [k for k, c in checks.items() if c.kind == "evidence" and ("bounds_hold" in k or "raises_bound" in k)]
assert all(checks[k].passed for k in held), {k: checks[k] for k in held}
assert all(c.passed for c in checks.values() if c.kind == "sanity"), checks
assert all(c.sanity_passed and c.failed_evidence for c in controls.values() if c.kind == "near miss"), controls

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**.
#
# *What holds.* In every run, at every stage, for every pattern and from both starts, both bounds stay below the
# exact log-likelihood ({glue:text}`bounds_hold_bars:.0f` and {glue:text}`bounds_hold_random:.0f` of
# {glue:text}`n_seeds` seeds from the independent start, {glue:text}`dbn_bounds_hold_bars:.0f` and
# {glue:text}`dbn_bounds_hold_random:.0f` from the DBN start). Pretraining as a whole raises the layer-wise bound
# ({glue:text}`pretraining_raises_bound_bars:.0f` and {glue:text}`pretraining_raises_bound_random:.0f` seeds from
# the independent start; {glue:text}`dbn_pretraining_raises_bound_bars:.0f` and
# {glue:text}`dbn_pretraining_raises_bound_random:.0f` from the DBN start): on bars and stripes from
# {glue:text}`bars_independent_layerwise_untrained:.3f` to {glue:text}`bars_independent_layerwise_stage2:.3f` nats
# per pattern. Stage 2 raises it by exactly half of $B$'s gain (largest deviation
# {glue:text}`stage2_half_gain_bars:.0e`), the guarantee the paper proves, here a sanity check of our algebra. The
# checks can fail: with the Hölder constant dropped the "bound" held in
# {glue:text}`constant_dropped.bounds_hold_bars:.0f` seeds, and pretraining stopped after stage 1 raised the bound in
# {glue:text}`first_stage_only.pretraining_raises_bound_bars:.0f` (bars) and
# {glue:text}`first_stage_only.pretraining_raises_bound_random:.0f` (random): stage 1 maximises
# $\tfrac12 \log P_A(v)$ but sharpens $Q_1$, whose entropy and prior terms fall faster. The scrambled target
# (far) raised it in {glue:text}`scrambled_target.pretraining_raises_bound_bars:.0f`.
#
# *What fails.* The tighter cluster bound never rises: from the independent start on bars and stripes it goes
# {glue:text}`bars_independent_cluster_untrained:.2f` → {glue:text}`bars_independent_cluster_stage1:.2f` →
# {glue:text}`bars_independent_cluster_stage2:.2f` (`cluster_bound_rises` {glue:text}`cluster_bound_rises_bars:.0f`
# and {glue:text}`cluster_bound_rises_random:.0f` seeds; DBN start {glue:text}`dbn_cluster_bound_rises_bars:.0f` and
# {glue:text}`dbn_cluster_bound_rises_random:.0f`). It is exact for the untrained, nearly independent RBMs, and
# Hölder's inequality loosens as they learn; so neither bound ever certifies a likelihood above the untrained
# DBM's {glue:text}`bars_independent_exact_untrained:.3f` (layer-wise:
# {glue:text}`bars_independent_bound_certifies_improvement:.0f` seeds, cluster:
# {glue:text}`bars_independent_cluster_certifies_improvement:.0f`). The exact likelihood itself does
# improve, from {glue:text}`bars_independent_exact_untrained:.3f` to {glue:text}`bars_independent_exact_stage2:.3f`,
# and stage 2 raises it in {glue:text}`bars_independent_stage2_raises_exact:.0f` seeds; but the assembled DBM stays
# below the first RBM alone ({glue:text}`bars_first_rbm:.3f`) in every seed (`dbm_beats_first_rbm`
# {glue:text}`dbm_beats_first_rbm_bars:.0f` and {glue:text}`dbm_beats_first_rbm_random:.0f`; DBN start
# {glue:text}`dbn_dbm_beats_first_rbm_bars:.0f` and {glue:text}`dbn_dbm_beats_first_rbm_random:.0f`, final
# {glue:text}`bars_dbn_exact_stage2:.3f` on bars). Halving the weights to assemble the DBM costs more than the top
# layer gives back at this size. The grade counts both failures: the bound and its stage-2 guarantee are
# reproduced; that pretraining, read through these bounds, approximates maximum likelihood well enough to
# improve on its own first stage is not.
#
# *The DBN start.* With $B = A^\top$ (9–6–9 and 8–6–8), the layer-wise bound rises already at stage 1 (in
# {glue:text}`bars_dbn_stage1_raises_bound:.0f` seeds on bars), because $B$ follows $A$, and stage 2 adds almost
# nothing ({glue:text}`bars_dbn_layerwise_stage1:.3f` → {glue:text}`bars_dbn_layerwise_stage2:.3f`): $B$ starts
# with $P_B(h_1) = P_A(h_1)$, close to the aggregated posterior it is trained on. Its bound ends lower than from
# the independent start, since the $\tfrac12 n_2 \log 2$ it pays grows with the larger top layer. Its DBM is
# slightly better than the independent start's ({glue:text}`bars_dbn_exact_stage2:.3f` against
# {glue:text}`bars_independent_exact_stage2:.3f` on bars and stripes) but still below the first RBM alone. It changes
# none of the verdicts.
#
# *Answers to the review.* (1) `stage2_not_lowered` is algebraic: it is now a sanity check, beside the half-gain
# identity it follows from. (2) The falling cluster bound and the DBM below its first RBM are now evidence checks
# that fail, and they set the grade. (3) The DBN-style start ($B$ at $A^\top$) is run on both data sets, at the
# same enumeration cost (over $h_1$ only); results above. (4) The scrambled target is marked `far`. The near
# misses are the dropped Hölder constant (before, a one-check control; now run through every check) and, new,
# the first stage alone; each passes the sanity checks and fails an evidence check. Our bound may be looser than
# the paper's Bethe-type one, whose text we could not read; a tighter bound might certify more, and we cannot test
# that here.
