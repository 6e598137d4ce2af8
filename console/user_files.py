"""Files the console writes for the operator: status updates and post-incident reviews.

They go under the user data dir (~/.local/share/opsconsole/ on Linux), one file per save
with the incident id and the UTC time in its name, so a save never overwrites another.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path

UPDATES = "updates"
REVIEWS = "reviews"


def user_folder(name: str) -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("opsconsole")) / name


def timestamped_path(folder: Path, incident_id: str, now: float, suffix: str = ".md") -> Path:
    """`folder/INC-...-20261123T031205Z.md`, with "-2", "-3" ... if that name is taken."""
    stamp = datetime.fromtimestamp(now, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    stem = re.sub(r"[^A-Za-z0-9-]", "_", incident_id) + "-" + stamp
    path, number = folder / f"{stem}{suffix}", 2
    while path.exists():
        path, number = folder / f"{stem}-{number}{suffix}", number + 1
    return path


def save_text(folder_name: str, incident_id: str, now: float, text: str) -> Path:
    """Write `text` to a new file (mode 0600: it may name hosts and people) and return its path."""
    folder = user_folder(folder_name)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = timestamped_path(folder, incident_id, now)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(text)
    return path
