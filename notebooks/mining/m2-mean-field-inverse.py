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
# # M2 · From a desired output back to the input the network finds most plausible
#
# **The result.** A classifier maps images to classes; asking the reverse, which image the trained network finds
# most plausible for a given class, characterises the network itself rather than one input. Yasuda's grant report
# does this through the Bayesian posterior over inputs given the output, made tractable by mean field; on
# handwritten digits the inferred inputs look like the digits, and the "9" came out ambiguous, which the report
# reads as the network's concept of a nine being less sharp {cite}`report002`. It contrasts this with
# per-example attributions such as SmoothGrad {cite}`smilkov2017smoothgrad`.
#
# **What we do.** Train small networks on binarised 8×8 digits (scikit-learn's bundled set: MNIST cannot be
# downloaded here, so this is a stand-in at lower resolution), put an independent Bernoulli prior on the 64
# pixels, and solve the mean-field equations for the posterior given each class. We classify the ten inferred
# images, correlate them with the class means, rank the classes by ambiguity, and show a SmoothGrad panel (captum
# {cite}`kokhlikyan2020captum`) for contrast, at three training seeds.
#
# **What is ours.** Everything but the idea: we found no paper for this method (the report cites none, and the
# earlier result it extends is not named). The posterior, the plug-in approximation of the network's likelihood
# under the mean-field distribution, the damped fixed point, the ambiguity measure (mean pixel entropy) and the
# checks are ours. The unit tests compare our mean field with the exact posterior marginals by enumeration on a
# network with 10 binary inputs.

# %% tags=["parameters"]
seed = 0
n_seeds = 3  # trained networks
hidden = 32  # tanh units of the 64-32-10 network
epochs = 200
lr = 0.01
weight_decay = 1e-4
damping = 0.2  # mean-field damping
n_iter = 4000  # most mean-field iterations
threshold = 0.5  # pixels (scaled to [0, 1]) above this are on
smooth_samples = 25  # SmoothGrad: noisy copies per example
smooth_noise = 0.15  # SmoothGrad: noise standard deviation
device = "cpu"

# %%
import warnings

import numpy as np
import pandas as pd
import torch

with warnings.catch_warnings():  # captum imports tqdm.auto, which warns that ipywidgets is missing
    warnings.simplefilter("ignore")
    from captum.attr import NoiseTunnel, Saliency

from dltheory import data, interpret, nets, plotting, repro, stats

session = repro.setup(seed, device=device)

# %% [markdown]
# ## The posterior and its mean field
#
# For binary pixels $x \in \{0,1\}^{64}$, a prior $P(x) = \prod_i p_i^{x_i}(1-p_i)^{1-x_i}$ with $p_i$ the pixel's
# frequency in the training images, and the network's class probabilities $P(c \mid x) = \mathrm{softmax}(f(x))_c$,
# Bayes' rule gives the posterior $P(x \mid c) \propto P(c\mid x)\,P(x)$ over $2^{64}$ images. Mean field replaces
# it by independent pixels with means $m_i$, chosen to minimise $\mathrm{KL}(q\,\|\,P(\cdot\mid c))$. The expected
# log-likelihood $\mathbb E_q \log P(c \mid x)$ of a deep network has no closed form; evaluating it at the means,
# $\log P(c \mid m)$, turns the stationarity conditions into
#
# $$
# m_i = \sigma\Big(\log\frac{p_i}{1-p_i} + \frac{\partial \log P(c\mid m)}{\partial m_i}\Big), \tag{1}
# $$
#
# which we iterate with damping from the prior means. The network's gradient pulls each pixel away from its
# prior frequency, as far as that pixel matters for class $c$. We measure how undecided the result is by its
# *ambiguity*, the mean entropy per pixel of $q$ (bits).

# %%
split = data.digits(seed=seed)
x_train, x_test = (split.x_train > threshold).float(), (split.x_test > threshold).float()
prior = interpret.bernoulli_prior_logit(x_train)
class_means = torch.stack([x_train[split.y_train == c].mean(0) for c in range(10)])  # (10, 64)
p0 = torch.sigmoid(prior)


def invert(net, seed_, prior, class_means, damping, n_iter) -> pd.DataFrame:
    """The mean-field inverses of every class as a table (one row per digit)."""
    r = interpret.inverse_summary(net, prior, class_means, damping=damping, n_iter=n_iter)
    return pd.DataFrame(dict(digit=range(10), predicted=r.predicted, prob=r.class_prob, correlation=r.correlation,
                             nearest_centred=r.nearest_centred, ambiguity=r.ambiguity, converged=r.converged,
                             image=list(r.mean), seed=seed_))

# %%
tables, accuracies, networks = [], [], []
for s in range(n_seeds):
    g = torch.Generator(device=device).manual_seed(1000 * seed + s)
    net = nets.mlp([64, hidden, 10], activation=torch.nn.Tanh, generator=g)
    nets.train_classifier(net, x_train, split.y_train, epochs=epochs, lr=lr, weight_decay=weight_decay)
    accuracies.append(nets.accuracy(net, x_test, split.y_test))
    tables.append(invert(net, s, prior, class_means, damping, n_iter))
    networks.append(net)
results = pd.concat(tables, ignore_index=True)
print("test accuracy per seed:", np.round(accuracies, 3))
print(results.drop(columns="image").round(3).to_string(index=False))

# %%
fig, axes = plotting.subplots(3, 10, width=9, height=3.2)
first = results[results.seed == 0]
lim = float(np.abs(np.stack(first.image) - p0.numpy()).max())
for c in range(10):
    img = first.image.iloc[c].reshape(8, 8)
    axes[0, c].imshow(img, cmap="gray_r", vmin=0, vmax=1)
    axes[1, c].imshow(img - p0.numpy().reshape(8, 8), cmap="RdBu_r", vmin=-lim, vmax=lim)
    axes[2, c].imshow(class_means[c].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
    axes[0, c].set_title(str(c))
for ax in axes.flat:
    ax.set(xticks=[], yticks=[])
    ax.grid(False)
for ax, label in zip(axes[:, 0], ("inferred", "minus prior", "class mean"), strict=True):
    ax.set_ylabel(label, fontsize=8)
plotting.plt.show()

# %% [markdown]
# *What to see:* top, the mean-field posterior means for each desired digit (network of seed 0); middle, what the
# network added to the prior (red: pixels turned on, blue: turned off); bottom, the average training image of the
# class. The middle row carries the class-specific strokes; the top row is the prior's average digit plus them.
#
# ## SmoothGrad, for contrast
#
# SmoothGrad averages the input gradient of the class score over noisy copies of *one* example. Below, one test
# image per class and its SmoothGrad map for the true class: it explains that image's classification, while (1)
# describes what the network expects of the whole class.

# %%
examples = torch.stack([x_test[split.y_test == c][0] for c in range(10)])
tunnel = NoiseTunnel(Saliency(networks[0]))
maps = torch.stack([tunnel.attribute(examples[c:c + 1], nt_type="smoothgrad", nt_samples=smooth_samples,
                                     stdevs=smooth_noise, target=c, abs=False)[0] for c in range(10)])
fig, axes = plotting.subplots(2, 10, width=9, height=2.2)
for c in range(10):
    axes[0, c].imshow(examples[c].reshape(8, 8), cmap="gray_r")
    lim = float(maps[c].abs().max())
    axes[1, c].imshow(maps[c].reshape(8, 8).detach(), cmap="RdBu_r", vmin=-lim, vmax=lim)
for ax in axes.flat:
    ax.set(xticks=[], yticks=[])
    ax.grid(False)
axes[0, 0].set_ylabel("example", fontsize=8)
axes[1, 0].set_ylabel("SmoothGrad", fontsize=8)
plotting.plt.show()

# %% [markdown]
# *What to see:* each SmoothGrad map is tied to its example's strokes and changes with the example; the inferred
# images above need no example at all.
#
# ## Ambiguity
#
# The ranking of the classes by ambiguity (1 = most ambiguous), averaged over the seeds. `CLAIMS.md` asks us to
# report, not assert, where the "9" falls.

# %%
results["rank"] = results.groupby("seed").ambiguity.rank(ascending=False)
ranking = results.groupby("digit")[["ambiguity", "rank", "prob"]].mean().sort_values("rank")
nine_rank = float(ranking.loc[9, "rank"])
repro.glue("most_ambiguous", ", ".join(f'"{d}"' for d in ranking.index[:3]))
print(ranking.round(3))
print(f"mean rank of '9': {nine_rank:.1f} of 10")

# %% [markdown]
# ## The check and its control
#
# From `CLAIMS.md`: the inferred input for each class is classified as that class (10/10) and correlates at least
# 0.6 with the class-mean image. We require it of every seed's network. Beside it, a stronger check: after
# removing the prior's average image, the inferred image is closer (in correlation) to its own class mean than to
# any other class's. The fixed point climbs the very network that then classifies it, so "classified as its
# class" is close to true by construction; a second, stronger check shows each seed's inferred images to the
# *other* seeds' networks, which were not consulted in finding them (`classified_by_other_networks`, at least 9 of
# 10 per pair of networks).
#
# *Control: an untrained network.* With random weights the network has learnt nothing about digits; its "most
# plausible inputs" must not look like the classes, and the check must fail.

# %%
def check(table):
    """CLAIMS.md's criterion on a table from `invert` (any number of seeds), and the stronger check."""
    per_seed = table.groupby("seed")
    nearest = bool((table.nearest_centred == table.digit).all())
    return {"classified_10_of_10": bool(per_seed.apply(lambda t: (t.predicted == t.digit).all()).all()),
            "corr_at_least_0.6": bool((table.correlation >= 0.6).all())}, nearest


checks, nearest_own = check(results)
with torch.no_grad():
    cross = [int((other(torch.as_tensor(np.stack(t.image), dtype=torch.float32)).argmax(1) == torch.arange(10)).sum())
             for i, t in enumerate(tables) for j, other in enumerate(networks) if j != i]
checks["classified_by_other_networks"] = min(cross) >= 9
print("classified as their digit by the other seeds' networks:", cross)
g = torch.Generator(device=device).manual_seed(1000 * seed + 999)
control = invert(nets.mlp([64, hidden, 10], activation=torch.nn.Tanh, generator=g), 0, prior, class_means,
                 damping, n_iter)
control_checks, control_nearest = check(control)
print(checks, nearest_own, "| control:", control_checks, control_nearest)

# %%
corr = stats.mean_interval(results.groupby("seed").correlation.min().to_numpy())
repro.record_claim(
    "M2",
    title="Mean-field inverse inference: the input a trained network finds most plausible for each digit",
    status=repro.grade(checks),
    criterion="the inferred input for each class is classified as that class (10/10) and correlates >= 0.6 with "
              "the class-mean image (every seed); the ambiguity ranking and the place of '9' reported",
    checks=checks,
    measured={
        "classified": int((results.predicted == results.digit).sum()), "n_inferred": len(results),
        "n_seeds": n_seeds,
        "min_corr": repro.measure(results.correlation.min(), tol=0.05, basis="spread of the minimum over seeds"),
        "mean_min_corr": repro.measure(corr.value, tol=2 * corr.sem, basis="2 standard errors over seeds"),
        "nearest_own_class": int((results.nearest_centred == results.digit).sum()),
        "cross_classified_min": min(cross),
        "nine_rank": repro.measure(nine_rank, tol=2.0, basis="ranks move by a few places between seeds"),
        "min_test_accuracy": repro.measure(min(accuracies), tol=0.02, basis="about 9 test images of 450"),
        "converged": int(results.converged.sum()),
    },
    controls={"untrained": repro.control("the same inference on a network with random weights", control_checks,
                                         {"classified": int((control.predicted == control.digit).sum()),
                                          "min_corr": float(control.correlation.min()),
                                          "nearest_own_class": int((control.nearest_centred == control.digit).sum())})},
)
assert checks["classified_10_of_10"] and checks["corr_at_least_0.6"] and nearest_own, (checks, nearest_own)
assert not all(control_checks.values()), "the control passed the check"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. Over {glue:text}`n_seeds` trained networks, {glue:text}`classified` of
# {glue:text}`n_inferred` inferred images were classified as the digit they were inferred for, and each correlated
# at least {glue:text}`min_corr:.2f` with its class mean. The stronger check held too: with the prior's average
# image removed, {glue:text}`nearest_own_class` of {glue:text}`n_inferred` were closest to their own class. Shown
# to the networks of the other seeds, which played no part in finding them, each set of ten was classified right
# at least {glue:text}`cross_classified_min` times (`classified_by_other_networks` asks for 9). The
# mean-field iteration converged in {glue:text}`converged` of the {glue:text}`n_inferred` cases (the others
# stopped at the iteration limit, still classified as shown).
#
# The check can fail: for an untrained network only {glue:text}`untrained.classified` of the ten inferred images
# were classified as their digit and only {glue:text}`untrained.nearest_own_class` resembled their own class. Note
# that the criterion's correlation with the raw class mean is a weak test (an untrained network's inferences
# still reached {glue:text}`untrained.min_corr:.2f`), because the prior's average digit already correlates with
# every class mean; the classification and the centred comparison are what separate a trained network from an
# untrained one.
#
# On ambiguity, the "9" ranked {glue:text}`nine_rank:.1f` of 10 on average (1 = most ambiguous); the most
# ambiguous were {glue:md}`most_ambiguous`. Our measure
# differs little between classes, as most pixels stay near their prior; we do not claim to reproduce the report's
# visual impression of the nine, which came from MNIST at 28×28 with a network we do not know.
