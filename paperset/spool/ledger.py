"""The spool's ledger (`ledger.jsonl`): one JSON line per done request, its fingerprint, the requests its
callback made (encoded by the crawler) and the listing outcome it settled, if any. A resumed crawl
replays it (paperset/crawler/tracking/done.py); a run reads the settled outcomes back for its coverage."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LEDGER = "ledger.jsonl"


def ledger_record(fp: str, children: list[str], settled: list[Any] | None = None) -> str:
    """A done request's ledger line (with its newline)."""
    record: dict[str, Any] = {"fp": fp, "children": children}
    if settled:
        record["settled"] = settled
    return json.dumps(record) + "\n"


def read_settled(path: Path) -> list[list[Any]]:
    """The listing outcomes (kind, key, status, reason) the ledger's done requests settled."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if record.get("settled"):
            out.append(record["settled"])
    return out


def read_ledger(path: Path) -> dict[str, list[str]]:
    """Done requests by fingerprint, with their children (encoded); a cut last line is ignored."""
    done: dict[str, list[str]] = {}
    if not path.exists():
        return done
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            logger.warning("%s: a cut line (the crawl was killed while writing it); ignored", path)
            continue
        done[record["fp"]] = record["children"]
    return done
