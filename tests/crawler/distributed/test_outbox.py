"""A worker's done requests and new requests cost no round trip of their own: entries, new requests (with
their seen-check), claim releases and failures go with its next claim, in the claim's script (entries and
new requests before claims, atomically), or by a flush."""

from __future__ import annotations

import pytest

from paperset.crawler.distributed.keys import keys
from paperset.crawler.distributed.outbox import SETTLE_AND_CLAIM, Outbox
from tests.conftest import redis_server


@pytest.mark.redis
def test_the_next_claim_carries_what_the_worker_owes_and_flush_sends_the_rest(tmp_path) -> None:
    import redis

    with redis_server(tmp_path) as url:
        server = redis.Redis.from_url(url)
        names, worker = keys("t"), "w1"
        claims = names["claims:"] + worker
        server.hset(claims, mapping={"old:0": b"r0", "old:1": b"r1"})
        server.lpush(names["requests"], b"r2", b"r3")
        outbox = Outbox()
        outbox.lines.extend(f"line {n}" for n in range(1203))  # more than one RPUSH's worth in the script
        outbox.claims.append("old:0")
        outbox.errors = 2
        server.script_load(SETTLE_AND_CLAIM)
        server.config_resetstat()
        assert outbox.send(server, names, worker, "new", 1) == [b"r2"]
        assert server.info("commandstats")["cmdstat_evalsha"]["calls"] == 1  # one round trip
        assert outbox.lines == [] and outbox.claims == [] and outbox.errors == 0
        assert server.lrange(names["items"], 0, -1) == [f"line {n}".encode() for n in range(1203)]
        assert server.hgetall(claims) == {b"old:1": b"r1", b"new:0": b"r2"}
        assert server.get(names["errors"]) == b"2"
        # Nothing owed: the claim alone.
        assert outbox.send(server, names, worker, "next", 1) == [b"r3"]
        assert server.llen(names["items"]) == 1203 and server.get(names["errors"]) == b"2"
        # A flush (heartbeat, idle, close) sends what is owed without claiming.
        outbox.lines.append("last")
        outbox.claims.extend(["old:1", "new:0"])
        outbox.errors = 1
        outbox.flush(server, names, worker)
        assert server.lrange(names["items"], -1, -1) == [b"last"]
        assert server.hgetall(claims) == {b"next:0": b"r3"}
        assert server.get(names["errors"]) == b"3"
        assert outbox.lines == [] and outbox.claims == [] and outbox.errors == 0


@pytest.mark.redis
def test_new_requests_are_seen_checked_and_queued_with_the_claim_that_takes_them(tmp_path) -> None:
    """New requests are queued before the claim pops (so the worker may take its own), a duplicate is not
    queued and is reported, a request without a fingerprint always is, and a claimed request that comes
    back gives up its claim whether queued or not."""
    import redis

    with redis_server(tmp_path) as url:
        server = redis.Redis.from_url(url)
        names, worker = keys("t"), "w1"
        claims = names["claims:"] + worker
        server.hset(claims, mapping={"c1": b"x", "c2": b"y", "parent": b"p"})
        server.sadd(names["dupefilter"], "seen")
        outbox = Outbox()
        dropped: list[str] = []
        outbox.dropped = dropped.append
        outbox.push("A", "fa", b"a", "")
        outbox.push("B", "seen", b"b", "c1")  # a duplicate that came back claimed
        outbox.push("C", "", b"c", "c2")  # a retry: not filtered
        outbox.push("D", "fa", b"d", "")  # a duplicate of A, in the same batch
        outbox.claims.append("parent")
        assert len(outbox) == 4
        assert outbox.send(server, names, worker, "n", 8) == [b"a", b"c"]
        assert dropped == ["B", "D"] and len(outbox) == 0
        assert server.hgetall(claims) == {b"n:0": b"a", b"n:1": b"c"}
        assert server.smembers(names["dupefilter"]) == {b"seen", b"fa"}
        assert server.llen(names["requests"]) == 0
        outbox.push("E", "fe", b"e", "")
        outbox.flush(server, names, worker)  # queued, not claimed
        assert server.lrange(names["requests"], 0, -1) == [b"e"] and dropped == ["B", "D"]
