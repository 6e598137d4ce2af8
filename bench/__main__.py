"""Run the benchmarks: `python -m bench [--quick] [NAME ...]`.

Each benchmark is a module in this folder with `NAME`, `TARGETS` and `run(quick) -> dict`;
to add one, write the module and list it in BENCHMARKS. Every benchmark runs the console
as a whole process in a real 80x24 pseudo-terminal against the demo backend on loopback,
prints a table and saves JSON in bench/results/. `--quick` is a smoke run (seconds) that
proves a benchmark works; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.report import save, table  # noqa: E402

BENCHMARKS = ["startup_idle", "dead_letters", "fleet", "responsiveness", "baseline", "prometheus_refresh", "runbooks", "evidence", "json_signals", "environments"]


def run(name: str, quick: bool) -> None:
    module = importlib.import_module(f"bench.{name}")
    figures = module.run(quick)
    print(table(module.NAME + (" (quick: smoke run, not figures)" if quick else ""), figures, module.TARGETS))
    print(f"  saved {save(module.NAME, figures, module.TARGETS, quick)}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke mode: proves each benchmark works, in seconds")
    parser.add_argument("names", nargs="*", choices=[[], *BENCHMARKS], metavar="NAME", help=f"some of: {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    for name in args.names or BENCHMARKS:
        run(name, args.quick)


if __name__ == "__main__":
    main()
