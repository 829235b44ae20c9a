"""Every setting paperset reads, declared once with its type and range (its default is the settings
module's value, its meaning the comment there): the one table that the pre-run check (checks.py),
docs/settings.md (scripts/settings_doc.py) and the frozen configs (`setting(name)` fields, read by
`read_settings`) derive from. A value is parsed and range-checked by `parse`, which names the setting."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Self
from urllib.parse import urlsplit

from paperset.crawler import settings as defaults
from paperset.crawler.errors import SettingError

# How a listing is fetched (PAPERSET_FETCH, `--fetch`, the spider's `fetch` argument).
FETCH_MODES = ("auto", "api", "page", "browser")
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "NOTSET")


@dataclass(frozen=True)
class Spec:
    """A setting's type (bool, int, float, str, list, dict), its inclusive bounds (`above`: strictly more
    than `low`; `below`: strictly less than `high`), its choices, and whether None is allowed."""

    kind: type
    low: float | None = None
    high: float | None = None
    above: bool = False
    below: bool = False
    choices: tuple[str, ...] = ()
    nullable: bool = False
    # For text and lists: what is wrong with a value (None: nothing), and what is expected.
    check: Callable[[Any], str | None] | None = None
    expected: str = ""

    def describe(self) -> str:
        """The type and range, as docs/settings.md shows them."""
        text = {bool: "true/false", int: "whole number", float: "number", str: "text", list: "list",
                dict: "JSON object"}[self.kind]
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.expected:
            return self.expected
        if self.low is not None or self.high is not None:
            left = "" if self.low is None else f"{self.low:g} {'<' if self.above else '<='} "
            right = "" if self.high is None else f" {'<' if self.below else '<='} {self.high:g}"
            text += f", {left}x{right}"
        return text + (", or None" if self.nullable else "")


def url_problem(url: str) -> str | None:
    """What keeps `url` from being a site's URL (http or https, a host, a numeric port, no query or
    fragment), or None."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        return str(exc)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        return "not http(s)://host[:port]"
    return None


def _hosts_problem(value: Any) -> str | None:
    entries = value.split(",") if isinstance(value, str) else list(value)
    for entry in (str(e).strip() for e in entries):
        if entry and url_problem(entry if "://" in entry else f"https://{entry}"):
            return entry
    return None


def _matching(pattern: str) -> Callable[[Any], str | None]:
    return lambda value: None if re.fullmatch(pattern, str(value)) else "no match"


def _store_problem(value: Any) -> str | None:
    text = str(value)
    return "unknown scheme" if "://" in text and not text.startswith(("redis://", "rediss://", "unix://")) else None


def _n(kind: type, low: float | None = 0, high: float | None = None, **more: Any) -> Spec:
    return Spec(kind, low, high, **more)


POSITIVE_INT = _n(int, 1)
COUNT = _n(int, 0)
SECONDS = _n(float, 0)
SWITCH = Spec(bool)
TEXT = Spec(str)

SPECS: dict[str, Spec] = {
    # the site and politeness
    "PAPERSET_BASE_URL": Spec(str, check=lambda v: url_problem(str(v)), expected="an http(s)://host[:port] URL"),
    "PAPERSET_CONTACT": Spec(str, check=_matching(r"[^\x00-\x1f\x7f]*"), expected="text without control characters"),
    "PAPERSET_ALLOWED_HOSTS": Spec(list, check=_hosts_problem, expected="hosts or http(s) URLs, comma-separated"),
    "PAPERSET_UNREACHABLE_AFTER": POSITIVE_INT, "PAPERSET_FIRST_CONTACT_TIMEOUT_S": SECONDS,
    "PAPERSET_BUDGET_WINDOW_S": _n(float, 0, above=True), "PAPERSET_BUDGET_API": COUNT,
    "PAPERSET_BUDGET_PAGES": COUNT, "PAPERSET_BACKOFF_BASE_S": SECONDS, "PAPERSET_BACKOFF_MAX_S": SECONDS,
    "PAPERSET_BACKOFF_JITTER": _n(float, 0, 1), "PAPERSET_MAX_WAIT_S": SECONDS,
    "PAPERSET_THROTTLE_RETRIES": COUNT, "PAPERSET_UNTHROTTLED": SWITCH,
    # the spool and runs
    "PAPERSET_SPOOL": TEXT, "PAPERSET_SPOOL_FLUSH_EVERY": POSITIVE_INT,
    "PAPERSET_SPOOL_PART_BYTES": POSITIVE_INT, "PAPERSET_RESUME": SWITCH,
    "PAPERSET_RECRAWL_DAYS": POSITIVE_INT, "PAPERSET_ARCHIVE": TEXT,
    "PAPERSET_REPLAY": Spec(list, expected="WARC file paths"),
    "PAPERSET_LINKS_MAX_CALLS": COUNT, "PAPERSET_LINKS_OUT": TEXT, "PAPERSET_LINKS_RETRY": TEXT,
    "PAPERSET_SWEEP_SIZE": COUNT, "PAPERSET_ALL_PAPERS_EXPECTED": COUNT, "PAPERSET_DETAILS_FROM_PAGE": SWITCH,
    # cleaning
    "PAPERSET_DEDUPE_STORE": Spec(str, check=_store_problem, expected="memory, a folder or redis://host:port/db"),
    "PAPERSET_DEDUPE_SHINGLE_SIZE": _n(int, 1, 20), "PAPERSET_DEDUPE_MAX_SEGMENTS": POSITIVE_INT,
    "PAPERSET_DEDUPE_NUM_PERM": _n(int, 16, 1024), "PAPERSET_DEDUPE_THRESHOLD": _n(float, 0, 1, above=True, below=True),
    "PAPERSET_DEDUPE_SEED": COUNT, "PAPERSET_DEDUPE_BANDS": _n(int, 1, nullable=True),
    "PAPERSET_DEDUPE_ROWS": _n(int, 1, nullable=True), "PAPERSET_NORMALIZE_ENABLED": SWITCH,
    "PAPERSET_VALIDATE_ENABLED": SWITCH, "PAPERSET_DEDUPE_ENABLED": SWITCH, "PAPERSET_REJECTS_ENABLED": SWITCH,
    "PAPERSET_PROGRESS": SWITCH, "PAPERSET_REJECTS": TEXT, "PAPERSET_MAX_TITLE_CHARS": POSITIVE_INT,
    "PAPERSET_MAX_ABSTRACT_CHARS": POSITIVE_INT, "PAPERSET_MAX_FUTURE_DAYS": POSITIVE_INT,
    # the browser path
    "PAPERSET_FETCH": Spec(str, choices=FETCH_MODES), "PAPERSET_BROWSER_MAX_ROUNDS": POSITIVE_INT,
    "PAPERSET_BROWSER_WAIT_MS": COUNT, "PAPERSET_BROWSER_QUIET_MS": COUNT,
    "PAPERSET_API_PAGE_SIZE": _n(int, 1, 100),
    # distributed runs
    "PAPERSET_REDIS_NAME": Spec(str, check=_matching(r"[A-Za-z0-9._-]*"), expected="letters, digits, '.', '_', '-'"),
    "PAPERSET_WORKER_ID": Spec(str, check=_matching(r"[A-Za-z0-9._-]*"), expected="letters, digits, '.', '_', '-'"),
    # Scrapy's own, as paperset relies on them
    "CONCURRENT_REQUESTS": POSITIVE_INT, "CONCURRENT_REQUESTS_PER_DOMAIN": POSITIVE_INT,
    "CONCURRENT_ITEMS": POSITIVE_INT, "DOWNLOAD_TIMEOUT": _n(float, 0, above=True), "DOWNLOAD_DELAY": SECONDS,
    "DOWNLOAD_MAXSIZE": COUNT, "DOWNLOAD_WARNSIZE": COUNT, "RETRY_TIMES": COUNT, "RETRY_ENABLED": SWITCH,
    "ROBOTSTXT_OBEY": SWITCH, "AUTOTHROTTLE_ENABLED": SWITCH, "AUTOTHROTTLE_START_DELAY": SECONDS,
    "AUTOTHROTTLE_MAX_DELAY": SECONDS, "AUTOTHROTTLE_TARGET_CONCURRENCY": _n(float, 0, above=True),
    "URLLENGTH_LIMIT": COUNT, "LOG_LEVEL": Spec(str, choices=LOG_LEVELS), "COOKIES_ENABLED": SWITCH,
    "PLAYWRIGHT_MAX_CONTEXTS": POSITIVE_INT, "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": POSITIVE_INT,
    "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": _n(float, 0, above=True),
}
# What Scrapy's getbool accepts.
_TRUE, _FALSE = ("1", "true"), ("0", "false")


def _typed(name: str, spec: Spec, raw: Any) -> Any:
    """`raw` (a value from settings or text from `-s`) as the spec's type; SettingError naming `name`."""
    if spec.kind is bool:
        if isinstance(raw, bool) or (isinstance(raw, int) and raw in (0, 1)):
            return bool(raw)
        if str(raw).strip().lower() in _TRUE + _FALSE:
            return str(raw).strip().lower() in _TRUE
        raise SettingError(f"setting {name} = {raw!r}: expected true or false")
    if spec.kind in (int, float):
        if isinstance(raw, bool):
            raise SettingError(f"setting {name} = {raw!r}: expected {spec.describe()}")
        try:
            if spec.kind is float:
                value = float(raw)
            else:  # as Scrapy's getint: a whole float is fine, "1.5" is not
                value = int(raw) if isinstance(raw, int) or (isinstance(raw, float) and raw.is_integer()) \
                    else int(str(raw).strip())
        except (TypeError, ValueError):
            raise SettingError(f"setting {name} = {raw!r}: expected {spec.describe()}") from None
        if not math.isfinite(value):
            raise SettingError(f"setting {name} = {raw!r}: expected a finite number")
        return value
    return raw


def parse(name: str, raw: Any) -> Any:
    """The value of setting `name` given as `raw`, parsed and range-checked: SettingError names the setting,
    the value and what is expected."""
    spec = SPECS[name]
    if raw is None or (spec.nullable and str(raw).strip().lower() in ("", "none", "null")):
        if spec.nullable or spec.kind in (str, list, dict):
            return None
        raise SettingError(f"setting {name} = {raw!r}: expected {spec.describe()}")
    value = _typed(name, spec, raw)
    if spec.choices and str(value).lower() not in {c.lower() for c in spec.choices}:
        raise SettingError(f"setting {name} = {raw!r}: expected one of {', '.join(spec.choices)}")
    if spec.check is not None and spec.check(value) is not None:
        raise SettingError(f"setting {name} = {raw!r}: expected {spec.describe()}")
    if spec.kind in (int, float):
        low_bad = spec.low is not None and (value <= spec.low if spec.above else value < spec.low)
        high_bad = spec.high is not None and (value >= spec.high if spec.below else value > spec.high)
        if low_bad or high_bad:
            raise SettingError(f"setting {name} = {raw!r}: expected {spec.describe()}")
    return value


def setting(name: str) -> Any:
    """A dataclass field for the setting `name`, defaulting to its value in paperset.crawler.settings."""
    if name not in SPECS:
        raise KeyError(f"{name} is not declared in paperset/crawler/settings/fields.py")
    default = getattr(defaults, name)
    return field(default=tuple(default) if isinstance(default, list) else default, metadata={"setting": name})


def setting_value(settings: Any, name: str) -> Any:
    """Setting `name` of `settings` (Scrapy settings or a dict; one it lacks keeps the settings module's
    default), parsed and range-checked (SettingError naming it); a list as Scrapy's `getlist` reads it
    (text split at commas, nothing an empty list), as a tuple."""
    value = parse(name, settings.get(name) if name in settings else getattr(defaults, name))
    if SPECS[name].kind is list:
        return tuple(value.split(",") if isinstance(value, str) else value) if value else ()
    return value


def read_settings(cls: Any, settings: Any) -> dict[str, Any]:
    """The values of `cls`'s setting fields in `settings` (Scrapy settings or a dict), parsed and checked."""
    return {item.name: setting_value(settings, item.metadata["setting"])
            for item in fields(cls) if "setting" in item.metadata}


class FromSettings:
    """A frozen config's one way in: `from_settings(settings)` reads every `setting(name)` field once
    (the rule `tests/test_settings_read_once.py` holds: components read their config, never the settings)."""

    @classmethod
    def from_settings(cls, settings: Any) -> Self:
        """Every setting field read from `settings`, parsed and range-checked (SettingError naming it)."""
        return cls(**read_settings(cls, settings))
