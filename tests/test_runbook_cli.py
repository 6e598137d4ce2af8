"""`opsconsole runbook show|lint` and the runbook checks of `check-config`, run as a shell
runs them: a subprocess, with -X importtime to prove none of them loads Textual."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from tests.runbook_words import missing_words

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_RUNBOOKS = ROOT / "runbooks"


def opsconsole(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "console.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert " textual" not in result.stderr  # importtime lists every module loaded
    result.stderr = "\n".join(line for line in result.stderr.splitlines() if not line.startswith("import time:"))
    return result


RUNBOOK = """\
# Dispatch stalled

Jobs wait and nobody claims them.

1. Check the workers
   - [x] count busy workers
   - [ ] [Pause intake](action:pause-intake) if the queue keeps rising

     ```
     curl -s localhost:8080/v1/workers
     ```

2. Watch [queue depth](signal:queue_depth)

Give it five minutes.

3. Resume intake

When the queue is back under 100, go to Done.
"""


def test_show_prints_sections_nested_steps_ticks_commands_and_links(tmp_path):
    path = tmp_path / "stalled.md"
    path.write_text(RUNBOOK)
    result = opsconsole("runbook", "show", str(path))
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "Dispatch stalled\n"
        "================\n"
        "\n"
        "# Dispatch stalled  [dispatch-stalled]\n"
        "Jobs wait and nobody claims them.\n"
        "  1 [ ] Check the workers\n"
        "    1.1 [x] count busy workers\n"
        "    1.2 [ ] Pause intake if the queue keeps rising\n"
        "            $ curl -s localhost:8080/v1/workers\n"
        "            → action pause-intake (Pause intake)\n"
        "  2 [ ] Watch queue depth\n"
        "        Give it five minutes.\n"
        "        → signal queue_depth (queue depth)\n"
        "  3 [ ] Resume intake\n"
        "When the queue is back under 100, go to Done.\n"
    )
    assert not missing_words(RUNBOOK, result.stdout)


def test_show_json_has_the_documented_shape(tmp_path):
    path = tmp_path / "stalled.md"
    path.write_text(RUNBOOK)
    result = opsconsole("runbook", "show", "--json", str(path))
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["id"], data["title"]) == ("stalled", "Dispatch stalled")
    (section,) = data["sections"]
    assert (section["title"], section["level"], section["text"]) == ("Dispatch stalled", 1, "Jobs wait and nobody claims them.")
    assert section["after"] == "When the queue is back under 100, go to Done."
    first, second, third = section["steps"]
    assert (second["detail"], third["text"]) == ("Give it five minutes.", "Resume intake")
    assert (first["text"], first["checked"], first["commands"]) == ("Check the workers", False, [])
    assert [(s["text"], s["checked"], s["commands"], s["steps"]) for s in first["steps"]] == [
        ("count busy workers", True, [], []),
        ("Pause intake if the queue keeps rising", False, ["curl -s localhost:8080/v1/workers"], []),
    ]
    assert first["steps"][1]["links"] == [{"kind": "action", "name": "pause-intake", "label": "Pause intake"}]
    assert second["key"] == "dispatch-stalled/2"


def test_show_makes_escape_sequences_visible_and_says_when_a_file_is_missing(tmp_path):
    path = tmp_path / "hostile.md"
    path.write_text("# Title\x1b[2J\n\n- step \x1b]52;c;aGk=\x07 done\n")
    shown = opsconsole("runbook", "show", str(path))
    assert shown.returncode == 0 and "\x1b" not in shown.stdout and "\x07" not in shown.stdout
    assert "Title␛[2J" in shown.stdout and "step ␛]52;c;aGk=␇ done" in shown.stdout
    missing = opsconsole("runbook", "show", str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and "nope.md: no such file" in missing.stderr and "Traceback" not in missing.stderr


def test_lint_lists_every_file_and_fails_on_problems(tmp_path):
    shutil.copytree(SHIPPED_RUNBOOKS, tmp_path / "runbooks")
    clean = opsconsole("runbook", "lint", str(tmp_path / "runbooks"))
    assert clean.returncode == 0, clean.stdout
    assert clean.stdout.splitlines() == [
        "dead-letters.md: ok",
        "error-rate.md: ok",
        "queue-backlog.md: ok",
        "workers-and-leases.md: ok",
        "4 runbooks, 0 with problems",
    ]
    (tmp_path / "runbooks" / "team").mkdir()
    (tmp_path / "runbooks" / "team" / "typo.md").write_text("# Typo\n\n- [pause](acton:pause-intake)\n")
    (tmp_path / "runbooks" / "flat.md").write_bytes(b"- caf\xe9\n")
    broken = opsconsole("runbook", "lint", str(tmp_path / "runbooks"))
    assert broken.returncode == 1
    lines = broken.stdout.splitlines()
    assert lines[lines.index("flat.md: 2 problems") + 1 :][:2] == [
        "  not UTF-8: byte 0xe9 at offset 5 (invalid continuation byte); shown as \ufffd",
        "  no heading: the whole file is one untitled section",
    ]
    assert lines[lines.index("team/typo.md: 1 problem") + 1].startswith("  line 3: link 'acton:pause-intake' has unknown scheme")
    assert lines[-1] == "6 runbooks, 2 with problems"
    gone = opsconsole("runbook", "lint", str(tmp_path / "nowhere"))
    assert gone.returncode == 2 and "nowhere: no such directory" in gone.stderr


def test_check_config_accepts_the_shipped_runbooks_and_points_at_lint(tmp_path):
    result = opsconsole("check-config", str(ROOT / "config.toml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("6 signals, 4 runbooks)\n")
    shutil.copy(ROOT / "config.toml", tmp_path)
    shutil.copytree(SHIPPED_RUNBOOKS, tmp_path / "runbooks")
    (tmp_path / "runbooks" / "flat.md").write_text("- a step, no heading\n")
    untidy = opsconsole("check-config", str(tmp_path / "config.toml"))
    assert untidy.returncode == 0, untidy.stderr
    assert untidy.stdout.splitlines()[1] == "note: 1 runbook would import badly; see `opsconsole runbook lint`"


def test_check_config_names_suggestions_and_step_links_that_point_nowhere(tmp_path):
    text = (ROOT / "config.toml").read_text()
    for old, new in (
        ('dirs = ["runbooks"]', 'dirs = ["books", "missing"]'),
        ('section = "dispatch-stalled"', 'section = "dispatch-stall"'),
        ('runbook = "error-rate"', 'runbook = "error-rates"'),
    ):
        assert old in text
        text = text.replace(old, new, 1)
    (tmp_path / "config.toml").write_text(text)
    shutil.copytree(SHIPPED_RUNBOOKS, tmp_path / "books")
    backlog = tmp_path / "books" / "queue-backlog.md"
    backlog.write_text(backlog.read_text().replace("(action:pause-intake)", "(action:pause-intak)", 1))
    result = opsconsole("check-config", str(tmp_path / "config.toml"))
    assert result.returncode == 2
    problems = result.stderr.splitlines()[1:]
    assert problems[:3] == [
        f"  runbooks.dirs[1] = '{tmp_path / 'missing'}': not a directory",
        "  runbooks.suggest[0].section = 'dispatch-stall': runbook 'queue-backlog' has no such section "
        "(sections: queue-backlog, dispatch-stalled, too-much-arriving, done-when)",
        "  runbooks.suggest[1].runbook = 'error-rates': no such runbook "
        "(known: dead-letters, error-rate, queue-backlog, workers-and-leases)",
    ]
    assert problems[3].startswith("  runbook queue-backlog step dispatch-stalled/3.1 = 'action:pause-intak': no such action in [[actions]] (known: ")
    assert len(problems) == 4
