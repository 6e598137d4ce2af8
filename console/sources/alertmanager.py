"""Firing alerts from Alertmanager's v2 API (v1 answers 410 since 0.27; v2 has no envelope)."""

from __future__ import annotations

from typing import Any

import httpx

from console.config import AlertmanagerConfig
from console.models import Alert
from console.sources.http import SourceError, get_json
from console.sources.json_mapping import as_text, parse_time

ALERTS_PATH = "/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true"


def _pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict):
        return ()
    return tuple(sorted((as_text(k), as_text(v)) for k, v in value.items()))


def parse_alerts(body: Any) -> tuple[Alert, ...]:
    """Alerts newest first. Silenced and inhibited ones are kept and marked: hiding them
    would hide that someone silenced a page."""
    if not isinstance(body, list):
        raise SourceError("unexpected answer from Alertmanager: not a list of alerts")
    alerts = []
    for item in body:
        if not isinstance(item, dict):
            continue
        labels = item.get("labels") if isinstance(item.get("labels"), dict) else {}
        annotations = item.get("annotations") if isinstance(item.get("annotations"), dict) else {}
        status = item.get("status") if isinstance(item.get("status"), dict) else {}
        alerts.append(
            Alert(
                name=as_text(labels.get("alertname", "")) or "(no alertname)",
                severity=as_text(labels.get("severity", "")),
                state=as_text(status.get("state", "")),
                starts_at=parse_time(item.get("startsAt")),
                summary=as_text(annotations.get("summary") or annotations.get("description") or ""),
                silenced=bool(status.get("silencedBy")),
                inhibited=bool(status.get("inhibitedBy")),
                labels=_pairs(labels),
                annotations=_pairs(annotations),
                fingerprint=as_text(item.get("fingerprint", "")),
                generator_url=as_text(item.get("generatorURL", "")),
            )
        )
    alerts.sort(key=lambda a: a.starts_at.timestamp() if a.starts_at else 0.0, reverse=True)
    return tuple(alerts)


async def fetch_alerts(client: httpx.AsyncClient, config: AlertmanagerConfig) -> tuple[tuple[Alert, ...], None]:
    """`client` must be Alertmanager's own: the ops API's token is not Alertmanager's to see."""
    return parse_alerts(await get_json(client, config.url + ALERTS_PATH, config.timeout_s)), None
