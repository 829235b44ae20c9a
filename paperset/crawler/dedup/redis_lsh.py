"""One Redis round trip per batch of entries for a near-dup index kept in datasketch's Redis layout: each
entry's band inserts and band lookups run in order in one Lua script, instead of datasketch's one command
per band (which made 62% of a worker's time in a profile: about 60 round trips an entry), and only the
keys found come back.

The layout is datasketch 2.0's Redis-backed `MinHashLSH` (prepickled keys, `basename`), written and read
here without importing datasketch (its import pulls in scipy: 0.4 s of every worker's start-up), so that
datasketch opens what this writes and the other way round (both tested). `RedisLayout` is the one place
that knows datasketch's private names: the keys storage `<basename>_keys` (a hash from each pickled key
to the name of a list of its band bytes), band table i `<basename>_bucket_<i as 2 bytes big-endian>` (a
hash from band bytes to the name of a set of keys), a storage's item `x` at `<its name> + x`, and a
band's bytes (its slice of the signature, byte-swapped: `MinHashLSH._byteswap`).
`tests/crawler/dedup/test_index.py::test_the_redis_layout_redis_lsh_relies_on_is_datasketch_2_0s` pins it for
the datasketch version we pin.
"""

from __future__ import annotations

import pickle
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

# Per entry, in order: its signature (when a hash is named), its key and bands (datasketch's `keys`
# storage: a hash field naming a list), each band in its table (a hash field naming a set that gets the
# key), then the union of the keys in its bands' sets (one SUNION). ARGV: the keys hash, insert (0/1),
# the number of bands, the band tables' names, the signatures hash (or ""), then per entry: its stored
# key, its signature field, its signature, its bands.
_INSERT_QUERY = """
local keys_name, insert, nbands = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3])
local tables = {}
for i = 1, nbands do tables[i] = ARGV[3 + i] end
local sigs = ARGV[4 + nbands]
local out = {}
local at = 5 + nbands
local sets = {}
while at <= #ARGV do
  local stored, field, signature = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  for i = 1, nbands do sets[i] = tables[i] .. ARGV[at + 2 + i] end
  if sigs ~= '' then redis.call('HSET', sigs, field, signature) end
  if insert then
    redis.call('HSET', keys_name, stored, keys_name .. stored)
    redis.call('RPUSH', keys_name .. stored, unpack(ARGV, at + 3, at + 2 + nbands))
    for i = 1, nbands do
      redis.call('HSET', tables[i], ARGV[at + 2 + i], sets[i])
      redis.call('SADD', sets[i], stored)
    end
  end
  out[#out + 1] = redis.call('SUNION', unpack(sets))
  at = at + 3 + nbands
end
return out
"""


@dataclass(frozen=True)
class RedisLayout:
    """The Redis names of datasketch 2.0's `MinHashLSH(params=(bands, rows), storage_config={"type":
    "redis", "basename": basename})`, and how it stores keys and bands."""

    basename: bytes
    bands: int
    rows: int

    @property
    def keys_name(self) -> bytes:
        return self.basename + b"_keys"

    @property
    def tables(self) -> list[bytes]:
        return [self.basename + b"_bucket_" + struct.pack(">H", i) for i in range(self.bands)]

    @staticmethod
    def stored_key(key: str) -> bytes:
        """A key as stored (datasketch pickles keys for Redis storage)."""
        return pickle.dumps(key)

    @staticmethod
    def key_of(stored: bytes) -> str:
        return pickle.loads(stored)  # noqa: S301 - keys this index (or datasketch) wrote: plain strings

    def band_bytes(self, hashvalues: np.ndarray) -> list[bytes]:
        """Each band's bytes: its `rows` slots of the signature, byte-swapped."""
        swapped = hashvalues[:self.bands * self.rows].byteswap().tobytes()
        width = self.rows * hashvalues.itemsize
        return [swapped[i * width:(i + 1) * width] for i in range(self.bands)]


class PipelinedRedisLSH:
    """Insert-then-query on an index in `layout`, through `client`."""

    def __init__(self, layout: RedisLayout, client: Any) -> None:
        self.layout, self.client = layout, client
        self.keys_name = layout.keys_name
        self.tables = layout.tables
        self.script = client.register_script(_INSERT_QUERY)

    def __len__(self) -> int:
        return int(self.client.hlen(self.keys_name))

    def contains(self, key: str) -> bool:
        return bool(self.client.hexists(self.keys_name, self.layout.stored_key(key)))

    def contains_many(self, keys: list[str]) -> list[bool]:
        """`contains` of each key, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hexists(self.keys_name, self.layout.stored_key(key))
        return [bool(found) for found in pipe.execute()] if keys else []

    def insert_query(self, key: str, hashvalues: np.ndarray, *, insert: bool) -> list[str]:
        """Insert `key` (when asked), then look up every band: the keys that share a band with the
        signature `hashvalues`, `key` itself included when indexed."""
        return self.insert_query_many([(key, hashvalues)], insert=insert)[0]

    def insert_query_many(self, entries: list[tuple[str, np.ndarray]], *, insert: bool,
                          signatures: tuple[bytes, list[bytes]] | None = None) -> list[list[str]]:
        """`insert_query` of each (key, hash values), in order, in one round trip (a Lua script: Redis runs
        it as one step, each entry's lookups after its own inserts and before the next entry's, as one
        call per entry would). `signatures`: a Redis hash and each entry's value for it, written before
        the entry can be found."""
        if not entries:
            return []
        layout = self.layout
        args: list[Any] = [self.keys_name, int(insert), layout.bands, *self.tables,
                           signatures[0] if signatures else b""]
        for n, (key, hashvalues) in enumerate(entries):
            args += [layout.stored_key(key), key.encode(), signatures[1][n] if signatures else b""]
            args += layout.band_bytes(hashvalues)
        return [[layout.key_of(m) for m in members] for members in self.script(args=args)]
