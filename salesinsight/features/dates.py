"""The deals' dates as the features read them: parsed, differenced, cut off and calendared.

Every feature compares times as naive UTC ``datetime64[ns]`` arrays (:func:`as_datetime64`), so
proxies, outcomes and engagement windows agree on what "before" means; the snapshot date at which
open deals are censored is found one way (:func:`snapshot_date`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesinsight.exceptions import InvalidValueError

__all__ = ["as_datetime64", "calendar_columns", "days_between", "snapshot_date"]


def as_datetime64(values: pd.Series, *, column: str, table: str) -> np.ndarray:
    """Return `values` as naive UTC ``datetime64[ns]``, parsing ISO 8601 text; other text raises.

    Examples
    --------
    >>> as_datetime64(pd.Series(["2024-01-02", None]), column="created_at", table="deals")
    array(['2024-01-02T00:00:00.000000000', 'NaT'], dtype='datetime64[ns]')
    """
    if not pd.api.types.is_datetime64_any_dtype(values.dtype):
        parsed = pd.to_datetime(values, format="ISO8601", errors="coerce", utc=True)
        bad = values[parsed.isna() & values.notna()]
        if len(bad):
            raise InvalidValueError(
                f"Column `{column}` of the {table} holds {len(bad)} value(s) that are not ISO 8601 "
                f"dates, e.g. {bad.iloc[0]!r}. Pass datetimes, e.g. the {table} of `read_export`."
            )
        values = parsed
    if getattr(values.dtype, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    return values.to_numpy(dtype="datetime64[ns]")


def days_between(later: Any, earlier: Any) -> np.ndarray:
    """Days from `earlier` to `later` (datetime64 arrays or scalars), NaN where either is NaT.

    Examples
    --------
    >>> days_between(np.datetime64("2024-01-03T12:00"), np.array(["2024-01-01", "NaT"], "M8[ns]"))
    array([2.5, nan])
    """
    return np.asarray((later - earlier) / np.timedelta64(1, "D"), dtype=float)


def snapshot_date(as_of: Any, created: np.ndarray, closed_at: np.ndarray) -> np.datetime64:
    """The date open deals are censored at: `as_of`, or else the latest creation or close.

    Raises
    ------
    InvalidValueError
        `as_of` is not a date, or it is before every deal's creation.

    Examples
    --------
    >>> created = np.array(["2024-01-01", "2024-02-01"], dtype="datetime64[ns]")
    >>> closed = np.array(["2024-03-01", "NaT"], dtype="datetime64[ns]")
    >>> snapshot_date(None, created, closed), snapshot_date("2024-02-15", created, closed)
    (np.datetime64('2024-03-01T00:00:00.000000000'), np.datetime64('2024-02-15T00:00:00.000000000'))
    """
    dates = np.concatenate([created, closed_at])
    dates = dates[~np.isnat(dates)]
    if as_of is None:
        return dates.max() if len(dates) else np.datetime64("NaT", "ns")
    try:
        stamp = pd.Timestamp(as_of)
    except (ValueError, TypeError) as error:
        raise InvalidValueError(
            f"`as_of` must be a date; received {as_of!r} ({error}). Pass e.g. as_of='2024-06-30'."
        ) from error
    if pd.isna(stamp):
        return dates.max() if len(dates) else np.datetime64("NaT", "ns")
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    value = np.datetime64(stamp.as_unit("ns").asm8, "ns")
    first = created[~np.isnat(created)]
    if len(first) and value < first.min():
        raise InvalidValueError(
            f"`as_of` ({stamp}) is before every deal's creation (the first is "
            f"{pd.Timestamp(first.min())}), so no deal exists at that date. Pass a later date, or "
            "None for the latest date of the export."
        )
    return value


def calendar_columns(created: np.ndarray) -> dict[str, Any]:
    """The ``created_year`` (Int64) and ``created_quarter`` (str) controls of creation times.

    Examples
    --------
    >>> created = np.array(["2023-05-02", "NaT"], dtype="datetime64[ns]")
    >>> pd.DataFrame(calendar_columns(created))
       created_year created_quarter
    0          2023          2023Q2
    1          <NA>             NaN
    """
    ok = ~np.isnat(created)
    months = created.astype("datetime64[M]").astype(np.int64)
    # Months since 1970 -> year and quarter, without building a string per row.
    year = 1970 + np.floor_divide(months, 12)
    quarter_code = year * 4 + np.mod(months, 12) // 3
    codes, inverse = np.unique(np.where(ok, quarter_code, -1), return_inverse=True)
    labels = np.array([f"{c // 4}Q{c % 4 + 1}" if c >= 0 else None for c in codes], dtype=object)
    return {
        "created_year": pd.arrays.IntegerArray(np.where(ok, year, 0), ~ok),
        "created_quarter": pd.array(labels[inverse], dtype="str"),
    }
