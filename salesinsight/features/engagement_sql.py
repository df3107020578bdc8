"""Engagement proxies computed inside the engine that holds the activities: only per-deal rows leave it.

The same counts as :func:`salesinsight.features.engagement.count_in_window` (activities with
``created_at <= occurred_at < created_at + window``, by type), written as one ibis expression: a
join of the deals to their activities, a filter on the window and a grouped count. ibis compiles
it to the engine's SQL dialect, so it runs unchanged on DuckDB (the embedded default) and
PostgreSQL (both tested), and compiles for Snowflake, BigQuery, Databricks/Spark and Trino
(:func:`engagement_sql` shows the query). A warehouse with hundreds of millions of activities sends
back one row per deal.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

from salesinsight.exceptions import ColumnNotFoundError, InvalidValueError
from salesinsight.features.engagement import engagement_columns

__all__ = [
    "COUNTED_TYPES",
    "SQL_DIALECTS",
    "engagement_counts",
    "engagement_expression",
    "engagement_sql",
]

COUNTED_TYPES: dict[str, str | None] = {
    "meetings": "meeting",
    "calls": "call",
    "emails": "email",
    "activities": None,
}
"""Activity type counted under each column stem of :func:`engagement_columns` (None: every type)."""
SQL_DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery", "databricks", "pyspark", "trino")
"""Engines the expression compiles for; DuckDB and PostgreSQL run in the tests."""
_DEAL_COLUMNS = ("deal_id", "created_at")
_ACTIVITY_COLUMNS = ("deal_id", "type", "occurred_at")


def engagement_expression(
    deals: ibis.Table, activities: ibis.Table, *, window_days: int = 30
) -> ibis.Table:
    """The engagement counts of every deal, as an ibis expression (nothing runs yet).

    Parameters
    ----------
    deals : ibis.Table
        ``deal_id`` (unique) and ``created_at`` of each deal.
    activities : ibis.Table
        ``deal_id``, ``type`` and ``occurred_at`` of each activity, in the same engine: e.g.
        :func:`salesinsight.clean.warehouse_activities.warehouse_activities`.
    window_days : int, default 30
        Length of the window after each deal's creation.

    Returns
    -------
    ibis.Table
        One row per deal: ``deal_id`` then :func:`engagement_columns` (int64; null for a deal
        without ``created_at``, 0 for a deal without activity in its window).

    Examples
    --------
    >>> deals = ibis.memtable({"deal_id": ["a", "b"],
    ...                        "created_at": pd.to_datetime(["2024-01-01", None])})
    >>> acts = ibis.memtable({"deal_id": ["a", "a", "b"], "type": ["call", "meeting", "call"],
    ...                       "occurred_at": pd.to_datetime(["2024-01-05", "2024-03-01", "2024-01-02"])})
    >>> expr = engagement_expression(deals, acts).order_by("deal_id")
    >>> ibis.duckdb.connect().to_pyarrow(expr).to_pydict()["calls_30d"]
    [1, None]
    """
    window = _checked_window(window_days)
    _require(deals, _DEAL_COLUMNS, "deals")
    _require(activities, _ACTIVITY_COLUMNS, "activities")
    starts = deals.select(*_DEAL_COLUMNS)
    acts = activities.select(*_ACTIVITY_COLUMNS)
    acts = acts.filter(acts["deal_id"].notnull() & acts["occurred_at"].notnull())
    pairs = starts.inner_join(acts, "deal_id")
    start = pairs["created_at"]
    inside = pairs.filter(
        (pairs["occurred_at"] >= start)
        & (pairs["occurred_at"] < start + ibis.interval(days=window))
    )
    names = engagement_columns(window)
    counted = inside.group_by("deal_id").aggregate(
        **{
            name: inside.count(where=None if kind is None else inside["type"] == kind)
            for name, kind in zip(names, COUNTED_TYPES.values(), strict=True)
        }
    )
    joined = starts.left_join(counted, "deal_id")
    dated = joined["created_at"].notnull()
    return joined.select(
        "deal_id",
        **{
            name: ibis.ifelse(dated, joined[name].fill_null(0), ibis.null("int64")).cast("int64")
            for name in names
        },
    )


def engagement_counts(
    deals: pd.DataFrame | ibis.Table,
    activities: ibis.Table,
    *,
    window_days: int = 30,
    con: BaseBackend | None = None,
) -> pd.DataFrame:
    """Run :func:`engagement_expression` in the activities' engine and fetch one row per deal.

    Parameters
    ----------
    deals : DataFrame or ibis.Table
        ``deal_id`` and ``created_at`` of each deal. A DataFrame (e.g. the deals of an Export) is
        sent to the engine as a temporary table.
    activities : ibis.Table
        Activities with ``deal_id``, ``type`` and ``occurred_at``, kept in the engine.
    window_days : int, default 30
        Length of the window after creation.
    con : ibis backend, optional
        The engine to run in; default: the one `activities` belong to.

    Returns
    -------
    DataFrame
        ``deal_id`` then :func:`engagement_columns` (``Int64``). With a DataFrame of deals: its
        index and row order; else sorted by ``deal_id``.

    Examples
    --------
    >>> con = ibis.duckdb.connect()
    >>> acts = con.create_table("acts", pd.DataFrame({"deal_id": ["a", "a"],
    ...     "type": ["email", "email"], "occurred_at": pd.to_datetime(["2024-01-02", "2024-02-15"])}))
    >>> deals = pd.DataFrame({"deal_id": ["b", "a"], "created_at": pd.to_datetime(["2024-01-01"] * 2)})
    >>> engagement_counts(deals, acts)
      deal_id  meetings_30d  calls_30d  emails_30d  activities_30d
    0       b             0          0           0               0
    1       a             0          0           1               1
    """
    engine = con if con is not None else activities.get_backend()
    frame = deals if isinstance(deals, pd.DataFrame) else None
    if frame is not None:
        _require_frame(frame)
        deals = ibis.memtable(_upload(frame))
    table = engine.to_pyarrow(engagement_expression(deals, activities, window_days=window_days))
    counts = _as_frame(table)
    if frame is None:
        return counts.sort_values("deal_id", ignore_index=True)
    order = pd.Index(counts["deal_id"]).get_indexer(frame["deal_id"].astype(str))
    aligned = counts.take(order).reset_index(drop=True)
    aligned.index = frame.index
    return aligned


def engagement_sql(dialect: str, *, window_days: int = 30) -> str:
    """The SQL of :func:`engagement_expression` for an engine, over tables ``deals`` and
    ``activities`` of the canonical columns.

    Examples
    --------
    >>> print(engagement_sql("snowflake").splitlines()[0])
    SELECT
    >>> "COUNTIF" in engagement_sql("bigquery")
    True
    """
    if dialect not in SQL_DIALECTS:
        raise InvalidValueError(
            f"`dialect` must be one of {', '.join(map(repr, SQL_DIALECTS))}; received {dialect!r}."
        )
    deals = ibis.table({"deal_id": "string", "created_at": "timestamp"}, name="deals")
    activities = ibis.table(
        {"deal_id": "string", "type": "string", "occurred_at": "timestamp"}, name="activities"
    )
    expr = engagement_expression(deals, activities, window_days=window_days)
    return str(ibis.to_sql(expr, dialect=dialect))


def _checked_window(window_days: int) -> int:
    if not isinstance(window_days, int | np.integer) or isinstance(window_days, bool):
        raise InvalidValueError(
            f"`window_days` must be a whole number of days; received {window_days!r}. "
            "Pass e.g. window_days=30."
        )
    if window_days <= 0:
        raise InvalidValueError(
            f"`window_days` must be positive; received {window_days}. Pass e.g. window_days=30."
        )
    return int(window_days)


def _require(table: ibis.Table, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ColumnNotFoundError(
            f"The {what} lack column(s) {', '.join(f'`{c}`' for c in missing)}; expected "
            f"{', '.join(f'`{c}`' for c in columns)}. Select your columns under those names."
        )


def _require_frame(deals: pd.DataFrame) -> None:
    missing = [c for c in _DEAL_COLUMNS if c not in deals.columns]
    if missing:
        raise ColumnNotFoundError(
            f"The deals lack column(s) {', '.join(f'`{c}`' for c in missing)}; expected "
            "`deal_id` and `created_at`. Pass `export.deals` from `read_export`."
        )
    if deals["deal_id"].duplicated().any():
        raise InvalidValueError(
            "`deal_id` repeats in the deals; each deal must appear once. Pass the deals of "
            "`read_export`, which are unique."
        )


def _upload(deals: pd.DataFrame) -> pa.Table:
    created = pd.to_datetime(deals["created_at"], utc=True).dt.tz_localize(None).dt.as_unit("us")
    return pa.table(
        {
            "deal_id": pa.array(deals["deal_id"].astype(str).to_numpy(), pa.string()),
            # Microseconds: the resolution every SQL engine stores.
            "created_at": pa.array(created, pa.timestamp("us"), from_pandas=True),
        }
    )


def _as_frame(table: pa.Table) -> pd.DataFrame:
    columns: dict[str, object] = {"deal_id": table["deal_id"].to_pandas().astype(str)}
    for name in table.column_names[1:]:
        counts = table[name]
        values = pc.fill_null(counts, 0).to_numpy().astype(np.int64)
        missing = counts.is_null().to_numpy(zero_copy_only=False)
        columns[name] = pd.arrays.IntegerArray(values, missing)
    return pd.DataFrame(columns)
