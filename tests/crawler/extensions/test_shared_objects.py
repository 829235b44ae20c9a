"""Per-crawler shared objects (the rate gate, the done-request tracker) are extensions found with
`crawler.get_extension`; one Redis client per process and server; the shared gate's Redis steps run
off the event loop."""

from __future__ import annotations

import asyncio
import threading

import pytest
from scrapy.extension import ExtensionManager
from scrapy.settings import Settings
from scrapy.utils.misc import build_from_crawler

from paperset.crawler import settings as project
from paperset.crawler.distributed.redis_client import redis_for
from paperset.crawler.fetch.politeness import PolitenessConfig, PolitenessGate, RateGate, SharedRateGate, gate_for
from paperset.crawler.tracking.done import DoneTracker, tracker_for
from tests.conftest import project_crawler


def crawler_with_extensions(extensions: dict[str, int]):
    crawler = project_crawler(EXTENSIONS=extensions)
    crawler.extensions = build_from_crawler(ExtensionManager, crawler)
    return crawler


def test_gate_and_progress_are_the_crawlers_extensions() -> None:
    crawler = crawler_with_extensions(project.EXTENSIONS)
    gate = gate_for(crawler)
    assert type(gate) is RateGate
    assert gate is gate_for(crawler) is crawler.get_extension(PolitenessGate).gate
    assert tracker_for(crawler) is crawler.get_extension(DoneTracker)
    # Another crawler has its own.
    other = crawler_with_extensions(project.EXTENSIONS)
    assert gate_for(other) is not gate
    assert tracker_for(other) is not tracker_for(crawler)


def test_a_component_without_its_extension_fails_with_a_clear_error() -> None:
    crawler = crawler_with_extensions({})
    with pytest.raises(RuntimeError, match=r"politeness\.extension\.PolitenessGate in EXTENSIONS"):
        gate_for(crawler)
    with pytest.raises(RuntimeError, match=r"paperset\.crawler\.tracking\.done\.DoneTracker in EXTENSIONS"):
        tracker_for(crawler)


def test_one_redis_client_per_server() -> None:
    one = redis_for(Settings({"REDIS_URL": "redis://127.0.0.1:1/0"}))
    assert redis_for(Settings({"REDIS_URL": "redis://127.0.0.1:1/0"})) is one
    assert redis_for(Settings({"REDIS_URL": "redis://127.0.0.1:1/1"})) is not one


@pytest.mark.redis
def test_the_shared_gate_waits_for_redis_in_a_thread(tmp_path) -> None:
    from tests.conftest import redis_server

    with redis_server(tmp_path) as url:
        config = PolitenessConfig(window_s=30, budgets={"api": 1, "page": 0}, jitter=0.0)
        gate = SharedRateGate(config, redis_for(Settings({"REDIS_URL": url})), "paperset:t:")

        threads: list[int] = []

        def booked_where(gate: RateGate) -> None:
            reserve = gate.reserve
            gate.reserve = lambda *args: threads.append(threading.get_ident()) or reserve(*args)  # type: ignore[method-assign]

        booked_where(gate)

        async def steps() -> tuple[float, float]:
            waited = await gate.wait("h", "api")
            asked = await gate.learn("h", 429, {"retry-after": "20"})
            return waited, asked

        waited, asked = asyncio.run(steps())
        assert len(threads) == 1 and threads[0] != threading.get_ident()  # the Redis booking: in a thread
        assert (waited, asked) == (0.0, 20.0)
        assert 19 < gate.closed_until("h") - gate.clock() <= 20
        # The local gate stays in the event loop's thread (its steps only touch memory).
        local = RateGate(config)
        booked_where(local)
        assert asyncio.run(local.wait("h", "api")) == 0.0
        assert threads[1:] == [threading.get_ident()]
