"""What lets an operator change things, wired together: the incident store, the read-only
policy, the audit log and the action executor, all from one config.

The UI holds one `Controls`; tests build one the same way and drive the executor directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from console.audit import AuditLog, Operator, audit_path, current_operator
from console.config import Config, configured_tokens, read_token
from console.execution import Executor
from console.incident import Incident, IncidentStore, store_path
from console.policy import ReadOnlyPolicy


@dataclass
class Controls:
    config: Config
    operator: Operator
    store: IncidentStore
    audit: AuditLog
    policy: ReadOnlyPolicy
    executor: Executor
    secrets: tuple[str, ...] = ()
    """Every configured token's value: redacted from the timeline, status updates and exports."""

    def load_incident(self) -> Incident | None:
        """Read the shared state file (another console may have changed it) and apply it."""
        incident = self.store.current()
        self.policy.incident_changed(incident)
        return incident

    def record_incident(self, incident: Incident, change: str) -> None:
        """Incident changes go to the audit log as well as the timeline."""
        record_incident_change(self.audit, self.operator, self.config.environment, incident, change)

    async def aclose(self) -> None:
        await self.executor.aclose()


def record_incident_change(audit: AuditLog, operator: Operator, environment: str, incident: Incident, change: str) -> None:
    audit.append(
        {
            "type": "incident",
            "incident": incident.id,
            "text": change,
            "operator": operator.as_record(),
            "host": operator.host,
            "environment": environment,
        }
    )


def build_controls(
    config: Config,
    cli_read_only: bool = False,
    clock: Callable[[], float] = time.time,
    environ: dict[str, str] | None = None,
) -> Controls:
    operator = current_operator(environ)
    token = read_token(config.api, "api", environ)
    store = IncidentStore(store_path(config.incident.state_path), clock=clock)
    # Every token is kept out of the log, not just the API's: an operator may paste any of them.
    secrets = tuple(configured_tokens(config, environ))
    audit = AuditLog(audit_path(config.audit.path), secrets=secrets, clock=clock)
    policy = ReadOnlyPolicy(config.policy, config.read_only, cli_read_only, operator, audit, store, clock)
    executor = Executor(config, policy, audit, operator, token=token, environ=environ)
    return Controls(config, operator, store, audit, policy, executor, secrets)
