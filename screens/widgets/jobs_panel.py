"""Recent jobs, as the API lists them: shown where the leases would be, for an API that
has no leases (the lecture pipeline, a BullMQ queue, a batch API)."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.widgets import DataTable

from console.format import coarse_age
from console.models import Job, Snapshot, SourceState, seconds_between
from console.poller import JOBS
from screens.widgets.source_panel import SourcePanel
from screens.widgets.tables import LIVE_ROWS, cell, make_table, sync_rows

COLUMNS = [("job", "Job"), ("state", "State"), ("stage", "Stage"), ("tries", "Try"), ("age", "Age"), ("error", "Error")]


def _newest_first(job: Job) -> float:
    return -job.updated_at.timestamp() if isinstance(job.updated_at, datetime) else float("inf")


class JobsPanel(SourcePanel):
    SOURCE = JOBS
    TITLE = "Jobs"

    def compose(self) -> ComposeResult:
        yield make_table(COLUMNS)

    def title_for(self, state: SourceState) -> str:
        if state.data is None:
            return self.TITLE
        jobs: tuple[Job, ...] = state.data
        failing = sum(1 for job in jobs if job.error)
        # The API's recent list, not the queue: say how many it sent, and how many failed.
        return f"Jobs: {len(jobs):,} recent" + (f", {failing:,} with errors" if failing else "")

    def show_data(self, state: SourceState, snapshot: Snapshot) -> None:
        now = state.server_now
        # Jobs with an error first (what the operator is looking for), then the newest.
        ordered = sorted(state.data, key=lambda job: (not job.error, _newest_first(job), job.id))
        rows = {}
        for job in ordered[:LIVE_ROWS]:
            rows[job.id] = (
                cell(job.id),
                cell(job.state, "bold red" if job.error else ""),
                cell(job.stage or "-"),
                cell("?" if job.attempts is None else job.attempts),
                cell(coarse_age(seconds_between(job.updated_at, now))),
                cell(job.error or "", "red", limit=120),
            )
        sync_rows(self.query_one(DataTable), rows)
