"""The publishing pipeline: CLI contract, atomic publishing, nbval regression detection, staleness, status page."""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT, cli
from dltheory.pipeline import layout, pages, parameters, records

NBVAL = ["--nbval", "--nbval-kernel-name", "dltheory", "--nbval-sanitize-with",
         str(ROOT / "tests" / "nbval_sanitize.cfg")]


def published(project):
    return project / "book" / "scratch" / "z1-throwaway.ipynb", project / "book" / "_claims" / "Z1.json"


def test_unknown_id_is_a_one_line_error_exit_2(project):
    r = cli("run", "Q42", cwd=project)
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0
    assert "unknown notebook 'Q42'" in r.stderr and "Z1" in r.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["-p", "nope", "1"], "Z1 has no parameter 'nope' (known: seed, scale)"),
    (["-p", "seed", "abc"], "parameter 'seed' of Z1 expects a int, got 'abc'"),
])
def test_bad_parameter_is_a_one_line_error_exit_2(project, args, message):
    r = cli("run", "Z1", *args, cwd=project)
    assert r.returncode == 2
    assert r.stderr.strip() == f"dltheory: error: {message}"
    assert not published(project)[0].exists()


def test_run_publishes_page_and_complete_record(project):
    r = cli("run", "Z1", cwd=project)
    assert r.returncode == 0, r.stderr
    page, rec = published(project)
    record = json.loads(rec.read_text())
    src = project / "notebooks" / "scratch" / "z1-throwaway.py"
    assert record["id"] == "Z1" and record["status"] == "reproduced"
    assert record["parameters"] == {"seed": 0, "scale": 2.5} and record["seed"] == 0
    assert record["source_sha256"] == records.sha256(src)
    assert record["notebook"] == "book/scratch/z1-throwaway.ipynb"
    assert "value = " in page.read_text()
    assert "Z1" in (project / "book" / "status.md").read_text()
    assert not list(project.glob("book/**/.run-*")), "temporary files left behind"


def test_out_leaves_the_book_untouched(project, tmp_path_factory):
    assert cli("run", "Z1", cwd=project).returncode == 0
    before = [p.read_bytes() for p in published(project)]
    out = tmp_path_factory.mktemp("out")
    r = cli("run", "Z1", "-p", "seed", "7", "-p", "scale", "1", "--out", str(out), cwd=project)
    assert r.returncode == 0, r.stderr
    assert [p.read_bytes() for p in published(project)] == before
    record = json.loads((out / "Z1.json").read_text())
    assert record["parameters"] == {"seed": 7, "scale": 1.0}
    assert (out / "z1-throwaway.ipynb").exists()


def test_a_relative_out_is_taken_from_where_the_command_runs(project):
    # the kernel runs in the out folder: a relative --out must not be resolved a second time from there
    r = cli("run", "Z1", "-p", "scale", "1", "--out", "runs/paper", cwd=project)
    assert r.returncode == 0, r.stderr
    assert json.loads((project / "runs" / "paper" / "Z1.json").read_text())["parameters"]["scale"] == 1.0
    assert (project / "runs" / "paper" / "z1-throwaway.ipynb").exists()


def test_failing_cell_under_snakemake_keeps_the_published_page(project):
    # publish a good page, break the source, run the build's execution step: it fails naming notebook and
    # cell, and the published page and claim record are byte-for-byte what they were
    assert cli("run", "Z1", cwd=project).returncode == 0
    before = [p.read_bytes() for p in published(project)]
    src = project / "notebooks" / "scratch" / "z1-throwaway.py"
    src.write_text(src.read_text().replace('print(f"value', 'raise ValueError("broken on purpose")\nprint(f"value'))
    assert cli("sync", cwd=project).stdout.strip() == "stale: notebooks/scratch/z1-throwaway.py"
    r = subprocess.run([os.path.join(os.path.dirname(sys.executable), "snakemake"), "--cores", "1"], cwd=project,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0
    log = r.stdout + r.stderr
    assert re.search(r"notebooks/scratch/z1-throwaway\.py: cell 3 \('from dltheory import repro'\) failed with "
                     r"ValueError: broken on purpose; published page left unchanged", log), log
    assert [p.read_bytes() for p in published(project)] == before


def test_failed_run_with_out_keeps_its_notebook_for_inspection(project, tmp_path_factory):
    src = project / "notebooks" / "scratch" / "z1-throwaway.py"
    src.write_text(src.read_text().replace('print(f"value', 'assert scale < 0, "scale too big"\nprint(f"value'))
    out = tmp_path_factory.mktemp("out")
    r = cli("run", "Z1", "--out", str(out), cwd=project)
    assert r.returncode == 1 and "AssertionError: scale too big" in r.stderr
    assert f"kept at {out / 'z1-throwaway.failed.ipynb'}" in r.stderr
    assert (out / "z1-throwaway.failed.ipynb").exists() and not (out / "Z1.json").exists()
    assert not published(project)[0].exists()


def test_a_claim_that_falls_at_another_scale_leaves_its_record_and_status(project):
    # the page asserts its verdict after recording it; at the paper scale the check fails: the run exits 1, its
    # notebook (as .failed) and its record replace the earlier scaled run's, the scaled status page marks the fall,
    # and book/ is never touched
    src = project / "notebooks" / "scratch" / "z1-throwaway.py"
    src.write_text(src.read_text() + "\n# %%\nassert all(c.passed for c in checks.values()), checks\n")
    (project / "book" / "claims.yml").write_text(
        "parts:\n  scratch: {report: '999', title: Scratch}\nclaims:\n  Z1: {part: scratch, title: throwaway, "
        "scales: {paper: {parameters: {scale: 1.0e+6}}}}\n")
    where = project / "_build" / "scaled" / "paper"
    assert cli("run", "Z1", "--scale", "paper", "-p", "scale", "1.0", cwd=project).returncode == 0
    assert (where / "scratch" / "z1-throwaway.ipynb").exists()
    r = cli("run", "Z1", "--scale", "paper", cwd=project)
    assert r.returncode == 1 and "AssertionError" in r.stderr, r.stderr
    assert f"its claim record at {where / '_claims' / 'Z1.json'}" in r.stderr
    assert (where / "scratch" / "z1-throwaway.failed.ipynb").exists()
    assert not (where / "scratch" / "z1-throwaway.ipynb").exists(), "the earlier run's page would pass for this one"
    record = json.loads((where / "_claims" / "Z1.json").read_text())
    assert record["parameters"]["scale"] == 1e6 and record["status"] == "not reproduced"
    assert record["failed"].startswith("cell ") and "AssertionError" in record["failed"]
    assert cli("status", "--scale", "paper", cwd=project).returncode == 0
    row = next(ln for ln in (where / "status.md").read_text().splitlines() if ln.startswith("| [Z1]"))
    assert "(scratch/z1-throwaway.failed.ipynb)" in row and "**fell**" in row and "`bounded`" in row, row
    assert not published(project)[0].exists() and not published(project)[1].exists()


def test_no_change_rebuild_executes_nothing(project):
    # after a run, sync marks the page current and Snakemake has nothing to do; editing a module the page imports
    # makes it stale, adding one it does not import does not
    assert cli("run", "Z1", cwd=project).returncode == 0
    assert cli("sync", cwd=project).stdout == ""
    snakemake = os.path.join(os.path.dirname(sys.executable), "snakemake")
    r = subprocess.run([snakemake, "--cores", "1", "--dry-run"], cwd=project, capture_output=True, text=True)
    assert "Nothing to be done" in r.stdout + r.stderr
    pkg = project / "src" / "dltheory"
    # the modules Z1 imports, as they ran, with portable.py's C companion
    for name in ("__init__.py", "repro.py", "portable.py", "portable_vml.c", "verdicts.py"):
        shutil.copy2(ROOT / "src" / "dltheory" / name, pkg / name)
    assert cli("sync", cwd=project).stdout == ""  # the same code: still current
    (pkg / "new.py").write_text("x = 1\n")  # a module Z1 does not import
    assert cli("sync", cwd=project).stdout == ""
    (pkg / "repro.py").write_text((pkg / "repro.py").read_text() + "\n# an edit\n")
    assert "stale: notebooks/scratch/z1-throwaway.py" in cli("sync", cwd=project).stdout
    r = subprocess.run([snakemake, "--cores", "1", "--dry-run"], cwd=project, capture_output=True, text=True)
    assert "execute" in r.stdout and "Nothing to be done" not in r.stdout


def test_stale_check_fails_when_source_changes(project):
    assert cli("run", "Z1", cwd=project).returncode == 0
    assert cli("stale", cwd=project).returncode == 0
    src = project / "notebooks" / "scratch" / "z1-throwaway.py"
    src.write_text(src.read_text() + "\n# an edit\n")
    r = cli("stale", cwd=project)
    assert r.returncode == 1 and "source_sha256 differs" in r.stdout


def test_nbval_catches_a_changed_result(project):
    # the executed page replays clean; change one stored number and nbval fails on that cell
    assert cli("run", "Z1", cwd=project).returncode == 0
    page = published(project)[0]

    def nbval(path):
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *NBVAL, str(path)],
                              cwd=project, capture_output=True, text=True, timeout=300)

    ok = nbval(page)
    assert ok.returncode == 0, ok.stdout
    nb = json.loads(page.read_text())
    cell = next(c for c in nb["cells"] if any("value = " in "".join(o.get("text", "")) for o in c.get("outputs", [])))
    out = next(o for o in cell["outputs"] if "value = " in "".join(o.get("text", "")))
    out["text"] = [re.sub(r"value = (-?\d)", lambda m: f"value = {(int(m[1][-1]) + 1) % 10}", "".join(out["text"]))]
    tampered = page.with_name("tampered.ipynb")
    tampered.write_text(json.dumps(nb))
    bad = nbval(tampered)
    assert bad.returncode == 1 and "1 failed" in bad.stdout, bad.stdout


def test_status_page_lists_every_claim_record():
    text = pages.status_page(ROOT)
    for rec in (ROOT / "book" / "_claims").glob("*.json"):
        r = json.loads(rec.read_text())
        assert f"| [{r['id']}](" in text and f"**{r['status']}**" in text


def test_robustness_page_marks_runs_from_earlier_code(tmp_path):
    # a run at another seed made before the page's source (or its package code) changed is labelled as such
    rec = {"id": "Z1", "status": "reproduced", "seed": 0, "measured": {"x": 1.0}, "source_sha256": "a",
           "package_sha256": "p"}
    for folder, name, extra in (("_claims", "Z1.json", {}), ("_robustness", "Z1-seed1.json", {"seed": 1}),
                                ("_robustness", "Z1-seed2.json", {"seed": 2, "source_sha256": "old"})):
        (tmp_path / "book" / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / "book" / folder / name).write_text(json.dumps({**rec, **extra}))
    row = next(line for line in pages.robustness_page(tmp_path).splitlines() if line.startswith("| Z1 "))
    seed1, seed2 = row.split(" | ")[3:5]
    assert "earlier code" not in seed1 and "earlier code" in seed2


def _check(value, threshold=0.0, scale=1.0):
    return {"passed": value > threshold, "kind": "evidence", "value": value, "op": ">", "threshold": threshold,
            "margin": value - threshold, "scale": scale}


def test_margin_spread_marks_a_margin_below_its_spread_fragile():
    # published margin 0.5 with seeds at 0.4 and 0.6 is steady; published 0.1 with a seed at -0.3 is fragile
    rec = {"checks": {"steady": _check(0.5), "shaky": _check(0.1), "identity": {**_check(1.0), "kind": "sanity"}}}
    others = {1: {"checks": {"steady": _check(0.4), "shaky": _check(-0.3)}},
              2: {"checks": {"steady": _check(0.6), "shaky": _check(0.2)}}}
    spread = pages.margin_spread(rec, others)
    assert set(spread) == {"steady", "shaky"}, "sanity checks have no place in the forest plot"
    assert spread["steady"] == pytest.approx((0.5, 0.4, 0.6, False))
    assert spread["shaky"][1:3] == pytest.approx((-0.3, 0.2)) and spread["shaky"][3] is True


def test_robustness_page_shows_a_fallen_run_with_its_failing_checks(tmp_path):
    rec = {"id": "Z1", "status": "reproduced", "seed": 0, "measured": {"x": 1.0}, "checks": {"a": _check(0.5)}}
    fell = {**rec, "seed": 1, "status": "not reproduced", "checks": {"a": _check(-0.5)}, "failed": "cell 9: assert"}
    for folder, name, r in (("_claims", "Z1.json", rec), ("_robustness", "Z1-seed1.json", fell)):
        (tmp_path / "book" / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / "book" / folder / name).write_text(json.dumps(r))
    row = next(line for line in pages.robustness_page(tmp_path).splitlines() if line.startswith("| Z1 "))
    assert "**not reproduced**" in row and "**fell**" in row and "`a`" in row


def test_records_declare_kinds_margins_and_a_near_miss():
    # every published record: each check has a kind, value, threshold and margin; a graded claim has evidence
    # and a near-miss negative control; its status is what its evidence grades
    from dltheory import repro

    for path in (ROOT / "book" / "_claims").glob("*.json"):
        r = json.loads(path.read_text())
        if r["status"] == "out of reach":
            continue
        checks = r["checks"]
        assert all(set(c) >= {"passed", "kind", "value", "threshold", "margin"} for c in checks.values()), path.name
        ev = [c["passed"] for c in checks.values() if c["kind"] == "evidence"]
        assert ev, f"{path.name}: no evidence check"
        graded = "reproduced" if all(ev) else ("not reproduced" if not any(ev) else "partially reproduced")
        cap = (r.get("status_cap") or {}).get("cap")
        if r["status"] != "undecided at this size":
            order = ("reproduced", "partially reproduced", "not reproduced")
            expected = order[max(order.index(graded), order.index(cap))] if cap else graded
            assert r["status"] == expected, path.name
        near = [c for c in r["controls"].values() if c.get("kind") == "near miss" and c["expected"] == "fail"]
        assert near, f"{path.name}: no near-miss control"
        assert any(c["sanity_passed"] and c["failed_evidence"] for c in near), \
            f"{path.name}: no near miss that passes the sanity checks and fails an evidence check"
        assert r["status"] in repro.STATUSES


def test_every_page_keeps_its_cpu_budget():
    # 120 s of CPU per page on one thread; at most three pages may declare up to 240 s in book/claims.yml
    claims = layout.catalogue(ROOT)["claims"]
    budgets = {cid: entry.get("budget_cpu_seconds", 120) for cid, entry in claims.items()}
    assert sum(b > 120 for b in budgets.values()) <= 3 and max(budgets.values()) <= 240, budgets
    for path in (ROOT / "book" / "_claims").glob("*.json"):
        r = json.loads(path.read_text())
        assert r["cpu_seconds"] <= budgets[r["id"]], f"{r['id']}: {r['cpu_seconds']} s of CPU > {budgets[r['id']]} s"


def test_generated_pages_are_current():
    # status.md, the report pages' tables and the front page's table match the claim records
    for path, text in pages.generated_pages(ROOT).items():
        assert path.read_text() == text, f"{path.relative_to(ROOT)} is out of date: run python -m dltheory status"


def test_every_claim_record_is_in_the_catalogue():
    claims = layout.catalogue(ROOT)["claims"]
    for rec in (ROOT / "book" / "_claims").glob("*.json"):
        assert rec.stem in claims, f"{rec.name} has no entry in book/claims.yml"
    for src in layout.sources(ROOT):
        assert claims[layout.claim_id(src)]["part"] == src.parent.name, src


def test_environment_yml_agrees_with_requirements():
    # conda users get exactly the pip pins: environment.yml delegates to requirements.txt and pins python 3.11
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict))
    assert pip_section == ["-r requirements.txt", "-e ."]
    assert "python=3.11" in deps and f"{sys.version_info.major}.{sys.version_info.minor}" == "3.11"
    reqs = (ROOT / "requirements.txt").read_text().splitlines()
    assert "torch==2.13.0" in reqs and "jupyter-book==1.0.4.post1" in reqs
    # conda adds only the tools pip cannot install (the C compiler of the portable kernel's vector-math library)
    conda_names = {d.split("=")[0] for d in deps if isinstance(d, str)} - {"python", "pip"}
    assert conda_names <= {"c-compiler"}, f"conda packages would shadow the pins: {conda_names - {'c-compiler'}}"
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[^=\s]+", r) for r in reqs if r and not r.startswith("#"))


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make book" in readme
    assert re.search(r"^make test$", ci, re.M)


def test_sources_have_one_parameters_cell_with_a_seed():
    for src in layout.sources(ROOT):
        params = parameters.read_parameters(src)
        assert isinstance(params.get("seed"), int), src


def test_published_pages_name_no_machine_paths():
    # a warning printing this checkout's absolute path makes nbval fail in any other checkout, and a
    # temporary path in the metadata means nothing to a reader: no page may contain the project's location
    for page in sorted((ROOT / "book").glob("*/*.ipynb")):
        nb = json.loads(page.read_text())
        for i, cell in enumerate(nb["cells"]):
            assert str(ROOT) not in json.dumps(cell.get("outputs", [])), f"{page.name} cell {i} prints a local path"
        assert str(ROOT) not in json.dumps(nb["metadata"]), f"{page.name} metadata holds a local path"


def test_every_notebook_is_published_and_current():
    # the stale check of `make test`: a source edited without re-execution fails here
    assert records.stale(ROOT) == []




def test_parameters_keep_their_types_through_the_runner(project):
    # a float in exponent notation, a list and a bool reach the kernel as the same values and types
    src = project / "notebooks" / "scratch" / "z1-throwaway.py"
    check = 'assert (type(tol), type(sizes), flag) == (float, list, True), tol\n'
    src.write_text(src.read_text().replace("scale = 2.5", "scale = 2.5\ntol = 1e-08\nsizes = [1, 2]\nflag = True")
                   .replace('print(f"value', check + 'print(f"value'))
    r = cli("run", "Z1", "-p", "tol", "1e-09", cwd=project)
    assert r.returncode == 0, r.stderr


@pytest.mark.skipif(not __import__("torch").cuda.is_available(),
                    reason="no CUDA device here: the page's CUDA run is checked only where one is present")
def test_a_page_runs_on_cuda_with_its_published_verdict(tmp_path):
    # the device convention end to end: F2 with `-p device cuda` reaches the status it was published with
    from dltheory.pipeline.runner import execute

    _, rec = execute(ROOT, "F2", [("device", "cuda")], out=tmp_path)
    published = json.loads(layout.record_path(ROOT, "F2").read_text())
    assert json.loads(rec.read_text())["status"] == published["status"]


def test_a_page_depends_on_the_modules_it_imports_and_no_others():
    # T3 imports only repro; K1 imports fisher: a change to fisher must move K1's package hash and not T3's.
    # The closure follows imports between modules (repro imports portable) and takes the C library that
    # portable preloads: a change to the numerics' C code moves every page's hash.
    t3, k1 = (layout.find_source(ROOT, cid) for cid in ("T3", "K1"))
    deps = {p.name for p in records.dependencies(ROOT, t3)}
    assert {"repro.py", "portable.py", "portable_vml.c", "__init__.py"} <= deps and "training.py" not in deps
    k1_deps = {p.name for p in records.dependencies(ROOT, k1)}
    assert {"__init__.py", "network.py", "theory.py", "training.py", "unit.py"} <= k1_deps  # the fisher package


def test_code_behind_links_a_decorated_function_to_its_own_source():
    # interpret's torch.no_grad functions once resolved to torch's wrapper in site-packages
    import inspect

    from dltheory import interpret

    where = pages.code_behind(ROOT, ROOT / "notebooks" / "mining" / "m2-mean-field-inverse.py")
    assert where and all(w["file"].startswith("src/dltheory/") for w in where.values()), where
    for name, w in where.items():
        if name.startswith("interpret."):
            obj = inspect.unwrap(getattr(interpret, name.split(".", 1)[1]))
            assert w["line"] == inspect.getsourcelines(obj)[1]


@pytest.mark.parametrize("command", [["list"], ["stale"], ["status"]])
def test_commands_that_compute_nothing_never_load_torch(command, tmp_path):
    code = ("import sys\nfrom dltheory.cli import main\nmain(%r)\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n" % (command,))
    if command == ["status"]:  # write the pages into a copy, not the book
        shutil.copytree(ROOT / "book", tmp_path / "book")
        shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
        cwd = tmp_path
    else:
        cwd = ROOT
    r = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def _dry_run(cwd, *args):
    snakemake = os.path.join(os.path.dirname(sys.executable), "snakemake")
    r = subprocess.run([snakemake, "-n", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r.stdout + r.stderr


def test_a_fresh_clone_executes_nothing_locally_or_on_slurm(tmp_path):
    # the workflow syncs its stamps with content, so a clone of the committed book has nothing to run
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    for profile in ("profiles/local", "profiles/slurm"):
        assert "Nothing to be done" in _dry_run(clone, "--profile", profile), profile


def test_a_scaled_run_plans_every_page_with_its_resources_and_leaves_the_book_alone():
    out = _dry_run(ROOT, "--profile", "profiles/slurm", "--config", "scale=smoke")
    n = len(layout.sources(ROOT))
    assert re.search(rf"^execute\s+{n}$", out, re.M), out[-1500:]
    assert "--scale smoke" in out or "_build/scaled/smoke/stamps" in out
    assert "book/" not in "".join(ln for ln in out.splitlines() if "output:" in ln)
    gpu = _dry_run(ROOT, "--profile", "profiles/slurm", "--config", "scale=smoke", "device=cuda")
    assert "gpu=1" in gpu.replace(" ", ""), "a GPU run asks SLURM for a GPU per page"


def test_every_scale_names_real_parameters():
    # the smoke and paper scales of the catalogue set only parameters the notebook has, with the right types
    cat = layout.catalogue(ROOT)["claims"]
    for source in layout.sources(ROOT):
        cid = layout.claim_id(source)
        defaults = parameters.read_parameters(source)
        for scale, declared in cat[cid].get("scales", {}).items():
            assert scale in ("smoke", "paper"), (cid, scale)
            for name, value in declared.get("parameters", {}).items():
                assert name in defaults, f"{cid} {scale}: no parameter {name!r}"
                assert isinstance(value, type(defaults[name])) or (type(defaults[name]) is float
                                                                    and isinstance(value, int)), (cid, scale, name)


def test_a_page_runs_with_the_package_installed_outside_the_checkout(tmp_path):
    # a non-editable install elsewhere (as in a conda environment or a venv outside the checkout): the page runs,
    # imports the installed copy, and its code links still name the repository's files, unwrapped
    wheel_dir, site = tmp_path / "wheel", tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    copy = tmp_path / "package"  # built from a copy: setuptools leaves build/ beside the sources it builds
    shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("*.egg-info", "__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheel_dir), str(copy)], check=True,
                   capture_output=True)
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), *map(str, wheel_dir.glob("*.whl"))],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run([sys.executable, "-c", "import dltheory; print(dltheory.__file__)"], env=env,
                           capture_output=True, text=True, check=True)
    assert probe.stdout.startswith(str(site)), probe.stdout
    r = subprocess.run([sys.executable, "-m", "dltheory", "run", "M2", "--out", str(tmp_path / "out")], cwd=ROOT,
                       env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    nb = json.loads((tmp_path / "out" / "m2-mean-field-inverse.ipynb").read_text())
    behind = "".join(nb["cells"][-1]["source"])
    assert "src/dltheory/interpret.py" in behind and "site-packages" not in behind and "_contextlib" not in behind


def test_the_catalogue_names_exactly_the_pages_that_refuse_cuda():
    # the workflow asks no GPU for a CPU-only page, so the catalogue and the page's setup must agree
    cat = layout.catalogue(ROOT)["claims"]
    for source in layout.sources(ROOT):
        cid = layout.claim_id(source)
        assert ("cpu_only=" in source.read_text()) == bool(cat[cid].get("cpu_only")), cid


def test_verify_compares_figures_only_at_the_published_seed():
    # a replay of the published seed must reproduce each figure within its tolerance; another seed draws other
    # figures, so only its status and controls are held against the published ones, and a change is a finding
    from dltheory.pipeline import verify

    published = {"seed": 0, "status": "reproduced", "measured": {"gap": 0.50, "n": 10}, "tolerances": {},
                 "controls": {"shuffled": {"passed_check": False}}}
    replay = {**published, "measured": {"gap": 0.52, "n": 10}}
    assert verify.compare(published, replay) == ["gap = 0.52, published 0.5 (4 significant digits)"]
    other = {**replay, "seed": 1}
    assert verify.compare(published, other) == []
    fallen = {**other, "status": "partially reproduced", "controls": {"shuffled": {"passed_check": True}}}
    problems = verify.compare(published, fallen)
    assert len(problems) == 2 and problems[0].startswith("status 'partially reproduced'")
    rows = verify.table([verify.Outcome("X1", 0, replay, published, verify.compare(published, replay)),
                         verify.Outcome("X1", 1, other, published, []),
                         verify.Outcome("X1", 2, fallen, published, problems)]).splitlines()[2:]
    assert " MISMATCH " in rows[0] and " same " in rows[1] and " differs " in rows[2]


def test_a_source_edited_during_its_run_is_not_credited_to_it(project):
    # the record's hashes name what was executed: an edit that lands while the page runs leaves the page stale
    src = project / "notebooks" / "scratch" / "z1-throwaway.py"
    src.write_text(src.read_text() + '\n# %%\nfrom pathlib import Path\n'
                   'with open(Path.cwd().parents[1] / "notebooks/scratch/z1-throwaway.py", "a") as f:\n'
                   '    f.write("\\n# edited while it ran\\n")\n')
    before = records.sha256(src)
    assert cli("run", "Z1", cwd=project).returncode == 0
    record = json.loads(published(project)[1].read_text())
    assert record["source_sha256"] == before != records.sha256(src)
    assert cli("stale", cwd=project).returncode == 1


def test_crosscheck_pairs_every_page_with_every_cpu_or_alternates():
    from pathlib import Path

    from dltheory.cli import replay_pairs

    pages, cpus = [Path(f"p{i}.ipynb") for i in range(5)], ["Haswell-v4", "EPYC-Rome"]
    full = replay_pairs(pages, cpus)
    assert len(full) == 10 and set(full) == {(c, p) for c in cpus for p in pages}
    alt = replay_pairs(pages, cpus, alternate=True)
    assert [p for _, p in alt] == pages  # every page once, in order
    assert [c for c, _ in alt] == ["Haswell-v4", "EPYC-Rome", "Haswell-v4", "EPYC-Rome", "Haswell-v4"]


def test_mutation_sample_plants_each_kind_of_bug_in_function_bodies_only():
    sys.path.insert(0, str(ROOT / "tests"))
    import mutation_sample as ms

    src = 'X = 1 + 2\n\ndef f(a, b=3):\n    """doc"""\n    return -a * 2.0 if a < b else a - 1\n'
    kinds = [k for _, k in ms.sites(__import__("ast").parse(src))]
    assert sorted(kinds) == ["cmp", "const", "const", "neg", "op", "op"]  # nothing from X = 1 + 2 or b=3
    mutants = {ms.mutate(src, i)[0] for i in range(len(kinds))}
    assert len(mutants) == len(kinds) and src not in mutants
    ns = {}
    exec(ms.mutate(src, kinds.index("cmp"))[0], ns)  # a < b became a <= b
    assert ns["f"](3) == -6.0
    assert "tests/test_fisher.py" in {str(t.relative_to(ROOT)) for t in ms.science_modules().values()}
