"""What the near-dup index answers for an entry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Match:
    """The best earlier entry an entry near-copies, and their estimated Jaccard similarity."""

    key: str
    similarity: float
