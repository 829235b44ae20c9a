"""paperset/crawler/clean/memo.py: a memo that gives what the function gives, a fresh copy each time, and never mixes up
values JSON writes alike (NaN and null) or that it cannot hold (big integers)."""

from __future__ import annotations

from typing import Any

from paperset.crawler.clean.fields import clean_nested
from paperset.crawler.clean.memo import json_memo
from paperset.spool.fields import BY_NAME


def test_a_repeated_value_is_remembered_the_second_time_and_each_answer_is_a_fresh_copy() -> None:
    calls: list[Any] = []
    shaped = json_memo(lambda value: calls.append(value) or {"names": [a["name"] for a in value]})
    authors = [{"name": "Ada", "user": {"user": "ada"}}, {"name": "Bo"}]
    assert shaped(authors) == {"names": ["Ada", "Bo"]}
    assert calls == [authors]  # seen once: computed, only its key noted
    second = shaped(authors)
    second["names"].append("changed by its entry")
    again = shaped([{"name": "Ada", "user": {"user": "ada"}}, {"name": "Bo"}])
    assert again == {"names": ["Ada", "Bo"]}
    assert calls == [authors, authors]


def test_values_json_writes_alike_or_cannot_hold_are_told_apart() -> None:
    calls: list[Any] = []
    typed = json_memo(lambda value: calls.append(value) or [type(value).__name__, value])
    nan = float("nan")
    values = (1, 1.0, True, "1", None, nan, 10**30, 10**30, 1)
    for _ in range(3):
        calls.clear()
        answers = [typed(v) for v in values]
        assert [a[0] for a in answers] == ["int", "float", "bool", "str", "NoneType", "float", "int", "int", "int"]
        assert answers[6][1] == 10**30 and answers[5][1] != answers[5][1]  # NaN comes back NaN, not None
    assert len(calls) == 3  # once every value is remembered: NaN and 10**30 are computed every time


def test_nested_cleaning_through_the_memo_gives_the_same_problems_every_time() -> None:
    kind = BY_NAME["author_details"].type
    value = [{"name": "Ada", "hidden": "yes"}]
    assert clean_nested(kind, value) == clean_nested(kind, [{"name": "Ada", "hidden": "yes"}]) == (
        [{"name": "Ada"}], [(".hidden", "not_a_bool")])


def test_a_memo_for_readers_gives_the_remembered_result_itself() -> None:
    shared = json_memo(lambda value: {"n": len(value)}, fresh=False)
    shared(["a", "b"])
    first = shared(["a", "b"])
    assert shared(["a", "b"]) is first and first == {"n": 2}
    # a key holding null is compared, and told apart
    assert shared(["a", "b", None]) == shared(["a", "b", None]) == {"n": 3}
