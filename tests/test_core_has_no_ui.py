"""The core must be importable and usable without Textual (check-config, sim run on bare hosts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORE_MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
    for p in (ROOT / "console").rglob("*.py")
)


def test_core_modules_do_not_import_textual():
    assert "console.poller" in CORE_MODULES and "console.demo.server" in CORE_MODULES
    code = (
        "import importlib, sys\n"
        f"for name in {CORE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'screens'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_source_never_names_the_ui():
    # cli.py is the composition root: it may import screens.app lazily, inside a function.
    for path in (ROOT / "console").rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.startswith(("import textual", "from textual", "import screens", "from screens")):
                raise AssertionError(f"{path}:{number}: top-level UI import in the core: {line}")


def test_import_linter_contract_holds():
    # The same rule as above, checked statically over every import (pyproject.toml).
    result = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports")], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout
