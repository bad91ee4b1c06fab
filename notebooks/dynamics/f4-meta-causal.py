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
# # F4 · Meta-learning the causal direction from few samples
#
# **The result.** Given a small sample of two variables, one of which causes the other, which is the cause?
# Ton, Sejdinovic and Fukumizu train a single CGNN-style generator across many such data sets. A DeepSets
# embedding of each data set steers the generator through FiLM layers, so a new data set needs only a forward
# pass, with no retraining. With few samples per data set it decides the direction about as accurately as the best
# earlier methods {cite}`ton2021meta`. The report lists this fourth and dates it AAAI 2020 {cite}`report001`; the
# paper appeared at AAAI 2021 (arXiv, July 2020).
#
# **What we do.** We generate cause–effect data sets of $n = 50$ points from several mechanisms and noise types, and
# meta-train a Meta-CGNN on them, holding one mechanism and one noise type out of training. We then decide three
# kinds of held-out data sets: new draws of the training families (in distribution for Meta-CGNN, though not for
# the peers, which learn nothing), draws of the held-out families (out of distribution), and 99 real pairs from the
# Tübingen benchmark {cite}`mooij2016distinguishing`, each subsampled to 50 points. As the near-miss control we
# run the same trained model with every data set given one typical embedding (the mean over the meta-training
# sets): one fixed generator for every data set, i.e. Meta-CGNN without the meta-learning. Alongside run the peers
# named in the [catalogue](../catalogue.md), each at its
# best setting that we know of: an additive-noise model {cite}`hoyer2009anm`, IGCI {cite}`daniusis2010igci` with both
# reference measures, RECI {cite}`bloebaum2018reci`, and a CGNN retrained on each data set {cite}`goudet2018cgnn`.
# IGCI and RECI come from the Causal Discovery Toolbox {cite}`kalainathan2020cdt`.
#
# **What is ours.** The paper's full text (arXiv:2007.02809, AAAI 2021) describes the architecture we follow: a
# DeepSets encoder, FiLM conditioning of a CGNN generator, an MMD loss and no retraining at test time. Our own
# choices are the sizes, the synthetic generator of data sets, meta-training on each data set in its causal order
# only, and the decision rule (the direction with the smaller MMD wins).

# %% tags=["parameters"]
seed = 0
n = 50  # points per data set
n_train = 8000  # meta-training data sets
n_test = 200  # held-out synthetic data sets
steps = 2000  # meta-training steps, 32 data sets each
width = 64  # hidden units of the encoder and the generator
embedding = 32  # size of the data-set embedding
cgnn_steps = 300  # training steps of each per-data-set CGNN (Goudet et al.: 1000, and 6 runs)
cgnn_sets = 100  # held-out data sets also decided by per-data-set CGNNs (every Tübingen pair is)
n_ood = 100  # held-out data sets of the families left out of training
cdt_anm_sets = 40  # held-out data sets on which cdt's ANM is shown (to justify replacing it)
held_out = ("periodic", "laplace")  # the mechanism and the noise type left out of meta-training
device = "cpu"

# %%
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from dltheory import causal, data, plotting, repro, stats

with warnings.catch_warnings():  # cdt announces at import whether it found a GPU
    warnings.simplefilter("ignore")
    from cdt.causality.pairwise import ANM

session = repro.setup(seed, device=device)

# %% [markdown]
# ## Cause–effect data sets
#
# Each synthetic data set draws a cause $x$ from a Gaussian mixture with one to three components and a random
# mechanism $f$: a random tanh network, a cubic, a sigmoid or a sine plus a slope. The effect is then either
# additive or multiplicative in the noise,
#
# $$
# y = f(x) + \sigma e \quad (e \text{ Gaussian, uniform or Laplace}), \qquad\text{or}\qquad
# y = \exp\bigl(f(x)/2 + \sigma e\bigr),
# $$
#
# with $\sigma$ between 0.1 and 0.5 of $f$'s spread. Both variables are standardised, so scale gives nothing
# away. The pair is then shown in a random order, as $(a, b)$ with the label "$a \to b$" or "$b \to a$".
# Meta-training and the in-distribution test sets never use the periodic mechanism or Laplace noise; the
# out-of-distribution test sets always use one of them.

# %%
seen = dict(mechanism=tuple(m for m in data.MECHANISMS if m not in held_out),
            noise=tuple(z for z in data.NOISES if z not in held_out))
train = data.cause_effect_pairs(n_train, n, session.rng, **seen)
test = data.cause_effect_pairs(n_test, n, session.rng, **seen)
ood = [data.cause_effect_pair(n, session.rng, **({"mechanism": held_out[0]} if session.rng.random() < 0.5
                                                 else {"noise": held_out[1]})) for _ in range(n_ood)]
a_test, b_test = np.stack([p.a for p in test]), np.stack([p.b for p in test])
truth = np.array([p.direction for p in test])
print(f"{n_train} training, {n_test} held-out and {n_ood} out-of-distribution data sets of {n} points; "
      f"{np.mean(truth == 1):.3f} of the held-out ones are shown cause first")

# %%
fig, axes = plotting.subplots(2, 4, width=8.5, height=4.0)
for ax, (mechanism, noise) in zip(axes.flat, [(m, z) for z in ("gaussian", "multiplicative")
                                              for m in data.MECHANISMS], strict=True):
    p = data.cause_effect_pair(n, session.rng_for("example"), mechanism=mechanism, noise=noise)
    cause, effect = (p.a, p.b) if p.direction == 1 else (p.b, p.a)
    ax.plot(cause, effect, ".", ms=4)
    ax.set(title=f"{mechanism}, {noise}", xticks=[], yticks=[])
axes[1, 0].set(xlabel="cause", ylabel="effect")
plotting.plt.show()

# %% [markdown]
# *What to see:* one example per mechanism (columns), with additive Gaussian noise (top) and multiplicative
# noise (bottom), drawn cause on the horizontal axis. With 50 points a data set shows only the rough shape
# of its mechanism. Multiplicative noise spreads the effect more where it is large.
#
# ## Meta-CGNN
#
# A CGNN explains an effect $b$ by a generator $\hat b = g(a, e)$ of the cause and a noise input, fitted so
# that the generated joint sample $(a_i, \hat b_i)$ matches the observed one in squared maximum mean
# discrepancy {cite}`gretton2012kernel`, with Gaussian kernels of bandwidths 0.1, 0.3, 1 and 3:
#
# $$
# \widehat{\mathrm{MMD}}^2 = \frac{1}{n^2}\sum_{i,j} \bigl[k(u_i, u_j) + k(\hat u_i, \hat u_j) - 2k(u_i, \hat u_j)
# \bigr],
# $$
#
# where $u_i = (a_i, b_i)$ are the observed points and $\hat u_i = (a_i, \hat b_i)$ the generated ones.
#
# Meta-CGNN makes one generator serve every data set. A DeepSets encoder {cite}`zaheer2017deepsets` embeds the
# whole sample, $z = \rho\bigl(\frac1n \sum_i \phi(a_i, b_i)\bigr)$. Each hidden layer of the generator is
# modulated by it (FiLM {cite}`perez2018film`),
#
# $$
# h_\ell = \mathrm{relu}\bigl((1 + \gamma_\ell(z)) \odot (W_\ell h_{\ell-1} + c_\ell) + \beta_\ell(z)\bigr),
# \qquad h_0 = (a, e).
# $$
#
# Encoder and generator are trained together with Adam on the MMD² averaged over batches of training data sets,
# each presented in its causal order. A new data set is decided by two forward passes: the model's MMD² for
# "$a$ causes $b$" and for "$b$ causes $a$", each averaged over 16 noise draws. The smaller one wins.

# %%
model = causal.MetaCGNN(width=width, embedding=embedding, generator=session.generator)
started = time.perf_counter()
losses = causal.meta_train(model, train, steps=steps, generator=session.generator)
train_seconds = time.perf_counter() - started
print(f"meta-training: {steps} steps in {train_seconds:.1f} s; "
      f"mean MMD² of the first and last 100 batches: {losses[:100].mean():.2f}, {losses[-100:].mean():.2f}")

# %%
fig, ax = plotting.subplots(width=5.5, height=2.8)
ax.plot(losses, color="0.8", lw=0.6, label="batch")
ax.plot(np.arange(99, steps), np.convolve(losses, np.ones(100) / 100, "valid"), label="mean of 100 batches")
ax.set(xlabel="meta-training step", ylabel="MMD² (causal order)", yscale="log")
ax.legend()
plotting.plt.show()
w = min(100, len(losses) // 6)  # the fall of a w-batch mean over the last 5w steps, in %
repro.glue("late_loss_fall_percent", 100 * (1 - np.mean(losses[-w:]) / np.mean(losses[-6 * w:-5 * w])))
repro.glue("late_loss_steps", 5 * w)

# %% [markdown]
# *What to see:* the MMD² of generated against observed samples, on training batches, over meta-training. The
# one model gets better at imitating mechanisms it has never seen in that exact form; the noise around the
# running mean comes from each batch holding new data sets.
#
# ## Held-out data sets: Meta-CGNN and its peers
#
# Every method gives a score whose sign is its decision (positive: $a \to b$).
#
# - **Meta-CGNN:** $\mathrm{MMD}^2(b \to a) - \mathrm{MMD}^2(a \to b)$ from the trained model, with no update.
# - **CGNN:** the same difference from two generators (one hidden layer of 20 units) trained on this data set
#   alone, one per direction, for `cgnn_steps` steps ({glue:text}`cgnn_steps` here) and one run, against Goudet
#   et al.'s 1000 steps averaged over 6 runs: {glue:text}`cgnn_schedule_share:.2f` of the published schedule's
#   gradient steps. All the networks are trained as one batch; Adam acts elementwise, so this is exactly training
#   each alone. For the time budget it runs on the first `cgnn_sets` (100) held-out data sets, and on all 99
#   Tübingen pairs.
# - **ANM:** our Gaussian-process regression with a fitted noise term, scored by the HSIC {cite}`gretton2008hsic`
#   between the residual and the putative cause; the smaller HSIC wins. cdt's `ANM` fits its GP without a noise
#   term, so it interpolates the data and its residuals are meaningless; we show it once below to justify
#   replacing it.
# - **IGCI:** cdt's implementation with the entropy estimator, once with the Gaussian reference measure (each
#   variable standardised) and once with the uniform one (each scaled to $[0, 1]$), which Mooij et al. found the
#   better of the two {cite}`mooij2016distinguishing`. The best peer is the best of all of them, so this can only
#   make Meta-CGNN's comparison harder.
# - **RECI:** our least-squares cubic on $[0, 1]$-scaled data; the smaller regression error wins. cdt's `RECI` is
#   shown beside it: it zeroes the linear and quadratic features and so regresses on $x^3$ alone.

# %%
def show(tallies: dict[str, stats.Tally]) -> None:
    """Print one line per method: right/total, accuracy, interval."""
    print(f"{'method':>14} {'right':>8} {'accuracy':>9}   95% interval (Clopper–Pearson)")
    for name, t in tallies.items():
        print(f"{name:>14} {t.right:>4}/{t.total:<3} {t.accuracy:9.3f}   [{t.low:.3f}, {t.high:.3f}]")


before = [q.detach().clone() for q in model.parameters()]
scores = {"Meta-CGNN": causal.meta_cgnn_scores(model, a_test, b_test, generator=session.generator),
          **causal.peer_scores(test)}
repro.glue("cgnn_steps", cgnn_steps)
repro.glue("cgnn_schedule_share", cgnn_steps / (1000 * 6))
cgnn = causal.cgnn_scores(a_test[:cgnn_sets], b_test[:cgnn_sets], steps=cgnn_steps, generator=session.generator)
with warnings.catch_warnings():  # cdt's GP hits its length-scale bound: it interpolates, as said above
    warnings.simplefilter("ignore", ConvergenceWarning)
    cdt_anm = np.array([ANM().predict_proba((p.a, p.b)) for p in test[:cdt_anm_sets]])
tallies = {name: stats.tally(s, truth) for name, s in scores.items()}
tallies["CGNN"] = stats.tally(cgnn, truth[:cgnn_sets])
show({**tallies, "cdt ANM": stats.tally(cdt_anm, truth[:cdt_anm_sets])})
same = stats.tally(scores["Meta-CGNN"][:cgnn_sets], truth[:cgnn_sets]).accuracy
print(f"Meta-CGNN on the same {cgnn_sets} data sets as CGNN: {same:.3f}")

# %% [markdown]
# Which kinds of data set does each method get right? The noise type matters most: the additive-noise model
# assumes additive noise, so it should fail on the multiplicative kind.

# %%
noise = np.array([p.noise for p in test])
fig, ax = plotting.subplots(width=7.0, height=3.0)
for i, name in enumerate(scores):
    right = [stats.tally(scores[name][noise == z], truth[noise == z]).accuracy for z in seen["noise"]]
    ax.bar(np.arange(3) + (i - 2.5) * 0.14, right, width=0.14, label=name)
ax.axhline(0.5, color="k", lw=1, ls=":")
ax.set(xticks=range(3), xticklabels=seen["noise"], ylabel="accuracy", ylim=(0, 1.15), yticks=np.linspace(0, 1, 6))
ax.legend(ncol=3, loc="upper center", fontsize=8)
plotting.plt.show()

# %% [markdown]
# *What to see:* accuracy on the in-distribution held-out data sets by noise type (about 65 each; the dotted line
# is chance). Compare the additive-noise model on the additive kinds with the multiplicative kind, where its
# assumption fails, and Meta-CGNN, which assumes nothing about how the noise enters but must learn to reshape its
# Gaussian noise input; cdt's RECI regresses on $x^3$ alone. The two IGCI bars differ only in the reference
# measure.
#
# ## Families left out of training
#
# The same methods on data sets whose mechanism (periodic) or noise (Laplace) Meta-CGNN never saw. For the peers
# these are just more data sets; for Meta-CGNN they test whether what it learned transfers.

# %%
ood_truth = np.array([p.direction for p in ood])
ood_scores = {"Meta-CGNN": causal.meta_cgnn_scores(model, np.stack([p.a for p in ood]), np.stack([p.b for p in ood]),
                                                   generator=session.generator), **causal.peer_scores(ood)}
ood_tallies = {name: stats.tally(s, ood_truth) for name, s in ood_scores.items()}
show(ood_tallies)

# %% [markdown]
# ## The Tübingen pairs
#
# The 99 real cause–effect pairs shipped in cdt's wheel are all stored cause first. We show each in a random
# order and subsample 50 points from each pair. Meta-CGNN is applied as it was trained, on synthetic data only:
# these pairs test transfer. Accuracy is unweighted (the benchmark's weights, which down-weight related pairs,
# are not used). Every method, the per-data-set CGNN included, decides all 99 pairs.

# %%
tub = data.tuebingen(n, session.rng)
tub_a, tub_b, tub_truth = (np.stack([p.a for p in tub]), np.stack([p.b for p in tub]),
                           np.array([p.direction for p in tub]))
tub_scores = {"Meta-CGNN": causal.meta_cgnn_scores(model, tub_a, tub_b, generator=session.generator),
              **causal.peer_scores(tub)}
tub_tallies = {name: stats.tally(s, tub_truth) for name, s in tub_scores.items()}
cgnn_tub = causal.cgnn_scores(tub_a, tub_b, steps=cgnn_steps, generator=session.generator)
tub_tallies["CGNN"] = stats.tally(cgnn_tub, tub_truth)
show(tub_tallies)

# %%
fig, axes = plotting.subplots(1, 3, width=9.0, height=3.2, sharey=True)
for ax, (title, result) in zip(axes, [("held-out, seen families", tallies), ("held-out families", ood_tallies),
                                      ("Tübingen, n = 50", tub_tallies)], strict=True):
    names = [k for k in ("Meta-CGNN", "CGNN", "ANM", "IGCI", "IGCI (uniform)", "RECI", "RECI (cdt)") if k in result]
    height = [result[k].accuracy for k in names]
    order = ("Meta-CGNN", "ANM", "IGCI", "IGCI (uniform)", "RECI", "RECI (cdt)", "CGNN")
    ax.bar(names, height, color=[plotting.COLORS[order.index(k)] for k in names])
    err = [[h - result[k].low for h, k in zip(height, names, strict=True)],
           [result[k].high - h for h, k in zip(height, names, strict=True)]]
    ax.errorbar(names, height, yerr=err, fmt="none", color="k", capsize=3)
    ax.axhline(0.5, color="k", lw=1, ls=":")
    ax.set(title=title, ylim=(0, 1))
    ax.tick_params(axis="x", labelrotation=35)
axes[0].set(ylabel="accuracy")
plotting.plt.show()

# %% [markdown]
# *What to see:* accuracies with 95% Clopper–Pearson intervals; CGNN is scored on its 100 data sets (left) and on
# all 99 Tübingen pairs. Compare Meta-CGNN's bar with the best peer's in each panel, and every bar with chance
# (dotted).
#
# ## Time per data set
#
# Meta-CGNN decides a new data set with forward passes only. A CGNN must first be trained, twice. We time both on
# single data sets (one thread) and compare the cost per data set.

# %%
def seconds_per_set(decide, a: np.ndarray, b: np.ndarray) -> float:
    """Mean wall time of ``decide`` on each data set of ``a``, ``b`` (B, n), one at a time."""
    started = time.perf_counter()
    for i in range(len(a)):
        decide(a[i : i + 1], b[i : i + 1])
    return (time.perf_counter() - started) / len(a)


meta_seconds = seconds_per_set(lambda a, b: causal.meta_cgnn_scores(model, a, b, generator=session.generator),
                               a_test[:20], b_test[:20])
cgnn_seconds = seconds_per_set(lambda a, b: causal.cgnn_scores(a, b, steps=cgnn_steps, generator=session.generator),
                               a_test[:3], b_test[:3])
print(f"Meta-CGNN: {meta_seconds:.4f} s per data set; CGNN ({cgnn_steps} steps per direction): "
      f"{cgnn_seconds:.4f} s per data set; meta-training once: {train_seconds:.1f} s")

# %% [markdown]
# ## The check, and its controls
#
# From the [catalogue](../catalogue.md): on held-out synthetic data sets, Meta-CGNN's accuracy is above chance
# (one-sided binomial test, $p < 0.01$) and at least the best peer's accuracy minus 0.05. Its time per data set must
# be far below a retrained CGNN's; before running, we fixed "far below" as at least ten times faster. Because the
# held-out sets share Meta-CGNN's training families, we add the same parity test on the held-out families. All four are
# **evidence**, each a number against its threshold:
#
# - `above_chance`: the number right against the smallest count with $p < 0.01$ under chance
#   ({glue:text}`critical_right` of {glue:text}`n_test`), in units of chance's standard deviation
#   $\sqrt{n}/2$;
# - `near_best_peer` and `held_out_families_near_best_peer`: the accuracy against the best peer's minus 0.05, in
#   units of chance's standard error $1/(2\sqrt n)$;
# - `far_faster`: the ratio of times per data set against 10.
#
# One **sanity** check: no parameter of the model moved while it decided the held-out sets (true by
# construction of `meta_cgnn_scores`).
#
# **The rule that chose the sizes.** A check decides only where its margin exceeds its spread over seeds. With
# `n_test` = {glue:text}`n_test` held-out sets, chance's standard error of an accuracy is
# {glue:text}`accuracy_se:.3f`, below the 0.05 tolerance of `near_best_peer`, and `above_chance` asks for
# {glue:text}`critical_right` right, the count with $p < 0.01$ under chance. The held-out families have
# `n_ood` = {glue:text}`n_ood` sets, an accuracy standard error of {glue:text}`held_out_se:.3f`, so the 0.05
# tolerance is about one standard error of the difference of two accuracies: that check leans, it does not decide,
# and its margin moves by about as much between seeds (robustness page). Deciding it at two standard errors would
# take about {glue:text}`held_out_sets_needed` sets; we did not run that size, and we grade the check as run, reading
# a failure there as a lean against out-of-family parity, not a refutation. `steps` is where the meta-training loss
# levels off: its running mean fell by {glue:text}`late_loss_fall_percent:.1f`% over the last
# {glue:text}`late_loss_steps` steps (figure above). `cgnn_steps` and `cgnn_sets` are set by the CPU budget, and the
# page says how far below the
# published schedule they are.
#
# The Tübingen pairs are reported beside the peers, as the [catalogue](../catalogue.md) asks, not graded: with 99
# pairs, one pair moves an accuracy by 0.01 and every interval overlaps.
#
# *Near miss: one typical embedding.* The same trained model decides the held-out sets with every data set given
# the mean embedding of the meta-training sets, so every data set meets one fixed generator, and a typical one (a
# zero embedding, an input the FiLM layers never saw in training, is run beside it as a far control). It is
# Meta-CGNN minus the meta-learning, passes the sanity check, and must fail the accuracy checks.
#
# *Far control: the effect shuffled within each data set.* Shuffling destroys the dependence but keeps both
# marginals, and in our generator, as in IGCI's premise, the marginals alone carry some of the direction. So this is
# not a case where every method must be at chance: IGCI, which reads only the marginals, scores the same on shuffled
# and on intact sets. We keep it as an illustration of how much Meta-CGNN reads from marginal shape. (The other
# near miss a referee proposed, a Meta-CGNN meta-trained on pairs in random order, would need a second
# meta-training, the page's largest cost, and would take the page past its 120-second CPU budget.)

# %%
def parity(result: dict[str, stats.Tally]) -> tuple[float, float]:
    """Meta-CGNN's accuracy and the best peer's."""
    return result["Meta-CGNN"].accuracy, max(t.accuracy for k, t in result.items() if k != "Meta-CGNN")


def accuracy_checks(right: int, total: int, best_peer: float, critical: int) -> dict[str, repro.Check]:
    """Above chance (``right`` at least the ``critical`` count) and within 0.05 of the best peer's accuracy."""
    return {"above_chance": repro.evidence(right, ">=", critical, scale=np.sqrt(total) / 2),
            "near_best_peer": repro.evidence(right / total, ">=", best_peer - 0.05, scale=0.5 / np.sqrt(total))}


critical = next(k for k in range(n_test + 1) if stats.binomial_p_value(k, n_test) < 0.01)
(acc, best_peer), (ood_acc, ood_best), (tub_acc, tub_best) = map(parity, (tallies, ood_tallies, tub_tallies))
moved = max(float((q.detach() - q0).abs().max()) for q, q0 in zip(model.parameters(), before, strict=True))
speedup = cgnn_seconds / meta_seconds
sane = {"no_update_at_test": repro.sanity(moved, "<=", 0.0)}
checks = {**accuracy_checks(tallies["Meta-CGNN"].right, n_test, best_peer, critical),
          "far_faster": repro.evidence(speedup, ">=", 10),
          "held_out_families_near_best_peer": repro.evidence(ood_acc, ">=", ood_best - 0.05,
                                                             scale=0.5 / np.sqrt(n_ood)), **sane}
repro.glue("critical_right", critical)
repro.glue("accuracy_se", 0.5 / np.sqrt(n_test))
repro.glue("held_out_se", 0.5 / np.sqrt(n_ood))
repro.glue("held_out_sets_needed", int(np.ceil(2 * (0.5 / (0.05 / 2)) ** 2)))  # sqrt(2) * 0.5 / sqrt(n) <= 0.05 / 2

# %%
typical = stats.tally(causal.meta_cgnn_scores(model, a_test, b_test, embed=causal.mean_embedding(model, train),
                                              generator=session.generator), truth)
zeroed = stats.tally(causal.meta_cgnn_scores(model, a_test, b_test, embed=False, generator=session.generator), truth)
shuffle_rng = session.rng_for("shuffle")
shuffled_b = np.stack([shuffle_rng.permutation(p.b) for p in test])
shuffled = stats.tally(causal.meta_cgnn_scores(model, a_test, shuffled_b, generator=session.generator), truth)
igci_shuffled = {ref: stats.tally(np.array([causal.igci_score(a, b, reference=ref)
                                            for a, b in zip(a_test, shuffled_b, strict=True)]), truth).accuracy
                 for ref in ("gaussian", "uniform")}

# %%
controls = {
    "typical_embedding": repro.control(
        "the trained Meta-CGNN with every data set given the mean embedding of the meta-training sets",
        {**accuracy_checks(typical.right, n_test, best_peer, critical), **sane},
        {"right": typical.right, "accuracy": typical.accuracy}, kind="near miss"),
    "zeroed_embedding": repro.control(
        "the trained Meta-CGNN with its data-set embedding set to zero",
        {**accuracy_checks(zeroed.right, n_test, best_peer, critical), **sane},
        {"right": zeroed.right, "accuracy": zeroed.accuracy}, kind="far"),
    "shuffled_effect": repro.control(
        "the effect shuffled within each held-out data set (marginals kept)",
        {"above_chance": accuracy_checks(shuffled.right, n_test, best_peer, critical)["above_chance"], **sane},
        {"right": shuffled.right, "accuracy": shuffled.accuracy, "igci_accuracy": igci_shuffled["gaussian"],
         "igci_uniform_accuracy": igci_shuffled["uniform"]}, kind="far")}
print(f"typical embedding: {typical.right}/{n_test}; zeroed embedding: {zeroed.right}/{n_test}; "
      f"shuffled: {shuffled.right}/{n_test}; IGCI on shuffled: "
      f"{igci_shuffled['gaussian']:.3f} (Gaussian), {igci_shuffled['uniform']:.3f} (uniform)")


def key(name: str) -> str:
    """A method's name as a record key: 'RECI (cdt)' -> 'reci_cdt'."""
    return "_".join(name.lower().replace("-", "_").replace("(", "").replace(")", "").split())


# %% [markdown]
# Each accuracy below is declared with the tolerance a run at another seed may move it by: twice the standard
# deviation of the difference of two independent binomial accuracies over the same number of data sets,
# $2\sqrt{2}\sqrt{p(1-p)/n}$.

# %%
def spread(accuracy: float, total: int) -> repro.Measured:
    """An accuracy over ``total`` data sets with its tolerance at another seed (see above)."""
    sd = np.sqrt(max(accuracy * (1 - accuracy), 0.05) / total)
    return repro.measure(accuracy, tol=2 * np.sqrt(2) * sd,
                         basis=f"2 sd of a difference of binomial accuracies, n = {total}")


measured = {
    "meta_cgnn_right": repro.measure(tallies["Meta-CGNN"].right, tol=n_test * spread(acc, n_test).tol,
                                     basis="as meta_cgnn_accuracy, in counts"),
    "n_test": n_test, "n_ood": n_ood,
    "cause_first_share": spread(float(np.mean(truth == 1)), n_test),
    "meta_cgnn_accuracy_on_cgnn_sets": spread(same, cgnn_sets),
    "meta_cgnn_accuracy": spread(acc, n_test), "best_peer_accuracy": spread(best_peer, cgnn_sets),
    "binomial_p_value": repro.measure(stats.binomial_p_value(tallies["Meta-CGNN"].right, n_test), tol=0.01,
                                      basis="only its side of the 0.01 level matters"),
    **{f"{key(k)}_accuracy": spread(t.accuracy, t.total) for k, t in tallies.items() if k != "Meta-CGNN"},
    "meta_cgnn_low": spread(tallies["Meta-CGNN"].low, n_test),
    "meta_cgnn_high": spread(tallies["Meta-CGNN"].high, n_test),
    "held_out_families_meta_cgnn_accuracy": spread(ood_acc, n_ood),
    "held_out_families_best_peer_accuracy": spread(ood_best, n_ood),
    **{f"tuebingen_{key(k)}_accuracy": spread(t.accuracy, t.total) for k, t in tub_tallies.items()},
    "tuebingen_meta_cgnn_low": spread(tub_tallies["Meta-CGNN"].low, tub_tallies["Meta-CGNN"].total),
    "tuebingen_meta_cgnn_high": spread(tub_tallies["Meta-CGNN"].high, tub_tallies["Meta-CGNN"].total),
    "tuebingen_best_peer_accuracy": spread(tub_best, tub_tallies["Meta-CGNN"].total),
    "tuebingen_cgnn_pairs": tub_tallies["CGNN"].total,
    "cgnn_sets": cgnn_sets, "meta_cgnn_seconds_per_set": meta_seconds, "cgnn_seconds_per_set": cgnn_seconds,
    "speedup": speedup, "train_seconds": train_seconds,
}

# %%
repro.record_claim(
    "F4",
    title="Meta-CGNN decides the causal direction of small data sets as well as the best peer, without retraining",
    status=repro.grade(checks),
    criterion="held-out synthetic accuracy above chance (binomial p < 0.01) and >= best peer - 0.05 (ANM, IGCI "
              "with Gaussian and uniform reference, RECI, cdt's RECI, per-data-set CGNN); time per data set at "
              "least 10x below a retrained CGNN's; (added) the same parity on families left out of training; "
              "Tübingen pairs at n = 50 reported, not graded",
    checks=checks,
    measured=measured,
    controls=controls,
)

# %% [markdown]
# What the verdict rests on: the parity on the in-distribution sets and the speed, the sanity check, and the near
# miss failing while it passes the sanity check.

# %%
assert all(checks[k].passed for k in ("above_chance", "near_best_peer", "far_faster", "no_update_at_test")), checks
assert not controls["typical_embedding"].passed_check and controls["typical_embedding"].sanity_passed, controls

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. On held-out data sets of the families it was trained on, the meta-trained model
# decides the direction with no retraining: it is right on
# {glue:text}`meta_cgnn_right:.0f` of {glue:text}`n_test` ({glue:text}`meta_cgnn_accuracy:.3f`, interval
# {glue:text}`meta_cgnn_low:.2f`–{glue:text}`meta_cgnn_high:.2f`), against {glue:text}`best_peer_accuracy:.3f` for
# the best peer; our ANM scored {glue:text}`anm_accuracy:.3f`, IGCI {glue:text}`igci_accuracy:.3f` (Gaussian
# reference) and {glue:text}`igci_uniform_accuracy:.3f` (uniform), our RECI {glue:text}`reci_accuracy:.3f`, and the
# CGNN retrained on each of its {glue:text}`cgnn_sets` data sets {glue:text}`cgnn_accuracy:.3f`, where Meta-CGNN
# scored {glue:text}`meta_cgnn_accuracy_on_cgnn_sets:.3f`. Deciding a new data set takes
# {glue:md}`meta_cgnn_seconds_per_set` of forward passes, against {glue:md}`cgnn_seconds_per_set` for a CGNN
# retrained on it even on our reduced schedule ({glue:md}`speedup` in all); meta-training costs
# {glue:md}`train_seconds` once.
#
# The check can fail: with one typical embedding for every data set, the same model was right on only
# {glue:text}`typical_embedding.right` of {glue:text}`n_test`, and with the embedding zeroed on
# {glue:text}`zeroed_embedding.right` (chance would give about half). Where these counts fall below chance rather
# than at it, one fixed generator prefers the wrong direction on our data sets, so its failure is not that of a
# broken model: the direction Meta-CGNN finds comes from adapting the generator to each data set through the
# meta-learned embedding. With the effect shuffled within each set, Meta-CGNN was right on
# {glue:text}`shuffled_effect.right` of {glue:text}`n_test`, while IGCI, which reads only the marginals that
# shuffling keeps, scored {glue:text}`shuffled_effect.igci_accuracy:.3f` (Gaussian reference) and
# {glue:text}`shuffled_effect.igci_uniform_accuracy:.3f` (uniform) on the same shuffled sets: marginal shape carries
# direction in our generator, and Meta-CGNN's count there measures how much of it it reads (the robustness page
# gives the count at other seeds).
#
# Beyond the training families the parity is weaker. On the held-out families Meta-CGNN scored
# {glue:text}`held_out_families_meta_cgnn_accuracy:.3f` against
# {glue:text}`held_out_families_best_peer_accuracy:.3f` for the best peer (the check asks for no more than 0.05
# below it; the status above says whether it held, and the rule above why one seed does not settle it). On the
# Tübingen pairs at $n = 50$ it scored
# {glue:text}`tuebingen_meta_cgnn_accuracy:.3f` (interval
# {glue:text}`tuebingen_meta_cgnn_low:.2f`–{glue:text}`tuebingen_meta_cgnn_high:.2f`) against
# {glue:text}`tuebingen_best_peer_accuracy:.3f` for the best peer (IGCI with the uniform reference scored
# {glue:text}`tuebingen_igci_uniform_accuracy:.3f`, the CGNN on all {glue:text}`tuebingen_cgnn_pairs` pairs
# {glue:text}`tuebingen_cgnn_accuracy:.3f`), with every interval reaching chance: at $n = 50$ no method is
# convincingly right, and the report's parity on benchmarks is neither shown nor refuted by these 99 pairs. Our
# generator of training data sets is our own and the benchmark's pairs look little like it; we did not reproduce
# the paper's preparation of real data. Figures at seeds other than the published one are on the robustness page.
#
# Two of cdt's peers, as shipped, would have made Meta-CGNN look better than it is: its `ANM`, whose GP has no
# noise term, and its `RECI`, with its regression reduced to $x^3$ (both shown in the first table). We compare
# against our own ANM and RECI instead. The per-data-set CGNN runs {glue:text}`cgnn_schedule_share:.2f` of the
# published schedule's gradient steps (one run of {glue:text}`cgnn_steps` steps against six of 1000), which is what
# the CPU budget holds once it decides all 99 Tübingen pairs. A longer schedule would make it slower still and
# might make it more accurate; since at this schedule it already ties the best of the other peers, Meta-CGNN's
# parity is shown against this shortened CGNN only.
