"""Spearman's cluster-robust Fisher interval: it agrees with the cluster bootstrap, and its 95%
intervals cover a known rho about 95% of the time on data clustered by account.

The worlds put half of each variable's variance in an account effect: ``x = a + e``, ``y = b + f``
with ``corr(a, b) = 0.6`` between accounts and ``corr(e, f) = 0.2`` within, so the deals are
bivariate normal with Pearson correlation 0.4 and Spearman's rho ``(6 / pi) asin(0.2)``. The
deals of an account move together, so an interval that treats them as independent is too
narrow; the coverage test checks that the clustered one is not and that the row-wise one is.
With R repetitions a correct 95% interval's observed coverage lies within
``3 * sqrt(0.95 * 0.05 / R)`` of 0.95 except about three times in a thousand.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from salesinsight.exceptions import InvalidValueError
from salesinsight.stats.bootstrap import cluster_bootstrap
from salesinsight.stats.correlation import correlations
from salesinsight.stats.rank_interval import spearman_cluster_interval

REPS = int(os.environ.get("SALESINSIGHT_COVERAGE_REPS", "200"))
TOLERANCE = 3 * np.sqrt(0.95 * 0.05 / REPS)
TRUE_RHO = 6 / np.pi * np.arcsin(0.4 / 2)


def clustered_world(
    seed: int, *, n_accounts: int = 60, per_account: int = 10, ties: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(n_accounts), per_account)
    between = rng.multivariate_normal([0, 0], [[1, 0.6], [0.6, 1]], size=n_accounts)
    within = rng.multivariate_normal([0, 0], [[1, 0.2], [0.2, 1]], size=codes.size)
    x = np.sqrt(0.5) * (between[codes, 0] + within[:, 0])
    y = np.sqrt(0.5) * (between[codes, 1] + within[:, 1])
    if ties:
        # A flag and a small count, as most trust proxies are: many ties.
        x, y = (x > 0.3).astype(float), np.round(y)
    return x, y, codes


def _true_rho_with_ties() -> float:
    """Spearman's rho of the tied world, found once on 240,000 deals."""
    worlds = [clustered_world(10**6 + i, n_accounts=1000, ties=True) for i in range(24)]
    x = np.concatenate([w[0] for w in worlds])
    y = np.concatenate([w[1] for w in worlds])
    return float(sps.spearmanr(x, y).statistic)


def coverage(*, ties: bool, truth: float) -> tuple[float, float]:
    """Share of worlds whose interval covers `truth`, clustered by account and by row."""
    by_account = by_row = 0
    for seed in range(REPS):
        x, y, codes = clustered_world(seed, ties=ties)
        clustered = spearman_cluster_interval(x, y, codes)
        rows = spearman_cluster_interval(x, y, np.arange(len(x)))
        by_account += clustered["ci_low"] < truth < clustered["ci_high"]
        by_row += rows["ci_low"] < truth < rows["ci_high"]
    return by_account / REPS, by_row / REPS


class TestCoverage:
    @pytest.mark.parametrize("ties", [False, True], ids=["continuous", "flag and count"])
    def test_clustered_intervals_cover_about_95_percent(self, ties):
        truth = _true_rho_with_ties() if ties else TRUE_RHO
        by_account, by_row = coverage(ties=ties, truth=truth)
        assert abs(by_account - 0.95) <= TOLERANCE, f"coverage {by_account:.3f} over {REPS}"
        # Treating the ten deals of an account as independent makes the interval too narrow.
        assert by_row < 0.95 - 2 * TOLERANCE, f"row-wise coverage {by_row:.3f}"

    def test_null_world_rejects_about_5_percent(self):
        rejected = 0
        for seed in range(REPS):
            x, _, codes = clustered_world(seed)
            _, y, _ = clustered_world(seed + 10_000)
            rejected += spearman_cluster_interval(x, y, codes)["p_value"] < 0.05
        assert rejected / REPS <= 0.05 + TOLERANCE


class TestAgainstTheBootstrap:
    @pytest.mark.parametrize("ties", [False, True])
    def test_standard_error_matches_the_cluster_bootstrap(self, ties):
        x, y, codes = clustered_world(3, n_accounts=300, ties=ties)
        fisher = spearman_cluster_interval(x, y, codes)
        boot = cluster_bootstrap(
            x, y, codes, method="spearman", n_boot=2000, rng=np.random.default_rng(0)
        )
        assert fisher["estimate"] == pytest.approx(sps.spearmanr(x, y).statistic, abs=1e-12)
        assert fisher["se"] == pytest.approx(np.std(boot), rel=0.1)

    def test_perfect_correlation_is_its_own_interval(self):
        x, _, codes = clustered_world(4)
        result = spearman_cluster_interval(x, 2 * x + 1, codes)
        assert result["estimate"] == pytest.approx(1.0)
        assert result["ci_low"] == result["ci_high"] == result["estimate"]


class TestCorrelationsTable:
    def frame(self) -> pd.DataFrame:
        x, y, codes = clustered_world(5, n_accounts=200)
        return pd.DataFrame({"account_id": codes, "x": x, "y": y, "z": x + y})

    def test_fisher_is_the_default_and_pairs_are_symmetric(self):
        frame = self.frame()
        table = correlations(frame, proxies=["x", "y", "z"], outcomes=["x", "y", "z"])
        xy = table[(table["proxy"] == "x") & (table["outcome"] == "y")].iloc[0]
        yx = table[(table["proxy"] == "y") & (table["outcome"] == "x")].iloc[0]
        expected = spearman_cluster_interval(
            frame["x"].to_numpy(), frame["y"].to_numpy(), frame["account_id"].to_numpy()
        )
        assert xy["ci_low"] == pytest.approx(expected["ci_low"])
        assert xy.drop(["proxy", "outcome"]).equals(yx.drop(["proxy", "outcome"]))
        diagonal = table[table["proxy"] == table["outcome"]]
        assert (diagonal["ci_low"] == 1.0).all() and (diagonal["ci_high"] == 1.0).all()

    def test_bootstrap_still_available_and_kendall_needs_it(self):
        frame = self.frame()
        boot = correlations(frame, proxies="x", outcomes="y", interval="bootstrap", n_boot=500)
        fisher = correlations(frame, proxies="x", outcomes="y")
        assert boot["estimate"].iloc[0] == pytest.approx(fisher["estimate"].iloc[0])
        width = (boot["ci_high"] - boot["ci_low"]).iloc[0]
        assert width == pytest.approx((fisher["ci_high"] - fisher["ci_low"]).iloc[0], rel=0.2)
        with pytest.raises(InvalidValueError, match="interval"):
            correlations(frame, proxies="x", outcomes="y", method="kendall", interval="fisher")
        with pytest.raises(InvalidValueError, match="interval"):
            correlations(frame, proxies="x", outcomes="y", interval="jackknife")
