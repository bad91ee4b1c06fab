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
# # Y2 · Summing out a layer makes mean field more accurate
#
# **The result.** Naive mean field approximates a Boltzmann machine by a product of independent units. For a
# restricted Boltzmann machine one may instead first sum (or integrate) one layer out exactly and apply mean field
# only to the layer that is left. Takahashi and Yasuda showed for Gaussian–Bernoulli RBMs that the second route
# gives a better free energy and more accurate means {cite}`takahashi2016meanfield`; the grant report presents it
# as a result for RBMs in general {cite}`report000`.
#
# **What we do.** The claim has two halves of different kinds. That the marginal route's free energy is never
# worse is a theorem: we prove it in a few lines, and test the proof's steps and its conclusion on 100 random
# Gaussian–Bernoulli RBMs (with unequal variances) and 100 random binary RBMs whose exact free energy and means come
# from enumeration. That the *means* are more accurate too is an empirical statement: we measure it on the same
# models, for both layers.
#
# **What is ours.** Of the paper only its abstract and the opening of its introduction could be read (the JPSJ
# landing page and an arXiv record; we searched for the full text by title, arXiv id and phrases, without
# success). They say that the two routes are compared analytically and numerically and that the marginal one is
# better, and that the task is inference in a given model. Identity (1), the proof of (2), the self-coupling
# argument, the binary RBM, the random models and the controls are therefore ours; the paper may compare the
# routes differently.

# %% tags=["parameters"]
seed = 0
n_models = 100  # random models of each kind
grbm_visible = 24  # GRBM: Gaussian visible units
grbm_hidden = 16  # GRBM: +-1 hidden units (2^16 states)
rbm_visible = 12  # binary RBM: kept layer (2^12 states)
rbm_hidden = 8  # binary RBM: summed-out layer
coupling_min = 0.1  # weakest weight scale
coupling_max = 2.0  # strongest weight scale
field = 0.3  # standard deviation of the biases
sigma_min = 0.5  # GRBM standard deviations are uniform on [sigma_min, sigma_max]
sigma_max = 1.5
n_restarts = 16  # random starts besides all-zero (the rule for the restarts, below; 64 at the paper scale)
device = "cpu"

# %%
import time

import numpy as np
import pandas as pd
import torch

from dltheory import boltzmann as bz
from dltheory import plotting, repro, stats

session = repro.setup(seed, device=device)

# %% [markdown]
# ## The argument
#
# Write $P(v,h) = e^{-E(v,h)}/Z$ and, for any distribution $q$, the variational free energy
# $F[q] = \mathbb{E}_q E - H(q)$. Since $F[q] = -\log Z + \mathrm{KL}(q\,\|\,P)$, every $F[q]$ bounds
# $-\log Z$ from above. Summing out $v$ leaves $P(h) = e^{-E_{\rm m}(h)}/Z$ with
# $E_{\rm m}(h) = -\log \int e^{-E(v,h)}\,dv$, whose free energy is $F_{\rm m}[q_h] = \mathbb{E}_{q_h} E_{\rm m} -
# H(q_h)$. Because $P(v, h) = P(h)\,P(v \mid h)$, for a factorised $q = q_v q_h$
#
# $$
# F_{\rm full}[q_v q_h] \;=\; F_{\rm m}[q_h] \;+\; \mathbb{E}_{q_h}\,\mathrm{KL}\big(q_v \,\|\, P(v\mid h)\big).
# \tag{1}
# $$
#
# The last term is non-negative, so minimising each side over product distributions gives
#
# $$
# -\log Z \;\le\; \min_{q_h} F_{\rm m} \;\le\; \min_{q_v q_h} F_{\rm full}. \tag{2}
# $$
#
# For the Gaussian–Bernoulli RBM, $E(v,h) = \sum_i \big(v_i^2/2\sigma_i^2 - b_i v_i\big) - c^\top h - v^\top W h$,
# the integral is Gaussian and the marginal is a pairwise model on the hidden spins with couplings
# $J = W^\top \mathrm{diag}(\sigma^2)\, W$. Its mean-field equation is
# $m_j = \tanh\big(f_j + \sum_{k \ne j} J_{jk} m_k\big)$, while mean field on the whole model gives
# $m_j = \tanh\big(f_j + \sum_k J_{jk} m_k\big)$: the extra term $J_{jj} m_j = \sum_i \sigma_i^2 W_{ij}^2 m_j$
# is a spurious self-coupling that pushes the means towards $\pm 1$. For a binary RBM the hidden layer can be
# summed out instead; the marginal model on the visible spins is no longer pairwise, and its mean-field
# expectations are computed exactly over all $2^{12}$ visible states. That makes the binary marginal route as
# costly as exact inference (more, here: exact inference enumerates the smaller, hidden layer): it is a test of
# the theorem, not a practical method for large binary RBMs. For the GRBM the marginal route is as cheap as the
# full one.
#
# **Which checks can fail.** Inequality (2) is about the *minima*. The proof is constructive: start the marginal
# iteration from the full route's kept-layer means; by (1) its free energy starts at most at $F_{\rm full}$, and
# every marginal update is an exact coordinate minimisation, so it can only fall. Along this *constructive* route
# $F_{\rm m} \le F_{\rm full}$ holds by identity, whatever the model: a **sanity** check of our marginal model
# and updates, like $-\log Z \le F$ (Gibbs) and identity (1) itself. What could fail is the ordering of two
# *independent* routes, each run from its own starts: mean-field iterations stop at local minima, and strongly
# coupled models have several, so the marginal iteration could end above the full one. That ordering is the
# **evidence**, with the accuracy of the means, which no theorem promises.

# %% [markdown]
# ## Identity (1) at arbitrary product distributions
#
# The theorem's one hypothesis is that the marginal model is exact. Identity (1) is what exactness buys; we
# evaluate both sides at random means (not just at fixed points), on models with unequal variances.

# %%
def identity_gap(model, marginal_model, generator):
    """|F_full - (F_m + E KL)| at random means; F_m from ``marginal_model`` (the model itself when exact)."""
    mv, mh = (1.8 * torch.rand(k, dtype=torch.float64, generator=generator, device=model.W.device) - 0.9
              for k in model.W.shape)
    kept = mh if isinstance(model, bz.GaussianRBM) else mv
    rhs = bz.free_energy_marginal(marginal_model, kept) + bz.expected_conditional_kl(model, mv, mh)
    return float(repro.to_numpy(abs(bz.free_energy_full(model, mv, mh) - rhs)))


g = session.generator_for("identity")
probe = [bz.random_grbm(grbm_visible, grbm_hidden, 1.0, field=field, sigma=(sigma_min, sigma_max), generator=g)
         for _ in range(5)] + [bz.random_rbm(rbm_visible, rbm_hidden, 1.0, field=field, generator=g) for _ in range(5)]
identity_error = max(identity_gap(m, m, g) for m in probe)
print(f"largest |F_full - (F_m + E KL)| over 10 models at random means: {identity_error:.1e}")

# %% [markdown]
# ## 100 random models of each kind
#
# Weights are Gaussian with a scale ("coupling") spread evenly from weak to strong; biases have standard
# deviation `field`; the GRBM's visible standard deviations are uniform on $[0.5, 1.5]$. For each model we compute
# the exact $-\log Z$ and means by enumerating the hidden states (the other layer summed out analytically), and
# run three mean-field routes: on the whole model and on the marginal model, each from a zero start and
# `n_restarts` random starts (the lowest free energy wins), and the constructive marginal route of the proof.
# The zero-start runs are kept too (for the near-miss control below). *The rule for the restarts:* the evidence
# check on the independent routes asks for 100/100, so each route must find its lowest minimum reliably. With 8
# restarts one GRBM of 100 at seed 1 stopped in a higher minimum of the marginal model (it reached the lower one
# with 16); we use 16, and the robustness runs at seeds 1–3 test that choice. The chance of such a miss grows with
# the number of models: at the catalogue's paper scale, 1000 models, 16 restarts missed the marginal minimum of one
# GRBM (the run fell on this check, 999 of 1000, although the constructive route found a marginal free energy
# below the full one, so the theorem held); with 64 the ordering held in all 1000. The paper scale takes 64. This is
# a rule revised after seeing a failure, and says only that the optimiser, not the inequality, was the weak link.

# %%
couplings = np.linspace(coupling_min, coupling_max, n_models)
g_models, g_starts = session.generator_for("models"), session.generator_for("restarts")
models = {"grbm": [bz.random_grbm(grbm_visible, grbm_hidden, s, field=field, sigma=(sigma_min, sigma_max),
                                  generator=g_models) for s in couplings],
          "rbm": [bz.random_rbm(rbm_visible, rbm_hidden, s, field=field, generator=g_models) for s in couplings]}
results = {k: pd.DataFrame([bz.compare_routes(m, n_restarts=n_restarts, generator=g_starts) for m in ms])
           .assign(coupling=couplings) for k, ms in models.items()}
NAMES = {"grbm": "GRBM", "rbm": "binary RBM"}
print({k: len(t) for k, t in results.items()})

# %% [markdown]
# What the binary marginal route costs, on the strongest binary model: one exact enumeration against one
# marginal mean-field run from the zero start (CPU seconds, machine-dependent).

# %%
strongest = models["rbm"][-1]
t0 = time.process_time()
bz.exact(strongest)
t1 = time.process_time()
bz.marginal_mean_field(strongest)
t2 = time.process_time()
exact_seconds, marginal_route_seconds = t1 - t0, t2 - t1
print(f"exact inference {exact_seconds:.3g} s, one binary marginal mean-field run {marginal_route_seconds:.3g} s")

# %% [markdown]
# ## The free-energy gaps
#
# Each point is one model: the gap of each mean-field free energy above the exact $-\log Z$ (log scale), for the
# two independent routes.

# %%
fig, axes = plotting.subplots(1, 2, width=8, height=3.2, sharey=True)
for ax, (k, r) in zip(axes, results.items(), strict=True):
    ax.semilogy(r.coupling, r.f_full - r.neg_log_z, "o", alpha=0.6, label=r"$F_{\rm full} + \log Z$")
    ax.semilogy(r.coupling, r.f_marginal - r.neg_log_z, "s", alpha=0.6, label=r"$F_{\rm m} + \log Z$")
    ax.set(title=NAMES[k], xlabel="coupling strength")
axes[0].set_ylabel("free-energy gap (nats)")
axes[0].legend()
plotting.plt.show()

# %% [markdown]
# *What to see:* at every coupling the marginal gap (squares) lies below the full one (circles); both grow with
# the coupling, when product distributions fit the model worse.
#
# ## The accuracy of the means
#
# For the GRBM the kept layer is the hidden one; for the binary RBM it is the visible one, and the hidden means
# come from the marginal solution as $\mathbb E_q \tanh(c + W^\top v)$. The criterion asks about the hidden
# means; we show both layers.

# %%
fig, axes = plotting.subplots(1, 3, width=9, height=3.0, sharey=True)
panels = [("grbm", "kept", "GRBM: hidden means"), ("rbm", "summed", "binary RBM: hidden means"),
          ("rbm", "kept", "binary RBM: visible means")]
for ax, (k, layer, title) in zip(axes, panels, strict=True):
    r = results[k]
    ax.semilogy(r.coupling, r[f"err_{layer}_full"], "o", alpha=0.6, label="whole model")
    ax.semilogy(r.coupling, r[f"err_{layer}_marginal"], "s", alpha=0.6, label="layer summed out")
    ax.set(title=title, xlabel="coupling strength")
axes[0].set_ylabel("mean absolute error of the means")
axes[0].legend(fontsize=8)
plotting.plt.show()

# %% [markdown]
# *What to see:* for weak couplings the marginal route is one to two orders of magnitude more accurate; for
# strong couplings both approximations break the model's near-symmetry and their errors approach each other.
#
# ## The check
#
# The acceptance criterion (the catalogue, `book/claims.yml`): on 100 random models of each kind,
# $-\log Z \le F_{\rm m} \le F_{\rm full}$ in 100/100 and the hidden means more accurate with the marginal route in
# at least 90/100. Per kind of model:
#
# - **evidence** `independent_ordered`: $-\log Z \le F_{\rm m} \le F_{\rm full}$ for the two *independent* routes,
#   each the best of its own starts (100/100);
# - **evidence** `hidden_means_better`: the hidden means closer to the exact ones by the marginal route (90/100);
# - **sanity** `identity` (1) to $10^{-9}$; `gibbs`: $-\log Z$ below both free energies; `constructive_ordered`:
#   the ordering along the constructive route, which holds by (1) (100/100 each).

# %%
def ordered(lower, middle, upper, tol=1e-9):
    """How many models satisfy lower <= middle <= upper (to tol)."""
    return int(np.sum((lower <= middle + tol) & (middle <= upper + tol)))


def route_checks(tables, n, identity_error, tol=1e-9):
    """The page's checks on the route tables of each kind of model (``grbm``: hidden layer kept)."""
    out = {"identity": repro.sanity(identity_error, "<=", 1e-9, scale=1e-9)}
    for k, t in tables.items():
        hidden = "kept" if k == "grbm" else "summed"
        out |= {
            f"gibbs_{k}": repro.sanity(int(np.sum(t.neg_log_z <= np.minimum(t.f_marginal, t.f_full) + tol)), ">=", n),
            f"constructive_ordered_{k}": repro.sanity(ordered(t.neg_log_z, t.f_constructive, t.f_full, tol), ">=", n),
            f"independent_ordered_{k}": repro.evidence(ordered(t.neg_log_z, t.f_marginal, t.f_full, tol), ">=", n),
            f"hidden_means_better_{k}": repro.evidence(
                int((t[f"err_{hidden}_marginal"] < t[f"err_{hidden}_full"]).sum()), ">=", 0.9 * n)}
    return out


checks = route_checks(results, n_models, identity_error)
for k, c in checks.items():
    print(f"{c.kind:>8} {k}: {c.value:.4g} {c.op} {c.threshold:.4g} ({'holds' if c.passed else 'fails'})")

# %% [markdown]
# ## Controls
#
# Each runs `route_checks` on a case where a check must fail.
#
# - *Near miss: no restarts.* Both routes as a reader would first run them: once, from the all-zero start (the
#   constructive route then starts from that full solution). Everything the sanity checks test still holds, but
#   each iteration may now stop at a different local minimum of a strongly coupled model, so nothing forces
#   $F_{\rm m} \le F_{\rm full}$: `independent_ordered` can fail.
# - *Far: an inexact marginal* (GRBM). The marginal model integrated as if every $\sigma_i$ were 1, the error of
#   dropping $\sigma^2$ from the Gaussian integral. A plausible slip, but the identity sanity check catches it.
# - *Far: routes assigned at random.* For each model a fair coin decides which route is called "marginal". There
#   is then nothing to find; a strawman, kept as an illustration.

# %%
def zero_start(t):
    """The route table of the zero-start runs, under the names ``route_checks`` reads."""
    cols = ["f_full", "f_marginal", "f_constructive", "err_kept_full", "err_kept_marginal", "err_summed_full",
            "err_summed_marginal"]
    return t.assign(**{c: t[f"{c}_zero"] for c in cols})


def inexact(model, n_restarts, generator):
    """The routes on a GRBM with its marginal integrated as if every sigma_i were 1 (hidden layer kept)."""
    wrong = model._replace(sigma=torch.ones_like(model.sigma))
    ex, full = bz.exact(model), bz.mean_field(model, n_restarts=n_restarts, generator=generator)
    runs = {"f_full": full, "f_marginal": bz.marginal_mean_field(wrong, n_restarts=n_restarts, generator=generator),
            "f_constructive": bz.marginal_mean_field(wrong, init=full.mean_h)}
    row = {k: float(repro.to_numpy(mf.free_energy)) for k, mf in runs.items()}
    row |= {f"err_kept_{r}": float(repro.to_numpy((runs[f"f_{r}"].mean_h - ex.mean_h).abs().mean()))
            for r in ("full", "marginal")}
    return row | {"neg_log_z": -float(repro.to_numpy(ex.log_z))}


# %%
def coin(t, rng):
    """The table with the two routes' labels swapped where a fair coin says so."""
    flip = rng.random(len(t)) < 0.5
    swap = {f"f_{a}": f"f_{b}" for a, b in (("full", "marginal"), ("marginal", "full"))}
    swap |= {f"err_{layer}_{a}": f"err_{layer}_{b}" for layer in ("kept", "summed")
             for a, b in (("full", "marginal"), ("marginal", "full"))}
    return t.assign(**{c: np.where(flip, t[other], t[c]) for c, other in swap.items()})


def as_control(what, checks, kind):
    """A control whose figures are its evidence checks' values."""
    return repro.control(what, checks, {k: c.value for k, c in checks.items() if c.kind == "evidence"}, kind=kind)


# %%
g_inexact = session.generator_for("inexact")
bad = pd.DataFrame([inexact(m, n_restarts, g_inexact) for m in models["grbm"]])
inexact_identity = max(identity_gap(m, m._replace(sigma=torch.ones_like(m.sigma)), g) for m in probe[:5])
controls = {
    "no_restarts": as_control("both routes once from the all-zero start, without restarts",
                                 route_checks({k: zero_start(t) for k, t in results.items()}, n_models,
                                              identity_error), kind="near miss"),
    "inexact_marginal": as_control("GRBM marginal integrated as if sigma = 1",
                                      route_checks({"grbm": bad}, n_models, inexact_identity), kind="far"),
    "routes_at_random": as_control("which route is 'marginal' decided by a fair coin",
                                      route_checks({k: coin(t, session.rng_for("coin", i))
                                                    for i, (k, t) in enumerate(results.items())},
                                                   n_models, identity_error), kind="far"),
}
for name, c in controls.items():
    print(f"{name} ({c.kind}): sanity passed {c.sanity_passed}; failed evidence {c.failed_evidence}")

# %%
def median_gap(gaps, rng):
    """The median gap over models; its tolerance is two standard errors (bootstrap) of the difference of two such
    medians over independent sets of models."""
    iv = stats.bootstrap(np.asarray(gaps), np.median, rng)
    return repro.measure(iv.value, tol=2 * np.sqrt(2) * iv.sem,
                         basis="2 bootstrap standard errors of the difference of two medians over models")


def count(v, n):
    return repro.measure(v, tol=stats.count_tolerance(v, n), basis="binomial spread of a count of models")


t0 = results["rbm"]
measured = {
    **{f"{k}_{route}_median_gap": median_gap(t[f"f_{route}"] - t.neg_log_z, session.rng_for("bootstrap", 2 * i + j))
       for i, (k, t) in enumerate(results.items()) for j, route in enumerate(("full", "marginal"))},
    "rbm_visible_better": count(int((t0.err_kept_marginal < t0.err_kept_full).sum()), n_models),
    "exact_seconds": exact_seconds, "marginal_route_seconds": marginal_route_seconds, "n_models": n_models,
    "n_restarts": n_restarts,
}

# %%
repro.record_claim(
    "Y2",
    title="Mean field after summing out a layer of an RBM beats mean field on the whole model",
    status=repro.grade(checks),
    criterion="-log Z <= F_m <= F_full in 100/100 models of each kind (evidence: two independent routes, each "
              "the best of its starts; sanity: the constructive route); hidden-magnetisation error smaller with "
              "the marginal route in >= 90/100",
    checks=checks,
    measured=measured,
    controls=controls,
)
for k, c in checks.items():
    repro.glue(k, c.value)

# %% [markdown]
# What the verdict rests on: every check holds, and the near miss passes the sanity checks and fails an evidence
# check.

# %%
assert all(c.passed for c in checks.values()), checks
near = controls["no_restarts"]
assert near.sanity_passed and near.failed_evidence, near
assert all(not c.passed_check for c in controls.values()), "a control passed the check"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**.
#
# *The theorem.* Identity (1) holds to {glue:text}`identity:.0e` nats at arbitrary product distributions, and
# along the constructive route $-\log Z \le F_{\rm m} \le F_{\rm full}$ held in
# {glue:text}`constructive_ordered_grbm:.0f`/{glue:text}`n_models` GRBMs and
# {glue:text}`constructive_ordered_rbm:.0f`/{glue:text}`n_models` binary RBMs: sanity checks of our marginal models
# and updates, true by (1). The evidence is the ordering of the two *independent* routes, each the best of the
# all-zero start and {glue:text}`n_restarts` random starts: it held in
# {glue:text}`independent_ordered_grbm:.0f` GRBMs and {glue:text}`independent_ordered_rbm:.0f` binary RBMs. It
# can fail: run once from the all-zero start without restarts (the near miss), the routes came out ordered in only
# {glue:text}`no_restarts.independent_ordered_grbm:.0f` GRBMs and
# {glue:text}`no_restarts.independent_ordered_rbm:.0f` binary RBMs, because a single iteration can stop in a worse
# local minimum than the other route's. That is no counterexample to (2), which is about minima, but it
# says that the marginal route's advantage in free energy must be looked for with restarts on strongly coupled
# models. The median free-energy gap above $-\log Z$ fell from {glue:text}`grbm_full_median_gap:.2f` to
# {glue:text}`grbm_marginal_median_gap:.2f` nats for the GRBM and from {glue:text}`rbm_full_median_gap:.2f` to
# {glue:text}`rbm_marginal_median_gap:.2f` for the binary RBM.
#
# *The means.* The hidden means were more accurate with the marginal route in
# {glue:text}`hidden_means_better_grbm:.0f` GRBMs and {glue:text}`hidden_means_better_rbm:.0f` binary RBMs (the
# kept, visible layer of the binary RBM: {glue:text}`rbm_visible_better:.0f`); without restarts, in
# {glue:text}`no_restarts.hidden_means_better_grbm:.0f` and {glue:text}`no_restarts.hidden_means_better_rbm:.0f`.
# The far controls: with the GRBM's marginal integrated as if every $\sigma_i$ were 1, the independent routes were
# ordered in {glue:text}`inexact_marginal.independent_ordered_grbm:.0f` models and its hidden means better in
# {glue:text}`inexact_marginal.hidden_means_better_grbm:.0f` (the identity sanity check already flags this slip);
# with the labels assigned by a coin, "marginal" was better in
# {glue:text}`routes_at_random.hidden_means_better_grbm:.0f` and
# {glue:text}`routes_at_random.hidden_means_better_rbm:.0f`. Where the coupling is strong both approximations
# become poor and the advantage in the means shrinks: the theorem guarantees the free-energy ordering of the
# minima, not better means, and the experiment shows the latter as a strong tendency rather than a law.
#
# *What it costs.* For the GRBM the marginal route is as cheap as the full one (a pairwise model on the 16
# hidden spins). For the binary RBM every coordinate update of the marginal route takes exact expectations over
# all $2^{12}$ visible states, so it costs as much as exact inference, or more: on the strongest binary model one
# exact enumeration took {glue:md}`exact_seconds` and one marginal run {glue:md}`marginal_route_seconds`. The
# binary half of this page tests the theorem; it is not a practical method for large binary RBMs.
#
# *Answers to the review.* (1) The ordering along the constructive route cannot fail by identity (1): it is now a
# sanity check (`constructive_ordered`), beside `gibbs` and `identity`. (2) The ordering of the two independent
# routes, reported before, is now the evidence (`independent_ordered`, 100/100 required). (3) The cost of the
# binary marginal route is stated and measured above. (4) The coin-assigned control is marked `far`; the near miss
# is the same two routes without restarts, which passes every sanity check and fails the ordering. The inexact
# marginal is a plausible slip, but it fails the identity sanity check, so it is recorded as `far` too.
