"""`opsconsole runbook show PATH [--json]` and `opsconsole runbook lint DIR`, without the UI.

`show` prints what the console will show for a runbook file; `lint` lists every runbook
below a directory with what would import badly, so writers can fix it before an incident.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from console.text import plain

EXIT_PROBLEMS = 1
EXIT_MISSING = 2


def add_runbook_parser(sub: argparse._SubParsersAction) -> None:
    runbook = sub.add_parser("runbook", help="show a Markdown runbook as the console reads it, or lint a directory (no UI)")
    verbs = runbook.add_subparsers(dest="verb", metavar="VERB", required=True)
    show = verbs.add_parser("show", help="print a runbook's sections, steps, commands and links")
    show.add_argument("path", help="a Markdown runbook file")
    show.add_argument("--json", action="store_true", help="print it as JSON")
    lint = verbs.add_parser("lint", help="list every .md file below DIR with its problems (exit 1 if any)")
    lint.add_argument("dir", help="a directory of runbooks")


def _safe(text: str) -> str:
    # A runbook is somebody's file: no escape sequence in it reaches the terminal.
    return "\n".join(plain(line.expandtabs()) for line in text.split("\n"))


def run_runbook(args: argparse.Namespace) -> int:
    if args.verb == "show":
        return _show(Path(args.path), args.json)
    return _lint(Path(args.dir))


def _show(path: Path, as_json: bool) -> int:
    # Imported here: every start builds the parser, only these commands need markdown-it.
    from console.runbooks import load_runbook, runbook_text

    if not path.is_file():
        print(f"opsconsole runbook show: {path}: no such file", file=sys.stderr)
        return EXIT_MISSING
    runbook = load_runbook(path, path.parent)
    if as_json:
        print(json.dumps(runbook.as_json(), indent=2))  # ASCII: no C1 control or bidi override gets through raw
        return 0
    print(_safe(runbook_text(runbook)), end="")
    if runbook.problems:
        print(_safe("\nproblems:\n" + "\n".join(f"  {problem}" for problem in runbook.problems)))
    return 0


def _lint(directory: Path) -> int:
    from console.runbooks import load_runbook, runbook_files

    if not directory.is_dir():
        print(f"opsconsole runbook lint: {directory}: no such directory", file=sys.stderr)
        return EXIT_MISSING
    paths = runbook_files(directory)
    bad = 0
    for path in paths:
        runbook = load_runbook(path, directory)
        name = path.relative_to(directory).as_posix()
        if not runbook.problems:
            print(_safe(f"{name}: ok"))
            continue
        bad += 1
        count = len(runbook.problems)
        print(_safe(f"{name}: {count} problem{'s' if count != 1 else ''}"))
        for problem in runbook.problems:
            print(_safe(f"  {problem}"))
    print(f"{len(paths)} runbook{'s' if len(paths) != 1 else ''}, {bad} with problems")
    return EXIT_PROBLEMS if bad else 0
