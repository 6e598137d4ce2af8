"""Run the console as a whole process under a real pseudo-terminal and watch what it draws.

The bytes the console writes are fed to a terminal emulator (pyte), so a benchmark can
ask "what does the operator see now?" and count what an SSH link would carry.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyte

# $OPSCONSOLE_SOURCE runs the console from another source tree (an export of another
# commit), to measure before and after a change with the same benchmark.
ROOT = Path(os.environ.get("OPSCONSOLE_SOURCE") or Path(__file__).resolve().parent.parent)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CONSOLE = [sys.executable, "-m", "console.cli"]


@dataclass
class ConsoleProcess:
    args: list[str]
    program: list[str] = field(default_factory=lambda: list(CONSOLE))
    """What runs in the terminal: the console by default, `watch` for the baseline."""
    width: int = 80
    height: int = 24
    proc: subprocess.Popen | None = None
    master: int = -1
    bytes_written: int = 0
    record: bool = False
    """Keep every byte written (`raw`), to check what reached the terminal."""
    raw: bytearray = field(default_factory=bytearray)
    started_at: float = 0.0
    screen: pyte.Screen = field(init=False)
    stream: pyte.ByteStream = field(init=False)

    def __post_init__(self) -> None:
        self.screen = pyte.Screen(self.width, self.height)
        self.stream = pyte.ByteStream(self.screen)

    def start(self) -> ConsoleProcess:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", self.height, self.width, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLORTERM": "truecolor"}
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(
            [*self.program, *self.args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        return self

    def pump(self, seconds: float) -> None:
        """Read what the console writes for `seconds`, feeding the emulator."""
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.05))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    return
                self.bytes_written += len(chunk)
                if self.record:
                    self.raw += chunk
                self.stream.feed(chunk)

    def wait_until(self, predicate, timeout: float) -> float | None:
        """Seconds since launch when `predicate(screen_text)` first held, or None."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            self.pump(0.01)
            if predicate(self.text()):
                return time.perf_counter() - self.started_at
        return None

    def wait_exit(self, timeout: float) -> int | None:
        """Exit code, reading the terminal meanwhile (a real terminal never stops reading,
        and a console blocked on a full pty buffer would never exit)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                return self.proc.returncode
            self.pump(0.05)
        return self.proc.poll()

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def resize(self, width: int, height: int) -> None:
        """Resize the terminal, as a window manager would (SIGWINCH)."""
        self.width, self.height = width, height
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        self.screen.resize(height, width)
        os.killpg(self.proc.pid, signal.SIGWINCH)

    def cells(self) -> list[tuple[str, str, str, bool, bool]]:
        """Every cell as the emulator holds it: character, colours, bold, reverse."""
        return [
            (c.data, c.fg, c.bg, c.bold, c.reverse)
            for y in range(self.height)
            for c in (self.screen.buffer[y][x] for x in range(self.width))
        ]

    def cpu_seconds(self) -> float:
        """CPU time of the process and of its children that ended (curl and jq under watch)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(f) for f in fields[11:15]) / CLOCK_TICKS  # utime stime cutime cstime

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1
