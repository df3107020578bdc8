"""Rank correlations in bootstrap resamples of whole clusters (accounts), without copying rows.

A resample that draws account *a* twice is the data with *a*'s deals twice. Instead of building
that frame, each row gets the number of times its account was drawn as a weight; the ranks the
rows would have in the replicated data follow from cumulative sums of those weights, and
Spearman's rho is the weighted Pearson correlation of those ranks. Many resamples are computed
at once as a matrix, a block at a time.
"""

from __future__ import annotations

import numpy as np
from scipy import stats as sps

from salesinsight.exceptions import InvalidValueError

__all__ = ["cluster_bootstrap"]

# Resamples are processed in blocks of about this many (resample x row) cells, bounding memory.
_BLOCK_CELLS = 1_000_000


def _rank_layout(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row's distinct-value index, the row order grouping equal values, and group starts."""
    inverse = np.unique(values, return_inverse=True)[1].ravel()
    order = np.argsort(inverse, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(inverse[order]) != 0])
    return inverse, starts, order


def _weighted_ranks(
    weights: np.ndarray, inverse: np.ndarray, starts: np.ndarray, order: np.ndarray
) -> np.ndarray:
    """Average (mid) ranks each row would have in the data replicated by `weights`."""
    totals = np.add.reduceat(weights[:, order], starts, axis=1)
    below = np.cumsum(totals, axis=1) - totals
    return (below + (totals + 1.0) / 2.0)[:, inverse]


def _weighted_pearson(weights: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    total = weights.sum(axis=1, keepdims=True)
    da = a - (weights * a).sum(axis=1, keepdims=True) / total
    db = b - (weights * b).sum(axis=1, keepdims=True) / total
    cov = (weights * da * db).sum(axis=1)
    var = (weights * da * da).sum(axis=1) * (weights * db * db).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, cov / np.sqrt(var), np.nan)


def cluster_bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    codes: np.ndarray,
    *,
    method: str,
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Spearman or Kendall correlation of `x` and `y` in `n_boot` resamples of whole clusters.

    Parameters
    ----------
    x, y : ndarray
        Values without missing entries, one per row.
    codes : ndarray of int
        Cluster of each row, numbered ``0 .. n_clusters - 1`` (e.g. from ``pandas.factorize``).
    method : {"spearman", "kendall"}
        Spearman is computed for a block of resamples at once; Kendall's tau-b one resample at
        a time with scipy.
    n_boot : int
        Number of resamples; each draws as many clusters as there are, with replacement.
    rng : numpy Generator
        Source of the draws.

    Returns
    -------
    ndarray
        One correlation per resample; NaN where a resample has no variation.

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    >>> y = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0])
    >>> codes = np.array([0, 0, 1, 1, 2, 2])
    >>> boot = cluster_bootstrap(
    ...     x, y, codes, method="spearman", n_boot=4, rng=np.random.default_rng(0)
    ... )
    >>> boot.shape
    (4,)
    """
    if method not in {"spearman", "kendall"}:
        raise InvalidValueError(f"`method` must be 'spearman' or 'kendall', got {method!r}.")
    n_clusters = int(codes.max()) + 1
    probabilities = np.full(n_clusters, 1.0 / n_clusters)
    out = np.empty(n_boot)
    if method == "kendall":
        rows = np.arange(len(x))
        for i in range(n_boot):
            counts = rng.multinomial(n_clusters, probabilities)
            index = np.repeat(rows, counts[codes])
            out[i] = sps.kendalltau(x[index], y[index]).statistic
        return out
    layout_x, layout_y = _rank_layout(x), _rank_layout(y)
    block = max(1, _BLOCK_CELLS // len(x))
    for start in range(0, n_boot, block):
        size = min(block, n_boot - start)
        counts = rng.multinomial(n_clusters, probabilities, size=size)
        weights = counts[:, codes].astype(float)
        rank_x = _weighted_ranks(weights, *layout_x)
        rank_y = _weighted_ranks(weights, *layout_y)
        out[start : start + size] = _weighted_pearson(weights, rank_x, rank_y)
    return out
