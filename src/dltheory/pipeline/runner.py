"""Execute one notebook in the portable kernel and publish it, with its claim record, atomically.

Papermill runs in a child process whose environment names the folder for the claim record; the kernel it starts is
``dltheory`` (:mod:`dltheory.portable`), whose spec carries the portable-numerics settings, so nothing here
changes this process's environment. Everything is written to a temporary folder beside its destination and moved
into place only after the whole notebook succeeded: a failing run never touches what was published.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from dltheory import portable
from dltheory.pipeline import CellFailed
from dltheory.pipeline.layout import claim_id, find_source, published_path, record_path, scale_of, scaled_root
from dltheory.pipeline.pages import code_behind_markdown, provenance_markdown, repository
from dltheory.pipeline.parameters import coerce_parameters, read_notebook, read_parameters
from dltheory.pipeline.records import dependencies, package_sha256, sha256
from dltheory.verdicts import CLAIMS_DIR_ENV

__all__ = ["execute", "machine"]


def machine() -> str:
    """The CPU's model name, for the provenance note (e.g. ``AMD EPYC``)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_state(root: Path, paths: list[Path]) -> tuple[str | None, list[str]]:
    """The commit checked out at ``root`` (None outside a git checkout) and which of ``paths`` (files or folders)
    hold changes not in it: what a page's record needs to name exactly the code that ran."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *map(str, paths)], cwd=root,
                               capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None, []
    return head.stdout.strip(), sorted({ln[3:].strip() for ln in dirty.stdout.splitlines() if ln.strip()})


def install_cell(root: Path):
    """The code cell a fresh kernel (Colab, a laptop without the package) runs first: it installs the package this
    page imports from the repository named in ``_config.yml``, and does nothing where the package is present. Not
    part of the computation: nbval skips it and the rendered page hides it."""
    import nbformat

    url, branch = repository(root)
    if not url:
        return None
    source = ("# Colab or a fresh kernel: install the package this page imports (does nothing where it is present)\n"
              "try:\n    import dltheory\nexcept ImportError:\n"
              f"    %pip install --quiet \"dltheory[peers] @ git+{url}@{branch}\"")
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["install", "remove-cell", "nbval-skip"]})


def _clean(nb) -> None:
    """Hide the injected parameters cell and drop per-cell timings (they change every run)."""
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
        tags = meta.get("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")


def _failure(nb_path: Path) -> tuple[int, str, str] | None:
    """Number (1-based, among the source's cells), first line and ``Error: message`` of the failed cell."""
    import nbformat

    if not nb_path.exists():
        return None
    cells = [c for c in nbformat.read(nb_path, as_version=4).cells
             if not {"papermill-error-cell-tag", "injected-parameters"} & set(c.metadata.get("tags", []))]
    for number, cell in enumerate(cells, 1):
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
                evalue = (o.get("evalue") or "").splitlines()
                return number, first[:60], f"{o.get('ename')}: {evalue[0] if evalue else ''}"
    return None


def _provenance(root: Path, source: Path) -> dict:
    """What the run is about to execute, taken before it starts (an edit during a run must not be credited to it):
    the commit, the files changed since it, and the hashes of the source and of the modules it imports."""
    commit, uncommitted = git_state(root, [source, *dependencies(root, source)])
    return {"commit": commit, "uncommitted": uncommitted, "source_sha256": sha256(source),
            "package_sha256": package_sha256(root, source)}


def _complete(record: dict, *, params: dict, dest_nb: Path, source: Path, root: Path, wall: float,
              kernel: str, provenance: dict) -> dict:
    """The record as the notebook wrote it plus what only the runner knows (``provenance`` from before the run)."""
    rel = dest_nb.relative_to(root) if dest_nb.is_relative_to(root) else dest_nb
    from importlib.metadata import PackageNotFoundError, version

    try:
        torch_version = version("torch")
    except PackageNotFoundError:
        torch_version = "absent"
    return {
        **record,
        "commit": provenance["commit"],
        "uncommitted": provenance["uncommitted"],
        "seed": params.get("seed"),
        "parameters": params,
        "notebook": str(rel),
        "source": str(source.relative_to(root)),
        "source_sha256": provenance["source_sha256"],
        "package_sha256": provenance["package_sha256"],
        "executed": time.strftime("%Y-%m-%d", time.gmtime()),
        "wall_seconds": round(wall, 1),
        "kernel": kernel,
        "machine": machine(),
        "python": platform.python_version(),
        "torch": torch_version,
    }


def execute(root: Path, name: str, overrides: list[tuple[str, str]] = (), *, out: Path | None = None,
            cpu: str | None = None, scale: str | None = None) -> tuple[Path, Path]:
    """Execute one notebook and publish it atomically with its claim record.

    Parameters
    ----------
    root : the project root.
    name : claim id (``"Y2"``) or source stem.
    overrides : ``(name, value)`` strings as given on the command line.
    out : write the executed notebook and record under this folder and leave ``book/`` untouched. If a cell
        fails there (or in a scaled run's folder), the executed notebook is kept as ``<page>.failed.ipynb`` and a
        claim record written before the failure (a check's ``assert`` after ``record_claim``) is kept too, with
        the failure in ``"failed"``; they replace what an earlier run left there. A claim that falls at another
        size or seed thus leaves its record; a failure in ``book/`` leaves the published page as it was.
    cpu : execute on an emulated CPU (a ``qemu-x86_64 -cpu`` model) instead of this one.
    scale : ``smoke``, ``published`` or ``paper`` (:func:`layout.scale_of`): its parameters, then ``overrides``.
        At ``smoke`` the kernel runs with asserts off (``PYTHONOPTIMIZE``): the sizes are too small to decide a
        claim, so the run exercises every code path and its record says what it found.
        Without ``out`` the run lands in ``_build/scaled/<scale>/<part>/`` and its record in
        ``_build/scaled/<scale>/_claims/``; ``book/`` is never touched.

    Returns
    -------
    (notebook, record) : the paths written.
    """
    import nbformat

    source = find_source(root, name)
    cid = claim_id(source)
    defaults = read_parameters(source)
    out = Path(out).resolve() if out else None  # the kernel runs in the out folder: resolve from here, once
    scaled = {}
    if scale is not None:
        declared = scale_of(root, cid, scale)["parameters"]
        scaled = coerce_parameters(cid, defaults, [(k, repr(v) if isinstance(v, list | tuple | dict) else str(v))
                                                   for k, v in declared.items()])
    params = {**defaults, **scaled, **coerce_parameters(cid, defaults, list(overrides))}
    if out is None and scale is not None:
        dest_nb = scaled_root(root, scale) / source.parent.name / source.with_suffix(".ipynb").name
        dest_rec = scaled_root(root, scale) / "_claims" / f"{cid}.json"
    else:
        dest_nb = (Path(out) / source.with_suffix(".ipynb").name) if out else published_path(root, source)
        dest_rec = Path(out) / f"{cid}.json" if out else record_path(root, cid)
    for d in (dest_nb.parent, dest_rec.parent):
        d.mkdir(parents=True, exist_ok=True)
    portable.install_kernel(cpu)
    kernel = portable.kernel_name(cpu)
    rel_source = source.relative_to(root)

    with tempfile.TemporaryDirectory(dir=dest_nb.parent, prefix=".run-") as tmp:
        tmp = Path(tmp)
        src_nb, run_nb, par = tmp / "source.ipynb", tmp / dest_nb.name, tmp / "parameters.yml"
        provenance = _provenance(root, source)
        nbformat.write(read_notebook(source), src_nb)
        par.write_text(yaml.safe_dump(params))  # papermill reads YAML: JSON's 1e-08 would come back a string
        cmd = [sys.executable, "-m", "papermill", str(src_nb), str(run_nb), "-f", str(par), "-k", kernel,
               "-l", "python", "--cwd", str(dest_nb.parent), "--no-progress-bar", "--no-log-output",
               "--log-level", "ERROR", "--start-timeout", "600"]
        t0 = time.perf_counter()
        env = {**os.environ, CLAIMS_DIR_ENV: str(tmp)}
        if scale == "smoke":  # sizes too small to decide: every code path runs, the record says what it found
            env["PYTHONOPTIMIZE"] = "1"  # and the verdict's asserts are off
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        tmp_rec = tmp / f"{cid}.json"
        if proc.returncode != 0:
            failed = _failure(run_nb)
            if failed is None:
                last = next((ln for ln in reversed(proc.stderr.splitlines()) if ln.strip()), "no output")
                raise CellFailed(f"{rel_source}: execution failed ({last.strip()}); published page left unchanged")
            number, first, error = failed
            kept = ""
            if out or scale is not None:  # the failed run and its record can be inspected; book/ never gets them
                for stale in (dest_nb, dest_rec):
                    stale.unlink(missing_ok=True)
                os.replace(run_nb, dest_nb.with_suffix(".failed.ipynb"))
                kept = f"; executed notebook kept at {dest_nb.with_suffix('.failed.ipynb')}"
                if tmp_rec.exists():
                    record = _complete(json.loads(tmp_rec.read_text()), params=params, dest_nb=dest_nb,
                                       source=source, root=root, wall=wall, kernel=kernel, provenance=provenance)
                    record["failed"] = f"cell {number}: {error}"
                    dest_rec.write_text(json.dumps(record, indent=2) + "\n")
                    kept += f", its claim record at {dest_rec}"
            raise CellFailed(f"{rel_source}: cell {number} ({first!r}) failed with {error}; "
                             f"published page left unchanged{kept}")
        if not tmp_rec.exists():
            raise CellFailed(f"{rel_source}: ran but never called record_claim({cid!r}); published page left unchanged")
        record = json.loads(tmp_rec.read_text())
        if record["id"] != cid:
            raise CellFailed(f"{rel_source} recorded claim {record['id']!r}, expected {cid!r}")
        record = _complete(record, params=params, dest_nb=dest_nb, source=source, root=root, wall=wall,
                           kernel=kernel, provenance=provenance)
        record["scale"] = scale or "published"
        nb = nbformat.read(run_nb, as_version=4)
        _clean(nb)
        # papermill records its temporary paths; keep the project-relative source and page instead
        nb.metadata.setdefault("papermill", {}).update(input_path=record["source"], output_path=record["notebook"])
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(provenance_markdown(record, dest_nb, root),
                                                         metadata={"tags": ["provenance"]}))
        cell = install_cell(root)
        if cell is not None:
            nb.cells.insert(2, cell)
        nb.cells.append(nbformat.v4.new_markdown_cell(code_behind_markdown(root, source, record),
                                                      metadata={"tags": ["code-behind"]}))
        nbformat.write(nb, run_nb)
        tmp_rec.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(run_nb, dest_nb)
        os.replace(tmp_rec, dest_rec)
    return dest_nb, dest_rec
