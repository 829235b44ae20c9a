"""Normalize step: every entry's text, ids, URLs, dates and lists in canonical form, a thin Scrapy adapter
over paperset.crawler.clean.fields (which field gets which cleaning) and its counts."""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from paperset.crawler.clean.fields import (
    BOOL_FIELDS,
    CONVERSIONS,
    DATE_FIELDS,
    LIST_FIELDS,
    NESTED_CLEANERS,
    TEXT_FIELDS,
    URL_FIELDS,
    arxiv_id_value,
    list_value,
    text_value,
    timestamp_value,
    url_value,
)
from paperset.crawler.clean.normalize import canonical_arxiv_id, canonical_timestamp, canonical_url
from paperset.crawler.clean.rejects import Rejected
from paperset.crawler.clean.values import REQUIRED, BadValue
from paperset.crawler.site.items import PaperEntry


class NormalizePipeline:
    """Puts each entry in canonical form; validation comes next and judges the result.

    Every value first converts to its field's type only when nothing is lost (paperset.crawler.clean.values: "12" and
    12.0 are 12; True, 3.5, a string of authors, a list for an organization are not): a value that does
    not is counted `paperset/bad_values/<field>/<reason>` and rejects the entry (`bad_type`) when the field
    is one it cannot be without (title, paper_id, abstract), else the field is kept null. So is a link
    that is not a URL (also `paperset/repaired/bad_url`) and a date that is not one (`not_a_date`).
    Removed control characters are counted (`paperset/repaired/control_chars`). Settings:
    `PAPERSET_NORMALIZE_ENABLED`.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        if not crawler.settings.getbool("PAPERSET_NORMALIZE_ENABLED"):
            raise NotConfigured
        assert crawler.stats is not None
        return cls(crawler.stats)

    def bad_value(self, entry: Any, name: str, reason: str, value: Any) -> None:
        """Count a value that did not convert; reject the entry for a field it cannot be without, else
        keep the field null."""
        if name in REQUIRED:
            raise Rejected("bad_type", f"{name}: {reason} ({value!r})"[:300], field=name, problem=reason)
        self.stats.inc_value(f"paperset/bad_values/{name}/{reason}")
        entry[name] = None

    def convert(self, entry: Any) -> None:
        for name, exact, conversion in CONVERSIONS:
            value = entry.get(name)
            if value is None or (type(value) is exact and exact is not list):
                continue
            try:
                entry[name] = conversion(value)
            except BadValue as exc:
                self.bad_value(entry, name, exc.reason, value)

    def typed(self, entry: Any) -> None:
        """Flags and nested objects (user references, author objects, the organization): a leaf of the
        wrong type is null and counted `paperset/bad_values/<field>.<leaf>/<reason>`; the rest is kept."""
        for name in BOOL_FIELDS:
            value = entry.get(name)
            if value is not None and not isinstance(value, bool):
                self.bad_value(entry, name, "not_a_bool", value)
        for name, clean in NESTED_CLEANERS:
            value = entry.get(name)
            if value is None:
                continue
            entry[name], problems = clean(value)
            for where, reason in problems:
                self.stats.inc_value(f"paperset/bad_values/{name}{where}/{reason}")

    def process_item(self, item: Any) -> Any:
        # Our own dataclass is changed through its __dict__: no adapter round trip per field.
        entry: Any = item.__dict__ if type(item) is PaperEntry else ItemAdapter(item)
        self.convert(entry)
        unwanted = False
        for name in TEXT_FIELDS:
            value = entry.get(name)
            if isinstance(value, str):
                entry[name], dirty = text_value(value)
                unwanted = unwanted or dirty
            else:
                entry[name] = value
        for name in LIST_FIELDS:
            entry[name], dirty = list_value(entry.get(name))
            unwanted = unwanted or dirty
        if unwanted:
            self.stats.inc_value("paperset/repaired/control_chars")
        for name in URL_FIELDS:
            raw = entry.get(name)
            entry[name] = url_value(raw) if isinstance(raw, str) else canonical_url(raw)
            if raw is not None and entry[name] is None:
                self.stats.inc_value("paperset/repaired/bad_url")
                self.stats.inc_value(f"paperset/bad_values/{name}/not_a_url")
        for name in DATE_FIELDS:
            raw = entry.get(name)
            if raw is None:
                continue
            entry[name] = timestamp_value(raw) if isinstance(raw, str) else canonical_timestamp(raw)
            if entry[name] is None:
                self.bad_value(entry, name, "not_a_date", raw)
        self.typed(entry)
        raw_id = entry.get("paper_id")
        parsed = arxiv_id_value(raw_id) if type(raw_id) is str else canonical_arxiv_id(raw_id)
        if parsed is not None:
            entry["paper_id"], version = parsed
            entry["arxiv_version"] = version
        return item
