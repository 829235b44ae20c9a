"""Nested values cleaned without a memo of single values (paperset/crawler/clean/memo.py keeps only the step memo):
the same problems every time, and each entry's cleaned value its own object."""

from __future__ import annotations

from paperset.crawler.clean.fields import clean_nested
from paperset.spool.fields import BY_NAME


def test_nested_cleaning_gives_the_same_problems_and_a_fresh_value_every_time() -> None:
    kind = BY_NAME["author_details"].type
    value = [{"name": "Ada", "hidden": "yes"}]
    assert clean_nested(kind, value) == clean_nested(kind, [{"name": "Ada", "hidden": "yes"}]) == (
        [{"name": "Ada"}], [(".hidden", "not_a_bool")])
    first, _ = clean_nested(kind, value)
    again, _ = clean_nested(kind, value)
    assert first == again and first is not again and first[0] is not again[0]  # each entry's value its own
