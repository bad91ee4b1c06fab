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
# # M1 · Which inputs a trained network listens to: mutual information from Gaussian mixtures
#
# **The result.** To see which parts of its input a trained network relies on, estimate the mutual information
# between every input element and every output unit over the data. Yasuda's grant report does this with a
# semi-parametric density estimate, Gaussian mixtures fitted by EM, of the input–output joint distribution, and
# finds sensible answers on the IRIS flowers {cite}`report002`.
#
# **What we do.** For each pair (input $x_i$, output unit $y_k$) we fit a Gaussian mixture to the joint sample by
# EM, choose its number of components by BIC, and compute the mutual information of the fitted density. We test
# the estimator where the truth is known (jointly Gaussian data; a noise column the network never sees), then read
# the table of a small network trained on IRIS at five seeds, beside scikit-learn's $k$-nearest-neighbour estimate
# {cite}`kraskov2004mi,pedregosa2011sklearn`.
#
# **What is ours.** Everything but the idea: the report gives no formulas and we found no paper for this estimator
# (we searched by the report's terms). The pairwise (one input, one output) design, the BIC choice, estimating
# $I$ as the mutual information of the fitted mixture, and the tests are ours. The `gmm-mi` package (0.8.2), a
# published GMM-based estimator we meant to run beside ours, is installed but does not run with our pinned
# scikit-learn: it calls `BaseEstimator._validate_data`, which scikit-learn has removed. scikit-learn's kNN
# estimator stands beside ours instead.

# %% tags=["parameters"]
seed = 0
n_seeds = 5  # networks trained on IRIS (and, for the controls, blind to the petals or on shuffled labels)
hidden = 16  # tanh units of the 4-16-3 network
epochs = 300
lr = 0.02
max_components = 4  # BIC chooses 1..max_components
n_mc = 20000  # draws from the fitted mixture per mutual-information estimate
gauss_n = 5000  # sample size of the large Gaussian and the warped tests
gauss_rhos = [0.3, 0.6, 0.9]  # correlations of the Gaussian test
gauss_reps = 3  # independent samples per correlation at gauss_n
small_n = 150  # IRIS's sample size, for the Gaussian test that counts
small_reps = 20  # independent samples per correlation at small_n
n_perm = 4  # permuted copies of the data behind each entry of the network's own reading
device = "cpu"

# %%
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_iris
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

from dltheory import interpret, nets, plotting, repro, stats

session = repro.setup(seed, device=device)

# %% [markdown]
# ## The estimator
#
# Let $\hat p(x, y) = \sum_c \pi_c\, \mathcal N\big((x, y); \mu_c, \Sigma_c\big)$ be the mixture fitted to the
# standardised pairs $(x_i^{(n)}, y_k^{(n)})$; its marginals $\hat p(x)$, $\hat p(y)$ are the mixtures of the
# components' marginals. We take
#
# $$
# \hat I(x_i; y_k) = \mathbb E_{\hat p}\Big[\log \frac{\hat p(x, y)}{\hat p(x)\,\hat p(y)}\Big], \tag{1}
# $$
#
# the mutual information of the fitted density, by Monte Carlo over `n_mc` draws from $\hat p$. The number of
# components minimises BIC $= -2\log\hat L + (\text{parameters})\log n$. Mutual information is unchanged by
# rescaling either variable, so standardising costs nothing.
#
# ## Where the truth is known: Gaussian pairs
#
# For a bivariate Gaussian with correlation $\rho$, $I = -\tfrac12\log(1-\rho^2)$ whatever the variances; ours
# have unequal variances and nonzero means. On Gaussian data BIC keeps a single component, and (1) is then the
# textbook plug-in estimate $-\tfrac12\log(1-r^2)$ of the sample correlation $r$; the table shows both. So the
# test at $n$ = {glue:text}`gauss_n` checks our code against that identity, up to the plug-in's own sampling error
# $\approx\rho/\sqrt n$ = {glue:text}`plug_in_sd_n` nats: a **sanity** check. The test that can tell a good
# estimator from a bad one is at IRIS's size, below.

# %%
def gaussian_errors(rho, n, reps, rng, *, max_components, n_mc):
    """Per sample of n points of a Gaussian with correlation rho (unequal variances): the closed form, the
    mixture estimate (1), the plug-in estimate, the diagonal-covariance mixture (a control) and kNN."""
    sd = np.array([1.7, 0.4])
    cov = np.array([[1, rho], [rho, 1]]) * np.outer(sd, sd)
    exact = interpret.gaussian_mutual_information(cov, [0], [1])
    rows = []
    for _ in range(reps):
        z = rng.multivariate_normal([2.0, -1.0], cov, size=n)
        kw = dict(max_components=max_components, n_mc=n_mc, rng=rng)
        rows.append(dict(rho=rho, n=n, exact=exact, gmm=interpret.gmm_mutual_information(z[:, 0], z[:, 1], **kw),
                         plug_in=-0.5 * np.log(1 - np.corrcoef(z.T)[0, 1] ** 2),
                         diag=interpret.gmm_mutual_information(z[:, 0], z[:, 1], covariance_type="diag", **kw),
                         knn=mutual_info_regression(z[:, :1], z[:, 1], random_state=int(rng.integers(2**31 - 1)))[0]))
    return rows

# %%
kw = dict(max_components=max_components, n_mc=n_mc)
big = pd.DataFrame([r for i, rho in enumerate(gauss_rhos)
                    for r in gaussian_errors(rho, gauss_n, gauss_reps, session.rng_for("gauss_big", i), **kw)])
big_error = float((big.gmm - big.exact).abs().max())
big_diag_error = float((big.diag - big.exact).abs().max())
gmm_vs_plug_in = float((big.gmm - big.plug_in).abs().max())
print(big.round(4).to_string(index=False))
repro.glue("plug_in_sd_n", f"{max(gauss_rhos) / np.sqrt(gauss_n):.3f}")
repro.glue("n_gauss", len(big))

# %% [markdown]
# ## The same at IRIS's size
#
# With $n$ = {glue:text}`small_n` points, as on IRIS, the plug-in estimate's own spread is
# $\rho/\sqrt{n}$ = {glue:text}`plug_in_sd_small` nats at $\rho$ = 0.9: no estimator lands within 0.05 nats of the
# truth on every sample of that size. What the 0.05-nat standard can ask of an estimator at $n = 150$ is that it be
# right *on average*: a mixture that splits Gaussian data into spurious components would show up as a bias. We
# draw {glue:text}`small_reps` samples per $\rho$ and take the worst mean error over $\rho$ (evidence); the
# standard error of each mean is the sample spread over $\sqrt{\text{reps}}$.

# %%
small = pd.DataFrame([r for i, rho in enumerate(gauss_rhos)
                      for r in gaussian_errors(rho, small_n, small_reps, session.rng_for("gauss_small", i), **kw)])
errors = small[["gmm", "plug_in", "diag", "knn"]].sub(small.exact, axis=0).assign(rho=small.rho)
by_rho = errors.groupby("rho").agg(["mean", "std"])
print(by_rho.round(4).to_string())
bias = {k: by_rho[k]["mean"].abs() for k in ("gmm", "diag")}
worst = {k: float(v.max()) for k, v in bias.items()}
bias_se = float((by_rho["gmm"]["std"] / np.sqrt(small_reps)).max())
repro.glue("plug_in_sd_small", f"{max(gauss_rhos) / np.sqrt(small_n):.3f}")
repro.glue("small_max_single_error", float(errors.gmm.abs().max()))

# %% [markdown]
# *What to see:* per $\rho$, the mean and spread of each estimator's error over the {glue:text}`small_reps`
# samples of 150 points. The mixture's column matches the plug-in's (BIC keeps one component), its mean error is
# small against the 0.05-nat standard, and its spread is the plug-in's $\approx\rho/\sqrt n$; single samples miss
# by up to {glue:text}`small_max_single_error:.3f` nats. The diagonal-covariance mixture is the control below.
#
# ## A stress test: a known answer with non-Gaussian marginals
#
# Mutual information is unchanged by a monotone map of either variable, so $(e^{x}, y^3)$ with $(x, y)$ Gaussian
# of correlation $\rho$ has the same $I = -\tfrac12\log(1-\rho^2)$ but skewed, heavy-tailed marginals that no
# single Gaussian fits. This is the case mixtures exist for, so we grade it: the mixture should be within the
# same 0.05 nats (evidence), beside a single Gaussian (`max_components = 1`) and kNN.

# %%
def warped_errors(rhos, n, rng, *, max_components, n_mc):
    """Closed form and estimates of I on (exp(x), y^3) for Gaussian (x, y) of each correlation in rhos."""
    rows = []
    for rho in rhos:
        cov = np.array([[1, rho], [rho, 1]])
        z = rng.multivariate_normal([0.0, 0.0], cov, size=n)
        xt, yt = np.exp(z[:, 0]), z[:, 1] ** 3
        row = dict(rho=rho, exact=interpret.gaussian_mutual_information(cov, [0], [1]))
        for name, k in (("mixture", max_components), ("single_gaussian", 1)):
            row[name] = interpret.gmm_mutual_information(xt, yt, max_components=k, n_mc=n_mc, rng=rng)
        row["knn"] = mutual_info_regression(xt[:, None], yt, random_state=int(rng.integers(2**31 - 1)))[0]
        rows.append(row)
    return pd.DataFrame(rows)


warped = warped_errors(gauss_rhos, gauss_n, session.rng_for("warped"), **kw)
warped_error = {k: float((warped[k] - warped.exact).abs().max()) for k in ("mixture", "single_gaussian", "knn")}
print(warped.round(4).to_string(index=False))
print("largest error: " + ", ".join(f"{k} {v:.3f}" for k, v in warped_error.items()))

# %% [markdown]
# ## IRIS
#
# A 4–16–3 tanh network is trained on the standardised flowers (all 150: the question is what the trained network
# does on the data, not how it generalises), at `n_seeds` seeds. Its outputs $y_k$ are the three logits. A fifth
# "input", independent standard noise that the network never sees, is a built-in truth check: a network that
# ignores an independent input shares no information with it, $I = 0$.
#
# **Two readings.** The report's table, $I(x_i; y_k)$ over the data, says which inputs *share information* with an
# output, not which ones the network *uses*: the petal measurements separate the species in the data themselves
# (the label alone puts them on top, below), and sepal length correlates with them. So beside it we compute the
# network's **own reading**: input $i$ is replaced by an independent draw from its own marginal (a permutation of
# its column, `n_perm` times over), the others kept, and
#
# $$
# I_{\text{read}}(x_i; y_k) = I\big(\tilde x_i;\ f_k(x_{-i}, \tilde x_i)\big), \qquad \tilde x_i \perp x_{-i}, \tag{2}
# $$
#
# by the same estimator (1). An input the network ignores scores about zero in (2), however strongly it
# correlates with the inputs used. Both readings, and the checks below, are ours.

# %%
class Tables(NamedTuple):
    data: np.ndarray  # (5, 3): I(x_i; y_k) over the data, by (1); row 4 the ignored noise
    knn: np.ndarray  # (5, 3): the same by scikit-learn's kNN estimator
    reading: np.ndarray  # (4, 3): the network's own reading (2)
    accuracy: float


def iris_tables(x_raw, labels, mask, generator, rng, *, hidden, epochs, lr, max_components, n_mc, n_perm):
    """Train a 4-hidden-3 tanh net on the standardised inputs times ``mask`` (4,) (0: the net is blind to that
    input) on the session's device; its tables over the raw measurements plus an ignored noise column."""
    dev = generator.device
    mean, sd = x_raw.mean(0), x_raw.std(0)

    def predict(v):  # raw measurements (m, 4) -> logits (m, 3), numpy
        z = torch.as_tensor((v - mean) / sd * mask, dtype=torch.float32, device=dev)
        with torch.no_grad():
            return repro.to_numpy(net(z)).astype(float)

    net = nets.mlp([4, hidden, 3], activation=torch.nn.Tanh, generator=generator)
    x = torch.as_tensor((x_raw - mean) / sd * mask, dtype=torch.float32, device=dev)
    y = torch.as_tensor(labels, device=dev)
    nets.train_classifier(net, x, y, epochs=epochs, lr=lr)
    out = predict(x_raw)
    inputs = np.hstack([x_raw, rng.standard_normal((len(x_raw), 1))])  # column 4: ignored noise
    data = interpret.input_output_mi(inputs, out, max_components=max_components, n_mc=n_mc, rng=rng)
    knn = np.stack([mutual_info_regression(inputs, out[:, k], random_state=int(rng.integers(2**31 - 1)))
                    for k in range(3)], 1)
    reading = interpret.input_output_mi_intervened(predict, x_raw, max_components=max_components, n_mc=n_mc,
                                                   n_perm=n_perm, rng=rng)
    return Tables(data, knn, reading, nets.accuracy(net, x, y))

# %%
x_raw, labels = load_iris(return_X_y=True)
names = ["sepal length", "sepal width", "petal length", "petal width"]
settings = dict(hidden=hidden, epochs=epochs, lr=lr, max_components=max_components, n_mc=n_mc, n_perm=n_perm)


def train_all(x, kind, labels_of, mask, n_seeds, settings):
    """Tables of ``n_seeds`` networks on inputs ``x``, each on its own streams ``(kind, s)``."""
    return [iris_tables(x, labels_of(s), mask, session.generator_for(kind, s), session.rng_for(kind, s),
                        **settings) for s in range(n_seeds)]


trained = train_all(x_raw, "net", lambda s: labels, np.ones(4), n_seeds, settings)
data_tables, reading_tables = np.stack([t.data for t in trained]), np.stack([t.reading for t in trained])
print("training accuracy per seed:", np.round([t.accuracy for t in trained], 3))
print(pd.DataFrame(data_tables.mean(0), index=names + ["noise (ignored)"], columns=["setosa", "versicolor",
                                                                                   "virginica"]).round(3))
label_mi = mutual_info_classif(x_raw, labels, random_state=int(session.rng_for("label_mi").integers(2**31 - 1)))
print("I(input; species) by kNN, no network:", ", ".join(f"{k} {v:.3f}" for k, v in zip(names, label_mi, strict=True)))

# %%
fig, axes = plotting.subplots(1, 3, width=9.0, height=3.4, sharey=True)
top = max(data_tables.max(), reading_tables.max())
panels = (data_tables.mean(0), np.stack([t.knn for t in trained]).mean(0), reading_tables.mean(0))
for ax, tab, title in zip(axes, panels, ("over the data, GMM (1)", "over the data, kNN", "network's reading (2)"),
                          strict=True):
    im = ax.imshow(np.pad(tab, ((0, 5 - len(tab)), (0, 0)), constant_values=np.nan), cmap="viridis", vmin=0,
                   vmax=top)
    ax.set_xticks(range(3), ["setosa", "versicolor", "virginica"], rotation=30)
    ax.set_title(title)
    ax.grid(False)
axes[0].set(yticks=range(5), yticklabels=names + ["noise (ignored)"])
fig.colorbar(im, ax=axes, label=f"I, nats, mean of {n_seeds} seeds")
plotting.plt.show()

# %% [markdown]
# *What to see:* over the data (left, middle) the two petal measurements carry the most information for every
# output unit, sepal length next, the ignored noise least (its small positive values are the estimator's bias at
# $I = 0$ with 150 points); the kNN estimator draws the same picture. The network's own reading (right; no noise
# row) keeps the petals on top, and shrinks sepal length, whose share over the data came largely through its
# correlation with the petals.
#
# ## The check and its controls
#
# From the [catalogue](../catalogue.md): on jointly Gaussian data the estimator is within 0.05 nats of the closed
# form, and on IRIS petal length and petal width are the top two inputs for every output unit in at least 4 of 5
# seeds. The checks:
#
# - *sanity* `gaussian_n5000_within_0.05`: the Gaussian test at $n$ = {glue:text}`gauss_n`, which is the plug-in
#   identity (above);
# - *evidence* `gaussian_n150_bias`: the worst mean error at IRIS's size, at most 0.05 nats;
# - *evidence* `warped_within_0.05`: the mixture within 0.05 nats on the warped pairs, where mixtures should help;
# - *evidence* `petal_top2_seeds`: the catalogue's IRIS check on the table over the data, at least 4 of 5 seeds;
# - *evidence* `reading_petal_top2_seeds`: the same on the network's own reading (2), at least 4 of 5 seeds;
# - *evidence* `ignored_input_gap`: the smallest gap, over seeds and output units, between the least informative
#   real input and the ignored noise input, above zero (ours, stronger).
#
# *Near miss: a network blind to the petals.* The same network, trained with the petal inputs zeroed, so it
# classifies from the sepals alone. Its outputs still correlate with the petals through the species; a check
# that reads the data rather than the network would pass it. It must fail `reading_petal_top2_seeds`.
#
# *Far controls.* Networks trained on shuffled species (nothing to learn; the IRIS checks must fail), and the
# mixture with diagonal covariances on the Gaussian samples: each component treats the two coordinates as
# independent, so it fails the plug-in identity itself, and is an illustration that the Gaussian tests can fail,
# not a near miss.

# %%
def top2_petal(tables):
    """Per seed: are petal length and width (rows 2, 3) the top-2 real inputs for every output unit?"""
    top = np.argsort(-tables[:, :4, :], axis=1)[:, :2, :]  # (seeds, 2, outputs)
    return [all(set(t[:, k]) == {2, 3} for k in range(t.shape[1])) for t in top]


def iris_checks(tables, gaussian_error):
    """The IRIS checks on a list of Tables, with the Gaussian sanity check they share; 4 of 5 seeds is 80%."""
    data, reading = np.stack([t.data for t in tables]), np.stack([t.reading for t in tables])
    gap = float((data[:, :4, :].min(1) - data[:, 4, :]).min())
    bias = float(data[:, 4, :].max())
    return {"gaussian_n5000_within_0.05": repro.sanity(gaussian_error, "<=", 0.05),
            "petal_top2_seeds": repro.evidence(sum(top2_petal(data)), ">=", np.ceil(0.8 * len(tables))),
            "reading_petal_top2_seeds": repro.evidence(sum(top2_petal(reading)), ">=", np.ceil(0.8 * len(tables))),
            "ignored_input_gap": repro.evidence(gap, ">", 0.0, scale=max(bias, 1e-3))}

# %%
checks = {**iris_checks(trained, big_error),
          "gaussian_n150_bias": repro.evidence(worst["gmm"], "<=", 0.05, scale=bias_se),
          "warped_within_0.05": repro.evidence(warped_error["mixture"], "<=", 0.05)}
blind = train_all(x_raw, "blind", lambda s: labels, np.array([1.0, 1.0, 0.0, 0.0]), n_seeds, settings)
shuffled = train_all(x_raw, "shuffled", lambda s: session.rng_for("shuffle", s).permutation(labels), np.ones(4),
                     n_seeds, settings)
controls = {
    "petal_blind": repro.control("the network trained with its petal inputs zeroed", iris_checks(blind, big_error),
                                 {"accuracy": min(t.accuracy for t in blind),
                                  "petal_top2_seeds": sum(top2_petal(np.stack([t.data for t in blind]))),
                                  "reading_petal_max": float(np.stack([t.reading for t in blind])[:, 2:4].max())},
                                 kind="near miss"),
    "shuffled_labels": repro.control("networks trained on permuted species", iris_checks(shuffled, big_error),
                                     {"petal_top2_seeds": sum(top2_petal(np.stack([t.data for t in shuffled]))),
                                      "max_mi": float(np.stack([t.data for t in shuffled])[:, :4].max())}, kind="far"),
    "diagonal_components": repro.control(
        "the mixture with diagonal covariances on the same Gaussian samples",
        {"gaussian_n5000_within_0.05": repro.sanity(big_diag_error, "<=", 0.05),
         "gaussian_n150_bias": repro.evidence(worst["diag"], "<=", 0.05, scale=bias_se)},
        {"max_error": big_diag_error, "small_bias": worst["diag"]}, kind="far")}

# %%
petal = stats.mean_interval(data_tables[:, 2:4, :].mean((1, 2)))
sepal = stats.mean_interval(data_tables[:, 0:2, :].mean((1, 2)))
read_sepal = stats.mean_interval(reading_tables[:, 0, :].mean(1))
accuracies = [t.accuracy for t in trained]
# a run at another seed draws new networks and samples: two independent means differ by sqrt(2) standard errors
between = "2 sd of the difference of two independent means (2 sqrt(2) standard errors)"
measured = {
    "gauss_max_error": repro.measure(big_error, tol=0.03, basis="plug-in spread rho/sqrt(n) at n = 5000"),
    "gauss_n": gauss_n, "small_n": small_n, "small_reps": small_reps,
    "gmm_vs_plug_in": repro.measure(gmm_vs_plug_in, tol=0.02, basis="Monte Carlo error of (1)"),
    "small_bias": repro.measure(worst["gmm"], tol=2 * np.sqrt(2) * bias_se, basis=between),
    "small_bias_se": repro.measure(bias_se, tol=bias_se, basis="its own size"),
    "warped_mixture_max_error": repro.measure(warped_error["mixture"], tol=0.1, basis="one sample per rho"),
    "warped_knn_max_error": repro.measure(warped_error["knn"], tol=0.05, basis="one sample per rho"),
    "warped_single_gaussian_max_error": repro.measure(warped_error["single_gaussian"], tol=0.1,
                                                      basis="one sample per rho"),
    "petal_top2_seeds": sum(top2_petal(data_tables)), "reading_petal_top2_seeds": sum(top2_petal(reading_tables)),
    "n_seeds": n_seeds, "knn_petal_top2_seeds": sum(top2_petal(np.stack([t.knn for t in trained]))),
    "petal_mi": repro.measure(petal.value, tol=2 * np.sqrt(2) * petal.sem, basis=between),
    "sepal_mi": repro.measure(sepal.value, tol=2 * np.sqrt(2) * sepal.sem, basis=between),
    "reading_sepal_length_mi": repro.measure(read_sepal.value, tol=2 * np.sqrt(2) * read_sepal.sem,
                                             basis=between),
    "ignored_input_max_mi": repro.measure(float(data_tables[:, 4, :].max()), tol=0.03,
                                          basis="estimator bias at I = 0"),
    "min_accuracy": repro.measure(min(accuracies), tol=0.02, basis="3 flowers of 150"),
}

# %%
repro.record_claim(
    "M1",
    title="Mutual information between a trained network's inputs and outputs from Gaussian mixtures",
    status=repro.grade(checks),
    criterion="on jointly Gaussian data within 0.05 nats of the closed form (graded at IRIS's n = 150 as the "
              "worst mean error over 20 samples per rho; at n = 5000 a sanity check, the plug-in identity); on "
              "IRIS petal length and width are the top-2 inputs for every output unit in >= 4/5 seeds, over the "
              "data and (added) in the network's own reading; (added) within 0.05 nats on monotone-warped "
              "Gaussian pairs; the ignored noise input ranks last",
    checks=checks,
    measured=measured,
    controls=controls,
)

# %% [markdown]
# What the verdict rests on: the checks that hold, the sanity check, and the near miss failing the network's
# reading while it passes the sanity check.

# %%
assert all(c.passed for k, c in checks.items() if k != "warped_within_0.05"), checks
assert not controls["petal_blind"].passed_check and controls["petal_blind"].sanity_passed, controls["petal_blind"]
assert "reading_petal_top2_seeds" in controls["petal_blind"].failed_evidence, controls["petal_blind"]
assert not controls["shuffled_labels"].passed_check and not controls["diagonal_components"].passed_check

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**.
#
# *Gaussian data.* At $n$ = {glue:text}`gauss_n` the mixture estimator was at most {glue:text}`gauss_max_error:.3f`
# nats from the closed form, and within {glue:text}`gmm_vs_plug_in:.3f` of the plug-in Gaussian estimate: BIC kept
# one component, so this part checks our code, not the mixture idea. At IRIS's size, $n$ =
# {glue:text}`small_n`, its worst mean error over {glue:text}`small_reps` samples per $\rho$ was
# {glue:text}`small_bias:.3f` nats (standard error {glue:text}`small_bias_se:.3f`), well inside 0.05: BIC does not
# invent components on 150 Gaussian points. A mixture of diagonal components misses by up to
# {glue:text}`diagonal_components.max_error:.2f` nats at $n$ = {glue:text}`gauss_n` and by
# {glue:text}`diagonal_components.small_bias:.2f` on average at $n$ = {glue:text}`small_n`.
#
# *Warped pairs: the mixture fails.* On monotone-warped Gaussian pairs, the case a mixture is for, it is off by up
# to {glue:text}`warped_mixture_max_error:.2f` nats, outside the 0.05 standard; a single Gaussian errs by up to
# {glue:text}`warped_single_gaussian_max_error:.2f`, and kNN, which needs no density model, by only
# {glue:text}`warped_knn_max_error:.2f`. This evidence check fails, and it is why the status is partial: with
# `max_components` = 4 the mixture does better than one Gaussian but not well enough for the values of the IRIS
# table to be trusted to 0.05 nats; we rely on its ranking of inputs, not on its values.
#
# *IRIS.* Over the data, petal length and width were the two most informative inputs for all three output units in
# {glue:text}`petal_top2_seeds` of {glue:text}`n_seeds` seeds (kNN: {glue:text}`knn_petal_top2_seeds`), with on
# average {glue:text}`petal_mi:.2f` nats per petal input and output unit against {glue:text}`sepal_mi:.2f` per
# sepal input; the ignored noise input ranked last everywhere, with at most {glue:text}`ignored_input_max_mi:.3f`
# nats (the estimator's bias at $I = 0$). In the network's own reading (2) the petals were on top in
# {glue:text}`reading_petal_top2_seeds` of {glue:text}`n_seeds` seeds, and sepal length fell to
# {glue:text}`reading_sepal_length_mi:.2f` nats per output unit.
#
# *Does the check read the network or the data?* A referee noted that kNN on the data finds the petal pair at every
# seed. The near miss answers it: networks blind to the petals (training accuracy down to
# {glue:text}`petal_blind.accuracy:.3f`) still share information with the petals through the species, yet the petal
# pair came out on top over the data in only {glue:text}`petal_blind.petal_top2_seeds` of {glue:text}`n_seeds` seeds,
# since sepal length takes its place; in their own reading no petal entry exceeded
# {glue:text}`petal_blind.reading_petal_max:.3f` nats, so `reading_petal_top2_seeds` fails, as it must. Networks
# trained on shuffled species found the petal pair over the data in {glue:text}`shuffled_labels.petal_top2_seeds`
# seeds, with no input above {glue:text}`shuffled_labels.max_mi:.2f` nats.
#
# What this does and does not show. Over the data, mutual information says which inputs *share information* with an
# output; only the reading (2) says which ones the network *uses*, and (2) is ours, not the report's. IRIS is
# easy, as the report itself notes; a harder data set is future work for both of us. The `gmm-mi` package could
# not be run beside ours (see above).
