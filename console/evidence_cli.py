"""`opsconsole evidence [--out DIR] [--incident ID] [--env NAME]`: an evidence bundle from a shell, no UI.

Exits 0 when the bundle was written, even if some sources failed (each gets a warning
line) or it could not be recorded in the audit log and on the timeline (a warning too);
1 when nothing could be written; 2 for a bad config or an unknown incident.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from console.config import Config
from console.text import plain

EXIT_NOT_WRITTEN, EXIT_USAGE = 1, 2


def add_evidence_parser(sub: argparse._SubParsersAction) -> None:
    evidence = sub.add_parser(
        "evidence", help="save health, metrics, jobs, dead letters, audit logs and the incident timeline into a bundle (no UI)"
    )
    evidence.add_argument("--out", default=".", metavar="DIR", help="where the bundle's directory is made (default: here)")
    evidence.add_argument("--incident", metavar="ID", help="incident whose window to save (default: the open one, else the last hour)")
    evidence.add_argument(
        "--env", default=argparse.SUPPRESS, metavar="NAME", help="environment of the config's [environments] to save (default: the one it opens on)"
    )


def run_evidence(args: argparse.Namespace, config: Config) -> int:
    # Imported here: the bundle code (httpx and all) loads only when this command runs.
    from console.evidence import EvidenceError, make_bundle
    from console.incident import IncidentError

    try:
        bundle = make_bundle(config, Path(args.out).expanduser(), args.incident)
    except IncidentError as exc:
        print(f"opsconsole evidence: {plain(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except EvidenceError as exc:
        print(f"opsconsole evidence: {plain(exc)}", file=sys.stderr)
        return EXIT_NOT_WRITTEN
    for failure in bundle.failures:
        print(f"warning: {plain(failure.source)} ({plain(failure.url)}): {plain(failure.error, 300)}", file=sys.stderr)
    if bundle.not_recorded:
        print(f"warning: the bundle is not in the audit log or on the timeline: {plain(bundle.not_recorded, 300)}", file=sys.stderr)
    print(f"evidence bundle: {bundle.summary()}")
    print(f"console audit log: {plain(bundle.window)}")
    print(f"manifest.json sha256: {bundle.manifest_sha256}")
    print(f"verify: cd {plain(shlex.quote(str(bundle.path)))} && sha256sum -c SHA256SUMS")
    return 0
