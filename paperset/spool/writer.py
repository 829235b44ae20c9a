"""Writing a spool: JSON-lines parts of accepted entries flushed as they come, and its meta.json.

A spool is a folder: `meta.json` (`schema` = paperset.spool/1, run id, times, base URL, settings, dedupe
configuration, stats; `finished_at` is null until the crawl closes it), `entries/part-NNNNN.jsonl`,
`ledger.jsonl` (the requests whose entries are all on disk, see paperset/crawler/tracking/done.py) and the
crawl's `rejects.jsonl`. A killed crawl leaves every flushed line; its last line may be cut, and a
resumed crawl cuts that line off before it writes on.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from paperset.spool.ledger import LEDGER
from paperset.spool.reader import read_meta
from paperset.spool.schema import ENTRY_FIELDS, SCHEMA

WRITE_BUFFER = 1 << 20
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode  # made once: json.dumps makes one per call


def entry_record(entry: dict[str, Any]) -> str:
    """An entry as one spool line: the ENTRY_FIELDS, in that order, as JSON (without the newline)."""
    record = {name: entry.get(name) for name in ENTRY_FIELDS}
    try:
        return orjson.dumps(record).decode()  # about 6x json's encoder: a spool line per entry
    except orjson.JSONEncodeError:
        # What orjson refuses (a lone surrogate with normalization off, an int past 64 bits) json writes
        # as it always did, or refuses alike.
        return _ENCODE(record)


def cut_partial_line(path: Path) -> None:
    """Cut a file back to its last complete line (what a killed writer left half-written)."""
    if not path.exists():
        return
    with path.open("rb+") as handle:
        data = handle.read()
        keep = data.rfind(b"\n") + 1
        if keep != len(data):
            handle.truncate(keep)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write `data` as indented JSON to `path` through a temporary file and a rename: never half-written."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)  # nothing half-written left beside it
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


# A part's size past which the next entries go to a new part (setting PAPERSET_SPOOL_PART_BYTES): a run
# reads each finished part for the fold while it still crawls (paperset/app/prefold.py).
PART_BYTES = 16 * 1024 * 1024


def finished_parts(folder: Path) -> list[Path]:
    """The spool's parts the writer is done with: all but the newest (it never goes back to a part once it
    opened the next; on resume it cuts only the newest part's half line before opening a new one)."""
    return sorted((folder / "entries").glob("part-*.jsonl"))[:-1]


class SpoolWriter:
    """Appends entries to `entries/part-*.jsonl`, flushing every `flush_every` and rolling parts by size."""

    def __init__(self, folder: Path, meta: dict[str, Any], *, flush_every: int = 100,
                 part_bytes: int = PART_BYTES, resume: bool = False) -> None:
        self.folder, self.flush_every, self.part_bytes = folder, flush_every, part_bytes
        (folder / "entries").mkdir(parents=True, exist_ok=True)
        now = datetime.now(UTC).isoformat()
        self.meta = {"schema": SCHEMA, "started_at": now, "finished_at": None, **meta}
        parts = sorted((folder / "entries").glob("part-*.jsonl"))
        if resume and (folder / "meta.json").exists():
            before = read_meta(folder)
            self.meta.update(run_id=before.get("run_id", self.meta.get("run_id")), started_at=before["started_at"],
                             resumed_at=[*before.get("resumed_at", []), now])
            for path in [*parts[-1:], folder / LEDGER]:
                cut_partial_line(path)
        write_json_atomic(folder / "meta.json", self.meta)
        self.part = len(parts)
        self.file: IO[str] | None = None
        self.ledger: IO[str] | None = None
        self.done_lines: list[str] = []
        self.pending = 0
        # The fsyncs run in one background thread, in order, so the crawl does not wait on the disk; the
        # ledger is appended (and fsynced) by that thread only after the entries before it are fsynced.
        self.syncer: ThreadPoolExecutor | None = None
        self.syncing: Future[None] | None = None
        # A failed flush (EIO, ENOSPC) for good: the entries it held may not be on disk, so no later
        # ledger line may be written (a request's entries can span two flushes), every later write,
        # flush and close raise it, and the spool is never marked finished.
        self.failed: BaseException | None = None

    def _open(self) -> IO[str]:
        # The size is looked at only after a flush (tell() on a text file is slow): a part may pass
        # part_bytes by up to flush_every entries.
        if self.file is None or (self.pending == 0 and self.file.tell() >= self.part_bytes):
            if self.file is not None:
                self.file.close()
            # A buffer that holds a flush's worth of lines: written to the kernel in one call at the
            # flush, after the last fsync is over, not in 8 KB pieces that wait on the fsync in flight.
            self.file = (self.folder / "entries" / f"part-{self.part:05d}.jsonl").open(
                "a", encoding="utf-8", buffering=WRITE_BUFFER)
            self.part += 1
        return self.file

    def write(self, entry: dict[str, Any]) -> None:
        self.write_record(entry_record(entry))

    def write_record(self, record: str) -> None:
        """One entry already serialized by `entry_record` (a distributed run's workers send them so)."""
        if self.failed is not None:  # (inlined: once per entry)
            raise self.failed
        self._open().write(record + "\n")
        self.pending += 1
        if self.pending >= self.flush_every:
            self.flush_behind()

    def done(self, line: str) -> None:
        """Record a done request in the ledger at the next flush, after its entries are on disk."""
        self._raise_failed()
        self.done_lines.append(line)
        if len(self.done_lines) >= self.flush_every:
            self.flush_behind()

    def flush_behind(self) -> None:
        """Hand the written entries to the kernel now, and fsync them, then append and fsync the done
        requests' ledger lines, in the background thread. At most one flush is in flight: a second waits
        for the first (and raises what it raised, e.g. ENOSPC)."""
        self.wait()
        fd = None
        if self.file is not None:
            self.file.flush()
            fd = os.dup(self.file.fileno())  # the thread's own: the part may be closed (rolled) meanwhile
        lines, self.done_lines, self.pending = self.done_lines, [], 0
        if self.syncer is None:
            self.syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spool-fsync")
        self.syncing = self.syncer.submit(self._sync, fd, lines)

    def _sync(self, fd: int | None, lines: list[str]) -> None:
        if fd is not None:
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        if lines:
            if self.ledger is None:
                self.ledger = (self.folder / LEDGER).open("a", encoding="utf-8")
            self.ledger.write("".join(lines))
            self.ledger.flush()
            os.fsync(self.ledger.fileno())

    def wait(self) -> None:
        """Wait for the flush in flight, if any; raises what it raised, and so does every later call."""
        syncing, self.syncing = self.syncing, None
        if syncing is not None:
            try:
                syncing.result()
            except BaseException as exc:
                self.failed = exc
                raise
        self._raise_failed()

    def _raise_failed(self) -> None:
        if self.failed is not None:
            raise self.failed

    def flush(self) -> None:
        """Entries and ledger lines written so far on disk (fsynced) when this returns."""
        self.flush_behind()
        self.wait()

    def close(self, stats: dict[str, Any] | None = None, **extra: Any) -> None:
        try:
            self.flush()
        finally:
            if self.syncer is not None:
                self.syncer.shutdown(wait=True)
                self.syncer = None
        for handle in (self.file, self.ledger):
            if handle is not None:
                handle.close()
        self.meta.update(finished_at=datetime.now(UTC).isoformat(), stats=stats or {}, **extra)
        write_json_atomic(self.folder / "meta.json", self.meta)
