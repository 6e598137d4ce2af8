"""Every service's health by name: `backend ok · pdf-worker DOWN 503 · optimizer ok model 2026.11.2`.

One line under the tiles, fitted to the width by leaving out what matters least first
(components that are fine, then details, then failing components and reasons); a
service's name and verdict always stay. When the dashboard has no list panels, it has the
room to give each service a line of its own with everything it said.
"""

from __future__ import annotations

from rich.text import Text

from console.format import staleness
from console.models import ServiceHealth, Snapshot, SourceState
from console.poller import health_source
from console.text import plain
from screens.widgets.quiet_static import QuietStatic

# Parts of a service's entry, in the order they are left out when the line is too long.
NAME, TROUBLE, DETAIL, FINE = 0, 1, 2, 3
FALLBACK_WIDTH = 78  # before the first layout: the 80-column line minus its padding

Part = tuple[int, Text]  # (priority, text)


def service_parts(name: str, state: SourceState, now: float, ok_words: set[str]) -> list[Part]:
    parts: list[Part] = [(NAME, Text(plain(name, 30), style="bold"))]
    marker = staleness(state, now)
    health: ServiceHealth | None = state.data
    if marker:
        # Stale before anything else: an old "ok" in green must not reassure.
        head, _, reason = marker.partition(": ")
        parts.append((NAME, Text(" " + head, style="bold red")))
        parts.append((TROUBLE, Text(": " + plain(reason, 60), style="red")))
        if health is not None:
            last = "ok" if health.ok else f"{plain(health.status, 16) or 'down'} HTTP {health.status_code}"
            parts.append((FINE, Text(f"  last answer: {last}", style="dim")))
    elif health is None:
        parts.append((NAME, Text(" waiting", style="dim")))
    elif health.ok:
        parts.append((NAME, Text(" ok", style="bold green")))
    else:
        verdict = plain(health.status.upper(), 16) if health.status else "DOWN"
        code = f" {health.status_code}" if health.status_code >= 400 else ""
        parts.append((NAME, Text(f" {verdict}{code}", style="bold white on red")))
    if health is None or marker:
        return parts
    for label, value in health.details:
        part = Text(" " + plain(label, 20) + " ", style="dim")
        part.append(plain(value, 30))
        parts.append((DETAIL, part))
    # Failing components first: they are what the operator scans for.
    for component, value in sorted(health.checks, key=lambda check: check[1].lower() in ok_words):
        good = value.lower() in ok_words
        part = Text(" " + plain(component, 20) + " ")
        part.append(plain(value, 20), style="green" if good else "bold red")
        parts.append((FINE if good else TROUBLE, part))
    return parts


def fitted(entries: list[list[Part]], width: int, label: str = "Health ") -> Text:
    """The entries joined with " · ", leaving out the least important parts (the last
    service's first) until the line fits; a line still too long is cut with an ellipsis."""
    kept = [list(parts) for parts in entries]

    def line() -> Text:
        text = Text(label, style="bold")
        for index, parts in enumerate(kept):
            if index:
                text.append(" · ", style="dim")
            for _, part in parts:
                text.append_text(part)
        return text

    text = line()
    while text.cell_len > width:
        droppable = [(priority, i, j) for i, parts in enumerate(kept) for j, (priority, _) in enumerate(parts) if priority != NAME]
        if not droppable:
            break
        _, i, j = max(droppable)
        del kept[i][j]
        text = line()
    text.truncate(width, overflow="ellipsis")
    return text


class HealthBar(QuietStatic):
    def __init__(self, services: list[tuple[str, list[str]]], **kwargs):
        """`services`: (name, words meaning healthy) of each [[api.health]], in order."""
        super().__init__(**kwargs)
        self.services = services
        self._snapshot: Snapshot | None = None

    def show(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        stale = [snapshot.source(health_source(name)).stale for name, _ in self.services]
        self.set_class(all(stale), "-stale")
        entries = [
            service_parts(name, snapshot.source(health_source(name)), snapshot.taken_at, {w.lower() for w in ok} | {"ok"})
            for name, ok in self.services
        ]
        width = self.content_size.width or FALLBACK_WIDTH
        if self.has_class("-full"):  # a line of its own for each service, all it said
            lines = [fitted([parts], width, label="") for parts in entries]
            self.show_text(Text("\n").join(lines))
        else:
            self.show_text(fitted(entries, width))

    def on_resize(self) -> None:
        if self._snapshot is not None:
            self.show(self._snapshot)
