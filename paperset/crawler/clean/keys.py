"""The keys a paper is grouped by, defined once: the content key of an entry's text (the identity of an entry
seen without an arXiv id) and the paper key (the id, else `ck:` + content key). The exact-dedupe step
sets them; the near-dedupe step and a resumed crawl read them back by the same rule."""

from __future__ import annotations

import hashlib
from functools import lru_cache

# The prefix of a paper key made from the text, not an id (the packager's `keyless` rows).
KEYLESS_PREFIX = "ck:"


@lru_cache(maxsize=1 << 13)  # a known paper comes again and again, with the same (cached) texts
def content_key(title: str | None, abstract: str | None) -> str:
    """A stable hash of the normalized title and abstract (case-folded): the identity of an id-less entry."""
    text = f"{(title or '').casefold()}\n{(abstract or '').casefold()}"
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()[:20]


def paper_key(paper_id: str | None, key: str) -> str:
    """The grouping key: the paper id, else `ck:` + content key."""
    return paper_id if paper_id else f"{KEYLESS_PREFIX}{key}"
