"""Validate step: required fields, types and ranges (those the spool schema can store), lengths, dates and
counts; a failing entry is rejected with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itemadapter import ItemAdapter
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.items import PaperEntry
from crawler.normalize import canonical_arxiv_id
from crawler.pipelines.normalize import DATE_FIELDS
from crawler.rejects import Rejected
from crawler.setting_fields import read_settings, setting
from spool.schema import ENTRY, entry_value_problem

COUNT_FIELDS = ("upvotes", "num_comments", "github_stars", "rank", "arxiv_version")
# arXiv's first paper: nothing on the site can be older.
EARLIEST = datetime(1991, 8, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Limits:
    """Bounds an entry must keep. Settings: PAPERSET_MAX_TITLE_CHARS, PAPERSET_MAX_ABSTRACT_CHARS,
    PAPERSET_MAX_FUTURE_DAYS (how far past the crawl's clock a date may lie)."""

    max_title_chars: int = setting("PAPERSET_MAX_TITLE_CHARS")
    max_abstract_chars: int = setting("PAPERSET_MAX_ABSTRACT_CHARS")
    max_future_days: int = setting("PAPERSET_MAX_FUTURE_DAYS")

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        limits = cls(**read_settings(cls, settings))
        if min(limits.max_title_chars, limits.max_abstract_chars, limits.max_future_days) < 1:
            raise ValueError(f"PAPERSET_MAX_* settings must be positive: {limits}")
        return limits


def check_entry(entry: ItemAdapter, limits: Limits, now: datetime) -> None:
    """Raise Rejected with the first problem found; return quietly for a valid (normalized) entry."""
    title, abstract, paper_id = entry.get("title"), entry.get("abstract"), entry.get("paper_id")
    for name in ("title", "abstract", "paper_id", "ai_summary", "organization"):
        if entry.get(name) is not None and not isinstance(entry.get(name), str):
            raise Rejected("bad_type", f"{name} is {type(entry.get(name)).__name__}")
    if not title:
        raise Rejected("missing_title")
    if paper_id is None and not abstract:
        raise Rejected("missing_id_and_abstract")
    if len(title) > limits.max_title_chars:
        raise Rejected("title_too_long", f"{len(title)} > {limits.max_title_chars} characters")
    if abstract is not None and len(abstract) > limits.max_abstract_chars:
        raise Rejected("abstract_too_long", f"{len(abstract)} > {limits.max_abstract_chars} characters")
    if paper_id is not None and canonical_arxiv_id(paper_id) != (paper_id, None):
        raise Rejected("bad_paper_id", f"{paper_id!r} is not an arXiv id")
    for name in ENTRY.names:
        # The spool schema says what can be stored (type and range): nothing accepted here fails packaging.
        if name in DATE_FIELDS:
            continue  # the date rule below
        value = entry.get(name)
        problem = entry_value_problem(name, value)
        if problem is None:
            continue
        if name not in COUNT_FIELDS:
            raise Rejected("bad_type", problem)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise Rejected("bad_count", f"{name} = {value!r}")
        raise Rejected("out_of_range", problem)
    latest = now + timedelta(days=limits.max_future_days)
    for name in DATE_FIELDS:
        value = entry.get(name)
        if value is None:
            continue
        try:
            moment = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise Rejected("bad_date", f"{name} = {value!r} is not a date") from None
        if moment.tzinfo is None or not EARLIEST <= moment <= latest:
            raise Rejected("bad_date", f"{name} = {value} is outside {EARLIEST.date()}..{latest.date()}")


class ValidatePipeline:
    """Rejects entries that break the rules in `check_entry`; the RejectsLog extension keeps each one.

    Settings: `PAPERSET_VALIDATE_ENABLED` and those of `Limits`.
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidatePipeline:
        if not crawler.settings.getbool("PAPERSET_VALIDATE_ENABLED"):
            raise NotConfigured
        return cls(Limits.from_settings(crawler.settings))

    def process_item(self, item: Any) -> Any:
        check_entry(item.__dict__ if type(item) is PaperEntry else ItemAdapter(item),  # type: ignore[arg-type]
                    self.limits, datetime.now(UTC))
        return item
