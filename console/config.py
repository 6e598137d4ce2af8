"""The configuration file (config.toml) as pydantic models, and loading it with clear errors.

Every model forbids unknown keys: a typo in a config read at 03:00 must be an error that
names the key, not a silently ignored setting.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from console.config_actions import ActionConfig, AuditConfig, IncidentConfig, PolicyConfig, unique_action_names

CONFIG_ENV_VAR = "OPSCONSOLE_CONFIG"
MIN_REFRESH_S = 0.5  # a floor, so the console never hammers the system it watches


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMap(_Strict):
    """Where a list of records lives in an API response and which JSON field is what."""

    path: str
    """Request path relative to `api.base_url`, with its query string."""
    items: str
    """Dotted path to the list inside the response body ("" when the body is the list)."""
    now: str = "now"
    """Dotted path to the server's current time, so ages use the server clock ("" to use ours)."""
    fields: dict[str, str] = Field(default_factory=dict)
    """Record attribute → dotted path inside one list item. Missing entries use the attribute name."""


class DeadLetterMap(FieldMap):
    total: str = "total"
    """Dotted path to the size of the whole dead-letter queue ("" to count the page)."""
    error_classes: str = ""
    """Dotted path to {error class: count} over the whole queue ("" to count the page)."""


class ApiConfig(_Strict):
    base_url: str
    """Base URL of the operations API, e.g. http://127.0.0.1:8080."""
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 3.0
    """Per-request deadline. A source slower than this is marked stale; keys never wait on it."""
    token_env: str = ""
    """Name of an environment variable holding a bearer token ("" for none)."""
    token_file: str = ""
    """Path of a file holding a bearer token ("" for none). Never put the token itself here."""
    health_path: str = "/healthz"
    jobs: FieldMap
    workers: FieldMap
    leases: FieldMap
    dead_letters: DeadLetterMap

    @model_validator(mode="before")
    @classmethod
    def _no_inline_token(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key in ("token", "bearer_token", "password", "secret"):
                if key in data:
                    # The value is deliberately not echoed: it is a secret.
                    raise ValueError(
                        f"{key!r} is not allowed: secrets may not be written in the config; "
                        "set token_env (an environment variable) or token_file instead"
                    )
        return data

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        if "@" in value.split("://", 1)[1].split("/", 1)[0]:
            raise ValueError("credentials in the URL are not allowed; set token_env or token_file instead")
        return value.rstrip("/")


class ScrapeMetricsConfig(_Strict):
    source: Literal["scrape"] = "scrape"
    """Read a Prometheus text-format endpoint directly."""
    url: str = ""
    """Full URL of the /metrics endpoint ("" means `api.base_url` + path)."""
    path: str = "/metrics"


class SignalConfig(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Identifier, used in keys and rules (lower_snake_case)."""
    title: str
    """Short label shown on the tile."""
    metric: str = Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    """Metric family name as exposed (counters with their _total suffix)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Only samples whose labels equal these are used."""
    kind: Literal["gauge", "counter"] = "gauge"
    """A counter is shown as a rate between two scrapes, never as its raw total."""
    aggregate: Literal["sum", "max", "min"] = "sum"
    """How several matching series become one number."""
    scale: float = 1.0
    """Multiplier applied before display (e.g. 100 to show a ratio as %)."""
    unit: str = ""
    rate_per: Literal["s", "min"] = "min"
    """For counters: rate per second or per minute."""
    warn: float | None = None
    crit: float | None = None
    bad: Literal["high", "low"] = "high"
    """Which direction is bad: `high` means value >= threshold alerts."""

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> SignalConfig:
        if self.warn is not None and self.crit is not None:
            if self.bad == "high" and self.warn > self.crit:
                raise ValueError(f"warn ({self.warn}) must be <= crit ({self.crit}) when bad = \"high\"")
            if self.bad == "low" and self.warn < self.crit:
                raise ValueError(f"warn ({self.warn}) must be >= crit ({self.crit}) when bad = \"low\"")
        return self


class Config(_Strict):
    environment: str = Field(min_length=1, max_length=40)
    """Name shown in the header and every confirmation (prod-eu, staging, demo ...)."""
    refresh_interval_s: float = 2.0
    """Seconds between polls; polls never overlap, so this is a minimum gap."""
    heartbeat_stale_s: Annotated[float, Field(gt=0)] = 15.0
    """A worker whose last heartbeat is older than this is flagged late."""
    api: ApiConfig
    metrics: ScrapeMetricsConfig = Field(default_factory=ScrapeMetricsConfig)
    signals: list[SignalConfig] = Field(default_factory=list)
    keys: dict[str, str] = Field(default_factory=dict)
    """Key remapping: binding id → key(s), e.g. refresh = "f5"."""

    # -- incidents, read-only mode, actions, audit (console/config_actions.py) ----------
    read_only: bool = False
    """Start read-only: guarded actions are refused (a break-glass unlock can lift this one)."""
    incident: IncidentConfig = Field(default_factory=IncidentConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    audit: AuditConfig = Field(default_factory=AuditConfig)
    actions: list[ActionConfig] = Field(default_factory=list)
    """The action catalogue: what the console may change, and how."""

    @field_validator("actions")
    @classmethod
    def _unique_action_names(cls, actions: list[ActionConfig]) -> list[ActionConfig]:
        return unique_action_names(actions)

    @field_validator("refresh_interval_s")
    @classmethod
    def _refresh_floor(cls, value: float) -> float:
        if value < MIN_REFRESH_S:
            raise ValueError(f"must be at least {MIN_REFRESH_S} s so the console does not load the system it watches")
        return value

    @field_validator("signals")
    @classmethod
    def _unique_names(cls, signals: list[SignalConfig]) -> list[SignalConfig]:
        seen: dict[str, int] = {}
        for index, signal in enumerate(signals):
            if signal.name in seen:
                raise ValueError(f"signals[{index}].name = {signal.name!r} repeats signals[{seen[signal.name]}]")
            seen[signal.name] = index
        return signals

    @property
    def metrics_url(self) -> str:
        return self.metrics.url or self.api.base_url + self.metrics.path

    def pointed_at(self, base_url: str) -> Config:
        """The same config aimed at another backend (the in-process demo)."""
        api = self.api.model_copy(update={"base_url": base_url.rstrip("/")})
        metrics = self.metrics.model_copy(update={"url": ""})
        return self.model_copy(update={"api": api, "metrics": metrics})


@dataclass(frozen=True)
class ConfigProblem:
    key: str
    value: str
    message: str

    def __str__(self) -> str:
        where = f"{self.key} = {self.value}" if self.value else self.key
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """A config that cannot be used, with every problem found (never a traceback for users)."""

    def __init__(self, path: Path | None, problems: list[ConfigProblem]):
        self.path = path
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        head = f"{self.path}: " if self.path else ""
        count = len(self.problems)
        lines = [f"{head}{count} problem{'s' if count != 1 else ''} in the configuration"]
        lines += [f"  {problem}" for problem in self.problems]
        return "\n".join(lines)


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_URL_CREDENTIALS = re.compile(r"(://)[^/@\s]*@")


def _shown(value: Any) -> str:
    # An offending value is echoed so the operator can find it, minus any credentials.
    text = _URL_CREDENTIALS.sub(r"\1***@", repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _problems(exc: ValidationError) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            problems.append(ConfigProblem(_dotted(loc), "", "required key is missing"))
        elif err["type"] == "extra_forbidden":
            problems.append(ConfigProblem(_dotted(loc), _shown(err["input"]), "unknown key (a typo?)"))
        elif isinstance(err["input"], (dict, list)):
            # A check over a whole table or list: its message names the fields involved.
            problems.append(ConfigProblem(_dotted(loc), "", msg))
        else:
            problems.append(ConfigProblem(_dotted(loc), _shown(err["input"]), msg))
    return problems


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, _problems(exc)) from None


def load_config(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(path, [ConfigProblem("(file)", "", exc.strerror or str(exc))]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(path, [ConfigProblem("(file)", "", f"not UTF-8 text: {exc.reason} at byte {exc.start}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [ConfigProblem("(syntax)", "", f"not valid TOML: {exc}")]) from None
    return parse_config(data, path)


def shipped_config_path() -> Path:
    """The default config.toml: inside the wheel, or at the top of a source checkout."""
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir / "config.toml", package_dir.parent / "config.toml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("the shipped config.toml is missing from this installation")


def user_config_path() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("opsconsole")) / "config.toml"


def find_config(explicit: str | None, environ: dict[str, str] | None = None) -> Path:
    """--config, then $OPSCONSOLE_CONFIG, then ./config.toml, then the user config dir."""
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV_VAR):
        return Path(env[CONFIG_ENV_VAR])
    looked = [Path("config.toml"), user_config_path()]
    for candidate in looked:
        if candidate.is_file():
            return candidate
    places = ", ".join(["--config", f"${CONFIG_ENV_VAR}", *map(str, looked)])
    message = f"no configuration found; looked at {places} (try `opsconsole --demo`)"
    raise ConfigError(None, [ConfigProblem("(file)", "", message)])


def read_token(api: ApiConfig, environ: dict[str, str] | None = None) -> str | None:
    """The bearer token from the environment or a file; never logged, never shown."""
    env = os.environ if environ is None else environ
    if api.token_env and env.get(api.token_env):
        return env[api.token_env].strip()
    if api.token_file:
        try:
            return Path(api.token_file).expanduser().read_text().strip() or None
        except OSError as exc:
            raise ConfigError(
                None, [ConfigProblem("api.token_file", _shown(api.token_file), exc.strerror or str(exc))]
            ) from None
    return None
