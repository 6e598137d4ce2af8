"""A batch in progress: chunks sent at a bounded rate, a progress bar, cancel between chunks,
and at the end what was done and what was not."""

from __future__ import annotations

import asyncio

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import ProgressBar, Static

from console.execution import ActionRefused, Executor, Intent, Outcome
from console.text import plain
from screens.action_messages import ActionFinished, ActionProgressed
from screens.widgets.environment_chip import environment_tag


class BatchScreen(ModalScreen[Outcome | None]):
    CSS_PATH = "modals.tcss"
    BINDINGS = [
        Binding("escape,c", "cancel", "Cancel / close", id="batch.cancel", tooltip="Stop after the chunk in flight; close when finished"),
    ]

    def __init__(self, intent: Intent, executor: Executor):
        super().__init__()
        self.intent = intent
        self.executor = executor
        self.cancel = asyncio.Event()
        self.outcome: Outcome | None = None

    def compose(self) -> ComposeResult:
        plan = self.intent.plan
        with Vertical(classes="dialog"):
            yield Static(Text(f"{plan.action.title}: {plan.count:,} targets on ").append_text(environment_tag(plan.environment)), classes="title")
            yield ProgressBar(total=plan.count, show_eta=False, id="batch-progress")
            yield Static(Text(f"sending {len(plan.calls)} requests; c or Esc cancels after the chunk in flight"), id="batch-status")

    def on_mount(self) -> None:
        self.send()

    @work(exclusive=True, group="batch")
    async def send(self) -> None:
        def progress(done: int, total: int) -> None:
            self.post_message(ActionProgressed(self.intent.key, done, total))

        try:
            outcome = await self.executor.run(self.intent, progress, self.cancel)
        except ActionRefused as exc:
            outcome = Outcome(self.intent, refused=str(exc))
        self.post_message(ActionFinished(outcome))

    @on(ActionProgressed)
    def _progressed(self, message: ActionProgressed) -> None:
        self.query_one(ProgressBar).update(progress=message.done)
        self.query_one("#batch-status", Static).update(Text(f"{message.done:,} of {message.total:,} done"))

    @on(ActionFinished)
    def _finished(self, message: ActionFinished) -> None:
        message.stop()  # the app hears about it when the screen closes
        self.outcome = message.outcome
        text = Text(plain(message.outcome.summary(), 300), style="bold")
        if message.outcome.not_done:
            text.append("\nnot done: " + plain(" ".join(message.outcome.not_done[:200]), 2000))
        text.append("\nEsc closes.", style="dim")
        self.query_one("#batch-status", Static).update(text)

    def action_cancel(self) -> None:
        if self.outcome is not None:
            self.dismiss(self.outcome)
        else:
            self.cancel.set()
            self.query_one("#batch-status", Static).update(Text("cancelling after the chunk in flight…"))
