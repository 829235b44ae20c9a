"""croissant.json is written without importing mlcroissant (paperset/packager/croissant.py): the document equals the
one mlcroissant's classes build from the same arguments, for the snapshot's tables and for names, versions,
descriptions, citations and creation times of every shape."""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

import pyarrow as pa
import pytest

from paperset.packager.croissant import KEYS, LICENSE, REFERENCES, croissant
from paperset.packager.tables import TABLES

BIBTEX = ("@misc{hf_papers_2026_12_01,\n"
          "  title = {{hf-papers}: Hugging Face Papers listings, version 2026.12.01},\n"
          "  howpublished = {\\url{https://huggingface.co/datasets/OWNER/hf-papers}}\n}")


def with_mlcroissant(name: str, version: str, description: str, tables: dict[str, pa.Schema], created_at: str,
                     *, url: str, cite_as: str) -> dict[str, Any]:
    """The document as paperset/packager/croissant.py built it with mlcroissant's classes before it was written
    directly (the reference)."""
    import mlcroissant as mlc

    logging.getLogger("absl").setLevel(logging.ERROR)
    kinds = {"string": mlc.DataType.TEXT, "int": mlc.DataType.INTEGER, "double": mlc.DataType.FLOAT,
             "float": mlc.DataType.FLOAT, "bool": mlc.DataType.BOOL, "timestamp": mlc.DataType.DATETIME,
             "date32": mlc.DataType.DATE}

    def data_type(kind: pa.DataType) -> Any:
        return next(v for k, v in kinds.items() if str(kind).startswith(k))

    def describe(f: pa.Field) -> str:
        return (f.metadata or {}).get(b"description", b"").decode()

    files = ""

    def field(table: str, f: pa.Field) -> Any:
        nonlocal files
        files = f"{table}-files"
        source = mlc.Source(file_set=files, extract=mlc.Extract(column=f.name))
        common: dict[str, Any] = {"id": f"{table}/{f.name}", "name": f.name, "description": describe(f)}
        if (table, f.name) in REFERENCES:
            common["references"] = mlc.Source(field=REFERENCES[table, f.name])
        return typed(common, f.type, source, [], f"{table}/{f.name}", f.name)

    def typed(common: dict[str, Any], kind: pa.DataType, source: Any, paths: list[str], at: str, column: str) -> Any:
        # A list is repeated; a struct (also a list's element) has a sub-field per field, one level deep.
        repeated = pa.types.is_list(kind)
        inner = kind.value_type if repeated else kind
        if not pa.types.is_struct(inner):
            return mlc.Field(**common, data_types=[data_type(inner)], source=source, repeated=repeated)
        subs = [typed({"id": f"{at}/{s.name}", "name": s.name, "description": describe(s)}, s.type,
                      mlc.Source(file_set=files, extract=mlc.Extract(column=column),
                                 transforms=[mlc.Transform(json_path=s.name)]), [*paths, s.name],
                      f"{at}/{s.name}", column) for s in inner if not pa.types.is_struct(s.type)]
        return mlc.Field(**common, source=source, repeated=repeated, sub_fields=subs)

    distribution = [mlc.FileSet(id=f"{t}-files", name=f"{t}-files", includes=[f"{t}/*.parquet"],
                                encoding_formats=["application/x-parquet"]) for t in tables]
    record_sets = [mlc.RecordSet(id=t, name=t, description=f"the {t} table",
                                 key=[f"{t}/{k}" for k in KEYS[t]], fields=[field(t, f) for f in schema])
                   for t, schema in tables.items()]
    metadata = mlc.Metadata(name=name, description=description, url=url, version=version, license=[LICENSE],
                            cite_as=cite_as, date_published=datetime.fromisoformat(created_at),
                            conforms_to=["http://mlcommons.org/croissant/1.0"],
                            distribution=distribution, record_sets=record_sets)
    return metadata.to_json()


CASES = [
    ("hf-papers", "2026.12.01", "Hugging Face Papers listings packaged by paperset: 61 papers.",
     "2026-12-01T03:04:05+00:00", BIBTEX),
    ("1.10", "2026.12.01.2", "a description with \"quotes\", <html> & unicode: é 論文",
     "2026-01-31T23:59:59+00:00", ""),
    ("ds", "2025.01.06", "", "2025-01-06T00:00:00+00:00", "plain citation"),  # midnight: the date alone
]


@pytest.mark.parametrize(("name", "version", "description", "created_at", "cite_as"), CASES)
def test_the_document_is_the_one_mlcroissant_builds(name, version, description, created_at, cite_as) -> None:
    url = f"https://huggingface.co/datasets/OWNER/{name}"
    ours = croissant(name, version, description, TABLES, created_at, url=url, cite_as=cite_as)
    reference = with_mlcroissant(name, version, description, TABLES, created_at, url=url, cite_as=cite_as)
    assert json.dumps(ours, indent=2, sort_keys=True) == json.dumps(reference, indent=2, sort_keys=True)


def test_a_table_with_every_column_kind_is_described_as_mlcroissant_does() -> None:
    item = pa.struct([pa.field("flag", pa.bool_(), metadata={"description": "a flag"}),
                      pa.field("x", pa.float64())])
    tables = {"papers": pa.schema([
        pa.field("paper_key", pa.string(), metadata={"description": "the key"}),
        pa.field("count", pa.int64()), pa.field("score", pa.float32()), pa.field("ok", pa.bool_()),
        pa.field("at", pa.timestamp("ms", tz="UTC")), pa.field("tags", pa.list_(pa.string())),
        pa.field("items", pa.list_(item))])}
    args = ("x", "1", "d", "2026-12-01T03:04:05+00:00")
    ours = croissant(*args[:3], tables, args[3], url="https://example.org/x", cite_as="c")
    assert ours == with_mlcroissant(*args[:3], tables, args[3], url="https://example.org/x", cite_as="c")


def test_a_column_kind_croissant_cannot_describe_is_refused() -> None:
    tables = {"papers": pa.schema([pa.field("paper_key", pa.binary())])}
    with pytest.raises(ValueError, match="no Croissant type for binary"):
        croissant("x", "1", "d", tables, "2026-12-01T03:04:05+00:00", url="https://example.org/x",
                  cite_as="c")
