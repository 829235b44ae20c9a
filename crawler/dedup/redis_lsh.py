"""One Redis round trip per batch of entries for datasketch's Redis-backed MinHashLSH: each entry's band
inserts and band lookups go out in order in one pipeline, instead of datasketch's one command per band
(which made 62% of a worker's time in a profile: about 60 round trips an entry). The keys and values written are
datasketch's own layout, so datasketch reads what this writes and the other way round (tested).

This is the one module that uses datasketch's private internals (datasketch has no public API for
them): `MinHashLSH._H` (a band's bytes), `hashranges`, `prepickle`, and the storages' `_name` and
`redis_key`. `tests/dedup/test_index.py::test_the_redis_layout_redis_lsh_relies_on_is_datasketch_2_0s` pins the
layout of the datasketch version we pin.
"""

from __future__ import annotations

import pickle
from typing import Any

from datasketch import LeanMinHash, MinHashLSH


class PipelinedRedisLSH:
    """Insert-then-query on `lsh` (Redis storage, prepickled keys) through `client`'s pipelines."""

    def __init__(self, lsh: MinHashLSH, client: Any) -> None:
        self.lsh, self.client = lsh, client
        self.keys = lsh.keys
        self.tables = lsh.hashtables

    def _key(self, key: str) -> bytes:
        return pickle.dumps(key) if self.lsh.prepickle else key.encode()

    def contains(self, key: str) -> bool:
        return bool(self.client.hexists(self.keys._name, self._key(key)))

    def insert_query(self, key: str, lean: LeanMinHash, *, insert: bool,
                     extra: list[tuple[str, tuple[Any, ...]]] = ()) -> list[str]:
        """Run the `extra` commands (the entry's signature, written before the entry can be found),
        insert `key` (when asked), then look up every band: the keys that share a band with `lean`,
        `key` itself included when indexed."""
        return self.insert_query_many([(key, lean.hashvalues, list(extra))], insert=insert)[0]

    def insert_query_many(self, entries: list[tuple[str, Any, list[tuple[str, tuple[Any, ...]]]]], *,
                          insert: bool) -> list[list[str]]:
        """`insert_query` of each (key, hash values, extra commands), in order, in one round trip: Redis runs
        a pipeline's commands in turn, so each entry's lookups see the entries before it and not those
        after it, as one call per entry would."""
        pipe = self.client.pipeline(transaction=False)
        spans: list[tuple[int, int]] = []
        queued = 0
        for key, hashvalues, extra in entries:
            stored = self._key(key)
            bands = [self.lsh._H(hashvalues[start:end]) for start, end in self.lsh.hashranges]
            for command, args in extra:
                getattr(pipe, command)(*args)
            queued += len(extra)
            if insert:
                pipe.hset(self.keys._name, stored, self.keys.redis_key(stored))
                pipe.rpush(self.keys.redis_key(stored), *bands)
                for band, table in zip(bands, self.tables, strict=True):
                    pipe.hset(table._name, band, table.redis_key(band))
                    pipe.sadd(table.redis_key(band), stored)
                queued += 2 + 2 * len(bands)
            for band, table in zip(bands, self.tables, strict=True):
                pipe.smembers(table.redis_key(band))
            spans.append((queued, queued + len(bands)))
            queued += len(bands)
        replies = pipe.execute() if entries else []
        out = []
        for start, end in spans:
            members = set().union(*replies[start:end])
            out.append([pickle.loads(m) if self.lsh.prepickle else m.decode() for m in members])  # noqa: S301 - ours
        return out
