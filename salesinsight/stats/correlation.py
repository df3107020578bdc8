"""Rank correlations of trust proxies with outcomes, with intervals clustered by account.

:func:`correlations` gives Spearman or Kendall correlations. Spearman's intervals and p-values
are, by default, Fisher-z intervals with a cluster-robust variance built from the influence
function of rho summed per account
(:func:`~salesinsight.stats.rank_interval.spearman_cluster_interval`): a few sorts per pair, so a
matrix of proxies over a million deals takes seconds. The bootstrap of whole clusters
(:func:`~salesinsight.stats.bootstrap.cluster_bootstrap`) remains available (``interval=
"bootstrap"``, and the only choice for Kendall's tau); both agree on the standard error (the tests
compare them) and both keep the deals of an account together.
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
from salesinsight.stats.rank_interval import spearman_cluster_interval

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


def _bootstrap_interval(
    xv: np.ndarray,
    yv: np.ndarray,
    codes: np.ndarray,
    *,
    method: str,
    n_boot: int,
    seed: int,
    alpha: float,
) -> tuple[dict[str, float], list[str]]:
    """Percentile interval and inverted p-value of `n_boot` cluster resamples."""
    boot = cluster_bootstrap(
        xv, yv, codes, method=method, n_boot=n_boot, rng=np.random.default_rng(seed)
    )
    valid = boot[~np.isnan(boot)]
    out: dict[str, float] = {}
    notes = []
    if len(valid) < n_boot:
        notes.append(f"{n_boot - len(valid)} resamples without variation skipped.")
    if len(valid):
        out["ci_low"], out["ci_high"] = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
        below = (1 + np.sum(valid <= 0)) / (len(valid) + 1)
        above = (1 + np.sum(valid >= 0)) / (len(valid) + 1)
        out["p_value"] = float(min(1.0, 2 * min(below, above)))
    return out, notes


def _one_correlation(
    x: pd.Series,
    y: pd.Series,
    groups: pd.Series | None,
    *,
    method: str,
    interval: str,
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
    notes: list[str] = []
    if interval == "fisher":
        fisher = spearman_cluster_interval(xv, yv, codes, alpha=alpha)
        row.update({k: fisher[k] for k in ("estimate", "ci_low", "ci_high", "p_value")})
    else:
        if method == "spearman":
            row["estimate"] = float(sps.spearmanr(xv, yv).statistic)
        else:
            row["estimate"] = float(sps.kendalltau(xv, yv).statistic)
        boot, notes = _bootstrap_interval(
            xv, yv, codes, method=method, n_boot=n_boot, seed=seed, alpha=alpha
        )
        row.update(boot)
    if n_clusters < MIN_CLUSTERS:
        notes.append(f"Only {n_clusters} clusters: the interval is rough.")
    row["note"] = " ".join(notes)
    return row


def correlations(
    data: pd.DataFrame,
    *,
    proxies: str | Sequence[str],
    outcomes: str | Sequence[str],
    method: str = "spearman",
    interval: str | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    cluster: str | None = "account_id",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rank correlation of each proxy with each outcome, with intervals clustered by account.

    Each pair uses the rows where both values (and the cluster) are known. Spearman's interval is,
    by default, a Fisher-z interval whose variance is the cluster-robust variance of rho's
    influence function (summed per account, so that the deals of one account count as one
    independent unit; :func:`~salesinsight.stats.rank_interval.spearman_cluster_interval`), with
    the p-value of rho = 0 on the same scale. ``interval="bootstrap"`` gives instead the percentile
    interval of ``n_boot`` resamples of whole clusters, with the p-value that inverts it (twice
    the share of resamples on the far side of 0). Both keep the deals of an account together; the
    Fisher interval costs a few sorts per pair, the bootstrap ``n_boot`` re-rankings, which at
    hundreds of thousands of deals is minutes. Each pair is computed once: asking for ``(x, y)``
    and ``(y, x)`` repeats the row.

    Parameters
    ----------
    data : DataFrame
        One row per deal, e.g. the output of ``trust_features``.
    proxies, outcomes : str or sequence of str
        Numeric or boolean columns.
    method : {"spearman", "kendall"}, default "spearman"
        Kendall's tau-b is slower (one pass per resample); Spearman is vectorised.
    interval : {"fisher", "bootstrap"}, optional
        How the interval and p-value are found. Default: ``"fisher"`` for Spearman,
        ``"bootstrap"`` for Kendall (the only choice for it).
    n_boot : int, default 2000
        Bootstrap resamples (with ``interval="bootstrap"``).
    seed : int, default 0
        Seed of the resampling (with ``interval="bootstrap"``); every pair uses the same seed, so a pair's interval does not
        depend on which other pairs are asked for.
    cluster : str or None, default "account_id"
        Column whose groups are independent units (summed together in the Fisher variance,
        resampled together by the bootstrap); None treats rows as independent.
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
    >>> table = correlations(deals, proxies="prior_won_deals", outcomes="log_amount")
    >>> table[["proxy", "outcome", "estimate", "ci_low", "ci_high", "n_clusters"]].round(2)
                 proxy     outcome  estimate  ci_low  ci_high  n_clusters
    0  prior_won_deals  log_amount       0.2    0.06     0.33          50
    >>> boot = correlations(deals, proxies="prior_won_deals", outcomes="log_amount",
    ...                     interval="bootstrap", n_boot=500)
    >>> boot[["estimate", "ci_low", "ci_high"]].round(2)
       estimate  ci_low  ci_high
    0       0.2    0.07     0.32
    """
    proxies_t = as_names(proxies, "proxies")
    outcomes_t = as_names(outcomes, "outcomes")
    if method not in {"spearman", "kendall"}:
        raise InvalidValueError(f"`method` must be 'spearman' or 'kendall', got {method!r}.")
    interval = interval or ("fisher" if method == "spearman" else "bootstrap")
    if interval not in {"fisher", "bootstrap"} or (method, interval) == ("kendall", "fisher"):
        raise InvalidValueError(
            f"`interval` must be 'fisher' (Spearman only) or 'bootstrap', got {interval!r} for "
            f"{method}."
        )
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
    done: dict[tuple[str, str], dict[str, Any]] = {}
    for proxy in proxies_t:
        x = _numeric(data[proxy], proxy)
        for outcome in outcomes_t:
            row = done.get((outcome, proxy))
            if row is None:
                y = _numeric(data[outcome], outcome)
                row = _one_correlation(
                    x,
                    y,
                    groups,
                    method=method,
                    interval=interval,
                    n_boot=int(n_boot),
                    seed=seed,
                    alpha=alpha,
                )
                done[(proxy, outcome)] = row
            rows.append({"proxy": proxy, "outcome": outcome, "method": method, **row})
    table = pd.DataFrame(rows, columns=CORRELATION_COLUMNS)
    small = table.loc[table["note"].str.contains("clusters:", regex=False), "proxy"]
    if len(small):
        Caveats().warn(
            SmallSampleWarning,
            f"Fewer than {MIN_CLUSTERS} clusters for {len(small)} pair(s): intervals over so few "
            "accounts are rough (see the `note` column).",
        )
    return table
