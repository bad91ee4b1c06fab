"""The publishing pipeline: notebook sources -> executed pages + claim records -> status page.

A source ``notebooks/<part>/<id>-<slug>.py`` (jupytext percent) is executed by papermill into
``book/<part>/<id>-<slug>.ipynb``; the notebook's :func:`dltheory.repro.record_claim` writes the claim record,
which the runner completes with provenance and moves to ``book/_claims/<ID>.json``. Everything is written to a
temporary file beside its destination and moved into place only after the whole notebook succeeded, so a
failing run never touches what was published.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from dltheory.repro import STATUSES

__all__ = [
    "PipelineError",
    "BadInput",
    "CellFailed",
    "project_root",
    "sources",
    "find_source",
    "claim_id",
    "published_path",
    "read_parameters",
    "coerce_parameters",
    "execute",
    "provenance_markdown",
    "catalogue",
    "sha256",
    "package_sha256",
    "stale",
    "sync_stamps",
    "stamp_path",
    "status_page",
    "generated_pages",
    "write_status",
]



class PipelineError(Exception):
    """A pipeline failure with a one-line message."""

    exit_code = 1


class BadInput(PipelineError):
    """Unknown notebook or parameter, or a value of the wrong type (exit code 2)."""

    exit_code = 2


class CellFailed(PipelineError):
    """A notebook cell raised (exit code 1)."""


def project_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` (default: cwd) holding ``notebooks/`` and ``book/``."""
    here = (start or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if (d / "notebooks").is_dir() and (d / "book").is_dir():
            return d
    raise BadInput(f"no dltheory project (a folder with notebooks/ and book/) at or above {here}")


def sources(root: Path) -> list[Path]:
    """Every notebook source, sorted: ``notebooks/<part>/<id>-<slug>.py``."""
    return sorted((root / "notebooks").glob("*/*.py"))


def claim_id(source: Path) -> str:
    """``notebooks/boltzmann-2015/y2-rbm-marginalisation.py`` -> ``"Y2"``."""
    return source.stem.split("-", 1)[0].upper()


def find_source(root: Path, name: str) -> Path:
    """The source of claim ``name`` (an id such as ``Y2``, or a file stem); :class:`BadInput` if none."""
    found = [s for s in sources(root) if name.upper() in (claim_id(s), s.stem.upper())]
    if len(found) != 1:
        known = ", ".join(claim_id(s) for s in sources(root)) or "none"
        raise BadInput(f"unknown notebook {name!r} (known: {known})")
    return found[0]


def published_path(root: Path, source: Path) -> Path:
    """Where the executed page of ``source`` is published: ``book/<part>/<stem>.ipynb``."""
    return root / "book" / source.parent.name / f"{source.stem}.ipynb"


def _read_notebook(source: Path):
    import jupytext

    return jupytext.read(source)


def read_parameters(source: Path) -> dict:
    """Names and default values assigned in the cell tagged ``parameters`` (literals only)."""
    cells = [c for c in _read_notebook(source).cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise BadInput(f"{source}: expected one cell tagged 'parameters', found {len(cells)}")
    params = {}
    for node in ast.parse(cells[0].source).body:
        if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)):
            raise BadInput(f"{source}: line {node.lineno} of the parameters cell is not 'name = literal'")
        try:
            params[node.targets[0].id] = ast.literal_eval(node.value)
        except ValueError:
            raise BadInput(f"{source}: parameter {node.targets[0].id!r} is not a literal") from None
    return params


def coerce_parameters(name: str, defaults: dict, overrides: list[tuple[str, str]]) -> dict:
    """Turn ``-p NAME VALUE`` strings into values of the defaults' types; :class:`BadInput` on any misfit."""
    out = {}
    for key, text in overrides:
        if key not in defaults:
            raise BadInput(f"{name} has no parameter {key!r} (known: {', '.join(defaults)})")
        kind = type(defaults[key])
        try:
            if kind is bool:
                if text.lower() not in ("true", "false", "1", "0"):
                    raise ValueError
                value = text.lower() in ("true", "1")
            elif kind in (int, float, str):
                value = kind(text)
            else:
                value = ast.literal_eval(text)
                if type(value) is not kind:
                    raise ValueError
        except (ValueError, SyntaxError):
            raise BadInput(f"parameter {key!r} of {name} expects a {kind.__name__}, got {text!r}") from None
        out[key] = value
    return out


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_sha256(root: Path) -> str:
    """One hash over every file of ``src/dltheory`` (names and contents): the code every notebook ran."""
    h = hashlib.sha256()
    for p in sorted((root / "src" / "dltheory").rglob("*.py")):
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _commit(root: Path) -> str:
    """``git describe --always --dirty`` of the project: the commit executed at, ``-dirty`` if edited since."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=12"], cwd=root,
                             capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def provenance_markdown(record: dict, page: Path, root: Path) -> str:
    """The provenance note put under a page's title, from its claim record (never typed by hand)."""
    source = root / record["source"]
    rel = os.path.relpath(source, page.parent)
    params = ", ".join(f"`{k}={v!r}`" for k, v in record["parameters"].items())
    commit = record["commit"]
    at = (f"commit `{commit.removesuffix('-dirty')}` plus uncommitted edits" if commit.endswith("-dirty")
          else f"commit `{commit}`")
    return "\n".join([
        ":::{admonition} Provenance",
        ":class: note",
        f"**Claim {record['id']}: {record['status']}.** Executed with `python -m dltheory run {record['id']}` on "
        f"{record['executed']} at {at}, in {record['wall_seconds']} s on one CPU thread "
        f"(Python {record['python']}, torch {record['torch']}).",
        f"Source: {{download}}`{source.name} <{rel}>` (sha256 `{record['source_sha256'][:12]}`); "
        f"parameters: {params}.",
        ":::",
    ])


def _kernel_env(claims_dir: Path) -> dict:
    env = dict(os.environ)
    env.update({
        "DLTHEORY_CLAIMS_DIR": str(claims_dir),
        # the inline backend, whatever the caller set: with MPLBACKEND=Agg a kernel emits no figures
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
    })
    return env


def _clean(nb) -> None:
    """Hide the injected parameters cell and drop per-cell timings (they change every run)."""
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        meta.pop("papermill", None)
        meta.pop("execution", None)
        tags = meta.get("tags", [])
        if "injected-parameters" in tags and "hide-input" not in tags:
            tags.append("hide-input")


def execute(root: Path, name: str, overrides: list[tuple[str, str]] = (), *,
            out: Path | None = None) -> tuple[Path, Path]:
    """Execute one notebook and publish it atomically with its claim record.

    Parameters
    ----------
    root : the project root.
    name : claim id (``"Y2"``) or source stem.
    overrides : ``(name, value)`` strings as given on the command line.
    out : if given, write the executed notebook and record under this folder and leave ``book/`` untouched.

    Returns
    -------
    (notebook, record) : the paths written.
    """
    import nbformat
    import papermill as pm

    source = find_source(root, name)
    cid = claim_id(source)
    defaults = read_parameters(source)
    params = coerce_parameters(cid, defaults, list(overrides))
    dest_nb = (Path(out) / source.with_suffix(".ipynb").name) if out else published_path(root, source)
    dest_rec = (Path(out) if out else root / "book" / "_claims") / f"{cid}.json"
    for d in (dest_nb.parent, dest_rec.parent):
        d.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(dir=dest_nb.parent, prefix=".run-") as tmp:
        tmp = Path(tmp)
        src_nb = tmp / "source.ipynb"
        nbformat.write(_read_notebook(source), src_nb)
        run_nb = tmp / dest_nb.name
        saved_env = dict(os.environ)
        os.environ.update(_kernel_env(tmp))
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(src_nb, run_nb, parameters=params, kernel_name="python3", language="python",
                                cwd=str(dest_nb.parent), progress_bar=False, log_output=False)
        except pm.PapermillExecutionError as e:
            number, first = _failed_cell(run_nb)
            evalue = str(e.evalue).splitlines()[0] if e.evalue else ""
            kept = ""
            if out:  # a reader trying other settings may inspect the failed run; book/ never gets it
                failed = dest_nb.with_suffix(".failed.ipynb")
                os.replace(run_nb, failed)
                kept = f"; executed notebook kept at {failed}"
            raise CellFailed(f"{source.relative_to(root)}: cell {number} ({first!r}) failed with "
                             f"{e.ename}: {evalue}; published page left unchanged{kept}") from None
        except Exception as e:  # kernel death, bad notebook JSON, ...: still one line, nothing published
            raise CellFailed(f"{source.relative_to(root)}: execution failed ({type(e).__name__}: {e}); "
                             f"published page left unchanged") from None
        finally:
            os.environ.clear()
            os.environ.update(saved_env)
        wall = time.perf_counter() - t0
        tmp_rec = tmp / f"{cid}.json"
        if not tmp_rec.exists():
            raise CellFailed(f"{source.relative_to(root)}: ran but never called record_claim({cid!r}); "
                             f"published page left unchanged")
        record = json.loads(tmp_rec.read_text())
        if record["id"] != cid:
            raise CellFailed(f"{source.relative_to(root)} recorded claim {record['id']!r}, expected {cid!r}")
        merged = {**defaults, **params}
        nb_path = dest_nb.relative_to(root) if dest_nb.is_relative_to(root) else dest_nb
        record.update({
            "seed": merged.get("seed"),
            "parameters": merged,
            "notebook": str(nb_path),
            "source": str(source.relative_to(root)),
            "source_sha256": sha256(source),
            "package_sha256": package_sha256(root),
            "commit": _commit(root),
            "executed": time.strftime("%Y-%m-%d", time.gmtime()),
            "wall_seconds": round(wall, 1),
            "python": platform.python_version(),
            "torch": _torch_version(),
        })
        nb = nbformat.read(run_nb, as_version=4)
        _clean(nb)
        # papermill records its temporary paths; keep the project-relative source and page instead
        nb.metadata.setdefault("papermill", {}).update(input_path=record["source"], output_path=record["notebook"])
        note = nbformat.v4.new_markdown_cell(provenance_markdown(record, dest_nb, root),
                                             metadata={"tags": ["provenance"]})
        nb.cells.insert(1, note)  # right under the title cell
        nbformat.write(nb, run_nb)
        tmp_rec.write_text(json.dumps(record, indent=2) + "\n")
        os.replace(run_nb, dest_nb)
        os.replace(tmp_rec, dest_rec)
    return dest_nb, dest_rec


def _torch_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch")
    except PackageNotFoundError:
        return "absent"


def _failed_cell(nb_path: Path) -> tuple[int, str]:
    """Number (1-based, among the source's cells) and first line of the cell whose output is an error."""
    import nbformat

    cells = [c for c in nbformat.read(nb_path, as_version=4).cells
             if "papermill-error-cell-tag" not in c.metadata.get("tags", [])
             and "injected-parameters" not in c.metadata.get("tags", [])]
    for number, cell in enumerate(cells, 1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
            return number, first[:60]
    return 0, ""


def _record(root: Path, source: Path) -> dict | None:
    p = root / "book" / "_claims" / f"{claim_id(source)}.json"
    return json.loads(p.read_text()) if p.exists() else None


def stale(root: Path, *, package: bool = False) -> list[str]:
    """Why each published page is out of date with its source (empty when the book is current).

    A page is stale if it or its claim record is missing, or the record's ``source_sha256`` differs from the
    source; with ``package=True`` also if ``src/dltheory`` changed since it was executed.
    """
    problems = []
    pkg = package_sha256(root) if package else None
    for s in sources(root):
        rel = s.relative_to(root)
        rec = _record(root, s)
        if not published_path(root, s).exists():
            problems.append(f"{rel}: no executed page at {published_path(root, s).relative_to(root)}")
        elif rec is None:
            problems.append(f"{rel}: no claim record book/_claims/{claim_id(s)}.json")
        elif rec.get("source_sha256") != sha256(s):
            problems.append(f"{rel}: changed since it was executed (source_sha256 differs)")
        elif package and rec.get("package_sha256") != pkg:
            problems.append(f"{rel}: src/dltheory changed since it was executed (package_sha256 differs)")
    return problems


def stamp_path(root: Path, source: Path) -> Path:
    return root / "_build" / "stamps" / source.parent.name / f"{source.stem}.done"


def sync_stamps(root: Path) -> list[Path]:
    """Make Snakemake's view agree with content: a stamp, newer than its inputs, for every page that is current
    with its source and the package; no stamp for a stale one. Returns the stale sources."""
    todo = []
    pkg = package_sha256(root)
    now = time.time()
    for s in sources(root):
        stamp = stamp_path(root, s)
        rec = _record(root, s)
        fresh = (published_path(root, s).exists() and rec is not None
                 and rec.get("source_sha256") == sha256(s) and rec.get("package_sha256") == pkg)
        if fresh:
            stamp.parent.mkdir(parents=True, exist_ok=True)
            stamp.touch()
            os.utime(stamp, (now, now))
        else:
            stamp.unlink(missing_ok=True)
            todo.append(s)
    return todo


def catalogue(root: Path) -> dict:
    """``book/claims.yml``: every claim's part and title, and every part's report number and title."""
    import yaml

    return yaml.safe_load((root / "book" / "claims.yml").read_text())


def _records(root: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted((root / "book" / "_claims").glob("*.json"))}


def _rows(root: Path, part: str | None = None, *, compact: bool = False) -> list[str]:
    """One Markdown table row per claim of the catalogue (of ``part`` if given): status from its record;
    ``compact`` leaves out the figures and seconds."""
    cat, recs = catalogue(root), _records(root)
    pages = {claim_id(s): published_path(root, s) for s in sources(root)}
    here = root / "book" / part if part else root / "book"
    rows = []
    for cid, entry in cat["claims"].items():
        if part and entry["part"] != part:
            continue
        rec = recs.get(cid)
        link = (f"[{cid}]({os.path.relpath(pages[cid], here)})" if cid in pages and rec else cid)
        report = cat["parts"][entry["part"]]
        cells = [link] if part else [link, f"[{report['report']}]({entry['part']}/index.md)"]
        status = f"**{rec['status']}**" if rec else "*not yet executed*"
        cells += [entry["title"], status]
        if not compact:
            figures = "; ".join(f"{k} = {v:.4g}" for k, v in list(rec["measured"].items())[:3]) if rec else ""
            cells += [figures, f"{rec.get('wall_seconds', '')}" if rec else ""]
        rows.append("| " + " | ".join(cells) + " |")
    return rows


TABLE_START, TABLE_END = "<!-- claims table: generated by `python -m dltheory status` -->", "<!-- end claims table -->"


def status_page(root: Path) -> str:
    """The Markdown of ``book/status.md``: every claim of the catalogue, status and figures from its record."""
    recs = _records(root)
    counts = {st: sum(r["status"] == st for r in recs.values()) for st in STATUSES}
    summary = ", ".join(f"{n} {st}" for st, n in counts.items() if n) or "none yet"
    n_claims = len(catalogue(root)["claims"])
    return "\n".join([
        "# Status of every claim",
        "",
        f"{len(recs)} of {n_claims} claims executed: {summary}. Generated from the claim records in "
        "`book/_claims/` by `python -m dltheory status`; never edited by hand. Seconds are the wall time of the "
        "whole notebook on one CPU thread.",
        "",
        TABLE_START,
        "| claim | report | result | status | key figures | seconds |",
        "|---|---|---|---|---|---|",
        *_rows(root),
        TABLE_END,
        "",
    ])


def _with_table(text: str, header: str, rows: list[str]) -> str:
    """``text`` with the block between the table markers replaced by a table of ``header`` and ``rows``."""
    if TABLE_START not in text or TABLE_END not in text:
        raise PipelineError(f"page lacks the markers {TABLE_START!r} ... {TABLE_END!r}")
    head, rest = text.split(TABLE_START, 1)
    tail = rest.split(TABLE_END, 1)[1]
    rule = "|" + "---|" * header.count("|", 1)
    return head + TABLE_START + "\n" + "\n".join([header, rule, *rows]) + "\n" + TABLE_END + tail


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def generated_pages(root: Path) -> dict[Path, str]:
    """What ``python -m dltheory status`` writes: ``book/status.md``, the claims table of each report page
    (``book/<part>/index.md``) and the front page's compact table (``book/intro.md``)."""
    pages = {}
    for part in catalogue(root)["parts"]:
        index = root / "book" / part / "index.md"
        if index.exists():
            header = "| claim | result | status | key figures | seconds |"
            pages[index] = _with_table(index.read_text(), header, _rows(root, part))
    intro = root / "book" / "intro.md"
    if intro.exists():
        pages[intro] = _with_table(intro.read_text(), "| claim | report | result | status |",
                                   _rows(root, compact=True))
    pages[root / "book" / "status.md"] = status_page(root)
    return pages


def write_status(root: Path) -> Path:
    """Regenerate every page of :func:`generated_pages`, each atomically; returns the status page's path."""
    for path, text in generated_pages(root).items():
        _write_atomic(path, text)
    return root / "book" / "status.md"
