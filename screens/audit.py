"""The audit screen: the console's own log beside the backend's ([api.audit_logs])."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.controls import Controls
from console.config import read_token
from console.sources.http import SourceError, get_json, http_client
from console.sources.json_mapping import Records, as_text
from console.text import plain
from screens.widgets.mode_line import ModeLine

SHOWN = 200


def describe_record(record: dict[str, Any], unknown: set[str]) -> Text:
    text = Text()
    text.append(plain(str(record.get("at", "?"))[11:19], 8) + " ", style="dim")
    kind = str(record.get("type", "?"))
    user = (record.get("operator") or {}).get("user", "")
    text.append(f"{plain(user, 12)} ", style="cyan")
    if kind == "intent" and record.get("intent") in unknown:
        text.append("OUTCOME UNKNOWN ", style="bold white on red")
    text.append(f"{plain(kind, 11)} ", style="bold")
    if kind in ("intent", "refused", "result"):
        text.append(plain(record.get("action", ""), 30))
        if kind == "result":
            status = record.get("status")
            text.append(f" {'ok' if record.get('ok') else 'FAILED'} {status if status is not None else ''}", style="green" if record.get("ok") else "bold red")
            text.append(f" {record.get('duration_ms', '?')}ms done {record.get('done', '?')}")
            if record.get("error"):
                text.append(" " + plain(record["error"], 80), style="red")
        else:
            targets = record.get("targets") or []
            text.append(" " + plain(" ".join(targets[:3]) + (f" +{len(targets) - 3}" if len(targets) > 3 else ""), 60))
            if record.get("environment"):
                text.append(f" on {plain(record['environment'], 40)}")
            if kind == "refused":
                text.append(" " + plain(record.get("reason", ""), 80), style="red")
        text.append(f" key {plain(str(record.get('intent', ''))[:8], 8)}", style="dim")
    else:
        text.append(plain(record.get("text", ""), 200))
    return text


class AuditScreen(Screen):
    CSS_PATH = "incident.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="audit.back", tooltip="Back to the dashboard"),
        Binding("r", "reload", "Reload", id="audit.reload", tooltip="Read both logs again"),
    ]

    def __init__(self, controls: Controls):
        super().__init__()
        self.controls = controls
        token = read_token(controls.config.api)
        self.client = http_client(token)

    def compose(self) -> ComposeResult:
        yield ModeLine(id="audit-mode")
        with Horizontal(id="audit-panes"):
            with VerticalScroll(id="audit-console") as left:
                left.border_title = "This console (newest first)"
                yield Static(id="audit-console-text")
            with VerticalScroll(id="audit-backend") as right:
                right.border_title = "Backend audit log"
                yield Static(id="audit-backend-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(ModeLine).show_detail(Text(f"Audit log {self.controls.audit.path}", style="bold"))
        self.action_reload()

    async def on_unmount(self) -> None:
        await self.client.aclose()

    def action_back(self) -> None:
        self.dismiss()

    def action_reload(self) -> None:
        self.read_console_log()
        self.read_backend_log()

    @work(thread=True, exclusive=True, group="audit-console")
    def read_console_log(self) -> None:
        records = self.controls.audit.records()
        unknown = {r.get("intent") for r in self.controls.audit.unresolved()}
        text = Text()
        for record in reversed(records[-SHOWN:]):
            text.append_text(describe_record(record, unknown))
            text.append("\n")
        self.app.call_from_thread(self.query_one("#audit-console-text", Static).update, text or Text("(empty)"))

    @work(exclusive=True, group="audit-backend")
    async def read_backend_log(self) -> None:
        api = self.controls.config.api
        text = Text()
        if api.audit_logs is None:
            text.append("this API has no audit log ([api.audit_logs] is not in the config)", style="dim")
            self.query_one("#audit-backend-text", Static).update(text)
            return
        try:
            records = Records(await get_json(self.client, api.base_url + api.audit_logs.path, api.timeout_s), api.audit_logs)
        except SourceError as exc:
            text.append(f"unavailable: {plain(str(exc), 100)}", style="bold red")
        else:
            for get in records.rows():
                text.append(plain((as_text(get("at")) or "?")[11:19], 8) + " ", style="dim")
                text.append(plain(as_text(get("actor")), 20) + " ", style="cyan")
                text.append(plain(as_text(get("action")), 30) + " ", style="bold")
                text.append(plain(as_text(get("target")), 40) + " " + plain(as_text(get("detail")), 120) + "\n")
        self.query_one("#audit-backend-text", Static).update(text or Text("(empty)"))
