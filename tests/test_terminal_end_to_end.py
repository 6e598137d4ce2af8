"""`opsconsole --demo` as a whole process in a real 80x24 pseudo-terminal: what an operator
sees on the screen, and that `q` leaves cleanly."""

from __future__ import annotations

import re

from bench.backend import DemoBackend
from bench.terminal import ConsoleProcess


def test_demo_shows_every_panel_with_data_and_quits_on_q():
    console = ConsoleProcess(["--demo", "--seed", "5"]).start()
    try:
        shown = console.wait_until(
            lambda text: re.search(r"Workers \d+", text) and re.search(r"Dead letters \d+", text) and "jobs" in text,
            timeout=30,
        )
        assert shown is not None, console.text()
        screen = console.text()
        lines = screen.splitlines()
        assert len(lines) == 24 and all(len(line) <= 80 for line in lines)
        assert lines[0].startswith(" opsconsole  demo ")
        for label in ("Queue depth", "Terminal errors", "Lease conflicts", "Backpressure", "Recovery", "Health", "Leases"):
            assert label in screen
        assert re.search(r"w-01\s+(busy|idle)", screen)
        console.send(b"q")
        assert console.wait_exit(timeout=10) == 0
    finally:
        console.stop()


def test_bad_config_in_a_terminal_prints_the_problem_not_a_traceback(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('environment = "x"\n')
    console = ConsoleProcess(["--config", str(config)]).start()
    try:
        assert console.wait_exit(timeout=20) == 2
        console.pump(0.2)
        assert "api: required key is missing" in console.text()
        assert "Traceback" not in console.text()
    finally:
        console.stop()


def test_hostile_backend_text_never_reaches_the_terminal():
    # Byte level: what the console writes to a real pty, with every string the demo
    # backend serves carrying escape sequences, bidi and zero-width characters.
    console = ConsoleProcess(["--demo", "--fault", "*:hostile"], record=True).start()
    try:
        shown = console.wait_until(lambda text: "␛]52;c;" in text and re.search(r"Workers \d+", text), timeout=30)
        assert shown is not None, console.text()
        console.pump(2.5)  # and after another refresh
        raw = bytes(console.raw)
        for sequence in ("\x1b[2J", "\x1b[1;31mCLEARED", "\x1b]52;", "\x1b]8;;http://evil", "\x9b", "\u202e", "\u200b", "\ufeff"):
            assert sequence.encode() not in raw, sequence
        assert "␛[2J␛[1;31mCLEARED␛]52;c;".encode() in raw  # what the operator sees instead
        console.send(b"q")
        assert console.wait_exit(timeout=10) == 0
    finally:
        console.stop()


def test_partial_repaints_leave_the_same_screen_as_a_full_repaint():
    # The console repaints only the cells that changed. After many such updates, the
    # terminal must hold exactly what a full repaint (forced by a resize) draws.
    with DemoBackend("--speed", "0", "--seed", "5", refresh_s=600) as backend:
        console = ConsoleProcess(backend.console_args()).start()
        try:
            assert console.wait_until(lambda text: re.search(r"Workers \d+", text), timeout=30) is not None
            for step, scenario in enumerate(["healthy", "stale-leases", "provider-outage", "healthy"]):
                backend.post("/sim/scenario", {"scenario": scenario})
                backend.post("/sim/advance", {"seconds": 7 + 20 * step})
                console.send(b"r")
                console.pump(0.8)
            console.send(b"\t")  # the cursor row moves into the workers table
            console.pump(0.5)
            partial = console.cells()
            console.resize(100, 30)
            console.pump(0.5)
            console.resize(80, 24)
            console.pump(1.0)
            assert console.cells() == partial, console.text()
        finally:
            console.stop()
