"""Schema evolution: a table written under an earlier schema (a parent version packaged before columns
were added or dropped) brought to the current one: columns it lacks are nulls (or a given value),
columns the current schema no longer has are dropped, structs inside lists are matched field by field."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc


def conform_array(array: pa.Array, kind: pa.DataType) -> pa.Array:
    """`array` as type `kind`: struct fields matched by name (missing ones null), lists element-wise."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if array.type == kind:
        return array
    if pa.types.is_list(kind) and pa.types.is_list(array.type):
        values = conform_array(array.flatten(), kind.value_type)
        offsets = pc.subtract(array.offsets, array.offsets[0])
        return pa.ListArray.from_arrays(offsets, values, type=kind, mask=pc.is_null(array))
    if pa.types.is_struct(kind) and pa.types.is_struct(array.type):
        names = {array.type.field(i).name for i in range(array.type.num_fields)}
        children = [conform_array(pc.struct_field(array, f.name), f.type) if f.name in names
                    else pa.nulls(len(array), f.type) for f in kind]
        return pa.StructArray.from_arrays(children, fields=list(kind), mask=pc.is_null(array))
    return array.cast(kind)


def conform(table: pa.Table, schema: pa.Schema, fill: dict[str, Any] | None = None) -> pa.Table:
    """`table` with exactly `schema`'s columns: a missing one filled with `fill[name]` (else nulls)."""
    if table.schema.equals(schema, check_metadata=False):  # written under this schema: its columns as they are
        return pa.Table.from_arrays(table.columns, schema=schema)
    fill = fill or {}
    columns = []
    for f in schema:
        if f.name in table.column_names:
            columns.append(conform_array(table.column(f.name), f.type))
        else:
            value = fill.get(f.name)
            columns.append(pa.nulls(table.num_rows, f.type) if value is None
                           else pa.array([value] * table.num_rows, f.type))
    return pa.Table.from_arrays(columns, schema=schema)
