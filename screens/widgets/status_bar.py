"""The top line: which environment this is, how fresh the data is, how often it refreshes.

The environment is always visible: "am I on prod?" must never need a second look.
"""

from __future__ import annotations

from rich.text import Text

from console.format import coarse_age, duration
from console.models import Snapshot, SourceState
from console.poller import METRICS, STATS
from console.text import plain
from screens.widgets.quiet_static import QuietStatic


class StatusBar(QuietStatic):
    def show(self, snapshot: Snapshot | None, environment: str, refresh_s: float, now: float, badge: Text | None = None) -> None:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(" opsconsole ", style="bold")
        text.append(f" {plain(environment, 40)} ", style="bold reverse")
        if badge:  # READ-ONLY and the incident's severity and status, before anything that may be cut
            text.append(" ")
            text.append_text(badge)
        if snapshot is None:
            text.append("  connecting…", style="dim")
        else:
            age = snapshot.data_age(now)
            stale = [s for s in snapshot.sources.values() if s.stale]
            if stale:
                names = "all sources" if len(stale) == len(snapshot.sources) else ", ".join(s.name for s in stale)
                text.append(f"  STALE {names}", style="bold red")
                text.append(f" {duration(age)}" if age is not None else "", style="bold red")
                text.append(": " + plain(self._reason(stale), 70), style="red")
            else:
                # Fresh data is "<5s old", not a count redrawn every second.
                text.append(f"  data {coarse_age(age, 5 if refresh_s < 5 else 10)} old", style="green")
        text.append(f"  every {refresh_s:g}s", style="dim")
        self.show_text(text)

    @staticmethod
    def _reason(stale: list[SourceState]) -> str:
        """One shared reason; otherwise the reason of metrics or stats, the sources without a
        panel of their own to say why (a tile has no room for it)."""
        reasons = {s.error for s in stale}
        if len(reasons) == 1:
            return reasons.pop()
        tiles = next((s for name in (METRICS, STATS) for s in stale if s.name == name), None)
        return f"{tiles.name}: {tiles.error}" if tiles else "see panels"
