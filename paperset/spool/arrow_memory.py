"""Which allocator Arrow's buffers come from in paperset's processes: the system's (glibc malloc), not the
pool pyarrow bundles (mimalloc), unless the user chose one with `ARROW_DEFAULT_MEMORY_POOL`.

The bundled pool keeps freed pages for reuse; a night's packaging frees and allocates a partition's worth
of buffers per fold unit, so its peak RSS followed what the pool kept, not what was alive: a night on a
parent of 1M papers peaked at 255 MB with it and 215 MB with the system's, a night on 1k papers at 166 and
158 MB, at the same wall time (bench/nights.py, bench/README.md). Set in the environment as well, so
that the processes a run starts (workers, the chart) choose the same."""

from __future__ import annotations

import os
import sys

ENV = "ARROW_DEFAULT_MEMORY_POOL"
POOL = "system"


def use_system_pool() -> str:
    """Make the system allocator Arrow's default pool (before pyarrow is imported, through the
    environment it reads then; after, by setting the pool), unless `ARROW_DEFAULT_MEMORY_POOL` names
    another. Returns the pool chosen."""
    chosen = os.environ.setdefault(ENV, POOL)
    if chosen == POOL and "pyarrow" in sys.modules:
        import pyarrow as pa

        if pa.default_memory_pool().backend_name != POOL:
            pa.set_memory_pool(pa.system_memory_pool())
    return chosen


# Freed bytes below which `release_freed(freed)` does not trim: the trim walks the whole heap (about 10 ms
# beside a crawl's objects, for each of the api workload's 13 small units of bench/crawl.py), and glibc
# reuses small frees for the next unit anyway.
RELEASE_AT = 8 * 1024 * 1024


def release_freed(freed: int | None = None) -> None:
    """Hand the memory Arrow's pool holds freed back to the system (the system allocator: glibc's
    `malloc_trim`), when `freed` (bytes the caller just freed; None: unknown) is at least RELEASE_AT. A
    fold frees a unit's buffers before the next unit's: without this, glibc kept most of them (a night at
    1M papers peaked ~30 MB higher)."""
    if freed is not None and freed < RELEASE_AT:
        return
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
