"""The field table (paperset/spool/fields.py) is the one definition the schemas, the normalizer and docs/fields.md
derive from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyarrow as pa

from paperset.crawler.clean.fields import (
    BOOL_FIELDS,
    COUNT_FIELDS,
    DATE_FIELDS,
    LIST_FIELDS,
    NESTED_FIELDS,
    TEXT_FIELDS,
)
from paperset.packager.tables import OBSERVATIONS, PAPERS
from paperset.spool.fields import FIELDS, USER, column_name
from paperset.spool.schema import ENTRY

ROOT = Path(__file__).resolve().parents[2]


def test_the_fields_doc_is_fresh() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "fields_doc.py"), "--check"], capture_output=True,
                         text=True, check=False)
    assert (out.returncode, out.stdout) == (0, "")


def test_the_schemas_derive_from_the_table() -> None:
    assert ENTRY.names == [f.name for f in FIELDS if "entry" in f.tables]
    for f in FIELDS:
        assert (f.name in PAPERS.names) == ("papers" in f.tables), f.name
        if "papers" in f.tables:
            column = PAPERS.field(f.name)
            assert column.type == f.type
            assert column.metadata[b"description"].decode() == f.description
        if "observations" in f.tables:
            assert OBSERVATIONS.field(f.name).type == f.type
    # The 2026 columns come after every column an earlier version has (they are only ever added).
    first = PAPERS.names.index("provisional") + 1
    assert PAPERS.names[first:first + 12] == [
        "item_published_at", "discussion_id", "submitted_on_daily_by", "submitted_by", "author_details", "media_urls",
        "ai_summary_model", "github_repo_added_by", "is_author_participating", "withdrawn_at", "organization_info",
        "paper_source"]
    assert all(PAPERS.field(n).nullable for n in PAPERS.names[first:])
    assert PAPERS.field("submitted_by").type == USER


def test_the_normalizer_handles_every_sourced_field_by_its_kind() -> None:
    handled = {*TEXT_FIELDS, *LIST_FIELDS, *DATE_FIELDS, *COUNT_FIELDS, *BOOL_FIELDS, *(n for n, _ in NESTED_FIELDS),
               "paper_id", "github_repo", "project_page", "thumbnail"}
    assert {f.name for f in FIELDS if f.source} - handled == set()
    assert ("author_details", pa.list_(FIELDS[[f.name for f in FIELDS].index("author_details")].type.value_type)) \
        in NESTED_FIELDS


def test_struct_fields_are_named_by_their_source_key_in_snake_case() -> None:
    assert [column_name(k) for k in ("_id", "avatarUrl", "isPro", "statusLastChangedAt", "isHfAdmin", "user")] == [
        "id", "avatar_url", "is_pro", "status_last_changed_at", "is_hf_admin", "user"]
