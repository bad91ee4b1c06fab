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
# # T3 · Applications to histology and experimental-physics data: out of reach
#
# **The result.** The grant's final report says that the know-how gathered in its computer experiments was used
# in applied work: an entry to the ICIAR 2018 Grand Challenge on breast-cancer histology images, which the report
# says was recognised to some extent, and deep-learning analyses of data from experimental physics, with papers
# still to come {cite}`report004`. It gives no architecture, no data description, no metric and no number.
#
# **Why it is out of reach.** There is nothing to reproduce against and nothing to reproduce with. The challenge's
# images are distributed by its organisers under their own terms and are not among the data sets this book may use
# offline; the physics data are unnamed and, by the report's own account, unpublished. Any stand-in (another
# image set, a simulated detector) would test a different claim, so we use none: this page runs no experiment and
# its record carries no figures, no checks and no controls (an out-of-reach record needs none: there is nothing a
# control could fail). The page computes nothing, so it refuses `device = "cuda"` rather than pretend to use it.
#
# **What would be needed.** The challenge's training images and labels, the submitted model and its reported
# score; for the physics work, the data and the papers the report announces.

# %% tags=["parameters"]
seed = 0
device = "cpu"

# %%
from dltheory import repro

session = repro.setup(seed, device=device, cpu_only="runs no computation: nothing to put on a device")

# %%
repro.record_claim(
    "T3",
    title="Applications to histology and experimental-physics data",
    status="out of reach",
    criterion="out of reach: the data are not public here (ICIAR 2018 histology images under the organisers' "
              "terms; unnamed, unpublished experimental-physics data); the report gives no figures to compare",
    checks={},
    measured={},
    controls={},
)

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. Nothing was run and nothing stands in for the missing data. The report's
# mathematical result is reproduced on its own page ({doc}`t1-residual-initialisation`), and its method,
# random-matrix analysis of weights and Jacobians, on {doc}`t2-weight-spectra`.
