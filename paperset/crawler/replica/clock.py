"""The replica's moving clock: `night` (0 on the committed corpus) moves the site's counters on, as the
real site's keep moving long after a paper leaves Daily Papers. A paper's upvotes grow by `growth(id)`
a night (0, 1, 2 or 3: some papers never move), its comments by one every fourth night for papers with
an odd growth. Every answer that carries a paper (listings, `/api/papers/{id}`, paper pages) shows the
counters of the server's current night; `truth` gives them to a test."""

from __future__ import annotations

import copy
import zlib
from typing import Any


def growth(paper_id: str) -> int:
    """Upvotes a night the paper gains (stable across processes: a CRC, not Python's hash)."""
    return zlib.crc32(paper_id.encode()) % 4


def truth(paper: dict[str, Any], num_comments: int, night: int) -> dict[str, int]:
    """The counters the site shows for this paper (as in the corpus at night 0) on `night`."""
    step = growth(str(paper.get("id")))
    comments = num_comments + (night // 4 if step % 2 else 0)
    return {"upvotes": int(paper.get("upvotes") or 0) + step * night, "numComments": comments}


def paper_at(paper: dict[str, Any], num_comments: int, night: int) -> dict[str, Any]:
    """A copy of an API paper object with its counters at `night` (the object itself at night 0)."""
    if night == 0:
        return paper
    moved = copy.copy(paper)
    counters = truth(paper, num_comments, night)
    moved["upvotes"] = counters["upvotes"]
    if "numComments" in moved:
        moved["numComments"] = counters["numComments"]
    return moved


def items_at(items: list[dict[str, Any]], night: int) -> list[dict[str, Any]]:
    """Listing items (`{"paper": {...}, "numComments": n, ...}`) with their counters at `night`."""
    if night == 0:
        return items
    out = []
    for item in items:
        paper = item.get("paper")
        if not isinstance(paper, dict) or "id" not in paper:
            out.append(item)
            continue
        comments = int(item.get("numComments") or 0)
        moved = {**item, "paper": paper_at(paper, comments, night)}
        if "numComments" in item:
            moved["numComments"] = truth(paper, comments, night)["numComments"]
        out.append(moved)
    return out
