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
    def show(self, snapshot: Snapshot | None, environment: Text, refresh_s: float, now: float, badge: Text | None = None) -> None:
        # What must survive a narrow terminal comes first: the environment, STALE and
        # READ-ONLY (the badge starts with it); the app's name and the refresh interval
        # give way first, then the stale reason and the badge's tail (countdown) are cut.
        stale = [s for s in snapshot.sources.values() if s.stale] if snapshot is not None else []
        age = snapshot.data_age(now) if snapshot is not None else None
        head = Text()
        head.append_text(environment)  # screens/widgets/environment_chip.py
        if stale:
            names = "all sources" if len(stale) == len(snapshot.sources) else ", ".join(s.name for s in stale)
            head.append(f"  STALE {names}", style="bold red")
            head.append(f" {duration(age)}" if age is not None else "", style="bold red")
        if badge:  # READ-ONLY and the incident's severity and status
            head.append(" ")
            head.append_text(badge)
        if snapshot is None:
            head.append("  connecting…", style="dim")
        elif stale:
            head.append(": " + plain(self._reason(stale), 70), style="red")
        else:
            # Fresh data is "<5s old", not a count redrawn every second.
            head.append(f"  data {coarse_age(age, 5 if refresh_s < 5 else 10)} old", style="green")
        name, every = Text(" opsconsole ", style="bold"), Text(f"  every {refresh_s:g}s", style="dim")
        width = self.content_size.width or 10**6  # 0 before the first layout: no limit yet
        text = Text(no_wrap=True, overflow="ellipsis")
        if name.cell_len + head.cell_len <= width:
            text.append_text(name)
        else:
            text.append(" ")
        text.append_text(head)
        if text.cell_len + every.cell_len <= width:
            text.append_text(every)
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
