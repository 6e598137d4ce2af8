"""Save an SVG screenshot of the dashboard, drawn by the app itself, for the README.

    .venv/bin/python scripts/screenshot.py [--scenario provider-outage] [--out docs/dashboard.svg]

The demo backend runs with a fixed seed. The picture takes seconds, not the minutes a
5-minute trend window needs, so its trend window is 6 s; everything else is the shipped
config. Incident state goes to a temporary directory, never the user's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from console.config import load_config, shipped_config_path  # noqa: E402
from console.demo.server import DemoServer  # noqa: E402
from screens.app import OpsConsoleApp  # noqa: E402


async def shoot(scenario: str, out: Path, size: tuple[int, int]) -> None:
    # Real time (speed 1), so the rates on screen are true rates; a fixed seed and a
    # scenario run well in so the picture has history.
    server = DemoServer(port=0, speed=1, seed=11, warmup_s=60).start()
    try:
        server.sim.set_scenario(scenario)
        server.sim.advance(600)
        config = load_config(shipped_config_path()).pointed_at(server.url)
        metrics = config.metrics.model_copy(update={"trend_window_min": 0.1})
        app = OpsConsoleApp(config.model_copy(update={"refresh_interval_s": 1.0, "metrics": metrics}))
        async with app.run_test(size=size) as pilot:
            await pilot.pause(8)  # a few polls: sparklines, trends, counter rates and growth need history
            out.parent.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(filename=out.name, path=str(out.parent))
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="provider-outage")
    parser.add_argument("--out", default=str(ROOT / "docs" / "dashboard.svg"))
    parser.add_argument("--size", default="80x24", help="terminal size, COLSxROWS")
    args = parser.parse_args()
    cols, rows = (int(n) for n in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="opsconsole-screenshot-") as data_dir:
        os.environ["XDG_DATA_HOME"] = data_dir
        asyncio.run(shoot(args.scenario, Path(args.out), (cols, rows)))
    print(args.out)


if __name__ == "__main__":
    main()
