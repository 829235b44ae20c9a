"""Fold spool entries into the snapshot's tables: one row per paper (latest values, every listing) and
every counter observation, on top of the parent version's tables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa

from packager.schema import OBSERVATION_IDENTITY, OBSERVATIONS, PAPERS

DESCRIPTIVE = ("paper_id", "arxiv_version", "content_key", "title", "abstract", "authors", "published_at",
               "submitted_on_daily_at", "github_repo", "project_page", "thumbnail", "ai_keywords",
               "ai_summary", "organization", "cluster_id", "similarity")
COUNTERS = ("upvotes", "num_comments", "github_stars")
TIMESTAMPS = ("published_at", "submitted_on_daily_at")


def parse_ts(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class Tables:
    """The two tables of a snapshot, as Python rows (sorted on output by write.py)."""

    papers: dict[str, dict[str, Any]]
    observations: dict[tuple[Any, ...], dict[str, Any]]


def start_from(papers: pa.Table | None, observations: pa.Table | None) -> Tables:
    """The parent version's tables (or empty ones)."""
    rows = {row["paper_key"]: row for row in papers.to_pylist()} if papers is not None else {}
    obs = observations.to_pylist() if observations is not None else []
    return Tables(rows, {tuple(o[k] for k in OBSERVATION_IDENTITY): o for o in obs})


def add_entries(tables: Tables, entries: Iterable[dict[str, Any]]) -> int:
    """Fold spool entries in, oldest first: descriptive fields and counters take the latest non-null
    value, listings accumulate, first/last seen widen. Returns how many observations were new."""
    added = 0
    for entry in sorted(entries, key=lambda e: (e.get("crawled_at") or "", e["paper_key"])):
        seen = parse_ts(entry["crawled_at"])
        key = entry["paper_key"]
        observation = {
            "paper_key": key, "paper_id": entry.get("paper_id"), "observed_at": seen,
            "upvotes": entry.get("upvotes"), "num_comments": entry.get("num_comments"),
            "github_stars": entry.get("github_stars"), "listing_kind": entry.get("listing_kind"),
            "listing_key": entry.get("listing_key"), "rank": entry.get("rank"), "fetch_path": entry.get("fetch_path"),
        }
        identity = tuple(observation[k] for k in OBSERVATION_IDENTITY)
        if identity in tables.observations:
            continue  # the same counters seen again (a re-crawl, or the same spool packaged twice)
        tables.observations[identity] = observation
        added += 1
        row = tables.papers.get(key)
        if row is None:
            row = tables.papers[key] = {name: None for name in PAPERS.names}
            row.update(paper_key=key, listings=[], first_seen_at=seen, last_seen_at=seen, provisional=False)
        for name in DESCRIPTIVE + COUNTERS:
            value = entry.get(name)
            if value is not None and (row["last_seen_at"] is None or seen >= row["last_seen_at"]
                                      or row[name] is None):
                row[name] = parse_ts(value) if name in TIMESTAMPS else value
        place = (entry.get("listing_kind"), entry.get("listing_key"), entry.get("rank"))
        if not any((item["kind"], item["key"], item["rank"]) == place for item in row["listings"]):
            row["listings"] = [*row["listings"], {"kind": place[0], "key": place[1], "rank": place[2],
                                                  "seen_at": seen}]
        row["first_seen_at"] = min(row["first_seen_at"], seen)
        row["last_seen_at"] = max(row["last_seen_at"], seen)
    return added


def finish(tables: Tables, *, today: date, recrawl_days: int) -> None:
    """Derived columns: clusters named by their earliest member include that member; `provisional`
    marks papers last listed (on a day listing, else last seen) within the recrawl window."""
    clusters = {row["cluster_id"] for row in tables.papers.values() if row["cluster_id"]}
    for key in clusters & tables.papers.keys():
        tables.papers[key]["cluster_id"] = key
    horizon = today - timedelta(days=recrawl_days)
    for row in tables.papers.values():
        days = [date.fromisoformat(item["key"]) for item in row["listings"]
                if item["kind"] == "day" and item["key"]]
        last_listed = max(days) if days else row["last_seen_at"].date()
        row["provisional"] = last_listed > horizon
        row["listings"] = sorted(row["listings"], key=lambda item: (item["seen_at"], item["kind"] or "",
                                                                    item["key"] or "", item["rank"] or 0))


def to_arrow(tables: Tables) -> tuple[pa.Table, pa.Table]:
    """Both tables with their explicit schemas, sorted by their documented keys."""
    papers = pa.Table.from_pylist([tables.papers[k] for k in sorted(tables.papers)], schema=PAPERS)
    ordered = sorted(tables.observations.values(),
                     key=lambda o: (o["paper_key"], o["observed_at"], o["listing_kind"] or "",
                                    o["listing_key"] or "", o["rank"] if o["rank"] is not None else -1))
    return papers, pa.Table.from_pylist(ordered, schema=OBSERVATIONS)
