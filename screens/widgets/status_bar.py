"""The top line: which environment this is, how fresh the data is, how often it refreshes.

The environment is always visible: "am I on prod?" must never need a second look.
"""

from __future__ import annotations

from rich.text import Text

from console.format import duration
from console.models import Snapshot
from console.text import plain
from screens.widgets.quiet_static import QuietStatic


class StatusBar(QuietStatic):
    def show(self, snapshot: Snapshot | None, environment: str, refresh_s: float, now: float) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" opsconsole ", style="bold")
        text.append(f" {plain(environment, 40)} ", style="bold reverse")
        if snapshot is None:
            text.append("  connecting…", style="dim")
        else:
            age = snapshot.data_age(now)
            stale = [s for s in snapshot.sources.values() if s.stale]
            if stale:
                reasons = sorted({s.error for s in stale})
                names = "all sources" if len(stale) == len(snapshot.sources) else ", ".join(s.name for s in stale)
                text.append(f"  STALE {names}", style="bold red")
                text.append(f" {duration(age)}" if age is not None else "", style="bold red")
                text.append(": " + plain(reasons[0], 60) if len(reasons) == 1 else "", style="red")
            else:
                text.append(f"  data {duration(age)} old", style="green")
        text.append(f"  every {refresh_s:g}s", style="dim")
        self.show_text(text)
