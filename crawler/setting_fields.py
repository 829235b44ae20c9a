"""Frozen config objects whose fields are settings: a field's default is crawler/settings.py's value, and
`from_settings` reads every such field from the crawl's settings with no default of its own."""

from __future__ import annotations

from dataclasses import field, fields
from typing import Any

from crawler import settings as defaults


def setting(name: str) -> Any:
    """A dataclass field for the setting `name`, defaulting to its value in crawler/settings.py."""
    return field(default=getattr(defaults, name), metadata={"setting": name})


def read_settings(cls: Any, settings: Any) -> dict[str, Any]:
    """The values of `cls`'s setting fields in `settings` (Scrapy settings), as floats or whole numbers
    like the fields' types."""
    values: dict[str, Any] = {}
    for item in fields(cls):
        name = item.metadata.get("setting")
        if name is not None:
            values[item.name] = settings.getfloat(name) if item.type == "float" else settings.getint(name)
    return values
