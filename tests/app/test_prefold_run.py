"""A `paperset run` whose spool rolls many parts: the parts are read for the fold while it crawls
(paperset/app/prefold.py), and the version is the one a spool of one part gives (same papers, same
observations, verified); the run leaves no intake folder behind."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import last_json, run_paperset

pytestmark = pytest.mark.slow  # runs `paperset` end to end (docs/testing.md)


def run(replica, root: Path, *settings: str) -> dict:
    days = replica.index["days"]
    result = run_paperset("run", "--base-url", replica.base_url, "--range", f"{days[0]}:{days[9]}", "--out",
                          str(root), "--json", "-s", "AUTOTHROTTLE_ENABLED=False", *settings)
    assert result.returncode == 0, result.stderr[-2000:]
    return last_json(result.stdout)


def test_a_run_of_many_spool_parts_publishes_what_a_run_of_one_part_publishes(tmp_path, replica) -> None:
    stale = tmp_path / "many" / "hf-papers" / ".runs" / "20260101T000000000000Z" / "intake"
    stale.mkdir(parents=True)
    (stale / "entries-3230.arrow").write_bytes(b"left by a run killed while packaging")
    many = run(replica, tmp_path / "many", "-s", "PAPERSET_SPOOL_PART_BYTES=20000", "-s",
               "PAPERSET_SPOOL_FLUSH_EVERY=20")
    one = run(replica, tmp_path / "one")
    run_dir = Path(many["crawl"]["run"])
    parts = sorted((run_dir / "spool" / "entries").glob("part-*.jsonl"))
    lines = sum(len(p.read_text(encoding="utf-8").splitlines()) for p in parts)
    assert len(parts) >= 3 and not (run_dir / "intake").exists()
    assert many["verified"] and one["verified"]
    assert (many["papers"], many["observations"]) == (one["papers"], one["observations"])
    assert many["observations"] == lines
    keys = [sorted(pq.read_table(Path(o["path"]) / "papers", columns=["paper_key"]).column(0).to_pylist())
            for o in (many, one)]
    assert keys[0] == keys[1] and len(keys[0]) == many["papers"]
    state = json.loads((run_dir / "run.json").read_text())
    assert state["status"] == "published"
    assert state["spool_parts_read_early"]["in_all"] == len(parts) - 1  # all but the last, before the fold
    assert not stale.exists()
