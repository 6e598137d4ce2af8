"""Property: config loading raises nothing but its documented ConfigError, whatever the
input, and a config it accepts is usable. Random TOML-ish text, mangled copies of the
shipped config, random bytes, and random structures in place of its values.

(The Markdown runbook parser gets the same treatment in test_runbook_fuzz.py.)"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from console.config import Config, ConfigError, load_config, parse_config, shipped_config_path

SHIPPED_TEXT = shipped_config_path().read_text()
SHIPPED = tomllib.loads(SHIPPED_TEXT)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

TOKENS = [*'[]{}=".,\n #\'abefkstu_019-+:\\\x00\x1b', "inf", "nan", "true", "[api]", "[[signals]]", *SHIPPED, "base_url", '"http://x"']
toml_ish = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)


def check(load) -> Config | None:  # type: ignore[no-untyped-def]
    """Load; only ConfigError may escape, its report names a problem; an accepted config is usable."""
    try:
        config = load()
    except ConfigError as exc:
        report = exc.report()
        assert exc.problems and "problem" in report.splitlines()[0]
        return None
    assert math.isfinite(config.refresh_interval_s) and config.refresh_interval_s >= 0.5
    assert math.isfinite(config.heartbeat_stale_s) and math.isfinite(config.api.timeout_s)
    assert config.api.base_url.startswith(("http://", "https://"))
    return config


def load_text(tmp_path: Path, data: bytes) -> Config | None:
    path = tmp_path / "config.toml"
    path.write_bytes(data)
    return check(lambda: load_config(path))


@FUZZ
@given(text=toml_ish)
def test_any_toml_ish_text(tmp_path, text):
    load_text(tmp_path, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(data=st.data())
def test_mangled_shipped_config(tmp_path, data):
    text = SHIPPED_TEXT
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 20))
        text = text[:at] + data.draw(st.text(max_size=8)) + text[at + cut :]
    load_text(tmp_path, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(raw=st.binary(max_size=300))
def test_random_bytes(tmp_path, raw):
    load_text(tmp_path, raw)


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, prefix + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += paths(value, prefix + (index,))
    return found


SHIPPED_PATHS = paths(SHIPPED)[1:]


def replaced(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: replaced(data[head], rest, value)}
    copy = list(data)
    copy[head] = replaced(copy[head], rest, value)
    return copy


@FUZZ
@given(replacements=st.lists(st.tuples(st.sampled_from(SHIPPED_PATHS), values), min_size=1, max_size=3))
@example([(("refresh_interval_s",), math.nan)])  # once accepted: a refresh that never comes
@example([(("heartbeat_stale_s",), math.inf)])
def test_shipped_config_with_random_values(replacements):
    data: Any = SHIPPED
    for path, value in replacements:
        try:
            data = replaced(data, path, value)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier replacement removed that path
    check(lambda: parse_config(data))


@FUZZ
@given(data=st.dictionaries(st.sampled_from([*SHIPPED, "token", "extra"]) | st.text(max_size=8), values, max_size=8))
def test_random_structures(data):
    check(lambda: parse_config(data))
