"""The spool writer's fsyncs: off the crawl's thread, the entries before the ledger lines that name them."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from paperset.spool.ledger import LEDGER, read_ledger
from paperset.spool.writer import SpoolWriter


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, int]]:
    """Every fsync as (file name, thread name, the file's size then)."""
    calls: list[tuple[str, str, int]] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        path = Path(f"/proc/self/fd/{fd}").readlink()
        calls.append((path.name, threading.current_thread().name, os.fstat(fd).st_size))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


def test_fsyncs_run_in_the_background_entries_before_their_ledger_lines(tmp_path: Path, fsyncs) -> None:
    writer = SpoolWriter(tmp_path, {"run_id": "r"}, flush_every=2)
    writer.write_record('{"n": 1}')
    writer.done('{"fp": "a", "children": []}\n')
    writer.write_record('{"n": 2}')  # the second entry: a flush starts
    writer.wait()
    assert [(name, thread.startswith("spool-fsync")) for name, thread, _ in fsyncs] == [
        ("part-00000.jsonl", True), (LEDGER, True)]
    # The entries were whole on disk when their fsync ran, and the ledger names only what was synced.
    assert fsyncs[0][2] == len('{"n": 1}\n{"n": 2}\n')
    assert read_ledger(tmp_path / LEDGER) == {"a": []}
    writer.close()
    assert json.loads((tmp_path / "meta.json").read_text())["finished_at"] is not None
    assert (tmp_path / "entries" / "part-00000.jsonl").read_text() == '{"n": 1}\n{"n": 2}\n'


def test_flush_returns_with_everything_synced_and_a_failed_sync_is_raised(tmp_path: Path, fsyncs,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    writer = SpoolWriter(tmp_path, {"run_id": "r"}, flush_every=100)
    writer.write_record('{"n": 1}')
    writer.done('{"fp": "a", "children": []}\n')
    writer.flush()
    assert [name for name, _, _ in fsyncs] == ["part-00000.jsonl", LEDGER]
    assert read_ledger(tmp_path / LEDGER) == {"a": []}

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    writer.write_record('{"n": 2}')
    writer.done('{"fp": "b", "children": []}\n')
    writer.flush_behind()
    writer.write_record('{"n": 3}')
    with pytest.raises(OSError, match="No space"):
        writer.flush()  # the next flush reports the last one's error...
    with pytest.raises(OSError, match="No space"):
        writer.close()
    # ...and the ledger never names the request whose entries were not synced.
    assert read_ledger(tmp_path / LEDGER) == {"a": []}


def test_after_a_failed_sync_nothing_more_is_written_to_the_ledger_and_the_spool_stays_unfinished(
        tmp_path: Path, fsyncs, monkeypatch: pytest.MonkeyPatch) -> None:
    """One fsync fails (EIO), the disk then recovers: a request whose first entries were in the failed
    flush and its ledger line in the next must not be named, and the spool must not be finished."""
    writer = SpoolWriter(tmp_path, {"run_id": "r"}, flush_every=100)
    working = os.fsync
    failures = iter([OSError(5, "Input/output error")])

    def once(fd: int) -> None:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        working(fd)

    writer.write_record('{"n": 1}')  # the first entry of request "a"
    monkeypatch.setattr(os, "fsync", once)
    writer.flush_behind()
    with pytest.raises(OSError, match="Input/output"):
        writer.wait()
    monkeypatch.setattr(os, "fsync", working)  # the disk works again
    for step in (lambda: writer.write_record('{"n": 2}'), lambda: writer.done('{"fp": "a", "children": []}\n'),
                 writer.flush, writer.close):
        with pytest.raises(OSError, match="Input/output"):
            step()
    assert not (tmp_path / LEDGER).exists()
    assert json.loads((tmp_path / "meta.json").read_text())["finished_at"] is None
