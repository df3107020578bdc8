"""Benchmark of trust_features: vectorised as-of lookups against a per-account groupby-apply.

Synthetic canonical deals (five per account, two thousand per owner, over six years) and ten
activities per deal are generated with numpy; only the columns trust_features reads are built.
The naive baseline is the usual analyst's code: ``groupby("account_id").apply`` with a loop over
each account's deals, and the same per owner. It is timed on a subsample (whole tables of
``naive_sample`` deals with the same group sizes, so its cost per deal does not change with
size) and extrapolated linearly to each size; it computes only the history proxies, so the
speedup is measured against ``trust_features`` without activities.

Run ``python benchmarks/bench_features.py [N_DEALS ...]``; :func:`run` returns the table for
``benchmarks/run.py``.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from salesinsight.features.trust import trust_features

START = np.datetime64("2018-01-01T00:00:00", "s")
DEALS_PER_ACCOUNT = 5
DEALS_PER_OWNER = 2000
ACTIVITIES_PER_DEAL = 10
NAIVE_SAMPLE = 30_000
_DAY = 86_400


def synthetic_deals(n: int, *, seed: int = 0) -> pd.DataFrame:
    """`n` canonical deals (the columns trust_features reads, plus product and list price)."""
    rng = np.random.default_rng(seed)
    n_accounts = max(1, n // DEALS_PER_ACCOUNT)
    n_owners = max(1, n // DEALS_PER_OWNER)
    created = START + rng.integers(0, 6 * 365 * _DAY, n).astype("timedelta64[s]")
    status = rng.choice(np.array(["won", "lost", "open"]), n, p=[0.3, 0.45, 0.25])
    cycle = rng.exponential(60 * _DAY, n).astype("int64").astype("timedelta64[s]")
    closed = np.where(status != "open", created + cycle, np.datetime64("NaT"))

    def names(prefix: str, count: int, codes: np.ndarray) -> pd.Series:
        labels = prefix + pd.Series(np.arange(count)).astype(str)
        return labels.take(codes).reset_index(drop=True)

    return pd.DataFrame(
        {
            "deal_id": names("D", n, np.arange(n)),
            "account_id": names("A", n_accounts, rng.integers(0, n_accounts, n)),
            "owner": names("R", n_owners, rng.integers(0, n_owners, n)),
            "created_at": created.astype("datetime64[ns]"),
            "closed_at": closed.astype("datetime64[ns]"),
            "status": pd.array(status, dtype="str"),
            "amount": rng.lognormal(9.0, 1.0, n),
            "lead_source_group": pd.array(
                rng.choice(np.array(["referral", "inbound", "outbound", "partner"]), n), dtype="str"
            ),
            "product": names("P", 8, rng.integers(0, 8, n)),
            "employees": rng.lognormal(5.0, 1.5, n).round(),
            "list_price": rng.lognormal(9.2, 1.0, n),
        }
    )


def synthetic_activities(deals: pd.DataFrame, n: int, *, seed: int = 1) -> pd.DataFrame:
    """`n` activities linked to random deals, from a few days before creation to months after."""
    rng = np.random.default_rng(seed)
    deal = rng.integers(0, len(deals), n)
    offset = rng.integers(-5 * _DAY, 120 * _DAY, n).astype("timedelta64[s]")
    created = deals["created_at"].to_numpy()
    return pd.DataFrame(
        {
            "deal_id": deals["deal_id"].take(deal).reset_index(drop=True),
            "type": pd.array(
                rng.choice(np.array(["call", "email", "meeting", "task"]), n), dtype="str"
            ),
            "occurred_at": created[deal] + offset,
        }
    )


def naive_history(deals: pd.DataFrame) -> pd.DataFrame:
    """The history proxies the slow way: a Python loop inside a groupby-apply per account/owner."""

    def per_account(group: pd.DataFrame) -> pd.DataFrame:
        group = group.sort_values(["created_at", "deal_id"])
        won = group["status"].eq("won").to_numpy()
        lost = group["status"].eq("lost").to_numpy()
        created, closed = group["created_at"].to_numpy(), group["closed_at"].to_numpy()
        owners, products = group["owner"].to_numpy(), group["product"].to_numpy()
        amounts = group["amount"].fillna(0.0).to_numpy()
        rows = []
        for t, owner, product in zip(created, owners, products, strict=True):
            before = created < t
            prior_won = won & (closed < t)
            last = np.flatnonzero(before)
            rows.append(
                {
                    "prior_won_deals": int(prior_won.sum()),
                    "prior_won_amount": float(amounts[prior_won].sum()),
                    "prior_lost_deals": int((lost & (closed < t)).sum()),
                    "relationship_days": (t - created[before].min()) / np.timedelta64(1, "D")
                    if before.any()
                    else 0.0,
                    "same_owner_as_last": bool(len(last) and owners[last[-1]] == owner),
                    "is_new_product_for_account": bool(~(products[before] == product).any()),
                }
            )
        return pd.DataFrame(rows, index=group.index)

    def per_owner(group: pd.DataFrame) -> pd.DataFrame:
        created = group["created_at"].to_numpy()
        counts = [int((created < t).sum()) for t in created]
        return pd.DataFrame({"owner_prior_deals": counts}, index=group.index)

    history = deals.groupby("account_id", group_keys=False).apply(per_account)
    owners = deals.groupby("owner", group_keys=False).apply(per_owner)
    return history.join(owners).reindex(deals.index)


def naive_engagement(
    deals: pd.DataFrame, activities: pd.DataFrame, *, window_days: int = 30
) -> pd.DataFrame:
    """The engagement counts the slow way: a groupby-apply over each deal's activities."""
    created = deals.set_index("deal_id")["created_at"]
    window = pd.Timedelta(days=window_days)

    def per_deal(group: pd.DataFrame) -> pd.Series:
        start = created.get(group.name, pd.NaT)
        inside = group[(group["occurred_at"] >= start) & (group["occurred_at"] < start + window)]
        return pd.Series(
            {
                f"meetings_{window_days}d": int(inside["type"].eq("meeting").sum()),
                f"calls_{window_days}d": int(inside["type"].eq("call").sum()),
                f"emails_{window_days}d": int(inside["type"].eq("email").sum()),
                f"activities_{window_days}d": len(inside),
            }
        )

    counts = activities.groupby("deal_id").apply(per_deal, include_groups=False)
    counts = counts.reindex(deals["deal_id"]).fillna(0).set_axis(deals.index)
    return counts.where(deals["created_at"].notna())


def naive_features(deals: pd.DataFrame, activities: pd.DataFrame | None = None) -> pd.DataFrame:
    """History proxies and, with activities, engagement counts, as groupby-apply code does them."""
    history = naive_history(deals)
    if activities is None:
        return history
    return history.join(naive_engagement(deals, activities))


def check_naive(naive: pd.DataFrame, vectorised: pd.DataFrame) -> None:
    """Both ways agree wherever the vectorised proxy is defined (deals with a creation date)."""
    for column in naive.columns:
        expected = vectorised[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        defined = ~np.isnan(expected)
        got = naive[column].astype(float).to_numpy()
        np.testing.assert_allclose(got[defined], expected[defined], err_msg=column)


def account_subsample(
    deals: pd.DataFrame, activities: pd.DataFrame | None, n: int, *, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """About `n` deals of whole accounts drawn at random (each account's history stays whole),
    with their activities."""
    accounts = deals["account_id"].dropna().unique()
    rng = np.random.default_rng(seed)
    share = min(1.0, n / max(len(deals), 1))
    chosen = rng.choice(accounts, size=max(1, round(share * len(accounts))), replace=False)
    sample = deals[deals["account_id"].isin(chosen)].reset_index(drop=True)
    if activities is None:
        return sample, None
    linked = activities[activities["deal_id"].isin(sample["deal_id"])].reset_index(drop=True)
    return sample, linked


def _timed(function: Callable[[], Any]) -> tuple[float, float, Any]:
    """Seconds and peak resident memory growth (MB) of one call, and its result."""
    before = _rss_mb()
    peak = [before]
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.01):
            peak[0] = max(peak[0], _rss_mb())

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    peak[0] = max(peak[0], _rss_mb())
    return seconds, peak[0] - before, result


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(sizes: Iterable[int] = (1_000_000,), *, naive_sample: int = NAIVE_SAMPLE) -> pd.DataFrame:
    """Time trust_features at each size of deals (ten activities per deal) and the naive baseline.

    Returns
    -------
    DataFrame
        ``benchmark, method, n_deals, n_activities, seconds, deals_per_s, speedup, peak_mb,
        note``; ``speedup`` is the naive time over the vectorised time without activities,
        ``peak_mb`` the growth of resident memory during the call.
    """
    sample = synthetic_deals(naive_sample, seed=7)
    naive_seconds, naive_mb, naive = _timed(lambda: naive_history(sample))
    check_naive(naive, trust_features(sample))
    per_deal = naive_seconds / naive_sample

    rows = []
    for n in sizes:
        deals = synthetic_deals(n)
        activities = synthetic_activities(deals, ACTIVITIES_PER_DEAL * n)
        full_s, full_mb, _ = _timed(partial(trust_features, deals, activities))
        bare_s, bare_mb, _ = _timed(partial(trust_features, deals))
        naive_s = per_deal * n
        common = {"benchmark": "trust_features", "n_deals": n}
        rows += [
            {
                **common,
                "method": "vectorised, with activities",
                "n_activities": len(activities),
                "seconds": full_s,
                "peak_mb": full_mb,
                "speedup": np.nan,
                "note": "",
            },
            {
                **common,
                "method": "vectorised, deals only",
                "n_activities": 0,
                "seconds": bare_s,
                "peak_mb": bare_mb,
                "speedup": naive_s / bare_s,
                "note": "",
            },
            {
                **common,
                "method": "naive groupby-apply, deals only",
                "n_activities": 0,
                "seconds": naive_s,
                "peak_mb": np.nan if n != naive_sample else naive_mb,
                "speedup": 1.0,
                "note": f"extrapolated linearly from {naive_sample:,} deals "
                f"({naive_seconds:.1f} s measured)",
            },
        ]
        del deals, activities
    table = pd.DataFrame(rows)
    table["deals_per_s"] = table["n_deals"] / table["seconds"]
    return table[
        [
            "benchmark",
            "method",
            "n_deals",
            "n_activities",
            "seconds",
            "deals_per_s",
            "speedup",
            "peak_mb",
            "note",
        ]
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--naive-sample", type=int, default=NAIVE_SAMPLE)
    options = parser.parse_args()
    table = run(options.sizes, naive_sample=options.naive_sample)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(
            table.to_string(
                index=False,
                formatters={
                    "seconds": "{:.2f}".format,
                    "deals_per_s": "{:,.0f}".format,
                    "speedup": "{:.0f}x".format,
                    "peak_mb": "{:.0f}".format,
                },
            )
        )


if __name__ == "__main__":
    main()
