"""The connector's delete and history-mode columns, as the reason a row is not a current record.

A row of a synced table is a current record unless the vendor soft-deleted it (``is_deleted``), the
connector saw it deleted at the source (``_fivetran_deleted``), or history mode kept it as an
earlier version (``_fivetran_active`` false). :func:`drop_reason` writes that test as one engine
expression, using only the columns the table has; a missing flag counts as "not deleted" and
"active", as the connector's own dbt packages read them. Tables whose versions are the history
itself (HubSpot ``deal_stage``) keep every version.
"""

from __future__ import annotations

import dataclasses

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.io.arrow import keep_rows
from salesinsight.io.raw import RawTable
from salesinsight.io.warehouse.layout import TableLayout

__all__ = ["DROP_CODES", "DROP_REASONS", "current_rows", "drop_reason", "drop_stale_rows"]

DROP_REASONS = {
    "is_deleted": "soft-deleted in the CRM (is_deleted is true)",
    "_fivetran_deleted": "deleted at the source, as the connector saw (_fivetran_deleted is true)",
    "_fivetran_active": "an earlier version kept by history mode (_fivetran_active is false)",
}
"""The ledger's reason for each kind of row that is not a current record, by the column saying so."""
DROP_CODES = {
    DROP_REASONS["is_deleted"]: "deleted",
    DROP_REASONS["_fivetran_deleted"]: "deleted",
    DROP_REASONS["_fivetran_active"]: "history_version",
}
"""The ledger code of each reason (``deleted`` is counted by ``Export.summary``)."""


def drop_reason(table: ibis.Table, layout: TableLayout) -> ibis.Value:
    """Why each row of `table` is not a current record (a string), or null where it is.

    The first reason that applies wins, in the order of :data:`DROP_REASONS`.

    Examples
    --------
    >>> from salesinsight.io.warehouse.layout import table_layout
    >>> con = ibis.duckdb.connect()
    >>> rows = ibis.memtable({"id": ["a", "b", "c"], "is_deleted": [False, True, None],
    ...                       "_fivetran_active": [True, True, False]})
    >>> why = drop_reason(rows, table_layout("salesforce", "task"))
    >>> con.to_pyarrow(rows.select("id", why=why).order_by("id"))["why"].to_pylist()
    [None, 'soft-deleted in the CRM (is_deleted is true)', 'an earlier version kept by history mode (_fivetran_active is false)']
    """
    present = set(table.columns) & set(layout.conventions)
    branches = []
    if "is_deleted" in present:
        branches.append((table["is_deleted"].fill_null(False), DROP_REASONS["is_deleted"]))
    if "_fivetran_deleted" in present:
        branches.append(
            (table["_fivetran_deleted"].fill_null(False), DROP_REASONS["_fivetran_deleted"])
        )
    if "_fivetran_active" in present and not layout.versions_are_history:
        branches.append(
            (~table["_fivetran_active"].fill_null(True), DROP_REASONS["_fivetran_active"])
        )
    if not branches:
        return ibis.null("string")
    return ibis.cases(*branches, else_=ibis.null("string"))


def current_rows(table: ibis.Table, layout: TableLayout) -> ibis.Table:
    """The rows of `table` that are current records (see :func:`drop_reason`).

    Examples
    --------
    >>> from salesinsight.io.warehouse.layout import table_layout
    >>> rows = ibis.memtable({"id": ["a", "b"], "_fivetran_deleted": [None, True]})
    >>> con = ibis.duckdb.connect()
    >>> con.to_pyarrow(current_rows(rows, table_layout("hubspot", "owner")))["id"].to_pylist()
    ['a']
    """
    return table.filter(drop_reason(table, layout).isnull())


_TRUE = ("true", "t", "1", "yes")


def drop_stale_rows(raw: RawTable) -> RawTable:
    """`raw` without the rows a connector's flags say are not current records, which go to its
    dropped rows with their reason: a synced table dumped to CSV (``SELECT *`` keeps
    ``is_deleted``, ``_fivetran_deleted`` and ``_fivetran_active``) reads as the warehouse does.

    A table without those headers is returned as is.

    Examples
    --------
    >>> import pyarrow as pa
    >>> cells = pa.table({"id": ["a", "b", "c"], "is_deleted": ["false", "true", "false"],
    ...                   "_fivetran_active": ["true", "true", "false"]})
    >>> raw = RawTable("opportunity.csv", cells, np.array([1, 2, 3]), 3, "utf-8", ",", "csv")
    >>> kept = drop_stale_rows(raw)
    >>> kept.table["id"].to_pylist(), kept.dropped["source_row"].tolist()
    (['a'], [2, 3])
    """
    stale = np.zeros(raw.table.num_rows, dtype=bool)
    rows = []
    for column, reason in DROP_REASONS.items():
        if column not in raw.headers:
            continue
        cells = pc.utf8_lower(pc.utf8_trim_whitespace(raw.table[column].cast("string")))
        flag = pc.is_in(cells, pa.array(_TRUE, cells.type)).to_numpy(zero_copy_only=False)
        hit = ~flag if column == "_fivetran_active" else flag
        hit &= ~stale & cells.is_valid().to_numpy(zero_copy_only=False)
        stale |= hit
        rows += [(r, reason) for r in raw.source_row[hit]]
    if not rows:
        return raw
    lost = pd.DataFrame(
        {
            "source_row": [r for r, _ in rows],
            "value": None,
            "code": [DROP_CODES[why] for _, why in rows],
            "reason": [why for _, why in rows],
        }
    ).astype({"source_row": "int64"})
    dropped = pd.concat([raw.dropped, lost], ignore_index=True)
    return dataclasses.replace(
        raw, table=keep_rows(raw.table, ~stale), source_row=raw.source_row[~stale], dropped=dropped
    )
