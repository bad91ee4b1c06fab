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
n_seeds = 5  # networks trained on IRIS (and on shuffled labels for the control)
hidden = 16  # tanh units of the 4-16-3 network
epochs = 300
lr = 0.02
max_components = 4  # BIC chooses 1..max_components
n_mc = 20000  # draws from the fitted mixture per mutual-information estimate
gauss_n = 5000  # sample size of the Gaussian and transformed tests (see the note under the Gaussian table)
gauss_rhos = [0.3, 0.6, 0.9]  # correlations of the Gaussian test
gauss_reps = 3  # independent samples per correlation
device = "cpu"

# %%
import numpy as np
import pandas as pd
import torch
from sklearn.datasets import load_iris
from sklearn.feature_selection import mutual_info_regression

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
# components minimises BIC $= -2\log\hat L + (\text{parameters})\log n$, which keeps a single Gaussian when the
# data are Gaussian. Mutual information is unchanged by rescaling either variable, so standardising costs nothing.
#
# ## Where the truth is known: Gaussian pairs
#
# For a bivariate Gaussian with correlation $\rho$, $I = -\tfrac12\log(1-\rho^2)$ whatever the variances; ours
# have unequal variances and nonzero means.

# %%
rows = []
for rho in gauss_rhos:
    sd = np.array([1.7, 0.4])
    cov = np.array([[1, rho], [rho, 1]]) * np.outer(sd, sd)
    exact = interpret.gaussian_mutual_information(cov, [0], [1])
    for _ in range(gauss_reps):
        z = session.rng.multivariate_normal([2.0, -1.0], cov, size=gauss_n)
        gmm = interpret.gmm_mutual_information(z[:, 0], z[:, 1], max_components=max_components, n_mc=n_mc,
                                               rng=session.rng)
        diag = interpret.gmm_mutual_information(z[:, 0], z[:, 1], max_components=max_components, n_mc=n_mc,
                                                covariance_type="diag", rng=session.rng)  # the control, below
        knn = mutual_info_regression(z[:, :1], z[:, 1], random_state=int(session.rng.integers(2**31 - 1)))[0]
        rows.append(dict(rho=rho, exact=exact, gmm=gmm, knn=knn, diag=diag))
gauss = pd.DataFrame(rows).assign(gmm_error=lambda t: t.gmm - t.exact, knn_error=lambda t: t.knn - t.exact)
gauss_max_error = float(gauss.gmm_error.abs().max())
diag_max_error = float((gauss.diag - gauss.exact).abs().max())
print(gauss.drop(columns="diag").round(4).to_string(index=False))
repro.glue("n_gauss", len(gauss))
# the delta method: the plug-in estimate of I has standard deviation ~ rho / sqrt(n)
plug_in_sd = {n: max(gauss_rhos) / np.sqrt(n) for n in (1000, gauss_n)}
repro.glue("plug_in_sd_1000", f"{plug_in_sd[1000]:.3f}")
repro.glue("plug_in_sd_n", f"{plug_in_sd[gauss_n]:.3f}")

# %% [markdown]
# With a single component, (1) is the plug-in Gaussian estimate, whose own sampling error is about
# $\rho/\sqrt n$: {glue:text}`plug_in_sd_1000` nats at $\rho = 0.9$ with 1000 points, so a 0.05-nat bound
# would fail by chance at some seeds whatever the estimator's merit (our first version, at $n = 1000$, did fall at
# one of three further seeds). At $n$ = {glue:text}`gauss_n` it is {glue:text}`plug_in_sd_n`, and the check tests
# the estimator rather than the luck of the sample.
#
# ## A stress test: a known answer with non-Gaussian marginals
#
# Mutual information is unchanged by a monotone map of either variable, so $(e^{x}, y^3)$ with $(x, y)$ Gaussian
# of correlation $\rho$ has the same $I = -\tfrac12\log(1-\rho^2)$ but skewed, heavy-tailed marginals that no
# single Gaussian fits. This is where a mixture would have to earn its keep; we compare it with a single Gaussian
# (`max_components = 1`) and with kNN. The criterion of `CLAIMS.md` is about Gaussian data only, so these errors
# are reported, not asserted.

# %%
rows = []
for rho in gauss_rhos:
    cov = np.array([[1, rho], [rho, 1]])
    exact = interpret.gaussian_mutual_information(cov, [0], [1])
    z = session.rng.multivariate_normal([0.0, 0.0], cov, size=gauss_n)
    xt, yt = np.exp(z[:, 0]), z[:, 1] ** 3
    row = dict(rho=rho, exact=exact)
    for name, k in (("mixture", max_components), ("single_gaussian", 1)):
        row[name] = interpret.gmm_mutual_information(xt, yt, max_components=k, n_mc=n_mc, rng=session.rng)
    row["knn"] = mutual_info_regression(xt[:, None], yt, random_state=int(session.rng.integers(2**31 - 1)))[0]
    rows.append(row)
warped = pd.DataFrame(rows)
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

# %%
x_raw, labels = load_iris(return_X_y=True)
names = ["sepal length", "sepal width", "petal length", "petal width"]
x = torch.as_tensor((x_raw - x_raw.mean(0)) / x_raw.std(0), dtype=torch.float32)


def iris_tables(x, x_raw, y, seed_, *, hidden, epochs, lr, max_components, n_mc, device):
    """Train one network on standardised inputs x and labels y; its GMM and kNN tables (5 inputs: the raw
    measurements x_raw and an ignored noise column; 3 outputs) and its accuracy on the true labels."""
    g = torch.Generator(device=device).manual_seed(seed_)
    net = nets.mlp([4, hidden, 3], activation=torch.nn.Tanh, generator=g)
    nets.train_classifier(net, x, torch.as_tensor(y), epochs=epochs, lr=lr)
    with torch.no_grad():
        out = net(x).double().numpy()
    rng = np.random.default_rng(seed_)
    inputs = np.hstack([x_raw, rng.standard_normal((len(x_raw), 1))])  # column 4: ignored noise
    gmm = interpret.input_output_mi(inputs, out, max_components=max_components, n_mc=n_mc, rng=rng)
    knn = np.stack([mutual_info_regression(inputs, out[:, k], random_state=seed_) for k in range(3)], 1)
    return gmm, knn, nets.accuracy(net, x, torch.as_tensor(y))

# %%
seeds = [1000 * seed + s for s in range(n_seeds)]
settings = dict(hidden=hidden, epochs=epochs, lr=lr, max_components=max_components, n_mc=n_mc, device=device)
trained = [iris_tables(x, x_raw, labels, s, **settings) for s in seeds]
gmm_tables = np.stack([t[0] for t in trained])  # (n_seeds, 5, 3)
knn_tables = np.stack([t[1] for t in trained])
accuracies = [t[2] for t in trained]
print("training accuracy per seed:", np.round(accuracies, 3))
print(pd.DataFrame(gmm_tables.mean(0), index=names + ["noise (ignored)"],
                   columns=["setosa", "versicolor", "virginica"]).round(3))

# %%
fig, axes = plotting.subplots(1, 2, width=7.5, height=3.4, sharey=True)
for ax, tab, title in zip(axes, (gmm_tables, knn_tables), ("GMM/EM (ours)", "kNN (scikit-learn)"), strict=True):
    im = ax.imshow(tab.mean(0), cmap="viridis", vmin=0, vmax=max(gmm_tables.max(), knn_tables.max()))
    ax.set_xticks(range(3), ["setosa", "versicolor", "virginica"], rotation=30)
    ax.set_title(title)
    ax.grid(False)
axes[0].set(yticks=range(5), yticklabels=names + ["noise (ignored)"])
fig.colorbar(im, ax=axes, label=f"I(input; logit), nats, mean of {n_seeds} seeds")
plotting.plt.show()

# %% [markdown]
# *What to see:* for every output unit the two petal measurements carry the most information, the sepal
# measurements less, and the ignored noise least of all; the kNN estimator draws the same picture. The ignored
# input's small positive values are the estimator's bias at $I = 0$ with 150 points.
#
# ## The check and its control
#
# From `CLAIMS.md`: on jointly Gaussian data the estimator is within 0.05 nats of the closed form (all
# {glue:text}`n_gauss` samples here), and on IRIS petal length and petal width are the top two inputs for every
# output unit in at least 4 of 5 seeds. We add, stronger, that the ignored noise input ranks last for every output
# unit at every seed (`ignored_input_last`).
#
# *Control for the Gaussian part: components that cannot correlate.* The same estimator with diagonal covariances
# (BIC still chooses up to `max_components` components), on the very same Gaussian samples: each component treats
# the two coordinates as independent, so only the arrangement of components can carry dependence, and the
# 0.05-nat test must fail.
#
# *Control: shuffled labels.* Networks trained on randomly permuted species have nothing to learn; what they fit
# is noise in whichever inputs happen to help, so no input should be singled out consistently, and the IRIS part
# of the check must fail.

# %%
def top2_petal(tables):
    """Per seed: are petal length and width (columns 2, 3) the top-2 real inputs for every output unit?"""
    top = np.argsort(-tables[:, :4, :], axis=1)[:, :2, :]  # (seeds, 2, outputs)
    return [all(set(t[:, k]) == {2, 3} for k in range(t.shape[1])) for t in top]


def check(tables, gauss_error):
    held = top2_petal(tables)
    return {"gaussian_within_0.05": gauss_error <= 0.05, "petal_top2_in_4_of_5": sum(held) >= 4}, sum(held)


checks, petal_seeds = check(gmm_tables, gauss_max_error)
shuffled = [iris_tables(x, x_raw, np.random.default_rng(s).permutation(labels), s, **settings) for s in seeds]
shuffled_tables = np.stack([t[0] for t in shuffled])
control_checks, control_seeds = check(shuffled_tables, gauss_max_error)
diagonal = {"gaussian_within_0.05": diag_max_error <= 0.05}
ignored_max = float(gmm_tables[:, 4, :].max())
ignored_last = bool((gmm_tables[:, 4, :] < gmm_tables[:, :4, :].min(1)).all())
checks["ignored_input_last"] = ignored_last
knn_petal_seeds = sum(top2_petal(knn_tables))
print(checks, control_checks, diagonal)
print(f"ignored input last: {ignored_last}, max {ignored_max:.3f}; kNN petal top-2 in {knn_petal_seeds} seeds")

# %%
petal = stats.mean_interval(gmm_tables[:, 2:4, :].mean((1, 2)))
sepal = stats.mean_interval(gmm_tables[:, 0:2, :].mean((1, 2)))
repro.record_claim(
    "M1",
    title="Mutual information between a trained network's inputs and outputs from Gaussian mixtures",
    status=repro.grade(checks),
    criterion="on jointly Gaussian data within 0.05 nats of the closed form; on IRIS petal length and width are "
              "the top-2 inputs for every output unit in >= 4/5 seeds",
    checks=checks,
    measured={
        "gauss_max_error": repro.measure(gauss_max_error, tol=0.03, basis="sampling spread of 9 GMM estimates"),
        "gauss_n": gauss_n,
        "warped_mixture_max_error": repro.measure(warped_error["mixture"], tol=0.1, basis="one sample per rho"),
        "warped_knn_max_error": repro.measure(warped_error["knn"], tol=0.05, basis="one sample per rho"),
        "warped_single_gaussian_max_error": repro.measure(warped_error["single_gaussian"], tol=0.1,
                                                          basis="one sample per rho"),
        "petal_top2_seeds": petal_seeds, "n_seeds": n_seeds, "knn_petal_top2_seeds": knn_petal_seeds,
        "petal_mi": repro.measure(petal.value, tol=2 * petal.sem, basis="2 standard errors over seeds"),
        "sepal_mi": repro.measure(sepal.value, tol=2 * sepal.sem, basis="2 standard errors over seeds"),
        "ignored_input_max_mi": repro.measure(ignored_max, tol=0.03, basis="estimator bias at I = 0"),
        "min_accuracy": repro.measure(min(accuracies), tol=0.02, basis="3 flowers of 150"),
    },
    controls={"shuffled_labels": repro.control("networks trained on permuted species", control_checks,
                                               {"petal_top2_seeds": control_seeds,
                                                "max_mi": float(shuffled_tables[:, :4].max())}),
              "diagonal_components": repro.control("the mixture with diagonal covariances on the Gaussian samples",
                                                   diagonal, {"max_error": diag_max_error})},
)
assert all(checks.values()), checks
assert not all(control_checks.values()), "the control passed the check"
assert not all(diagonal.values()), "the diagonal-covariance control passed the Gaussian check"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. On Gaussian pairs the mixture estimator was at most
# {glue:text}`gauss_max_error:.3f` nats from the closed form (where BIC keeps a single component, (1) is a
# parametric estimate). The test can fail: on the same samples, a mixture of components with diagonal
# covariances misses by up to {glue:text}`diagonal_components.max_error:.2f` nats.
#
# The stress test is a miss for the mixture. On monotone-warped Gaussian pairs, whose mutual information we know,
# it is off by up to {glue:text}`warped_mixture_max_error:.2f` nats, far outside the 0.05 standard, and the table
# shows it overestimating weak dependence (spurious structure from fitting skewed marginals with several
# components) and underestimating strong dependence; a single Gaussian errs by up to
# {glue:text}`warped_single_gaussian_max_error:.2f`, and kNN, which needs no density model, by only
# {glue:text}`warped_knn_max_error:.2f`. How much such bias enters the IRIS table below we do not measure; the
# check there uses the ranking of inputs, not the values.
#
# On IRIS, petal length and width were the two most informative inputs
# for all three output units in {glue:text}`petal_top2_seeds` of {glue:text}`n_seeds` seeds (kNN:
# {glue:text}`knn_petal_top2_seeds`), with on average {glue:text}`petal_mi:.2f` nats per petal input and output unit
# against {glue:text}`sepal_mi:.2f` per sepal input; the input the network never sees ranked last everywhere,
# with at most {glue:text}`ignored_input_max_mi:.3f` nats (the estimator's bias at $I = 0$ with 150 points). The check
# can fail: with shuffled labels the petal pair came out on top in {glue:text}`shuffled_labels.petal_top2_seeds` seeds,
# and no input carried more than {glue:text}`shuffled_labels.max_mi:.2f` nats.
#
# What this does and does not show. Mutual information says which inputs *share information* with an output over
# the data, not which ones the network *uses*: the sepal length correlates with the petals, so it shares
# information with the outputs even if the network ignored it. The noise input is the clean case because it is
# independent of everything. IRIS is easy, as the report itself notes; a harder data set is future work for both
# of us.
