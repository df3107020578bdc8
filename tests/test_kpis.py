"""Tests of pipeline_summary: hand-checked KPIs, Wilson intervals, Kaplan-Meier medians, notes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.proportion import proportion_confint

from salesinsight.exceptions import ColumnNotFoundError, InvalidValueError
from salesinsight.features.trust import trust_features
from salesinsight.stats.kpis import SUMMARY_COLUMNS, pipeline_summary

START = pd.Timestamp("2024-01-01")
AS_OF = pd.Timestamp("2024-04-10")  # 100 days after START


def hand_deals() -> pd.DataFrame:
    """Ann: 3 won, 2 lost, 2 open; Bob: 2 open deals only. All created on START."""
    rows = [
        ("d1", "ann", "won", 100.0, 10),
        ("d2", "ann", "won", 300.0, 40),
        ("d3", "ann", "won", 200.0, 70),
        ("d4", "ann", "lost", 50.0, 20),
        ("d5", "ann", "lost", 60.0, 50),
        ("d6", "ann", "open", 500.0, None),
        ("d7", "ann", "open", 80.0, None),
        ("d8", "bob", "open", 100.0, None),
        ("d9", "bob", "open", 100.0, None),
    ]
    deals = pd.DataFrame(rows, columns=["deal_id", "owner", "status", "amount", "days"])
    deals["account_id"] = ["A", "A", "B", "B", "C", "C", "D", "E", "E"]
    deals["created_at"] = START
    deals["closed_at"] = START + pd.to_timedelta(deals.pop("days"), unit="D")
    deals["lead_source_group"] = "inbound"
    return deals


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval, from its formula."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def censored_world(rng: np.random.Generator, n: int = 4000) -> tuple[pd.DataFrame, float]:
    """Deals created over a year, exponential cycles; those not closed by the end are open."""
    mean_cycle = 90.0
    created = START + pd.to_timedelta(rng.uniform(0, 365, n), unit="D")
    cycle = pd.to_timedelta(rng.exponential(mean_cycle, n), unit="D")
    as_of = START + pd.Timedelta(days=365)
    closes = created + cycle
    is_closed = closes <= as_of
    deals = pd.DataFrame(
        {
            "deal_id": [f"d{i}" for i in range(n)],
            "status": np.where(is_closed, rng.choice(["won", "lost"], n), "open"),
            "amount": rng.lognormal(9, 1, n),
            "created_at": created,
            "closed_at": pd.Series(closes).where(is_closed),
        }
    )
    return deals.assign(as_of=as_of), mean_cycle * math.log(2)


class TestPipelineSummary:
    def test_overall_numbers_match_the_hand_computation(self):
        table = pipeline_summary(hand_deals(), as_of=AS_OF)
        assert list(table.columns) == SUMMARY_COLUMNS
        row = table.iloc[0]
        assert row["group"] == "all"
        assert (row["deals"], row["won"], row["lost"], row["open"]) == (9, 3, 2, 4)
        assert row["win_rate"] == pytest.approx(0.6)
        assert (row["win_rate_ci_low"], row["win_rate_ci_high"]) == pytest.approx(wilson(3, 5))
        assert row["median_won_amount"] == 200.0
        # Survival 8/9, 7/9, 6/9, 5/9 after the closes at 10, 20, 40, 50 days; 4/9 < 1/2 at 70.
        assert row["median_cycle_days"] == 70.0
        assert row["velocity_per_day"] == pytest.approx(4 * 0.6 * 200 / 70)
        assert row["note"] == ""

    def test_groups_match_the_hand_computation_and_say_why_values_are_missing(self):
        table = pipeline_summary(hand_deals(), by="owner", as_of=AS_OF).set_index("group")
        ann, bob = table.loc["ann"], table.loc["bob"]
        assert (ann["deals"], ann["won"], ann["lost"], ann["open"]) == (7, 3, 2, 2)
        # Survival 6/7, 5/7, 4/7, then 3/7 < 1/2 at the close on day 50.
        assert ann["median_cycle_days"] == 50.0
        assert ann["velocity_per_day"] == pytest.approx(2 * 0.6 * 200 / 50)
        assert (bob["deals"], bob["won"], bob["lost"], bob["open"]) == (2, 0, 0, 2)
        for column in ["win_rate", "win_rate_ci_low", "median_won_amount", "median_cycle_days"]:
            assert np.isnan(bob[column])
        assert np.isnan(bob["velocity_per_day"])
        assert "No closed deals: win rate not computable." in bob["note"]
        assert "No won deal with an amount" in bob["note"]
        assert (
            "Velocity not computable without a win rate, mean won amount, median cycle"
            in (bob["note"])
        )

    def test_wilson_interval_equals_statsmodels(self, rng):
        deals = censored_world(rng, n=600)[0]
        deals["owner"] = rng.choice(["ann", "bob", "cat", "dan"], len(deals))
        table = pipeline_summary(deals, by="owner")
        for row in table.itertuples():
            closed = row.won + row.lost
            low, high = proportion_confint(row.won, closed, alpha=0.05, method="wilson")
            assert (row.win_rate_ci_low, row.win_rate_ci_high) == (low, high)
            assert (low, high) == pytest.approx(wilson(row.won, closed))

    def test_median_cycle_equals_survfunc_right_fitted_directly(self, rng):
        deals, _ = censored_world(rng, n=800)
        deals["segment"] = rng.choice(["smb", "mid", "ent"], len(deals))
        as_of = deals.pop("as_of").iloc[0]
        table = pipeline_summary(deals, by="segment", as_of=as_of).set_index("group")
        for segment, part in deals.groupby("segment"):
            closed = part["status"].ne("open")
            end = part["closed_at"].where(closed, as_of)
            days = (end - part["created_at"]) / pd.Timedelta(days=1)
            direct = SurvfuncRight(days.to_numpy(), closed.to_numpy(dtype=float)).quantile(0.5)
            assert table.loc[segment, "median_cycle_days"] == direct

    def test_open_deals_are_censored_so_the_median_is_not_biased(self, rng):
        deals, true_median = censored_world(rng)
        as_of = deals.pop("as_of").iloc[0]
        closed = deals["status"].ne("open")
        closed_only = ((deals["closed_at"] - deals["created_at"]) / pd.Timedelta(days=1))[closed]
        assert closed_only.median() < 0.85 * true_median
        km = pipeline_summary(deals, as_of=as_of).loc[0, "median_cycle_days"]
        assert km == pytest.approx(true_median, rel=0.08)

    def test_trust_features_output_and_canonical_deals_agree(self):
        deals = hand_deals()
        data = trust_features(deals, as_of=AS_OF)
        from_features = pipeline_summary(data, by="owner")
        from_deals = pipeline_summary(deals, by="owner", as_of=AS_OF)
        pd.testing.assert_frame_equal(from_features, from_deals)

    def test_as_of_recomputes_the_durations_of_trust_features_output(self):
        # Open deals censored at day 45: after the closes at 10, 20 and 40 days (survival 6/9)
        # only 2 deals remain at risk, so the close at day 50 takes survival to 1/3.
        data = trust_features(hand_deals(), as_of=START + pd.Timedelta(days=45))
        assert pipeline_summary(data).loc[0, "median_cycle_days"] == 50.0
        assert pipeline_summary(data, as_of=AS_OF).loc[0, "median_cycle_days"] == 70.0

    def test_groups_by_a_proxy_with_missing_values_as_a_group_of_their_own(self):
        deals = hand_deals()
        deals.loc[deals["deal_id"].eq("d9"), "created_at"] = pd.NaT
        data = trust_features(deals, as_of=AS_OF)
        table = pipeline_summary(data, by="is_repeat_customer")
        assert table["deals"].sum() == len(deals)
        assert table["group"].isna().sum() == 1
        assert table.loc[table["group"].isna(), "deals"].item() == 1

    def test_created_quarter_is_derived_from_canonical_deals(self):
        deals = hand_deals()
        deals.loc[deals["deal_id"].isin(["d8", "d9"]), "created_at"] = pd.Timestamp("2024-04-05")
        table = pipeline_summary(deals, by="created_quarter", as_of=AS_OF)
        assert table["group"].tolist() == ["2024Q1", "2024Q2"]
        assert table["deals"].tolist() == [7, 2]
        years = pipeline_summary(deals, by="created_year", as_of=AS_OF)
        assert years["group"].tolist() == [2024]

    def test_median_not_reached_is_missing_and_explained(self):
        deals = hand_deals()
        deals.loc[deals["deal_id"].isin(["d3", "d4", "d5"]), ["status", "closed_at"]] = [
            "open",
            pd.NaT,
        ]
        row = pipeline_summary(deals, as_of=AS_OF).iloc[0]
        assert np.isnan(row["median_cycle_days"]) and np.isnan(row["velocity_per_day"])
        assert row["note"].startswith("Median cycle not reached")
        assert row["win_rate"] == 1.0

    def test_deals_without_a_duration_are_left_out_and_counted_in_the_note(self):
        deals = hand_deals()
        deals.loc[deals["deal_id"].eq("d9"), "created_at"] = pd.NaT
        row = pipeline_summary(deals, as_of=AS_OF).iloc[0]
        assert row["deals"] == 9
        assert row["note"] == "1 deal(s) without a usable duration left out of the median cycle."
        assert row["median_cycle_days"] == 70.0

    def test_empty_data_give_an_empty_table(self):
        table = pipeline_summary(hand_deals().iloc[:0], by="owner", as_of=AS_OF)
        assert list(table.columns) == SUMMARY_COLUMNS and len(table) == 0

    def test_input_is_not_modified(self):
        deals = hand_deals()
        before = deals.copy()
        pipeline_summary(deals, by="created_quarter", as_of=AS_OF)
        pd.testing.assert_frame_equal(deals, before)

    def test_bad_input_is_refused_with_a_hint(self):
        deals = hand_deals()
        with pytest.raises(ColumnNotFoundError, match="Closest: `owner`"):
            pipeline_summary(deals, by="ownr")
        with pytest.raises(ColumnNotFoundError, match="`is_repeat_customer` come from"):
            pipeline_summary(deals, by="is_repeat_customer")
        with pytest.raises(ColumnNotFoundError, match="`status`"):
            pipeline_summary(deals.drop(columns=["status"]))
        with pytest.raises(ColumnNotFoundError, match="`closed_at`"):
            pipeline_summary(deals.drop(columns=["closed_at"]))
        with pytest.raises(InvalidValueError, match="one column name"):
            pipeline_summary(deals, by=["owner"])  # type: ignore[arg-type]
        with pytest.raises(InvalidValueError, match="'maybe'"):
            pipeline_summary(deals.assign(status="maybe"))
        with pytest.raises(InvalidValueError, match="before every deal's creation"):
            pipeline_summary(deals, as_of="2023-01-01")
        with pytest.raises(InvalidValueError, match="DataFrame"):
            pipeline_summary(None)  # type: ignore[arg-type]
