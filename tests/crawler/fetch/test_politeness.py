"""Politeness: budgets per window, Retry-After and RateLimit headers, and a real crawl of a replica that
answers 429 for a while."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from paperset.crawler.fetch.politeness import (
    PolitenessConfig,
    RateGate,
    parse_ratelimit,
    parse_retry_after,
    request_kind,
)
from paperset.crawler.replica.server import ReplicaServer
from tests.conftest import last_json, project_settings_dict, read_jsonl, run_paperset


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def gate(**budgets: int) -> tuple[RateGate, Clock]:
    clock = Clock()
    config = PolitenessConfig(window_s=300, budgets=budgets, jitter=0.0)
    return RateGate(config, clock=clock, rng=random.Random(1)), clock


def test_budget_books_starts_so_no_window_holds_more_than_the_budget() -> None:
    rate, clock = gate(page=3, api=0)
    assert [rate.reserve("page").at for _ in range(7)] == [1000, 1000, 1000, 1300, 1300, 1300, 1600]
    # Another kind has its own budget; 0 means none.
    assert [rate.reserve("api").at for _ in range(5)] == [1000] * 5
    clock.now = 2000.0
    assert rate.reserve("page").at == 2000.0


def test_retry_after_closes_the_host_for_that_long_and_backoff_doubles_without_it() -> None:
    rate, clock = gate(page=0, api=0)
    assert rate.observe("h", 429, {"retry-after": "2"}) == 2.0
    assert rate.not_before["h"] == 1002.0
    clock.now = 1010.0
    assert [rate.observe("h", 503, {}) for _ in range(3)] == [4.0, 8.0, 16.0]  # strikes 2, 3, 4 (base 2 s)
    assert rate.observe("h", 200, {}) == 0.0  # asks for no wait: the strikes are reset...
    assert rate.closed_until("h") == 1026.0  # ...and the host stays closed as long as it was
    clock.now = 1100.0
    assert rate.observe("h", 429, {}) == 2.0


def test_exhausted_ratelimit_header_closes_the_host_until_reset() -> None:
    rate, _ = gate(page=0, api=0)
    assert rate.observe("h", 200, {"ratelimit": '"api";r=3;t=40'}) == 0.0
    assert rate.observe("h", 200, {"ratelimit": '"api";r=0;t=40'}) == 40.0


def test_jitter_only_lengthens_the_wait() -> None:
    config = PolitenessConfig(budgets={}, jitter=0.5)
    waits = [RateGate(config, clock=Clock(), rng=random.Random(seed)).observe("h", 429, {"retry-after": "10"})
             for seed in range(20)]
    assert all(10.0 <= w <= 15.0 for w in waits)
    assert len(set(waits)) == 20


@pytest.mark.parametrize(("value", "seconds"), [
    ("2", 2.0), (b"120", 120.0), (" 7 ", 7.0), ("Wed, 25 Nov 2026 10:00:30 GMT", 30.0),
    ("Wed, 25 Nov 2026 09:00:00 GMT", 0.0), ("soon", None), (None, None), ("", None),
])
def test_parse_retry_after(value, seconds) -> None:
    now = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == seconds


@pytest.mark.parametrize(("headers", "parsed"), [
    ({"ratelimit": '"api";r=499;t=286'}, (499, 286.0)),
    ({"ratelimit": '"pages";r=0;t=12'}, (0, 12.0)),
    ({"ratelimit-remaining": "5", "ratelimit-reset": "60"}, (5, 60.0)),
    ({}, (None, None)),
])
def test_parse_ratelimit(headers, parsed) -> None:
    assert parse_ratelimit(headers) == parsed


def test_request_kind_and_planned_duration() -> None:
    assert request_kind("https://huggingface.co/api/daily_papers?date=2025-02-03") == "api"
    assert request_kind("https://huggingface.co/papers/date/2025-02-03") == "page"
    config = PolitenessConfig(window_s=300, budgets={"api": 450, "page": 90})
    assert config.duration_s({"api": 450, "page": 90}) == 0.0
    assert config.duration_s({"api": 451, "page": 10}) == 300.0
    assert config.duration_s({"api": 10, "page": 181}) == 600.0


def test_bad_settings_are_refused() -> None:
    from scrapy.settings import Settings

    from paperset.crawler.errors import SettingError

    with pytest.raises(SettingError, match="setting PAPERSET_BUDGET_PAGES = -1: expected whole number, 0 <= x"):
        PolitenessConfig.from_settings(Settings(project_settings_dict(PAPERSET_BUDGET_PAGES=-1)))


@pytest.mark.slow  # a real crawl that waits out a 429
def test_crawl_waits_out_429_then_completes_and_sends_nothing_inside_the_wait(replica, tmp_path) -> None:
    days = replica.index["days"][:12]
    with ReplicaServer() as server:
        server.throttle_at = {4, 12}
        server.retry_after = 2
        out = tmp_path / "t.jsonl"
        result = run_paperset("crawl", "--base-url", server.base_url, "--range", f"{days[0]}:{days[-1]}",
                              "--fetch", "api", "--out", str(out), "--json", "-s", "AUTOTHROTTLE_ENABLED=False",
                              "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
        log = list(server.timed)
    assert result.returncode == 0, result.stderr[-3000:]
    entries = read_jsonl(out)
    want = sum(len(replica.site.items("day", d) or []) for d in days)
    assert len(entries) == want and want > 150
    assert {(e["listing_key"], e["rank"]) for e in entries} == {
        (d, r) for d in days for r in range(len(replica.site.items("day", d) or []))}
    refused = [(t, path) for t, path, status in log if status == 429]
    # Each episode refuses at most what was in flight when it began (CONCURRENT_REQUESTS, 8).
    assert 2 <= len(refused) <= 2 * 8
    starts = [refused[0][0]] + [t for (t, _), (before, _) in zip(refused[1:], refused, strict=False)
                                if t - before > 1.0]
    assert len(starts) == 2
    for start in starts:
        # Requests already on the wire when the first 429 left may still arrive (a few ms);
        # after that, nothing until the 2 s are over.
        inside = [(round(t - start, 3), path) for t, path, _ in log if start + 0.3 <= t < start + 2.0]
        assert inside == []
    # Every refused request was asked again after the wait, and answered.
    ok = {path for _, path, status in log if status == 200}
    assert {path for _, path in refused} <= ok
    summary = last_json(result.stdout)
    assert summary["finish_reason"] == "finished"


@pytest.mark.redis
def test_workers_share_one_budget_and_one_wait_through_redis(tmp_path) -> None:
    import redis

    from paperset.crawler.fetch.politeness import SharedRateGate
    from tests.conftest import redis_server

    with redis_server(tmp_path) as url:
        config = PolitenessConfig(window_s=30, budgets={"api": 3, "page": 0}, jitter=0.0)
        one, two = (SharedRateGate(config, redis.Redis.from_url(url), "paperset:t:") for _ in range(2))
        start = one.clock()
        booked = [gate.reserve("api").at - start for gate in (one, two, one, two, two, one, two)]
        # Three starts per 30 s window between both workers, not three each.
        assert [round(b) for b in booked] == [0, 0, 0, 30, 30, 30, 60]
        assert two.reserve("page").at - start < 1  # no page budget
        # A 429 seen by one worker closes the host for the other.
        assert round(one.observe("h", 429, {"retry-after": "20"})) == 20
        assert 19 < two.closed_until("h") - two.clock() <= 20
        assert two.closed_until("other") == 0.0
        # A later, shorter wait does not shorten it.
        two.observe("h", 429, {"retry-after": "1"})
        assert 19 < one.closed_until("h") - one.clock() <= 20


@pytest.mark.redis
def test_a_closing_read_from_redis_is_kept_for_fresh_s_and_a_workers_own_429_counts_at_once(tmp_path) -> None:
    """A host's closing costs one GET per `fresh_s` per worker, not one per request: another worker's 429
    is seen up to `fresh_s` later, the worker's own at once."""
    import redis

    from paperset.crawler.fetch.politeness import SharedRateGate
    from tests.conftest import redis_server

    with redis_server(tmp_path) as url:
        client = redis.Redis.from_url(url)
        config = PolitenessConfig(window_s=30, budgets={"api": 0, "page": 0}, jitter=0.0)
        one = SharedRateGate(config, redis.Redis.from_url(url), "paperset:t:")
        two = SharedRateGate(config, redis.Redis.from_url(url), "paperset:t:", fresh_s=3600)

        def gets() -> int:
            return client.info("commandstats").get("cmdstat_get", {}).get("calls", 0)

        assert two.closed_until("h") == 0.0 and two.closed_until("mine") == 0.0
        one.observe("h", 429, {"retry-after": "20"})
        before = gets()
        assert [two.closed_until("h") for _ in range(50)] == [0.0] * 50  # kept: not asked again
        assert gets() == before
        two.observe("mine", 429, {"retry-after": "5"})
        before = gets()
        assert 4 < two.closed_until("mine") - two.clock() <= 5  # its own 429: at once, from memory
        assert gets() == before
        two.fresh_s = 0.0  # the window over: read again
        assert 19 < two.closed_until("h") - two.clock() <= 20
        assert gets() == before + 1


@pytest.mark.redis
def test_shared_gate_without_a_budget_books_in_memory_and_reads_the_closing_on_the_loop(tmp_path) -> None:
    """Budgets off: a request's wait costs one GET on the calling thread and no thread hop; a kind with
    a budget still books in Redis from a thread."""
    import asyncio
    import threading

    import redis

    from paperset.crawler.fetch.politeness import SharedRateGate
    from tests.conftest import redis_server

    with redis_server(tmp_path) as url:
        client = redis.Redis.from_url(url)
        config = PolitenessConfig(window_s=30, budgets={"api": 2, "page": 0}, jitter=0.0)
        gate = SharedRateGate(config, client, "paperset:t:")
        steps: list[tuple[str, bool]] = []
        def traced(name: str):
            step = getattr(gate, name)

            def call(*args):
                steps.append((name, threading.current_thread() is threading.main_thread()))
                return step(*args)
            return call

        for name in ("reserve", "closed_until"):
            setattr(gate, name, traced(name))

        async def waits() -> list[float]:
            return [await gate.wait("h", "page"), await gate.wait("h", "api")]

        assert asyncio.run(waits()) == [0.0, 0.0]
        assert steps == [("reserve", True), ("closed_until", True), ("reserve", False), ("closed_until", True)]
        assert client.zcard("paperset:t:budget:page") == 0 and client.zcard("paperset:t:budget:api") == 1


def test_a_booking_overtaken_by_a_429_is_made_again_so_no_window_exceeds_the_budget(monkeypatch) -> None:
    import asyncio

    rate, clock = gate(page=2, api=0)
    sent: list[float] = []

    async def sleep(seconds: float) -> None:
        clock.now += seconds

    monkeypatch.setattr("paperset.crawler.fetch.politeness.gate.asyncio.sleep", sleep)

    async def request() -> None:
        await rate.wait("h", "page")
        sent.append(clock.now - 1000)

    asyncio.run(request())
    rate.close_until("h", 1009.5)  # a 429: closed for 9.5 s
    for _ in range(3):
        asyncio.run(request())
    # Budget 2 per 300 s. Without booking again, the second request would keep its booking at 0, and
    # the third and fourth would both start at 300: with the second's real start, three in (0, 300].
    assert sent == [0.0, 9.5, 300.0, 309.5]
    assert all(sum(1 for t in sent if start - 300 < t <= start) <= 2 for start in sent)


def test_a_wait_longer_than_the_limit_gives_up_and_frees_its_booking(monkeypatch) -> None:
    import asyncio

    from paperset.crawler.fetch.politeness import TooLongWait

    rate, _ = gate(page=1, api=0)
    rate.close_until("h", 1000 + 901)
    with pytest.raises(TooLongWait, match="more than PAPERSET_MAX_WAIT_S"):
        asyncio.run(rate.wait("h", "page"))
    assert rate.starts["page"] == []
