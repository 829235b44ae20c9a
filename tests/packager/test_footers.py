"""Footer facts read once per file identity (paperset/packager/footers.py): the same facts as the footer
says, a hard link answered from the first read, a file written again read again."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from paperset.packager import footers
from paperset.packager.footers import Footer, footer


def write(path, flags, ids, groups=2):
    pq.write_table(pa.table({"flag": pa.array(flags, pa.bool_()), "id": pa.array(ids, pa.string())}), path,
                   row_group_size=groups)


def test_facts_from_the_statistics(tmp_path):
    write(tmp_path / "a.parquet", [False, False, False, True], [None, None, None, None])
    write(tmp_path / "b.parquet", [False, None, False], [None, "x", None])
    a, b = footer(tmp_path / "a.parquet"), footer(tmp_path / "b.parquet")
    assert (a.rows, a.may_be_true, a.all_null) == (4, frozenset({"flag"}), frozenset({"id"}))
    assert (b.rows, b.may_be_true, b.all_null) == (3, frozenset(), frozenset())  # "id" is no boolean
    meta = pq.read_metadata(tmp_path / "a.parquet")
    assert a.data_bytes == sum(meta.row_group(g).total_byte_size for g in range(meta.num_row_groups))


def test_read_once_per_identity(tmp_path, monkeypatch):
    path, linked = tmp_path / "a.parquet", tmp_path / "linked.parquet"
    write(path, [False, False], ["p", "q"])
    os.link(path, linked)
    reads = []
    real = footers._read
    monkeypatch.setattr(footers, "_read", lambda p: reads.append(p.name) or real(p))
    first = footer(path)
    assert footer(linked) is first  # a hard link: the same file
    write(tmp_path / "new.parquet", [True], ["r"])
    (tmp_path / "new.parquet").replace(path)  # written again: another inode
    assert footer(path) == Footer(1, footer(path).data_bytes, frozenset({"flag"}), frozenset())
    assert reads == ["a.parquet", "a.parquet"]
