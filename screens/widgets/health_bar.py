"""One line: what the backend's health endpoint says, check by check."""

from __future__ import annotations

from rich.text import Text

from console.format import staleness
from console.models import Health, Snapshot
from console.poller import HEALTH
from console.text import plain
from screens.widgets.quiet_static import QuietStatic

GOOD = {"ok", "healthy", "pass", "up"}


class HealthBar(QuietStatic):
    def show(self, snapshot: Snapshot) -> None:
        state = snapshot.source(HEALTH)
        marker = staleness(state, snapshot.taken_at)
        self.set_class(bool(marker), "-stale")
        text = Text("Health ", style="bold")
        health: Health | None = state.data
        if marker:
            # Say it is stale before anything else: an old "ok" in green must not reassure.
            text.append(plain(marker, 60), style="bold red")
            if health is not None:
                text.append(f"  last answer: {plain(health.status, 20)} HTTP {health.status_code}", style="dim")
        elif health is None:
            text.append("waiting", style="dim")
        else:
            verdict_style = "bold green" if health.ok else "bold white on red"
            text.append(f" {plain(health.status, 20)} ", style=verdict_style)
            text.append(f" HTTP {health.status_code}", style="dim")
            for name, value in health.checks:
                good = value.lower() in GOOD
                text.append("  " + plain(name, 20) + " ")
                text.append(plain(value, 20), style="green" if good else "bold red")
        self.show_text(text)
