"""The near-dup index shared by processes through Redis: datasketch's Redis-backed MinHashLSH (its key
layout, so datasketch itself can read and write the same index), with each entry's band writes and
lookups sent as one pipeline (`redis_lsh.py`), and signatures and cluster ids in two Redis hashes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import numpy as np
from datasketch import MinHashLSH

from crawler.dedup.config import DedupeConfig
from crawler.dedup.match import Match
from crawler.dedup.minhash import BatchMinHasher, estimated_jaccard
from crawler.dedup.redis_lsh import PipelinedRedisLSH
from crawler.dedup.shingles import ShingleHasher

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
    """Insert-then-query near-duplicate detection in a Redis index shared by every process of a run."""

    def __init__(self, config: DedupeConfig, lsh: MinHashLSH, client: Any, basename: bytes) -> None:
        self.config, self.lsh = config, lsh
        self.signatures = RedisHash(client, basename + b"_sigs")
        self.clusters = RedisHash(client, basename + b"_clusters")
        self.shingler = ShingleHasher(config.shingle_size)
        self.hasher = BatchMinHasher(config.num_perm, config.seed)
        self.pipelined = PipelinedRedisLSH(lsh, client)

    @classmethod
    def connect(cls, config: DedupeConfig, store: str) -> RedisNearDupIndex:
        """The index at `redis://[:password@]host:port/db`, named after the configuration."""
        import redis

        url = urlsplit(store)
        basename = REDIS_BASENAME + b"-" + repr(sorted(config.to_dict().items())).encode().hex()[:16].encode()
        connection = {"host": url.hostname or "127.0.0.1", "port": url.port or 6379,
                      "db": int((url.path or "/0").strip("/") or 0), "password": url.password}
        lsh = MinHashLSH(num_perm=config.num_perm, params=config.params,
                         storage_config={"type": "redis", "basename": basename, "redis": connection})
        return cls(config, lsh, redis.Redis(**connection), basename)

    def contains(self, key: str) -> bool:
        return key in self.lsh

    def cluster_of(self, key: str) -> str | None:
        value = self.clusters.get(key)
        return None if value is None else value.decode()

    def __len__(self) -> int:
        return self.lsh.keys.size()

    def query_insert_batch(self, keys: list[str], texts: list[str]) -> list[Match | None]:
        """As NearDupIndex.query_insert_batch; among equally similar matches the smallest key wins (Redis
        keeps no insertion order)."""
        hashes, offsets = self.shingler.batch(texts)
        signatures = self.hasher.signatures(hashes, offsets)
        results: list[Match | None] = []
        for key, signature, count in zip(keys, signatures, np.diff(offsets).tolist(), strict=True):
            best: Match | None = None
            # Insert, then query: two processes that meet near copies at the same moment then always see
            # each other (the later query finds the earlier insert). The caller has just checked that the
            # key is new; inserting a known key again only rewrites the same values.
            write = [("hset", (self.signatures.name, key, signature.tobytes()))]
            candidates = self.pipelined.insert_query(key, self.hasher.lean(signature), insert=True,
                                                     extra=write) if count else []
            for candidate in sorted(candidates):
                other = None if candidate == key else self.signatures.get(candidate)
                if other is None:
                    continue
                similarity = estimated_jaccard(signature, np.frombuffer(other, dtype=np.uint32))
                if similarity >= self.config.threshold and (best is None or similarity > best.similarity):
                    best = Match(str(candidate), similarity)
            results.append(best)
            if best is not None:
                cluster = self.cluster_of(best.key) or best.key
                self.clusters[best.key] = cluster
                self.clusters[key] = cluster
        return results

    def save(self, path: Any = None) -> None:
        """Nothing to write: Redis holds the index."""

    def close(self) -> None:
        self.save()
