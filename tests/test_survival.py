"""time_to_close: censoring, Kaplan-Meier, Cox and competing outcomes against direct computations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight

from salesinsight.exceptions import (
    AnalysisError,
    ColumnNotFoundError,
    ConvergenceWarning,
    InvalidValueError,
    SeparationWarning,
    SmallSampleWarning,
)
from salesinsight.stats.survival import time_to_close

AS_OF = pd.Timestamp("2024-12-31")


def dated_deals(
    rng: np.random.Generator,
    *,
    n_accounts: int = 100,
    per_account: int = 5,
    median_days: float = 60.0,
    referral_hr: float = 1.0,
    win_share: float = 0.4,
) -> pd.DataFrame:
    """Deals created over the two years before AS_OF, closing after exponential times.

    Referral deals close `referral_hr` times faster; whatever has not closed by AS_OF is open.
    """
    n = n_accounts * per_account
    account = np.repeat(np.arange(n_accounts), per_account)
    referral = rng.random(n) < 0.4
    rate = np.log(2) / median_days * np.where(referral, referral_hr, 1.0)
    days = rng.exponential(1 / rate)
    created = AS_OF - pd.to_timedelta(rng.uniform(0, 730, n), unit="D")
    closes = created + pd.to_timedelta(days, unit="D")
    closed = closes <= AS_OF
    won = rng.random(n) < win_share
    return pd.DataFrame(
        {
            "account_id": [f"A{a}" for a in account],
            "is_referral": referral,
            "log_employees": rng.normal(size=n_accounts)[account],
            "created_at": created,
            "closed_at": closes.where(closed),
            "status": np.where(closed, np.where(won, "won", "lost"), "open"),
            "true_days": days,
        }
    )


@pytest.fixture
def deals(rng: np.random.Generator) -> pd.DataFrame:
    return dated_deals(rng, referral_hr=2.0)


def observed(deals: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    end = deals["closed_at"].fillna(AS_OF)
    return ((end - deals["created_at"]) / pd.Timedelta(days=1)).to_numpy(), (
        deals["status"] != "open"
    ).to_numpy(dtype=int)


class TestTimeToClose:
    def test_kaplan_meier_medians_equal_statsmodels(self, deals):
        result = time_to_close(deals, by="is_referral", as_of=AS_OF)
        days, status = observed(deals)
        for flag in (False, True):
            mask = (deals["is_referral"] == flag).to_numpy()
            direct = SurvfuncRight(days[mask], status[mask])
            row = result.summary.set_index("group").loc[str(flag)]
            assert row["median_days"] == pytest.approx(direct.quantile(0.5))
            low, high = direct.quantile_ci(0.5)
            assert (row["median_ci_low"], row["median_ci_high"]) == pytest.approx((low, high))
            assert row["n"] == mask.sum()
            assert row["events"] == status[mask].sum()
            assert row["censored"] == (1 - status[mask]).sum()
        assert list(result.summary.columns) == [
            "group",
            "n",
            "events",
            "censored",
            "median_days",
            "median_ci_low",
            "median_ci_high",
        ]
        assert result.as_of == AS_OF

    def test_cox_equals_phreg_with_account_clusters(self, deals):
        result = time_to_close(deals, by="is_referral", controls="log_employees", as_of=AS_OF)
        days, status = observed(deals)
        exog = np.column_stack(
            [deals["is_referral"].astype(float), deals["log_employees"].to_numpy()]
        )
        # statsmodels returns NaN errors when some deal is censored before the first close;
        # such deals carry no information for the Cox model, so the direct fit goes without.
        informative = (status == 1) | (days >= days[status == 1].min())
        assert not informative.all()
        direct = PHReg(
            days[informative], exog[informative], status=status[informative], ties="efron"
        ).fit(groups=pd.factorize(deals["account_id"])[0][informative])
        table = result.hazard_ratios
        assert list(table["term"]) == ["is_referral", "log_employees"]
        np.testing.assert_allclose(table["estimate"], direct.params, rtol=1e-8)
        np.testing.assert_allclose(table["std_err"], direct.bse, rtol=1e-8)
        np.testing.assert_allclose(table["p_value"], direct.pvalues, rtol=1e-6)
        np.testing.assert_allclose(table["ratio"], np.exp(direct.params), rtol=1e-8)
        assert table["ratio_ci_low"].iloc[0] < 2.0 < table["ratio_ci_high"].iloc[0]
        assert "hazard ratio, above 1 meaning faster" in result.note

    def test_censoring_biases_the_closed_only_median_but_not_kaplan_meier(self, rng):
        deals = dated_deals(rng, n_accounts=120, per_account=5, median_days=200.0)
        closed = deals[deals["status"] != "open"]
        closed_only = ((closed["closed_at"] - closed["created_at"]) / pd.Timedelta(days=1)).median()
        uncensored = deals["true_days"].median()
        result = time_to_close(deals, by=None, as_of=AS_OF).summary.iloc[0]
        assert result["censored"] > 150
        assert closed_only < 0.75 * uncensored
        assert result["median_days"] == pytest.approx(uncensored, rel=0.1)
        assert result["median_ci_low"] < uncensored < result["median_ci_high"]

    def test_as_of_censors_later_closes_and_leaves_out_later_creations(self, deals):
        cut = AS_OF - pd.Timedelta(days=200)
        result = time_to_close(deals, by="is_referral", as_of=cut)
        kept = deals[deals["created_at"] <= cut]
        closed_by_cut = (kept["status"] != "open") & (kept["closed_at"] <= cut)
        assert result.n == len(kept)
        assert result.summary["events"].sum() == closed_by_cut.sum()
        assert result.as_of == cut
        assert f"created after {cut.date()}" in result.note

    def test_uses_duration_columns_when_present(self, deals):
        days, status = observed(deals)
        features = deals.drop(columns=["created_at", "closed_at"]).assign(
            duration_days=days, closed=status.astype(bool)
        )
        from_columns = time_to_close(features, by="is_referral")
        from_dates = time_to_close(deals, by="is_referral", as_of=AS_OF)
        pd.testing.assert_frame_equal(from_columns.summary, from_dates.summary)
        assert from_columns.as_of is None

    def test_as_of_defaults_to_the_latest_date(self, deals):
        latest = max(deals["created_at"].max(), deals["closed_at"].max())
        assert time_to_close(deals, by="is_referral").as_of == latest

    def test_won_has_lost_as_competing_outcome_and_cause_specific_cox(self, deals):
        result = time_to_close(deals, by="is_referral", event="won", as_of=AS_OF)
        days, _ = observed(deals)
        won = (deals["status"] == "won").to_numpy(dtype=int)
        direct = PHReg(
            days, deals[["is_referral"]].astype(float).to_numpy(), status=won, ties="efron"
        ).fit(groups=pd.factorize(deals["account_id"])[0])
        np.testing.assert_allclose(result.hazard_ratios["estimate"], direct.params, rtol=1e-8)
        assert "cause-specific" in result.note
        assert "Lost deals are censored at their close" in result.note
        summary = result.summary.set_index("group")
        assert summary["events"].sum() == won.sum()
        assert summary["competing"].sum() == (deals["status"] == "lost").sum()
        # About 40% of deals are ever won, so the cumulative incidence never reaches one half.
        assert summary["median_days"].isna().all()
        incidence = result.cumulative_incidence
        assert list(incidence.columns) == [
            "group",
            "outcome",
            "days",
            "estimate",
            "std_err",
            "ci_low",
            "ci_high",
        ]
        at_year = incidence[(incidence["days"] == 180)].set_index(["group", "outcome"])
        assert at_year.loc[("True", "won"), "estimate"] > at_year.loc[("False", "won"), "estimate"]
        total = at_year.groupby("group")["estimate"].sum()
        assert (total <= 1 + 1e-12).all()

    def test_cumulative_incidence_matches_a_hand_computation(self):
        # Six deals, each twice (weights do not change the estimator):
        # day 1 won, day 2 lost, day 3 still open, day 4 won, day 5 lost, day 6 won.
        days = np.array([1, 2, 3, 4, 5, 6] * 2, dtype=float)
        ended = np.array([True, True, False, True, True, True] * 2)
        status = np.array(["won", "lost", "open", "won", "lost", "won"] * 2)
        frame = pd.DataFrame({"duration_days": days, "closed": ended, "status": status})
        result = time_to_close(
            frame, by=None, event="won", cluster=None, horizons=(0.5, 1, 4, 5.5, 6, 7)
        )
        incidence = result.cumulative_incidence.set_index(["outcome", "days"])["estimate"]
        # Aalen-Johansen: F_won(t) = sum over win days s <= t of S(s-) * wins(s) / at_risk(s).
        expected_won = {0.5: 0.0, 1: 1 / 6, 4: 1 / 6 + (4 / 6) / 3, 5.5: 7 / 18, 6: 11 / 18}
        expected_lost = {0.5: 0.0, 1: 0.0, 4: 1 / 6, 5.5: 1 / 6 + (4 / 9) / 2, 6: 7 / 18}
        for day, value in expected_won.items():
            assert incidence[("won", float(day))] == pytest.approx(value)
        for day, value in expected_lost.items():
            assert incidence[("lost", float(day))] == pytest.approx(value)
        assert result.summary["median_days"].iloc[0] == 6.0
        # Every deal had ended by day 6, so the curves are known beyond it; had the last deals
        # still been open, they would not be.
        assert incidence[("won", 7.0)] == pytest.approx(11 / 18)
        frame.loc[frame.index[-1], ["closed", "status"]] = [False, "open"]
        later = time_to_close(frame, by=None, event="won", cluster=None, horizons=(6, 7))
        assert np.isnan(later.cumulative_incidence["estimate"].iloc[-1])

    def test_numeric_by_is_drawn_in_quartiles_and_modelled_as_a_number(self, deals):
        result = time_to_close(deals, by="log_employees")
        assert len(result.summary) == 4
        lower_edges = [float(g.split(",")[0].strip("([")) for g in result.summary["group"]]
        assert lower_edges == sorted(lower_edges)
        assert list(result.hazard_ratios["term"]) == ["log_employees"]
        assert "quartile" in result.note

    def test_missing_values_are_left_out_and_counted(self, deals):
        deals = deals.assign(is_referral=deals["is_referral"].astype(object))
        deals.loc[deals.index[:6], "is_referral"] = None
        result = time_to_close(deals, by="is_referral")
        assert result.n == len(deals) - 6
        assert "6 of" in result.note

    def test_without_account_ids_errors_are_not_clustered(self, deals):
        result = time_to_close(deals.drop(columns="account_id"), by="is_referral")
        assert "not clustered" in result.note

    def test_group_without_events_warns(self, deals):
        deals = deals.assign(
            status=np.where(deals["is_referral"], "open", deals["status"]),
            closed_at=deals["closed_at"].where(~deals["is_referral"]),
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = time_to_close(deals, by="is_referral")
        assert {SeparationWarning, ConvergenceWarning} <= {w.category for w in caught}
        assert "No events among deals with `is_referral` = 1" in result.note

    def test_few_clusters_warn(self, deals):
        few = deals[deals["account_id"].isin([f"A{i}" for i in range(15)])]
        with pytest.warns(SmallSampleWarning, match="15 clusters"):
            time_to_close(few, by="is_referral")

    def test_errors(self, deals):
        with pytest.raises(ColumnNotFoundError, match="is_referral"):
            time_to_close(deals, by="is_referal")
        with pytest.raises(InvalidValueError, match="event"):
            time_to_close(deals, by="is_referral", event="signed")
        with pytest.raises(AnalysisError, match=r"9 deals"):
            time_to_close(deals.iloc[:9], by="is_referral")
        no_status = deals.drop(columns=["status", "created_at", "closed_at"]).assign(
            duration_days=1.0, closed=True
        )
        with pytest.raises(ColumnNotFoundError, match="won"):
            time_to_close(no_status, by="is_referral", event="won")

    def test_plot_and_html(self, deals):
        result = time_to_close(deals, by="is_referral")
        ax = result.plot()
        assert isinstance(ax, Axes)
        assert len(ax.get_legend().get_texts()) == 2
        assert ax.get_ylabel() == "share of deals still open"
        won = time_to_close(deals, by="is_referral", event="won").plot(ax=None)
        assert "winning" in won.get_ylabel()
        html = result._repr_html_()
        assert "<table" in html and "is_referral" in html
