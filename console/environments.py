"""Several environments of one system (prod-eu, prod-us, staging) in one config: which
are production, where the one on screen stands among them, the demo aimed at one backend
per environment, and every environment's tokens.

A switch (screens/environments_app.py) starts from the config as loaded, never from one
already aimed at an environment: `for_environment` lays an environment's keys over the
top-level ones, so laying prod-us over prod-eu would keep what prod-us leaves unset from
prod-eu.
"""

from __future__ import annotations

from collections.abc import Mapping

from console.config import Config, ConfigError, configured_tokens

PRODUCTION_PREFIXES = ("prod",)
"""An environment whose name starts with one of these (any case) is production: the header
and every confirmation show it in its own colour."""


def is_production(name: str) -> bool:
    return name.lower().startswith(PRODUCTION_PREFIXES)


def position(config: Config) -> tuple[int, int] | None:
    """(1-based place, how many) of the environment on screen in the config's
    [environments], in the file's order; None when there is only one."""
    names = list(config.environments)
    if len(names) < 2 or config.environment not in names:
        return None
    return names.index(config.environment) + 1, len(names)


def aimed_at_demo(loaded: Config, urls: Mapping[str, str]) -> Config:
    """The loaded config with each environment aimed at its own demo backend (`urls` by
    environment name), as `pointed_at` does for one: nothing is left pointing at a real
    system, and the opening environment's backend stands in for the top-level one."""
    environments = {
        name: env.model_copy(update={"base_url": urls[name].rstrip("/"), "metrics_url": "", "alertmanager_url": ""})
        for name, env in loaded.environments.items()
    }
    opening = urls.get(loaded.environment) or next(iter(urls.values()))
    return loaded.pointed_at(opening).model_copy(update={"environments": environments})


def every_token(config: Config, environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The tokens of the environment on screen and of every other one that can be read:
    what redaction hides from the shared audit log, whichever environment an operator
    pasted a token from. Another environment's unreadable token file is said when
    switching to it, not here. (`config` may already be aimed at an environment: for a
    union of tokens, laying one environment over another loses none.)"""
    tokens = list(configured_tokens(config, environ))
    for name in config.environments:
        if name == config.environment:
            continue
        try:
            tokens += configured_tokens(config.for_environment(name), environ)
        except ConfigError:
            continue
    return tuple(dict.fromkeys(tokens))


def describe(loaded: Config, environ: Mapping[str, str]) -> list[str]:
    """One line per environment for check-config: where it points and where its token
    comes from (whether that variable is set, never its value)."""
    lines = []
    for name in loaded.environments:
        config = loaded.for_environment(name)
        api = config.api
        if api.token_env:
            token = f"token ${api.token_env} ({'set' if environ.get(api.token_env) else 'not set'})"
        elif api.token_file:
            token = f"token file {api.token_file}"
        else:
            token = "no token"
        opening = " (opens first)" if name == loaded.environment else ""
        production = " production" if is_production(name) else ""
        vars_text = " ".join(f"{key}={value}" for key, value in config.vars.items())
        lines.append(f"{name}{opening}{production}: {api.base_url}, {token}" + (f", vars {vars_text}" if vars_text else ""))
    return lines
