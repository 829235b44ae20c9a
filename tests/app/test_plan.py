"""`paperset run --plan`: the requests of a backfill in chunks of one budget window each, and the least
time they take, without a single request to the site."""

from __future__ import annotations

import pytest

from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import last_json, run_paperset

pytestmark = pytest.mark.slow  # real crawls or runs of `paperset`, seconds a test (docs/testing.md)


def test_plan_chunks_a_backfill_by_the_page_budget_and_fetches_nothing(tmp_path) -> None:
    with ReplicaServer() as server:
        result = run_paperset("run", "--base-url", server.base_url, "--range", "2025-01-01:2025-07-19",
                              "--fetch", "page", "--out", str(tmp_path), "--plan", "--json")
        assert server.timed == []
    assert result.returncode == 0, result.stderr
    plan = last_json(result.stdout)
    # 200 days, one page load each, 90 page loads per 300 s.
    assert plan["counts"] == {"api": 0, "page": 200} and plan["requests"] == 200
    assert [(c["page"], c["starts_after_s"], c["first"], c["last"]) for c in plan["chunks"]] == [
        (90, 0.0, "day 2025-01-01", "day 2025-03-31"), (90, 300.0, "day 2025-04-01", "day 2025-06-29"),
        (20, 600.0, "day 2025-06-30", "day 2025-07-19")]
    assert plan["least_duration_s"] == 600.0
    assert "takes at least  600 s under the budgets" in result.stdout
    assert f"page  {server.base_url}/papers/date/2025-01-01" in result.stdout
    assert not (tmp_path / "hf-papers").exists()


def test_plan_counts_api_pages_and_follows_the_budget_settings(tmp_path) -> None:
    result = run_paperset("run", "--week", "2025-W06", "--day", "2025-02-03", "--out", str(tmp_path), "--plan",
                          "--json", "-s", "PAPERSET_BUDGET_API=2", "-s", "PAPERSET_API_PAGE_SIZE=50")
    plan = last_json(result.stdout)
    # A day: 1 page of 50; a week of ~105: 3 pages; 4 calls at 2 per window: 2 windows later.
    assert plan["counts"] == {"api": 4, "page": 0}
    assert [c["api"] for c in plan["chunks"]] == [2, 2]
    assert plan["least_duration_s"] == 300.0
    assert "https://huggingface.co/api/daily_papers?week=2025-W06&limit=50&p=2" in result.stdout


def test_recent_is_the_rolling_window_of_the_last_recrawl_days(tmp_path) -> None:
    from datetime import UTC, datetime, timedelta

    def days(*extra: str) -> list[str]:
        result = run_paperset("run", "--recent", "--fetch", "page", "--out", str(tmp_path), "--plan", *extra)
        assert result.returncode == 0, result.stderr
        return [line.rsplit("/", 1)[1] for line in result.stdout.splitlines() if line.startswith("page ")]

    today = datetime.now(UTC).date()
    assert days() == [(today - timedelta(days=n)).isoformat() for n in range(6, -1, -1)]
    assert days("-s", "PAPERSET_RECRAWL_DAYS=3") == [(today - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    assert days("--recrawl-days", "2", "--day", "2025-02-03") == [
        "2025-02-03", (today - timedelta(days=1)).isoformat(), today.isoformat()]
