"""`paperset demo` (what `make demo` runs): the whole product end to end on the bundled replica, offline."""

from __future__ import annotations

import json

from .conftest import read_jsonl, run_paperset


def test_demo_crawls_every_listing_kind_and_prints_a_summary(tmp_path) -> None:
    result = run_paperset("demo", "--out", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr[-4000:]
    lines = result.stdout.strip().splitlines()
    summary = json.loads(lines[-1])
    text = "\n".join(lines[:-1])
    for label in ("pages fetched", "entries found", "entries kept", "entries dropped", "time taken", "output"):
        assert label in text
    entries = read_jsonl(tmp_path / "entries.jsonl")
    kinds = {e["listing_kind"] for e in entries}
    assert kinds == {"day", "week", "month", "search", "trending"}
    assert summary["entries_kept"] == len(entries)
    assert summary["entries_dropped"] == 0
    assert summary["listings"]["no_papers"] == 12
    assert summary["finish_reason"] == "finished"
