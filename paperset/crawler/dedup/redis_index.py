"""The near-dup index shared by processes through Redis: in datasketch's Redis-backed MinHashLSH layout
(so datasketch itself can read and write the same index), with each batch's band writes and lookups sent
as one script (`redis_lsh.py`), and signatures and cluster ids in two Redis hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import numpy as np

from paperset.crawler.dedup.config import DedupeConfig
from paperset.crawler.dedup.match import Match
from paperset.crawler.dedup.minhash import BatchMinHasher, estimated_jaccard
from paperset.crawler.dedup.redis_lsh import PipelinedRedisLSH, RedisLayout
from paperset.crawler.dedup.shingles import ShingleHasher

REDIS_BASENAME = b"paperset-dedupe"


class RedisHash:
    """A Redis hash seen as a small dict of bytes (signatures, cluster ids) shared by processes."""

    def __init__(self, client: Any, name: bytes) -> None:
        self.client, self.name = client, name

    def get(self, key: str) -> bytes | None:
        value = self.client.hget(self.name, key)
        return value if value is None else bytes(value)

    def __setitem__(self, key: str, value: bytes | str) -> None:
        self.client.hset(self.name, key, value)


class RedisNearDupIndex:
    """Insert-then-query near-duplicate detection in a Redis index shared by every process of a run. A
    DupIndex (paperset/crawler/dedup/match.py) whose membership questions are asked a batch at a time."""

    asks_in_batches: ClassVar[bool] = True

    def __init__(self, config: DedupeConfig, client: Any, basename: bytes) -> None:
        self.config = config
        self.signatures = RedisHash(client, basename + b"_sigs")
        self.clusters = RedisHash(client, basename + b"_clusters")
        self.shingler = ShingleHasher(config.shingle_size)
        self.hasher = BatchMinHasher(config.num_perm, config.seed)
        self.pipelined = PipelinedRedisLSH(RedisLayout(basename, *config.params), client)

    @classmethod
    def connect(cls, config: DedupeConfig, store: str) -> RedisNearDupIndex:
        """The index at `redis://[:password@]host:port/db`, named after the configuration."""
        import redis

        url = urlsplit(store)
        basename = REDIS_BASENAME + b"-" + repr(sorted(config.to_dict().items())).encode().hex()[:16].encode()
        connection = {"host": url.hostname or "127.0.0.1", "port": url.port or 6379,
                      "db": int((url.path or "/0").strip("/") or 0), "password": url.password}
        return cls(config, redis.Redis(**connection), basename)

    def contains(self, key: str) -> bool:
        return self.pipelined.contains(key)

    def contains_many(self, keys: list[str]) -> list[bool]:
        """`contains` of each key in one round trip (the near-dedupe step asks for a batch at once)."""
        return self.pipelined.contains_many(keys)

    def cluster_of(self, key: str) -> str | None:
        value = self.clusters.get(key)
        return None if value is None else value.decode()

    def __len__(self) -> int:
        return len(self.pipelined)

    def query_insert_batch(self, keys: list[str], texts: list[str]) -> list[Match | None]:
        """As NearDupIndex.query_insert_batch; among equally similar matches the smallest key wins (Redis
        keeps no insertion order). Four round trips a batch: every entry's inserts and lookups (in order, in
        one script), the candidates' signatures, then the clusters read and written."""
        hashes, offsets = self.shingler.batch(texts)
        signatures = self.hasher.signatures(hashes, offsets)
        # Insert, then query: two processes that meet near copies at the same moment then always see each
        # other (the later query finds the earlier insert). The caller has just checked that the keys are
        # new; inserting a known key again only rewrites the same values. An empty text is not indexed.
        counts = np.diff(offsets).tolist()
        indexed = [i for i, count in enumerate(counts) if count]
        found = self.pipelined.insert_query_many(
            [(keys[i], signatures[i]) for i in indexed], insert=True,
            signatures=(self.signatures.name, [signatures[i].tobytes() for i in indexed]))
        candidates: list[list[str]] = [[] for _ in keys]
        for i, members in zip(indexed, found, strict=True):
            candidates[i] = sorted(members)
        others = sorted({c for i, members in enumerate(candidates) for c in members if c != keys[i]})
        client = self.signatures.client
        stored = dict(zip(others, client.hmget(self.signatures.name, others), strict=True)) if others else {}
        results: list[Match | None] = []
        for key, signature, members in zip(keys, signatures, candidates, strict=True):
            best: Match | None = None
            for candidate in members:
                other = None if candidate == key else stored.get(candidate)
                if other is None:
                    continue
                similarity = estimated_jaccard(signature, np.frombuffer(other, dtype=np.uint32))
                if similarity >= self.config.threshold and (best is None or similarity > best.similarity):
                    best = Match(str(candidate), similarity)
            results.append(best)
        self._link([(key, best.key) for key, best in zip(keys, results, strict=True) if best is not None])
        return results

    def _link(self, links: list[tuple[str, str]]) -> None:
        """Each (key, best match) in turn: both get the match's cluster (or the match's key), as one
        cluster_of and two writes per link would, in one read and one write."""
        if not links:
            return
        asked = sorted({best for _, best in links})
        found = self.clusters.client.hmget(self.clusters.name, asked)
        clusters = {k: v.decode() for k, v in zip(asked, found, strict=True) if v is not None}
        written: dict[str, str] = {}
        for key, best in links:
            cluster = clusters.get(best) or best
            clusters[best] = clusters[key] = written[best] = written[key] = cluster
        self.clusters.client.hset(self.clusters.name, mapping=written)

    def save(self, path: Path | None = None) -> Path | None:
        """Nothing to write: Redis holds the index."""
        return None

    def close(self) -> None:
        self.save()
