"""Rank correlations of trust proxies with outcomes, with intervals from resampled accounts.

:func:`correlations` gives Spearman or Kendall correlations; their bootstrap intervals and
p-values come from resampling whole clusters (accounts), computed by
:func:`~salesinsight.stats.bootstrap.cluster_bootstrap`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from salesinsight.exceptions import InvalidValueError, SmallSampleWarning
from salesinsight.stats.bootstrap import cluster_bootstrap
from salesinsight.stats.checks import (
    MIN_CLUSTERS,
    Caveats,
    as_names,
    require_cluster,
    require_columns,
)

__all__ = ["correlations"]

CORRELATION_COLUMNS = [
    "proxy",
    "outcome",
    "method",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "n_clusters",
    "note",
]


def _numeric(values: pd.Series, name: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype(float)
    if values.dtype == object and values.dropna().map(lambda v: isinstance(v, bool)).all():
        return values.astype(float)
    if not pd.api.types.is_numeric_dtype(values.dtype):
        raise InvalidValueError(
            f"Column `{name}` holds {values.dtype} values; correlations need numbers or booleans. "
            "Encode it as numbers first."
        )
    return values.astype(float)


def _one_correlation(
    x: pd.Series,
    y: pd.Series,
    groups: pd.Series | None,
    *,
    method: str,
    n_boot: int,
    seed: int,
    alpha: float,
) -> dict[str, Any]:
    keep = x.notna() & y.notna() & (groups.notna() if groups is not None else True)
    xv, yv = x[keep].to_numpy(), y[keep].to_numpy()
    codes = pd.factorize(groups[keep])[0] if groups is not None else np.arange(len(xv))
    n = len(xv)
    n_clusters = int(codes.max()) + 1 if n else 0
    row: dict[str, Any] = {
        "estimate": np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "p_value": np.nan,
        "n": n,
        "n_clusters": n_clusters,
        "note": "",
    }
    if n < 3 or n_clusters < 2:
        row["note"] = f"Not computed: {n} complete rows in {n_clusters} cluster(s)."
        return row
    constant = [name for name, v in ((x.name, xv), (y.name, yv)) if np.ptp(v) == 0]
    if constant:
        row["note"] = f"Not computed: `{constant[0]}` takes a single value in these rows."
        return row
    if method == "spearman":
        row["estimate"] = float(sps.spearmanr(xv, yv).statistic)
    else:
        row["estimate"] = float(sps.kendalltau(xv, yv).statistic)
    boot = cluster_bootstrap(
        xv, yv, codes, method=method, n_boot=n_boot, rng=np.random.default_rng(seed)
    )
    valid = boot[~np.isnan(boot)]
    notes = []
    if len(valid) < n_boot:
        notes.append(f"{n_boot - len(valid)} resamples without variation skipped.")
    if len(valid):
        row["ci_low"], row["ci_high"] = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
        below = (1 + np.sum(valid <= 0)) / (len(valid) + 1)
        above = (1 + np.sum(valid >= 0)) / (len(valid) + 1)
        row["p_value"] = float(min(1.0, 2 * min(below, above)))
    if n_clusters < MIN_CLUSTERS:
        notes.append(f"Only {n_clusters} clusters: the bootstrap interval is rough.")
    row["note"] = " ".join(notes)
    return row


def correlations(
    data: pd.DataFrame,
    *,
    proxies: str | Sequence[str],
    outcomes: str | Sequence[str],
    method: str = "spearman",
    n_boot: int = 2000,
    seed: int = 0,
    cluster: str | None = "account_id",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rank correlation of each proxy with each outcome, with account-resampling bootstrap CIs.

    Each pair uses the rows where both values (and the cluster) are known. The interval is the
    percentile interval of ``n_boot`` resamples of whole clusters, so deals of one account stay
    together; the p-value inverts that interval (twice the share of resamples on the far side of
    0), so ``p_value < alpha`` exactly when the interval excludes 0.

    Parameters
    ----------
    data : DataFrame
        One row per deal, e.g. the output of ``trust_features``.
    proxies, outcomes : str or sequence of str
        Numeric or boolean columns.
    method : {"spearman", "kendall"}, default "spearman"
        Kendall's tau-b is slower (one pass per resample); Spearman is vectorised.
    n_boot : int, default 2000
        Bootstrap resamples.
    seed : int, default 0
        Seed of the resampling; every pair uses the same seed, so a pair's interval does not
        depend on which other pairs are asked for.
    cluster : str or None, default "account_id"
        Column whose groups are resampled together; None resamples rows.
    alpha : float, default 0.05
        Intervals are at level ``1 - alpha``.

    Returns
    -------
    DataFrame
        One row per proxy and outcome: ``proxy, outcome, method, estimate, ci_low, ci_high,
        p_value, n, n_clusters, note`` (``note`` says why a value could not be computed, or
        what deserves caution).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> deals = pd.DataFrame({"account_id": np.repeat(np.arange(50), 4),
    ...                       "prior_won_deals": rng.poisson(2, 200)})
    >>> deals["log_amount"] = 9 + 0.2 * deals["prior_won_deals"] + rng.normal(0, 1, 200)
    >>> table = correlations(deals, proxies="prior_won_deals", outcomes="log_amount", n_boot=500)
    >>> table[["proxy", "outcome", "estimate", "ci_low", "ci_high", "n_clusters"]].round(2)
                 proxy     outcome  estimate  ci_low  ci_high  n_clusters
    0  prior_won_deals  log_amount       0.2    0.07     0.32          50
    """
    proxies_t = as_names(proxies, "proxies")
    outcomes_t = as_names(outcomes, "outcomes")
    if method not in {"spearman", "kendall"}:
        raise InvalidValueError(f"`method` must be 'spearman' or 'kendall', got {method!r}.")
    if not isinstance(n_boot, int | np.integer) or n_boot < 100:
        raise InvalidValueError(
            f"`n_boot` must be a whole number of at least 100, got {n_boot!r}; 2000 is usual."
        )
    if not 0 < alpha < 1:
        raise InvalidValueError(f"`alpha` must lie between 0 and 1, got {alpha!r}.")
    require_columns(data, proxies_t, argument="proxies")
    require_columns(data, outcomes_t, argument="outcomes")
    require_cluster(data, cluster)
    groups = data[cluster] if cluster is not None else None
    rows = []
    for proxy in proxies_t:
        x = _numeric(data[proxy], proxy)
        for outcome in outcomes_t:
            y = _numeric(data[outcome], outcome)
            row = _one_correlation(
                x, y, groups, method=method, n_boot=int(n_boot), seed=seed, alpha=alpha
            )
            rows.append({"proxy": proxy, "outcome": outcome, "method": method, **row})
    table = pd.DataFrame(rows, columns=CORRELATION_COLUMNS)
    small = table.loc[table["note"].str.contains("clusters:", regex=False), "proxy"]
    if len(small):
        Caveats().warn(
            SmallSampleWarning,
            f"Fewer than {MIN_CLUSTERS} clusters for {len(small)} pair(s): bootstrap intervals "
            "over so few accounts are rough (see the `note` column).",
        )
    return table
