"""Python's cycle collector during a run. A crawl allocates a few objects an entry and keeps few: run every
700 allocations (Python's default), the collector's walks were a tenth of an API crawl's wall time, so the
crawl runs it every COLLECT_EVERY allocations (`roomy_collector`). After the crawl its objects (Scrapy's, the
cleaning steps' memos) are long-lived and the packaging allocates many: a full collection then walked them
all, ~0.1 s each (measured by gc.callbacks on the api workload of bench/crawl.py), so the packaging runs with
them set aside (`crawl_set_aside`, gc.freeze) and gives them back after (gc.unfreeze)."""

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
    """Every object alive on entry left out of the collector's walks inside (the crawl's, once it is over),
    given back to its oldest generation after (so that what became garbage is still collected)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
