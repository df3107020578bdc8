"""Trust proxies as of each deal's creation, the controls and the outcomes: one row per deal.

Every proxy of a deal is computed only from history strictly before the deal's ``created_at``: a
deal that closes, or is created, at the very same instant is not history yet. Nothing later leaks
in, so a proxy precedes the outcome it is compared with.

The computation is vectorised. Each kind of history (won deals by close time, deals by creation
time, per account, per owner, per account and product) is an event table sorted by (group, time);
a binary search of every deal's (group, created_at) in it gives how many events came strictly
before, and where the earliest and the latest of them sit. Ties between deals created at the same
instant are broken by ``deal_id``, so the result does not depend on the order of the input rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesinsight.exceptions import (
    ColumnNotFoundError,
    DataQualityWarning,
    InvalidValueError,
)
from salesinsight.features.engagement import as_datetime64, count_in_window, engagement_columns

__all__ = [
    "CONTROL_COLUMNS",
    "DEAL_REQUIRED",
    "OUTCOME_COLUMNS",
    "OUTCOME_REQUIRED",
    "PROXY_COLUMNS",
    "calendar_columns",
    "deal_outcomes",
    "engagement_columns",
    "feature_columns",
    "trust_features",
]

DEAL_REQUIRED = (
    "deal_id",
    "account_id",
    "owner",
    "created_at",
    "closed_at",
    "status",
    "amount",
    "lead_source_group",
)
PROXY_COLUMNS = [
    "prior_won_deals",
    "prior_won_amount",
    "prior_lost_deals",
    "is_repeat_customer",
    "relationship_days",
    "same_owner_as_last",
    "owner_prior_deals",
    "is_referral",
    "rep_initiated",
    "is_new_product_for_account",
]
CONTROL_COLUMNS = ["log_employees", "created_year", "created_quarter"]
OUTCOME_COLUMNS = [
    "won",
    "log_amount",
    "cycle_days",
    "duration_days",
    "closed",
    "price_realisation",
]
OUTCOME_REQUIRED = ("status", "created_at", "closed_at", "amount")
_STATUSES = ("won", "lost", "open")


def feature_columns(
    *, activities: bool = False, employees: bool = False, window_days: int = 30
) -> list[str]:
    """The columns :func:`trust_features` appends after the deal columns, in order.

    Parameters
    ----------
    activities : bool, default False
        Whether activities are given (adds the engagement counts after the proxies).
    employees : bool, default False
        Whether the deals have an ``employees`` column (adds ``log_employees``).
    window_days : int, default 30
        The engagement window, which names the engagement columns.

    Returns
    -------
    list of str
        Proxies, engagement counts, controls, outcomes.

    Examples
    --------
    >>> feature_columns()[:3]
    ['prior_won_deals', 'prior_won_amount', 'prior_lost_deals']
    >>> len(feature_columns(activities=True, employees=True))
    23
    """
    columns = list(PROXY_COLUMNS)
    if activities:
        columns += engagement_columns(window_days)
    columns += CONTROL_COLUMNS if employees else CONTROL_COLUMNS[1:]
    return columns + OUTCOME_COLUMNS


def trust_features(
    deals: pd.DataFrame,
    activities: pd.DataFrame | None = None,
    *,
    as_of: Any = None,
    window_days: int = 30,
) -> pd.DataFrame:
    """Derive the trust proxies, controls and outcomes of every deal, as of its creation.

    Parameters
    ----------
    deals : DataFrame
        Canonical deals (see :class:`salesinsight.schemas.Deals`). Needs ``deal_id`` (unique),
        ``account_id``, ``owner``, ``created_at``, ``closed_at``, ``status``, ``amount`` and
        ``lead_source_group``; ``product``, ``employees`` and ``list_price`` are used when present.
        Not modified.
    activities : DataFrame, optional
        Canonical activities (``deal_id``, ``type``, ``occurred_at``). Adds the engagement counts.
    as_of : date-like, optional
        The snapshot date at which open deals are censored. Default: the latest ``created_at`` or
        ``closed_at`` of the deals.
    window_days : int, default 30
        Length of the engagement window after creation; it names the columns (``meetings_30d``).

    Returns
    -------
    DataFrame
        A new frame with the input's index and rows in its order: the deal columns (any column
        named like an output below is replaced), then, for deal *d* of account *a* and owner *o*
        created at *t*, where "before" means strictly before *t*:

        Proxies
          ``prior_won_deals`` (Int64) a's deals won with ``closed_at`` before *t*;
          ``prior_won_amount`` (float) the sum of their known amounts;
          ``prior_lost_deals`` (Int64) a's deals lost with ``closed_at`` before *t*;
          ``is_repeat_customer`` (boolean) ``prior_won_deals > 0``;
          ``relationship_days`` (float) days since the creation of a's earliest deal created
          before *t*, 0.0 for a's first deal;
          ``same_owner_as_last`` (boolean) *o* owns a's most recent deal created before *t* (ties
          at that instant: the greatest ``deal_id``), False for a's first deal, missing when
          either owner is unknown;
          ``owner_prior_deals`` (Int64) deals of *o* created before *t* (missing if *o* is);
          ``is_referral`` / ``rep_initiated`` (boolean) ``lead_source_group`` is ``referral`` /
          ``outbound``;
          ``is_new_product_for_account`` (boolean) d's product is not among the products of a's
          deals created before *t* (missing without a ``product`` column or value).
        Engagement, only when `activities` is given
          ``meetings_30d``, ``calls_30d``, ``emails_30d``, ``activities_30d`` (Int64) activities
          linked to d with ``created_at <= occurred_at < created_at + window_days``; the last
          counts every type.
        Controls
          ``log_employees`` (float, only with an ``employees`` column; missing where not > 0),
          ``created_year`` (Int64), ``created_quarter`` (str, e.g. ``"2023Q2"``).
        Outcomes
          ``won`` (float: 1.0 won, 0.0 lost, NaN open); ``log_amount`` (log of a won deal's
          amount > 0); ``cycle_days`` (closed deals: ``closed_at - created_at`` in days);
          ``duration_days`` (closed: ``cycle_days``; open: days from creation to `as_of`);
          ``closed`` (bool: won or lost); ``price_realisation`` (``amount / list_price`` where
          ``list_price > 0``; missing without a ``list_price`` column).

        A deal without ``created_at`` gets missing history and engagement proxies, year, quarter,
        cycle and duration (its lead-source flags and ``won`` need no date). A deal without
        ``account_id`` has no account history: it is treated as its account's first deal, and is
        nobody's history. A won deal without ``closed_at`` is nobody's prior win. A negative cycle
        (closed before created) and the duration of an open deal created after `as_of` are
        missing, with a :class:`~salesinsight.exceptions.DataQualityWarning`.

    Raises
    ------
    ColumnNotFoundError
        A required column of `deals` or `activities` is absent.
    InvalidValueError
        Duplicate ``deal_id``, an unknown ``status``, dates that do not parse, or `as_of` before
        every deal's creation.

    Examples
    --------
    >>> deals = pd.DataFrame({
    ...     "deal_id": ["d1", "d2", "d3"],
    ...     "account_id": ["acme", "acme", "acme"],
    ...     "owner": ["ann", "ann", "bob"],
    ...     "created_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]),
    ...     "closed_at": pd.to_datetime(["2024-01-21", "2024-03-01", None]),
    ...     "status": ["won", "won", "open"],
    ...     "amount": [100.0, 300.0, 200.0],
    ...     "lead_source_group": ["inbound", "referral", "outbound"],
    ... })
    >>> data = trust_features(deals)
    >>> data[["deal_id", "prior_won_deals", "prior_won_amount", "relationship_days"]]
      deal_id  prior_won_deals  prior_won_amount  relationship_days
    0      d1                0               0.0                0.0
    1      d2                1             100.0               31.0
    2      d3                1             100.0               60.0

    ``d2`` closed at the instant ``d3`` was created, so it is not yet ``d3``'s history:

    >>> data[["same_owner_as_last", "owner_prior_deals", "won", "duration_days"]]
       same_owner_as_last  owner_prior_deals  won  duration_days
    0               False                  0  1.0           20.0
    1                True                  1  1.0           29.0
    2               False                  0  NaN            0.0
    """
    frame = _checked_deals(deals, DEAL_REQUIRED, purpose="trust_features")
    replaced = feature_columns(activities=True, employees=True, window_days=window_days)
    deal_part = deals.drop(columns=[c for c in replaced if c in deals.columns])
    created = as_datetime64(frame["created_at"], column="created_at", table="deals")
    closed_at = as_datetime64(frame["closed_at"], column="closed_at", table="deals")
    stamp = _as_of(as_of, created, closed_at)

    proxies = _history(frame, created, closed_at)
    group = frame["lead_source_group"]
    proxies["is_referral"] = _flag(group.eq("referral"), group.isna())
    proxies["rep_initiated"] = _flag(group.eq("outbound"), group.isna())
    parts: dict[str, Any] = {name: proxies[name] for name in PROXY_COLUMNS}

    created_ok = ~np.isnat(created)
    if activities is not None:
        counts = count_in_window(
            frame["deal_id"],
            np.where(created_ok, created.view("int64"), 0),
            created_ok,
            activities,
            window_days=window_days,
        )
        parts.update({name: counts[name].array for name in counts.columns})
    if "employees" in frame.columns:
        employees = pd.to_numeric(frame["employees"], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            parts["log_employees"] = np.where(employees > 0, np.log(employees), np.nan)
    parts.update(calendar_columns(created))
    parts.update(_outcomes(frame, created, closed_at, stamp))
    features = pd.DataFrame(parts, index=deals.index)
    return pd.concat([deal_part, features], axis=1)


def deal_outcomes(deals: pd.DataFrame, *, as_of: Any = None) -> pd.DataFrame:
    """The outcome columns of :func:`trust_features` alone, from status, dates and amounts.

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
        Columns :data:`OUTCOME_COLUMNS`, the index of `deals`; defined as in :func:`trust_features`.

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
    frame = _checked_deals(deals, OUTCOME_REQUIRED, purpose="the outcomes")
    created = as_datetime64(frame["created_at"], column="created_at", table="deals")
    closed_at = as_datetime64(frame["closed_at"], column="closed_at", table="deals")
    stamp = _as_of(as_of, created, closed_at)
    return pd.DataFrame(_outcomes(frame, created, closed_at, stamp), index=deals.index)


def _checked_deals(deals: pd.DataFrame, required: tuple[str, ...], *, purpose: str) -> pd.DataFrame:
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
    unknown = frame["status"][~frame["status"].isin(_STATUSES)]
    if len(unknown):
        shown = ", ".join(repr(v) for v in pd.unique(unknown)[:5])
        raise InvalidValueError(
            f"`status` must be one of won, lost, open; received {shown}. "
            "Map your stages onto these statuses (read_export does so)."
        )
    return frame


def _as_of(as_of: Any, created: np.ndarray, closed_at: np.ndarray) -> np.datetime64:
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


def _flag(values: pd.Series, missing: pd.Series) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(
        values.to_numpy(dtype=bool, na_value=False), missing.to_numpy(dtype=bool)
    )


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of `values`, -1 where missing."""
    return pd.factorize(values)[0].astype(np.int64)


@dataclass(frozen=True)
class _Earlier:
    """For each query, the events of its group strictly earlier than it: ``rows[lo:hi]``.

    ``rows`` are deal rows sorted by (group, time); ``lo`` and ``hi`` have one entry per query.
    """

    rows: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @property
    def count(self) -> np.ndarray:
        return self.hi - self.lo

    def at(self, positions: np.ndarray) -> np.ndarray:
        """Deal rows at `positions` of the sorted events; only meaningful where ``count > 0``."""
        if len(self.rows) == 0:
            return np.zeros(len(positions), dtype=np.int64)
        return self.rows[np.clip(positions, 0, len(self.rows) - 1)]

    def cumulative(self, values: np.ndarray, group: np.ndarray) -> np.ndarray:
        """Per query, the sum of `values` (indexed by deal row) over its earlier events."""
        if len(self.rows) == 0:
            return np.zeros(len(self.lo))
        # A running sum restarted for every group keeps each sum exact to its own terms.
        running = pd.Series(values[self.rows]).groupby(group[self.rows], sort=False).cumsum()
        before = running.to_numpy()[np.clip(self.hi - 1, 0, len(self.rows) - 1)]
        return np.where(self.count > 0, before, 0.0)


def _earlier(
    events: np.ndarray, group: np.ndarray, tick: np.ndarray, queries: np.ndarray, q_tick: np.ndarray
) -> _Earlier:
    """Locate, for every query row, the event rows of the same group with a smaller tick.

    `events` and `queries` are deal rows; `group` is indexed by deal row (codes >= 0); `tick` holds
    the events' times and `q_tick` the queries' times, as ranks >= 1 on one common scale. Events
    are sorted stably, so events tied on (group, time) keep their order in `events`.
    """
    width = np.int64(max(int(tick.max(initial=0)), int(q_tick.max(initial=0))) + 1)
    key = group[events] * width + tick
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    q_group = group[queries] * width
    lo = np.searchsorted(sorted_key, q_group, side="left")
    hi = np.searchsorted(sorted_key, q_group + q_tick, side="left")
    return _Earlier(rows=events[order], lo=lo, hi=hi)


def _history(frame: pd.DataFrame, created: np.ndarray, closed_at: np.ndarray) -> dict[str, Any]:
    """The proxies drawn from each deal's history: deals created or closed strictly before it."""
    n = len(frame)
    created_ok = ~np.isnat(created)
    closed_ok = ~np.isnat(closed_at)
    # One rank scale for both kinds of time, so that "closed before created" compares ranks.
    inverse = np.unique(
        np.concatenate([created[created_ok], closed_at[closed_ok]]), return_inverse=True
    )[1]
    created_rank = np.zeros(n, dtype=np.int64)
    created_rank[created_ok] = inverse[: created_ok.sum()] + 1
    closed_rank = np.zeros(n, dtype=np.int64)
    closed_rank[closed_ok] = inverse[created_ok.sum() :] + 1

    account = _codes(frame["account_id"])
    has_account = account >= 0
    # Each deal without an account is a group of its own without events: a first deal.
    account[~has_account] = account.max(initial=-1) + 1 + np.arange((~has_account).sum())
    owner = _codes(frame["owner"])
    is_won = frame["status"].eq("won").to_numpy(dtype=bool)
    is_lost = frame["status"].eq("lost").to_numpy(dtype=bool)
    amount = pd.to_numeric(frame["amount"], errors="coerce").to_numpy(dtype=float)

    # Deal rows in deal_id order, so that ties at one instant resolve alike for any row order.
    by_id = frame["deal_id"].argsort(kind="stable").to_numpy()
    queries = by_id[created_ok[by_id]]
    q_tick = created_rank[queries]

    def events(mask: np.ndarray) -> np.ndarray:
        return by_id[mask[by_id]]

    won_rows = events(is_won & closed_ok & has_account)
    won = _earlier(won_rows, account, closed_rank[won_rows], queries, q_tick)
    lost_rows = events(is_lost & closed_ok & has_account)
    lost = _earlier(lost_rows, account, closed_rank[lost_rows], queries, q_tick)

    dated = events(created_ok & has_account)
    opened = _earlier(dated, account, created_rank[dated], queries, q_tick)
    has_prior = opened.count > 0
    first = opened.at(opened.lo)
    relationship = np.where(has_prior, _days(created[queries], created[first]), 0.0)
    last_owner = owner[opened.at(opened.hi - 1)]
    same_owner = has_prior & (last_owner == owner[queries])
    owner_unknown = has_prior & ((last_owner < 0) | (owner[queries] < 0))

    owned = events(created_ok & (owner >= 0))
    by_owner = _earlier(owned, np.maximum(owner, 0), created_rank[owned], queries, q_tick)
    owner_count = _scatter_int(n, queries, by_owner.count)
    owner_count[owner < 0] = pd.NA

    return {
        "prior_won_deals": _scatter_int(n, queries, won.count),
        "prior_won_amount": _scatter_float(
            n, queries, won.cumulative(np.nan_to_num(amount), account)
        ),
        "prior_lost_deals": _scatter_int(n, queries, lost.count),
        "is_repeat_customer": _scatter_bool(n, queries, won.count > 0),
        "relationship_days": _scatter_float(n, queries, relationship),
        "same_owner_as_last": _scatter_bool(n, queries, same_owner, owner_unknown),
        "owner_prior_deals": owner_count,
        "is_new_product_for_account": _new_product(
            frame, account, events(created_ok & has_account), created_rank, queries, q_tick
        ),
    }


def _new_product(
    frame: pd.DataFrame,
    account: np.ndarray,
    dated: np.ndarray,
    created_rank: np.ndarray,
    queries: np.ndarray,
    q_tick: np.ndarray,
) -> pd.arrays.BooleanArray:
    """Whether no deal of the account with the same product was created before each deal."""
    n = len(frame)
    if "product" not in frame.columns:
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    product = _codes(frame["product"])
    has_product = product >= 0
    pair = np.unique(
        account * (product.max(initial=0) + 1) + np.maximum(product, 0), return_inverse=True
    )[1].astype(np.int64)
    events = dated[has_product[dated]]
    seen = _earlier(events, pair, created_rank[events], queries, q_tick)
    return _scatter_bool(n, queries, seen.count == 0, ~has_product[queries])


def _days(later: Any, earlier: Any) -> np.ndarray:
    """Days from `earlier` to `later` (datetime64 arrays or scalars), NaN where either is NaT."""
    return np.asarray((later - earlier) / np.timedelta64(1, "D"), dtype=float)


def _scatter_int(n: int, rows: np.ndarray, values: np.ndarray) -> pd.arrays.IntegerArray:
    data = np.zeros(n, dtype=np.int64)
    mask = np.ones(n, dtype=bool)
    data[rows] = values
    mask[rows] = False
    return pd.arrays.IntegerArray(data, mask)


def _scatter_float(n: int, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    data = np.full(n, np.nan)
    data[rows] = values
    return data


def _scatter_bool(
    n: int, rows: np.ndarray, values: np.ndarray, missing: np.ndarray | None = None
) -> pd.arrays.BooleanArray:
    data = np.zeros(n, dtype=bool)
    mask = np.ones(n, dtype=bool)
    data[rows] = values
    mask[rows] = False if missing is None else missing
    return pd.arrays.BooleanArray(data, mask)


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


def _outcomes(
    frame: pd.DataFrame, created: np.ndarray, closed_at: np.ndarray, stamp: np.datetime64
) -> dict[str, Any]:
    status = frame["status"]
    is_won = status.eq("won").to_numpy(dtype=bool)
    is_closed = is_won | status.eq("lost").to_numpy(dtype=bool)
    amount = pd.to_numeric(frame["amount"], errors="coerce").to_numpy(dtype=float)

    cycle = np.where(is_closed, _days(closed_at, created), np.nan)
    negative = cycle < 0
    if negative.any():
        warnings.warn(
            f"{negative.sum()} closed deal(s) have closed_at before created_at; their cycle_days "
            "and duration_days are set missing. Check the export's dates.",
            DataQualityWarning,
            stacklevel=3,
        )
        cycle[negative] = np.nan
    open_age = _days(stamp, created)
    late = ~is_closed & (open_age < 0)
    if late.any():
        warnings.warn(
            f"{late.sum()} open deal(s) were created after as_of ({pd.Timestamp(stamp)}); their "
            "duration_days is missing. Pass a later as_of to include them.",
            DataQualityWarning,
            stacklevel=3,
        )
    duration = np.where(is_closed, cycle, np.where(late, np.nan, open_age))

    with np.errstate(divide="ignore", invalid="ignore"):
        log_amount = np.where(is_won & (amount > 0), np.log(amount), np.nan)
        if "list_price" in frame.columns:
            price = pd.to_numeric(frame["list_price"], errors="coerce").to_numpy(dtype=float)
            realisation = np.where(price > 0, amount / price, np.nan)
        else:
            realisation = np.full(len(frame), np.nan)
    return {
        "won": np.where(is_won, 1.0, np.where(is_closed, 0.0, np.nan)),
        "log_amount": log_amount,
        "cycle_days": cycle,
        "duration_days": duration,
        "closed": is_closed,
        "price_realisation": realisation,
    }
