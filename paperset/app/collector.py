"""Python's cycle collector during a run. A crawl allocates a few objects an entry and keeps few: run every
700 allocations (Python's default), the collector's walks were a tenth of an API crawl's wall time, so the
crawl runs it every COLLECT_EVERY allocations (`roomy_collector`). After the crawl, the packaging allocates many
objects beside everything the run made so far: each full collection walked them all (two, 0.25 s, on the api
workload of bench/crawl.py, measured by gc.callbacks), so the packaging runs with everything the crawl left set
aside (`crawl_set_aside`, gc.freeze), given back after (gc.unfreeze). The finished crawler's garbage (cycles:
60,000 objects on that workload) is set aside with the rest, not collected first: that collection took 0.17 s,
for memory the crawl held a moment before; it is collected after, or never when the process exits."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Allocations between two runs of the collector's youngest generation during a crawl (Python's is 700).
COLLECT_EVERY = 20_000


@contextmanager
def roomy_collector() -> Iterator[None]:
    """The youngest generation collected every COLLECT_EVERY allocations inside, then as it was."""
    before = gc.get_threshold()
    gc.set_threshold(COLLECT_EVERY, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def crawl_set_aside() -> Iterator[None]:
    """Every object the crawl left (alive or its garbage) out of the collector's walks inside, given back to its
    oldest generation after (so that what is or becomes garbage is still collected)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
