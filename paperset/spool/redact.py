"""Credentials kept out of every file and log: URLs anywhere in a JSON-like value lose their passwords and
their secret query parameters (token=, api_key=, ...), and headers that carry credentials lose their values.
One rule for logs, outcomes, run files and the web archive's recorded requests (paperset/crawler/fetch/archive/)."""

from __future__ import annotations

import re
from typing import Any

_SECRET_URL = re.compile(r"(\w+://)([^/@\s]*)@")
# Query parameters whose value is a credential (`?token=...&p=1` -> `?token=***&p=1`).
_SECRET_QUERY = re.compile(r"([?&](?:access_token|token|api_key|apikey|password|passwd|secret|auth|signature|sig)=)"
                           r"[^&#\s\"']*", re.IGNORECASE)
# Request and response headers whose value is a credential: recorded as `***`.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
                            "x-auth-token"})
REDACTED = "***"


def redact(value: Any) -> Any:
    """Remove credentials from URLs anywhere in a JSON-like value (`redis://:pw@host` -> `redis://***@host`,
    `?token=abc` -> `?token=***`)."""
    if isinstance(value, str):
        value = _SECRET_URL.sub(r"\1***@", value)
        return _SECRET_QUERY.sub(r"\1***", value) if "=" in value else value
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def redact_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Headers with the values of SECRET_HEADERS replaced by `***` and every other value redacted as a string
    (a Referer or Location may carry a secret URL)."""
    return [(name, REDACTED if name.lower() in SECRET_HEADERS else redact(value)) for name, value in headers]
