"""croissant.json: Croissant metadata built with mlcroissant's classes: one FileSet and one RecordSet per
Parquet table, list columns as repeated fields (lists of structs with sub-fields), record keys, and
observations.paper_key referencing papers.paper_key."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pyarrow as pa

# Record keys, and the references between tables: facts about the snapshot's tables.
KEYS = {"papers": ["paper_key"], "observations": ["paper_key", "observed_at", "listing_kind", "listing_key", "rank"],
        "changes": ["paper_key"]}
REFERENCES = {("observations", "paper_key"): "papers/paper_key"}
LICENSE = "https://huggingface.co/terms-of-service"


def _data_type(kind: pa.DataType) -> Any:
    import mlcroissant as mlc

    if pa.types.is_string(kind):
        return mlc.DataType.TEXT
    if pa.types.is_integer(kind):
        return mlc.DataType.INTEGER
    if pa.types.is_floating(kind):
        return mlc.DataType.FLOAT
    if pa.types.is_boolean(kind):
        return mlc.DataType.BOOL
    if pa.types.is_timestamp(kind):
        return mlc.DataType.DATETIME
    raise ValueError(f"no Croissant type for {kind}")


def _description(f: pa.Field) -> str:
    return (f.metadata or {}).get(b"description", b"").decode()


def _field(table: str, f: pa.Field) -> Any:
    import mlcroissant as mlc

    files = f"{table}-files"
    source = mlc.Source(file_set=files, extract=mlc.Extract(column=f.name))
    common: dict[str, Any] = {"id": f"{table}/{f.name}", "name": f.name, "description": _description(f)}
    reference = REFERENCES.get((table, f.name))
    if reference:
        common["references"] = mlc.Source(field=reference)
    if not pa.types.is_list(f.type):
        return mlc.Field(**common, data_types=[_data_type(f.type)], source=source)
    inner = f.type.value_type
    if not pa.types.is_struct(inner):
        return mlc.Field(**common, data_types=[_data_type(inner)], source=source, repeated=True)
    subs = [mlc.Field(id=f"{table}/{f.name}/{s.name}", name=s.name, description=_description(s),
                      data_types=[_data_type(s.type)],
                      source=mlc.Source(file_set=files, extract=mlc.Extract(column=f.name),
                                        transforms=[mlc.Transform(json_path=s.name)])) for s in inner]
    return mlc.Field(**common, source=source, repeated=True, sub_fields=subs)


def croissant(name: str, version: str, description: str, tables: dict[str, pa.Schema], created_at: str,
              *, url: str, cite_as: str) -> dict[str, Any]:
    """The Croissant document of a version (JSON-LD, as mlcroissant writes it)."""
    import mlcroissant as mlc

    logging.getLogger("absl").setLevel(logging.ERROR)  # mlcroissant's recommendations go to absl warnings
    distribution = [mlc.FileSet(id=f"{t}-files", name=f"{t}-files", encoding_formats=["application/x-parquet"],
                                includes=[f"{t}/*.parquet"]) for t in tables]
    record_sets = [mlc.RecordSet(id=t, name=t, description=f"the {t} table", key=[f"{t}/{k}" for k in KEYS[t]],
                                 fields=[_field(t, f) for f in schema]) for t, schema in tables.items()]
    metadata = mlc.Metadata(name=name, description=description, url=url, version=version, license=[LICENSE],
                            cite_as=cite_as, date_published=datetime.fromisoformat(created_at),
                            conforms_to=["http://mlcommons.org/croissant/1.0"],
                            distribution=distribution, record_sets=record_sets)
    return metadata.to_json()
