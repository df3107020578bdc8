"""Account-years: the panel on which claims about a relationship's yield over time are tested.

Deal-level data cannot say how often an account buys; an account-year panel can. Each account is
followed from its first deal to the snapshot date, one row per calendar year it was observed, with
the time observed as exposure so that a partial first or last year counts for what it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from salesinsight.stats.checks import require_columns

__all__ = ["PANEL_COLUMNS", "account_years"]

PANEL_COLUMNS = [
    "account_id",
    "year",
    "exposure_years",
    "relationship_years",
    "prior_won_deals",
    "is_repeat_customer",
    "opportunities",
    "proactive_opportunities",
    "won_revenue",
]
ACCOUNT_LEVEL = ("log_employees", "industry", "segment")
_YEAR = pd.Timedelta(days=365.25)


def _flag(data: pd.DataFrame, column: str) -> pd.Series:
    if column not in data.columns:
        return pd.Series(False, index=data.index)
    return data[column].astype("boolean").fillna(False).astype(bool)


def _lookup(times: pd.Series, keys: pd.Series) -> pd.Series:
    """The time of each key's account (NaT where it has none), aligned with `keys`."""
    values = times.astype("datetime64[ns]").reindex(keys.to_numpy()).to_numpy()
    return pd.Series(values, index=keys.index, dtype="datetime64[ns]")


def account_years(data: pd.DataFrame, *, as_of: Any = None) -> pd.DataFrame:
    """One row per account and calendar year, from the account's first deal to `as_of`.

    The account's first deal opens the relationship and is not counted among its opportunities
    or revenue, so a young relationship is not credited with the deal that started it. Deals
    count in the year they were created in, their revenue too (if they were won by `as_of`), so
    the months a young relationship's deals take to close do not look like a slow start. Rows
    are cut by the calendar only and described as of their start.

    Parameters
    ----------
    data : DataFrame
        One row per deal with ``account_id``, ``created_at``, ``status`` and ``closed_at``;
        ``amount``, ``rep_initiated``, ``is_new_product_for_account``, ``log_employees``,
        ``industry`` and ``segment`` are used where present (e.g. ``trust_features`` output).
    as_of : date-like, optional
        Snapshot date ending the last year; default the latest created or closed date.

    Returns
    -------
    DataFrame
        ``account_id, year, exposure_years`` (years observed, at most 1),
        ``relationship_years`` (age of the relationship at the middle of the observed part of the
        year), ``prior_won_deals`` (won deals closed by the row's start), ``is_repeat_customer``
        (``prior_won_deals > 0``), ``opportunities`` (deals created in the year),
        ``proactive_opportunities`` (of which rep-initiated or of a product new to the account;
        missing without either column), ``won_revenue`` (amounts of those deals that were won;
        missing without ``amount``), then the account's latest ``log_employees``, ``industry``,
        ``segment`` where present.

    Examples
    --------
    >>> deals = pd.DataFrame({
    ...     "account_id": ["A", "A", "A", "B"],
    ...     "created_at": pd.to_datetime(["2022-07-02", "2023-03-01", "2023-09-01", "2023-01-01"]),
    ...     "closed_at": pd.to_datetime(["2022-08-01", "2023-04-01", None, "2023-02-01"]),
    ...     "status": ["won", "won", "open", "lost"],
    ...     "amount": [100.0, 250.0, 80.0, 40.0],
    ... })
    >>> panel = account_years(deals, as_of="2024-01-01")
    >>> panel[["account_id", "year", "exposure_years", "prior_won_deals", "opportunities"]]
      account_id  year  exposure_years  prior_won_deals  opportunities
    0          A  2022        0.501027                0              0
    1          A  2023        0.999316                1              2
    2          B  2023        0.999316                0              0
    >>> panel["won_revenue"].tolist()
    [0.0, 250.0, 0.0]
    """
    require_columns(data, ["account_id", "created_at", "status", "closed_at"], argument="data")
    created = pd.to_datetime(data["created_at"]).astype("datetime64[ns]")
    usable = data["account_id"].notna() & created.notna()
    deals = _panel_deals(data, created).loc[usable]
    cutoff = (
        pd.Timestamp(as_of)
        if as_of is not None
        else max(deals["created_at"].max(), deals["closed_at"].max())
    )
    deals = deals.loc[deals["created_at"] <= cutoff].sort_values(
        ["account_id", "created_at"], kind="stable"
    )
    first_deal = ~deals["account_id"].duplicated()
    first = deals.loc[first_deal].set_index("account_id")["created_at"]
    panel = _account_year_rows(first, cutoff)
    panel["prior_won_deals"] = _prior_won_deals(panel, deals)
    # Status as of the row's start: rows are cut by the calendar only, never at an event of the
    # account's own deals, which would make a row's length depend on what is counted in it.
    panel["is_repeat_customer"] = panel["prior_won_deals"] > 0
    panel = _yearly_counts(panel, deals, first_deal, data)
    present = [c for c in ACCOUNT_LEVEL if c in data.columns]
    if not present:
        return panel[PANEL_COLUMNS]
    # Each account's latest values, in the order its deals were created.
    order = pd.Index(created.loc[usable].sort_values(kind="stable").index)
    latest = (
        data.loc[order, ["account_id", *present]]
        .assign(account_id=lambda f: f["account_id"].astype(str))
        .groupby("account_id")[present]
        .last()
    )
    return panel.join(latest, on="account_id")[PANEL_COLUMNS + present]


def _panel_deals(data: pd.DataFrame, created: pd.Series) -> pd.DataFrame:
    """The deal columns the panel reads: account, dates, won, amount, proactive."""
    return pd.DataFrame(
        {
            "account_id": data["account_id"].astype(str),
            "created_at": created,
            "closed_at": pd.to_datetime(data["closed_at"]).astype("datetime64[ns]"),
            "won": data["status"].astype(str).eq("won"),
            "amount": pd.to_numeric(data["amount"], errors="coerce").astype(float)
            if "amount" in data.columns
            else np.nan,
            "proactive": _flag(data, "rep_initiated") | _flag(data, "is_new_product_for_account"),
        }
    )


def _account_year_rows(first: pd.Series, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Each account's calendar years from its first deal's to the cut-off's, without a loop per
    account: ``account_id, year``, the observed part ``__start__`` to ``__end__``,
    ``exposure_years`` and ``relationship_years``; years without exposure left out."""
    first_year = first.dt.year.to_numpy(dtype=int)
    counts = cutoff.year - first_year + 1
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    panel = pd.DataFrame(
        {
            "account_id": np.repeat(first.index.to_numpy(), counts),
            "year": np.repeat(first_year, counts) + offsets,
        }
    )
    opened = _lookup(first, panel["account_id"])
    year_start = pd.to_datetime({"year": panel["year"], "month": 1, "day": 1}).astype(
        "datetime64[ns]"
    )
    year_end = pd.to_datetime({"year": panel["year"] + 1, "month": 1, "day": 1}).astype(
        "datetime64[ns]"
    )
    start = year_start.where(year_start > opened, opened)
    end = year_end.where(year_end < cutoff, cutoff)

    panel = panel.assign(__start__=start, __end__=end)
    width = panel["__end__"] - panel["__start__"]
    panel["exposure_years"] = width / _YEAR
    panel["relationship_years"] = (panel["__start__"] + width / 2 - opened) / _YEAR
    return panel.loc[panel["exposure_years"] > 0].reset_index(drop=True)


def _prior_won_deals(panel: pd.DataFrame, deals: pd.DataFrame) -> pd.Series:
    """Per panel row, the account's deals won and closed by the row's start."""
    won = deals.loc[deals["won"] & deals["closed_at"].notna(), ["account_id", "closed_at"]]
    won = won.sort_values("closed_at", kind="stable")
    won["prior_won_deals"] = won.groupby("account_id").cumcount() + 1
    prior = pd.merge_asof(
        panel.sort_values("__start__", kind="stable").reset_index(),
        won,
        left_on="__start__",
        right_on="closed_at",
        by="account_id",
    ).set_index("index")["prior_won_deals"]
    return prior.reindex(panel.index).fillna(0).astype(int)


def _yearly_counts(
    panel: pd.DataFrame, deals: pd.DataFrame, first_deal: pd.Series, data: pd.DataFrame
) -> pd.DataFrame:
    """`panel` with ``opportunities``, ``proactive_opportunities`` and ``won_revenue``: each
    later deal (not an account's first) counts in the row it was created in."""
    # Its revenue too, so that the months a new relationship's first deals take to close do not
    # look like a ramp.
    later = deals.loc[~first_deal].sort_values("created_at", kind="stable")
    segment = pd.merge_asof(
        later,
        panel.reset_index()[["index", "account_id", "__start__"]].sort_values("__start__"),
        left_on="created_at",
        right_on="__start__",
        by="account_id",
    )["index"].to_numpy()
    later = later.assign(segment=segment, revenue=later["amount"].where(later["won"], 0.0))
    grouped = later.groupby("segment")
    totals = grouped.agg(
        opportunities=("proactive", "size"), proactive_opportunities=("proactive", "sum")
    ).assign(won_revenue=grouped["revenue"].sum(min_count=1))
    panel = panel.join(totals)
    panel["opportunities"] = panel["opportunities"].fillna(0).astype(int)
    has_proactive = "rep_initiated" in data.columns or "is_new_product_for_account" in data.columns
    panel["proactive_opportunities"] = (
        panel["proactive_opportunities"].fillna(0).astype(int) if has_proactive else np.nan
    )
    has_amount = "amount" in data.columns and deals["amount"].notna().any()
    panel["won_revenue"] = panel["won_revenue"].astype(float).fillna(0.0) if has_amount else np.nan
    return panel
