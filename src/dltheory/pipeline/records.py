"""Claim records and what makes a page current: the content hashes of its source and of the package it ran.

A page is current when its record's ``source_sha256`` matches the notebook source and its ``package_sha256``
matches the modules of ``src/dltheory`` that the page imports, directly or through other modules. These hashes are
the provenance of a page: they name exactly the code that ran, whether or not it was committed yet. Snakemake sees
staleness through stamps (:func:`sync_stamps`).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import time
from pathlib import Path

from dltheory.pipeline.layout import claim_id, published_path, record_path, sources, stamp_path

__all__ = ["sha256", "dependencies", "package_sha256", "read_record", "records", "published_ids", "stale", "sync_stamps",
           "write_atomic"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _module_file(src: Path, name: str) -> Path | None:
    """The file of module ``name`` (``dltheory.x.y``) under ``src``, a package's ``__init__.py``, or None."""
    base = src.joinpath(*name.split("."))
    for p in (base.with_suffix(".py"), base / "__init__.py"):
        if p.exists():
            return p
    return None


def _imported(path: Path, src: Path) -> set[Path]:
    """The files of the ``dltheory`` modules that ``path`` imports (not following them)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            if name == "dltheory" or name.startswith("dltheory."):
                f = _module_file(src, name)
                if f is not None:
                    found.add(f)
    return found


def _src(root: Path) -> Path:
    """The folder holding the ``dltheory`` package: ``root/src``, or, for a project without its own copy, the
    folder of the installed package that runs its notebooks."""
    if (root / "src" / "dltheory" / "__init__.py").exists():
        return root / "src"
    import dltheory

    return Path(dltheory.__file__).resolve().parents[1]


def dependencies(root: Path, source: Path) -> list[Path]:
    """Every file of ``src/dltheory`` that ``source`` imports, directly or through other modules, with the
    package's ``__init__.py`` and each module's C companions (``portable_vml.c`` beside ``portable.py``); sorted."""
    src = _src(root)
    todo = {src / "dltheory" / "__init__.py", *_imported(source, src)}
    seen: set[Path] = set()
    while todo:
        f = todo.pop()
        if f not in seen:
            seen.add(f)
            todo |= _imported(f, src) - seen
    return sorted(seen | {c for f in seen for c in f.parent.glob(f"{f.stem}_*.c")})


def package_sha256(root: Path, source: Path | None = None) -> str:
    """One hash over files of ``src/dltheory`` (names and contents): those that ``source`` depends on
    (:func:`dependencies`), or the whole package without a source."""
    src = _src(root)
    files = (dependencies(root, source) if source is not None
             else sorted(p for p in (src / "dltheory").rglob("*") if p.suffix in (".py", ".c")))
    h = hashlib.sha256()
    for p in files:
        h.update(str(p.relative_to(src.parent)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def read_record(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def records(root: Path) -> dict[str, dict]:
    """Every published claim record, by id."""
    return {p.stem: json.loads(p.read_text()) for p in sorted((root / "book" / "_claims").glob("*.json"))}


def published_ids(root: Path) -> list[str]:
    """The ids of the claims whose source has a published record, in source order."""
    return [claim_id(s) for s in sources(root) if record_path(root, claim_id(s)).exists()]


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and move it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def stale(root: Path, *, package: bool = False) -> list[str]:
    """Why each published page is out of date with its source (empty when the book is current).

    A page is stale if it or its claim record is missing, or the record's ``source_sha256`` differs from the
    source; with ``package=True`` also if the modules it imports changed since it was executed.
    """
    problems = []
    for s in sources(root):
        rel = s.relative_to(root)
        rec = read_record(record_path(root, claim_id(s)))
        if not published_path(root, s).exists():
            problems.append(f"{rel}: no executed page at {published_path(root, s).relative_to(root)}")
        elif rec is None:
            problems.append(f"{rel}: no claim record book/_claims/{claim_id(s)}.json")
        elif rec.get("source_sha256") != sha256(s):
            problems.append(f"{rel}: changed since it was executed (source_sha256 differs)")
        elif package and rec.get("package_sha256") != package_sha256(root, s):
            problems.append(f"{rel}: the src/dltheory modules it imports changed since it was executed "
                            "(package_sha256 differs)")
    return problems


def sync_stamps(root: Path) -> list[Path]:
    """Make Snakemake's view agree with content: a stamp, newer than its inputs, for every page that is current
    with its source and the package; no stamp for a stale one. Returns the stale sources."""
    todo = []
    now = time.time()
    for s in sources(root):
        stamp = stamp_path(root, s)
        rec = read_record(record_path(root, claim_id(s)))
        fresh = (published_path(root, s).exists() and rec is not None
                 and rec.get("source_sha256") == sha256(s) and rec.get("package_sha256") == package_sha256(root, s))
        if fresh:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
            os.utime(stamp, (now, now))
        else:
            stamp.unlink(missing_ok=True)
            todo.append(s)
    return todo
