"""Every known setting's type and range, checked once before anything runs: a bad `-s NAME=VALUE` is a
clear error naming the setting (SettingError, exit 2), not a traceback in the middle of a crawl."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from scrapy.settings import Settings, default_settings

import crawler.settings as project
from crawler.errors import SettingError
from crawler.spiders.hf_papers import FETCH_MODES

# Read with getfloat although their default is a whole number.
_SECONDS = re.compile(r"(DELAY|TIMEOUT|INTERVAL|_SECONDS|_S|_MS)$")
_SWITCH = re.compile(r"^PAPERSET_[A-Z_]+_ENABLED$")
# Whole numbers Scrapy itself reads that may be negative (priorities).
SIGNED = frozenset({"DEPTH_PRIORITY", "REDIRECT_PRIORITY_ADJUST", "RETRY_PRIORITY_ADJUST",
                    "DOWNLOAD_SLOTS"})
# Must be above 0, not only 0 or more.
POSITIVE = frozenset({
    "DOWNLOAD_TIMEOUT", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "PAPERSET_BUDGET_WINDOW_S",
    "PAPERSET_API_PAGE_SIZE", "PAPERSET_SPOOL_FLUSH_EVERY", "PAPERSET_RECRAWL_DAYS",
    "PAPERSET_DEDUPE_SHINGLE_SIZE", "PAPERSET_DEDUPE_NUM_PERM", "PAPERSET_MAX_TITLE_CHARS",
    "PAPERSET_MAX_ABSTRACT_CHARS", "PAPERSET_MAX_FUTURE_DAYS", "PAPERSET_BROWSER_MAX_ROUNDS",
    "PLAYWRIGHT_MAX_CONTEXTS", "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT", "AUTOTHROTTLE_TARGET_CONCURRENCY",
})
# Upper bounds (inclusive): fractions, and what the site accepts.
AT_MOST = {"PAPERSET_DEDUPE_THRESHOLD": 1.0, "PAPERSET_BACKOFF_JITTER": 1.0, "PAPERSET_API_PAGE_SIZE": 100}
CHOICES: dict[str, tuple[str, ...]] = {
    "PAPERSET_FETCH": FETCH_MODES,
    "LOG_LEVEL": ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET"),
}


def defaults() -> dict[str, Any]:
    """Every known setting with its default: Scrapy's, then the project's (which win)."""
    known = {k: v for k, v in vars(default_settings).items() if k.isupper()}
    known.update({k: v for k, v in vars(project).items() if k.isupper()})
    return known


def _reader(name: str, default: Any, settings: Settings) -> tuple[Callable[[str], Any], str] | None:
    """The typed getter for a setting, from its default's type, and what it expects; None: untyped."""
    if isinstance(default, bool):
        return settings.getbool, "true or false"
    if isinstance(default, int) and not _SECONDS.search(name):
        return settings.getint, "a whole number"
    if isinstance(default, int | float):
        return settings.getfloat, "a number"
    if isinstance(default, dict):
        return settings.getdict, "a JSON object"
    if isinstance(default, list | tuple):
        return settings.getlist, "a list"
    return None


def check_settings(settings: Settings) -> None:
    """Raise SettingError for the first known setting whose value has the wrong type or range. Known:
    those with a default (Scrapy's or the project's) and the `PAPERSET_<PART>_ENABLED` switches (true or
    false). Other names pass unchecked: components may read settings they set themselves (workers)."""
    known = defaults()
    known.update({k: True for k in settings.attributes if _SWITCH.match(k) and k not in known})
    for name, default in known.items():
        # Scrapy's own defaults at their own priority are right by definition (and reading the
        # deprecated ones would warn).
        if settings.getpriority(name) in (None, 0) and name not in vars(project):
            continue
        raw = settings.get(name)
        if raw is None:
            continue
        reader = _reader(name, default, settings)
        if reader is not None:
            getter, expected = reader
            try:
                value = getter(name)
            except (TypeError, ValueError):
                raise SettingError(f"setting {name} = {raw!r}: expected {expected}") from None
            _check_range(name, value, raw)
        if name in CHOICES and str(raw).upper() not in {c.upper() for c in CHOICES[name]}:
            raise SettingError(f"setting {name} = {raw!r}: expected one of {', '.join(CHOICES[name])}")


def _check_range(name: str, value: Any, raw: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return
    if value != value or value in (float("inf"), float("-inf")):
        raise SettingError(f"setting {name} = {raw!r}: expected a finite number")
    paperset = name.startswith("PAPERSET_")
    if name in POSITIVE and value <= 0:
        raise SettingError(f"setting {name} = {raw!r}: must be above 0")
    if (paperset or (name not in SIGNED and name in vars(project))) and value < 0:
        raise SettingError(f"setting {name} = {raw!r}: must be 0 or more")
    if name in AT_MOST and value > AT_MOST[name]:
        raise SettingError(f"setting {name} = {raw!r}: must be at most {AT_MOST[name]}")

