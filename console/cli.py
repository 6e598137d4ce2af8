"""Composition root: parse arguments, load the config, start the console or a subcommand.

The only module in `console` allowed to import the UI, and only when the UI starts, so
`check-config` and `sim` run without Textual.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from console.config import (
    Config,
    ConfigError,
    ConfigProblem,
    check_tokens,
    find_config,
    load_config,
    profile_config_path,
    read_token,
    shipped_config_path,
)

if TYPE_CHECKING:
    from console.demo.server import DemoServer

EXIT_CONFIG = 2


def _add_sim_options(parser: argparse.ArgumentParser) -> None:
    from console.demo import SCENARIOS

    parser.add_argument("--scenario", default="healthy", choices=SCENARIOS, help="fault scenario to start in")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second (0 freezes)")
    parser.add_argument("--seed", type=int, default=1, help="random seed; the same seed replays the same run")
    parser.add_argument("--workers", type=int, default=8, help="number of simulated workers")
    parser.add_argument("--held-leases", type=int, default=0, metavar="N", help="extra leases held on long-running jobs (large fleets)")
    parser.add_argument("--dlq-preload", type=int, default=0, metavar="N", help="start with N dead letters (paging and memory checks)")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        type=_fault,
        metavar="ROUTE:KIND[:VALUE]",
        help="make the demo backend misbehave, e.g. /metrics:latency:10, '*:hostile', /v1/workers:status:503 "
        "(repeatable; kinds: latency status rate-limit malformed truncated reset huge non-utf8 hostile)",
    )


def _fault(spec: str):  # noqa: ANN202 - a Fault; imported lazily like the rest of the demo
    from console.demo.faults import parse_cli

    try:
        return parse_cli(spec)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opsconsole",
        description="Terminal operations console for on-call engineers.",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: $OPSCONSOLE_CONFIG, ./config.toml, user config dir)")
    parser.add_argument("--profile", metavar="NAME", help="a shipped profile's config (profiles/NAME); with --demo the backend speaks that system's API")
    parser.add_argument("--env", metavar="NAME", help="open on this environment of the config's [environments]")
    parser.add_argument("--demo", action="store_true", help="start the built-in demo backend in-process and watch it")
    demo = parser.add_argument_group("demo backend (with --demo)")
    _add_sim_options(demo)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check-config", help="validate a config file; prints ok or every problem")
    check.add_argument("path", nargs="?", help="config file (default: the normal lookup)")
    check.add_argument(
        "--online", action="store_true", help="also ask Prometheus to evaluate every query, and the other servers to answer"
    )

    sim = sub.add_parser("sim", help="run the demo backend as an HTTP server in the foreground")
    sim.add_argument("--host", default="127.0.0.1", help="address to listen on (default loopback)")
    sim.add_argument("--port", type=int, default=8080)
    sim.add_argument("--token-env", default="", metavar="NAME", help="require the bearer token held in this environment variable")
    sim.add_argument("--profile", default="runtime", metavar="NAME", help="which system's API to speak (a profile name; default runtime)")
    _add_sim_options(sim)

    from console.evidence_cli import add_evidence_parser
    from console.incident_cli import add_incident_parser
    from console.runbook_cli import add_runbook_parser

    add_incident_parser(sub)
    add_runbook_parser(sub)
    add_evidence_parser(sub)
    parser.add_argument("--read-only", action="store_true", help="refuse every guarded action; cannot be lifted")
    return parser


def _check_config(path_arg: str | None, online: bool, profile: str | None = None) -> int:
    try:
        path = profile_config_path(profile) if profile and not path_arg else find_config(path_arg)
        config = load_config(path)
        check_tokens(config)
        for name, environment in config.environments.items():
            read_token(environment, f"environments.{name}")  # an unreadable token file is said now, not at a switch
        from console.runbook_check import check_runbooks

        runbooks, problems = check_runbooks(config)
        if problems:
            raise ConfigError(path, problems)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_CONFIG
    print(f"ok: {path} (environment {config.environment!r}, {len(config.signals)} signals, {len(runbooks)} runbooks)")
    if config.environments:
        from console.environments import describe

        print(f"{len(config.environments)} environments:")
        for line in describe(config, os.environ):
            print(f"  {line}")
    if untidy := sum(1 for runbook in runbooks if runbook.problems):
        print(f"note: {untidy} runbook{'s' if untidy != 1 else ''} would import badly; see `opsconsole runbook lint`")
    if not online:
        return 0
    from console.online_check import check_online

    answered, problems = check_online(config)
    for line in answered:
        print(f"ok: {line}")
    if problems:
        print(ConfigError(path, [ConfigProblem("", "", problem) for problem in problems]).report(), file=sys.stderr)
        return EXIT_CONFIG
    return 0


def _run_sim(args: argparse.Namespace) -> int:
    from console.demo.server import DemoServer

    try:
        server = DemoServer(
            host=args.host, port=args.port, scenario=args.scenario, speed=args.speed, seed=args.seed, workers=args.workers,
            held_leases=args.held_leases, dlq_preload=args.dlq_preload, profile=args.profile,
            token=os.environ.get(args.token_env, "") if args.token_env else "",
        )
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    server.sim.faults.replace(args.fault)
    print(f"demo backend on {server.url} (scenario {args.scenario}, speed {args.speed:g}, seed {args.seed}); Ctrl-C stops")
    server.serve_forever()
    return 0


def _config_path(args: argparse.Namespace) -> Path:
    if args.config and args.profile:
        raise ConfigError(None, [ConfigProblem("--profile", repr(args.profile), "give --config or --profile, not both")])
    if args.profile:
        return profile_config_path(args.profile)
    # --demo never falls back to a found config: a prod config must not be mixed with the demo.
    return Path(args.config) if args.config else shipped_config_path() if args.demo else find_config(None)


def _in_environment(loaded: Config, name: str | None) -> Config:
    """The loaded config in environment `name` (--env), or as it opens."""
    if not name:
        return loaded
    try:
        return loaded.for_environment(name)
    except ValueError as exc:
        raise ConfigError(None, [ConfigProblem("--env", repr(name), str(exc))]) from None


def _load(args: argparse.Namespace) -> Config:
    config = load_config(_config_path(args))
    return _demo_files(config) if args.demo else config


def _demo_files(config: Config) -> Config:
    """The demo keeps its incidents and audit log apart from the real ones (unless the
    config names files): a SEV-1 declared to try the demo must not make this host's real
    consoles read-only, nor its audit log hold demo actions."""
    from platformdirs import user_data_dir

    folder = Path(user_data_dir("opsconsole")) / "demo"
    update: dict = {}
    if not config.incident.state_path:
        update["incident"] = config.incident.model_copy(update={"state_path": str(folder / "incidents.db")})
    if not config.audit.path:
        update["audit"] = config.audit.model_copy(update={"path": str(folder / "audit.jsonl")})
    return config.model_copy(update=update)


def _load_for_ui(args: argparse.Namespace) -> Config:
    return _in_environment(_load(args), args.env)


def _start_demo(args: argparse.Namespace, loaded: Config, opening: str) -> tuple[list[DemoServer], Config]:
    """In-process demo backends: one, or one per environment of [environments] (the
    opening one in --scenario with --fault, the others healthy with their own seeds, so
    switching visibly changes the numbers). Returns them and the config aimed at them."""
    from console.demo.server import DemoServer
    from console.demo.shapes import DEMO_PROFILES
    from console.environments import aimed_at_demo

    names = list(loaded.environments) or [opening]
    servers: dict[str, DemoServer] = {}
    try:
        for index, name in enumerate(names):
            opens = name == opening
            servers[name] = DemoServer(
                port=0, scenario=args.scenario if opens else "healthy", speed=args.speed, seed=args.seed if opens else args.seed + 1 + index,
                workers=args.workers, held_leases=args.held_leases, dlq_preload=args.dlq_preload if opens else 0,
                profile=args.profile if args.profile in DEMO_PROFILES else "runtime",
            ).start()
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    servers[opening].sim.faults.replace(args.fault)
    urls = {name: server.url for name, server in servers.items()}
    aimed = aimed_at_demo(loaded, urls) if loaded.environments else loaded.pointed_at(urls[opening])
    return list(servers.values()), aimed


def _run_console(args: argparse.Namespace) -> int:
    try:
        loaded = _load(args)
        config = _in_environment(loaded, args.env)
        check_tokens(config)  # a missing token file is a config problem, said before the screen opens
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_CONFIG
    servers: list[DemoServer] = []
    if args.demo:
        servers, loaded = _start_demo(args, loaded, config.environment)
        config = _in_environment(loaded, config.environment) if loaded.environments else loaded
    try:
        from screens.app import OpsConsoleApp

        OpsConsoleApp(config, read_only=args.read_only, loaded_config=loaded).run()
    finally:
        for server in servers:
            server.stop()
    return 0


def _run_incident(args: argparse.Namespace) -> int:
    from console.incident_cli import run_incident

    try:
        config = _load_for_ui(args)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_CONFIG
    return run_incident(args, config)


def _run_evidence(args: argparse.Namespace) -> int:
    from console.evidence_cli import run_evidence

    try:
        config = _load_for_ui(args)
        check_tokens(config)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return EXIT_CONFIG
    return run_evidence(args, config)


def main(argv: list[str] | None = None) -> int:
    try:
        return _dispatch(build_parser().parse_args(argv))
    except BrokenPipeError:  # `opsconsole ... | head`: the reader left; no traceback for that
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "check-config":
        return _check_config(args.path, args.online, args.profile)
    if args.command == "sim":
        return _run_sim(args)
    if args.command == "incident":
        return _run_incident(args)
    if args.command == "runbook":
        from console.runbook_cli import run_runbook

        return run_runbook(args)
    if args.command == "evidence":
        return _run_evidence(args)
    return _run_console(args)


if __name__ == "__main__":
    sys.exit(main())
