"""A worker's debt to Redis (the entries of requests it has done, the new requests they made, the claims to
release, the failures), sent with its next claim or flushed: one round trip instead of one per request
and one per new request (paperset/crawler/distributed/queue.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

# Settle what the worker owes, then claim. KEYS: the queue, the worker's claims, the workers set, the
# items list, the errors counter, the dupefilter set. ARGV: the claim ids' prefix, how many to claim, the
# worker's id, then the counts of spool lines, released claims, failures and new requests, then the
# lines, the claims, and three values per new request (its fingerprint, '' if not filtered; the request;
# its own claim, '' if none: a claimed request that came back, a retry).
# In order: the lines onto the items list; each new request into the dupefilter's set and, if it was not
# there, onto the queue (its own claim released either way); the done requests' claims released; the
# failures counted; then up to ARGV[2] of the queue's oldest requests popped and recorded as claimed
# (claim ids ARGV[1]:0, ARGV[1]:1, ...). So the entries and new requests of a done request are in Redis
# before its claim is given up, atomically. Returns {positions of the duplicate new requests, taken}.
SETTLE_AND_CLAIM = """
local lines, claims, pushes = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[7])
local at = 8
for first = at, at + lines - 1, 500 do
  redis.call('RPUSH', KEYS[4], unpack(ARGV, first, math.min(first + 499, at + lines - 1)))
end
at = at + lines
local claims_at = at
at = at + claims
local dropped = {}
for n = 0, pushes - 1 do
  local fingerprint, data, claim = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  if fingerprint ~= '' and redis.call('SADD', KEYS[6], fingerprint) == 0 then
    dropped[#dropped + 1] = n
  else
    redis.call('LPUSH', KEYS[1], data)
  end
  if claim ~= '' then redis.call('HDEL', KEYS[2], claim) end
  at = at + 3
end
for i = claims_at, claims_at + claims - 1 do redis.call('HDEL', KEYS[2], ARGV[i]) end
if tonumber(ARGV[6]) > 0 then redis.call('INCRBY', KEYS[5], ARGV[6]) end
local taken = {}
for i = 1, tonumber(ARGV[2]) do
  local data = redis.call('RPOP', KEYS[1])
  if not data then break end
  redis.call('HSET', KEYS[2], ARGV[1] .. ':' .. (i - 1), data)
  taken[i] = data
end
if #taken > 0 then redis.call('SADD', KEYS[3], ARGV[3]) end
return {dropped, taken}
"""


class Outbox:
    """What a worker owes Redis for requests done: their entries' spool lines, the new requests they made
    (each with its fingerprint and, for a claimed request that came back, its claim), their claims to
    release and how many failed. Sent with the worker's next claim or by `flush` (one script, see
    SETTLE_AND_CLAIM); a worker killed first loses them with the claims still held, so the requests
    are redone. `dropped` is told of each new request the dupefilter had already seen."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.claims: list[str] = []
        self.errors = 0
        self.pushes: list[tuple[Any, str, bytes, str]] = []  # request, fingerprint, encoded request, claim
        self.dropped: Callable[[Any], None] = lambda request: None
        self.scripts: dict[int, Any] = {}

    def __len__(self) -> int:
        """New requests waiting to be queued."""
        return len(self.pushes)

    def push(self, request: Any, fingerprint: str, data: bytes, claim: str) -> None:
        self.pushes.append((request, fingerprint, data, claim))

    def args(self) -> list[Any]:
        """The script's ARGV[4:] for what is owed; the outbox is empty after."""
        args = [len(self.lines), len(self.claims), self.errors, len(self.pushes), *self.lines, *self.claims,
                *(value for _, *values in self.pushes for value in values)]
        self.lines.clear()  # in place: WorkerEntriesPipeline appends to this list
        self.claims.clear()
        self.pushes = []
        self.errors = 0
        return args

    def send(self, server: Any, names: dict[str, str], worker: str, prefix: str = "", room: int = 0) -> list[bytes]:
        """Settle what is owed and claim up to `room` requests (ids `prefix:0`, ...), in one round trip;
        the requests claimed."""
        if not (room or self.lines or self.claims or self.errors or self.pushes):
            return []
        script = self.scripts.get(id(server))
        if script is None:
            script = self.scripts[id(server)] = server.register_script(SETTLE_AND_CLAIM)
        pushed = self.pushes
        dropped, taken = script(keys=[names["requests"], names["claims:"] + worker, names["workers"],
                                      names["items"], names["errors"], names["dupefilter"]],
                                args=[prefix, room, worker, *self.args()])
        for n in dropped:
            self.dropped(pushed[n][0])
        return taken

    def flush(self, server: Any, names: dict[str, str], worker: str) -> None:
        """Send what is owed now, without claiming."""
        self.send(server, names, worker)


# Each crawler's Outbox, kept here rather than as an attribute set on Scrapy's crawler.
_OUTBOXES: WeakKeyDictionary[Any, Outbox] = WeakKeyDictionary()


def outbox_for(crawler: Any) -> Outbox:
    """The crawler's one Outbox, shared by its ClaimingQueue and WorkerCoordination."""
    return _OUTBOXES.setdefault(crawler, Outbox())
