"""The normalize step's memo hands a paper seen again a copy of its normalized fields (copy_content): equal,
and sharing no list or dict with the kept values (texts and numbers, which nothing can change, are shared)."""

from __future__ import annotations

from typing import Any

from paperset.crawler.clean.fields import CONTENT_COPIERS, CONTENT_FIELDS, copy_content
from paperset.crawler.pipelines.normalize import NormalizePipeline
from paperset.crawler.site.pages import parse_api_listing
from tests.conftest import FIXTURES, project_crawler

ANSWER = FIXTURES / "cases" / "api_listing" / "day-2025-05-15" / "answer.json"


def containers(value: Any) -> list[int]:
    """The ids of every list and dict inside `value`, itself included."""
    if isinstance(value, list):
        return [id(value), *(i for one in value for i in containers(one))]
    if isinstance(value, dict):
        return [id(value), *(i for one in value.values() for i in containers(one))]
    return []


def test_a_copy_is_equal_and_shares_no_list_or_dict() -> None:
    crawler = project_crawler()
    crawler.stats.open_spider()
    step = NormalizePipeline.from_crawler(crawler)
    entries = parse_api_listing(ANSWER.read_text(encoding="utf-8"), url="u", kind="day", key="2025-05-15")
    seen = 0
    for entry in entries:
        values = [getattr(step.process_item(entry), name) for name in CONTENT_FIELDS]
        copy = copy_content(values)
        assert copy == values
        assert set(containers(copy)).isdisjoint(containers(values))
        seen += len(containers(values))
    assert seen > 30  # authors, author objects and their users, submitters: the copy had work to do


def test_every_field_of_a_list_or_struct_type_has_a_copier() -> None:
    assert [name for name, copy in zip(CONTENT_FIELDS, CONTENT_COPIERS, strict=True) if copy is not None] == [
        "authors", "ai_keywords", "submitted_on_daily_by", "submitted_by", "author_details", "media_urls",
        "organization_info"]
