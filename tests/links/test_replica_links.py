"""The replica's link endpoints (issue 24): previews shorter than totals, paged filters and collections
following `Link: rel="next"`, and the clock of nights moving links and counters."""

from __future__ import annotations

import json
import re
import urllib.request

from paperset.crawler.replica.links import HEAVY_COUNTS, PREVIEW
from paperset.crawler.replica.server import ReplicaServer


def _get(url: str) -> tuple[dict[str, str], object]:
    with urllib.request.urlopen(url) as answer:  # noqa: S310 - loopback
        return dict(answer.headers), json.loads(answer.read())


def _all(server: ReplicaServer, path: str) -> tuple[list[dict], int]:
    url, rows, calls = server.base_url + path, [], 0
    while url:
        headers, page = _get(url)
        calls += 1
        rows += page
        match = re.search(r'<([^>]+)>;\s*rel="next"', headers.get("Link", ""))
        url = match.group(1) if match else ""
    return rows, calls


def test_heavy_paper_previews_totals_and_paged_filters() -> None:
    with ReplicaServer() as server:
        heavy = next(iter(server.links.heavy))
        _, paper = _get(f"{server.base_url}/api/papers/{heavy}")
        assert [paper[k] for k in ("numTotalModels", "numTotalDatasets", "numTotalSpaces")] == [
            HEAVY_COUNTS[kind] - _late(server, heavy, kind) for kind in ("models", "datasets", "spaces")]
        assert len(paper["linkedSpaces"]) == PREVIEW < paper["numTotalSpaces"]
        assert set(paper["linkedSpaces"][0]) == {"id", "emoji", "running", "shortDescription"}
        spaces, calls = _all(server, f"/api/spaces?filter=arxiv:{heavy}&limit=100")
        assert len(spaces) == paper["numTotalSpaces"] and calls == -(-len(spaces) // 100)
        assert len({s["id"] for s in spaces}) == len(spaces)
        assert {s["id"] for s in paper["linkedSpaces"]} <= {s["id"] for s in spaces}
        models, calls = _all(server, f"/api/models?filter=arxiv:{heavy}")
        assert len(models) == paper["numTotalModels"] and calls == -(-len(models) // 20)
        collections, _ = _all(server, f"/api/collections?item=papers/{heavy}&limit=3")
        assert collections == server.links.collections(heavy, 0) and collections


def _late(server: ReplicaServer, paper_id: str, kind: str) -> int:
    """Links of the paper not there at night 0 (they come later or are gone)."""
    return len(server.links._candidates(paper_id, kind)) - len(server.links.repos(paper_id, kind, 0))


def test_the_clock_moves_links_and_counters() -> None:
    with ReplicaServer() as server:
        ids = sorted(server.site.papers)
        before = {p: _get(f"{server.base_url}/api/papers/{p}")[1] for p in ids[:80]}
        same = {p: _get(f"{server.base_url}/api/papers/{p}")[1] for p in ids[:80]}
        assert same == before
        server.night = 15
        after = {p: _get(f"{server.base_url}/api/papers/{p}")[1] for p in ids[:80]}
        grown = [p for p in before if after[p]["numTotalModels"] > before[p]["numTotalModels"]]
        assert grown
        heavy = next(iter(server.links.heavy))
        models0 = {m["id"]: m["likes"] for m in before[heavy]["linkedModels"]}
        models15 = {m["id"]: m["likes"] for m in after[heavy]["linkedModels"]}
        assert sum(models15.values()) > sum(models0.values())


def test_bad_cursor_and_unknown_filter() -> None:
    with ReplicaServer() as server:
        for path, status in (("/api/models?filter=arxiv:2501.00001&cursor=%%%", 400),
                             ("/api/models?filter=author:x", 404), ("/api/collections?item=models/x", 404)):
            try:
                urllib.request.urlopen(server.base_url + path)  # noqa: S310 - loopback
                got = 200
            except urllib.error.HTTPError as exc:
                got = exc.code
            assert got == status, path
