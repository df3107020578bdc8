"""Engagement proxies: activities logged in a fixed window after each deal's creation.

Counting every activity of a deal would measure its length as much as its engagement (a deal open
for a year collects more calls than one won in a week) and so correlate with speed by construction.
A fixed window after creation puts every deal on the same footing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from salesinsight.exceptions import ColumnNotFoundError, InvalidValueError
from salesinsight.features.dates import as_datetime64

__all__ = ["ACTIVITY_REQUIRED", "count_in_window", "engagement_columns"]

ACTIVITY_REQUIRED = ("deal_id", "type", "occurred_at")
# (column stem, activity types counted); ``None`` counts every type.
_COUNTED: tuple[tuple[str, str | None], ...] = (
    ("meetings", "meeting"),
    ("calls", "call"),
    ("emails", "email"),
    ("activities", None),
)
_NS_PER_DAY = 86_400 * 10**9


def engagement_columns(window_days: int = 30) -> list[str]:
    """Names of the engagement columns for a window of `window_days` days, in output order.

    Examples
    --------
    >>> engagement_columns()
    ['meetings_30d', 'calls_30d', 'emails_30d', 'activities_30d']
    >>> engagement_columns(14)[0]
    'meetings_14d'
    """
    return [f"{stem}_{window_days}d" for stem, _ in _COUNTED]


def count_in_window(
    deal_ids: pd.Series,
    created_ns: np.ndarray,
    created_ok: np.ndarray,
    activities: pd.DataFrame,
    *,
    window_days: int = 30,
) -> pd.DataFrame:
    """Count each deal's activities with ``created_at <= occurred_at < created_at + window``.

    Parameters
    ----------
    deal_ids : Series
        The deals' unique ids, one per deal.
    created_ns : numpy.ndarray of int64
        The deals' creation times in nanoseconds since the epoch (any value where not `created_ok`).
    created_ok : numpy.ndarray of bool
        Whether each deal has a creation time; deals without one get missing counts.
    activities : DataFrame
        Canonical activities: ``deal_id``, ``type`` and ``occurred_at`` are used. Activities linked
        to no listed deal, or without a time, are not counted.
    window_days : int, default 30
        Length of the window after creation.

    Returns
    -------
    DataFrame
        One row per deal (positional, default index), columns :func:`engagement_columns`, dtype
        ``Int64``.

    Examples
    --------
    >>> ids = pd.Series(["a", "b"])
    >>> created = pd.to_datetime(pd.Series(["2024-01-01", "2024-03-01"]))
    >>> acts = pd.DataFrame({
    ...     "deal_id": ["a", "a", "a", "b"],
    ...     "type": ["meeting", "call", "meeting", "email"],
    ...     "occurred_at": pd.to_datetime(["2024-01-01", "2024-01-30", "2024-01-31", "2024-02-28"]),
    ... })
    >>> ns = created.to_numpy("datetime64[ns]").view("int64")
    >>> count_in_window(ids, ns, np.array([True, True]), acts)
       meetings_30d  calls_30d  emails_30d  activities_30d
    0             1          1           0               2
    1             0          0           0               0
    """
    if not isinstance(window_days, int | np.integer) or isinstance(window_days, bool):
        raise InvalidValueError(
            f"`window_days` must be a whole number of days; received {window_days!r}. "
            "Pass e.g. window_days=30."
        )
    if window_days <= 0:
        raise InvalidValueError(
            f"`window_days` must be positive; received {window_days}. Pass e.g. window_days=30."
        )
    _require_activity_columns(activities)
    n = len(deal_ids)
    # One factorisation of both id columns is much faster than an index lookup of string ids.
    both = pd.concat(
        [deal_ids.reset_index(drop=True), activities["deal_id"].reset_index(drop=True)],
        ignore_index=True,
    )
    codes, uniques = pd.factorize(both)
    deal_of_code = np.full(len(uniques) + 1, -1, dtype=np.int64)
    deal_of_code[codes[:n]] = np.arange(n)
    # Code -1 (a missing id) indexes the extra last slot, which stays -1.
    deal = deal_of_code[codes[n:]]

    occurred = as_datetime64(activities["occurred_at"], column="occurred_at", table="activities")
    linked = deal >= 0
    linked &= ~np.isnat(occurred)
    deal_linked = deal[linked]
    start = created_ns[deal_linked]
    time = occurred[linked].view("int64")
    inside = created_ok[deal_linked] & (time >= start) & (time < start + window_days * _NS_PER_DAY)
    in_deal = deal_linked[inside]
    types = activities["type"]

    columns = {}
    for name, (_, kind) in zip(engagement_columns(window_days), _COUNTED, strict=True):
        if kind is None:
            chosen = in_deal
        else:
            chosen = in_deal[types.eq(kind).to_numpy(dtype=bool, na_value=False)[linked][inside]]
        counts = pd.array(np.bincount(chosen, minlength=n), dtype="Int64")
        counts[~created_ok] = pd.NA
        columns[name] = counts
    return pd.DataFrame(columns)


def _require_activity_columns(activities: pd.DataFrame) -> None:
    if not isinstance(activities, pd.DataFrame):
        raise InvalidValueError(
            f"`activities` must be a pandas DataFrame or None; received "
            f"{type(activities).__name__}. Pass `export.activities` from `read_export`."
        )
    missing = _missing(activities.columns, ACTIVITY_REQUIRED)
    if missing:
        raise ColumnNotFoundError(
            f"The activities table lacks column(s) {', '.join(f'`{c}`' for c in missing)}; "
            f"expected {', '.join(f'`{c}`' for c in ACTIVITY_REQUIRED)}. Pass the canonical "
            "activities of `read_export`, or rename your columns."
        )


def _missing(present: pd.Index, required: Sequence[str]) -> list[str]:
    return [c for c in required if c not in present]
