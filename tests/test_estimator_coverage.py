"""The estimators recover planted effects, find nothing in a null world, and their 95% intervals
cover the truth about 95% of the time.

Each simulated world has account-level confounding: bigger accounts (higher ``log_employees``)
are more often repeat customers *and* buy more, win more and close faster. The controlled estimate
must cover the planted value; the naive one must be biased upwards, as the confounding predicts.

The coverage checks repeat a small world over many seeds (``SALESINSIGHT_COVERAGE_REPS``, default
200); with R repetitions the observed coverage of a correct 95% interval lies within
``3 * sqrt(0.95 * 0.05 / R)`` of 0.95 except about three times in a thousand.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from salesinsight.stats.association import association
from salesinsight.stats.correlation import correlations
from salesinsight.stats.survival import time_to_close

LOG_SIZE_RATIO = np.log(1.3)
LOG_ODDS_RATIO = np.log(1.6)
LOG_HAZARD_RATIO = np.log(1.4)
LOG_RATE_RATIO = np.log(1.5)
REPS = int(os.environ.get("SALESINSIGHT_COVERAGE_REPS", "200"))
TOLERANCE = 3 * np.sqrt(0.95 * 0.05 / REPS)


def confounded_world(
    seed: int,
    *,
    n_accounts: int = 80,
    per_account: int = 5,
    effect: float = 1.0,
    whole_days: bool = True,
) -> pd.DataFrame:
    """Deals whose trust flag, size, win, speed and counts all depend on the account's size.

    `effect` scales every planted trust effect (0 gives the null world, confounding kept).
    Durations are counted in started days, as CRM reports do, unless `whole_days` is False.
    """
    rng = np.random.default_rng(seed)
    n = n_accounts * per_account
    account = np.repeat(np.arange(n_accounts), per_account)
    size = rng.normal(0, 1, n_accounts)[account]
    # Account effects make deals of one account alike (hence clustered errors). The one on
    # winning is separate from the one on size: a shared one would make the won deals, over
    # which size is modelled, a selected sample with repeat-customer deals of smaller accounts.
    size_effect = rng.normal(0, 0.3, n_accounts)[account]
    win_effect = rng.normal(0, 0.3, n_accounts)[account]
    repeat = rng.random(n) < 1 / (1 + np.exp(-(-0.2 + 1.2 * size)))
    log_amount = (
        9 + effect * LOG_SIZE_RATIO * repeat + 0.5 * size + size_effect + rng.normal(0, 0.6, n)
    )
    win_logit = -0.3 + effect * LOG_ODDS_RATIO * repeat + 0.6 * size + win_effect
    won = rng.random(n) < 1 / (1 + np.exp(-win_logit))
    hazard = np.log(2) / 60 * np.exp(effect * LOG_HAZARD_RATIO * repeat + 0.4 * size)
    days = rng.exponential(1 / hazard)
    follow_up = rng.uniform(30, 400, n)
    if whole_days:
        days, follow_up = np.ceil(days), np.ceil(follow_up)
    closed = days <= follow_up
    years = rng.uniform(0.5, 3.0, n)
    rate = np.exp(-0.5 + effect * LOG_RATE_RATIO * repeat + 0.5 * size)
    return pd.DataFrame(
        {
            "account_id": account,
            "is_repeat_customer": repeat,
            "log_employees": 4 + size,
            "status": np.where(closed, np.where(won, "won", "lost"), "open"),
            "won": np.where(closed, won.astype(float), np.nan),
            "amount": np.exp(log_amount),
            "duration_days": np.minimum(days, follow_up),
            "closed": closed,
            "account_years": years,
            "new_opportunities": rng.poisson(rate * years),
        }
    )


def fit_repeat(data: pd.DataFrame, outcome: str, *, controlled: bool) -> pd.Series:
    """The repeat-customer row of the model for `outcome`, naive or controlled for size."""
    controls = ["log_employees"] if controlled else []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if outcome == "time_to_close":
            return time_to_close(
                data, by="is_repeat_customer", controls=controls
            ).hazard_ratios.iloc[0]
        exposure = "account_years" if outcome == "new_opportunities" else None
        return association(
            data,
            outcome=outcome,
            predictor="is_repeat_customer",
            controls=controls,
            exposure=exposure,
        ).summary.iloc[0]


PLANTED = {
    "amount": LOG_SIZE_RATIO,
    "won": LOG_ODDS_RATIO,
    "time_to_close": LOG_HAZARD_RATIO,
    "new_opportunities": LOG_RATE_RATIO,
}


class TestPlantedEffects:
    @pytest.mark.parametrize("outcome", list(PLANTED))
    def test_controlled_covers_the_truth_and_naive_is_biased_upwards(self, outcome):
        truth = PLANTED[outcome]
        data = confounded_world(11, n_accounts=300)
        controlled = fit_repeat(data, outcome, controlled=True)
        naive = fit_repeat(data, outcome, controlled=False)
        assert controlled["ci_low"] < truth < controlled["ci_high"]
        assert naive["estimate"] > truth + 2 * controlled["std_err"]
        assert naive["estimate"] > controlled["estimate"]

    def test_null_world_finds_nothing_with_controls(self):
        data = confounded_world(12, n_accounts=300, effect=0.0)
        naive_p = []
        for outcome in PLANTED:
            # Four tests at once: none should reach the 1% level (the 5% rate is checked over
            # many worlds in TestCoverage).
            assert fit_repeat(data, outcome, controlled=True)["p_value"] > 0.01, outcome
            naive_p.append(fit_repeat(data, outcome, controlled=False)["p_value"])
        # Without the control, confounding alone makes every effect look real.
        assert max(naive_p) < 0.001


def coverage_and_rejection(outcome: str) -> tuple[float, float]:
    """Share of seeds whose controlled 95% CI covers the truth; share rejecting a true null."""
    covered = rejected = 0
    for seed in range(REPS):
        planted = fit_repeat(confounded_world(1000 + seed), outcome, controlled=True)
        covered += planted["ci_low"] < PLANTED[outcome] < planted["ci_high"]
        null = fit_repeat(confounded_world(5000 + seed, effect=0.0), outcome, controlled=True)
        rejected += null["p_value"] < 0.05
    return covered / REPS, rejected / REPS


@pytest.mark.slow
class TestCoverage:
    @pytest.mark.parametrize("outcome", list(PLANTED))
    def test_coverage_near_95_and_null_rejections_near_5_percent(self, outcome):
        coverage, rejection = coverage_and_rejection(outcome)
        assert abs(coverage - 0.95) <= TOLERANCE, f"coverage {coverage:.3f} over {REPS} worlds"
        assert rejection <= 0.05 + TOLERANCE, f"null rejections {rejection:.3f} over {REPS}"

    def test_kaplan_meier_median_interval_covers_the_true_median(self):
        covered = 0
        for seed in range(REPS):
            data = confounded_world(9000 + seed, effect=0.0, whole_days=False)
            # With size drawn from N(0, 1) and log HR 0.4 per unit, the marginal median is the
            # day half the mixture of exponentials has closed; it is found once by simulation.
            summary = time_to_close(data, by=None).summary.iloc[0]
            covered += summary["median_ci_low"] < TRUE_MARGINAL_MEDIAN < summary["median_ci_high"]
        assert abs(covered / REPS - 0.95) <= TOLERANCE

    def test_account_bootstrap_keeps_null_rejections_near_5_percent(self):
        rejected_accounts = rejected_rows = 0
        for seed in range(REPS):
            rng = np.random.default_rng(7000 + seed)
            account = np.repeat(np.arange(40), 8)
            data = pd.DataFrame(
                {
                    "account_id": account,
                    "x": rng.normal(size=40)[account] + 0.2 * rng.normal(size=320),
                    "y": rng.normal(size=40)[account] + 0.2 * rng.normal(size=320),
                }
            )
            boot = {"interval": "bootstrap", "n_boot": 400, "seed": seed}
            by_account = correlations(data, proxies="x", outcomes="y", **boot)
            by_row = correlations(data, proxies="x", outcomes="y", cluster=None, **boot)
            rejected_accounts += by_account["p_value"].iloc[0] < 0.05
            rejected_rows += by_row["p_value"].iloc[0] < 0.05
        assert rejected_accounts / REPS <= 0.05 + TOLERANCE
        # Resampling rows ignores that the 8 deals of an account move together.
        assert rejected_rows / REPS > 0.25


def _true_marginal_median() -> float:
    rng = np.random.default_rng(0)
    size = rng.normal(0, 1, 2_000_000)
    days = rng.exponential(1 / (np.log(2) / 60 * np.exp(0.4 * size)))
    return float(np.median(days))


TRUE_MARGINAL_MEDIAN = _true_marginal_median()


class TestSimulatedWorld:
    def test_recovers_the_planted_k1_size_effects(self):
        datasets = pytest.importorskip("salesinsight.datasets")
        features = pytest.importorskip("salesinsight.features.trust")
        if not hasattr(datasets, "simulate_world") or not hasattr(features, "trust_features"):
            pytest.skip("simulate_world or trust_features is not available")
        world = datasets.simulate_world(seed=3)
        data = features.trust_features(world.deals, world.activities, as_of=world.as_of)
        truth = world.truth
        on_size = truth[(truth["outcome"] == "amount") & truth["proxy"].isin(data.columns)]
        k1 = on_size[on_size["claim"] == "K1"]
        assert len(k1), "the world plants no K1 effect on deal size"
        # Every planted effect on size enters together, with the confounders of the world.
        proxies = list(on_size["proxy"])
        controls = [c for c in ("log_employees", "product") if c in data.columns]
        for row in k1.itertuples():
            others = [p for p in proxies if p != row.proxy]
            result = association(
                data, outcome="amount", predictor=row.proxy, controls=[*others, *controls]
            )
            estimate = result.summary.iloc[0]
            assert estimate["ci_low"] < row.value < estimate["ci_high"], (
                f"{row.proxy}: planted {row.value:.3f}, estimated {estimate['estimate']:.3f} "
                f"[{estimate['ci_low']:.3f}, {estimate['ci_high']:.3f}]"
            )
            if row.proxy == "is_repeat_customer":
                naive = association(data, outcome="amount", predictor=row.proxy).summary.iloc[0]
                assert naive["estimate"] > estimate["estimate"]
