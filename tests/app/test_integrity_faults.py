"""The fault suite, round two (#23): listings of every kind settled by one rule, a slow or resetting API
that is not a dead site, garbage-typed values counted. Each a whole `paperset run` on the fault replica."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import run_paperset

pytestmark = pytest.mark.slow  # whole `paperset` runs against the replica, seconds each (docs/testing.md)

FAST = ("-s", "AUTOTHROTTLE_ENABLED=False", "-s", "RETRY_TIMES=1")
EVERY_KIND = ("--day", "2025-02-03", "--week", "2025-W06", "--month", "2025-02", "--search", "Seeker",
              "--trending")


def run(server: ReplicaServer, root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_paperset("run", "--base-url", server.base_url, "--out", str(root), "--json", *FAST, *args)


def outcome(result: subprocess.CompletedProcess[str]) -> dict:
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout[-2000:] + result.stderr[-2000:]
    record = json.loads(lines[0])
    assert record["exit_code"] == result.returncode
    return record


def coverage(record: dict) -> dict[str, tuple[str, str | None]]:
    return {r["kind"]: (r["status"], r["reason"]) for r in record["crawl"]["coverage"]}


def published(root: Path) -> list[str]:
    folder = root / "hf-papers"
    return sorted(p.name for p in folder.iterdir() if p.name[0].isdigit()) if folder.is_dir() else []


# --- one settling rule for every kind ------------------------------------------------------------

@pytest.mark.parametrize("fetch", ["auto", "page"])
def test_pages_redirecting_to_themselves_leave_every_kind_incomplete(tmp_path, fetch) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/api/", "status", status=404)
        server.add_fault(r"^/papers(\?q=|/week/|/month/|/trending)", "redirect")  # to itself
        result = run(server, tmp_path, *EVERY_KIND, "--fetch", fetch)
    record = outcome(result)
    assert result.returncode == 5 and record["outcome"] == "incomplete", result.stderr[-2000:]
    assert coverage(record) == {"day": ("complete", None), "week": ("incomplete", "redirect_loop"),
                                "month": ("incomplete", "redirect_loop"), "search": ("incomplete", "redirect_loop"),
                                "trending": ("incomplete", "redirect_loop")}
    assert published(tmp_path) == []


def test_pages_sent_to_the_latest_day_are_empty_only_for_periods(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/api/", "status", status=404)
        latest = f"/papers/date/{server.site.latest_day}"
        server.add_fault(r"^/papers(\?q=|/week/|/month/|/trending)", "redirect", location=latest)
        result = run(server, tmp_path, *EVERY_KIND, "--fetch", "page")
    record = outcome(result)
    assert result.returncode == 5 and record["outcome"] == "incomplete", result.stderr[-2000:]
    assert coverage(record) == {"day": ("complete", None), "week": ("empty", "no_papers"),
                                "month": ("empty", "no_papers"), "search": ("incomplete", "unexpected_redirect"),
                                "trending": ("incomplete", "unexpected_redirect")}


def test_empty_api_answers_are_each_kinds_nothing_here(tmp_path) -> None:
    with ReplicaServer() as server:
        result = run(server, tmp_path, "--day", "2025-02-03", "--week", "2024-W06", "--month", "2024-02",
                     "--search", "no paper has this phrase", "--fetch", "api")
    record = outcome(result)
    assert result.returncode == 0 and record["outcome"] == "published", result.stderr[-2000:]
    assert coverage(record) == {"day": ("complete", None), "week": ("empty", "no_papers"),
                                "month": ("empty", "no_papers"), "search": ("empty", "no_results")}
    assert record["crawl"]["listings"] == {"no_papers": 2, "no_results": 1}


@pytest.mark.browser
def test_the_browser_path_settles_by_the_same_rule(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/papers\?q=", "redirect")  # to itself: Chromium gives up on the loop
        # 2025-02-15 has no papers: the site sends its page to the latest day, which the browser follows.
        result = run(server, tmp_path, "--day", "2025-02-15", "--day", "2025-02-03", "--search", "Seeker",
                     "--fetch", "browser")
    record = outcome(result)
    assert result.returncode == 5 and record["outcome"] == "incomplete", result.stderr[-2000:]
    settled = {r["key"]: (r["status"], r["reason"]) for r in record["crawl"]["coverage"]}
    assert settled == {"2025-02-03": ("complete", None), "2025-02-15": ("empty", "no_papers"),
                       "Seeker": ("incomplete", "browser: " + settled["Seeker"][1].removeprefix("browser: "))}
    assert published(tmp_path) == []


# --- a slow or resetting API is not a dead site ---------------------------------------------------

SLOW = ("--range", "2025-02-03:2025-02-07", "-s", "DOWNLOAD_TIMEOUT=2", "-s", "RETRY_TIMES=3")


@pytest.mark.parametrize(("fetch", "code", "settled", "paths"), [
    ("auto", 0, ("complete", None), {"api": 4, "page": 1}),
    ("api", 5, ("incomplete", "api: downloadtimeouterror"), {"api": 4}),
])
def test_one_trickling_api_answer_ends_only_its_listing(tmp_path, fetch, code, settled, paths) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/api/daily_papers\?date=2025-02-04&", "trickle", seconds=0.5)
        result = run(server, tmp_path, *SLOW, "--fetch", fetch)
        trickled = [p for _, p, _ in server.requests if p.startswith("/api/daily_papers?date=2025-02-04&")]
    record = outcome(result)
    assert result.returncode == code, result.stderr[-2000:]
    assert record["crawl"]["finish_reason"] == "finished"
    assert {r["key"]: (r["status"], r["reason"]) for r in record["crawl"]["coverage"]}["2025-02-04"] == settled
    assert record["crawl"]["fetch_paths"] == paths
    # Not asked again: a second ask would trickle as slowly.
    assert len(trickled) == 1
    meta = json.loads((Path(record["crawl"]["run"]) / "spool" / "meta.json").read_text())
    assert meta["stats"]["paperset/body/failed"] == 1 and "paperset/connection/failures" not in meta["stats"]


def test_one_listing_stalling_before_its_headers_is_that_listing_not_a_dead_site(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/api/daily_papers\?date=2025-02-04&", "stall", seconds=4)
        result = run(server, tmp_path, "--range", "2025-02-03:2025-02-07", "--fetch", "api",
                     "-s", "DOWNLOAD_TIMEOUT=1", "-s", "PAPERSET_UNREACHABLE_AFTER=2")  # 2 attempts (RETRY_TIMES=1)
    record = outcome(result)
    assert result.returncode == 5 and record["crawl"]["finish_reason"] == "finished", result.stderr[-2000:]
    assert record["crawl"]["coverage"][1] == {"kind": "day", "key": "2025-02-04", "status": "incomplete",
                                              "reason": "api: downloadtimeouterror"}
    meta = json.loads((Path(record["crawl"]["run"]) / "spool" / "meta.json").read_text())
    # Asked again (no header came: it may have been a passing stall), and both failures counted.
    assert meta["stats"]["paperset/connection/failures"] == 2


@pytest.mark.parametrize("action", ["truncate", "reset"])
def test_every_api_answer_reset_falls_back_to_the_pages(tmp_path, action) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/api/", action)  # truncate: mid-body; reset: before any header
        result = run(server, tmp_path, *SLOW)
    record = outcome(result)
    assert result.returncode == 0 and record["outcome"] == "published", result.stderr[-2000:]
    assert record["crawl"]["fetch_paths"] == {"page": 5}
    assert {r["status"] for r in record["crawl"]["coverage"]} == {"complete"}
    assert record["papers"] == 47  # 2025-02-03 to 2025-02-07, as without the fault


def test_a_site_dying_after_it_answered_still_fails_as_unreachable(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/(api|papers)", "reset")  # robots.txt answers, nothing else does
        result = run(server, tmp_path, *SLOW)
    record = outcome(result)
    assert result.returncode == 1 and record["crawl"]["finish_reason"] == "site_unreachable"
    # Every API request failed (retries too), then the pages: more than PAPERSET_UNREACHABLE_AFTER in a row.
    assert re.search(r"is unreachable: \d+ connections failed in a row: nothing published$", record["reasons"][0])
    assert record["crawl"]["fetch_paths"] == {} and published(tmp_path) == []


# --- garbage-typed values: one policy, counted by field and reason ---------------------------------

GARBLED = [{"paper.upvotes": True}, {"numComments": 3.5}, {"paper.authors": "Ada Lovelace, Alan Turing"},
           {"paper.organization": ["Org A", "Org B"]}, {"paper.upvotes": "12", "numComments": 2.0},
           {"paper.title": 12, "title": 12}, {"paper.upvotes": -3}, {"paper.id": 2502.1}]


@pytest.mark.parametrize("fetch", ["api", "page"])
def test_garbage_typed_values_are_nulled_or_rejected_and_counted_by_field(tmp_path, fetch) -> None:
    day = "2025-02-07"
    with ReplicaServer() as server:
        ids = [row["paper"]["id"] for row in server.site.listings["day", day]]
        server.add_fault(rf"^(/api/daily_papers\?date={day}&|/papers/date/{day}$)", "garble", items=GARBLED)
        result = run(server, tmp_path, "--day", day, "--fetch", fetch)
    record = outcome(result)
    assert result.returncode == 0 and record["outcome"] == "published", result.stderr[-2000:]
    bad = {"upvotes/bool": 1, "num_comments/fraction": 1, "authors/not_a_list": 1, "organization/not_text": 1,
           "title/not_text": 1, "upvotes/negative": 1, "paper_id/not_text": 1,
           # The same source keys read whole (paperset/spool/fields.py): the author objects, the organization object.
           "author_details/not_a_list": 1, "organization_info/not_an_object": 1}
    assert record["crawl"]["bad_values"] == dict(sorted(bad.items()))
    assert record["crawl"]["dropped"] == {"bad_count": 1, "bad_type": 2}
    assert record["papers"] == len(ids) - 3
    state = json.loads((Path(record["crawl"]["run"]) / "run.json").read_text())
    assert (state["bad_values"], state["dropped"]) == (record["crawl"]["bad_values"], record["crawl"]["dropped"])
    rejects = [json.loads(line) for line in (Path(record["crawl"]["run"]) / "rejects.jsonl").read_text().splitlines()]
    assert sorted((str(r["entry"]["paper_id"]), r["reason"]) for r in rejects) == sorted(
        [(ids[5], "bad_type"), (ids[6], "bad_count"), ("2502.1", "bad_type")])
    assert "bad values      " in result.stderr
    import pyarrow.parquet as pq

    papers = {row["paper_id"]: row for row in pq.read_table(Path(record["path"]) / "papers").to_pylist()}
    assert papers[ids[0]]["upvotes"] is None and papers[ids[1]]["num_comments"] is None
    assert papers[ids[2]]["authors"] is None and papers[ids[3]]["organization"] is None
    assert (papers[ids[4]]["upvotes"], papers[ids[4]]["num_comments"]) == (12, 2)


def test_an_id_of_the_wrong_type_is_rejected_not_asked_for_with_details(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/api/daily_papers\?date=2025-02-03&", "garble", items=[{"paper.id": ["2502.1"]}])
        result = run(server, tmp_path, "--day", "2025-02-03", "--details")
        details = [p for _, p, _ in server.requests if p.startswith("/api/papers/")]
    record = outcome(result)
    assert result.returncode == 0 and record["outcome"] == "published", result.stderr[-2000:]
    assert (record["crawl"]["bad_values"], record["crawl"]["dropped"]) == ({"paper_id/not_text": 1}, {"bad_type": 1})
    assert len(details) == 3 and record["papers"] == 3


# --- details: settled by the same rule --------------------------------------------------------------

def test_paper_details_that_never_come_leave_the_run_incomplete_and_the_next_run_asks_only_them(tmp_path) -> None:
    with ReplicaServer() as server:
        server.add_fault(r"^/api/papers/\d", "status", status=404)
        server.add_fault(r"^/papers/\d{4}\.\d+$", "redirect")  # each paper page redirects to itself
        first = run(server, tmp_path, "--day", "2025-02-03", "--details")
        assert published(tmp_path) == []
        server.faults.clear()
        seen = len(server.requests)
        second = run(server, tmp_path, "--day", "2025-02-03", "--details")
        again = sorted(path for _, path, _ in server.requests[seen:])
    record = outcome(first)
    assert first.returncode == 5 and record["outcome"] == "incomplete", first.stderr[-2000:]
    assert record["crawl"]["coverage"][0] == {"kind": "day", "key": "2025-02-03", "status": "complete",
                                              "reason": None}
    missing = record["crawl"]["coverage"][1:]
    assert len(missing) == 4 and {(r["kind"], r["status"], r["reason"]) for r in missing} == {
        ("details", "incomplete", "redirect_loop")}
    record = outcome(second)
    assert second.returncode == 0 and record["outcome"] == "published", second.stderr[-2000:]
    # Only the paper pages left incomplete (their API answers were done: a 404 that led to the page).
    assert again == sorted(["/robots.txt", *(f"/papers/{r['key']}" for r in missing)])
