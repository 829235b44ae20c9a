"""A value that cannot be stored is rejected at validation, with a reason, never at packaging: the
validator and the Parquet schema read one definition (paperset/spool/schema.py ENTRY and its ranges)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from paperset.crawler.clean.fields import DATE_FIELDS
from paperset.crawler.pipelines.validate import ValidatePipeline
from paperset.crawler.site.kinds import daily_kinds
from paperset.packager.build import package
from paperset.packager.tables import OBSERVATIONS, PAPERS
from paperset.spool.schema import ENTRY, entry_value_problem, int_bounds
from paperset.spool.writer import SpoolWriter
from tests.conftest import good

INT_FIELDS = [f.name for f in ENTRY if pa.types.is_integer(f.type)]


def test_the_snapshot_stores_each_entry_field_with_the_entrys_type() -> None:
    for schema in (PAPERS, OBSERVATIONS):
        for field in schema:
            if field.name in ENTRY.names:
                assert field.type == ENTRY.field(field.name).type, field.name
    assert INT_FIELDS == ["arxiv_version", "upvotes", "num_comments", "github_stars", "rank", "daily_paper_rank"]
    assert int_bounds(pa.int32()) == (-(2**31), 2**31 - 1)


@pytest.mark.parametrize(("changes", "reason", "detail"), [
    ({"upvotes": 10**30}, "out_of_range", f"upvotes = {10**30} is outside 0..{2**63 - 1} (int64)"),
    ({"rank": 2**31}, "out_of_range", f"rank = {2**31} is outside 0..{2**31 - 1} (int32)"),
    ({"github_stars": 2**63}, "out_of_range", f"github_stars = {2**63} is outside 0..{2**63 - 1} (int64)"),
    ({"paper_id": "2409.12568v99999999999"}, "out_of_range",
     f"arxiv_version = 99999999999 is outside 0..{2**31 - 1} (int32)"),
    ({"similarity": float("inf")}, "bad_type", "similarity = inf is not a finite number"),
    ({"listing_kind": 5}, "bad_type", "listing_kind is int, not text"),
])
def test_a_value_that_cannot_be_stored_is_rejected_with_a_reason(chain, changes, reason, detail) -> None:
    assert chain(good(**changes)) == reason
    assert chain.rejects()[-1]["detail"] == f"{reason}: {detail}"


def test_every_value_validation_accepts_can_be_packaged(tmp_path: Path, chain) -> None:
    # The largest value of each integer field passes validation and is stored as is.
    top = {name: int_bounds(ENTRY.field(name).type)[1] for name in INT_FIELDS}
    entry = chain(good(**{**top, "paper_id": f"2409.12568v{top['arxiv_version']}"}))
    assert not isinstance(entry, str), entry
    assert all(entry_value_problem(n, getattr(entry, n, None)) is None for n in ENTRY.names)
    writer = SpoolWriter(tmp_path / "spool", {"run_id": "r", "base_url": "http://127.0.0.1", "listings": []})
    writer.write({"paper_key": entry.paper_id, **{n: getattr(entry, n, None) for n in ENTRY.names
                                                  if n != "paper_key"}})
    writer.close({})
    result = package([tmp_path / "spool"], tmp_path / "out", "ds", now=datetime(2026, 1, 1, tzinfo=UTC),
                     daily_kinds=daily_kinds())
    row = pq.read_table(Path(result.path) / "papers").to_pylist()[0]
    assert {n: row[n] for n in ("upvotes", "num_comments", "github_stars")} == {
        n: top[n] for n in ("upvotes", "num_comments", "github_stars")}
    assert "arxiv_version" not in row  # a spool field, not a papers column (the site gives no version)
    assert row["listings"][0]["rank"] == top["rank"]
    assert ValidatePipeline  # the step the chain runs


VALUES = [None, 0, 1, -1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -(2**63) - 1, True, False, 1.5, float("nan"),
          float("inf"), "", "text", "2024-05-24T17:34:15.000+00:00", ["a", "b"], ["a", 1], [], ("a",),
          {"a": 1}, b"x"]


class Text(str):
    """A str subclass: the quick test leaves it to entry_value_problem."""


@pytest.mark.parametrize("value", [*VALUES, Text("x"), [Text("x")]], ids=repr)
def test_the_validators_quick_test_accepts_only_what_the_schema_rule_accepts(value) -> None:
    """The per-field quick test (made once, for speed) never lets through what entry_value_problem refuses,
    and accepts every plain value that rule accepts."""
    from paperset.crawler.clean.checks import SCHEMA_CHECKS

    assert len(SCHEMA_CHECKS) == len(ENTRY.names) - len(DATE_FIELDS)  # the dates have their own rule
    for name, ok in SCHEMA_CHECKS:
        problem = entry_value_problem(name, value)
        if ok(value):
            assert problem is None, (name, value)
        elif not any(isinstance(v, Text) for v in (value if isinstance(value, list) else [value])):
            assert problem is not None, (name, value)
