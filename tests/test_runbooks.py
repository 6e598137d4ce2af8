"""Markdown runbooks → sections and checklist steps: the seeds the product was specified
from, runbooks in other styles written here, the project's own runbooks, and the rule
that nothing the author wrote is lost (every word shows up in `runbook_text`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from console.config import load_config, shipped_config_path
from console.runbook_model import Runbook, StepLink
from console.runbooks import load_runbook, load_runbooks, parse_runbook, runbook_text
from tests.runbook_words import missing_words

ROOT = Path(__file__).resolve().parent.parent
# The seeds live beside the worktrees (/work/shared/seeds), never in the repository; a
# clean clone elsewhere has none, and only the tests that read them are skipped.
SEEDS = Path(os.environ.get("OPSCONSOLE_SEEDS") or Path(__file__).resolve().parents[2] / "shared" / "seeds")
needs_seeds = pytest.mark.skipif(
    not (SEEDS.is_dir() and any(SEEDS.glob("*.txt"))), reason=f"no seed runbooks at {SEEDS} (set OPSCONSOLE_SEEDS)"
)


def parse(markdown: str, runbook_id: str = "rb") -> Runbook:
    return parse_runbook(markdown, Path(f"{runbook_id}.md"), runbook_id)


def assert_nothing_lost(markdown: str, runbook: Runbook) -> None:
    assert not missing_words(markdown, runbook_text(runbook))


def assert_keys_unique(runbook: Runbook) -> None:
    keys = [step.key for step in runbook.steps()]
    assert len(keys) == len(set(keys))
    assert len({section.slug for section in runbook.sections}) == len(runbook.sections)


def seed(prefix: str) -> tuple[str, Runbook]:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    return path.read_text(encoding="utf-8"), load_runbook(path, SEEDS)


# -- the seeds ----------------------------------------------------------------------------


@needs_seeds
@pytest.mark.parametrize("prefix", ["000", "001", "002"])
def test_seed_runbooks_import_whole_and_clean(prefix):
    text, runbook = seed(prefix)
    assert runbook.problems == ()
    assert runbook.title.startswith("Incident Response Runbook")
    assert_nothing_lost(text, runbook)
    assert_keys_unique(runbook)


@needs_seeds
def test_seed_lecture_pipeline_sections_steps_and_commands():
    _, runbook = seed("000")
    slugs = [section.slug for section in runbook.sections]
    # The same sub-heading under each outage gets its own slug, in order.
    assert [slug for slug in slugs if slug.startswith("signals")] == ["signals", "signals-2", "signals-3"]
    assert runbook.section("a-queue-outage-backlog-incident").level == 2
    recovery = runbook.section("recovery")
    assert [step.key for step in recovery.walk()] == [
        "recovery/1", "recovery/2", "recovery/2.1", "recovery/3", "recovery/3.1", "recovery/3.2", "recovery/4",
    ]
    replay = recovery.steps[2].steps[1]
    assert replay.text == "replay: `POST /jobs/dead-letter/replay`"
    assert replay.commands == ("POST /jobs/dead-letter/replay",)
    assert "SEV-1: Full production outage" in runbook.section("severity-model").steps[0].text


@needs_seeds
def test_seed_execution_runtime_keeps_text_between_lists_in_reading_order():
    _, runbook = seed("001")
    stalled = runbook.section("queue-depth-rising-no-dispatch")
    assert stalled.text == "Symptoms:"
    # Symptoms and actions are lists of one section: keys count on through both, and the
    # "Actions:" between them stays right above the first action.
    assert [step.key.split("/")[1] for step in stalled.steps] == ["1", "2", "3", "4", "5", "6", "7"]
    assert stalled.steps[1].detail == "Actions:"
    assert stalled.steps[3].commands == ("backpressure_total",)
    surface = runbook.section("1-first-five-minutes").steps[0]
    assert surface.text == "Identify the affected surface:"
    assert [child.text for child in surface.steps] == ["execution API", "worker loop", "persistence", "operator control plane"]
    triage = runbook.section("3-triage-data-to-collect")
    assert "```bash\ncurl -s http://127.0.0.1:8080/healthz" in triage.text
    assert triage.steps[0].commands == ("oris_runtime_queue_depth",)
    guide = runbook.section("incident-response-runbook").steps[0]
    assert guide.text == "Production operations guide (production-operations-guide.md)" and guide.links == ()


@needs_seeds
def test_seed_schedule_generator_code_in_steps_tables_and_fenced_markdown():
    _, runbook = seed("002")
    error_rate = runbook.section("1-high-error-rate-5")
    health = next(step for step in error_rate.steps if step.text == "Check Service Health")
    assert health.commands[0].splitlines() == [
        "# Check all service health endpoints",
        "curl http://localhost:3000/health",
        "curl http://localhost:8000/health",
        "curl http://localhost:8001/health",
    ]
    # The table after the last step is read after the steps, where it stands.
    assert "Recent bad deployment | Rollback using `scripts/rollback.sh` | 5-10 min" in error_rate.after
    assert error_rate.text == "Alert: `HighErrorRate` - Error rate exceeds 5% for 5 minutes\nSymptoms:"
    shown = runbook_text(runbook)
    assert shown.index("7.3 [ ] Look for resource exhaustion") < shown.index("Common Causes & Solutions:") < shown.index("### 2. Slow")
    # The post-incident template is a fenced block: its headings are not sections.
    assert not any(section.title.startswith("Post-Incident Review:") for section in runbook.sections)
    assert "# Post-Incident Review: INC-YYYY-MM-DD-NNN" in shown


# -- other styles -------------------------------------------------------------------------

ALERT_PAGE = """\
<!-- Generated from the alert rules; the words in here are never shown: zebraword -->
QueueDepthHigh
==============

Meaning
-------

More than 500 jobs have waited for five minutes.

Impact
------

> Lectures come out late; people see *processing* for longer.
> Nothing is lost yet.

Diagnosis
---------

1. Read the [queue depth](signal:queue_depth) tile.

   A flat arrow means the queue is not growing any more.

2. Count busy workers:

```sh
curl -s localhost:8080/v1/workers
```

Compare the count with the fleet size.

3. Look at the leases <!-- inline aside --> panel.

| Lease | Meaning |
|-------|---------|
| STALE | holder stopped beating |

Mitigation
----------

- [x] Page the owner
- [ ] [Pause intake](action:pause-intake) while workers recover
  - [ ] Confirm with `curl -s localhost:8080/healthz`
  - [X] Tell support<br>by chat
- [ ] Read [the guide](https://example.com/guide) &amp; follow it
"""


def test_alert_style_page_with_setext_headings_and_comments():
    runbook = parse(ALERT_PAGE, "queue-depth-high")
    assert runbook.problems == ()
    assert runbook.title == "QueueDepthHigh"
    assert [(s.slug, s.level) for s in runbook.sections] == [
        ("queuedepthhigh", 1), ("meaning", 2), ("impact", 2), ("diagnosis", 2), ("mitigation", 2),
    ]
    assert runbook.section("meaning").text == "More than 500 jobs have waited for five minutes."
    assert runbook.section("impact").text == "> Lectures come out late; people see processing for longer. Nothing is lost yet."
    shown = runbook_text(runbook)
    assert "zebraword" not in shown and "inline aside" not in shown and "<!--" not in shown
    assert_nothing_lost(ALERT_PAGE, runbook)


def test_numbered_steps_with_paragraphs_code_and_tables_between_them():
    diagnosis = parse(ALERT_PAGE).section("diagnosis")
    first, second, third = diagnosis.steps
    assert [step.key for step in diagnosis.steps] == ["diagnosis/1", "diagnosis/2", "diagnosis/3"]
    assert first.detail == "A flat arrow means the queue is not growing any more."
    assert first.links == (StepLink("signal", "queue_depth", "queue depth"),)
    assert first.text == "Read the queue depth tile."
    # The fence and paragraph stand between 2. and 3.: they belong to step 2.
    assert second.commands == ("curl -s localhost:8080/v1/workers",)
    assert second.detail == "Compare the count with the fleet size."
    assert third.text == "Look at the leases  panel."
    # After the last step, nothing follows to go between: the table comes after the steps.
    assert (diagnosis.text, diagnosis.after) == ("", "Lease | Meaning\nSTALE | holder stopped beating")


def test_nested_task_lists_tick_state_commands_and_links():
    mitigation = parse(ALERT_PAGE).section("mitigation")
    page, pause, guide = mitigation.steps
    assert (page.text, page.checked) == ("Page the owner", True)
    assert (pause.text, pause.checked) == ("Pause intake while workers recover", False)
    assert pause.links == (StepLink("action", "pause-intake", "Pause intake"),)
    confirm, tell = pause.steps
    assert (confirm.key, confirm.checked, confirm.commands) == ("mitigation/2.1", False, ("curl -s localhost:8080/healthz",))
    assert confirm.text == "Confirm with `curl -s localhost:8080/healthz`"
    assert (tell.key, tell.checked, tell.text) == ("mitigation/2.2", True, "Tell support\nby chat")
    assert guide.text == "Read the guide (https://example.com/guide) & follow it" and guide.links == ()


IN_ORDER = """\
# Restart a worker

Only for a worker that holds no lease.

1. Stop the worker.
2. Wait for its lease to lapse.

This takes up to 30 seconds.

3. Start it again.
4. Watch its heartbeat.

> When it beats again, go to [b]Done[/b].

| Then | Tell |
| ---- | ---- |
| chat | #ops |

# Done

Close the incident.
"""


def test_text_before_between_and_after_lists_is_shown_where_it_stands():
    runbook = parse(IN_ORDER)
    section = runbook.section("restart-a-worker")
    # Keys count on through both lists; the paragraph between them explains step 2.
    assert [step.key for step in section.steps] == ["restart-a-worker/1", "restart-a-worker/2", "restart-a-worker/3", "restart-a-worker/4"]
    assert section.text == "Only for a worker that holds no lease."
    assert section.steps[1].detail == "This takes up to 30 seconds."
    assert section.after == "> When it beats again, go to [b]Done[/b].\nThen | Tell\nchat | #ops"
    assert runbook_text(runbook).split("\n")[3:] == [
        "# Restart a worker  [restart-a-worker]",
        "Only for a worker that holds no lease.",
        "  1 [ ] Stop the worker.",
        "  2 [ ] Wait for its lease to lapse.",
        "        This takes up to 30 seconds.",
        "  3 [ ] Start it again.",
        "  4 [ ] Watch its heartbeat.",
        "> When it beats again, go to [b]Done[/b].",
        "Then | Tell",
        "chat | #ops",
        "",
        "# Done  [done]",
        "Close the incident.",
        "",
    ]
    assert_nothing_lost(IN_ORDER, runbook)


def test_quotes_tables_and_fenced_code_inside_steps():
    markdown = """\
Text before any heading is kept.

# Failover

- Promote the replica
  > Only when the primary is really gone.

  | Host | Role |
  | ---- | ---- |
  | db-2 | replica |

  ```
  pg_ctl promote -D /var/lib/db
  ```

      systemctl restart app
"""
    runbook = parse(markdown)
    top, failover = runbook.sections
    assert (top.level, top.slug, top.title, top.text) == (0, "top", "", "Text before any heading is kept.")
    assert runbook.title == "Failover"
    step = failover.steps[0]
    assert step.detail == "> Only when the primary is really gone.\nHost | Role\ndb-2 | replica"
    assert step.commands == ("pg_ctl promote -D /var/lib/db", "systemctl restart app")
    assert_nothing_lost(markdown, runbook)
    assert_keys_unique(runbook)


def test_lists_inside_quotes_stay_quoted_text():
    markdown = "# Notes\n\n> Checked last time:\n>\n> - [x] backups\n> 1. restore drill\n"
    section = parse(markdown).section("notes")
    assert section.steps == ()
    assert section.text == "> Checked last time:\n> - [x] backups\n> 1. restore drill"


def test_problems_a_writer_can_fix():
    markdown = """\
# Runbook

## Empty

## Steps

- [ ]
- Use [typo](acton:pause-intake) and [nothing](action:)
- Use [a ssh link](ssh://bastion) and [mail](mailto:oncall@example.com)

[Outside](action:pause-intake) any step.

## Steps
"""
    runbook = parse(markdown)
    assert runbook.problems == (
        "line 3: section 'Empty' has neither text nor steps",
        "line 7: empty step in section 'Steps'",
        "line 8: link 'acton:pause-intake' has unknown scheme 'acton:' (step links are action: or signal:)",
        "line 8: link 'action:' names no action",
        "line 11: action link 'action:pause-intake' is outside any step, so the console cannot offer it",
        "line 13: section 'Steps' has neither text nor steps",
        "line 13: heading 'Steps' repeats one above it at the same level; this one is 'steps-2'",
    )
    assert [section.slug for section in runbook.sections] == ["runbook", "empty", "steps", "steps-2"]
    assert_nothing_lost(markdown, runbook)


def test_the_same_heading_under_different_parents_is_no_problem():
    runbook = parse("# A\n## Signals\nx\n# B\n## Signals\ny\n")
    assert runbook.problems == ()
    assert [section.slug for section in runbook.sections] == ["a", "signals", "b", "signals-2"]


def test_no_heading_unclosed_comment_and_empty_file():
    flat = parse("- one\n- two\n")
    assert flat.title == "rb" and flat.problems == ("no heading: the whole file is one untitled section",)
    assert [step.key for step in flat.steps()] == ["top/1", "top/2"]
    hidden = parse("# Title\n\nshown\n\n<!-- never closed\n\n## Lost\n")
    assert hidden.problems == ("line 5: HTML comment never closed: everything after it is hidden",)
    assert parse("").problems == ("empty: nothing to show",)
    assert parse("<!-- only a comment -->\n").sections == ()


def test_undecodable_and_unreadable_files_become_runbooks_with_problems(tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes("# Café\n\n- step one\n".encode("latin-1"))
    runbook = load_runbook(path, tmp_path)
    assert runbook.id == "latin1" and runbook.title == "Caf\ufffd"
    assert runbook.problems == ("not UTF-8: byte 0xe9 at offset 5 (invalid continuation byte); shown as \ufffd",)
    assert [step.text for step in runbook.steps()] == ["step one"]
    (tmp_path / "folder.md").mkdir()
    unreadable = load_runbook(tmp_path / "folder.md", tmp_path)
    assert unreadable.sections == () and unreadable.problems[0].startswith("cannot read: ")


def test_load_runbooks_ids_order_and_duplicates(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "db").mkdir(parents=True)
    (first / ".drafts").mkdir()
    second.mkdir()
    (first / "db" / "failover.md").write_text("# Failover\n")
    (first / "queue.md").write_text("# Queue\n\ntext\n")
    (first / ".drafts" / "wip.md").write_text("# WIP\n")
    (first / "notes.txt").write_text("not a runbook")
    (second / "queue.md").write_text("# Other queue\n\ntext\n")
    (second / "alerts.md").write_text("# Alerts\n\ntext\n")
    runbooks = load_runbooks([first, str(second), tmp_path / "missing"])
    assert [(r.id, r.title) for r in runbooks] == [
        ("alerts", "Alerts"), ("db/failover", "Failover"), ("queue", "Queue"), ("queue", "Other queue"),
    ]
    assert runbooks[2].problems == ()
    assert runbooks[3].problems == (f"same id as {first / 'queue.md'}, which comes first and is the one suggestions open",)


# -- the project's own runbooks -------------------------------------------------------------


def test_shipped_runbooks_are_clean_whole_and_linked_to_the_catalogue():
    config = load_config(shipped_config_path())
    runbooks = load_runbooks(config.runbooks.dirs)
    assert [r.id for r in runbooks] == ["dead-letters", "error-rate", "queue-backlog", "workers-and-leases"]
    actions = {action.name for action in config.actions}
    signals = {signal.name for signal in config.signals}
    for runbook in runbooks:
        assert runbook.problems == (), runbook.id
        assert_nothing_lost(runbook.path.read_text(), runbook)
        assert_keys_unique(runbook)
        for step in runbook.steps():
            for link in step.links:
                assert link.name in (actions if link.kind == "action" else signals), (runbook.id, step.key, link)
    stalled = next(r for r in runbooks if r.id == "queue-backlog").section("dispatch-stalled")
    linked = {(link.kind, link.name) for step in stalled.walk() for link in step.links}
    assert {("action", "pause-intake"), ("action", "resume-intake"), ("signal", "queue_depth")} <= linked
    for suggestion in config.runbooks.suggest:
        runbook = next(r for r in runbooks if r.id == suggestion.runbook)
        assert suggestion.section == "" or runbook.section(suggestion.section) is not None
