"""croissant.json: the Croissant 1.0 metadata of a version: one FileSet and one RecordSet per Parquet table,
list columns as repeated fields (lists of structs with sub-fields), record keys, and observations.paper_key
referencing papers.paper_key.

Written as plain JSON-LD: the document mlcroissant 1.1's classes write for the same arguments
(`Metadata(...).to_json()`), without importing mlcroissant, which costs about half a second (networkx,
rdflib, pandas), more than the rest of packaging a small run. tests/packager/test_croissant_document.py
builds the same documents with mlcroissant's classes and requires them equal; other tests load every record
set through mlcroissant."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

import pyarrow as pa

# Record keys, and the references between tables: facts about the snapshot's tables.
KEYS = {"papers": ["paper_key"], "observations": ["paper_key", "observed_at", "listing_kind", "listing_key", "rank"],
        "changes": ["paper_key"]}
REFERENCES = {("observations", "paper_key"): "papers/paper_key"}
LICENSE = "https://huggingface.co/terms-of-service"
CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
PARQUET = "application/x-parquet"
# mlcroissant's JSON-LD context for a Croissant 1.0 document (mlcroissant._src.core.rdf.make_context).
CONTEXT: dict[str, Any] = {
    "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs", "column": "cr:column",
    "conformsTo": "dct:conformsTo", "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty", "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract", "field": "cr:field", "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject", "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5",
    "parentField": "cr:parentField", "path": "cr:path", "recordSet": "cr:recordSet",
    "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated", "replace": "cr:replace",
    "samplingRate": "cr:samplingRate", "sc": "https://schema.org/", "separator": "cr:separator",
    "source": "cr:source", "subField": "cr:subField", "transform": "cr:transform",
}


def _data_type(kind: pa.DataType) -> str:
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
    if pa.types.is_date(kind):
        return "sc:Date"
    raise ValueError(f"no Croissant type for {kind}")


def _description(f: pa.Field) -> str:
    return (f.metadata or {}).get(b"description", b"").decode()


def _node(kind: str, **values: Any) -> dict[str, Any]:
    """A node as mlcroissant writes it: its type, and only the values that are not empty."""
    return {"@type": kind, **{k: v for k, v in values.items() if v or isinstance(v, bool)}}


def _field(table: str, f: pa.Field) -> dict[str, Any]:
    files = {"@id": f"{table}-files"}
    source = {"extract": {"column": f.name}, "fileSet": files}
    reference = REFERENCES.get((table, f.name))
    common: dict[str, Any] = {"@id": f"{table}/{f.name}", "name": f.name, "description": _description(f),
                              "references": {"field": {"@id": reference}} if reference else None}
    return _typed(common, f.type, source, f"{table}/{f.name}")


def _typed(common: dict[str, Any], kind: pa.DataType, source: dict[str, Any], at: str) -> dict[str, Any]:
    """A field node of Arrow type `kind`: a list is repeated, a struct has a sub-field per field. A struct
    inside a struct (a claimed author's user) is left out of the document: mlcroissant reads one level
    of sub-fields only; the Parquet column holds it."""
    repeated = pa.types.is_list(kind)
    inner = kind.value_type if repeated else kind
    if not pa.types.is_struct(inner):
        return _node("cr:Field", **common, dataType=_data_type(inner), source=source, repeated=repeated)
    subs = [_typed({"@id": f"{at}/{s.name}", "name": s.name, "description": _description(s)}, s.type,
                   {**source, "transform": {"jsonPath": s.name}}, f"{at}/{s.name}") for s in inner
            if not pa.types.is_struct(s.type)]
    return _node("cr:Field", **common, source=source, repeated=repeated, subField=subs)


def _date(created_at: str) -> str:
    """schema.org Date or DateTime, as mlcroissant writes a datetime (midnight: the date alone)."""
    moment = datetime.fromisoformat(created_at)
    return moment.strftime("%Y-%m-%d") if moment.time() == time.min else \
        moment.isoformat().replace("+00:00", "Z")


def croissant(name: str, version: str, description: str, tables: dict[str, pa.Schema], created_at: str,
              *, url: str, cite_as: str) -> dict[str, Any]:
    """The Croissant document of a version (JSON-LD, as mlcroissant writes it)."""
    distribution = [_node("cr:FileSet", **{"@id": f"{t}-files"}, name=f"{t}-files", encodingFormat=PARQUET,
                          includes=f"{t}/*.parquet") for t in tables]
    record_sets = []
    for t, schema in tables.items():
        keys = [{"@id": f"{t}/{k}"} for k in KEYS[t]]
        record_sets.append(_node("cr:RecordSet", **{"@id": t}, name=t, description=f"the {t} table",
                                 key=keys[0] if len(keys) == 1 else keys,
                                 field=[_field(t, f) for f in schema]))
    return {"@context": CONTEXT, **_node("sc:Dataset", name=name, description=description, url=url,
                                         version=version, license=LICENSE, citeAs=cite_as,
                                         datePublished=_date(created_at), conformsTo=CONFORMS_TO,
                                         distribution=distribution, recordSet=record_sets)}
