"""Publishing and launching: the workflows that build and deploy the site and run the tests, the Binder and Colab
set-ups behind the launch buttons, and a build that needs only Python, pip and make."""

import json
import re
import subprocess

import yaml

from conftest import ROOT


def _workflow(name: str) -> dict:
    return yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text())


def _runs(workflow: dict) -> list[str]:
    return [step["run"] for job in workflow["jobs"].values() for step in job.get("steps", []) if "run" in step]


def _make_prerequisites(target: str) -> list[str]:
    """The prerequisites of ``target`` as make itself reads the Makefile (no recipe is run)."""
    out = subprocess.run(["make", "-pn", target], cwd=ROOT, capture_output=True, text=True).stdout
    line = next(ln for ln in out.splitlines() if ln.startswith(f"{target}:"))
    return line.split(":", 1)[1].split()


def test_the_book_workflow_builds_the_committed_pages_and_deploys_them():
    wf = _workflow("book.yml")
    assert "main" in wf[True]["push"]["branches"]  # YAML reads the key `on` as True
    assert _runs(wf) == ["make html"], "the site is built from the committed pages, executing nothing"
    steps = [s for job in wf["jobs"].values() for s in job["steps"]]
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in steps)
    assert wf["permissions"]["pages"] == "write" and wf["permissions"]["id-token"] == "write"
    # `make html` is the very build make test runs here, with warnings as errors, and it executes no notebook
    assert "html" in _make_prerequisites("test")
    recipe = subprocess.run(["make", "-n", "html"], cwd=ROOT, capture_output=True, text=True).stdout
    assert "jupyter-book build" in recipe and " -W " in recipe
    assert "papermill" not in recipe and "dltheory run" not in recipe and "snakemake" not in recipe


def test_the_ci_workflow_runs_the_readme_test_command():
    wf = _workflow("ci.yml")
    assert _runs(wf) == ["bash .ci/run"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
    assert "make test" in (ROOT / "README.md").read_text()
    for name in ("book.yml", "ci.yml"):  # torch's CPU build, never a CUDA one
        assert "download.pytorch.org/whl/cpu" in _workflow(name)["env"]["PIP_EXTRA_INDEX_URL"]


def test_binder_installs_the_pins_the_package_and_the_kernel():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install --quiet --no-deps -r requirements.txt" in post
    assert "-e ." in post and "python -m dltheory kernels" in post
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def test_the_repository_url_lives_in_one_place():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    elsewhere = [f for f in tracked if not f.endswith((".ipynb", ".json")) and f != "_config.yml"
                 and (ROOT / f).is_file() and url in (ROOT / f).read_text(errors="ignore")]
    assert elsewhere == [], f"the repository URL is written outside _config.yml: {elsewhere}"


def test_every_page_installs_the_package_in_a_fresh_kernel_from_the_configured_repository():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    for nb in sorted((ROOT / "book").glob("*/*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        first = code[0]
        assert "install" in first["metadata"].get("tags", []), f"{nb.name}: the first code cell is not the install cell"
        assert {"nbval-skip", "remove-cell"} <= set(first["metadata"]["tags"])
        assert f"git+{url}@" in "".join(first["source"]) and "import dltheory" in "".join(first["source"])


def test_the_build_needs_no_node_and_no_network_for_mathjax():
    make = (ROOT / "Makefile").read_text()
    assert "npm" not in make and "node" not in make.lower()
    assert "sphinx-mathjax-offline==" in (ROOT / "requirements.txt").read_text()
