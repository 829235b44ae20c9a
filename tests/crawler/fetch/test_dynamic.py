"""Search, trending and dynamic pages with real Chromium; the fetch strategy's choices; paper details."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperset.crawler.replica.seeds import load_seeds
from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import ROOT, read_jsonl, run_paperset

pytestmark = pytest.mark.slow  # real crawls or runs of `paperset`, seconds a test (docs/testing.md)

SEEDS = load_seeds(ROOT / "paperset/crawler/replica/data/seeds")


def crawl(server: ReplicaServer, tmp_path: Path, *args: str, code: int = 0) -> tuple[list[dict], dict]:
    out = tmp_path / "out.jsonl"
    result = run_paperset("crawl", "--base-url", server.base_url, "--out", str(out), "--json",
                          "-s", "AUTOTHROTTLE_ENABLED=False", *args)
    assert result.returncode == code, result.stderr[-4000:]
    last = json.loads(result.stdout.strip().splitlines()[-1])
    # A crawl that did not finish ends with its outcome line, which holds the summary as `crawl`.
    return read_jsonl(out), (last["crawl"] if code else last)


@pytest.fixture
def server(request):
    with ReplicaServer(**getattr(request, "param", {})) as replica:
        yield replica


def seed_pairs(entries: list[dict], query: str) -> list[tuple[str, str]]:
    rows = sorted((e for e in entries if e["listing_key"] == query), key=lambda e: e["rank"])
    return [(e["title"], e["abstract"]) for e in rows]


def as_stored(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    # Stored text has its whitespace collapsed (one seed abstract holds a no-break space).
    return [(" ".join(t.split()), " ".join(a.split())) for t, a in pairs]


@pytest.mark.browser
@pytest.mark.parametrize("server", [{"dynamic": True}], indirect=True)
def test_dynamic_search_page_needs_the_browser_for_every_entry(server, tmp_path) -> None:
    entries, summary = crawl(server, tmp_path, "--search", "pretraining", "--fetch", "page", code=5)
    assert entries == []
    assert summary["page_problems"] == {"no_entries": 1, "no_hydration": 1}
    assert summary["coverage"] == [{"kind": "search", "key": "pretraining", "status": "incomplete",
                                    "reason": "no_entries"}]
    entries, summary = crawl(server, tmp_path, "--search", "pretraining", "--fetch", "browser")
    # 119 results, 20 per fetch: the first on load, two on scrolling, the rest only by "Load more".
    assert seed_pairs(entries, "pretraining") == as_stored(SEEDS["pretraining"])
    assert summary["fetch_paths"] == {"browser": 1}
    assert {e["fetch_path"] for e in entries} == {"browser"}
    assert summary["browser_pages"] == {"opened": 1, "closed": 1}
    # Images, fonts and media are aborted; the page's own script and its API calls are not.
    assert any(path.startswith("/api/papers/search") for _, path, _ in server.requests)


@pytest.mark.browser
@pytest.mark.parametrize(("flavour", "fetch", "path"), [
    ({"dynamic": False}, "page", "page"),
    ({"dynamic": True, "api_enabled": False}, "auto", "browser"),
    ({"dynamic": True}, "auto", "api"),
], ids=["server-rendered", "dynamic", "api"])
def test_the_seed_pages_come_back_exactly_in_each_flavour(tmp_path, flavour, fetch, path) -> None:
    with ReplicaServer(**flavour) as server:
        args = [a for q in SEEDS for a in ("--search", q)]
        entries, summary = crawl(server, tmp_path, "--fetch", fetch, *args)
    assert len(entries) == 335
    for query, pairs in SEEDS.items():
        assert seed_pairs(entries, query) == as_stored(pairs)
    assert summary["fetch_paths"] == {path: 3}
    # The same paper is on several seed pages: 313 distinct papers, each kept once, by reason.
    assert summary["papers"] == 313
    assert summary["dedupe"] == {"new": 313, "repeat": 22, "near_unique": 313}
    assert len({e["paper_key"] for e in entries}) == 313


def test_auto_uses_the_api_when_there_is_one(server, tmp_path) -> None:
    entries, summary = crawl(server, tmp_path, "--day", "2025-02-03", "--search", "pretraining")
    assert summary["fetch_paths"] == {"api": 2}
    assert len(entries) == len(server.site.items("day", "2025-02-03")) + 119
    assert not any(path.startswith("/papers") for _, path, _ in server.requests)


@pytest.mark.parametrize("server", [{"api_enabled": False}], indirect=True)
def test_auto_reads_the_page_json_when_the_api_answers_404(server, tmp_path) -> None:
    entries, summary = crawl(server, tmp_path, "--day", "2025-02-03", "--search", "pretraining")
    assert summary["fetch_paths"] == {"page": 2}
    assert summary["listings"] == {"hydration": 2}
    assert {e["fetch_path"] for e in entries} == {"page"}
    assert len(entries) == len(server.site.items("day", "2025-02-03")) + 119


@pytest.mark.browser
@pytest.mark.parametrize("server", [{"api_enabled": False, "dynamic": True}], indirect=True)
def test_auto_renders_in_the_browser_when_neither_api_nor_html_has_the_data(server, tmp_path) -> None:
    entries, summary = crawl(server, tmp_path, "--search", "pre-trained", "--trending")
    assert summary["fetch_paths"] == {"browser": 2}
    assert seed_pairs(entries, "pre-trained") == as_stored(SEEDS["pre-trained"])
    assert summary["browser_pages"] == {"opened": 2, "closed": 2}
    trending = [e["paper_id"] for e in sorted(entries, key=lambda e: e["rank"]) if e["listing_kind"] == "trending"]
    assert trending == [i["paper"]["id"] for i in server.site.items("trending", "trending")]


def test_trending_server_rendered(server, tmp_path) -> None:
    entries, summary = crawl(server, tmp_path, "--trending")
    assert summary["fetch_paths"] == {"page": 1}
    assert [e["paper_id"] for e in sorted(entries, key=lambda e: e["rank"])] == [
        i["paper"]["id"] for i in server.site.items("trending", "trending")]


def test_details_fetch_each_paper_once_api_first(server, tmp_path) -> None:
    entries, _summary = crawl(server, tmp_path, "--day", "2025-03-03", "--day", "2025-03-04", "--details")
    listed = {e["paper_id"] for e in entries if e["listing_kind"] == "day"}
    details = [e for e in entries if e["listing_kind"] == "paper"]
    assert sorted(e["paper_id"] for e in details) == sorted(listed)
    row = server.site.papers["2502.20730"]["paper"]
    detail = next(e for e in details if e["paper_id"] == "2502.20730")
    assert (detail["upvotes"], detail["github_repo"], detail["ai_keywords"]) == (
        row["upvotes"], row.get("githubRepo"), row.get("ai_keywords"))


@pytest.mark.parametrize("server", [{"api_enabled": False}], indirect=True)
def test_details_fall_back_to_the_paper_page(server, tmp_path) -> None:
    entries, _ = crawl(server, tmp_path, "--day", "2025-03-03", "--details")
    details = {e["paper_id"]: e for e in entries if e["listing_kind"] == "paper"}
    row = server.site.papers["2502.20730"]
    assert details["2502.20730"]["num_comments"] == row["numComments"]
    assert {e["fetch_path"] for e in details.values()} == {"page"}


@pytest.mark.browser
@pytest.mark.parametrize("server", [{"dynamic": True}], indirect=True)
def test_fixture_save_render_records_the_rendered_page(server, tmp_path) -> None:
    from tests.fixture_cases import extract_case, find_cases

    url = f"{server.base_url}/papers?q=pre-trained"
    result = run_paperset("fixture", "save", url, "--name", "dynamic-search", "--render", "--fixtures", str(tmp_path))
    assert result.returncode == 0, result.stderr[-3000:]
    [case] = find_cases(tmp_path)
    assert case.meta["rendered"] is True and case.meta["listing_kind"] == "search"
    expected = case.expected()
    assert [(e["title"], e["abstract"]) for e in expected["entries"]] == as_stored(SEEDS["pre-trained"])
    assert extract_case(case) == expected
