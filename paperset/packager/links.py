"""Fold a night's Hub links (the spools' `links.jsonl`, paperset/crawler/spiders/links.py) into the version's link
tables (paperset/packager/links_schema.py), from the parent's: intervals opened and closed, observations kept only
when they changed, so that a night writes what changed. A paper whose lookup was not complete this night
keeps its links as they were and is marked unknown in `link_status` (never 0 links)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from paperset.packager.link_parts import LinkParts, fold_table, paper_partitions, partition_of
from paperset.packager.links_schema import LINK_TABLES, REPO_TYPES
from paperset.spool.errors import SpoolError

CHAINS = ("models", "datasets", "spaces", "collections")


@dataclass
class Lookup:
    """What one night saw of one paper's links."""

    totals: dict[str, int] | None = None
    chains: list[str] = field(default_factory=list)
    items: dict[str, dict[str, dict[str, Any]]] = field(default_factory=lambda: defaultdict(dict))
    ended: set[str] = field(default_factory=set)
    reason: str | None = None

    @property
    def known(self) -> bool:
        return self.totals is not None and all(chain in self.ended for chain in self.chains)


@dataclass
class LinkFold:
    """The link tables written (name -> rows) and the rows this night added or changed, per table."""

    rows: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)
    known: int = 0
    unknown: int = 0

    @property
    def any_change(self) -> bool:
        return any(self.changed.values())


def read_lookups(spools: list[Path]) -> dict[str, Lookup]:
    """Every paper's lookup from the spools' links files. A cut last line (from a kill: it has no newline)
    is skipped; any other line that is not a record is a SpoolError naming it (never dropped unseen)."""
    lookups: dict[str, Lookup] = defaultdict(Lookup)
    for spool in spools:
        path = spool / "links.jsonl"
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        for n, line in enumerate(lines, 1):
            if not line:
                continue
            try:
                record = json.loads(line)
                paper_id = record["paper_id"]
            except (ValueError, TypeError, KeyError):
                if n == len(lines):  # the last line, without its newline: cut by a kill
                    continue
                raise SpoolError(f"{path}: line {n} is not a links record: {line[:120]!r}") from None
            take(lookups[paper_id], record)
    return dict(lookups)


def take(lookup: Lookup, record: dict[str, Any]) -> None:
    part = record["part"]
    if part == "failed":
        lookup.reason = record.get("reason")
        return
    if part == "paper":
        lookup.totals, lookup.chains = record["totals"], record["chains"]
        for kind, items in record["items"].items():
            lookup.items[kind].update({item["id"]: item for item in items})
        return
    key = "slug" if part == "collections" else "id"
    lookup.items[part].update({item[key]: item for item in record["items"]})
    if record.get("last"):
        lookup.ended.add(part)


def _intervals(old: list[dict[str, Any]], now: datetime, key: tuple[str, ...],
               current: dict[str, dict[tuple[str, ...], dict[str, Any]]]) -> tuple[list[dict[str, Any]], int]:
    """Close the open rows of the papers in `current` that it no longer has, open rows for what is new."""
    rows, changed, open_keys = [], 0, set()
    for row in old:
        ident = tuple(row[k] for k in key)
        if row["removed_at"] is None and row["paper_id"] in current:
            if ident in current[row["paper_id"]]:
                open_keys.add(ident)
            else:
                row = {**row, "removed_at": now}
                changed += 1
        rows.append(row)
    for paper_rows in current.values():
        for ident, extra in paper_rows.items():
            if ident not in open_keys:
                rows.append({**dict(zip(key, ident, strict=True)), **extra, "first_seen_at": now, "removed_at": None})
                changed += 1
    return rows, changed


def _observations(old: list[dict[str, Any]], now: datetime, key: tuple[str, ...], values: tuple[str, ...],
                  seen: dict[tuple[str, ...], tuple[Any, ...]]) -> tuple[list[dict[str, Any]], int]:
    """Append an observation where the values differ from the key's latest one."""
    latest: dict[tuple[str, ...], tuple[Any, ...]] = {}
    for row in sorted(old, key=lambda r: r["observed_at"]):
        latest[tuple(row[k] for k in key)] = tuple(row[v] for v in values)
    new = [{**dict(zip(key, ident, strict=True)), "observed_at": now, **dict(zip(values, vals, strict=True))}
           for ident, vals in seen.items() if latest.get(ident) != vals]
    return old + new, len(new)


def _status(old: list[dict[str, Any]], now: datetime, lookups: dict[str, Lookup]) -> tuple[list[dict[str, Any]], int]:
    rows = {row["paper_id"]: row for row in old}
    changed = 0
    for paper_id, lookup in lookups.items():
        status, reason = ("known", None) if lookup.known else ("unknown", lookup.reason or "incomplete")
        before = rows.get(paper_id)
        if before is None or (before["status"], before["reason"]) != (status, reason):
            rows[paper_id] = {"paper_id": paper_id, "status": status, "reason": reason, "since": now}
            changed += 1
    return list(rows.values()), changed


def _counters(lookups: dict[str, Lookup]) -> dict[tuple[str, ...], tuple[Any, ...]]:
    """The repos' likes and downloads seen this night (any answer, complete lookup or not)."""
    seen = {}
    for lookup in lookups.values():
        for kind, items in lookup.items.items():
            for rid, item in items.items():
                if kind != "collections" and (item.get("likes") is not None or item.get("downloads") is not None):
                    seen[REPO_TYPES[kind], rid] = (item.get("likes"), item.get("downloads"))
    return seen


def fold_links(spools: list[Path], parent: Path | None, out: Path, now: datetime) -> LinkFold:
    """Write the version's link tables into `out` (nothing when neither the parent nor the spools have
    links); what was written and what changed."""
    now = now.replace(microsecond=0)  # the manifest's created_at: "as of night N" compares equal
    lookups = read_lookups(spools)
    if not lookups and not any(parent is not None and (parent / name).is_dir() for name in LINK_TABLES):
        return LinkFold()
    known = {p: lk for p, lk in lookups.items() if lk.known}
    repos = {p: {(p, REPO_TYPES[kind], rid): {} for kind in REPO_TYPES for rid in lk.items.get(kind, {})}
             for p, lk in known.items()}
    held = {p: {(p, slug): {"title": item.get("title"), "owner": item.get("owner")}
                for slug, item in lk.items.get("collections", {}).items()} for p, lk in known.items()}
    totals = {(p,): tuple(lk.totals[k] for k in REPO_TYPES) for p, lk in known.items() if lk.totals}
    # Only the partitions of the papers looked up this night are read and written; the rest are linked.
    touched = paper_partitions(lookups)
    folds: dict[str, Callable[[list[dict[str, Any]]], tuple[list[dict[str, Any]], int]]] = {
        "links": lambda old: _intervals(old, now, ("paper_id", "repo_type", "repo_id"), repos),
        "collections": lambda old: _intervals(old, now, ("paper_id", "collection_slug"), held),
        "link_totals": lambda old: _observations(old, now, ("paper_id",), ("num_models", "num_datasets",
                                                                            "num_spaces"), totals),
        "link_status": lambda old: _status(old, now, lookups),
    }
    result = LinkFold(known=len(known), unknown=len(lookups) - len(known))
    for name, fold in folds.items():
        result.rows[name], result.changed[name] = fold_table(parent, out, name, touched, fold)
    # A repo's counters are compared with its latest row, of any month; only this month's rows are written.
    month = {partition_of("repo_counters", {"observed_at": now})}
    result.rows["repo_counters"], result.changed["repo_counters"] = fold_table(
        parent, out, "repo_counters", month, lambda old: _observations(
            old, now, ("repo_type", "repo_id"), ("likes", "downloads"), _counters(lookups)), read_all=True)
    return result


def unknown_papers(version: Path) -> list[str]:
    """The papers whose links the version holds as unknown (their last lookup failed)."""
    return sorted(row["paper_id"] for row in LinkParts(version, "link_status").read(None)
                  if row["status"] == "unknown")
