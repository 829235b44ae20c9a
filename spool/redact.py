"""Credentials kept out of every file and log: URLs anywhere in a JSON-like value lose their passwords."""

from __future__ import annotations

import re
from typing import Any

_SECRET_URL = re.compile(r"(\w+://)([^/@\s]*)@")


def redact(value: Any) -> Any:
    """Remove credentials from URLs anywhere in a JSON-like value (`redis://:pw@host` -> `redis://***@host`)."""
    if isinstance(value, str):
        return _SECRET_URL.sub(r"\1***@", value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
