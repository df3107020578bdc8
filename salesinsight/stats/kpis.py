"""The everyday pipeline KPIs, overall or per group, with honest intervals and censoring.

Win rates get a Wilson interval (sound for small groups and rates near 0 or 1). The median sales
cycle is a Kaplan-Meier median in which open deals count as censored at ``as_of``: a median of the
closed deals alone leaves out the slow deals still open and so understates the cycle.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

from salesinsight.exceptions import ColumnNotFoundError, InvalidValueError
from salesinsight.features.dates import as_datetime64, calendar_columns
from salesinsight.features.outcomes import deal_outcomes, recorded_durations, require_statuses
from salesinsight.stats.checks import closest_columns

__all__ = ["SUMMARY_COLUMNS", "pipeline_summary"]

SUMMARY_COLUMNS = [
    "group",
    "deals",
    "won",
    "lost",
    "open",
    "win_rate",
    "win_rate_ci_low",
    "win_rate_ci_high",
    "median_won_amount",
    "median_cycle_days",
    "velocity_per_day",
    "note",
]
_DERIVED_BY = {"created_year", "created_quarter"}


def pipeline_summary(
    data: pd.DataFrame, *, by: str | None = None, as_of: Any = None
) -> pd.DataFrame:
    """Deals, win rate, won size, sales cycle and pipeline velocity, overall or per group.

    Parameters
    ----------
    data : DataFrame
        The output of :func:`~salesinsight.features.trust.trust_features`, or canonical deals. Needs
        ``status`` and ``amount``; the cycle uses ``duration_days`` and ``closed`` when present
        and `as_of` is not given, else ``created_at`` and ``closed_at``. Not modified.
    by : str, optional
        Column to group by, e.g. ``owner``, ``segment``, ``created_quarter`` (derived from
        ``created_at`` if absent, as is ``created_year``) or ``is_repeat_customer``. Missing values
        form a group of their own. Default: one group, ``"all"``.
    as_of : date-like, optional
        Date at which open deals are censored. When given, durations are recomputed from the dates.
        Default: the data's ``duration_days``, else the latest ``created_at`` or ``closed_at``.

    Returns
    -------
    DataFrame
        One row per group, in the order of :data:`SUMMARY_COLUMNS`:

        ``group`` (the value of `by`, or ``"all"``); ``deals``, ``won``, ``lost``, ``open``
        (counts); ``win_rate`` (won / (won + lost)) with ``win_rate_ci_low`` and
        ``win_rate_ci_high`` (Wilson 95%); ``median_won_amount``; ``median_cycle_days``
        (Kaplan-Meier median of days from creation to close, won or lost, open deals censored;
        SAS convention: the first time the survival curve drops below one half); ``velocity_per_day`` (open deals x
        win rate x mean won amount / median cycle days: the won amount the open pipeline is expected
        to bring per day); ``note`` (why a value is missing, or ``""``).

    Raises
    ------
    ColumnNotFoundError
        A needed column, or `by`, is absent.
    InvalidValueError
        An unknown status, `by` not a column name, or `as_of` before every deal's creation.

    Examples
    --------
    >>> deals = pd.DataFrame({
    ...     "status": ["won", "won", "lost", "open", "won", "open"],
    ...     "owner": ["ann", "ann", "ann", "ann", "bob", "bob"],
    ...     "amount": [100.0, 300.0, 50.0, 80.0, 500.0, 90.0],
    ...     "created_at": pd.to_datetime(["2024-01-01"] * 6),
    ...     "closed_at": pd.to_datetime(
    ...         ["2024-01-11", "2024-01-31", "2024-01-21", None, "2024-01-06", None]
    ...     ),
    ... })
    >>> table = pipeline_summary(deals, by="owner", as_of="2024-03-01")
    >>> table[["group", "deals", "won", "lost", "open", "win_rate", "median_cycle_days"]]
      group  deals  won  lost  open  win_rate  median_cycle_days
    0   ann      4    2     1     1  0.666667               30.0
    1   bob      2    1     0     1  1.000000                NaN
    >>> float(table.loc[0, "velocity_per_day"])  # 1 open x 2/3 x 200 / 30 days
    4.444...
    >>> print(table.loc[1, "note"])
    Median cycle not reached: the Kaplan-Meier curve stays at or above one half (too few deals
    closed by as_of). Velocity not computable without a median cycle.
    """
    frame = _checked(data, by)
    if by is not None and by not in frame.columns:
        created = as_datetime64(frame["created_at"], column="created_at", table="deals")
        frame[by] = calendar_columns(created)[by]
    recorded = recorded_durations(frame) if as_of is None else None
    if recorded is not None:
        duration, closed = recorded[0], recorded[1].fillna(False).astype(bool)
    else:
        outcomes = deal_outcomes(frame, as_of=as_of)
        duration, closed = outcomes["duration_days"], outcomes["closed"]
    work = pd.DataFrame(
        {
            "status": frame["status"].to_numpy(),
            "amount": pd.to_numeric(frame["amount"], errors="coerce").to_numpy(dtype=float),
            "duration": duration.to_numpy(dtype=float, na_value=np.nan),
            "closed": closed.to_numpy(dtype=bool),
            "group": frame[by].array if by is not None else "all",
        }
    )
    rows = [
        _summarise(label, part) for label, part in work.groupby("group", sort=True, dropna=False)
    ]
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=_empty_dtype(c)) for c in SUMMARY_COLUMNS})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def _checked(data: pd.DataFrame, by: str | None) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise InvalidValueError(
            f"`data` must be a pandas DataFrame; received {type(data).__name__}. "
            "Pass the output of `trust_features` or the deals of `read_export`."
        )
    missing = [c for c in ("status", "amount") if c not in data.columns]
    if missing:
        raise ColumnNotFoundError(
            f"The data lack column(s) {', '.join(f'`{c}`' for c in missing)}; pipeline_summary "
            "needs `status` and `amount`. Pass the output of `trust_features` or canonical deals."
        )
    require_statuses(data["status"])
    if by is not None and not isinstance(by, str):
        raise InvalidValueError(
            f"`by` must be one column name or None; received {by!r}. Pass e.g. by='owner'."
        )
    if by is not None and by not in data.columns:
        derivable = by in _DERIVED_BY and "created_at" in data.columns
        if not derivable:
            close = closest_columns(by, data.columns)
            hint = f" Closest: {', '.join(f'`{c}`' for c in close)}." if close else ""
            raise ColumnNotFoundError(
                f"Column `{by}` (from `by`) not found in the data.{hint} Pass an existing column; "
                "proxies such as `is_repeat_customer` come from `trust_features`."
            )
    return data.reset_index(drop=True).copy(deep=False)


def _summarise(label: Any, part: pd.DataFrame) -> dict[str, Any]:
    status = part["status"]
    won, lost = int(status.eq("won").sum()), int(status.eq("lost").sum())
    open_ = int(status.eq("open").sum())
    notes = []
    closed = won + lost
    if closed:
        win_rate = won / closed
        ci_low, ci_high = proportion_confint(won, closed, alpha=0.05, method="wilson")
        # The Wilson bounds reach 0 and 1 exactly at 0% and 100%; rounding must not cut them off.
        ci_low, ci_high = min(float(ci_low), win_rate), max(float(ci_high), win_rate)
    else:
        win_rate = ci_low = ci_high = np.nan
        notes.append("No closed deals: win rate not computable.")
    won_amounts = part.loc[status.eq("won"), "amount"].dropna()
    if len(won_amounts):
        median_won, mean_won = float(won_amounts.median()), float(won_amounts.mean())
    else:
        median_won = mean_won = np.nan
        notes.append("No won deal with an amount: won amount not computable.")
    median_cycle, cycle_note = _km_median(part["duration"], part["closed"])
    if cycle_note:
        notes.append(cycle_note)
    lacking = [
        name
        for name, value in (
            ("win rate", win_rate),
            ("mean won amount", mean_won),
            ("median cycle", median_cycle),
        )
        if np.isnan(value)
    ]
    if lacking:
        velocity = np.nan
        notes.append(f"Velocity not computable without a {', '.join(lacking)}.")
    elif median_cycle == 0:
        velocity = np.nan
        notes.append("Velocity not computable: the median cycle is 0 days.")
    else:
        velocity = open_ * win_rate * mean_won / median_cycle
    return {
        "group": label,
        "deals": len(part),
        "won": won,
        "lost": lost,
        "open": open_,
        "win_rate": win_rate,
        "win_rate_ci_low": float(ci_low),
        "win_rate_ci_high": float(ci_high),
        "median_won_amount": median_won,
        "median_cycle_days": median_cycle,
        "velocity_per_day": velocity,
        "note": " ".join(notes),
    }


def _km_median(duration: pd.Series, closed: pd.Series) -> tuple[float, str]:
    """Kaplan-Meier median of `duration` with closing as the event, and why it is missing."""
    known = duration.notna() & duration.ge(0)
    left_out = int((~known).sum())
    remark = (
        f"{left_out} deal(s) without a usable duration left out of the median cycle. "
        if left_out
        else ""
    )
    if not known.any():
        return np.nan, remark + "No deal has a known duration: median cycle not computable."
    if not closed[known].any():
        return np.nan, remark + "No closed deals: median cycle not computable."
    fit = SurvfuncRight(duration[known].to_numpy(dtype=float), closed[known].to_numpy(dtype=float))
    median = float(fit.quantile(0.5))
    if np.isnan(median):
        return median, remark + (
            "Median cycle not reached: the Kaplan-Meier curve stays at or above one half "
            "(too few deals closed by as_of)."
        )
    return median, remark.strip()


def _empty_dtype(column: str) -> str:
    if column in ("deals", "won", "lost", "open"):
        return "int64"
    if column in ("group", "note"):
        return "str"
    return "float64"
