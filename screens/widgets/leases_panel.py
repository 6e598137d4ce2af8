"""Leases: which worker holds which job, and which leases expired but are still held."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import DataTable

from console.format import duration
from console.models import Lease, Snapshot, SourceState
from console.poller import LEASES
from screens.widgets.source_panel import SourcePanel
from screens.widgets.tables import cell, make_table, sync_rows

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
        return f"Leases {len(state.data)}" + (f", {stale} STALE" if stale else "")

    def show_data(self, state: SourceState, snapshot: Snapshot) -> None:
        now = state.server_now
        leases: tuple[Lease, ...] = state.data
        # Stale leases first (what the operator is looking for), then oldest first: an
        # order that renewals do not shuffle, so the table only changes when leases do.
        ordered = sorted(
            leases,
            key=lambda lease: (not (now and lease.is_stale(now)), lease.acquired_at or now or 0, lease.id),
        )
        rows = {}
        for lease in ordered:
            stale = now is not None and lease.is_stale(now)
            held = None if now is None or lease.acquired_at is None else (now - lease.acquired_at).total_seconds()
            rows[lease.id or f"{lease.job}@{lease.worker}"] = (
                cell(lease.job),
                cell(lease.worker),
                cell(duration(held)),
                cell(
                    f"{duration(lease.expires_in(now))} STALE" if stale else duration(lease.expires_in(now) if now else None),
                    "bold red" if stale else "",
                ),
            )
        sync_rows(self.query_one(DataTable), rows)
