"""Workers: who is alive, what they hold, when they last heartbeated."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import DataTable

from console.format import coarse_age, duration
from console.models import Snapshot, SourceState, Worker, seconds_between
from console.poller import WORKERS
from screens.widgets.source_panel import SourcePanel
from screens.widgets.tables import LIVE_ROWS, cell, make_table, sync_rows

COLUMNS = [("worker", "Worker"), ("state", "State"), ("heartbeat", "Beat"), ("job", "Job"), ("leases", "Held")]
STATE_STYLES = {"busy": "green", "idle": "", "stalled": "bold red", "dead": "bold red", "draining": "yellow"}


class WorkersPanel(SourcePanel):
    SOURCE = WORKERS
    TITLE = "Workers"

    def __init__(self, heartbeat_stale_s: float, leases: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.heartbeat_stale_s = heartbeat_stale_s
        self.leases = leases
        """Whether this API has leases: without them, Held would be "?" on every row."""

    def compose(self) -> ComposeResult:
        yield make_table(COLUMNS if self.leases else COLUMNS[:-1])

    def title_for(self, state: SourceState) -> str:
        if state.data is None:
            return self.TITLE
        workers: tuple[Worker, ...] = state.data
        late = sum(1 for w in workers if self._late(w, state))
        suffix = (f", {late:,} late" if late else "") + (f", first {LIVE_ROWS}" if len(workers) > LIVE_ROWS else "")
        return f"Workers {len(workers):,}{suffix}"

    def _age(self, worker: Worker, state: SourceState) -> float | None:
        return seconds_between(worker.last_heartbeat, state.server_now)

    def _late(self, worker: Worker, state: SourceState) -> bool:
        age = self._age(worker, state)
        return age is not None and age > self.heartbeat_stale_s

    def show_data(self, state: SourceState, snapshot: Snapshot) -> None:
        rows = {}
        # Late workers first (what the operator is looking for), then by id.
        for worker in sorted(state.data, key=lambda w: (not self._late(w, state), w.id))[:LIVE_ROWS]:
            late, age = self._late(worker, state), self._age(worker, state)
            rows[worker.id] = (
                cell(worker.id),
                cell(worker.state, STATE_STYLES.get(worker.state, "")),
                # A late worker's age counts by the second; an alive one's in 5 s steps.
                cell(duration(age) if late else coarse_age(age, 5), "bold red" if late else ""),
                cell(worker.current_job or "-"),
            ) + ((cell("?" if worker.leases_held is None else worker.leases_held),) if self.leases else ())
        sync_rows(self.query_one(DataTable), rows)
