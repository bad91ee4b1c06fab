"""Planted bugs: a random sample of small mutations of the science modules, each run against its own test file.

    python tests/mutation_sample.py [--n 30] [--seed 0] [--timeout 600]      (make mutants)

A mutation flips one arithmetic or comparison operator, drops a unary minus, or changes one numeric constant inside
a function body of a module of ``src/dltheory`` that computes (not the pipeline, plotting or portability code). Each
mutant is written into a scratch copy of ``src/`` and ``tests/`` (the checkout is never touched) and that module's
test file runs there with ``pytest -x``; the mutant is *killed* when a test fails. Survivors are printed with the
line they changed: each is either a gap in the tests or a mutation that changes nothing (an equivalent mutant).
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "dltheory"
NOT_SCIENCE = {"__init__.py", "__main__.py", "cli.py", "plotting.py", "portable.py", "repro.py"}
SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
        ast.FloorDiv: ast.Mult, ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
        ast.Eq: ast.NotEq, ast.NotEq: ast.Eq}


def science_modules() -> dict[Path, Path]:
    """Each science module and the test file that covers it (``tests/test_<module or subpackage>.py``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "pipeline" or path.name in NOT_SCIENCE:
            continue
        own = ROOT / "tests" / f"test_{path.stem.lstrip('_')}.py"  # e.g. boltzmann/_smci.py: test_smci.py
        test = own if own.exists() else ROOT / "tests" / f"test_{rel.parts[0].removesuffix('.py')}.py"
        if test.exists():
            found[path] = test
    return found


def sites(tree: ast.Module) -> list[tuple[ast.AST, str]]:
    """Every mutable node inside a function body, with the kind of mutation: ``op``, ``cmp``, ``neg``, ``const``."""
    out = []
    for fn in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
        body = fn.body[1:] if ast.get_docstring(fn) else fn.body
        for stmt in body:
            for node in ast.walk(stmt):
                if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in SWAP:
                    out.append((node, "op"))
                elif isinstance(node, ast.Compare) and type(node.ops[0]) in SWAP:
                    out.append((node, "cmp"))
                elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
                    out.append((node, "neg"))
                elif (isinstance(node, ast.Constant) and type(node.value) in (int, float)
                      and not isinstance(node.value, bool)):
                    out.append((node, "const"))
    return out


def mutate(source: str, index: int) -> tuple[str, int, str]:
    """The module ``source`` with its ``index``-th site mutated (as re-emitted by ``ast.unparse``), the line of
    the site and what changed."""
    tree = ast.parse(source)
    node, kind = sites(tree)[index]
    line = node.lineno
    if kind == "op":
        old = type(node.op).__name__
        node.op = SWAP[type(node.op)]()
        what = f"{old} -> {type(node.op).__name__}"
    elif kind == "cmp":
        old = type(node.ops[0]).__name__
        node.ops[0] = SWAP[type(node.ops[0])]()
        what = f"{old} -> {type(node.ops[0]).__name__}"
    elif kind == "neg":
        parent = next(p for p in ast.walk(tree) for c in ast.iter_child_nodes(p) if c is node)
        for field, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field, node.operand)
            elif isinstance(value, list):
                setattr(parent, field, [node.operand if v is node else v for v in value])
        what = "unary minus dropped"
    else:
        old = node.value
        node.value = old + 1 if isinstance(old, int) else (old * 2 if old else 1.0)
        what = f"constant {old!r} -> {node.value!r}"
    return ast.unparse(tree), line, what


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30, help="mutants in the sample")
    ap.add_argument("--seed", type=int, default=0, help="which sample")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per test run (a run past it counts as killed)")
    args = ap.parse_args(argv)
    modules = science_modules()
    for m in modules:  # the mutants are re-emitted by ast.unparse: it must give back the same program
        tree = ast.parse(m.read_text())
        assert ast.dump(ast.parse(ast.unparse(tree))) == ast.dump(tree), f"{m}: ast.unparse changes the program"
    population = [(m, i) for m in modules for i in range(len(sites(ast.parse(m.read_text()))))]
    sample = random.Random(args.seed).sample(population, args.n)
    killed, survivors = 0, []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        for name in ("src", "tests", "pyproject.toml"):
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, work / name)
        env = {**os.environ, "PYTHONPATH": str(work / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
        for k, (module, index) in enumerate(sample, 1):
            target = work / module.relative_to(ROOT)
            original = module.read_text()
            mutant, line, what = mutate(original, index)
            target.write_text(mutant)
            start = time.perf_counter()
            try:
                code = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider",
                                       str(work / modules[module].relative_to(ROOT))], cwd=work, env=env,
                                      capture_output=True, timeout=args.timeout).returncode
            except subprocess.TimeoutExpired:
                code = -1
            finally:
                target.write_text(original)
            where = f"{module.relative_to(ROOT)}:{line} ({what})"
            verdict = "killed" if code != 0 else "SURVIVED"
            print(f"[{k:2d}/{args.n}] {verdict:8s} {where} in {time.perf_counter() - start:.0f} s", flush=True)
            killed += code != 0
            if code == 0:
                survivors.append(where)
    print(f"\n{killed} of {args.n} killed ({100 * killed / args.n:.0f}%), sample seed {args.seed}, "
          f"from {len(population)} sites in {len(modules)} modules")
    for s in survivors:
        print(f"  survived: {s}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
