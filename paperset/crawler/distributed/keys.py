"""Every Redis key of a distributed run, in one place (no Scrapy, no redis-py: the add-on and the rejects log
import it without loading the queue).

All under `paperset:<name>:` (the dataset's name): `plan` (the run: spider arguments and settings, JSON),
`requests` (the queue, scrapy-redis), `dupefilter`, `claims:<worker>` (a hash of the requests a worker took
and has not finished), `alive:<worker>` (its heartbeat, with a TTL), `workers` (the set of worker ids that
have beaten or claimed: the claims and heartbeats to look at, found without scanning a keyspace that also
holds the near-dup index), `items` and `rejects` (JSON lines the coordinator drains into the run's spool and
rejects file), `stats` (each worker's final stats), `errors`, `coverage` (each listing's outcome), and the
shared rate gate's keys under the same prefix (paperset/crawler/fetch/politeness/shared.py)."""

from __future__ import annotations

PARTS = ("plan", "requests", "dupefilter", "items", "rejects", "stats", "errors", "workers", "coverage", "claims:",
         "alive:")


def prefix(name: str) -> str:
    """The prefix of every key of dataset `name`'s distributed run."""
    return f"paperset:{name}:"


def keys(name: str) -> dict[str, str]:
    """The Redis keys of dataset `name`'s distributed run."""
    return {part: prefix(name) + part for part in PARTS}
