"""How each deal ended and how long it took: the outcomes every statistic of the kit reads.

Two views of a deal's end are needed, and both are derived here only:

* **as recorded** (:func:`deal_outcomes`, the outcome columns of ``trust_features``): the status
  is final; ``as_of`` is the date at which deals still open are censored;
* **as of a cut-off** (:func:`outcomes_as_of`, what ``time_to_close(as_of=...)`` analyses): the
  deals that existed at the cut-off, each as it stood then, so a deal closed later was still open
  and is censored at the cut-off.

A table that already carries ``duration_days`` and ``closed`` (the output of ``trust_features``)
is read as it is (:func:`recorded_durations`, :func:`end_states`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from salesinsight.exceptions import (
    AnalysisError,
    ColumnNotFoundError,
    DataQualityWarning,
    InvalidValueError,
)
from salesinsight.features.dates import as_datetime64, days_between, snapshot_date

__all__ = [
    "OUTCOME_COLUMNS",
    "OUTCOME_REQUIRED",
    "STATUSES",
    "checked_deals",
    "deal_outcomes",
    "end_states",
    "outcome_columns",
    "outcomes_as_of",
    "recorded_durations",
    "require_statuses",
    "won_flag",
    "won_rows",
]

OUTCOME_COLUMNS = [
    "won",
    "log_amount",
    "cycle_days",
    "duration_days",
    "closed",
    "price_realisation",
]
OUTCOME_REQUIRED = ("status", "created_at", "closed_at", "amount")
STATUSES = ("won", "lost", "open")


def require_statuses(status: pd.Series) -> None:
    """Raise :class:`InvalidValueError` unless every status is won, lost or open.

    Examples
    --------
    >>> require_statuses(pd.Series(["won", "open"]))
    >>> require_statuses(pd.Series(["won", "Closed Won"]))
    Traceback (most recent call last):
    ...
    salesinsight.exceptions.InvalidValueError: `status` must be one of won, lost, open; ...
    """
    unknown = status[~status.isin(STATUSES)]
    if len(unknown):
        shown = ", ".join(repr(v) for v in pd.unique(unknown)[:5])
        raise InvalidValueError(
            f"`status` must be one of won, lost, open; received {shown}. "
            "Map your stages onto these statuses (read_export does so)."
        )


def checked_deals(deals: pd.DataFrame, required: tuple[str, ...], *, purpose: str) -> pd.DataFrame:
    """`deals` with a default index, once its columns, ids and statuses are checked.

    Raises
    ------
    InvalidValueError
        `deals` is no DataFrame, a ``deal_id`` repeats or a status is unknown.
    ColumnNotFoundError
        A column of `required` is absent (the message says `purpose` needs it).
    """
    if not isinstance(deals, pd.DataFrame):
        raise InvalidValueError(
            f"`deals` must be a pandas DataFrame; received {type(deals).__name__}. "
            "Pass `export.deals` from `read_export`."
        )
    missing = [c for c in required if c not in deals.columns]
    if missing:
        raise ColumnNotFoundError(
            f"The deals table lacks column(s) {', '.join(f'`{c}`' for c in missing)}; "
            f"{purpose} need(s) {', '.join(f'`{c}`' for c in required)}. Pass the "
            "canonical deals of `read_export`, or rename your columns to these names."
        )
    frame = deals.reset_index(drop=True)
    ids = frame["deal_id"] if "deal_id" in frame.columns else pd.Series([], dtype=object)
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        shown = ", ".join(repr(v) for v in duplicated.unique()[:5])
        raise InvalidValueError(
            f"`deal_id` must be unique; {len(duplicated)} row(s) repeat an id ({shown}). "
            "Drop or rename the duplicates first (read_export does so with a ledger entry)."
        )
    require_statuses(frame["status"])
    return frame


def won_flag(status: pd.Series) -> pd.Series:
    """1.0 for a won deal, 0.0 for a lost one, missing for an open one (or no status).

    Examples
    --------
    >>> won_flag(pd.Series(["won", "lost", "open", None])).tolist()
    [1.0, 0.0, nan, nan]
    """
    is_won = status.eq("won").to_numpy(dtype=bool, na_value=False)
    is_lost = status.eq("lost").to_numpy(dtype=bool, na_value=False)
    return pd.Series(np.where(is_won, 1.0, np.where(is_lost, 0.0, np.nan)), index=status.index)


def won_rows(data: pd.DataFrame) -> pd.Series | None:
    """Which rows are won deals: from ``status``, else from ``won``; None without either.

    Examples
    --------
    >>> won_rows(pd.DataFrame({"won": [1.0, 0.0, np.nan]})).tolist()
    [True, False, False]
    """
    if "status" in data.columns:
        return data["status"].astype(str) == "won"
    if "won" in data.columns:
        return data["won"] == 1
    return None


def outcome_columns(
    frame: pd.DataFrame, created: np.ndarray, closed_at: np.ndarray, stamp: np.datetime64
) -> dict[str, Any]:
    """The columns :data:`OUTCOME_COLUMNS` of checked deals, open deals censored at `stamp`.

    A negative cycle (closed before created) and the duration of an open deal created after
    `stamp` are missing, each with a :class:`~salesinsight.exceptions.DataQualityWarning`.
    """
    status = frame["status"]
    won = won_flag(status).to_numpy()
    is_closed = ~np.isnan(won)
    amount = pd.to_numeric(frame["amount"], errors="coerce").to_numpy(dtype=float)
    cycle = np.where(is_closed, days_between(closed_at, created), np.nan)
    negative = cycle < 0
    if negative.any():
        warnings.warn(
            f"{negative.sum()} closed deal(s) have closed_at before created_at; their cycle_days "
            "and duration_days are set missing. Check the export's dates.",
            DataQualityWarning,
            stacklevel=3,
        )
        cycle[negative] = np.nan
    open_age = days_between(stamp, created)
    late = ~is_closed & (open_age < 0)
    if late.any():
        warnings.warn(
            f"{late.sum()} open deal(s) were created after as_of ({pd.Timestamp(stamp)}); their "
            "duration_days is missing. Pass a later as_of to include them.",
            DataQualityWarning,
            stacklevel=3,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        log_amount = np.where((won == 1.0) & (amount > 0), np.log(amount), np.nan)
        if "list_price" in frame.columns:
            price = pd.to_numeric(frame["list_price"], errors="coerce").to_numpy(dtype=float)
            realisation = np.where(price > 0, amount / price, np.nan)
        else:
            realisation = np.full(len(frame), np.nan)
    return {
        "won": won,
        "log_amount": log_amount,
        "cycle_days": cycle,
        "duration_days": np.where(is_closed, cycle, np.where(late, np.nan, open_age)),
        "closed": is_closed,
        "price_realisation": realisation,
    }


def deal_outcomes(deals: pd.DataFrame, *, as_of: Any = None) -> pd.DataFrame:
    """The outcome columns of ``trust_features`` alone, from status, dates and amounts.

    Parameters
    ----------
    deals : DataFrame
        Needs ``status``, ``created_at``, ``closed_at`` and ``amount`` (``list_price`` is used
        when present). Not modified.
    as_of : date-like, optional
        Censoring date of open deals; default the latest ``created_at`` or ``closed_at``.

    Returns
    -------
    DataFrame
        Columns :data:`OUTCOME_COLUMNS`, the index of `deals`; defined as in ``trust_features``.

    Examples
    --------
    >>> deals = pd.DataFrame({
    ...     "status": ["lost", "open"],
    ...     "created_at": pd.to_datetime(["2024-01-01", "2024-01-05"]),
    ...     "closed_at": pd.to_datetime(["2024-01-03", None]),
    ...     "amount": [10.0, 20.0],
    ... })
    >>> deal_outcomes(deals, as_of="2024-01-15")[["won", "duration_days", "closed"]]
       won  duration_days  closed
    0  0.0            2.0    True
    1  NaN           10.0   False
    """
    frame = checked_deals(deals, OUTCOME_REQUIRED, purpose="the outcomes")
    created = as_datetime64(frame["created_at"], column="created_at", table="deals")
    closed_at = as_datetime64(frame["closed_at"], column="closed_at", table="deals")
    stamp = snapshot_date(as_of, created, closed_at)
    return pd.DataFrame(outcome_columns(frame, created, closed_at, stamp), index=deals.index)


def recorded_durations(data: pd.DataFrame) -> tuple[pd.Series, pd.Series] | None:
    """``duration_days`` as floats and ``closed`` as booleans (missing kept), if both are there.

    Examples
    --------
    >>> days, closed = recorded_durations(pd.DataFrame({"duration_days": [3], "closed": [True]}))
    >>> days.tolist(), closed.tolist()
    ([3.0], [True])
    """
    if not {"duration_days", "closed"} <= set(data.columns):
        return None
    days = pd.to_numeric(data["duration_days"], errors="coerce").astype(float)
    return days, data["closed"].astype("boolean")


def end_states(data: pd.DataFrame, *, won_or_lost: bool) -> pd.Series:
    """How each deal of a table with ``closed`` ended, missing where unknown.

    From ``status`` where present; else, when `won_or_lost`, ``won``/``lost``/``open`` from
    ``won`` (which is then needed) and ``closed``; else ``closed``/``open``. A deal whose
    ``closed`` is False is ``open`` whatever its status says.

    Examples
    --------
    >>> frame = pd.DataFrame({"closed": [True, True, False], "won": [1.0, np.nan, np.nan]})
    >>> end_states(frame, won_or_lost=True).tolist(), end_states(frame, won_or_lost=False).tolist()
    (['won', nan, 'open'], ['closed', 'closed', 'open'])
    """
    closed = data["closed"].astype("boolean")
    if "status" in data.columns:
        ended = data["status"].astype(str).where(data["status"].notna())
    elif won_or_lost:
        ended = pd.Series(
            np.where(~closed, "open", np.where(data["won"] == 1, "won", "lost")),
            index=data.index,
        ).where(closed.notna() & (~closed | data["won"].notna()))
    else:
        ended = pd.Series(np.where(closed, "closed", "open"), index=data.index).where(
            closed.notna()
        )
    return ended.where(~closed.eq(False).fillna(False), "open")


def outcomes_as_of(deals: pd.DataFrame, *, as_of: Any = None) -> tuple[pd.DataFrame, pd.Timestamp]:
    """Each deal as it stood at a cut-off: days observed and how it had ended by then.

    A deal closed after the cut-off was still open then, so it is censored there; deals created
    after it did not exist yet and are left out.

    Parameters
    ----------
    deals : DataFrame
        Needs ``created_at``, ``status`` and ``closed_at``.
    as_of : date-like, optional
        The cut-off; default the latest ``created_at`` or ``closed_at``.

    Returns
    -------
    (DataFrame, Timestamp)
        ``days`` (from creation to the close or the cut-off; negative where closed before
        created, missing without dates) and ``ended`` (``won``, ``lost``, ``open``; missing
        without a status), indexed like `deals` less the deals created after the cut-off; and
        the cut-off.

    Raises
    ------
    AnalysisError
        No deal has a date, so there is no default cut-off.

    Examples
    --------
    >>> deals = pd.DataFrame({
    ...     "created_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-03-01"]),
    ...     "closed_at": pd.to_datetime(["2024-01-03", "2024-02-10", None]),
    ...     "status": ["lost", "won", "open"],
    ... })
    >>> frame, cutoff = outcomes_as_of(deals, as_of="2024-02-01")
    >>> frame
       days ended
    0   2.0  lost
    1  27.0  open
    >>> cutoff
    Timestamp('2024-02-01 00:00:00')
    """
    created = pd.to_datetime(deals["created_at"])
    closed_at = pd.to_datetime(deals["closed_at"])
    status = deals["status"].astype(str).where(deals["status"].notna())
    if as_of is None:
        cutoff = max(created.max(), closed_at.max())
        if pd.isna(cutoff):
            raise AnalysisError("No usable `created_at` dates, so no durations can be computed.")
    else:
        cutoff = pd.Timestamp(as_of)
    closed = status.isin(["won", "lost"]) & (closed_at <= cutoff)
    end = closed_at.where(closed, cutoff)
    frame = pd.DataFrame(
        {
            "days": (end - created) / pd.Timedelta(days=1),
            "ended": status.where(closed, "open").where(status.notna()),
        }
    )
    return frame.loc[~(created > cutoff)], cutoff
