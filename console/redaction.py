"""Keeping secrets out of what the console writes down: the audit log and evidence bundles.

Three kinds of secret are replaced by `[redacted]`: the configured bearer tokens wherever
their value appears (in text, in JSON keys and values, in bytes a backend sent), the value
of any field whose name says it is secret (token, password, authorization, cookie...), and
anything that looks like an Authorization value (`Bearer abc...`, `Authorization: xyz`)
even when the token is not one of ours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
SECRET_KEY = re.compile(r"authorization|token|secret|password|passwd|api[_-]?key|cookie", re.IGNORECASE)
# `Authorization: <scheme> value`, `"authorization": "value"`, or a bare `Bearer value`.
# A value must look like a credential (8+ token characters), so prose such as "wrong
# bearer token" stays readable; our own tokens are replaced by value whatever they look like.
_AUTH_VALUE = (
    r"(?i)((?:\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)|\bbearer\s+)"
    r"([A-Za-z0-9._~+/=-]{8,})"
)
_AUTH_TEXT = re.compile(_AUTH_VALUE)
_AUTH_BYTES = re.compile(_AUTH_VALUE.encode())


def _known(secrets: Iterable[str]) -> list[str]:
    # Longest first, so a token that contains another is replaced whole.
    return sorted({s for s in secrets if s}, key=len, reverse=True)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    for secret in _known(secrets):
        text = text.replace(secret, REDACTED)
    return _AUTH_TEXT.sub(lambda m: m.group(1) + REDACTED, text)


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """`value` (JSON-like) with every known secret and every secret-named field replaced."""
    known = _known(secrets)

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            return {walk(str(k)): REDACTED if SECRET_KEY.search(str(k)) else walk(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [walk(v) for v in item]
        if isinstance(item, str):
            return redact_text(item, known)
        return item

    return walk(value)


def _has_secret_field(value: Any) -> bool:
    if isinstance(value, dict):
        return any((SECRET_KEY.search(str(k)) and v != REDACTED) or _has_secret_field(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_has_secret_field, value))
    return False


def redact_body(body: bytes, secrets: Iterable[str]) -> tuple[bytes, str]:
    """What a backend sent, with secrets replaced, and a note saying what was done.

    The bytes stay as they came (they are evidence) except for the replacements. Only a
    JSON body with a secret-named field is re-encoded: its field can only be replaced
    reliably in the parsed document."""
    known = _known(secrets)
    out = body
    for secret in known:
        # As is, JSON-escaped, and with "/" escaped as some JSON encoders do.
        for form in {secret.encode(), json.dumps(secret)[1:-1].encode(), secret.replace("/", "\\/").encode()}:
            out = out.replace(form, REDACTED.encode())
    out = _AUTH_BYTES.sub(lambda m: m.group(1) + REDACTED.encode(), out)
    note = "secret values replaced" if out != body else ""
    try:
        data = json.loads(out)
    except ValueError:  # not JSON (or not UTF-8): byte replacements are all there is to do
        return out, note
    if not _has_secret_field(data):
        return out, note
    return json.dumps(redact(data, known)).encode(), "re-encoded with secret-named fields replaced"
