"""Normalize step: every entry's text, ids, URLs, dates and lists in canonical form, a thin Scrapy adapter
over paperset.crawler.clean.fields (which field gets which cleaning) and its counts."""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from paperset.crawler.clean.fields import (
    BOOL_FIELDS,
    CONTENT_DATES,
    CONTENT_FIELDS,
    CONVERSIONS,
    LIST_FIELDS,
    NESTED_CLEANERS,
    SIGHTING_DATES,
    TEXT_FIELDS,
    URL_FIELDS,
    arxiv_id_value,
    copy_content,
    list_value,
    text_value,
    timestamp_value,
    url_value,
)
from paperset.crawler.clean.memo import StepMemo, fresh
from paperset.crawler.clean.normalize import canonical_arxiv_id, canonical_timestamp, canonical_url
from paperset.crawler.clean.rejects import Rejected
from paperset.crawler.clean.values import REQUIRED, BadValue
from paperset.crawler.pipelines.config import PipelineConfig
from paperset.crawler.site.items import PaperEntry


class NormalizePipeline:
    """Puts each entry in canonical form; validation comes next and judges the result.

    Every value first converts to its field's type only when nothing is lost (paperset.crawler.clean.values: "12" and
    12.0 are 12; True, 3.5, a string of authors, a list for an organization are not): a value that does
    not is counted `paperset/bad_values/<field>/<reason>` and rejects the entry (`bad_type`) when the field
    is one it cannot be without (title, paper_id, abstract), else the field is kept null. So is a link
    that is not a URL (also `paperset/repaired/bad_url`) and a date that is not one (`not_a_date`).
    Removed control characters are counted (`paperset/repaired/control_chars`). A paper seen again (the
    same CONTENT_FIELDS) is given a copy of what they became the first time, with the same counts or the same
    rejection (StepMemo). Settings: `PAPERSET_NORMALIZE_ENABLED`.

    This step gives every entry paper's fields of its own: extraction hands a known element's fields out
    shared (paperset/crawler/site/source.py read_item), and every one of CONTENT_FIELDS is rebuilt here, a
    memo's as a copy (clean/fields.py copy_content). With normalizing off, it still does that much: the
    values as read, copied (memo.fresh).
    """

    def __init__(self, stats: StatsCollector, *, cleaning: bool = True) -> None:
        self.stats, self.cleaning = stats, cleaning
        self.memo = StepMemo(CONTENT_FIELDS)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizePipeline:
        assert crawler.stats is not None
        return cls(crawler.stats, cleaning=PipelineConfig.from_settings(crawler.settings).normalize)

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

    def close_spider(self) -> None:
        self.memo.forget()  # ~20 KB a paper remembered: not held through the packaging

    def process_item(self, item: Any) -> Any:
        # Our own dataclass is changed through its __dict__: no adapter round trip per field.
        ours = type(item) is PaperEntry
        if not self.cleaning:  # the values as read, each entry's its own
            if ours:
                item.__dict__.update((name, fresh(item.__dict__.get(name))) for name in CONTENT_FIELDS)
            return item
        entry: Any = item.__dict__ if ours else ItemAdapter(item)
        key = self.memo.key(entry) if ours else None
        known = self.memo.recall(key)
        if known is not None:  # a copy of what the same fields gave: each entry's values are its own
            counted, rejected = known[1], known[2]
            values = copy_content(known[0]) if rejected is None else ()
        else:
            values, counted, rejected = self._outcome(entry)
            self.memo.keep(key, _kept(values, counted, rejected))
        for name in counted:
            self.stats.inc_value(name)
        if rejected is not None:
            raise Rejected(*rejected[:2], field=rejected[2], problem=rejected[3])
        if ours:  # (another item was normalized in place, without the memo)
            for name, value in zip(CONTENT_FIELDS, values, strict=True):
                entry[name] = value
        for name in SIGHTING_DATES:  # the sighting's own time, not one of the paper's fields
            self._date(entry, name)
        return item

    def _outcome(self, entry: Any) -> tuple[tuple[Any, ...], tuple[str, ...], tuple[Any, ...] | None]:
        """Normalize the site-read fields of `entry` as they are (its CONTENT_FIELDS, the stats it counts,
        or why it is rejected): what a sighting of the same fields is given again (StepMemo)."""
        stats, counted = self.stats, Counted()
        self.stats = counted  # type: ignore[assignment]
        try:
            self._normalize(entry)
        except Rejected as exc:
            return (), tuple(counted.names), (exc.reason, exc.detail, exc.field, exc.problem)
        finally:
            self.stats = stats
        return tuple(entry.get(name) for name in CONTENT_FIELDS), tuple(counted.names), None

    def _date(self, entry: Any, name: str) -> None:
        raw = entry.get(name)
        if raw is None:
            return
        entry[name] = timestamp_value(raw) if isinstance(raw, str) else canonical_timestamp(raw)
        if entry[name] is None:
            self.bad_value(entry, name, "not_a_date", raw)

    def _normalize(self, entry: Any) -> None:
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
        for name in CONTENT_DATES:
            self._date(entry, name)
        self.typed(entry)
        raw_id = entry.get("paper_id")
        parsed = arxiv_id_value(raw_id) if type(raw_id) is str else canonical_arxiv_id(raw_id)
        if parsed is not None:
            entry["paper_id"], version = parsed
            entry["arxiv_version"] = version


def _kept(values: tuple[Any, ...], counted: tuple[str, ...], rejected: Any) -> Any:
    """An outcome as the memo keeps it: the values as a list of its own (handed out as copies: copy_content)."""
    return (copy_content(values) if rejected is None else ()), counted, rejected


class Counted:
    """Stands in for the stats while a memo's outcome is made: the names counted, in order."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def inc_value(self, name: str) -> None:
        self.names.append(name)
