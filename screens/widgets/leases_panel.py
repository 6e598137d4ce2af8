"""Leases: which worker holds which job, and which leases expired but are still held."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import DataTable

from console.format import coarse_age, duration
from console.models import Lease, Snapshot, SourceState, seconds_between
from console.poller import LEASES
from screens.widgets.source_panel import SourcePanel
from screens.widgets.tables import LIVE_ROWS, cell, make_table, sync_rows

COLUMNS = [("job", "Job"), ("worker", "Worker"), ("age", "Age"), ("expires", "Expires")]


class LeasesPanel(SourcePanel):
    SOURCE = LEASES
    TITLE = "Leases"

    def compose(self) -> ComposeResult:
        yield make_table(COLUMNS)

    def title_for(self, state: SourceState) -> str:
        if state.data is None or state.server_now is None:
            return self.TITLE
        stale = sum(1 for lease in state.data if lease.is_stale(state.server_now))
        shown = f", first {LIVE_ROWS}" if len(state.data) > LIVE_ROWS else ""
        return f"Leases {len(state.data):,}" + (f", {stale:,} STALE" if stale else "") + shown

    def show_data(self, state: SourceState, snapshot: Snapshot) -> None:
        now = state.server_now
        leases: tuple[Lease, ...] = state.data
        # Stale leases first (what the operator is looking for), then oldest first: an
        # order that renewals do not shuffle, so the table only changes when leases do.
        ordered = sorted(
            leases,
            key=lambda lease: (
                not lease.is_stale(now),
                lease.acquired_at.timestamp() if lease.acquired_at else float("inf"),
                lease.id,
            ),
        )
        rows = {}
        for lease in ordered[:LIVE_ROWS]:
            stale = lease.is_stale(now)
            # Live ages in 10 s steps; how long a stale lease has been expired, by the second.
            expires = duration(lease.expires_in(now)) + " STALE" if stale else coarse_age(lease.expires_in(now))
            rows[lease.id or f"{lease.job}@{lease.worker}"] = (
                cell(lease.job),
                cell(lease.worker),
                cell(coarse_age(seconds_between(lease.acquired_at, now))),
                cell(expires, "bold red" if stale else ""),
            )
        sync_rows(self.query_one(DataTable), rows)
