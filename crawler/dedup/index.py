"""The near-duplicate index: datasketch MinHashLSH over our batched signatures, candidates confirmed
by estimated Jaccard, clusters of linked papers; kept in memory, in a folder, or in Redis."""

from __future__ import annotations

import logging
import os
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import numpy as np
from datasketch import MinHashLSH

from crawler.dedup.config import DedupeConfig
from crawler.dedup.minhash import BatchMinHasher, estimated_jaccard
from crawler.dedup.redis_lsh import PipelinedRedisLSH
from crawler.dedup.shingles import ShingleHasher

logger = logging.getLogger(__name__)
INDEX_FILE = "near-dup-index.pkl"
REDIS_BASENAME = b"paperset-dedupe"


@dataclass(frozen=True)
class Match:
    """The best earlier entry an entry near-copies, and their estimated Jaccard similarity."""

    key: str
    similarity: float


class KeyValues(Protocol):
    def get(self, key: str) -> Any: ...
    def __setitem__(self, key: str, value: Any) -> None: ...


class RedisHash:
    """A Redis hash seen as a small dict of bytes (signatures, cluster ids) shared by processes."""

    def __init__(self, client: Any, name: bytes) -> None:
        self.client, self.name = client, name

    def get(self, key: str) -> bytes | None:
        value = self.client.hget(self.name, key)
        return value if value is None else bytes(value)

    def __setitem__(self, key: str, value: bytes | str) -> None:
        self.client.hset(self.name, key, value)


class NearDupIndex:
    """Query-then-insert near-duplicate detection for entries keyed by paper key."""

    def __init__(self, config: DedupeConfig, lsh: MinHashLSH, signatures: KeyValues, clusters: KeyValues,
                 path: Path | None = None) -> None:
        self.config, self.lsh, self.signatures, self.clusters, self.path = config, lsh, signatures, clusters, path
        self.shingler = ShingleHasher(config.shingle_size)
        self.hasher = BatchMinHasher(config.num_perm, config.seed)
        self.pipelined = PipelinedRedisLSH(lsh, signatures.client) if isinstance(signatures, RedisHash) else None

    def contains(self, key: str) -> bool:
        return key in self.lsh

    def cluster_of(self, key: str) -> str | None:
        value = self.clusters.get(key)
        return value.decode() if isinstance(value, bytes) else value

    def _signature(self, key: str) -> np.ndarray | None:
        value = self.signatures.get(key)
        if value is None or isinstance(value, np.ndarray):
            return value
        return np.frombuffer(value, dtype=np.uint32)

    def query_insert_batch(self, keys: list[str], texts: list[str]) -> list[Match | None]:
        """For each entry in order: its best confirmed match among everything indexed before it (earlier
        entries of the same batch included), then insert it. Near copies join one cluster, named by
        the key of its earliest member."""
        hashes, offsets = self.shingler.batch(texts)
        signatures = self.hasher.signatures(hashes, offsets)
        results: list[Match | None] = []
        for key, signature, empty in zip(keys, signatures, offsets[1:] == offsets[:-1], strict=True):
            lean = self.hasher.lean(signature)
            best: Match | None = None
            # Insert, then query: two processes sharing a Redis index that meet near copies at the
            # same moment then always see each other (the later query finds the earlier insert).
            candidates: list[str] = []
            if not empty and self.pipelined is not None:
                # The caller has just checked that the key is new; inserting a known key again only
                # rewrites the same values, so no round trip is spent to check once more.
                assert isinstance(self.signatures, RedisHash)
                write = [("hset", (self.signatures.name, key, signature.tobytes()))]
                candidates = self.pipelined.insert_query(key, lean, insert=True, extra=write)
            elif not empty:
                if key not in self.lsh:
                    self.signatures[key] = signature
                    self.lsh.insert(key, lean, check_duplication=False)
                candidates = self.lsh.query(lean)
            for candidate in candidates:
                other = None if candidate == key else self._signature(candidate)
                if other is None:
                    continue
                similarity = estimated_jaccard(signature, other)
                if similarity >= self.config.threshold and (best is None or similarity > best.similarity):
                    best = Match(str(candidate), similarity)
            results.append(best)
            if best is not None:
                cluster = self.cluster_of(best.key) or best.key
                self.clusters[best.key] = cluster
                self.clusters[key] = cluster
        return results

    def __len__(self) -> int:
        return len(self.lsh.keys) if hasattr(self.lsh.keys, "__len__") else self.lsh.keys.size()

    def save(self, path: Path | None = None) -> Path | None:
        """Write a memory or folder index to `path/near-dup-index.pkl` atomically (Redis needs nothing)."""
        path = path or self.path
        if path is None or isinstance(self.signatures, RedisHash):
            return None
        path.mkdir(parents=True, exist_ok=True)
        target = path / INDEX_FILE
        tmp = target.with_suffix(f".tmp-{os.getpid()}")
        with tmp.open("wb") as out:
            pickle.dump({"config": self.config.to_dict(), "lsh": self.lsh, "signatures": self.signatures,
                         "clusters": self.clusters}, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
        return target

    def close(self) -> None:
        self.save()


def _memory_index(config: DedupeConfig, path: Path | None) -> NearDupIndex:
    bands, rows = config.params
    lsh = MinHashLSH(num_perm=config.num_perm, params=(bands, rows))
    return NearDupIndex(config, lsh, {}, {}, path)


def load_index(config: DedupeConfig, path: Path) -> NearDupIndex:
    """The index saved in `path`, or a new one there; refuses one built with another configuration."""
    file = path / INDEX_FILE
    if not file.exists():
        return _memory_index(config, path)
    with file.open("rb") as data:
        state = pickle.load(data)  # noqa: S301 - our own file, written by save()
    if state["config"] != config.to_dict():
        raise ValueError(f"the index in {path} was built with {state['config']}, not {config.to_dict()}: "
                         "use the same PAPERSET_DEDUPE_* settings or a new index folder")
    return NearDupIndex(config, state["lsh"], state["signatures"], state["clusters"], path)


def open_index(config: DedupeConfig, store: str) -> NearDupIndex:
    """`memory`, a folder path, or `redis://[:password@]host:port/db` (shared by every process)."""
    if store in ("", "memory"):
        return _memory_index(config, None)
    if store.startswith(("redis://", "rediss://")):
        import redis

        url = urlsplit(store)
        bands, rows = config.params
        basename = REDIS_BASENAME + b"-" + repr(sorted(config.to_dict().items())).encode().hex()[:16].encode()
        storage = {"type": "redis", "basename": basename,
                   "redis": {"host": url.hostname or "127.0.0.1", "port": url.port or 6379,
                             "db": int((url.path or "/0").strip("/") or 0), "password": url.password}}
        lsh = MinHashLSH(num_perm=config.num_perm, params=(bands, rows), storage_config=storage)
        client = redis.Redis(host=storage["redis"]["host"], port=storage["redis"]["port"],
                             db=storage["redis"]["db"], password=url.password)
        return NearDupIndex(config, lsh, RedisHash(client, basename + b"_sigs"),
                            RedisHash(client, basename + b"_clusters"))
    return load_index(config, Path(store))
