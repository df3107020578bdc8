"""The ledger: a row for every source row the cleaners dropped and every value they changed.

A ledger frame has the columns of :data:`salesinsight.schemas.LEDGER_COLUMNS` plus an internal
``code`` (the kind of drop or fix, counted by :meth:`salesinsight.export.Export.summary`). Each
cleaning step returns the ledger rows of what it did, built here for many source rows at once;
:func:`read_drops` and :func:`read_fixes` turn what the reader dropped and repaired into ledger
rows too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from salesinsight.io.arrow import take_rows
from salesinsight.io.formats import snake_case
from salesinsight.io.raw import RawTable

__all__ = [
    "concat_ledgers",
    "empty_ledger",
    "ledger_frame",
    "ledger_where",
    "read_drops",
    "read_fixes",
]


def ledger_frame(
    source_file: str,
    source_row: np.ndarray,
    *,
    action: str,
    reason: object,
    code: str,
    column: str | None = None,
    value: object = None,
    deal_id: object = None,
    record_id: object = None,
) -> pd.DataFrame:
    """Ledger rows (plus the internal ``code``) for many source rows at once.

    `reason`, `value`, `deal_id` and `record_id` are one value for all rows or one entry per
    row; values are kept as text (missing ones stay missing).

    Examples
    --------
    >>> frame = ledger_frame("deals.csv", np.array([3, 7]), action="dropped",
    ...                      reason="exact duplicate", code="duplicate", value=[12.5, None])
    >>> frame[["source_row", "value", "action"]].values.tolist()
    [[3, '12.5', 'dropped'], [7, nan, 'dropped']]
    """
    n = len(source_row)
    frame = pd.DataFrame(
        {
            "source_file": np.full(n, source_file, dtype=object),
            "source_row": np.asarray(source_row, dtype=np.int64),
            "deal_id": _objects(deal_id, n),
            "column": np.full(n, column, dtype=object),
            "value": _objects(value, n),
            "action": np.full(n, action, dtype=object),
            "reason": _objects(reason, n),
            "code": np.full(n, code, dtype=object),
            "record_id": _objects(record_id, n),
        }
    )
    return frame


def ledger_where(
    raw: RawTable,
    mask: np.ndarray,
    *,
    action: str,
    reason: object,
    code: str,
    column: str | None = None,
    value: object = None,
    deal_id: object = None,
) -> pd.DataFrame:
    """Ledger rows for the rows of `raw` where `mask` is true.

    `reason`, `value` and `deal_id` are one value for all those rows; a list with one entry per
    masked row; given per row of the whole table (a NumPy array, a pyarrow column or the
    cleaner's ids) and taken at the masked rows; or a function of the masked rows' positions.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> raw = SimpleNamespace(name="deals.csv", source_row=np.array([1, 2, 4]))
    >>> cells = pa.array(["9e9", "12", "-3"])
    >>> frame = ledger_where(raw, np.array([True, False, True]), action="set_missing",
    ...                      reason="odd", code="odd", column="amount", value=cells)
    >>> frame[["source_row", "value"]].values.tolist()
    [[1, '9e9'], [4, '-3']]
    """
    rows = np.flatnonzero(mask)
    return ledger_frame(
        raw.name,
        raw.source_row[rows],
        action=action,
        reason=_at(reason, rows),
        code=code,
        column=column,
        value=_at(value, rows),
        deal_id=_at(deal_id, rows),
    )


def _at(value: object, rows: np.ndarray) -> object:
    if value is None or isinstance(value, str | list):
        return value
    if callable(value):
        return value(rows)
    if isinstance(value, pa.Array | pa.ChunkedArray):
        return take_rows(value, rows).to_pylist()
    return value[rows]  # type: ignore[index]


def _objects(value: object, n: int) -> np.ndarray:
    if value is None or isinstance(value, str):
        return np.full(n, value, dtype=object)
    arr = np.asarray(value, dtype=object)
    return np.array([None if _missing(v) else str(v) for v in arr], dtype=object)


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT


def empty_ledger() -> pd.DataFrame:
    """A ledger frame without rows (with the columns and types of :func:`ledger_frame`'s)."""
    # A copy of one built once: most steps of a clean file have no rows to add, and building a
    # frame costs twenty times as much as copying an empty one.
    return _EMPTY.copy()


_EMPTY = ledger_frame("", np.zeros(0, np.int64), action="dropped", reason="", code="")


def concat_ledgers(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """The rows of `frames` in their order, as one ledger frame (empty frames are left out).

    Examples
    --------
    >>> one = ledger_frame("a.csv", np.array([2]), action="dropped", reason="blank", code="blank")
    >>> concat_ledgers([one, empty_ledger(), one])["source_row"].tolist()
    [2, 2]
    >>> len(concat_ledgers([]))
    0
    """
    return pd.concat([x for x in frames if len(x)] or [empty_ledger()], ignore_index=True)


def read_drops(raw: RawTable) -> pd.DataFrame:
    """Ledger rows of the rows the reader dropped (blank rows, footers, summary rows, ...)."""
    d = raw.dropped
    if not len(d):
        return empty_ledger()
    frames = [
        ledger_frame(
            raw.name,
            g["source_row"].to_numpy(),
            action="dropped",
            reason=g["reason"].to_numpy(),
            code=code,
            value=g["value"].to_numpy(),
        )
        for code, g in d.groupby("code", sort=False)
    ]
    return pd.concat(frames, ignore_index=True)


def read_fixes(raw: RawTable, names: Mapping[str, str]) -> pd.DataFrame:
    """Ledger rows of the cells the reader repaired, in the rows `raw` still holds.

    `names` maps headers to output column names (see
    :func:`salesinsight.clean.options.column_names`). ``deal_id`` is left missing: the deals
    cleaner fills it from its ids.
    """
    fx = raw.fixed
    if not len(fx):
        return empty_ledger()
    kept = np.isin(fx["source_row"].to_numpy(), raw.source_row)
    fx = fx.loc[kept]
    return pd.DataFrame(
        {
            "source_file": raw.name,
            "source_row": fx["source_row"].to_numpy(dtype=np.int64),
            "deal_id": None,
            "column": [names.get(h, snake_case(h)) if h else None for h in fx["header"]],
            "value": fx["value"].to_numpy(dtype=object),
            "action": "fixed",
            "reason": [
                f"{r}: now `{v}`" if pd.notna(v) else r
                for r, v in zip(fx["reason"], fx["new_value"], strict=True)
            ],
            "code": "repaired_text",
            "record_id": None,
        }
    )
