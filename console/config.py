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

from pydantic import AfterValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from console.config_actions import BUILTIN_PARAMS, ActionConfig, AuditConfig, IncidentConfig, PolicyConfig
from console.config_base import Severity, Strict, unique_names
from console.config_runbooks import RunbooksConfig, StatusUpdatesConfig

CONFIG_ENV_VAR = "OPSCONSOLE_CONFIG"
MIN_REFRESH_S = 0.5  # a floor, so the console never hammers the system it watches


def _checked_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    if "@" in value.split("://", 1)[1].split("/", 1)[0]:
        raise ValueError("credentials in the URL are not allowed; set token_env or token_file instead")
    return value.rstrip("/")


def _relative_path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError("must start with / (it is relative to api.base_url)")
    return value


RelativePath = Annotated[str, AfterValidator(_relative_path)]
"""A request path on `api.base_url`."""


class Paging(Strict):
    """How a list is read page by page: the query parameters it takes and how the next page is found."""

    style: Literal["offset", "page", "cursor"] = "offset"
    """`offset`: skip N items; `page`: page numbers; `cursor`: an opaque token from the last answer."""
    limit: str = "limit"
    """Query parameter for the page size."""
    offset: str = "offset"
    """style offset: query parameter for the index of the first item."""
    page: str = "page"
    """style page: query parameter for the page number."""
    first_page: Annotated[int, Field(ge=0, le=1)] = 1
    """style page: the number of the first page (0 or 1)."""
    cursor: str = "cursor"
    """style cursor: query parameter that carries the cursor."""
    next_cursor: str = "next_cursor"
    """style cursor: dotted path to the next page's cursor in an answer (empty or null on the last page)."""
    max_limit: Annotated[int, Field(ge=1, le=10000)] = 500
    """Largest page the API accepts."""
    max_items: Annotated[int, Field(ge=1, le=100000)] = 5000
    """Workers, leases, jobs: most entries read per poll, walking every page (dead letters
    are paged on their screen instead)."""


class FieldMap(Strict):
    """Where a list of records lives in an API response and which JSON field is what."""

    path: RelativePath
    """Request path relative to `api.base_url`, with its query string."""
    items: str
    """Dotted path to the list inside the response body ("" when the body is the list)."""
    now: str = "now"
    """Dotted path to the server's current time, so ages use the server clock ("" to use ours)."""
    fields: dict[str, str] = Field(default_factory=dict)
    """Record attribute → dotted path inside one list item. Missing entries use the attribute name."""
    paging: Paging | None = None
    """For a paged list: how to ask for the next page. Each poll reads every page (up to
    `paging.max_items`), so a fleet larger than one page is never counted as one page."""


class DeadLetterMap(FieldMap):
    total: str = "total"
    """Dotted path to the size of the whole dead-letter queue ("" to count the page)."""
    error_classes: str = ""
    """Dotted path to {error class: count} over the whole queue ("" to count the page)."""
    paging: Paging = Field(default_factory=Paging)  # type: ignore[assignment]
    """How the dead-letter screen and batches walk the queue (the dashboard reads the first page)."""
    filters: dict[Literal["error_class", "text"], str] = Field(default_factory=dict)
    """Filter → query parameter the API filters on, e.g. { error_class = "error_class", text = "q" }.
    A filter the API does not take is not offered (the console never filters a page and calls it the queue)."""


class HealthCheckConfig(Strict):
    """One service's health endpoint."""

    name: str = Field(min_length=1, max_length=30)
    """Service name shown on the dashboard, e.g. "backend" or "pdf-worker"."""
    path: RelativePath
    """Request path relative to `api.base_url`, e.g. /health."""
    status: str = "status"
    """Dotted path to the status word ("" when the HTTP status alone decides)."""
    ok: list[str] = Field(default_factory=lambda: ["ok", "healthy", "pass", "up"])
    """Status words that mean healthy (compared without case)."""
    checks: str = "checks"
    """Dotted path to {component: state} ("" for none)."""
    details: dict[str, str] = Field(default_factory=dict)
    """Label → dotted path of extra facts shown with the service, e.g. { model = "model.version" }."""


class TokenSource(Strict):
    """Something reached over HTTP that may need a bearer token: from the environment or a
    file, never from the config itself."""

    token_env: str = ""
    """Name of an environment variable holding a bearer token ("" for none)."""
    token_file: str = ""
    """Path of a file holding a bearer token ("" for none). Never put the token itself here."""

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


class ApiConfig(TokenSource):
    base_url: str
    """Base URL of the operations API, e.g. http://127.0.0.1:8080."""
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 3.0
    """Per-request deadline. A source slower than this is marked stale; keys never wait on it."""
    health: list[HealthCheckConfig] = Field(default_factory=lambda: [HealthCheckConfig(name="api", path="/healthz")])
    """Every service's health endpoint, shown in this order."""
    jobs: FieldMap | None = None
    workers: FieldMap | None = None
    leases: FieldMap | None = None
    dead_letters: DeadLetterMap | None = None
    """Each list is optional: a panel whose list the API does not offer is not shown."""
    audit_logs: FieldMap | None = None
    """The backend's own audit log (fields at, actor, action, target, detail), shown beside
    the console's on the audit screen and saved in evidence bundles."""

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _checked_url(value)

    @field_validator("health")
    @classmethod
    def _unique_services(cls, health: list[HealthCheckConfig]) -> list[HealthCheckConfig]:
        if not health:
            raise ValueError("give at least one health endpoint")
        return list(unique_names(health, "api.health"))


class HistoryConfig(Strict):
    """How much history a signal keeps and how its trend is judged (both metrics sources)."""

    window_min: Annotated[float, Field(gt=0, le=24 * 60)] = 30.0
    """History behind each tile's sparkline, trend, hints and exit criteria."""
    trend_window_min: Annotated[float, Field(gt=0)] = 5.0
    """A point's trend is the slope of the values over this long before it."""


class ScrapeMetricsConfig(HistoryConfig):
    source: Literal["scrape"] = "scrape"
    """Read a Prometheus text-format endpoint directly; history starts when the console does."""
    url: str = ""
    """Full URL of the /metrics endpoint ("" means `api.base_url` + path)."""
    path: str = "/metrics"


class PrometheusMetricsConfig(HistoryConfig, TokenSource):
    source: Literal["prometheus"]
    """Each signal is a PromQL `query` answered by Prometheus (or Thanos, Mimir, VictoriaMetrics)."""
    url: str
    """Base URL of the Prometheus HTTP API, e.g. http://prometheus:9090."""
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 3.0
    """Deadline per query; a slower query marks its tile stale, keys never wait on it."""
    range_refresh_s: Annotated[float, Field(ge=0)] = 30.0
    """How often the range query behind the history runs; instant queries fill in between."""
    top_series: Annotated[int, Field(ge=1, le=20)] = 3
    """A query answering several series shows this many, largest first, with their labels."""

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _checked_url(value)


class AlertmanagerConfig(TokenSource):
    url: str
    """Base URL of Alertmanager; its v2 API (/api/v2/alerts) is read."""
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 3.0

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _checked_url(value)


MetricsConfig = Annotated[ScrapeMetricsConfig | PrometheusMetricsConfig, Field(discriminator="source")]
Trend = Literal["rising", "falling", "flat"]


class JsonValueConfig(Strict):
    """A number read from a JSON endpoint of the API (queue counters, stats pages)."""

    path: RelativePath
    """Request path relative to `api.base_url`, e.g. /api/jobs/metrics. Signals sharing a path share one request."""
    value: str
    """Dotted path to the number: in the body, or in each item when `items` is set."""
    items: str = ""
    """Dotted path to a list with one series per item (e.g. one per shard); "" for one number."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Label → dotted path (in the item, or in the body without `items`): what tells series
    apart or says what a number is about, e.g. { shard = "shard" } or { model = "model.version" }."""


class SignalConfig(Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Identifier, used in keys and rules (lower_snake_case)."""
    title: str
    """Short label shown on the tile."""
    metric: str = Field(default="", pattern=r"^([a-zA-Z_:][a-zA-Z0-9_:]*)?$")
    """Scrape source: metric family name as exposed (counters with their _total suffix)."""
    labels: dict[str, str] = Field(default_factory=dict)
    """Scrape source: only samples whose labels equal these are used."""
    kind: Literal["gauge", "counter"] = "gauge"
    """Scrape or json: a counter is shown as a rate between two readings, never as its raw total."""
    query: str = ""
    """Prometheus source: the PromQL expression (write rate() yourself for counters)."""
    model_config = ConfigDict(Strict.model_config, populate_by_name=True)
    json_value: JsonValueConfig | None = Field(default=None, alias="json")
    """`json` in the file. Either source: read the number from the API's JSON instead
    (`kind` applies as for `metric`)."""
    aggregate: Literal["sum", "max", "min"] = "sum"
    """How several series become the tile's one number (the largest are listed too)."""
    scale: float = 1.0
    """Multiplier applied before display (e.g. 100 to show a ratio as %)."""
    unit: str = ""
    rate_per: Literal["s", "min"] = "min"
    """For counters: rate per second or per minute."""
    warn: float | None = None
    crit: float | None = None
    bad: Literal["high", "low"] = "high"
    """Which direction is bad: `high` means value >= threshold alerts."""
    flat_within: Annotated[float, Field(ge=0)] | None = None
    """A change smaller than this over the trend window counts as flat (default: 2 % of the
    larger of the level and the warn threshold)."""
    drain: bool = False
    """A backlog: when falling, estimate when it reaches zero; when not, say "no drain"."""
    tile: bool = True
    """False keeps the signal for hints and exit criteria without a tile on the dashboard."""

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> SignalConfig:
        if self.warn is not None and self.crit is not None:
            if self.bad == "high" and self.warn > self.crit:
                raise ValueError(f"warn ({self.warn}) must be <= crit ({self.crit}) when bad = \"high\"")
            if self.bad == "low" and self.warn < self.crit:
                raise ValueError(f"warn ({self.warn}) must be >= crit ({self.crit}) when bad = \"low\"")
        return self


class ConditionConfig(Strict):
    """A condition on one signal that must hold, point after point, for `for_min` minutes."""

    signal: str
    """Name of a signal in [[signals]] (it may have tile = false)."""
    above: float | None = None
    """Holds while the value is above this."""
    below: float | None = None
    """Holds while the value is below this."""
    trend: list[Trend] = Field(default_factory=list)
    """Holds while the trend is one of these, e.g. ["rising"] or ["flat", "falling"]."""
    for_min: Annotated[float, Field(ge=0)]
    """How long the condition must have held."""

    @model_validator(mode="after")
    def _says_something(self) -> ConditionConfig:
        if self.above is None and self.below is None and not self.trend:
            raise ValueError("give at least one of above, below or trend")
        return self


class SeverityHintConfig(ConditionConfig):
    severity: Severity
    """The severity to suggest when the condition has held long enough."""
    reason: str = Field(min_length=1, max_length=120)
    """Shown with the suggestion, e.g. "queue rising for 15 min with no drain"."""


class ExitCriterionConfig(ConditionConfig):
    title: str = Field(min_length=1, max_length=60)
    """Shown with met / not met and how long it has held."""


ENVIRONMENT_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"


class EnvironmentConfig(TokenSource):
    """One environment of the same system (prod-eu, prod-us, staging): where it is, and the
    values its exec actions need. Unset keys keep the top-level config's value."""

    base_url: str = ""
    """api.base_url in this environment."""
    metrics_url: str = ""
    """metrics.url in this environment (the /metrics endpoint, or Prometheus)."""
    alertmanager_url: str = ""
    """alertmanager.url in this environment."""
    vars: dict[str, str] = Field(default_factory=dict)
    """Values for {placeholders} in actions here, e.g. { context = "prod-eu", namespace = "docs" }."""

    @field_validator("base_url", "metrics_url", "alertmanager_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return _checked_url(value) if value else value


class Config(Strict):
    environment: str = Field(min_length=1, max_length=40)
    """Name shown in the header and every confirmation (prod-eu, staging, demo ...). With
    [environments], the one the console opens on (`--env` picks another)."""
    environments: dict[str, EnvironmentConfig] = Field(default_factory=dict)
    """Several environments of one system; a key switches between them."""
    vars: dict[str, str] = Field(default_factory=dict)
    """Values for {placeholders} in actions (an environment's `vars` override these)."""
    refresh_interval_s: float = 2.0
    """Seconds between polls; polls never overlap, so this is a minimum gap."""
    heartbeat_stale_s: Annotated[float, Field(gt=0)] = 15.0
    """A worker whose last heartbeat is older than this is flagged late."""
    api: ApiConfig
    metrics: MetricsConfig = Field(default_factory=ScrapeMetricsConfig)
    signals: list[SignalConfig] = Field(default_factory=list)
    alertmanager: AlertmanagerConfig | None = None
    """Firing alerts come from here when set."""
    severity_hints: list[SeverityHintConfig] = Field(default_factory=list)
    """Rules that suggest a severity; the operator decides."""
    exit_criteria: list[ExitCriterionConfig] = Field(default_factory=list)
    """Conditions that say an incident can be closed, shown met or not."""
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

    # -- runbooks and status updates (console/config_runbooks.py) ------------------------
    runbooks: RunbooksConfig = Field(default_factory=RunbooksConfig)
    status_updates: StatusUpdatesConfig = Field(default_factory=StatusUpdatesConfig)

    @field_validator("environments")
    @classmethod
    def _environment_names(cls, environments: dict[str, EnvironmentConfig]) -> dict[str, EnvironmentConfig]:
        for name in environments:
            if not re.match(ENVIRONMENT_NAME, name):
                raise ValueError(f"environment name {name!r} must be letters, digits, '.', '_' or '-' (at most 40)")
        return environments

    @field_validator("actions")
    @classmethod
    def _unique_action_names(cls, actions: list[ActionConfig]) -> list[ActionConfig]:
        return list(unique_names(actions, "actions"))

    @field_validator("refresh_interval_s")
    @classmethod
    def _refresh_floor(cls, value: float) -> float:
        if value < MIN_REFRESH_S:
            raise ValueError(f"must be at least {MIN_REFRESH_S} s so the console does not load the system it watches")
        return value

    @field_validator("signals")
    @classmethod
    def _unique_names(cls, signals: list[SignalConfig]) -> list[SignalConfig]:
        return list(unique_names(signals, "signals"))

    @model_validator(mode="before")
    @classmethod
    def _scrape_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("metrics"), dict) and "source" not in data["metrics"]:
            data = {**data, "metrics": {"source": "scrape", **data["metrics"]}}
        return data

    @model_validator(mode="after")
    def _signals_fit_source(self) -> Config:
        prometheus = self.metrics.source == "prometheus"
        for index, signal in enumerate(self.signals):
            where = f"signals[{index}] ({signal.name})"
            given = [key for key, value in (("metric", signal.metric), ("query", signal.query), ("json", signal.json_value)) if value]
            if len(given) > 1:
                raise ValueError(f"{where}: give one of metric, query or json, not {' and '.join(given)}")
            if signal.json_value is not None:
                if signal.labels:
                    raise ValueError(f"{where}: `labels` filters scraped samples; a json signal names its labels in json.labels")
                continue
            if prometheus and not signal.query:
                raise ValueError(f"{where}: metrics.source is \"prometheus\", so give a PromQL `query` (or `json`)")
            if prometheus and (signal.metric or signal.labels or signal.kind != "gauge"):
                raise ValueError(f"{where}: metric, labels and kind are for the scrape source; write them into `query`")
            if not prometheus and not signal.metric:
                raise ValueError(f"{where}: metrics.source is \"scrape\", so give a `metric` (or `json`)")
            if not prometheus and signal.query:
                raise ValueError(f"{where}: `query` needs metrics.source = \"prometheus\"")
        names = {signal.name for signal in self.signals}
        self._check_environments()
        self._check_actions()
        for index, suggestion in enumerate(self.runbooks.suggest):
            if suggestion.signal and suggestion.signal not in names:
                known = ", ".join(sorted(names)) or "none"
                raise ValueError(f"runbooks.suggest[{index}].signal = {suggestion.signal!r} is not a signal (known: {known})")
        for table, rules in (("severity_hints", self.severity_hints), ("exit_criteria", self.exit_criteria)):
            for index, rule in enumerate(rules):
                if rule.signal not in names:
                    known = ", ".join(sorted(names)) or "none"
                    raise ValueError(f"{table}[{index}].signal = {rule.signal!r} is not a signal (known: {known})")
                # A trend is judged only once half a trend window of history lies behind a point.
                needed = rule.for_min + (self.metrics.trend_window_min / 2 if rule.trend else 0)
                if needed > self.metrics.window_min:
                    raise ValueError(
                        f"{table}[{index}].for_min = {rule.for_min:g} needs {needed:g} min of history, "
                        f"more than metrics.window_min = {self.metrics.window_min:g}; raise window_min"
                    )
        return self

    def _check_environments(self) -> None:
        if self.environments and self.environment not in self.environments:
            known = ", ".join(self.environments)
            raise ValueError(f"environment = {self.environment!r} is not in [environments] (known: {known})")
        for name, environment in self.environments.items():
            if environment.alertmanager_url and self.alertmanager is None:
                raise ValueError(f"environments.{name}.alertmanager_url needs an [alertmanager] table")

    def _check_actions(self) -> None:
        apis = {"workers": self.api.workers, "leases": self.api.leases, "jobs": self.api.jobs, "dead_letters": self.api.dead_letters}
        var_sets = [set(self.vars) | set(env.vars) for env in self.environments.values()] or [set(self.vars)]
        for index, action in enumerate(self.actions):
            where = f"actions[{index}] ({action.name})"
            if action.panel in apis and apis[action.panel] is None:
                raise ValueError(f"{where}: panel = {action.panel!r} but [api.{action.panel}] is not configured")
            if action.panel == "jobs" and self.api.leases is not None:
                raise ValueError(f"{where}: panel = \"jobs\" is shown only for an API without [api.leases]; act on the lease row")
            unknown = sorted(action.placeholders - set(BUILTIN_PARAMS) - set(action.params) - set.intersection(*var_sets))
            if unknown:
                raise ValueError(
                    f"{where}: placeholder {{{unknown[0]}}} is neither in its params nor in vars"
                    + (" of every environment" if self.environments else "")
                )

    @property
    def environment_names(self) -> list[str]:
        """Every environment this config can show, the opening one first."""
        return [self.environment] + [name for name in self.environments if name != self.environment]

    def for_environment(self, name: str) -> Config:
        """This config aimed at environment `name` (its URLs, token and vars)."""
        if not self.environments:
            if name != self.environment:
                raise ValueError(f"no environment {name!r}: this config has only {self.environment!r}")
            return self
        if name not in self.environments:
            raise ValueError(f"no environment {name!r} (known: {', '.join(self.environments)})")
        env = self.environments[name]
        api_update: dict[str, Any] = {}
        if env.base_url:
            api_update["base_url"] = env.base_url
        if env.token_env or env.token_file:
            api_update.update(token_env=env.token_env, token_file=env.token_file)
        update: dict[str, Any] = {"environment": name, "api": self.api.model_copy(update=api_update), "vars": {**self.vars, **env.vars}}
        if env.metrics_url:
            update["metrics"] = self.metrics.model_copy(update={"url": env.metrics_url})
        if env.alertmanager_url and self.alertmanager is not None:
            update["alertmanager"] = self.alertmanager.model_copy(update={"url": env.alertmanager_url})
        return self.model_copy(update=update)

    @property
    def metrics_url(self) -> str:
        assert isinstance(self.metrics, ScrapeMetricsConfig)
        return self.metrics.url or self.api.base_url + self.metrics.path

    def pointed_at(self, base_url: str) -> Config:
        """The same config aimed at another backend (the in-process demo)."""
        api = self.api.model_copy(update={"base_url": base_url.rstrip("/")})
        update: dict[str, Any] = {"api": api}
        if isinstance(self.metrics, ScrapeMetricsConfig):
            update["metrics"] = self.metrics.model_copy(update={"url": ""})
        return self.model_copy(update=update)


@dataclass(frozen=True)
class ConfigProblem:
    key: str
    value: str
    message: str

    def __str__(self) -> str:
        if not self.key:
            return self.message  # a check across tables: its message names the keys
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


_METRICS_SOURCES = ("scrape", "prometheus")


def _problems(exc: ValidationError) -> list[ConfigProblem]:
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        if loc[:1] == ("metrics",) and len(loc) > 1 and loc[1] in _METRICS_SOURCES:
            loc = loc[:1] + loc[2:]  # pydantic puts the union's tag in the path; the file has none
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "union_tag_invalid":
            choices = " or ".join(f'"{name}"' for name in _METRICS_SOURCES)
            problems.append(ConfigProblem(_dotted(loc) + ".source", _shown(err["input"].get("source")), f"must be {choices}"))
        elif err["type"] == "missing":
            problems.append(ConfigProblem(_dotted(loc), "", "required key is missing"))
        elif err["type"] == "extra_forbidden":
            problems.append(ConfigProblem(_dotted(loc), _shown(err["input"]), "unknown key (a typo?)"))
        elif isinstance(err["input"], (dict, list)):
            # A check over a whole table or list: its message names the fields involved.
            problems.append(ConfigProblem(_dotted(loc) if loc else "", "", msg))
        else:
            problems.append(ConfigProblem(_dotted(loc), _shown(err["input"]), msg))
    return problems


def parse_config(data: dict[str, Any], path: Path | None = None) -> Config:
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, _problems(exc)) from None
    if path is None or not config.runbooks.dirs:
        return config
    # Runbook directories travel with their config file, wherever the console is started.
    dirs = [str((path.parent / Path(d).expanduser()).resolve()) for d in config.runbooks.dirs]
    return config.model_copy(update={"runbooks": config.runbooks.model_copy(update={"dirs": dirs})})


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


def profiles_dir() -> Path:
    """The shipped profiles: inside the wheel, or at the top of a source checkout."""
    return shipped_config_path().parent / "profiles"


def profile_names() -> list[str]:
    folder = profiles_dir()
    return sorted(p.parent.name for p in folder.glob("*/config.toml")) if folder.is_dir() else []


def profile_config_path(name: str) -> Path:
    """profiles/NAME/config.toml, or a ConfigError listing the profiles there are."""
    path = profiles_dir() / name / "config.toml"
    if "/" in name or name.startswith(".") or not path.is_file():
        known = ", ".join(profile_names()) or "none installed"
        raise ConfigError(None, [ConfigProblem("--profile", repr(name), f"no such profile (known: {known})")])
    return path


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


def read_token(source: TokenSource, key: str = "api", environ: dict[str, str] | None = None) -> str | None:
    """The bearer token from the environment or a file; never logged, never shown.

    `key` names the config table in an error ("metrics.token_file = ...")."""
    env = os.environ if environ is None else environ
    if source.token_env and env.get(source.token_env):
        return env[source.token_env].strip()
    if source.token_file:
        try:
            return Path(source.token_file).expanduser().read_text().strip() or None
        except OSError as exc:
            problem = ConfigProblem(f"{key}.token_file", _shown(source.token_file), exc.strerror or str(exc))
            raise ConfigError(None, [problem]) from None
    return None


def token_env_names(config: Config) -> set[str]:
    """The environment variables any configured token is read from, every environment's
    included: a command run on prod-eu must not inherit prod-us's token either."""
    sources: list[TokenSource] = [config.api, *config.environments.values()]
    if isinstance(config.metrics, PrometheusMetricsConfig):
        sources.append(config.metrics)
    if config.alertmanager is not None:
        sources.append(config.alertmanager)
    return {source.token_env for source in sources if source.token_env}


def configured_tokens(config: Config, environ: dict[str, str] | None = None) -> list[str]:
    """Every configured token's value (API, Prometheus, Alertmanager): what redaction hides."""
    sources: list[tuple[TokenSource, str]] = [(config.api, "api")]
    if isinstance(config.metrics, PrometheusMetricsConfig):
        sources.append((config.metrics, "metrics"))
    if config.alertmanager is not None:
        sources.append((config.alertmanager, "alertmanager"))
    return [token for source, key in sources if (token := read_token(source, key, environ))]


def check_tokens(config: Config) -> None:
    """Read every configured token once, so a missing token file is said before anything starts."""
    configured_tokens(config)


def bearer_headers(source: TokenSource, key: str = "api") -> dict[str, str]:
    token = read_token(source, key)
    return {"Authorization": f"Bearer {token}"} if token else {}
