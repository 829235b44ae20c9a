"""The replica's Hub links (issue 24): which models, datasets and Spaces cite each paper and which
collections hold it, made up deterministically from the paper id and moved by a clock of nights.

The shapes follow the site's 2026 API (docs/links.md): `/api/papers/{id}` carries the previews
`linkedModels`, `linkedDatasets`, `linkedSpaces` (at most PREVIEW entries each, the most liked first)
and the true totals `numTotalModels`, `numTotalDatasets`, `numTotalSpaces`; `/api/models?filter=arxiv:ID`
(and `/api/datasets`, `/api/spaces`) and `/api/collections?item=papers/ID` list them all, a page at a
time, the next page announced by `Link: <...>; rel="next"`.

Night `n` of the clock (`ReplicaServer.night`): a link exists from its start night on, until its end
night for the few that are removed; models' and datasets' likes and downloads grow every night. A paper
listed in HEAVY is cited like the site's most used papers (72 models, 15 datasets, 324 Spaces).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from urllib.parse import urlencode

KINDS = ("models", "datasets", "spaces")
PREVIEW = 5
PAGE_DEFAULT, PAGE_MAX = 20, 100
TOTAL_KEYS = {"models": "numTotalModels", "datasets": "numTotalDatasets", "spaces": "numTotalSpaces"}
PREVIEW_KEYS = {"models": "linkedModels", "datasets": "linkedDatasets", "spaces": "linkedSpaces"}
# Repos of each kind to pick from: small enough that some repos cite several papers.
POOL = {"models": 4000, "datasets": 1500, "spaces": 6000}
HEAVY_COUNTS = {"models": 72, "datasets": 15, "spaces": 324}
OWNERS = ("meta-llama", "qwen", "unsloth", "bartowski", "mlx-community", "allenai", "nvidia", "lab42")
COLLECTION_POOL = 300


def _h(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big")


def repo_id(kind: str, n: int) -> str:
    return f"{OWNERS[_h(kind, n, 'owner') % len(OWNERS)]}/{kind[:-1]}-{n:05d}"


def _link_counts(paper_id: str, heavy: bool) -> dict[str, int]:
    if heavy:
        return dict(HEAVY_COUNTS)
    tier = _h(paper_id, "tier") % 10
    most = 0 if tier < 5 else 3 if tier < 8 else 12 if tier < 9 else 40
    return {kind: (_h(paper_id, kind, "n") % (most + 1)) if most else 0 for kind in KINDS}


def _span(*key: object, heavy: bool = False) -> tuple[int, int | None]:
    """(start night, end night or None) of one link: most exist at night 0, some come later, few go."""
    start = 0 if heavy and _h(*key, "late") % 10 else max(0, _h(*key, "start") % 40 - 20)
    end = start + 3 + _h(*key, "len") % 20 if _h(*key, "gone") % 12 == 0 else None
    return start, end


class LinkWorld:
    """The links of every paper at any night; `heavy` names papers cited like the most used ones."""

    def __init__(self, heavy: tuple[str, ...] = ()) -> None:
        self.heavy = set(heavy)

    def _candidates(self, paper_id: str, kind: str) -> list[int]:
        count = _link_counts(paper_id, paper_id in self.heavy)[kind]
        picks: list[int] = []
        i = 0
        while len(picks) < count:
            n = _h(paper_id, kind, i) % POOL[kind]
            if n not in picks:
                picks.append(n)
            i += 1
        return picks

    def repos(self, paper_id: str, kind: str, night: int) -> list[dict[str, Any]]:
        """Every repo of `kind` citing the paper at `night`, as the filter endpoint lists them (by id)."""
        rows = []
        for n in self._candidates(paper_id, kind):
            start, end = _span(paper_id, kind, n, heavy=paper_id in self.heavy)
            if start <= night and (end is None or night < end):
                rows.append(repo_entry(kind, n, night))
        return sorted(rows, key=lambda r: r["id"])

    def collections(self, paper_id: str, night: int) -> list[dict[str, Any]]:
        """The collections holding the paper at `night`, by slug."""
        count = 8 if paper_id in self.heavy else _h(paper_id, "coll") % 4 if _h(paper_id, "tier") % 10 >= 5 else 0
        rows = {}
        for i in range(count):
            n = _h(paper_id, "coll", i) % COLLECTION_POOL
            start, end = _span(paper_id, "coll", n)
            if start <= night and (end is None or night < end):
                rows[n] = collection_entry(n, paper_id)
        return sorted(rows.values(), key=lambda r: r["slug"])

    def paper_fields(self, paper_id: str, night: int) -> dict[str, Any]:
        """What `/api/papers/{id}` adds to the paper object: previews and true totals."""
        out: dict[str, Any] = {}
        for kind in KINDS:
            full = self.repos(paper_id, kind, night)
            top = sorted(full, key=lambda r: (-r.get("likes", 0), r["id"]))[:PREVIEW]
            out[PREVIEW_KEYS[kind]] = [preview_entry(kind, r) for r in top]
            out[TOTAL_KEYS[kind]] = len(full)
        return out


def repo_entry(kind: str, n: int, night: int) -> dict[str, Any]:
    """A repo as `/api/models`, `/api/datasets` or `/api/spaces` lists it at `night`."""
    rid = repo_id(kind, n)
    if kind == "spaces":
        return {"id": rid, "author": rid.split("/")[0], "emoji": "🚀", "running": _h(rid, "up") % 4 > 0,
                "shortDescription": f"demo {n}"}
    entry = {"id": rid, "author": rid.split("/")[0], "likes": _h(rid, "l") % 50 + night * (_h(rid, "lr") % 3),
             "downloads": _h(rid, "d") % 10_000 + night * (_h(rid, "dr") % 200),
             "lastModified": "2026-05-21T10:00:00.000Z", "private": False}
    if kind == "models":
        entry.update(pipeline_tag="text-generation", gated=False, numParameters=1_000_000 * (1 + n % 70))
    else:
        entry["datasetsServerInfo"] = None
    return entry


def preview_entry(kind: str, repo: dict[str, Any]) -> dict[str, Any]:
    if kind == "spaces":
        return {k: repo[k] for k in ("id", "emoji", "running", "shortDescription")}
    return {k: v for k, v in repo.items() if k != "private"} | {"private": False}


def collection_entry(n: int, paper_id: str) -> dict[str, Any]:
    owner = OWNERS[n % len(OWNERS)]
    return {"slug": f"{owner}/reading-list-{n:03d}-{_h('c', n) % 16**24:024x}", "title": f"Reading list {n}",
            "owner": {"name": owner, "type": "org"}, "upvotes": _h("c", n, "u") % 30, "private": False,
            "items": [{"type": "paper", "id": paper_id}]}


def page(rows: list[dict[str, Any]], query: dict[str, list[str]], base: str,
         path: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """One page of a link listing (`limit`, opaque `cursor`) and its `Link` header when more follow."""
    size = min(max(int(query.get("limit", [PAGE_DEFAULT])[0]), 1), PAGE_MAX)
    start = int(base64.urlsafe_b64decode(query["cursor"][0]).decode()) if "cursor" in query else 0
    headers = {"Content-Type": "application/json"}
    if start + size < len(rows):
        keep = {k: v[0] for k, v in query.items() if k != "cursor"}
        keep["cursor"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
        headers["Link"] = f'<{base}{path}?{urlencode(keep)}>; rel="next"'
    return rows[start:start + size], headers


def link_answer(world: LinkWorld, night: int, path: str, query: dict[str, list[str]],
                base: str) -> tuple[int, dict[str, str], bytes] | None:
    """The answer of a link listing (`/api/{models,datasets,spaces}?filter=arxiv:ID`,
    `/api/collections?item=papers/ID`), or None for another path."""
    kind = path.removeprefix("/api/")
    try:
        if kind in KINDS and query.get("filter", [""])[0].startswith("arxiv:"):
            rows = world.repos(query["filter"][0].removeprefix("arxiv:"), kind, night)
        elif kind == "collections" and query.get("item", [""])[0].startswith("papers/"):
            rows = world.collections(query["item"][0].removeprefix("papers/"), night)
        else:
            return None
        items, headers = page(rows, query, base, path)
    except ValueError:
        return 400, {"Content-Type": "application/json"}, b'{"error":"bad limit or cursor"}'
    return 200, headers, json.dumps(items).encode()
