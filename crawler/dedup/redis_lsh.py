"""One Redis round trip per batch of entries for datasketch's Redis-backed MinHashLSH: each entry's band
inserts and band lookups run in order in one Lua script, instead of datasketch's one command per band
(which made 62% of a worker's time in a profile: about 60 round trips an entry), and only the keys found
come back (a pipeline of the same commands spent most of its time packing commands and parsing ~60
replies an entry). The keys and values written are datasketch's own layout, so datasketch reads what
this writes and the other way round (tested).

This is the one module that uses datasketch's private internals (datasketch has no public API for
them): `MinHashLSH._H` (a band's bytes), `hashranges`, `prepickle`, the storages' `_name`, and their
key layout (`redis_key(x)` is `_name + x`, which the script builds itself).
`tests/dedup/test_index.py::test_the_redis_layout_redis_lsh_relies_on_is_datasketch_2_0s` pins that
layout for the datasketch version we pin.
"""

from __future__ import annotations

import pickle
from typing import Any

from datasketch import LeanMinHash, MinHashLSH

# Per entry, in order: its signature (when a hash is named), its key and bands (datasketch's `keys`
# storage: a hash field naming a list), each band in its table (a hash field naming a set that gets the
# key), then the union of the keys in its bands' sets. ARGV: the keys hash, insert (0/1), the number of
# bands, the band tables' names, the signatures hash (or ""), then per entry: its stored key, its
# signature field, its signature, its bands.
_INSERT_QUERY = """
local keys_name, insert, nbands = ARGV[1], ARGV[2] == '1', tonumber(ARGV[3])
local tables = {}
for i = 1, nbands do tables[i] = ARGV[3 + i] end
local sigs = ARGV[4 + nbands]
local out = {}
local at = 5 + nbands
while at <= #ARGV do
  local stored, field, signature = ARGV[at], ARGV[at + 1], ARGV[at + 2]
  local bands = {}
  for i = 1, nbands do bands[i] = ARGV[at + 2 + i] end
  if sigs ~= '' then redis.call('HSET', sigs, field, signature) end
  if insert then
    redis.call('HSET', keys_name, stored, keys_name .. stored)
    redis.call('RPUSH', keys_name .. stored, unpack(bands))
    for i = 1, nbands do
      redis.call('HSET', tables[i], bands[i], tables[i] .. bands[i])
      redis.call('SADD', tables[i] .. bands[i], stored)
    end
  end
  local seen, members = {}, {}
  for i = 1, nbands do
    for _, member in ipairs(redis.call('SMEMBERS', tables[i] .. bands[i])) do
      if not seen[member] then seen[member] = true; members[#members + 1] = member end
    end
  end
  out[#out + 1] = members
  at = at + 3 + nbands
end
return out
"""


class PipelinedRedisLSH:
    """Insert-then-query on `lsh` (Redis storage, prepickled keys) through `client`'s pipelines."""

    def __init__(self, lsh: MinHashLSH, client: Any) -> None:
        self.lsh, self.client = lsh, client
        self.keys = lsh.keys
        self.tables = lsh.hashtables
        self.script = client.register_script(_INSERT_QUERY)

    def _key(self, key: str) -> bytes:
        return pickle.dumps(key) if self.lsh.prepickle else key.encode()

    def contains(self, key: str) -> bool:
        return bool(self.client.hexists(self.keys._name, self._key(key)))

    def contains_many(self, keys: list[str]) -> list[bool]:
        """`contains` of each key, in one round trip."""
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hexists(self.keys._name, self._key(key))
        return [bool(found) for found in pipe.execute()] if keys else []

    def insert_query(self, key: str, lean: LeanMinHash, *, insert: bool) -> list[str]:
        """Insert `key` (when asked), then look up every band: the keys that share a band with `lean`,
        `key` itself included when indexed."""
        return self.insert_query_many([(key, lean.hashvalues)], insert=insert)[0]

    def insert_query_many(self, entries: list[tuple[str, Any]], *, insert: bool,
                          signatures: tuple[bytes, list[bytes]] | None = None) -> list[list[str]]:
        """`insert_query` of each (key, hash values), in order, in one round trip (a Lua script: Redis runs
        it as one step, each entry's lookups after its own inserts and before the next entry's, as one
        call per entry would). `signatures`: a Redis hash and each entry's value for it, written before
        the entry can be found."""
        if not entries:
            return []
        nbands = len(self.tables)
        args: list[Any] = [self.keys._name, int(insert), nbands, *(t._name for t in self.tables),
                           signatures[0] if signatures else b""]
        for n, (key, hashvalues) in enumerate(entries):
            args += [self._key(key), key.encode(), signatures[1][n] if signatures else b""]
            args += [self.lsh._H(hashvalues[start:end]) for start, end in self.lsh.hashranges]
        replies = self.script(args=args)
        return [[pickle.loads(m) if self.lsh.prepickle else m.decode() for m in members]  # noqa: S301 - ours
                for members in replies]
