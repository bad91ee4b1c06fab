"""Where things are: ``notebooks/<part>/<id>-<slug>.py`` is published as ``book/<part>/<id>-<slug>.ipynb`` with
its claim record ``book/_claims/<ID>.json``; ``book/claims.yml`` catalogues every claim, executed or not."""

from __future__ import annotations

from pathlib import Path

from dltheory.pipeline import BadInput

__all__ = ["project_root", "sources", "claim_id", "find_source", "published_path", "record_path", "stamp_path",
           "catalogue", "SCALES", "scale_of", "scaled_root"]

SCALES = ("smoke", "published", "paper")


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (default: the working folder) holding ``notebooks/`` and ``book/``."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "notebooks").is_dir() and (d / "book").is_dir():
            return d
    raise BadInput(f"no dltheory project (a folder with notebooks/ and book/) at or above {here}")


def sources(root: Path) -> list[Path]:
    """Every notebook source, sorted."""
    return sorted((root / "notebooks").glob("*/*.py"))


def claim_id(source: Path | str) -> str:
    """``notebooks/boltzmann-2015/y2-rbm-marginalisation.py`` (or its stem) -> ``"Y2"``."""
    return Path(source).name.split("-", 1)[0].upper()


def find_source(root: Path, name: str) -> Path:
    """The source of claim ``name`` (an id such as ``Y2``, or a file stem); :class:`BadInput` if none."""
    found = [s for s in sources(root) if name.upper() in (claim_id(s), s.stem.upper())]
    if len(found) != 1:
        known = ", ".join(claim_id(s) for s in sources(root)) or "none"
        raise BadInput(f"unknown notebook {name!r} (known: {known})")
    return found[0]


def published_path(root: Path, source: Path) -> Path:
    """Where the executed page of ``source`` is published."""
    return root / "book" / source.parent.name / f"{source.stem}.ipynb"


def record_path(root: Path, cid: str) -> Path:
    """Where the claim record of ``cid`` is published."""
    return root / "book" / "_claims" / f"{cid}.json"


def stamp_path(root: Path, source: Path) -> Path:
    """Snakemake's output for ``source``: a stamp, so that Snakemake never deletes a published page."""
    return root / "_build" / "stamps" / source.parent.name / f"{source.stem}.done"


def catalogue(root: Path) -> dict:
    """``book/claims.yml``: every claim's part and title, and every part's report number and title."""
    import yaml

    cat = yaml.safe_load((root / "book" / "claims.yml").read_text())
    cat["claims"] = cat.get("claims") or {}  # a project with no claim yet
    return cat


def scale_of(root: Path, cid: str, scale: str) -> dict:
    """What the catalogue declares for claim ``cid`` at ``scale``: ``{"parameters": {...}, "runtime_min": ...,
    "mem_mb": ..., "gpus": ...}``. ``published`` is the notebook's own defaults; ``smoke`` (a few seconds, every
    code path) and ``paper`` (the papers' own sizes where known) override some of them."""
    if scale not in SCALES:
        raise BadInput(f"unknown scale {scale!r} (known: {', '.join(SCALES)})")
    entry = catalogue(root)["claims"].get(cid, {})
    declared = dict(entry.get("scales", {}).get(scale, {}))
    if scale != "published" and not declared:
        raise BadInput(f"{cid} declares no {scale!r} scale in book/claims.yml")
    declared.setdefault("parameters", {})
    return declared


def scaled_root(root: Path, scale: str) -> Path:
    """Where a run at ``scale`` lands (never ``book/``): ``_build/scaled/<scale>/``."""
    return root / "_build" / "scaled" / scale
