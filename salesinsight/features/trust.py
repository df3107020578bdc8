"""Trust proxies as of each deal's creation, the controls and the outcomes: one row per deal.

:func:`trust_features` puts together the history of each deal's account and owner before its
creation (:mod:`salesinsight.features.history`), its engagement in a fixed window after it
(:mod:`salesinsight.features.engagement`), the controls of its creation date and account size,
and its outcomes (:mod:`salesinsight.features.outcomes`).
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from salesinsight.exceptions import InvalidValueError
from salesinsight.features.dates import as_datetime64, calendar_columns, snapshot_date
from salesinsight.features.engagement import count_in_window, engagement_columns
from salesinsight.features.engagement_sql import engagement_counts
from salesinsight.features.history import history_proxies
from salesinsight.features.outcomes import OUTCOME_COLUMNS, checked_deals, outcome_columns
from salesinsight.features.stage_amounts import STAGE_AMOUNT_COLUMNS, stage_amount_columns

__all__ = [
    "CONTROL_COLUMNS",
    "DEAL_REQUIRED",
    "PROXY_COLUMNS",
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
    stage_history: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Derive the trust proxies, controls and outcomes of every deal, as of its creation.

    Parameters
    ----------
    deals : DataFrame
        Canonical deals (see :class:`salesinsight.schemas.Deals`). Needs ``deal_id`` (unique),
        ``account_id``, ``owner``, ``created_at``, ``closed_at``, ``status``, ``amount`` and
        ``lead_source_group``; ``product``, ``employees`` and ``list_price`` are used when present.
        Not modified.
    activities : DataFrame or ibis.Table, optional
        Canonical activities (``deal_id``, ``type``, ``occurred_at``). Adds the engagement counts.
        An ibis table (the activities of :func:`~salesinsight.read_warehouse`) is counted in its
        engine, one query, and only one row per deal comes back.
    as_of : date-like, optional
        The snapshot date at which open deals are censored. Default: the latest ``created_at`` or
        ``closed_at`` of the deals.
    window_days : int, default 30
        Length of the engagement window after creation; it names the columns (``meetings_30d``).
    stage_history : DataFrame, optional
        ``Export.stage_history``: adds ``first_amount`` and ``negotiated_discount``.

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
          deals created before *t* (missing without a ``product`` value); without a ``product``
          column, d is a cross-sell (``deal_type``), where some deal is one.
        Engagement, only when `activities` is given
          ``meetings_30d``, ``calls_30d``, ``emails_30d``, ``activities_30d`` (Int64) activities
          linked to d with ``created_at <= occurred_at < created_at + window_days``; the last
          counts every type.
        Controls
          ``log_employees`` (float, only with an ``employees`` column; missing where not > 0),
          ``log_annual_revenue`` (float, only with an ``annual_revenue`` column and no
          ``employees`` one: the account size control then),
          ``created_year`` (Int64), ``created_quarter`` (str, e.g. ``"2023Q2"``).
        Outcomes
          ``won`` (float: 1.0 won, 0.0 lost, NaN open); ``log_amount`` (log of a won deal's
          amount > 0); ``cycle_days`` (closed deals: ``closed_at - created_at`` in days);
          ``duration_days`` (closed: ``cycle_days``; open: days from creation to `as_of`);
          ``closed`` (bool: won or lost); ``price_realisation`` (``amount / list_price`` where
          ``list_price > 0``; missing without a ``list_price`` column).
        Price, only when `stage_history` is given
          ``first_amount`` (float) the first amount the history records, in the reporting
          currency; ``negotiated_discount`` (float) ``1 - amount / first_amount`` for won deals
          (see :mod:`salesinsight.features.stage_amounts`).

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
    frame = checked_deals(deals, DEAL_REQUIRED, purpose="trust_features")
    replaced = [
        *feature_columns(activities=True, employees=True, window_days=window_days),
        "log_annual_revenue",
        *STAGE_AMOUNT_COLUMNS,
    ]
    deal_part = deals.drop(columns=[c for c in replaced if c in deals.columns])
    created = as_datetime64(frame["created_at"], column="created_at", table="deals")
    closed_at = as_datetime64(frame["closed_at"], column="closed_at", table="deals")
    stamp = snapshot_date(as_of, created, closed_at)

    proxies = history_proxies(frame, created, closed_at)
    group = frame["lead_source_group"]
    proxies["is_referral"] = _flag(group.eq("referral"), group.isna())
    proxies["rep_initiated"] = _flag(group.eq("outbound"), group.isna())
    parts: dict[str, Any] = {name: proxies[name] for name in PROXY_COLUMNS}

    created_ok = ~np.isnat(created)
    if activities is not None and not isinstance(activities, pd.DataFrame | type(None)):
        counts = _counted_in_engine(frame, created, activities, window_days)
        parts.update({name: counts[name].array for name in counts.columns})
    elif activities is not None:
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
    elif "annual_revenue" in frame.columns:
        revenue = pd.to_numeric(frame["annual_revenue"], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            parts["log_annual_revenue"] = np.where(revenue > 0, np.log(revenue), np.nan)
    parts.update(calendar_columns(created))
    parts.update(outcome_columns(frame, created, closed_at, stamp))
    if stage_history is not None:
        parts.update(stage_amount_columns(frame, stage_history))
    features = pd.DataFrame(parts, index=deals.index)
    return pd.concat([deal_part, features], axis=1)


def _counted_in_engine(
    frame: pd.DataFrame, created: np.ndarray, activities: Any, window_days: int
) -> pd.DataFrame:
    """The engagement counts of an ibis table of activities, computed where it is kept."""
    if not isinstance(activities, ibis.Table):
        raise InvalidValueError(
            f"`activities` must be a pandas DataFrame or None, or an ibis table; received "
            f"{type(activities).__name__}. Pass `export.activities` from `read_export` or "
            "`read_warehouse`."
        )
    deals = pd.DataFrame(
        {"deal_id": frame["deal_id"].astype(str).to_numpy(), "created_at": created}
    )
    counts = engagement_counts(deals, activities, window_days=window_days)
    counts.index = frame.index
    return counts.drop(columns="deal_id")


def _flag(values: pd.Series, missing: pd.Series) -> pd.arrays.BooleanArray:
    return pd.arrays.BooleanArray(
        values.to_numpy(dtype=bool, na_value=False), missing.to_numpy(dtype=bool)
    )
