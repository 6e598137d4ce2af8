"""The dead-letter screen with a small and a huge queue: the console's memory must not grow
with the queue, and pages must arrive quickly.

    .venv/bin/python bench/dead_letters_memory.py            # 2,000 and 1,000,000 entries
    .venv/bin/python bench/dead_letters_memory.py --quick    # 1,000 and 100,000

For each size, the demo backend runs as its own process (`opsconsole sim --dlq-preload N`),
and `opsconsole` runs in an 80x24 pseudo-terminal pointed at it. The script opens the
dead-letter screen (`d`), pages forward 20 times (`n`), filters by class (`c`) and by
text (`/`), and reports the console's RSS after each step and the time each screen
change took to show. Figures are printed and saved to bench/results/.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.terminal import ROOT, ConsoleProcess  # noqa: E402
from console.config import shipped_config_path  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_backend(entries: int, port: int) -> subprocess.Popen:
    backend = subprocess.Popen(
        [sys.executable, "-m", "console.cli", "sim", "--port", str(port), "--speed", "0", "--dlq-preload", str(entries)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return backend
        except OSError:
            time.sleep(0.1)
    backend.kill()
    raise SystemExit("the demo backend did not start")


def step(console: ConsoleProcess, keys: bytes, done, what: str) -> float:
    started = time.perf_counter()
    console.send(keys)
    deadline = started + 20
    while time.perf_counter() < deadline:
        console.pump(0.01)
        if done(console.text()):
            return round(time.perf_counter() - started, 3)
    raise SystemExit(f"{what} never showed:\n{console.text()}")


def new_count(console: ConsoleProcess):
    """Done when the top line shows a match count other than the one shown now."""
    before = console.text().splitlines()[0]
    return lambda text: "matching" in text.splitlines()[0] and text.splitlines()[0] != before


def page_is(number: int):
    return lambda text: re.search(rf"page {number:,}/", text) is not None


def measure(entries: int, tmp: Path) -> dict[str, float]:
    port = free_port()
    backend = start_backend(entries, port)
    config = tmp / f"config-{entries}.toml"
    config.write_text(shipped_config_path().read_text().replace("http://127.0.0.1:8080", f"http://127.0.0.1:{port}"))
    console = ConsoleProcess(["--config", str(config)]).start()
    figures: dict[str, float] = {"entries": entries}
    try:
        if console.wait_until(lambda t: re.search(r"Dead letters [\d,]+", t), timeout=30) is None:
            raise SystemExit("the dashboard never showed data:\n" + console.text())
        console.pump(2)
        figures["rss_dashboard_mb"] = round(console.rss_mb(), 1)
        figures["open_s"] = step(console, b"d", page_is(1), "the first page")
        figures["rss_first_page_mb"] = round(console.rss_mb(), 1)
        pages = []
        for number in range(2, 22):
            pages.append(step(console, b"n", page_is(number), f"page {number}"))
        figures["page_median_s"] = sorted(pages)[len(pages) // 2]
        figures["rss_after_20_pages_mb"] = round(console.rss_mb(), 1)
        figures["class_filter_s"] = step(console, b"c", new_count(console), "the class filter")
        console.send(b"/")
        console.pump(0.3)  # the filter box takes focus before the text arrives
        figures["text_filter_s"] = step(console, b"job-p00\r", new_count(console), "the text filter")
        console.pump(1)
        figures["rss_after_filters_mb"] = round(console.rss_mb(), 1)
    finally:
        console.stop()
        backend.terminate()
        backend.wait(timeout=10)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 and 100,000 entries")
    args = parser.parse_args()
    sizes = (2_000, 100_000) if args.quick else (2_000, 1_000_000)
    tmp = RESULTS / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    rows = [measure(n, tmp) for n in sizes]
    for row in rows:
        print("  ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in row.items()))
    growth = rows[-1]["rss_after_filters_mb"] - rows[0]["rss_after_filters_mb"]
    print(f"console RSS difference between {sizes[0]:,} and {sizes[-1]:,} entries: {growth:+.1f} MB")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    out = RESULTS / f"dead_letters_memory-{stamp}.json"
    out.write_text(json.dumps({"rows": rows, "rss_growth_mb": round(growth, 1)}, indent=2))
    for leftover in tmp.glob("config-*.toml"):
        leftover.unlink()
    tmp.rmdir()
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
