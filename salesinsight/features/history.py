"""Each deal's history as of its creation: the deals of its account and owner that came before.

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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesinsight.features.dates import days_between

__all__ = ["HISTORY_COLUMNS", "cross_sell_flags", "history_proxies"]

HISTORY_COLUMNS = [
    "prior_won_deals",
    "prior_won_amount",
    "prior_lost_deals",
    "is_repeat_customer",
    "relationship_days",
    "same_owner_as_last",
    "owner_prior_deals",
    "is_new_product_for_account",
]


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


@dataclass(frozen=True)
class _Timeline:
    """The deals on one rank scale of times, and the queries (deals with a creation time).

    ``created_rank`` and ``closed_rank`` are ranks >= 1 on one scale for both kinds of time (0
    where unknown), so that "closed before created" compares ranks. ``by_id`` holds the deal
    rows in ``deal_id`` order, so that ties at one instant resolve alike for any row order.
    """

    created_rank: np.ndarray
    closed_rank: np.ndarray
    by_id: np.ndarray
    queries: np.ndarray

    @property
    def q_tick(self) -> np.ndarray:
        return self.created_rank[self.queries]

    def events(self, mask: np.ndarray) -> np.ndarray:
        """The deal rows where `mask` holds, in ``deal_id`` order."""
        return self.by_id[mask[self.by_id]]

    def earlier(self, events: np.ndarray, group: np.ndarray, tick: np.ndarray) -> _Earlier:
        """For every query, the `events` of its `group` with a smaller `tick`.

        `group` is indexed by deal row (codes >= 0); `tick` holds the events' ranks. Events are
        sorted stably, so events tied on (group, time) keep their ``deal_id`` order.
        """
        q_tick = self.q_tick
        width = np.int64(max(int(tick.max(initial=0)), int(q_tick.max(initial=0))) + 1)
        key = group[events] * width + tick
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        q_group = group[self.queries] * width
        lo = np.searchsorted(sorted_key, q_group, side="left")
        hi = np.searchsorted(sorted_key, q_group + q_tick, side="left")
        return _Earlier(rows=events[order], lo=lo, hi=hi)


def _timeline(frame: pd.DataFrame, created: np.ndarray, closed_at: np.ndarray) -> _Timeline:
    n = len(frame)
    created_ok = ~np.isnat(created)
    closed_ok = ~np.isnat(closed_at)
    inverse = np.unique(
        np.concatenate([created[created_ok], closed_at[closed_ok]]), return_inverse=True
    )[1]
    created_rank = np.zeros(n, dtype=np.int64)
    created_rank[created_ok] = inverse[: created_ok.sum()] + 1
    closed_rank = np.zeros(n, dtype=np.int64)
    closed_rank[closed_ok] = inverse[created_ok.sum() :] + 1
    by_id = frame["deal_id"].argsort(kind="stable").to_numpy()
    return _Timeline(created_rank, closed_rank, by_id, by_id[created_ok[by_id]])


def _codes(values: pd.Series) -> np.ndarray:
    """Integer codes of `values`, -1 where missing."""
    return pd.factorize(values)[0].astype(np.int64)


def _account_codes(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Account codes, each deal without an account a group of its own without events (a first
    deal), and whether the deal has an account."""
    account = _codes(frame["account_id"])
    has_account = account >= 0
    account[~has_account] = account.max(initial=-1) + 1 + np.arange((~has_account).sum())
    return account, has_account


def history_proxies(
    frame: pd.DataFrame, created: np.ndarray, closed_at: np.ndarray
) -> dict[str, Any]:
    """The proxies drawn from each deal's history: deals created or closed strictly before it.

    Parameters
    ----------
    frame : DataFrame
        Deals with ``deal_id`` (unique), ``account_id``, ``owner``, ``status``, ``amount`` and,
        when present, ``product``; a default index.
    created, closed_at : numpy.ndarray of datetime64[ns]
        The deals' creation and close times (NaT where unknown).

    Returns
    -------
    dict
        The columns :data:`HISTORY_COLUMNS`, as ``trust_features`` documents them.
    """
    timeline = _timeline(frame, created, closed_at)
    account, has_account = _account_codes(frame)
    created_ok = ~np.isnat(created)
    closed_ok = ~np.isnat(closed_at)
    n, queries = len(frame), timeline.queries
    amount = pd.to_numeric(frame["amount"], errors="coerce").to_numpy(dtype=float)
    owner = _codes(frame["owner"])
    closes = {}
    for status in ("won", "lost"):
        is_status = frame["status"].eq(status).to_numpy(dtype=bool)
        rows = timeline.events(is_status & closed_ok & has_account)
        closes[status] = timeline.earlier(rows, account, timeline.closed_rank[rows])
    won = closes["won"]
    dated = timeline.events(created_ok & has_account)
    return {
        "prior_won_deals": _scatter_int(n, queries, won.count),
        "prior_won_amount": _scatter_float(
            n, queries, won.cumulative(np.nan_to_num(amount), account)
        ),
        "prior_lost_deals": _scatter_int(n, queries, closes["lost"].count),
        "is_repeat_customer": _scatter_bool(n, queries, won.count > 0),
        **_relationship(timeline, account, owner, dated, created),
        "owner_prior_deals": _owner_prior_deals(timeline, owner, created_ok),
        "is_new_product_for_account": _new_product(frame, timeline, account, dated),
    }


def _relationship(
    timeline: _Timeline,
    account: np.ndarray,
    owner: np.ndarray,
    dated: np.ndarray,
    created: np.ndarray,
) -> dict[str, Any]:
    """``relationship_days`` and ``same_owner_as_last``, from the account's earlier deals."""
    n, queries = len(created), timeline.queries
    opened = timeline.earlier(dated, account, timeline.created_rank[dated])
    has_prior = opened.count > 0
    first = opened.at(opened.lo)
    relationship = np.where(has_prior, days_between(created[queries], created[first]), 0.0)
    last_owner = owner[opened.at(opened.hi - 1)]
    same_owner = has_prior & (last_owner == owner[queries])
    owner_unknown = has_prior & ((last_owner < 0) | (owner[queries] < 0))
    return {
        "relationship_days": _scatter_float(n, queries, relationship),
        "same_owner_as_last": _scatter_bool(n, queries, same_owner, owner_unknown),
    }


def _owner_prior_deals(
    timeline: _Timeline, owner: np.ndarray, created_ok: np.ndarray
) -> pd.arrays.IntegerArray:
    """Deals of the owner created before each deal (missing where the owner is unknown)."""
    owned = timeline.events(created_ok & (owner >= 0))
    by_owner = timeline.earlier(owned, np.maximum(owner, 0), timeline.created_rank[owned])
    count = _scatter_int(len(owner), timeline.queries, by_owner.count)
    count[owner < 0] = pd.NA
    return count


def _new_product(
    frame: pd.DataFrame, timeline: _Timeline, account: np.ndarray, dated: np.ndarray
) -> pd.arrays.BooleanArray:
    """Whether no deal of the account with the same product was created before each deal;
    without a product column, whether the deal is a cross-sell (a new product for an existing
    account) where the deal types tell cross-sells apart."""
    n = len(frame)
    if "product" not in frame.columns:
        return cross_sell_flags(frame)
    product = _codes(frame["product"])
    has_product = product >= 0
    pair = np.unique(
        account * (product.max(initial=0) + 1) + np.maximum(product, 0), return_inverse=True
    )[1].astype(np.int64)
    events = dated[has_product[dated]]
    seen = timeline.earlier(events, pair, timeline.created_rank[events])
    return _scatter_bool(n, timeline.queries, seen.count == 0, ~has_product[timeline.queries])


def cross_sell_flags(frame: pd.DataFrame) -> pd.arrays.BooleanArray:
    """``deal_type == "cross_sell"``, missing where the type is unknown; all missing unless some
    deal is a cross-sell (an export whose types never say so does not tell).

    Examples
    --------
    >>> cross_sell_flags(pd.DataFrame({"deal_type": ["cross_sell", "upsell", "unknown"]}))
    <BooleanArray>
    [True, False, <NA>]
    Length: 3, dtype: boolean
    """
    n = len(frame)
    kind = frame["deal_type"].astype(str) if "deal_type" in frame.columns else None
    if kind is None or not kind.eq("cross_sell").any():
        return pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
    unknown = (kind.eq("unknown") | frame["deal_type"].isna()).to_numpy(dtype=bool)
    return pd.arrays.BooleanArray(kind.eq("cross_sell").to_numpy(dtype=bool), unknown)


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
