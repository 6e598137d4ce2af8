"""The typed confirmation: exactly what will be sent, to how many targets, where; then the phrase.

Nothing is sent from here. Enter with the exact phrase returns an `Intent` (with its
Idempotency-Key); a wrong phrase says so and stays; Esc returns nothing. Enter alone is
never "yes".
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.actions import Plan
from console.execution import Executor, Intent, WrongPhrase
from console.format import duration
from console.text import plain
from screens.widgets.environment_chip import environment_tag

CALLS_SHOWN = 20  # a 10,000-target batch has 100 requests of one shape; the ids are all listed


def describe_plan(plan: Plan) -> Text:
    text = Text()
    for call in plan.calls[:CALLS_SHOWN]:
        text.append(plain(call.describe().split("\n")[0]) + "\n", style="bold")
        if "\n" in call.describe():
            text.append(plain(call.describe().split("\n", 1)[1]) + "\n")
    if len(plan.calls) > CALLS_SHOWN:
        text.append(f"… and {len(plan.calls) - CALLS_SHOWN} more requests of the same shape\n", style="bold")
    if plan.action.batch:
        text.append(f"\nThe {plan.count:,} targets, counted now (later arrivals are not included):\n", style="dim")
        text.append(plain(" ".join(plan.targets)))
    text.rstrip()
    return text


def recent_warning(record: dict[str, Any] | None, now: float) -> str:
    if not record:
        return ""
    who = record.get("operator") or {}
    user = who.get("user", "someone") + (f"@{who['client']}" if who.get("client") else "")
    ago = duration(now - float(record.get("ts", now)))
    targets = ", ".join((record.get("targets") or [])[:3])
    return f"⚠ {plain(user, 40)} already did this to {plain(targets, 60)} at {plain(record.get('at', '?'), 30)} ({ago} ago)"


class ConfirmScreen(ModalScreen[Intent | None]):
    CSS_PATH = "modals.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm.cancel", tooltip="Close; nothing is sent")]

    def __init__(self, plan: Plan, executor: Executor, recent: dict[str, Any] | None = None, now: float | None = None):
        super().__init__()
        self.plan = plan
        self.executor = executor
        self.recent = recent
        self.now = time.time() if now is None else now
        self.attempts = 0

    def compose(self) -> ComposeResult:
        plan = self.plan
        head = Text()
        head.append(f"{plan.action.title}", style="bold")
        head.append("  on ")
        head.append_text(environment_tag(plan.environment))
        head.append(f"  {plan.count:,} target{'s' if plan.count != 1 else ''}" if plan.action.row != "none" else "")
        with Vertical(classes="dialog -danger"):
            yield Static(head, classes="title")
            if plan.meta:
                yield Static(Text(" · ".join(f"{k}: {plain(v, 60)}" for k, v in plan.meta.items())))
            with VerticalScroll(id="requests"):
                yield Static(describe_plan(plan))
            warning = recent_warning(self.recent, self.now)
            if warning:
                yield Static(Text(warning), classes="warning")
            prompt = Text("Type ")
            prompt.append(f" {plain(plan.phrase)} ", style="bold reverse")
            prompt.append(" and press Enter to send. Esc cancels; nothing has been sent.")
            yield Static(prompt)
            yield Input(id="phrase")
            yield Static("", id="confirm-error", classes="error")

    def on_mount(self) -> None:
        self.query_one("#phrase", Input).focus()

    @on(Input.Submitted, "#phrase")
    def _submitted(self, event: Input.Submitted) -> None:
        try:
            intent = self.executor.confirm(self.plan, event.value)
        except WrongPhrase as exc:
            self.attempts += 1
            self.query_one("#confirm-error", Static).update(Text(f"Not sent: {exc}"))
            return
        self.dismiss(intent)

    def action_cancel(self) -> None:
        self.dismiss(None)
