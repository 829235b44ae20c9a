"""The health gate: before publishing, compare a run with the previous version and refuse to publish
what looks like a changed site or a broken crawl (`paperset run` exits 3 and says what tripped)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from paperset.spool.reader import spool_tables

WATCHED = ("title", "abstract", "authors", "published_at", "upvotes", "num_comments")
# Documented thresholds (README "Health gate").
MIN_ENTRIES_RATIO = 0.5   # entries of the listings in both runs, per kind, below half the previous run's
MAX_FALLBACK_SHARE = 0.5  # more than half the page listings read only from the cards
FIELD_WAS, FIELD_NOW = 0.5, 0.1  # a field filled on >= 50% of rows before, < 10% now
MAX_DROP_RISE = 0.2       # the share of dropped entries up by more than 20 points


@dataclass(frozen=True)
class Health:
    """What a run looked like: the figures the gate compares from one version to the next."""

    listings: int
    entries: int
    dropped: int
    fallback_pages: int
    page_listings: int
    page_problems: dict[str, int]
    filled: dict[str, float]
    # Entries per listing (`kind key`): the gate compares like with like, listings present in both runs.
    per_listing: dict[str, int] = field(default_factory=dict)

    @property
    def entries_per_listing(self) -> float:
        return self.entries / self.listings if self.listings else 0.0

    @property
    def drop_share(self) -> float:
        return self.dropped / (self.entries + self.dropped) if self.entries + self.dropped else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"listings": self.listings, "entries": self.entries, "dropped": self.dropped,
                "fallback_pages": self.fallback_pages, "page_listings": self.page_listings,
                "page_problems": self.page_problems, "filled": self.filled,
                "entries_per_listing": round(self.entries_per_listing, 3), "drop_share": round(self.drop_share, 4),
                "per_listing": self.per_listing}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Health:
        return cls(data["listings"], data["entries"], data["dropped"], data["fallback_pages"],
                   data["page_listings"], data.get("page_problems", {}), data["filled"],
                   data.get("per_listing", {}))


class SpoolFigures:
    """The spool's part of a run's health figures, counted table by table: rows, rows per listing, rows with
    each WATCHED field. The fold's intake counts what it takes (paperset/packager/intake.py), so that the
    health gate does not read the spool a second time."""

    def __init__(self) -> None:
        self.rows = 0
        self.filled: dict[str, int] = dict.fromkeys(WATCHED, 0)
        self.per_listing: Counter[str] = Counter()

    def add(self, table: pa.Table) -> None:
        self.rows += table.num_rows
        for name in WATCHED:
            self.filled[name] += table.num_rows - table.column(name).null_count
        counts = table.group_by(["listing_kind", "listing_key"], use_threads=False).aggregate([([], "count_all")])
        for kind, key, rows in zip(counts.column("listing_kind").to_pylist(), counts.column("listing_key").to_pylist(),
                                   counts.column("count_all").to_pylist(), strict=True):
            self.per_listing[f"{kind} {key}"] += rows

    def copy(self) -> SpoolFigures:
        other = SpoolFigures()
        other.rows, other.filled, other.per_listing = self.rows, dict(self.filled), Counter(self.per_listing)
        return other


def measure(crawl: dict[str, Any], spool: Path, counted: SpoolFigures | None = None,
            parts: frozenset[Path] = frozenset()) -> Health:
    """The run's figures, from its crawl summary and its spool: `counted`, the figures of its `parts` counted
    already (by the fold's intake), and the other parts read here."""
    figures = counted.copy() if counted is not None else SpoolFigures()
    for table in spool_tables(spool, allow_partial=True, skip=parts):
        figures.add(table)
    rows = figures.rows
    listings = crawl.get("listings", {})
    fetched = sum(crawl.get("fetch_paths", {}).values())
    problems = crawl.get("page_problems", {})
    return Health(
        listings=fetched + int(problems.get("no_entries", 0)),
        entries=rows, dropped=int(crawl.get("entries_dropped", 0)),
        fallback_pages=int(listings.get("cards", 0)) + int(problems.get("no_entries", 0)),
        page_listings=int(listings.get("cards", 0)) + int(listings.get("hydration", 0))
        + int(problems.get("no_entries", 0)),
        page_problems={k: int(v) for k, v in problems.items()},
        filled={name: round(count / rows, 4) if rows else 0.0 for name, count in figures.filled.items()},
        per_listing=dict(sorted(figures.per_listing.items())),
    )


def check(now: Health, before: Health | None) -> list[str]:
    """What tripped, in words (empty: healthy)."""
    tripped = []
    if now.listings and now.entries == 0:
        tripped.append(f"no entries from {now.listings} listings (page problems: {now.page_problems or 'none'})")
    if now.page_listings and now.fallback_pages / now.page_listings > MAX_FALLBACK_SHARE:
        tripped.append(f"{now.fallback_pages} of {now.page_listings} pages had no readable hydration JSON "
                       f"(page problems: {now.page_problems}): the page layout changed?")
    if before is None:
        return tripped
    if now.per_listing and before.per_listing:
        tripped += _fewer_entries(now.per_listing, before.per_listing)
    elif before.entries_per_listing and now.listings and \
            now.entries_per_listing < MIN_ENTRIES_RATIO * before.entries_per_listing:
        tripped.append(f"entries per listing fell to {now.entries_per_listing:.1f} from "
                       f"{before.entries_per_listing:.1f}")
    for name in WATCHED:
        if now.entries and before.filled.get(name, 0) >= FIELD_WAS and now.filled.get(name, 0) < FIELD_NOW:
            tripped.append(f"field {name} is filled on {now.filled[name]:.0%} of rows, was {before.filled[name]:.0%}")
    if now.drop_share - before.drop_share > MAX_DROP_RISE:
        tripped.append(f"dropped entries rose to {now.drop_share:.0%} from {before.drop_share:.0%}")
    return tripped


def _fewer_entries(now: dict[str, int], before: dict[str, int]) -> list[str]:
    """Per listing kind, over the listings present in both runs: entries fell below MIN_ENTRIES_RATIO."""
    tripped = []
    for kind in sorted({label.split(" ", 1)[0] for label in now}):
        both = [label for label in now if label.split(" ", 1)[0] == kind and label in before]
        was, got = sum(before[label] for label in both), sum(now[label] for label in both)
        if both and was and got < MIN_ENTRIES_RATIO * was:
            tripped.append(f"entries of the {len(both)} {kind} listings in both runs fell to {got} from {was}")
    return tripped


__all__ = ["Health", "check", "measure"]
