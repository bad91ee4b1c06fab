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
# meta-train a Meta-CGNN on them. We then decide held-out data sets and 99 real pairs from the Tübingen benchmark
# {cite}`mooij2016distinguishing`, each subsampled to 50 points. Alongside run the peers named in `CLAIMS.md`:
# an additive-noise model {cite}`hoyer2009anm`, IGCI {cite}`daniusis2010igci`, RECI {cite}`bloebaum2018reci`, and
# a CGNN retrained on each data set {cite}`goudet2018cgnn`. IGCI and RECI come from the Causal Discovery Toolbox
# {cite}`kalainathan2020cdt`.
#
# **What we could read.** Only the paper's abstract and a summary were at hand. The architecture follows them:
# a DeepSets encoder, FiLM conditioning, an MMD loss and no retraining at test time. Three things are our own
# choices, since the paper's choices could not be checked: the sizes, meta-training on each data set in its
# causal order only, and the decision rule (the direction with the smaller MMD wins).

# %% tags=["parameters"]
seed = 0
n = 50  # points per data set
n_train = 8000  # meta-training data sets
n_test = 200  # held-out synthetic data sets
steps = 2000  # meta-training steps, 32 data sets each
width = 64  # hidden units of the encoder and the generator
embedding = 32  # size of the data-set embedding
cgnn_steps = 300  # training steps of each per-data-set CGNN (Goudet et al.: 1000, and 6 runs)
cgnn_sets = 100  # held-out data sets also decided by per-data-set CGNNs
device = "cpu"

# %%
import time
import warnings

import numpy as np
from scipy import stats
from sklearn.exceptions import ConvergenceWarning

from dltheory import causal, plotting, repro

with warnings.catch_warnings():  # cdt announces at import whether it found a GPU
    warnings.simplefilter("ignore")
    from cdt.causality.pairwise import ANM, IGCI, RECI
    from cdt.data import load_dataset

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

# %%
train = causal.sample_pairs(n_train, n, session.rng)
test = causal.sample_pairs(n_test, n, session.rng)
a_test, b_test = np.stack([p.a for p in test]), np.stack([p.b for p in test])
truth = np.array([p.direction for p in test])
print(f"{n_train} training and {n_test} held-out data sets of {n} points; "
      f"{np.mean(truth == 1):.3f} of the held-out ones are shown cause first")

# %%
fig, axes = plotting.subplots(2, 4, width=8.5, height=4.0)
for ax, (mechanism, noise) in zip(axes.flat, [(m, z) for z in ("gaussian", "multiplicative")
                                              for m in causal.MECHANISMS], strict=True):
    p = causal.sample_pair(n, np.random.default_rng(1), mechanism=mechanism, noise=noise)
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
#   alone, one per direction, for `cgnn_steps` steps (300 here), against Goudet et al.'s 1000 steps times 6
#   runs. All the networks are trained as one batch; Adam acts elementwise, so this is exactly training each
#   alone. For the time budget it runs on the first `cgnn_sets` (100) held-out data sets.
# - **ANM:** our Gaussian-process regression with a fitted noise term, scored by the HSIC {cite}`gretton2008hsic`
#   between the residual and the putative cause; the smaller HSIC wins. cdt's `ANM` fits its GP without a noise
#   term, so it interpolates the data and its residuals are meaningless; we show it once below to justify
#   replacing it.
# - **IGCI:** cdt's implementation, with the entropy estimator and the Gaussian reference measure.
# - **RECI:** our least-squares cubic on $[0, 1]$-scaled data; the smaller regression error wins. cdt's `RECI` is
#   shown beside it: it zeroes the linear and quadratic features and so regresses on $x^3$ alone.

# %%
def accuracy(score: np.ndarray, direction: np.ndarray) -> float:
    """Fraction of data sets whose score has the sign of the true direction (a tie counts as wrong)."""
    return float(np.mean(np.sign(score) == direction))


def tally(score: np.ndarray, direction: np.ndarray) -> dict[str, float]:
    """Right decisions, data sets, accuracy and its 95% Clopper–Pearson interval."""
    right = int(np.sum(np.sign(score) == direction))
    ci = stats.binomtest(right, len(score)).proportion_ci(method="exact")
    return dict(right=right, total=len(score), accuracy=right / len(score), low=ci.low, high=ci.high)


def show(tallies: dict[str, dict[str, float]]) -> None:
    """Print one line per method: right/total, accuracy, interval."""
    print(f"{'method':>10} {'right':>8} {'accuracy':>9}   95% interval (Clopper–Pearson)")
    for name, t in tallies.items():
        print(f"{name:>10} {t['right']:>4}/{t['total']:<3} {t['accuracy']:9.3f}   [{t['low']:.3f}, {t['high']:.3f}]")


def peer_scores(a: np.ndarray, b: np.ndarray) -> dict[str, np.ndarray]:
    """ANM, IGCI, RECI and cdt's RECI direction scores of the data sets ``a``, ``b`` (B, n)."""
    pairs = list(zip(a, b, strict=True))
    return {
        "ANM": np.array([causal.anm_score(y, x) - causal.anm_score(x, y) for x, y in pairs]),
        "IGCI": np.array([IGCI().predict_proba(pair) for pair in pairs]),
        "RECI": np.array([causal.reci_score(y, x) - causal.reci_score(x, y) for x, y in pairs]),
        "RECI (cdt)": np.array([RECI().predict_proba(pair) for pair in pairs]),
    }


scores = {"Meta-CGNN": causal.meta_cgnn_scores(model, a_test, b_test, generator=session.generator),
          **peer_scores(a_test, b_test)}
cgnn = causal.cgnn_scores(a_test[:cgnn_sets], b_test[:cgnn_sets], steps=cgnn_steps, generator=session.generator)
with warnings.catch_warnings():  # cdt's GP hits its length-scale bound: it interpolates, as said above
    warnings.simplefilter("ignore", ConvergenceWarning)
    subset = zip(a_test[:cgnn_sets], b_test[:cgnn_sets], strict=True)
    cdt_anm = np.array([ANM().predict_proba(pair) for pair in subset])
tallies = {name: tally(s, truth) for name, s in scores.items()}
tallies["CGNN"] = tally(cgnn, truth[:cgnn_sets])
show({**tallies, "cdt ANM": tally(cdt_anm, truth[:cgnn_sets])})
same = accuracy(scores["Meta-CGNN"][:cgnn_sets], truth[:cgnn_sets])
print(f"Meta-CGNN on the same {cgnn_sets} data sets as CGNN: {same:.3f}")

# %% [markdown]
# Which kinds of data set does each method get right? The noise type matters most: the additive-noise model
# assumes additive noise, so it should fail on the multiplicative kind.

# %%
noise = np.array([p.noise for p in test])
fig, ax = plotting.subplots(width=7.0, height=3.0)
for i, name in enumerate(scores):
    right = [accuracy(scores[name][noise == z], truth[noise == z]) for z in causal.NOISES]
    ax.bar(np.arange(4) + (i - 2) * 0.16, right, width=0.16, label=name)
ax.axhline(0.5, color="k", lw=1, ls=":")
ax.set(xticks=range(4), xticklabels=causal.NOISES, ylabel="accuracy", ylim=(0, 1.15), yticks=np.linspace(0, 1, 6))
ax.legend(ncol=5, loc="upper center", fontsize=8)
plotting.plt.show()

# %% [markdown]
# *What to see:* accuracy on the held-out synthetic data sets by noise type (about 50 each; the dotted line is
# chance). The additive-noise model is right nine times in ten or more on additive noise and at chance on
# multiplicative noise. Meta-CGNN is more even: it learned from examples what causal conditionals look like and
# assumes nothing about how the noise enters. Its weak spot is uniform noise, which its Gaussian noise input must
# learn to reshape. cdt's RECI, regressing on $x^3$ alone, is at or below chance on additive noise.
#
# ## The Tübingen pairs
#
# The 99 real cause–effect pairs shipped in cdt's wheel are all stored cause first. We show each in a random
# order and subsample 50 points from each pair. Meta-CGNN is applied as it was trained, on synthetic data only:
# these pairs test transfer. Accuracy is unweighted (the benchmark's weights, which down-weight related pairs,
# are not used).

# %%
data, _ = load_dataset("tuebingen")
tub_a, tub_b, tub_truth = [], [], []
for x, y in zip(data["A"], data["B"], strict=True):
    keep = session.rng.choice(len(x), n, replace=False)
    x, y = causal.standardise(x[keep]), causal.standardise(y[keep])
    flip = session.rng.random() < 0.5
    tub_a.append(y if flip else x)
    tub_b.append(x if flip else y)
    tub_truth.append(-1 if flip else 1)
tub_a, tub_b, tub_truth = np.stack(tub_a), np.stack(tub_b), np.array(tub_truth)
tub_scores = {"Meta-CGNN": causal.meta_cgnn_scores(model, tub_a, tub_b, generator=session.generator),
              "CGNN": causal.cgnn_scores(tub_a, tub_b, steps=cgnn_steps, generator=session.generator),
              **peer_scores(tub_a, tub_b)}
tub_tallies = {name: tally(s, tub_truth) for name, s in tub_scores.items()}
show(tub_tallies)

# %%
fig, axes = plotting.subplots(1, 2, width=9.0, height=3.2, sharey=True)
names = ["Meta-CGNN", "CGNN", "ANM", "IGCI", "RECI", "RECI (cdt)"]
for ax, (title, result) in zip(axes, [("held-out synthetic", tallies), ("Tübingen, n = 50", tub_tallies)],
                               strict=True):
    height = [result[k]["accuracy"] for k in names]
    ax.bar(names, height, color=[plotting.COLORS[i] for i in (0, 5, 1, 2, 3, 4)])
    err = [[h - result[k]["low"] for h, k in zip(height, names, strict=True)],
           [result[k]["high"] - h for h, k in zip(height, names, strict=True)]]
    ax.errorbar(names, height, yerr=err, fmt="none", color="k", capsize=3)
    ax.axhline(0.5, color="k", lw=1, ls=":")
    ax.set(title=title, ylim=(0, 1))
    ax.tick_params(axis="x", labelrotation=35)
axes[0].set(ylabel="accuracy")
plotting.plt.show()

# %% [markdown]
# *What to see:* accuracies with 95% Clopper–Pearson intervals. On held-out synthetic data Meta-CGNN sits with
# the best peer; CGNN is scored on its 100 data sets. On the Tübingen pairs at $n = 50$, every interval reaches
# down to or near chance. Fifty points of a real pair are little evidence, and every method here was designed or
# trained for other kinds of data.
#
# ## Time per data set
#
# Meta-CGNN decides a new data set with forward passes only. A CGNN must first be trained, twice. We time both on
# single data sets (one thread) and compare the cost per data set.

# %%
def seconds_per_set(decide, count: int) -> float:
    """Mean wall time of ``decide(a, b)`` on each of the first ``count`` held-out data sets, one at a time."""
    started = time.perf_counter()
    for i in range(count):
        decide(a_test[i : i + 1], b_test[i : i + 1])
    return (time.perf_counter() - started) / count


meta_seconds = seconds_per_set(lambda a, b: causal.meta_cgnn_scores(model, a, b, generator=session.generator), 20)
cgnn_seconds = seconds_per_set(lambda a, b: causal.cgnn_scores(a, b, steps=cgnn_steps, generator=session.generator), 3)
print(f"Meta-CGNN: {meta_seconds:.4f} s per data set; CGNN ({cgnn_steps} steps per direction): "
      f"{cgnn_seconds:.4f} s per data set; meta-training once: {train_seconds:.1f} s")

# %% [markdown]
# ## The check
#
# From `CLAIMS.md`: on held-out synthetic data sets, Meta-CGNN's accuracy is above chance (one-sided binomial
# test, $p < 0.01$) and at least the best peer's accuracy minus 0.05. Its time per data set must be far below a
# retrained CGNN's; before running, we fixed "far below" as at least ten times faster. The Tübingen accuracies
# are reported, not asserted.

# %%
acc = {name: t["accuracy"] for name, t in tallies.items()}
p_value = stats.binomtest(tallies["Meta-CGNN"]["right"], n_test, 0.5, alternative="greater").pvalue
best_peer = max(v for k, v in acc.items() if k != "Meta-CGNN")
speedup = cgnn_seconds / meta_seconds


def key(name: str) -> str:
    """A method's name as a record key: 'RECI (cdt)' -> 'reci_cdt'."""
    return "_".join(name.lower().replace("-", "_").replace("(", "").replace(")", "").split())


checks = dict(above_chance=bool(p_value < 0.01), near_best_peer=bool(acc["Meta-CGNN"] >= best_peer - 0.05),
              far_faster=bool(speedup >= 10))
print(checks)
repro.record_claim(
    "F4",
    title="Meta-CGNN decides the causal direction of small data sets as well as the best peer, without retraining",
    status="reproduced" if all(checks.values()) else "not reproduced",
    criterion="held-out synthetic accuracy above chance (binomial p < 0.01) and >= best peer - 0.05 (ANM, IGCI, "
              "RECI, cdt's RECI, per-data-set CGNN); time per data set at least 10x below a retrained CGNN's; "
              "Tübingen reported",
    measured={
        "meta_cgnn_accuracy": acc["Meta-CGNN"],
        "binomial_p_value": p_value,
        "best_peer_accuracy": best_peer,
        **{f"{key(k)}_accuracy": v for k, v in acc.items() if k != "Meta-CGNN"},
        **{f"tuebingen_{key(k)}_accuracy": t["accuracy"] for k, t in tub_tallies.items()},
        "meta_cgnn_seconds_per_set": meta_seconds,
        "cgnn_seconds_per_set": cgnn_seconds,
        "speedup": speedup,
    },
)
assert all(checks.values()), checks

# %% [markdown]
# ## What we found
#
# On held-out synthetic data sets of 50 points, the meta-trained model decides the direction about as well as
# the best earlier method, with no retraining. It is right on 169 of 200 (0.845, interval 0.79–0.89). That is far
# above chance ($p \approx 10^{-24}$) and two data sets short of the additive-noise model, the best peer at 0.855
# (171 of 200). The CGNN retrained on each data set got 0.74 on its 100 data sets, where Meta-CGNN got 0.85;
# IGCI got 0.70 and our RECI 0.73. The result also held at seeds 1 and 2. There Meta-CGNN scored 0.87 against a
# best peer of 0.875 (ANM), and 0.78 against 0.78 (CGNN). The two winners fail differently. The additive-noise
# model wins on additive noise, its own assumption, and is at chance on multiplicative noise, where Meta-CGNN
# stays at 0.85.
#
# Deciding a new data set takes Meta-CGNN about 0.015 s of forward passes. A CGNN retrained for each data set
# takes about 0.45 s, some 30 times longer, even on our reduced schedule of 300 steps per direction and one run.
# A longer schedule would widen the gap. Meta-training costs 25 s once, so it pays for itself after about sixty
# data sets.
#
# Two things stay open.
#
# - **The Tübingen pairs.** Trained on synthetic data only and shown 50 points of each real pair, no method is
#   convincingly right. Meta-CGNN scored 0.58 (interval 0.47–0.68), and the best was RECI at 0.64 (ours and
#   cdt's alike). The paper's abstract reports high accuracy on real-world data, but we could not read how it
#   trained or subsampled there. We record the Tübingen figures without a verdict, as `CLAIMS.md` asks; the
#   status above rests on the synthetic criterion.
# - **Two of cdt's peers,** as shipped, would have made Meta-CGNN look better than it is. Its `ANM`, whose GP has
#   no noise term, scored 0.34. Its `RECI`, with its regression reduced to $x^3$, scored 0.49. We compare
#   against our own ANM and RECI instead, and show cdt's versions beside them.
