"""One writer per dataset: an advisory lock on ROOT/NAME/.lock, released by the OS when its process
dies, so a lock left by a killed run is taken over by the next one without any cleanup."""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from paperset.packager.errors import DatasetLocked

__all__ = ["DatasetLocked", "dataset_lock"]


@contextmanager
def dataset_lock(dataset: Path, *, wait: float = 0.0) -> Iterator[None]:
    """Hold the dataset's lock for the block; wait up to `wait` seconds for it, then raise DatasetLocked
    naming the holder."""
    dataset.mkdir(parents=True, exist_ok=True)
    path = dataset / ".lock"
    with path.open("a+", encoding="utf-8") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                    raise DatasetLocked(f"{dataset} is being written by another paperset run ({holder}); "
                                        "try again later or pass --wait SECONDS") from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "since": datetime.now(UTC).isoformat(timespec="seconds")}))
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
