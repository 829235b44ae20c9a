"""croissant.json: Croissant 1.0 metadata for the snapshot's Parquet tables (scalar columns as fields)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "cr": "http://mlcommons.org/croissant/", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "dct": "http://purl.org/dc/terms/",
    "examples": {"@id": "cr:examples", "@type": "@json"}, "extract": "cr:extract", "field": "cr:field",
    "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet",
    "format": "cr:format", "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField",
    "path": "cr:path", "rai": "http://mlcommons.org/croissant/RAI/", "recordSet": "cr:recordSet",
    "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated", "replace": "cr:replace",
    "sc": "https://schema.org/", "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField",
    "transform": "cr:transform",
}


def _data_type(kind: pa.DataType) -> str | None:
    if pa.types.is_string(kind):
        return "sc:Text"
    if pa.types.is_integer(kind):
        return "sc:Integer"
    if pa.types.is_floating(kind):
        return "sc:Float"
    if pa.types.is_boolean(kind):
        return "sc:Boolean"
    if pa.types.is_timestamp(kind):
        return "sc:DateTime"
    return None  # lists and structs: left to the Parquet schema


def croissant(name: str, version: str, description: str, tables: dict[str, pa.Schema],
              created_at: str) -> dict[str, Any]:
    """The Croissant document: one FileSet and one RecordSet per table."""
    distribution, record_sets = [], []
    for table, schema in tables.items():
        distribution.append({"@type": "cr:FileSet", "@id": f"{table}-files", "name": f"{table}-files",
                             "encodingFormat": "application/x-parquet", "includes": f"{table}/*.parquet"})
        fields = []
        for f in schema:
            data_type = _data_type(f.type)
            if data_type is None:
                continue
            fields.append({"@type": "cr:Field", "@id": f"{table}/{f.name}", "name": f.name,
                           "description": (f.metadata or {}).get(b"description", b"").decode(),
                           "dataType": data_type,
                           "source": {"fileSet": {"@id": f"{table}-files"}, "extract": {"column": f.name}}})
        record_sets.append({"@type": "cr:RecordSet", "@id": table, "name": table, "field": fields})
    return {
        "@context": CONTEXT, "@type": "sc:Dataset", "name": name, "description": description,
        "conformsTo": "http://mlcommons.org/croissant/1.0", "version": version,
        "datePublished": created_at, "license": "https://huggingface.co/terms-of-service",
        "url": "https://huggingface.co/papers", "citeAs": f"paperset dataset {name} version {version}",
        "distribution": distribution, "recordSet": record_sets,
    }
