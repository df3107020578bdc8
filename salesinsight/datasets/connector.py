"""Rows as an ELT connector writes them: typed columns, its stamps, history mode and a dirt manifest.

The warehouse builders (:mod:`~salesinsight.datasets.warehouse_salesforce`,
:mod:`~salesinsight.datasets.warehouse_hubspot`) lay a world out as a connector's tables and add
the rows a real sync holds besides the current records: soft-deleted ones (``is_deleted``), one
the connector saw deleted (``_fivetran_deleted``), earlier versions kept by history mode
(``_fivetran_active`` false) and activities whose deal is not in the sync. Each such row is listed
in the manifest (:data:`WAREHOUSE_DIRT_COLUMNS`) with its table and record id, so that a reader can
be checked for losing nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = [
    "HISTORY_END",
    "WAREHOUSE_DIRT_COLUMNS",
    "WAREHOUSE_DIRT_KINDS",
    "DirtLog",
    "booleans",
    "concat",
    "floats",
    "integers",
    "stamps",
    "synced_at",
    "texts",
]

WAREHOUSE_DIRT_COLUMNS = ["crm", "table", "record_id", "kind", "detail"]
"""The columns of a warehouse's dirt manifest."""
WAREHOUSE_DIRT_KINDS = {
    "soft_deleted": "is_deleted is true: in the vendor's recycle bin or archive",
    "connector_deleted": "_fivetran_deleted is true: the connector saw it deleted at the source",
    "inactive_version": "_fivetran_active is false: an earlier version kept by history mode",
    "orphan": "linked to a deal that is not among the current deals",
    "not_on_a_deal": "an activity on another kind of record (an account), on no deal",
}
"""Each kind of row that is not a current record of the world, and what marks it."""
HISTORY_END = pd.Timestamp("9999-12-31 23:59:59.999")
"""``_fivetran_end`` of a record's active version."""


@dataclass
class DirtLog:
    """The manifest being written: one entry per row that is not a current record of the world."""

    crm: str
    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)

    def add(self, table: str, record_ids: Iterable[Any], kind: str, detail: str = "") -> None:
        """List `record_ids` of `table` as rows of `kind` (a key of :data:`WAREHOUSE_DIRT_KINDS`)."""
        if kind not in WAREHOUSE_DIRT_KINDS:
            raise KeyError(kind)
        self.rows.extend((self.crm, table, str(r), kind, detail) for r in record_ids)

    def frame(self) -> pd.DataFrame:
        """The manifest as a table of :data:`WAREHOUSE_DIRT_COLUMNS`."""
        return pd.DataFrame(self.rows, columns=WAREHOUSE_DIRT_COLUMNS)


def synced_at(as_of: pd.Timestamp) -> pd.Timestamp:
    """When the connector last wrote the world's rows: the morning after the snapshot."""
    return pd.Timestamp(as_of) + pd.Timedelta(hours=9)


def stamps(values: Any) -> pa.Array:
    """Timestamps (naive UTC, microseconds) from datetimes, a Series or one Timestamp repeated.

    Examples
    --------
    >>> stamps(pd.Series(pd.to_datetime(["2024-01-02 10:00", None]))).to_pylist()
    [datetime.datetime(2024, 1, 2, 10, 0), None]
    """
    series = pd.Series(pd.to_datetime(pd.Series(values)), copy=False).dt.as_unit("us")
    return pa.array(series, pa.timestamp("us"), from_pandas=True)


def texts(values: Any) -> pa.Array:
    """Text cells (missing values stay missing)."""
    return pa.array(pd.Series(values, dtype=object), pa.string(), from_pandas=True)


def booleans(values: Any) -> pa.Array:
    """Booleans (missing values stay missing)."""
    return pa.array(pd.Series(values, dtype=object), pa.bool_(), from_pandas=True)


def floats(values: Any) -> pa.Array:
    """Doubles (NaN is missing)."""
    return pa.array(np.asarray(values, dtype=float), pa.float64(), from_pandas=True)


def integers(values: Any) -> pa.Array:
    """64-bit integers."""
    return pa.array(np.asarray(values, dtype=np.int64), pa.int64())


def concat(parts: Sequence[pa.Table]) -> pa.Table:
    """Tables one after the other, in the first one's columns and types; a column a later part
    lacks is missing in its rows.

    Examples
    --------
    >>> a, b = pa.table({"x": [1], "y": ["a"]}), pa.table({"x": [2]})
    >>> concat([a, b]).to_pydict()
    {'x': [1, 2], 'y': ['a', None]}
    """
    schema = parts[0].schema

    def aligned(part: pa.Table) -> pa.Table:
        columns = [
            part[f.name].cast(f.type)
            if f.name in part.column_names
            else pa.nulls(part.num_rows, f.type)
            for f in schema
        ]
        return pa.Table.from_arrays(columns, schema=schema)

    return pa.concat_tables([aligned(p) for p in parts])
