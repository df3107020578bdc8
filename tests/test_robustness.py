"""The scorecard's robustness columns: E-values recomputed from their formulas, sensemakr's
statistics, the strongest measured control, stability over the years and the narrative."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from test_claims import account_deals, deal_frame, quiet, rows

from salesinsight.claims.robustness import ROBUSTNESS_COLUMNS
from salesinsight.claims.scorecard import TABLE_COLUMNS
from salesinsight.stats.association import association

FIRST_COLUMNS = [
    "claim_id",
    "claim",
    "proxy",
    "outcome",
    "adjustment",
    "n",
    "effect",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "verdict",
    "note",
]


def evalue(rr: float) -> float:
    """VanderWeele and Ding's E-value, written out here rather than imported."""
    rr = 1 / rr if rr < 1 else rr
    return rr + np.sqrt(rr * (rr - 1))


def hr_to_rr(hr: float) -> float:
    """The paper's conversion of the hazard ratio of a common outcome."""
    return (1 - 0.5 ** np.sqrt(hr)) / (1 - 0.5 ** np.sqrt(1 / hr))


def expected_e_values(row: pd.Series, to_rr) -> tuple[float, float]:
    """E-values of a row's ratio and of its interval's limit nearest to 1 (1 if it covers 1)."""
    low, high = to_rr(row["ci_low"]), to_rr(row["ci_high"])
    interval = 1.0 if low <= 1 <= high else evalue(low if low > 1 else high)
    return evalue(to_rr(row["estimate"])), interval


def residual_sd(y: np.ndarray, x: np.ndarray) -> float:
    """Residual SD of least squares of `y` on an intercept and `x` (n - 2 degrees of freedom)."""
    fit = sm.OLS(y, sm.add_constant(x.astype(float))).fit()
    return float(np.sqrt(fit.scale))


@pytest.fixture
def naive_card(rng):
    data = deal_frame(rng, n=1500, amount=0.3, won=0.8, speed=0.4, price=0.05)
    return data, quiet(data, claims=["K1", "K2", "K3", "K8"], controls=None)


class TestLayout:
    def test_the_first_fourteen_columns_keep_their_order(self):
        assert TABLE_COLUMNS[:14] == FIRST_COLUMNS
        assert TABLE_COLUMNS[14:] == ROBUSTNESS_COLUMNS

    def test_untested_rows_carry_no_figures(self, rng):
        card = quiet(deal_frame(rng, n=300).drop(columns="list_price"), claims="K8")
        untested = card.table[card.table["verdict"] == "not testable"]
        assert len(untested)
        numeric = [c for c in ROBUSTNESS_COLUMNS if c not in ("benchmark", "sign_flips")]
        assert untested[numeric].isna().all().all()
        assert untested["benchmark"].isna().all()


class TestEValuesFromTheFormulas:
    """Every row with an estimate: E-values recomputed from VanderWeele and Ding's formulas,
    the conversion inputs (outcome shares, residual SDs) computed here from the data."""

    def test_deal_size_through_the_standardized_difference(self, naive_card):
        data, card = naive_card
        won = data[(data["status"] == "won") & (data["amount"] > 0)]
        for proxy in ("is_repeat_customer", "prior_won_deals", "same_owner_as_last"):
            row = rows(card, "K1", proxy=proxy).iloc[0]
            sd = residual_sd(np.log(won["amount"]).to_numpy(), won[proxy].to_numpy())
            point, interval = expected_e_values(row, lambda r, sd=sd: np.exp(0.91 * np.log(r) / sd))
            assert row["e_value"] == pytest.approx(point, rel=1e-9)
            assert row["e_value_ci"] == pytest.approx(interval, rel=1e-9)
            assert "exp(0.91 d)" in row["note"]

    def test_price_realisation_through_the_standardized_difference(self, naive_card):
        data, card = naive_card
        won = data[data["status"] == "won"]
        row = rows(card, "K8", proxy="is_repeat_customer").iloc[0]
        sd = residual_sd(
            np.log(won["amount"] / won["list_price"]).to_numpy(),
            won["is_repeat_customer"].to_numpy(),
        )
        point, interval = expected_e_values(row, lambda r: np.exp(0.91 * np.log(r) / sd))
        assert (row["e_value"], row["e_value_ci"]) == pytest.approx((point, interval), rel=1e-9)

    def test_common_outcomes_odds_through_the_square_root(self, naive_card):
        data, card = naive_card
        new = data["is_new_product_for_account"].astype(bool) & data["won"].notna()
        share = data.loc[new, "won"].mean()
        assert share > 0.15
        row = rows(card, "K3", outcome="won").iloc[0]
        point, interval = expected_e_values(row, np.sqrt)
        assert (row["e_value"], row["e_value_ci"]) == pytest.approx((point, interval), rel=1e-12)
        assert "sqrt(OR)" in row["note"] and f"{100 * share:.0f}%" in row["note"]

    def test_rare_outcomes_odds_as_risk_ratios(self, rng):
        data = deal_frame(rng, n=3000, won=1.0)
        # Keep about one win in fourteen closed deals: a rare outcome.
        keep = rng.random(len(data)) < 0.1
        data.loc[(data["status"] == "won") & ~keep, ["status", "won"]] = ["lost", 0.0]
        card = quiet(data, claims="K3", controls=None)
        new = data["is_new_product_for_account"].astype(bool) & data["won"].notna()
        assert data.loc[new, "won"].mean() <= 0.15
        row = rows(card, "K3", outcome="won").iloc[0]
        point, interval = expected_e_values(row, lambda r: r)
        assert (row["e_value"], row["e_value_ci"]) == pytest.approx((point, interval), rel=1e-12)
        assert "rare outcome" in row["note"]

    def test_common_hazards_through_the_papers_conversion(self, naive_card):
        data, card = naive_card
        assert data["closed"].mean() > 0.15
        for proxy in ("is_repeat_customer", "is_referral"):
            row = rows(card, "K2", proxy=proxy).iloc[0]
            point, interval = expected_e_values(row, hr_to_rr)
            assert row["e_value"] == pytest.approx(point, rel=1e-12)
            assert row["e_value_ci"] == pytest.approx(interval, rel=1e-12)
        win = rows(card, "K3", outcome="time_to_win").iloc[0]
        point, interval = expected_e_values(win, hr_to_rr)
        assert (win["e_value"], win["e_value_ci"]) == pytest.approx((point, interval), rel=1e-12)

    def test_rate_ratios_as_risk_ratios(self, rng):
        card = quiet(account_deals(rng, age_rate=0.35), claims="K7")
        tested = card.table[card.table["verdict"] != "not testable"]
        assert len(tested) == 8
        for _, row in tested.iterrows():
            point, interval = expected_e_values(row, lambda r: r)
            assert (row["e_value"], row["e_value_ci"]) == pytest.approx(
                (point, interval), rel=1e-12
            )
            assert "rate ratio taken as a risk ratio" in row["note"]

    def test_controlled_rows_use_the_controlled_residual_sd(self, rng):
        data = deal_frame(rng, n=1200, amount=0.3)
        card = quiet(data, claims="K1", controls=["log_employees", "segment"])
        row = rows(card, "K1", "controlled", proxy="is_repeat_customer").iloc[0]
        fit = association(
            data,
            outcome="amount",
            predictor="is_repeat_customer",
            controls=["log_employees", "segment"],
        )
        sd = float(np.sqrt(fit.model.scale))
        point, interval = expected_e_values(row, lambda r: np.exp(0.91 * np.log(r) / sd))
        assert (row["e_value"], row["e_value_ci"]) == pytest.approx((point, interval), rel=1e-9)

    def test_intervals_covering_no_effect_have_e_value_one(self, rng):
        card = quiet(deal_frame(rng, n=600), claims=["K1", "K2"])
        inconclusive = card.table[card.table["verdict"] == "inconclusive"]
        assert len(inconclusive)
        assert (inconclusive["e_value_ci"] == 1.0).all()
        assert (inconclusive["e_value"] >= 1.0).all()


class TestBenchmark:
    def test_the_only_control_shifts_the_estimate_to_the_naive_one(self, rng):
        # For least squares leaving out the only control is exactly the naive regression.
        data = deal_frame(rng, n=1200, amount=0.3)
        card = quiet(data, claims="K1", controls=["log_employees"])
        naive = rows(card, "K1", "naive", proxy="is_repeat_customer").iloc[0]
        controlled = rows(card, "K1", "controlled", proxy="is_repeat_customer").iloc[0]
        assert controlled["benchmark"] == "log_employees"
        assert f"would move the ratio to {naive['estimate']:.3g}:" in controlled["note"]
        sd = float(
            np.sqrt(
                association(
                    data,
                    outcome="amount",
                    predictor="is_repeat_customer",
                    controls="log_employees",
                ).model.scale
            )
        )
        shift = np.log(naive["estimate"]) - np.log(controlled["estimate"])
        assert controlled["benchmark_e_value"] == pytest.approx(evalue(np.exp(0.91 * shift / sd)))
        assert pd.isna(naive["benchmark"])

    def test_the_confounder_of_the_planted_world_is_the_strongest_control(self, rng):
        # Account size drives being a repeat customer, deal size and speed alike.
        data = deal_frame(rng, n=1500, amount=0.3, speed=0.3)
        card = quiet(data, claims=["K1", "K2"], controls=["log_employees", "product"])
        for claim_id in ("K1", "K2"):
            row = rows(card, claim_id, "controlled", proxy="is_repeat_customer").iloc[0]
            assert row["benchmark"] == "log_employees"
            assert row["benchmark_e_value"] > 1.05


class TestSensemakr:
    def test_least_squares_rows_equal_the_closed_forms(self, naive_card):
        data, card = naive_card
        won = data[(data["status"] == "won") & (data["amount"] > 0)]
        fit = sm.OLS(
            np.log(won["amount"]).to_numpy(),
            sm.add_constant(won["is_repeat_customer"].to_numpy(dtype=float)),
        ).fit()
        t, dof = fit.tvalues[1], fit.df_resid
        row = rows(card, "K1", proxy="is_repeat_customer").iloc[0]
        assert row["partial_r2"] == pytest.approx(t**2 / (t**2 + dof), rel=1e-9)
        f = abs(t) / np.sqrt(dof)
        assert row["robustness_value"] == pytest.approx(
            0.5 * (np.sqrt(f**4 + 4 * f**2) - f**2), rel=1e-9
        )
        assert 0 < row["robustness_value_alpha"] < row["robustness_value"]
        assert pd.isna(row["bound_ratio"])  # no control to benchmark against

    def test_only_least_squares_rows_have_them(self, naive_card):
        _, card = naive_card
        tested = card.table[card.table["verdict"] != "not testable"]
        ols = tested["outcome"].isin(["amount", "price_realisation"])
        assert tested.loc[ols, "robustness_value"].notna().all()
        assert tested.loc[~ols, ["partial_r2", "robustness_value"]].isna().all().all()

    def test_a_confounder_as_strong_as_account_size_moves_the_ratio_to_one(self, rng):
        # Without a planted effect, the controlled estimate sits near 1 and the bound of a
        # confounder as strong as account size (the planted confounder) goes through it.
        data = deal_frame(rng, n=1500, amount=0.3)
        card = quiet(data, claims="K1", controls=["log_employees", "product"])
        row = rows(card, "K1", "controlled", proxy="is_repeat_customer").iloc[0]
        assert row["benchmark"] == "log_employees"
        assert row["bound_ratio"] < row["estimate"]
        assert "sensemakr" in row["note"] and "as strong as `log_employees`" in row["note"]


def yearly_deals(rng, effects: dict[int, float]) -> pd.DataFrame:
    """Won deals whose repeat customers buy `exp(effect)` times more, the effect set per year."""
    n = 400 * len(effects)
    years = np.repeat(list(effects), 400)
    repeat = rng.random(n) < 0.5
    effect = np.array([effects[y] for y in years])
    return pd.DataFrame(
        {
            "account_id": [f"A{i % 300}" for i in range(n)],
            "status": "won",
            "amount": np.exp(9 + effect * repeat + rng.normal(0, 0.4, n)),
            "is_repeat_customer": repeat,
            "created_year": pd.array(years, dtype="Int64"),
        }
    )


class TestStability:
    def test_a_planted_flip_is_called_out(self, rng):
        data = yearly_deals(rng, {2021: 0.5, 2022: 0.5, 2023: -0.4, 2024: 0.5})
        card = quiet(data, claims="K1", controls=None)
        row = rows(card, "K1", proxy="is_repeat_customer").iloc[0]
        assert row["verdict"] == "supported"
        assert row["sign_stable"] is np.False_ or row["sign_stable"] is False
        assert row["sign_flips"] == "2023"
        assert "the direction flips in 2023, with an interval excluding no effect" in row["note"]
        assert "points the other way in 2023" in card.narrative()

    def test_the_same_direction_every_year(self, rng):
        data = yearly_deals(rng, {2021: 0.4, 2022: 0.3, 2023: 0.5})
        card = quiet(data, claims="K1", controls=None)
        row = rows(card, "K1", proxy="is_repeat_customer").iloc[0]
        assert bool(row["sign_stable"]) and row["sign_flips"] == ""
        assert "2021 " in row["note"] and "the same direction in every year" in row["note"]
        assert "keeps its direction in every year" in card.narrative()

    def test_only_the_row_a_supported_claim_is_read_from(self, rng):
        data = deal_frame(rng, n=1500, amount=0.3, speed=0.4)
        card = quiet(data, claims=["K1", "K2"])
        assessed = card.table[card.table["sign_stable"].notna()]
        assert sorted(assessed["claim_id"]) == ["K1", "K2"]
        assert (assessed["adjustment"] == "controlled").all()
        for claim_id in ("K1", "K2"):
            supported = rows(card, claim_id, "controlled", verdict="supported")
            headline = assessed[assessed["claim_id"] == claim_id].iloc[0]
            assert headline["e_value_ci"] == supported["e_value_ci"].max()

    def test_without_years_it_says_so(self, rng):
        data = yearly_deals(rng, {2021: 0.4, 2022: 0.4}).drop(columns="created_year")
        card = quiet(data, claims="K1", controls=None)
        row = rows(card, "K1", proxy="is_repeat_customer").iloc[0]
        assert pd.isna(row["sign_stable"])
        assert "Not re-estimated per year" in row["note"]


class TestNarrative:
    def test_one_robustness_sentence_per_supported_claim(self, rng):
        data = deal_frame(rng, n=1500, amount=0.3, speed=0.4)
        card = quiet(data, claims=["K1", "K2", "K8"])
        supported = (card.verdicts()["verdict"] == "supported").sum()
        assert supported >= 2
        text = card.narrative()
        assert text.count("An unmeasured confounder would have to be associated with both") == (
            supported
        )
        assert "being a repeat customer" in text
        assert "the strongest measured one, reaches" in text
