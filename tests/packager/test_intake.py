"""Reading a crawl's spool while it crawls (paperset/packager/intake.py, paperset/app/prefold.py): the
version made from an intake that took the finished parts early is the version made without one, byte for
byte; the fold reads only the parts the intake did not take; a thread that cannot read a part gives no
intake (the fold reads the spool itself and names the broken line)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from paperset.app.prefold import PreFold
from paperset.crawler.site.kinds import daily_kinds
from paperset.packager.build import package
from paperset.packager.intake import Intake
from paperset.spool.errors import SpoolError
from paperset.spool.reader import spool_parts
from tests.conftest import corpus_spool

NOW = datetime(2026, 12, 1, 3, 4, 5, tzinfo=UTC)


def version_files(version: Path) -> dict[str, bytes]:
    return {str(p.relative_to(version)): p.read_bytes() for p in sorted(version.rglob("*"))
            if p.is_file() and p.parts[-2] in ("papers", "observations", "stats", "changes")}


def test_a_version_from_an_early_intake_is_the_version_without_one(tmp_path, corpus_path) -> None:
    spool = corpus_spool(tmp_path / "spool", corpus_path, 300, part_bytes=40_000)
    parts, _ = spool_parts(spool)
    assert len(parts) == 3  # a part rolls at a flush (every 100 entries) past 40 KB
    plain = package([spool], tmp_path / "plain", "ds", now=NOW, daily_kinds=daily_kinds())
    intake = Intake(tmp_path / "intake")
    for part in parts[:-1]:
        intake.take_part(part)
    early = package([spool], tmp_path / "early", "ds", now=NOW, intake=intake, daily_kinds=daily_kinds())
    assert (early.papers, early.observations) == (plain.papers, plain.observations) == (plain.papers, 300)
    files = version_files(Path(early.path))
    assert files == version_files(Path(plain.path)) and any(name.startswith("papers/") for name in files)
    manifest = [json.loads((Path(r.path) / "manifest.json").read_text()) for r in (plain, early)]
    assert manifest[0]["files"] == manifest[1]["files"]


def test_the_thread_takes_each_part_the_crawl_has_left_and_never_the_one_it_writes(tmp_path, corpus_path) -> None:
    spool = corpus_spool(tmp_path / "spool", corpus_path, 300, part_bytes=40_000, finish=False)
    parts = sorted((spool / "entries").glob("part-*.jsonl"))
    prefold = PreFold(spool, tmp_path / "intake").start()
    intake = prefold.finish()
    assert intake is not None and sorted(intake.parts) == parts[:-1]
    assert intake.buckets.rows.total() == sum(len(p.read_text().splitlines()) for p in parts[:-1])
    prefold.close()
    assert not (tmp_path / "intake").exists()


def test_parts_finished_while_the_thread_waits_are_taken(tmp_path, corpus_path, monkeypatch) -> None:
    from paperset.app import prefold as module

    monkeypatch.setattr(module, "POLL_S", 0.05)
    spool = tmp_path / "spool"
    (spool / "entries").mkdir(parents=True)
    prefold = PreFold(spool, tmp_path / "intake").start()
    source = corpus_spool(tmp_path / "source", corpus_path, 120, part_bytes=40_000)
    parts = sorted((source / "entries").glob("part-*.jsonl"))

    def crawl() -> None:  # the parts appear one by one, as a crawl writes them
        for part in parts:
            (spool / "entries" / part.name).write_bytes(part.read_bytes())
            time.sleep(0.1)

    writer = threading.Thread(target=crawl)
    writer.start()
    writer.join()
    for _ in range(100):  # read while "crawling": before finish is asked
        if prefold.while_crawling == len(parts) - 1:
            break
        time.sleep(0.05)
    assert prefold.while_crawling == len(parts) - 1
    intake = prefold.finish()
    assert intake is not None and sorted(p.name for p in intake.parts) == [p.name for p in parts[:-1]]
    prefold.close()


def test_a_part_the_thread_cannot_read_gives_no_intake_and_the_fold_names_it(tmp_path, corpus_path) -> None:
    spool = corpus_spool(tmp_path / "spool", corpus_path, 300, part_bytes=40_000)
    parts, _ = spool_parts(spool)
    with parts[1].open("a", encoding="utf-8") as broken:
        broken.write('{"paper_key": "cut\n')
    prefold = PreFold(spool, tmp_path / "intake").start()
    assert prefold.finish() is None
    assert not (tmp_path / "intake").exists()
    with pytest.raises(SpoolError, match=r"part-00001.jsonl: a cut or broken line"):
        package([spool], tmp_path / "out", "ds", now=NOW, daily_kinds=daily_kinds())
    prefold.close()


def test_an_unfinished_spools_empty_last_part_is_no_error(tmp_path, corpus_path) -> None:
    from paperset.spool.reader import spool_tables

    spool = corpus_spool(tmp_path / "spool", corpus_path, 200, part_bytes=40_000, finish=False)
    parts = sorted((spool / "entries").glob("part-*.jsonl"))
    (spool / "entries" / f"part-{len(parts):05d}.jsonl").write_bytes(b"")  # rolled, then killed
    assert sum(t.num_rows for t in spool_tables(spool, allow_partial=True)) == 200
    (spool / "entries" / f"part-{len(parts):05d}.jsonl").write_bytes(b'{"paper_key": "cut')  # nothing whole
    assert sum(t.num_rows for t in spool_tables(spool, allow_partial=True)) == 200


def test_the_settings_part_size_is_the_writers() -> None:
    from paperset.crawler import settings
    from paperset.spool.writer import PART_BYTES

    assert settings.PAPERSET_SPOOL_PART_BYTES == PART_BYTES == 16 * 1024 * 1024


def test_the_health_figures_of_an_early_intake_are_those_of_the_whole_spool(tmp_path, corpus_path) -> None:
    """The health gate counts the parts the intake took from the intake's figures and reads only the rest."""
    from paperset.packager.health import measure

    spool = corpus_spool(tmp_path / "spool", corpus_path, 300, part_bytes=40_000)
    parts, _ = spool_parts(spool)
    intake = Intake(tmp_path / "intake")
    intake.take_part(parts[0])
    crawl = {"listings": {"hydration": 2}, "fetch_paths": {"api": 5}, "entries_dropped": 1}
    whole = measure(crawl, spool)
    assert whole.entries == 300 and sum(whole.per_listing.values()) == 300 and whole.filled["title"] == 1.0
    assert measure(crawl, spool, intake.figures, intake.parts) == whole
    assert intake.figures.rows == len(parts[0].read_text().splitlines()) < 300  # counted once, not copied into
