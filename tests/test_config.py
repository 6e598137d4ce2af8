"""Config loading: the shipped config is valid; every broken one is named key by key."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from console.config import ConfigError, find_config, load_config, read_token, shipped_config_path

ROOT = Path(__file__).resolve().parent.parent
BAD = sorted((Path(__file__).parent / "bad_configs").glob("*.toml"))


def expected_text(path: Path) -> str:
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: '"
    return first.removeprefix("# expect: ")


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


def test_shipped_config_is_valid():
    config = load_config(shipped_config_path())
    assert config.environment == "demo"
    assert [s.name for s in config.signals] == [
        "queue_depth",
        "terminal_error_rate",
        "lease_conflict_rate",
        "backpressure",
        "recovery_latency",
        "dead_letters",
    ]
    assert [s.name for s in config.signals if s.tile] == [s.name for s in config.signals][:5]
    assert config.severity_hints and config.exit_criteria
    assert config.metrics_url == config.api.base_url + "/metrics"


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_config_names_key_and_value(path: Path):
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert expected_text(path) in caught.value.report()


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_check_config_cli_reports_without_traceback_or_secrets(path: Path):
    result = run_cli("check-config", str(path))
    assert result.returncode == 2
    assert expected_text(path) in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for secret in ("s3cr3t", "hunter2"):
        assert secret not in result.stderr + result.stdout


def test_check_config_ok():
    result = run_cli("check-config", str(ROOT / "config.toml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_app_refuses_bad_config_with_the_same_report():
    path = next(p for p in BAD if p.stem == "typo_key")
    result = run_cli("--config", str(path))
    assert result.returncode == 2
    assert expected_text(path) in result.stderr
    assert "Traceback" not in result.stderr


def test_every_problem_is_reported_at_once(tmp_path: Path):
    path = tmp_path / "two.toml"
    path.write_text(
        (ROOT / "config.toml").read_text().replace("refresh_interval_s = 2.0", "refresh_interval_s = 0.1")
        .replace('unit = "jobs"', 'unit = "jobs"\ncolour = "red"')
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    report = caught.value.report()
    assert "2 problems" in report
    assert "refresh_interval_s = 0.1" in report
    assert "signals[0].colour = 'red': unknown key" in report


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    with pytest.raises(ConfigError, match="no configuration found"):
        find_config(None, environ={})
    user = tmp_path / "xdg" / "opsconsole" / "config.toml"
    user.parent.mkdir(parents=True)
    user.write_text("")
    assert find_config(None, environ={}) == user
    (tmp_path / "config.toml").write_text("")
    assert find_config(None, environ={}) == Path("config.toml")
    assert find_config(None, environ={"OPSCONSOLE_CONFIG": "/etc/x.toml"}) == Path("/etc/x.toml")
    assert find_config("given.toml", environ={"OPSCONSOLE_CONFIG": "/etc/x.toml"}) == Path("given.toml")


def test_token_from_env_or_file(tmp_path: Path):
    config = load_config(shipped_config_path())
    assert read_token(config.api, environ={"OPSCONSOLE_TOKEN": "abc\n"}) == "abc"
    assert read_token(config.api, environ={}) is None
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    api = config.api.model_copy(update={"token_env": "", "token_file": str(token_file)})
    assert read_token(api, environ={}) == "from-file"
    missing = config.api.model_copy(update={"token_env": "", "token_file": str(tmp_path / "nope")})
    with pytest.raises(ConfigError, match="api.token_file"):
        read_token(missing, environ={})


def test_every_token_variable_is_known_so_commands_never_inherit_one():
    from console.config import parse_config, token_env_names

    data = tomllib.loads(shipped_config_path().read_text())
    data["metrics"] = {"source": "prometheus", "url": "http://127.0.0.1:9090", "token_env": "PROM_TOKEN"}
    data["signals"] = [{"name": "q", "title": "Q", "query": "up"}]
    data["severity_hints"], data["exit_criteria"], data["runbooks"] = [], [], {}  # they name the replaced signals
    data["alertmanager"] = {"url": "http://127.0.0.1:9093", "token_env": "AM_TOKEN"}
    assert token_env_names(parse_config(data)) == {"OPSCONSOLE_TOKEN", "PROM_TOKEN", "AM_TOKEN"}
