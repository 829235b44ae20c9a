"""A spool line holds the entry fields in order, as JSON that reads back to the same values, whichever
encoder wrote it (orjson, or json for what orjson refuses)."""

from __future__ import annotations

import json

import pytest

from paperset.spool.schema import ENTRY_FIELDS
from paperset.spool.writer import entry_record


def test_a_line_reads_back_to_the_entry_fields_in_order() -> None:
    entry = {"title": "Ünïcode — “quotes” \\ and \n", "authors": ["A", "B"], "upvotes": 2**62,
             "similarity": 1e-05, "rank": 0, "unknown": "not a field"}
    line = entry_record(entry)
    assert "\n" not in line
    record = json.loads(line)
    assert list(record) == list(ENTRY_FIELDS)
    assert record == {name: entry.get(name) for name in ENTRY_FIELDS}
    assert "Ünïcode" in line  # UTF-8, not \\u escapes


@pytest.mark.parametrize("value", ["lone \ud800 surrogate", 2**70], ids=["surrogate", "int-past-64-bits"])
def test_what_orjson_refuses_is_written_by_json_as_before(value) -> None:
    line = entry_record({"title": value})
    assert line == json.JSONEncoder(ensure_ascii=False).encode({name: value if name == "title" else None
                                                                for name in ENTRY_FIELDS})


def test_a_value_no_encoder_can_write_is_refused() -> None:
    with pytest.raises(TypeError):
        entry_record({"title": object()})
