"""What lets an operator change things, wired together: the incident store, the read-only
policy, the audit log and the action executor, all from one config.

The UI holds one `Controls`; tests build one the same way and drive the executor directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from console.audit import AuditLog, Operator, audit_path, current_operator
from console.config import Config, read_token
from console.environments import every_token
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

    def for_environment(self, config: Config, environ: dict[str, str] | None = None) -> Controls:
        """The same incident store, audit log, read-only policy and operator, with an executor
        for `config`'s backend, token and vars. The caller closes the old executor."""
        token = read_token(config.api, "api", environ)
        executor = Executor(config, self.policy, self.audit, self.operator, token=token, environ=environ)
        return replace(self, config=config, executor=executor)

    def record_switch(self, before: str) -> None:
        """A switch of environment goes to the audit log, and to the timeline of an open
        incident: what was done afterwards was done somewhere else."""
        after = self.config.environment
        incident = self.policy.incident
        self.audit.append(
            {
                "type": "environment",
                "from": before,
                "to": after,
                "text": f"switched environment {before} → {after}",
                "operator": self.operator.as_record(),
                "host": self.operator.host,
                "environment": after,
                "incident": incident.id if incident else "",
            }
        )
        if incident is not None and incident.is_open:
            try:
                self.store.add_event(incident.id, str(self.operator), "environment", f"switched environment {before} → {after}")
            except Exception:  # the timeline is a record, not a gate: the audit log has it
                pass

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
    # Every token is kept out of the log, not just the API's and not just this environment's:
    # an operator may paste any of them.
    secrets = every_token(config, environ)
    audit = AuditLog(audit_path(config.audit.path), secrets=secrets, clock=clock)
    policy = ReadOnlyPolicy(config.policy, config.read_only, cli_read_only, operator, audit, store, clock)
    executor = Executor(config, policy, audit, operator, token=token, environ=environ)
    return Controls(config, operator, store, audit, policy, executor, secrets)
