"""Schema evolution: a parent written before the current columns existed (the papers' derived columns,
the listings' typed date, observations' listing_date and version) still folds, and the child has them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from paperset.crawler.site.kinds import daily_kinds
from paperset.packager.build import package
from paperset.packager.manifest import problems
from paperset.packager.tables import CHANGES, OBSERVATIONS, PAPERS
from tests.conftest import corpus_spool

from .conftest import rewrite_tables

NEW_PAPERS = ("daily_date", "github_full_name", "population", "keyless", "cluster_relation")
OLD_LISTING = pa.struct([("kind", pa.string()), ("key", pa.string()), ("rank", pa.int32()),
                         ("seen_at", pa.timestamp("ms", tz="UTC"))])


def make_old(version: Path) -> None:
    """Rewrite a version's tables as the packager before these columns wrote them, manifest included."""
    papers = pq.read_table(version / "papers")
    papers = papers.drop_columns(list(NEW_PAPERS))
    listings = papers.column("listings").combine_chunks()
    flat = listings.flatten()
    old = pa.StructArray.from_arrays([flat.field(n) for n in OLD_LISTING.names], fields=list(OLD_LISTING))
    papers = papers.set_column(papers.schema.get_field_index("listings"), "listings",
                               pa.ListArray.from_arrays(listings.offsets, old))
    papers = papers.append_column("arxiv_version", pa.nulls(papers.num_rows, pa.int32()))
    observations = pq.read_table(version / "observations").drop_columns(["listing_date", "version"])
    rewrite_tables(version, {"papers": papers, "observations": observations})


def test_a_parent_without_the_new_columns_still_folds(tmp_path, corpus_path) -> None:
    now = datetime(2026, 12, 6, 9, tzinfo=UTC)
    first = package([corpus_spool(tmp_path / "s1", corpus_path, 20)], tmp_path, "ds", now=now, progress=False,
                    daily_kinds=daily_kinds())
    parent = Path(first.path)
    make_old(parent)
    assert "population" not in pq.read_schema(next((parent / "papers").glob("*.parquet"))).names
    assert problems(parent) == []
    second = package([corpus_spool(tmp_path / "s2", corpus_path, 25)], tmp_path, "ds", now=now, progress=False,
                     daily_kinds=daily_kinds())
    child = Path(second.path)
    assert (second.parent, second.added, second.changed_papers) == (first.version, 5, 20)
    papers = pq.read_table(child / "papers", schema=PAPERS).to_pylist()
    assert len(papers) == 25 and {p["population"] for p in papers} == {"daily"}
    assert [p["daily_date"] for p in papers] == [min(i["date"] for i in p["listings"]) for p in papers]
    observations = pq.read_table(child / "observations", schema=OBSERVATIONS).to_pylist()
    assert sorted({o["version"] for o in observations}) == [first.version, second.version]
    assert all(o["listing_date"] is not None for o in observations)
    changed = pq.read_table(child / "changes", schema=CHANGES).filter(pa.compute.field("change") == "changed")
    assert {tuple(f) for f in changed.column("fields").to_pylist()} == {
        ("daily_date", "population", "keyless", "listings")}
