"""The near-dup index backends (memory and folder: NearDupIndex; Redis: RedisNearDupIndex) are one
`DupIndex` protocol (paperset/crawler/dedup/match.py): the near-dup pipeline asks nothing of them that the protocol
does not name, and each backend has every member with the protocol's parameters."""

from __future__ import annotations

import inspect

import pytest

from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.dedup.index import DupIndex, NearDupIndex, open_index
from paperset.crawler.dedup.redis_index import RedisNearDupIndex

MEMBERS = sorted(name for name in vars(DupIndex) if not name.startswith("_") or name == "__len__"
                 if name not in {"_is_protocol", "_is_runtime_protocol"})


def params(function: object) -> list[str]:
    return list(inspect.signature(function).parameters)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", [NearDupIndex, RedisNearDupIndex])
def test_each_backend_is_a_dupindex(backend: type) -> None:
    assert "contains_many" in MEMBERS and "asks_in_batches" in DupIndex.__annotations__
    for name in MEMBERS:
        if callable(getattr(DupIndex, name)):
            assert params(getattr(backend, name)) == params(getattr(DupIndex, name)), (backend, name)
    assert isinstance(backend.asks_in_batches, bool)


def test_the_memory_index_answers_membership_alike_one_by_one_or_in_a_batch() -> None:
    index = open_index(DedupeConfig(), "memory")
    index.query_insert_batch(["a", "b"], ["attention is all you need " * 5, "a survey of diffusion models " * 5])
    assert (index.asks_in_batches, index.contains_many(["a", "x", "b"])) == (False, [True, False, True])
    assert [index.contains(k) for k in ("a", "x", "b")] == [True, False, True]
