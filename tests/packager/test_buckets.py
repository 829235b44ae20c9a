"""The fold's grouping of rows by label (paperset/packager/buckets.py `_groups`): groups in label order, each
group's rows in their order; rows already in label order (a parent's partition read in key order) are
slices of the table, sharing its buffers, not copies."""

from __future__ import annotations

import pyarrow as pa

from paperset.packager.buckets import _groups


def test_groups_come_in_label_order_with_their_rows_in_order() -> None:
    table = pa.table({"paper_key": ["c1", "a1", "c2", "b1", "a2"], "n": [0, 1, 2, 3, 4]})
    groups = [(label, part.column("n").to_pylist()) for label, part in _groups(table, pa.array([3, 1, 3, 2, 1]))]
    assert groups == [(1, [1, 4]), (2, [3]), (3, [0, 2])]


def test_rows_already_in_label_order_are_sliced_not_copied() -> None:
    table = pa.table({"paper_key": ["a1", "a2", "b1", "c1", "c2"], "n": [0, 1, 2, 3, 4]})
    groups = list(_groups(table, pa.array(["a", "a", "b", "c", "c"])))
    assert [(label, part.column("n").to_pylist()) for label, part in groups] == [
        ("a", [0, 1]), ("b", [2]), ("c", [3, 4])]
    data = table.column("paper_key").chunks[0].buffers()[2].address
    assert {part.column("paper_key").chunks[0].buffers()[2].address for _, part in groups} == {data}
