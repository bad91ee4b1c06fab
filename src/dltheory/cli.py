"""``python -m dltheory``: run one notebook, regenerate the generated pages, check and verify the book.

    python -m dltheory run Y2 [-p NAME VALUE ...] [--out DIR] [--scale smoke|published|paper]
    python -m dltheory verify [ID ...] [--seed N ...]
    python -m dltheory crosscheck [ID ...] [--cpu MODEL ...] [--jobs N] [--scale smoke] [--alternate]
    python -m dltheory robustness [ID ...] [--count 3]
    python -m dltheory new ID --part PART --title TITLE
    python -m dltheory list | status | stale [--package] | sync | kernels [--cpu MODEL ...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dltheory import portable
from dltheory.pipeline import BadInput, PipelineError, layout, pages, records, verify
from dltheory.pipeline.runner import execute

CPUS = ("Haswell-v4", "EPYC-Rome")  # one Intel and one AMD model that QEMU 7.2 emulates


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m dltheory", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute one notebook and publish it (or write it under --out)")
    run.add_argument("name", help="claim id, e.g. Y2")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    run.add_argument("--out", type=Path, help="write the notebook and claim record here; book/ stays as is")
    run.add_argument("--scale", choices=layout.SCALES,
                     help="the catalogue's parameters for this scale; lands in _build/scaled/SCALE/, never in book/")
    ver = sub.add_parser("verify", help="re-execute claims into a scratch folder and compare with their records")
    ver.add_argument("ids", nargs="*", help="claim ids (default: every published claim)")
    ver.add_argument("--seed", type=int, action="append", help="run at this seed instead of the published one")
    ver.add_argument("--scratch", type=Path, default=Path("_build/verify"), help="where the runs go")
    cc = sub.add_parser("crosscheck", help="replay published pages with nbval on emulated CPUs (qemu-x86_64)")
    cc.add_argument("ids", nargs="*", help="claim ids (default: every page)")
    cc.add_argument("--cpu", action="append", help=f"QEMU CPU model (default: {' '.join(CPUS)})")
    cc.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="replays at once, one per CPU model and page (default: the number of cores)")
    cc.add_argument("--scale", choices=layout.SCALES,
                    help="execute each page natively at this scale, then replay that run on the emulated CPUs")
    cc.add_argument("--alternate", action="store_true",
                    help="each page on one of the CPU models, taken in turn, instead of on every one (CI's budget)")
    rb = sub.add_parser("robustness", help="run claims at other seeds into book/_robustness, regenerate the page")
    rb.add_argument("ids", nargs="*", help="claim ids (default: every published claim)")
    rb.add_argument("--count", type=int, default=3, help="seeds other than the published one")
    new = sub.add_parser("new", help="scaffold a result page from the template; register it in the catalogue and toc")
    new.add_argument("id", help="the new claim's id, e.g. K5")
    new.add_argument("--part", required=True, help="the report part, e.g. geometry")
    new.add_argument("--title", required=True, help="the result in a few words")
    new.add_argument("--slug", help="the file name after the id (default: from the title)")
    bn = sub.add_parser("bench", help="our kernels against their peers -> book/_bench/bench.json, performance page")
    bn.add_argument("--repeats", type=int, default=5, help="timed calls per kernel (median reported)")
    sub.add_parser("list", help="the claim ids and their sources")
    stp = sub.add_parser("status", help="regenerate the status, robustness and report tables from the claim records")
    stp.add_argument("--scale", choices=layout.SCALES, help="write _build/scaled/SCALE/status.md from the runs there")
    st = sub.add_parser("stale", help="exit 1 if a published page is out of date with its source")
    st.add_argument("--package", action="store_true", help="also when src/dltheory changed since execution")
    sub.add_parser("sync", help="mark current pages done for Snakemake; print the stale sources")
    kn = sub.add_parser("kernels", help="install the portable Jupyter kernel 'dltheory' (and emulated ones)")
    kn.add_argument("--cpu", action="append", default=[], help="also a kernel on this emulated QEMU CPU model")
    return ap


def _pages_of(root: Path, ids: list[str]) -> list[Path]:
    found = [layout.find_source(root, i) for i in ids] if ids else layout.sources(root)
    return [layout.published_path(root, s) for s in found]


def _smoke_pages(root: Path, ids: list[str], scale: str, jobs: int) -> list[Path]:
    """Execute the pages of ``ids`` natively at ``scale`` under ``_build/crosscheck/<scale>/``, ``jobs`` at once;
    the executed notebooks (the baselines the emulated CPUs must replay digit for digit)."""
    from concurrent.futures import ThreadPoolExecutor

    from dltheory.pipeline.runner import execute

    names = [layout.claim_id(s) for s in ([layout.find_source(root, i) for i in ids] if ids else layout.sources(root))]
    base = root / "_build" / "crosscheck" / scale / "native"
    print(f"executing {len(names)} page(s) natively at the {scale} scale into {base.relative_to(root)}", flush=True)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return [nb for nb, _ in pool.map(lambda cid: execute(root, cid, [], out=base / cid, scale=scale), names)]


def replay_pairs(pages: list[Path], cpus: list[str], alternate: bool = False) -> list[tuple[str, Path]]:
    """The (CPU model, page) replays: every page on every model, or with ``alternate`` each page on one model,
    the models taken in turn (page i on ``cpus[i % len(cpus)]``)."""
    if alternate:
        return [(cpus[i % len(cpus)], page) for i, page in enumerate(pages)]
    return [(cpu, page) for page in pages for cpu in cpus]


def crosscheck(root: Path, ids: list[str], cpus: list[str], jobs: int, scale: str | None = None,
               alternate: bool = False) -> int:
    """nbval replay of the pages of ``ids`` in kernels on each emulated CPU, one pytest per CPU model and page,
    ``jobs`` at once (emulation is slow, so a machine with many cores runs the whole book in the time of its
    slowest page); exit code. With ``scale`` (e.g. ``smoke``), each page is first executed natively at that scale
    and the emulated CPUs replay that run instead of the published page: every code path in minutes."""
    from concurrent.futures import ThreadPoolExecutor

    if portable.qemu() is None:
        raise BadInput("qemu-x86_64 not found: install Debian's qemu-user package")
    targets = _smoke_pages(root, ids, scale, jobs) if scale else _pages_of(root, ids)
    for cpu in cpus:
        portable.install_kernel(cpu)

    def replay(cpu: str, page: Path) -> tuple[str, Path, int, str]:
        log = root / "_build" / "crosscheck" / (scale or "published") / cpu / f"{page.stem}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
               "--nbval-kernel-name", portable.kernel_name(cpu), "--nbval-sanitize-with",
               "tests/nbval_sanitize.cfg", "--nbval-kernel-startup-timeout", "900", str(page.relative_to(root))]
        env = {**os.environ, "PYTHONOPTIMIZE": "1"} if scale == "smoke" else None  # as the smoke run was made
        with log.open("w") as out:
            code = subprocess.run(cmd, cwd=root, stdout=out, stderr=subprocess.STDOUT, env=env).returncode
        summary = next((ln for ln in reversed(log.read_text().splitlines()) if ln.strip()), "")
        return cpu, page, code, summary.strip("= ")

    pairs = replay_pairs(targets, cpus, alternate)
    print(f"replaying {len(targets)} page(s) on {'one of ' if alternate else ''}{len(cpus)} emulated CPU(s) each, "
          f"{jobs} at a time "
          f"(logs: _build/crosscheck/<cpu>/<page>.log)", flush=True)
    failed = 0
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for cpu, page, code, summary in pool.map(lambda pair: replay(*pair), pairs):
            print(f"{cpu:12s} {page.stem:32s} {'identical' if code == 0 else 'DIFFERENT'} ({summary})", flush=True)
            failed += code != 0
    return 1 if failed else 0


def robustness(root: Path, ids: list[str], count: int) -> int:
    """Each claim at ``count`` seeds other than its published one; records kept in ``book/_robustness``."""
    ids = ids or records.published_ids(root)
    keep = root / "book" / "_robustness"
    keep.mkdir(exist_ok=True)
    scratch = root / "_build" / "robustness"
    for cid in ids:
        seed = records.read_record(layout.record_path(root, cid))["seed"]
        outcomes = verify.verify(root, [cid], verify.other_seeds(seed, count), scratch,
                                 progress=lambda m: print(m, flush=True))
        print(verify.table(outcomes))
        for o in outcomes:
            if o.record is not None:
                shutil.copyfile(scratch / o.claim / f"seed{o.seed}" / f"{o.claim}.json",
                                keep / f"{o.claim}-seed{o.seed}.json")
    pages.write_pages(root)
    print(f"wrote {root / 'book' / 'robustness.md'}")
    return 0


def _write_scaled_status(root: Path, scale: str) -> Path:
    path = layout.scaled_root(root, scale) / "status.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    records.write_atomic(path, pages.scaled_status_page(root, scale))
    return path


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        root = layout.project_root()
        if args.command == "run":
            nb, rec = execute(root, args.name, args.parameter, out=args.out, scale=args.scale)
            if args.out is None and args.scale is None:
                pages.write_pages(root)
            elif args.out is None:
                _write_scaled_status(root, args.scale)
            print(f"wrote {os.path.relpath(nb)} and {os.path.relpath(rec)}")
        elif args.command == "verify":
            outcomes = verify.verify(root, args.ids, args.seed, args.scratch.resolve(),
                                     progress=lambda m: print(m, flush=True))
            print(verify.table(outcomes))
            return 0 if all(o.ok for o in outcomes) else 1
        elif args.command == "crosscheck":
            return crosscheck(root, args.ids, args.cpu or list(CPUS), args.jobs, args.scale, args.alternate)
        elif args.command == "robustness":
            return robustness(root, args.ids, args.count)
        elif args.command == "new":
            from dltheory.pipeline.scaffold import new_page

            made = new_page(root, args.id, args.part, args.title, args.slug)
            print(f"wrote {made.relative_to(root)}; registered {args.id} in book/claims.yml and book/_toc.yml; "
                  f"next: python -m dltheory run {args.id}")
        elif args.command == "bench":
            if not portable.active() and "DLTHEORY_PORTABLE_EXEC" not in os.environ:  # re-run it once, portably
                env = {**os.environ, **portable.kernel_env(), "MPLBACKEND": "Agg", "DLTHEORY_PORTABLE_EXEC": "1"}
                os.execve(sys.executable, [sys.executable, "-m", "dltheory", *(argv or sys.argv[1:])], env)
            import torch

            from dltheory.pipeline import bench

            torch.set_num_threads(1)
            print(f"wrote {bench.run(root, args.repeats)}")
            print(f"wrote {pages.write_pages(root)}")
        elif args.command == "list":
            for s in layout.sources(root):
                print(f"{layout.claim_id(s)}\t{s.relative_to(root)}")
        elif args.command == "status":
            print(f"wrote {_write_scaled_status(root, args.scale) if args.scale else pages.write_pages(root)}")
        elif args.command == "stale":
            problems = records.stale(root, package=args.package)
            for p in problems:
                print(p)
            if problems:
                return 1
            print("every published page is current with its source")
        elif args.command == "sync":
            for s in records.sync_stamps(root):
                print(f"stale: {s.relative_to(root)}")
        elif args.command == "kernels":
            for cpu in [None, *args.cpu]:
                print(f"installed {portable.install_kernel(cpu)}")
    except PipelineError as e:
        print(f"dltheory: error: {e}", file=sys.stderr)
        return e.exit_code
    return 0
