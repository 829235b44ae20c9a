"""`changes`' comparison of a unit's papers (paperset/packager/changes.py `compare_tables`): vectorized with Arrow,
it names the same fields as Python's `!=` on the rows (`differing`), nested columns and nulls included."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from paperset.packager.changes import ChangeLog, compare_tables, differing
from paperset.packager.tables import CHANGES, PAPERS

T = datetime(2025, 3, 4, 12, tzinfo=UTC)


def _row(n: int) -> dict:
    return {"paper_key": f"2503.{n:05d}", "paper_id": f"2503.{n:05d}", "title": f"title {n}", "upvotes": n,
            "authors": ["a", "b"], "similarity": float("nan") if n == 7 else None,
            "listings": [{"kind": "day", "key": "2025-03-04", "rank": n, "seen_at": T, "date": None}],
            "submitted_by": {"id": "u1", "name": "x", "fullname": None, "avatar_url": None, "type": None}
            if n % 2 else None, "provisional": n % 3 == 0, "first_seen_at": T}


def _table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=PAPERS)


def test_the_fields_named_are_those_python_finds_different(tmp_path: Path) -> None:
    old = [_row(n) for n in range(10)]
    new = [*copy.deepcopy(old[1:]), _row(10)]  # 0 removed, 10 added
    new[0]["authors"] = ["a", "c"]  # a list element (paper 1)
    new[1]["listings"][0]["rank"] = 99  # a field of a struct inside a list (paper 2)
    new[1]["upvotes"] = None  # a value to null
    new[2]["submitted_by"]["name"] = "y"  # a struct field (paper 3)
    new[3]["authors"] = []  # a list emptied (paper 4)
    new[4]["submitted_by"] = None  # a struct to null (paper 5)
    new[5]["authors"] = ["a", "b", "c"]  # a list grown; paper 6's row stays equal
    # paper 7's similarity is NaN in both rows: NaN != NaN, as Python says; paper 8 and 9 equal
    new[8]["title"] = "title 9 revised"
    log = ChangeLog(tmp_path / "log", tmp_path / "changes")
    compare_tables(log, _table(old), _table(new))
    log.close()
    expected = {r["paper_key"]: differing(o, r) for o, r in zip(_table(old[1:]).to_pylist(),
                                                                  _table(new[:9]).to_pylist(), strict=True)}
    expected = {k: v for k, v in expected.items() if v}
    assert expected == {"2503.00001": ["authors"], "2503.00002": ["upvotes", "listings"],
                        "2503.00003": ["submitted_by"], "2503.00004": ["authors"], "2503.00005": ["submitted_by"],
                        "2503.00006": ["authors"], "2503.00007": ["similarity"], "2503.00009": ["title"]}
    rows = pq.read_table(tmp_path / "changes", schema=CHANGES).select(["paper_key", "change", "fields", "before"])
    found = {r["paper_key"]: (r["change"], r["fields"]) for r in rows.to_pylist()}
    assert found == {"2503.00000": ("removed", []), "2503.00010": ("added", []),
                     **{k: ("changed", v) for k, v in expected.items()}}
    assert (log.added, log.removed, log.changed) == (1, 1, 8)
    before = {r["paper_key"]: r["before"] for r in rows.to_pylist()}
    assert before["2503.00002"] == '{"listings": [{"date": null, "key": "2025-03-04", "kind": "day", "rank": 2, ' \
        '"seen_at": "2025-03-04T12:00:00+00:00"}], "upvotes": 2}'
    assert (tmp_path / "log" / "changed.md").read_text().splitlines()[1] == "- `2503.00002`: upvotes, listings"


def test_the_same_papers_in_the_same_order_compare_as_they_are_sliced_and_chunked(tmp_path: Path) -> None:
    """Both sides holding the same papers in order (a unit of a refolded partition without new entries): the
    columns are compared without being copied out, also when they are slices of larger, chunked tables."""
    old = [_row(n) for n in range(1, 10)]
    new = copy.deepcopy(old)
    new[1]["listings"][0]["rank"] = 99
    new[2]["submitted_by"]["name"] = "y"
    new[8]["title"] = "title 9 revised"
    before = [_row(n) for n in range(20, 23)]  # rows in front: the units are slices with an offset

    def sliced(rows: list[dict]) -> pa.Table:
        table = pa.concat_tables([_table(before), _table(rows[:4]), _table(rows[4:])])  # chunked
        return table.slice(len(before))

    log = ChangeLog(tmp_path / "log", tmp_path / "changes")
    compare_tables(log, sliced(old), sliced(new))
    log.close()
    rows = pq.read_table(tmp_path / "changes", schema=CHANGES).select(["paper_key", "change", "fields"]).to_pylist()
    assert {r["paper_key"]: (r["change"], r["fields"]) for r in rows} == {
        "2503.00002": ("changed", ["listings"]), "2503.00003": ("changed", ["submitted_by"]),
        "2503.00007": ("changed", ["similarity"]), "2503.00009": ("changed", ["title"])}  # NaN != NaN, as Python says
    assert (log.added, log.removed, log.changed) == (0, 0, 4)
