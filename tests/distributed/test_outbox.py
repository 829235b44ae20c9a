"""A worker's done requests cost no round trip of their own: entries, claim releases and failures go with
its next claim, in the claim's script (entries before claims, atomically), or by a flush."""

from __future__ import annotations

import pytest

from crawler.distributed import _POP_CLAIM, keys
from crawler.outbox import Outbox

from ..conftest import redis_server


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
        pop = server.register_script(_POP_CLAIM)
        taken = pop(keys=[names["requests"], claims, names["workers"], names["items"], names["errors"]],
                    args=["new", 1, worker, *outbox.args()])
        assert taken == [b"r2"]
        assert outbox.lines == [] and outbox.claims == [] and outbox.errors == 0
        assert server.lrange(names["items"], 0, -1) == [f"line {n}".encode() for n in range(1203)]
        assert server.hgetall(claims) == {b"old:1": b"r1", b"new:0": b"r2"}
        assert server.get(names["errors"]) == b"2"
        # Nothing owed: the claim alone.
        assert pop(keys=[names["requests"], claims, names["workers"], names["items"], names["errors"]],
                   args=["next", 1, worker, *outbox.args()]) == [b"r3"]
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
