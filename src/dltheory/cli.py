"""``python -m dltheory``: run one notebook, regenerate the status page, check the book is current.

    python -m dltheory run Y2 [-p NAME VALUE ...] [--out DIR]
    python -m dltheory list | status | stale [--package] | sync
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dltheory import pipeline


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m dltheory", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute one notebook and publish it (or write it under --out)")
    run.add_argument("name", help="claim id, e.g. Y2")
    run.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"))
    run.add_argument("--out", type=Path, help="write the notebook and claim record here; book/ stays as is")
    sub.add_parser("list", help="the claim ids and their sources")
    sub.add_parser("status", help="regenerate book/status.md from the claim records")
    st = sub.add_parser("stale", help="exit 1 if a published page is out of date with its source")
    st.add_argument("--package", action="store_true", help="also when src/dltheory changed since execution")
    sub.add_parser("sync", help="mark current pages done for Snakemake; print the stale sources")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        root = pipeline.project_root()
        if args.command == "run":
            nb, rec = pipeline.execute(root, args.name, args.parameter, out=args.out)
            if args.out is None:
                pipeline.write_status(root)
            print(f"wrote {nb} and {rec}")
        elif args.command == "list":
            for s in pipeline.sources(root):
                print(f"{pipeline.claim_id(s)}\t{s.relative_to(root)}")
        elif args.command == "status":
            print(f"wrote {pipeline.write_status(root)}")
        elif args.command == "stale":
            problems = pipeline.stale(root, package=args.package)
            for p in problems:
                print(p)
            if problems:
                return 1
            print("every published page is current with its source")
        elif args.command == "sync":
            for s in pipeline.sync_stamps(root):
                print(f"stale: {s.relative_to(root)}")
    except pipeline.PipelineError as e:
        print(f"dltheory: error: {e}", file=sys.stderr)
        return e.exit_code
    return 0
