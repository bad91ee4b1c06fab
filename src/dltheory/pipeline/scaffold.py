"""``python -m dltheory new``: a new result page from the house template, registered in the catalogue and the toc.

The template already follows the pattern of CONTRIBUTING.md (parameters cell, derived streams, an evidence and a
sanity check, a near-miss control, the record, the assert, glued prose), so a new page runs and publishes before a
line of its science is written; the author then replaces the example computation with the claim's own.
"""

from __future__ import annotations

import re
from pathlib import Path

from dltheory.pipeline import BadInput
from dltheory.pipeline.layout import catalogue, claim_id, sources
from dltheory.pipeline.records import write_atomic

__all__ = ["TEMPLATE", "new_page"]

TEMPLATE = '''# ---
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
# # __ID__ · __TITLE__
#
# **The result.** State the reported result in your own words, and cite the paper
# ({cite}`__REPORT__`; add the paper's own key to `book/references.bib`).
#
# **What we do.** The experiment, in two sentences. *(Template: the example below estimates a mean and checks it
# against the truth; replace it with the claim's computation, its evidence check and its near-miss control.)*
#
# **What is ours.** Which steps follow the paper's own definitions, and which we derived.

# %% tags=["parameters"]
seed = 0
n = 2000  # sample size; say here which rule chose it (each evidence margin above its spread over seeds)
device = "cpu"

# %%
import numpy as np

from dltheory import plotting, repro

session = repro.setup(seed, device=device, cpu_only="numpy only (template)")

# %% [markdown]
# ## The computation
#
# One idea per cell: the formula in Markdown, then the code that computes exactly that.

# %%
x = session.rng_for("sample").normal(1.0, 2.0, n)
estimate, standard_error = x.mean(), x.std(ddof=1) / np.sqrt(n)
fig, ax = plotting.subplots(width=5, height=2.6)
ax.hist(x, bins=40)
ax.axvline(estimate, color="k")
ax.set(xlabel="x", ylabel="count")
plotting.plt.show()

# %% [markdown]
# *What to see:* what the figure shows about the claim.
#
# ## The check and its controls
#
# The evidence check could fail if the method or the claim were wrong; the sanity check is true by construction.
# The near miss is a plausible wrong method that passes the sanity check and must fail the evidence check.

# %%
def checks_for(value: float, sample: np.ndarray, truth: float, se: float) -> dict:
    """The criterion: within three standard errors of the truth (evidence); the sample is finite (sanity)."""
    return {"within_3_se": repro.evidence(abs(value - truth), "<", 3 * se),
            "finite_sample": repro.sanity(bool(np.isfinite(sample).all()))}


checks = checks_for(estimate, x, 1.0, standard_error)
near_miss = checks_for(np.median(np.exp(x)), x, float(np.exp(1.0 + 2.0)), standard_error)  # the wrong moment

# %%
repro.record_claim(
    "__ID__",
    title="__TITLE__",
    status=repro.grade(checks),
    criterion="the catalogue's criterion in words (book/claims.yml)",
    checks=checks,
    measured={"estimate": repro.measure(estimate, tol=2 * standard_error, basis="2 standard errors"), "n": n},
    controls={"wrong_moment": repro.control("median of exp(x) against the mean of exp(x)", near_miss,
                                            kind="near miss")},
)
assert all(c.passed for c in checks.values()), checks
assert not all(c.passed for c in near_miss.values() if c.kind == "evidence"), "the near miss passed"

# %% [markdown]
# ## What we found
#
# Status: **{glue:md}`status`**. The estimate is {glue:text}`estimate:.3f` from {glue:text}`n` draws. Say
# honestly where ours differs from the paper.
'''


def new_page(root: Path, cid: str, part: str, title: str, slug: str | None = None) -> Path:
    """Write ``notebooks/<part>/<id>-<slug>.py`` from :data:`TEMPLATE` and register the claim in
    ``book/claims.yml`` and ``book/_toc.yml`` (under the part's index); returns the source's path."""
    import yaml

    if not re.fullmatch(r"[A-Z][0-9]+", cid):
        raise BadInput(f"claim id {cid!r} is not of the form 'Y2'")
    cat = catalogue(root)
    if part not in cat["parts"]:
        raise BadInput(f"unknown part {part!r} (known: {', '.join(cat['parts'])}); add it to book/claims.yml first")
    if cid in cat["claims"] or any(claim_id(s) == cid for s in sources(root)):
        raise BadInput(f"claim {cid} exists already")
    slug = slug or "-".join(re.findall(r"[a-z0-9]+", title.lower())[:4])
    source = root / "notebooks" / part / f"{cid.lower()}-{slug}.py"
    source.parent.mkdir(parents=True, exist_ok=True)
    report = f"report{cat['parts'][part]['report']}"
    text = TEMPLATE.replace("__ID__", cid).replace("__TITLE__", title.replace('"', "'")).replace("__REPORT__", report)
    source.write_text(text)
    # the catalogue: appended as text, so its comments and layout stay as they are
    entry = {cid: {"part": part, "title": title, "papers": [report],
                   "computes": "What the page computes (in our words).",
                   "criterion": "The acceptance criterion the page asserts (in our words)."}}
    text = (root / "book" / "claims.yml").read_text()
    block = "\n".join("  " + ln for ln in yaml.safe_dump(entry, sort_keys=False, width=110).splitlines())
    write_atomic(root / "book" / "claims.yml", text.rstrip("\n") + "\n" + block + "\n")
    # the toc: a section under the part's index page (only_build_toc_files would silently drop it otherwise)
    toc_path = root / "book" / "_toc.yml"
    toc = yaml.safe_load(toc_path.read_text())
    page = f"{part}/{source.stem}"
    for caption in toc.get("parts", []):
        for chapter in caption.get("chapters", []):
            if chapter.get("file") == f"{part}/index":
                chapter.setdefault("sections", []).append({"file": page})
                break
        else:
            continue
        break
    else:
        raise BadInput(f"book/_toc.yml has no chapter {part}/index to put {page} under")
    write_atomic(toc_path, yaml.safe_dump(toc, sort_keys=False))
    return source
