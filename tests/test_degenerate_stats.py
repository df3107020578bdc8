"""Degenerate data through the statistics: a single deal, all deals won, all open, one account, one
rep, constant amounts, a proxy missing everywhere.

Each step either gives a result whose numbers are all finite (intervals of positive width), a
missing value with a note saying why, an AnalysisError saying why, or, in the scorecard, a
`not testable` row naming the reason. Never a crash, an infinity or an interval from nothing.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from salesinsight.claims.evaluate import evaluate_claims
from salesinsight.datasets import simulate_world
from salesinsight.exceptions import AnalysisError, SmallSampleWarning, StatisticalWarning
from salesinsight.features.trust import trust_features
from salesinsight.stats.association import association
from salesinsight.stats.correlation import correlations
from salesinsight.stats.kpis import pipeline_summary
from salesinsight.stats.survival import time_to_close

SCENARIOS = (
    "single deal",
    "all won",
    "all open",
    "one account",
    "one rep",
    "constant amounts",
    "proxy missing everywhere",
)
PROXIES = ("prior_won_deals", "relationship_days", "owner_prior_deals", "is_repeat_customer")


@pytest.fixture(scope="module")
def world():
    return simulate_world(n_accounts=60, seed=1)


def scenario_deals(world, name: str) -> pd.DataFrame:
    deals = world.deals
    won = deals[deals["status"] == "won"]
    return {
        "single deal": won.head(1),
        "all won": won,
        "all open": deals[deals["status"] == "open"],
        "one account": deals.assign(account_id="acme", account="Acme"),
        "one rep": deals.assign(owner="Ann Lee"),
        "constant amounts": deals.assign(amount=1000.0),
        "proxy missing everywhere": deals,
    }[name]


@pytest.fixture(scope="module")
def features(world) -> dict[str, pd.DataFrame]:
    out = {}
    for name in SCENARIOS:
        frame = trust_features(scenario_deals(world, name), world.activities)
        if name == "proxy missing everywhere":
            frame = frame.assign(relationship_days=np.nan)
        out[name] = frame
    return out


def assert_sensible(table: pd.DataFrame) -> None:
    """No infinities; every interval present has positive width and holds its estimate."""
    numbers = table.select_dtypes("number")
    assert not np.isinf(numbers.to_numpy(dtype=float)).any()
    for low, high, mid in (
        ("ci_low", "ci_high", "estimate"),
        ("ratio_ci_low", "ratio_ci_high", "ratio"),
        ("win_rate_ci_low", "win_rate_ci_high", "win_rate"),
        ("median_ci_low", "median_ci_high", None),
    ):
        if low not in table:
            continue
        both = table[low].notna() & table[high].notna()
        assert (table.loc[both, low] < table.loc[both, high]).all(), table.loc[both]
        if mid is not None:
            inside = table.loc[both, mid].between(table.loc[both, low], table.loc[both, high])
            assert inside.all()


class TestTrustFeatures:
    @pytest.mark.parametrize("name", SCENARIOS)
    def test_one_finite_row_per_deal(self, world, features, name):
        frame = features[name]
        assert len(frame) == len(scenario_deals(world, name))
        numbers = frame.select_dtypes("number").to_numpy(dtype=float)
        assert not np.isinf(numbers).any()

    def test_single_deal_has_no_history(self, features):
        row = features["single deal"].iloc[0]
        assert (row["prior_won_deals"], row["relationship_days"], row["owner_prior_deals"]) == (
            0,
            0.0,
            0,
        )
        assert not row["same_owner_as_last"] and not row["is_repeat_customer"]

    def test_all_open_has_no_outcomes(self, features):
        frame = features["all open"]
        assert frame["won"].isna().all() and frame["log_amount"].isna().all()
        assert not frame["closed"].any() and (frame["duration_days"] >= 0).all()

    def test_one_rep_experience_counts_every_earlier_deal(self, features):
        frame = features["one rep"].sort_values(["created_at", "deal_id"])
        assert frame["owner_prior_deals"].is_monotonic_increasing

    def test_deals_without_a_creation_date_get_missing_proxies(self, world):
        deals = world.deals.assign(created_at=pd.NaT)
        frame = trust_features(deals)
        assert frame[list(PROXIES)].isna().all().all()


class TestPipelineSummary:
    @pytest.mark.parametrize("name", SCENARIOS)
    def test_no_infinities_and_honest_intervals(self, features, name):
        table = pipeline_summary(features[name], by="owner")
        assert_sensible(table)
        assert table["deals"].sum() == len(features[name])

    def test_single_deal_interval_is_wide_not_a_point(self, features):
        row = pipeline_summary(features["single deal"]).iloc[0]
        assert row["win_rate"] == 1.0
        assert row["win_rate_ci_high"] - row["win_rate_ci_low"] > 0.5

    def test_all_open_says_what_cannot_be_computed(self, features):
        row = pipeline_summary(features["all open"]).iloc[0]
        assert np.isnan([row["win_rate"], row["median_cycle_days"], row["velocity_per_day"]]).all()
        assert "No closed deals: win rate not computable" in row["note"]

    def test_all_won_interval_reaches_one(self, features):
        row = pipeline_summary(features["all won"]).iloc[0]
        assert row["win_rate"] == 1.0 == row["win_rate_ci_high"]
        assert 0.9 < row["win_rate_ci_low"] < 1.0


def associate(frame: pd.DataFrame, outcome: str, predictor: str = "is_repeat_customer", **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return association(frame, outcome=outcome, predictor=predictor, **kw)


class TestAssociation:
    @pytest.mark.parametrize(
        ("name", "outcome", "predictor", "reason"),
        [
            (
                "single deal",
                "amount",
                "is_repeat_customer",
                r"takes a single value .* in the 1 rows",
            ),
            ("all won", "won", "is_repeat_customer", r"Too few events: 66 of 66 .* have 0"),
            (
                "all open",
                "amount",
                "is_repeat_customer",
                r"No won deals with amount > 0 to analyse",
            ),
            ("all open", "won", "is_repeat_customer", r"No closed deals to analyse"),
            ("one account", "amount", "prior_won_deals", r"one `account_id` group.*cluster=None"),
            (
                "constant amounts",
                "amount",
                "prior_won_deals",
                r"`log\(amount\)` takes a single value",
            ),
            (
                "proxy missing everywhere",
                "amount",
                "relationship_days",
                r"No won deals .* left out for missing values \(relationship_days: 66\)",
            ),
        ],
    )
    def test_cannot_be_estimated_says_why(self, features, name, outcome, predictor, reason):
        with pytest.raises(AnalysisError, match=reason):
            associate(features[name], outcome, predictor)

    @pytest.mark.parametrize("name", ["all won", "one rep", "constant amounts"])
    def test_estimable_results_are_finite(self, features, name):
        outcome = "won" if name == "constant amounts" else "amount"
        result = associate(features[name], outcome, "prior_won_deals")
        assert_sensible(result.summary)

    def test_one_account_without_clustering_is_estimated(self, features):
        result = associate(features["one account"], "amount", "prior_won_deals", cluster=None)
        assert_sensible(result.summary)
        assert result.n_clusters is None

    def test_few_clusters_warn_and_note_the_reason(self, features):
        frame = features["all won"]
        few = frame[frame["account_id"].isin(frame["account_id"].unique()[:12])]
        with pytest.warns(SmallSampleWarning, match="Only 12 clusters of `account_id`"):
            result = association(few, outcome="amount", predictor="prior_won_deals")
        assert "Only 12 clusters of `account_id`" in result.note
        assert_sensible(result.summary)


class TestCorrelations:
    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("single deal", r"1 complete rows in 1 cluster"),
            ("one account", r"in 1 cluster"),
            ("constant amounts", r"`amount` takes a single value"),
            ("proxy missing everywhere", r"0 complete rows"),
        ],
    )
    def test_not_computed_says_why(self, features, name, reason):
        table = correlations(
            features[name], proxies="relationship_days", outcomes="amount", n_boot=200
        )
        row = table.iloc[0]
        assert np.isnan([row["estimate"], row["ci_low"], row["ci_high"], row["p_value"]]).all()
        assert pd.Series([row["note"]]).str.contains(reason).all(), row["note"]

    @pytest.mark.parametrize("name", SCENARIOS)
    def test_never_infinite(self, features, name):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            table = correlations(
                features[name], proxies=list(PROXIES[:3]), outcomes=["amount"], n_boot=200
            )
        assert_sensible(table)


def survive(frame: pd.DataFrame, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return time_to_close(frame, **kw)


class TestTimeToClose:
    @pytest.mark.parametrize(
        ("name", "options", "reason"),
        [
            ("single deal", {"by": None}, r"Too few deals or events: 1 deals with 1 closed"),
            ("all open", {"by": None}, r"11 deals with 0 closed"),
            ("all won", {"by": None, "event": "won"}, None),
            ("one account", {"by": "is_repeat_customer"}, r"one `account_id` group"),
            ("all won", {"by": "is_referral"}, None),
        ],
    )
    def test_degenerate_inputs(self, features, name, options, reason):
        if reason is None:
            result = survive(features[name], **options)
            assert_sensible(result.summary)
            if result.hazard_ratios is not None:
                assert_sensible(result.hazard_ratios)
            return
        with pytest.raises(AnalysisError, match=reason):
            survive(features[name], **options)

    def test_grouping_missing_everywhere_says_so(self, features):
        frame = features["proxy missing everywhere"]
        with pytest.raises(AnalysisError, match=r"0 deals .* \(relationship_days: 185\)"):
            survive(frame, by="relationship_days")

    def test_no_lost_deals_means_no_competing_outcome(self, features):
        result = survive(features["all won"], by=None, event="won")
        assert result.summary["competing"].tolist() == [0]

    def test_one_account_without_clustering_has_real_intervals(self, features):
        result = survive(features["one account"], by="is_repeat_customer", cluster=None)
        assert_sensible(result.hazard_ratios)
        assert (result.hazard_ratios["std_err"] > 1e-6).all()

    @pytest.mark.parametrize("name", ["one rep", "constant amounts"])
    def test_ordinary_groups_are_finite(self, features, name):
        result = survive(features[name], by="is_repeat_customer")
        assert_sensible(result.summary)
        assert_sensible(result.hazard_ratios)


VERDICTS = {"supported", "contradicted", "inconclusive", "not testable"}


@pytest.fixture(scope="module")
def scorecards(features) -> dict[str, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return {name: evaluate_claims(frame).table for name, frame in features.items()}


class TestEvaluateClaims:
    @pytest.mark.parametrize("name", SCENARIOS)
    def test_every_row_is_a_verdict_or_not_testable_with_a_reason(self, scorecards, name):
        table = scorecards[name]
        assert set(table["verdict"]) <= VERDICTS
        untested = table[table["verdict"] == "not testable"]
        assert untested[["estimate", "ci_low", "ci_high", "p_value"]].isna().all().all()
        assert untested["note"].str.contains("Not testable").all()
        tested = table[table["verdict"] != "not testable"]
        assert_sensible(tested)
        assert tested["n"].gt(0).all()

    @pytest.mark.parametrize("name", ["single deal", "all open"])
    def test_nothing_is_testable(self, scorecards, name):
        assert (scorecards[name]["verdict"] == "not testable").all()

    def test_one_account_leaves_only_rep_clustered_claims(self, scorecards):
        table = scorecards["one account"]
        tested = table[table["verdict"] != "not testable"]
        assert set(tested["proxy"]) == {"owner_prior_deals"}
        assert tested["note"].str.contains("clustered by `owner`").all()
        untested = table[table["verdict"] == "not testable"]
        assert untested["note"].str.contains("one `account_id` group|one account").any()

    def test_constant_amounts_make_size_claims_untestable(self, scorecards):
        table = scorecards["constant amounts"]
        size = table[table["outcome"] == "amount"]
        assert len(size) and (size["verdict"] == "not testable").all()
        assert size["note"].str.contains("takes a single value").all()
        assert (table.loc[table["outcome"] == "time_to_close", "verdict"] != "not testable").any()

    def test_missing_proxy_rows_name_it(self, scorecards):
        table = scorecards["proxy missing everywhere"]
        deal_level = table[
            (table["proxy"] == "relationship_days")
            & table["outcome"].isin(["amount", "time_to_close", "proactive_deal"])
        ]
        assert len(deal_level) == 6 and (deal_level["verdict"] == "not testable").all()
        assert deal_level["note"].str.contains("`relationship_days`").all()

    def test_all_won_leaves_win_rate_claims_untestable(self, scorecards):
        table = scorecards["all won"]
        assert (table.loc[table["outcome"] == "won", "verdict"] == "not testable").all()
        assert (table["verdict"] != "not testable").any()
