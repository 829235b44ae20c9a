"""What the near-dup index answers for an entry, and what every index backend offers (the `DupIndex`
protocol: the in-memory and folder index of paperset/crawler/dedup/index.py, the Redis one of redis_index.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol


@dataclass(frozen=True)
class Match:
    """The best earlier entry an entry near-copies, and their estimated Jaccard similarity."""

    key: str
    similarity: float


class DupIndex(Protocol):
    """A near-dup index backend, as the near-dup pipeline uses it (paperset/crawler/dedup/index.py `open_index`
    chooses one by the store setting). `asks_in_batches`: whether a membership question costs a round trip
    (Redis: the pipeline asks `contains_many` per batch) or nothing (memory: `contains` per entry)."""

    asks_in_batches: ClassVar[bool]

    def contains(self, key: str) -> bool: ...

    def contains_many(self, keys: list[str]) -> list[bool]: ...

    def cluster_of(self, key: str) -> str | None: ...

    def __len__(self) -> int: ...

    def query_insert_batch(self, keys: list[str], texts: list[str]) -> list[Match | None]: ...

    def save(self, path: Path | None = None) -> Path | None: ...

    def close(self) -> None: ...
