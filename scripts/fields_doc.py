#!/usr/bin/env python3
"""Write docs/fields.md from the field table (paperset/spool/fields.py): every column with its source keys, Arrow
type, tables and description, and the fields of each nested struct, so the reference cannot drift from
the schemas. `--check` exits 1 when the file is stale (tests/spool/test_fields.py runs it); without it
the file is rewritten."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: the project's own packages first
    sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402 - after the path is set

from paperset.spool.fields import AUTHOR, FIELDS, ORGANIZATION, USER, VIEWER_DEPENDENT  # noqa: E402

DOC = ROOT / "docs" / "fields.md"

HEADER = """\
# Fields

<!-- Generated from paperset/spool/fields.py by scripts/fields_doc.py: edit the table there, then run
     `python scripts/fields_doc.py`. tests/spool/test_fields.py fails when this file is stale. -->

Every column an entry holds, where the site gives it, and which tables keep it: `entry` is the spool
line (the spool contract, paperset/spool/schema.py), `papers` and `observations` the snapshot's tables
(docs/dataset.md).

A source key is tried in order: `paper.KEY` in the paper object, `item.KEY` in the listing item around
it (the paper itself when the answer is a bare paper object), `wrapper.KEY` in the listing item only.
The API, the page's hydration JSON and the browser-rendered page carry the same objects, so each path
fills the same columns; a card-only page (no hydration JSON) has none of the 2026 fields, which stay
null. A value of the wrong type is null and counted (`paperset/bad_values/<column>[.<leaf>]/<reason>`).

Left out on purpose: the viewer-dependent keys ({viewer}), which depend on who is looking (the crawl
is anonymous). Counters that move (upvotes, num_comments, github_stars) are in `observations`, one row
per change; `papers` holds their latest value. A user reference's `follower_count` is as last seen.
Keys the site sends that no column maps are counted per endpoint by the key census (`unmapped_keys` in
run.json and the outcome line, "fields seen and not kept" on the card).

Adding a column: one `Field` in paperset/spool/fields.py (nullable, at the end: docs/snapshots.md), its source
key, then `python scripts/fields_doc.py` and `paperset fixture update` (review the diff).

| source keys | column | type | tables | description |
|---|---|---|---|---|
"""


def _type(kind: pa.DataType) -> str:
    for name, struct in (("user", USER), ("author", AUTHOR), ("organization", ORGANIZATION)):
        if kind == struct:
            return name
        if kind == pa.list_(struct):
            return f"list<{name}>"
    if pa.types.is_list(kind):
        return f"list<{_type(kind.value_type)}>"
    return str(kind).replace("timestamp[ms, tz=UTC]", "timestamp (UTC)")


def _struct_table(title: str, kind: pa.DataType) -> str:
    rows = "".join(f"| `{f.name}` | {_type(f.type)} |\n" for f in kind)
    note = "Each field is the source key in snake case (`_id` is `id`)."
    return f"\n## {title}\n\n{note}\n\n| field | type |\n|---|---|\n{rows}"


def render() -> str:
    rows = "".join(f"| {f.source_keys} | `{f.name}` | {_type(f.type)} | {', '.join(f.tables)} | {f.description} |\n"
                   for f in FIELDS)
    viewer = ", ".join(f"`{k}`" for k in sorted(VIEWER_DEPENDENT))
    return (HEADER.replace("{viewer}", viewer) + rows + _struct_table("user", USER)
            + _struct_table("author", AUTHOR) + _struct_table("organization", ORGANIZATION))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/fields.md is stale")
    args = parser.parse_args()
    text = render()
    if args.check:
        stale = not DOC.exists() or DOC.read_text(encoding="utf-8") != text
        if stale:
            print(f"{DOC} is stale: run python scripts/fields_doc.py")
        return 1 if stale else 0
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
