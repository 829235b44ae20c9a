"""A worker's debt to Redis for requests it has done (their entries, the claims to release, the failures),
sent with its next claim or flushed: one round trip instead of one per request (crawler/distributed.py)."""

from __future__ import annotations

from typing import Any


class Outbox:
    """What a worker owes Redis for requests done: their entries' spool lines, their claims to release and
    how many failed. Sent with the worker's next claim (one script: entries pushed before their claims are
    released, atomically) or by `flush`; a worker killed first loses them with the claims still held, so
    the requests are redone."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.claims: list[str] = []
        self.errors = 0

    def args(self) -> list[Any]:
        """The pop script's ARGV[4:] for what is owed; the outbox is empty after."""
        args = [len(self.lines), len(self.claims), self.errors, *self.lines, *self.claims]
        self.lines.clear()  # in place: WorkerEntriesPipeline appends to this list
        self.claims.clear()
        self.errors = 0
        return args

    def flush(self, server: Any, names: dict[str, str], worker: str) -> None:
        """Send what is owed now, in one round trip (entries first, then the claims)."""
        if not (self.lines or self.claims or self.errors):
            return
        pipe = server.pipeline(transaction=False)
        if self.lines:
            pipe.rpush(names["items"], *self.lines)
        if self.errors:
            pipe.incrby(names["errors"], self.errors)
        if self.claims:
            pipe.hdel(names["claims:"] + worker, *self.claims)
        self.lines.clear()
        self.claims.clear()
        self.errors = 0
        pipe.execute()


def outbox_for(crawler: Any) -> Outbox:
    """The crawler's one Outbox, shared by its ClaimingQueue and WorkerCoordination."""
    outbox = getattr(crawler, "_paperset_outbox", None)
    if outbox is None:
        outbox = crawler._paperset_outbox = Outbox()
    return outbox
