"""evaluate_claims and the Scorecard: every claim found where planted, absent where not."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from statsmodels.stats.multitest import multipletests

from salesinsight.claims.evaluate import AUTO_CONTROLS, evaluate_claims
from salesinsight.claims.narrative import CAVEAT
from salesinsight.claims.panel import account_years
from salesinsight.claims.registry import CLAIMS, OUTCOMES, PROXIES
from salesinsight.claims.scorecard import TABLE_COLUMNS, VERDICT_COLUMNS
from salesinsight.datasets import render_exports, simulate_world
from salesinsight.exceptions import (
    ColumnNotFoundError,
    InvalidValueError,
    StatisticalWarning,
)
from salesinsight.export import read_export
from salesinsight.features import CONTROL_COLUMNS
from salesinsight.features.trust import trust_features
from salesinsight.stats.association import association
from salesinsight.stats.survival import time_to_close

START = pd.Timestamp("2020-01-01")
AS_OF = pd.Timestamp("2024-01-01")


def _expit(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def deal_frame(
    rng: np.random.Generator,
    *,
    n: int = 800,
    n_accounts: int = 160,
    proxy: str = "is_repeat_customer",
    amount: float = 0.0,
    won: float = 0.0,
    speed: float = 0.0,
    price: float = 0.0,
) -> pd.DataFrame:
    """A trust_features-shaped frame with one effect of `proxy` planted per outcome.

    Account size drives the proxies, the amount and the win rate (the confounding of every real
    CRM); `amount`, `won`, `speed` and `price` are the planted log-scale effects of `proxy`.
    """
    account = rng.integers(0, n_accounts, n)
    size = rng.normal(0, 1, n_accounts)[account]
    repeat = rng.random(n) < _expit(size)
    source = rng.choice(["outbound", "inbound", "referral", "existing_customer"], n)
    created = START + pd.to_timedelta(rng.uniform(0, 1300, n), unit="D")
    frame = pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(n)],
            "account_id": [f"A{a}" for a in account],
            "owner": [f"rep{k}" for k in rng.integers(0, 30, n)],
            "created_at": created,
            "lead_source_group": source,
            "product": rng.choice(["basic", "pro", "suite"], n),
            "industry": rng.choice(["retail", "tech", "health"], n_accounts)[account],
            "segment": np.where(size > 0.5, "enterprise", "smb"),
            "log_employees": size + rng.normal(0, 0.05, n),
            "created_year": pd.array(created.year, dtype="Int64"),
            "is_repeat_customer": pd.array(repeat, dtype="boolean"),
            "prior_won_deals": pd.array(np.where(repeat, 1 + rng.poisson(1 + np.exp(size)), 0)),
            "relationship_days": np.where(repeat, rng.uniform(30, 1200, n), 0.0),
            "same_owner_as_last": pd.array(repeat & (rng.random(n) < 0.6), dtype="boolean"),
            "is_referral": pd.array(source == "referral", dtype="boolean"),
            "rep_initiated": pd.array(source == "outbound", dtype="boolean"),
            "owner_prior_deals": pd.array(rng.integers(0, 200, n), dtype="Int64"),
            "is_new_product_for_account": pd.array(~repeat | (rng.random(n) < 0.3)),
        }
    )
    x = frame[proxy].astype(float).to_numpy()
    is_won = rng.random(n) < _expit(-0.2 + 0.4 * size + won * x)
    days = rng.exponential(60 * np.exp(-speed * x - 0.1 * size))
    follow_up = (AS_OF - created) / pd.Timedelta(days=1)
    closed = days <= follow_up
    list_price = np.exp(8 + 0.5 * size + amount * x + rng.normal(0, 0.4, n))
    realisation = 0.8 * np.exp(price * x + rng.normal(0, 0.05, n))
    frame["amount"] = list_price * realisation
    frame["list_price"] = list_price
    frame["status"] = np.where(closed, np.where(is_won, "won", "lost"), "open")
    frame["closed_at"] = (created + pd.to_timedelta(days, unit="D")).where(closed)
    frame["won"] = np.where(closed, is_won.astype(float), np.nan)
    frame["duration_days"] = np.minimum(days, follow_up)
    frame["closed"] = closed
    frame["price_realisation"] = frame["amount"] / frame["list_price"]
    return frame


def account_deals(
    rng: np.random.Generator,
    *,
    n_accounts: int = 150,
    age_rate: float = 0.0,
    proactive: float = 0.0,
) -> pd.DataFrame:
    """Deals of accounts over four years, for the account-year claims (run through trust_features).

    An account's rate of new deals grows by `age_rate` (log rate per year of relationship); the
    log-odds that a deal is rep-initiated grows by `proactive` per earlier won deal.
    """
    rows = []
    for a in range(n_accounts):
        size = rng.normal()
        opened = rng.uniform(0, 700)
        t, won_closes = opened, []
        while t < 1461:
            created = START + pd.Timedelta(days=float(t))
            prior = sum(c < created for c in won_closes)
            outbound = rng.random() < _expit(-1.5 + proactive * prior)
            win = rng.random() < _expit(0.2 * size)
            closes = created + pd.Timedelta(days=float(rng.exponential(45)))
            closed = closes <= AS_OF
            if closed and win:
                won_closes.append(closes)
            rows.append(
                {
                    "deal_id": f"D{len(rows)}",
                    "account_id": f"A{a}",
                    "owner": f"rep{a % 25}",
                    "created_at": created,
                    "closed_at": closes if closed else pd.NaT,
                    "status": ("won" if win else "lost") if closed else "open",
                    "amount": float(np.exp(9 + 0.5 * size + rng.normal(0, 0.3))),
                    "lead_source_group": "outbound" if outbound else "inbound",
                    "employees": float(np.exp(4 + size)),
                }
            )
            rate = 1.5 * np.exp(0.5 * size + age_rate * (t - opened) / 365.25)
            t += rng.exponential(365.25 / rate)
    deals = pd.DataFrame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return trust_features(deals, as_of=AS_OF)


def rows(card, claim_id: str, adjustment: str | None = None, **where: str) -> pd.DataFrame:
    table = card.table[card.table["claim_id"] == claim_id]
    if adjustment is not None:
        table = table[table["adjustment"] == adjustment]
    for column, value in where.items():
        table = table[table[column] == value]
    return table


def quiet(data: pd.DataFrame, **options):
    """evaluate_claims with its summary caveat warning silenced (tested on its own below)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return evaluate_claims(data, **options)


class TestEvaluateClaims:
    def test_table_layout(self, rng):
        # With a (here empty) first amount, K8's first-quote rows are in the table too.
        card = quiet(deal_frame(rng).assign(first_amount=np.nan), claims=["K1", "K8"])
        assert list(card.table.columns) == TABLE_COLUMNS
        per_claim = {c.id: c for c in CLAIMS}
        expected = sum(
            2 * len(per_claim[k].proxies) * len(per_claim[k].outcomes) for k in ("K1", "K8")
        )
        assert len(card.table) == expected
        assert set(card.table["adjustment"]) == {"naive", "controlled"}
        assert set(card.table["verdict"]) <= {
            "supported",
            "contradicted",
            "inconclusive",
            "not testable",
        }
        assert str(card.table["n"].dtype) == "Int64"
        first = card.table.iloc[0]
        assert first["effect"] == "deal size ratio"
        assert "Hunter" in first["claim"] and "A Mind for Sales" in first["claim"]

    def test_effect_words_name_the_unit_of_numeric_proxies(self, rng):
        card = quiet(deal_frame(rng, n=300), claims=["K1", "K6"], controls=None)
        effects = dict(zip(card.table["proxy"], card.table["effect"], strict=False))
        assert effects["is_repeat_customer"] == "deal size ratio"
        assert effects["relationship_days"] == "deal size ratio per year of relationship"
        assert (
            effects["owner_prior_deals"]
            == "deal size ratio per 10 earlier deals of the salesperson"
        )

    def test_registry_is_complete(self):
        assert [c.id for c in CLAIMS] == [f"K{i}" for i in range(1, 9)]
        for claim in CLAIMS:
            assert set(claim.proxies) <= set(PROXIES)
            assert set(claim.outcomes) <= set(OUTCOMES)
            assert claim.direction in (1, -1)

    def test_rejects_bad_arguments(self, rng):
        data = deal_frame(rng, n=100)
        with pytest.raises(InvalidValueError, match="DataFrame"):
            evaluate_claims(data.to_dict())
        with pytest.raises(InvalidValueError, match="alpha"):
            evaluate_claims(data, alpha=1.5)
        with pytest.raises(InvalidValueError, match="K9"):
            evaluate_claims(data, claims=["K1", "K9"])
        with pytest.raises(InvalidValueError, match="'tenure'"):
            evaluate_claims(data, claims=[replace(CLAIMS[0], proxies=("tenure",))])
        with pytest.raises(ColumnNotFoundError, match="employes"):
            evaluate_claims(data, claims="K1", controls=["employes"])

    def test_claims_by_id_or_object(self, rng):
        data = deal_frame(rng, n=300)
        by_id = quiet(data, claims=["k5"])
        by_object = quiet(data, claims=[c for c in CLAIMS if c.id == "K5"])
        pd.testing.assert_frame_equal(by_id.table, by_object.table)
        assert set(by_id.table["claim_id"]) == {"K5"}

    def test_controls_none_gives_naive_rows_only(self, rng):
        card = quiet(deal_frame(rng, n=300), claims="K1", controls=None)
        assert set(card.table["adjustment"]) == {"naive"}

    def test_explicit_controls(self, rng):
        card = quiet(deal_frame(rng, n=400), claims="K1", controls=["log_employees"])
        controlled = rows(card, "K1", "controlled", proxy="is_repeat_customer").iloc[0]
        assert controlled["note"].startswith("Controls: log_employees.")
        assert card.controls == ("log_employees",)

    def test_auto_controls_are_named_in_the_note(self, rng):
        card = quiet(deal_frame(rng, n=400), claims="K1")
        note = rows(card, "K1", "controlled").iloc[0]["note"]
        assert note.startswith(f"Controls: {', '.join(AUTO_CONTROLS)}.")
        assert card.missing_controls == ()

    def test_benjamini_hochberg_across_all_tested_rows(self, rng):
        card = quiet(deal_frame(rng, amount=0.2), claims=["K1", "K5", "K8"])
        tested = card.table[card.table["verdict"] != "not testable"]
        expected = multipletests(tested["p_value"], method="fdr_bh")[1]
        np.testing.assert_allclose(tested["p_adjusted"], expected)

    def test_verdicts_follow_the_adjusted_interval(self, rng):
        card = quiet(deal_frame(rng, amount=0.15, won=0.3), claims=["K1", "K3", "K5"])
        tested = card.table[card.table["verdict"] != "not testable"]
        excludes_one = (tested["ci_low"] > 1) | (tested["ci_high"] < 1)
        pd.testing.assert_series_equal(
            excludes_one, tested["p_adjusted"] < card.alpha, check_names=False
        )
        assert (tested.loc[tested["ci_low"] > 1, "verdict"] == "supported").all()
        assert (tested.loc[tested["ci_high"] < 1, "verdict"] == "contradicted").all()
        assert (tested.loc[~excludes_one, "verdict"] == "inconclusive").all()
        assert (
            (tested["ci_low"] <= tested["estimate"]) & (tested["estimate"] <= tested["ci_high"])
        ).all()

    @pytest.mark.parametrize(
        ("claim_id", "outcome"), [("K1", "amount"), ("K3", "won"), ("K2", "time_to_close")]
    )
    def test_a_single_test_keeps_the_models_own_interval(self, rng, claim_id, outcome):
        """With one test BH changes nothing: the row is the model's own 95% interval."""
        data = deal_frame(rng, n=500, amount=0.2, won=0.4, speed=0.3)
        claim = replace(
            next(c for c in CLAIMS if c.id == claim_id),
            proxies=("is_repeat_customer",),
            outcomes=(outcome,),
        )
        card = quiet(data, claims=[claim], controls=None)
        assert len(card.table) == 1
        row = card.table.iloc[0]
        subset = data[data["is_new_product_for_account"].astype(bool)] if claim_id == "K3" else data
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if outcome == "time_to_close":
                reference = time_to_close(subset, by="is_repeat_customer").hazard_ratios.iloc[0]
            else:
                fit = association(subset, outcome=outcome, predictor="is_repeat_customer")
                reference = fit.summary.iloc[0]
        assert row["p_adjusted"] == pytest.approx(row["p_value"])
        assert row["p_value"] == pytest.approx(reference["p_value"], rel=1e-9)
        for ours, theirs in [
            ("estimate", "ratio"),
            ("ci_low", "ratio_ci_low"),
            ("ci_high", "ratio_ci_high"),
        ]:
            assert row[ours] == pytest.approx(reference[theirs], rel=1e-9)

    def test_adjusted_interval_is_wider_than_the_models(self, rng):
        data = deal_frame(rng, amount=0.2)
        card = quiet(data, claims="K1", controls=None)
        row = rows(card, "K1", proxy="is_repeat_customer").iloc[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = association(
                data, outcome="amount", predictor="is_repeat_customer"
            ).summary.iloc[0]
        assert row["ci_low"] <= reference["ratio_ci_low"]
        assert row["ci_high"] >= reference["ratio_ci_high"]

    def test_caveats_warn_once_and_stay_in_the_notes(self, rng):
        data = deal_frame(rng, n=200, n_accounts=12)
        with pytest.warns(StatisticalWarning, match="rows carry statistical caveats"):
            card = evaluate_claims(data, claims="K1")
        assert card.table["note"].str.contains("Only 12 clusters").any()


def controlled_verdict(card, claim_id: str, proxy: str, outcome: str) -> str:
    return rows(card, claim_id, "controlled", proxy=proxy, outcome=outcome)["verdict"].iloc[0]


class TestK1DealSize:
    def test_planted_effect_is_supported(self, rng):
        card = quiet(deal_frame(rng, amount=0.3), claims="K1")
        row = rows(card, "K1", "controlled", proxy="is_repeat_customer").iloc[0]
        assert row["verdict"] == "supported"
        assert row["ci_low"] < np.exp(0.3) < row["ci_high"]

    def test_opposite_effect_is_contradicted(self, rng):
        card = quiet(deal_frame(rng, amount=-0.3), claims="K1")
        assert controlled_verdict(card, "K1", "is_repeat_customer", "amount") == "contradicted"

    def test_confounding_alone_fools_only_the_naive_row(self, rng):
        card = quiet(deal_frame(rng, n=1200), claims="K1")
        naive = rows(card, "K1", "naive", proxy="is_repeat_customer").iloc[0]
        assert naive["verdict"] == "supported"  # big accounts are both repeat and big
        assert controlled_verdict(card, "K1", "is_repeat_customer", "amount") == "inconclusive"
        assert "Naive and controlled disagree" in card.narrative()

    def test_relationship_entered_in_years(self, rng):
        card = quiet(deal_frame(rng, n=300), claims="K1")
        row = rows(card, "K1", "naive", proxy="relationship_days").iloc[0]
        assert "entered per year of relationship" in row["note"]


K2_REPEAT = replace(CLAIMS[1], proxies=("is_repeat_customer", "is_referral"))


class TestK2Speed:
    def test_faster_closing_is_supported(self, rng):
        card = quiet(deal_frame(rng, n=500, speed=0.6), claims=[K2_REPEAT])
        row = rows(card, "K2", "controlled", proxy="is_repeat_customer").iloc[0]
        assert row["effect"] == "hazard ratio of closing"
        assert row["verdict"] == "supported"
        assert "censored" in row["note"] or "Cox" in row["note"]

    def test_slower_closing_is_contradicted(self, rng):
        card = quiet(deal_frame(rng, n=500, speed=-0.6), claims=[K2_REPEAT])
        assert controlled_verdict(card, "K2", "is_repeat_customer", "time_to_close") == (
            "contradicted"
        )


class TestK3NewProducts:
    def test_restricted_to_new_products_and_supported(self, rng):
        data = deal_frame(rng, n=1500, won=0.8, speed=0.4)
        card = quiet(data, claims="K3")
        new = data["is_new_product_for_account"].astype(bool)
        won = rows(card, "K3", "naive", outcome="won").iloc[0]
        assert won["n"] == int((new & data["won"].notna()).sum())
        assert f"{int(new.sum())} of {len(data)}" in won["note"]
        assert controlled_verdict(card, "K3", "is_repeat_customer", "won") == "supported"
        assert controlled_verdict(card, "K3", "is_repeat_customer", "time_to_win") == "supported"
        assert rows(card, "K3", outcome="time_to_win")["effect"].iloc[0] == (
            "hazard ratio of winning"
        )

    def test_without_products_not_testable(self, rng):
        data = deal_frame(rng, n=300).assign(is_new_product_for_account=pd.NA)
        card = quiet(data, claims="K3")
        assert (card.table["verdict"] == "not testable").all()
        assert card.table["note"].str.contains("a product column").all()


class TestK4Ideas:
    def test_proactive_deals_rising_with_prior_wins_are_supported(self, rng):
        card = quiet(account_deals(rng, proactive=0.5), claims="K4")
        row = rows(card, "K4", "controlled", proxy="prior_won_deals", outcome="proactive_deal")
        assert row["verdict"].iloc[0] == "supported"
        rate = rows(card, "K4", "controlled", proxy="prior_won_deals", outcome="opportunities")
        assert rate.empty
        panel = rows(card, "K4", proxy="prior_won_deals", outcome="proactive_opportunities")
        assert panel["note"].str.contains("account-years").all()
        assert (panel["estimate"] > 1).all()

    def test_no_effect_no_support(self, rng):
        card = quiet(account_deals(rng), claims="K4")
        assert not (rows(card, "K4", "controlled")["verdict"] == "supported").any()


class TestK5Proactive:
    def test_rep_initiated_against_reactive(self, rng):
        data = deal_frame(rng, n=1200, proxy="rep_initiated", amount=0.3, won=0.6)
        card = quiet(data, claims="K5")
        assert controlled_verdict(card, "K5", "rep_initiated", "amount") == "supported"
        assert controlled_verdict(card, "K5", "rep_initiated", "won") == "supported"
        compared = data["lead_source_group"].isin(["outbound", "inbound", "existing_customer"])
        won = rows(card, "K5", "naive", outcome="won").iloc[0]
        assert won["n"] == int((compared & data["won"].notna()).sum())
        assert "other sources left out" in won["note"]


class TestK6Experience:
    def test_experience_clustered_by_owner(self, rng):
        data = deal_frame(rng, n=1500, proxy="owner_prior_deals", won=0.006, amount=0.003)
        card = quiet(data, claims="K6")
        won = rows(card, "K6", "controlled", outcome="won").iloc[0]
        assert won["verdict"] == "supported"
        assert won["effect"] == "odds ratio of winning per 10 earlier deals of the salesperson"
        assert "clustered by `owner`" in won["note"]
        assert won["estimate"] == pytest.approx(np.exp(0.06), abs=0.04)


class TestK7Relationship:
    def test_rate_rising_with_age_is_supported(self, rng):
        card = quiet(account_deals(rng, age_rate=0.35), claims="K7")
        row = rows(card, "K7", "controlled", outcome="opportunities").iloc[0]
        assert row["verdict"] == "supported"
        assert row["effect"] == "rate ratio of new opportunities per year of relationship"
        revenue = rows(card, "K7", "naive", proxy="relationship_days", outcome="won_revenue")
        assert revenue["estimate"].iloc[0] > 1
        repeat = rows(card, "K7", proxy="is_repeat_customer", outcome="opportunities")
        assert repeat["effect"].tolist() == ["rate ratio of new opportunities"] * 2

    def test_constant_rate_not_supported(self, rng):
        card = quiet(account_deals(rng), claims="K7")
        assert not (rows(card, "K7", "controlled")["verdict"] == "supported").any()


class TestK8Price:
    def test_higher_realisation_is_supported(self, rng):
        card = quiet(deal_frame(rng, price=0.06), claims="K8")
        row = rows(card, "K8", "controlled", proxy="is_repeat_customer").iloc[0]
        assert row["verdict"] == "supported"
        assert row["estimate"] == pytest.approx(np.exp(0.06), abs=0.02)
        assert row["effect"] == "price realisation ratio"

    def test_without_list_prices_not_testable(self, rng):
        data = deal_frame(rng, n=300).drop(columns=["list_price", "price_realisation"])
        card = quiet(data, claims="K8")
        assert (card.table["verdict"] == "not testable").all()
        price = card.table["outcome"] == "price_realisation"
        assert card.table.loc[price, "note"].str.contains("`list_price`").all()
        assert card.table.loc[~price, "note"].str.contains("`lost_on_price`").all()
        # Without a stage history the first-quote test is left out, not listed as untestable.
        assert set(card.table["outcome"]) == {"price_realisation", "lost_on_price"}
        with_history = quiet(data.assign(first_amount=np.nan), claims="K8")
        quote = with_history.table["outcome"] == "quote_realisation"
        assert with_history.table.loc[quote, "note"].str.contains("stage-history export").all()
        assert card.table[["estimate", "ci_low", "p_value"]].isna().all().all()


class TestK8Quote:
    def test_keeping_more_of_the_first_quote_is_supported(self, rng):
        data = deal_frame(rng).drop(columns=["list_price", "price_realisation"])
        repeat = data["is_repeat_customer"].to_numpy(dtype=bool)
        cut = 0.15 - 0.10 * repeat + rng.normal(0, 0.03, len(data))
        data["first_amount"] = data["amount"] / (1 - cut)
        card = quiet(data, claims="K8")
        row = rows(card, "K8", "controlled", proxy="is_repeat_customer")
        row = row[row["outcome"] == "quote_realisation"].iloc[0]
        assert row["verdict"] == "supported"
        # log(0.95 / 0.85): repeat customers keep about 12 % more of the first quote.
        assert row["estimate"] == pytest.approx(0.95 / 0.85, abs=0.02)
        assert row["effect"] == "first-quote realisation ratio"

    def test_null_quote_finds_nothing(self, rng):
        data = deal_frame(rng).drop(columns=["list_price", "price_realisation"])
        data["first_amount"] = data["amount"] / (0.85 + rng.normal(0, 0.03, len(data)))
        card = quiet(data, claims="K8")
        quote = card.table[card.table["outcome"] == "quote_realisation"]
        assert not (quote["verdict"] == "supported").any()


class TestNotTestable:
    def test_hubspot_like_export_without_sizes_or_products(self, rng):
        data = account_deals(rng, n_accounts=60).drop(columns=["employees", "log_employees"])
        card = quiet(data)
        assert card.missing_controls == ("log_employees", "product", "industry", "segment")
        assert card.controls == ("created_year",)
        note = rows(card, "K1", "controlled").iloc[0]["note"]
        assert "missing: log_employees, product, industry, segment" in note
        assert (rows(card, "K3")["verdict"] == "not testable").all()
        assert (rows(card, "K8")["verdict"] == "not testable").all()
        assert (card.table["verdict"] != "not testable").sum() > 20
        assert (
            "lack log_employees, product, industry and segment, so they could" in card.narrative()
        )

    def test_hubspot_export_through_read_export(self, tmp_path):
        world = simulate_world(n_accounts=100, seed=4)
        path = render_exports(world, tmp_path, seed=4)["hubspot_deals"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export = read_export(path)
            data = trust_features(export.deals, export.activities)
        card = quiet(data, claims=["K1", "K3", "K5", "K8"])
        assert card.missing_controls == ("log_employees", "product", "industry", "segment")
        verdicts = card.verdicts().set_index("claim_id")
        for claim_id, field in [
            ("K3", "a product column"),
            ("K5", "`rep_initiated` is False for all"),
            ("K8", "a list price per deal"),
        ]:
            assert verdicts.loc[claim_id, "verdict"] == "not testable"
            assert field in verdicts.loc[claim_id, "note"]
        assert verdicts.loc["K1", "verdict"] != "not testable"

    def test_unknown_lead_sources_are_missing_not_false(self, rng):
        data = deal_frame(rng, n=300).assign(
            lead_source_group="unknown", is_referral=False, rep_initiated=False
        )
        card = quiet(data, claims=["K1", "K5"])
        referral = rows(card, "K1", proxy="is_referral")
        assert (referral["verdict"] == "not testable").all()
        assert referral["note"].str.contains("`is_referral` (a lead source", regex=False).all()
        assert (rows(card, "K5")["verdict"] == "not testable").all()
        assert rows(card, "K5")["note"].str.contains("a lead source column").all()

    def test_missing_proxy_column_named(self, rng):
        data = deal_frame(rng, n=300).drop(columns="owner_prior_deals")
        card = quiet(data, claims="K6")
        assert (card.table["verdict"] == "not testable").all()
        assert (
            card.table["note"]
            .str.contains("`owner_prior_deals` (the deal owner)", regex=False)
            .all()
        )

    def test_too_little_data_is_a_row_not_an_error(self, rng):
        card = quiet(deal_frame(rng, n=8, n_accounts=4))
        assert (card.table["verdict"] == "not testable").all()
        assert card.table["note"].str.startswith("Not testable").all()
        assert rows(card, "K1", "controlled")["note"].str.contains("Controls: ").all()
        assert card.table[["estimate", "ci_low", "ci_high", "p_value"]].isna().all().all()
        assert (card.verdicts()["verdict"] == "not testable").all()

    def test_raw_deals_without_features(self, rng):
        deals = deal_frame(rng, n=100)[["deal_id", "account_id", "status", "amount"]]
        card = quiet(deals)
        assert (card.table["verdict"] == "not testable").all()

    def test_size_and_year_controls_are_read_from_the_features(self, rng):
        assert {"log_employees", "created_year"} <= set(CONTROL_COLUMNS)
        data = deal_frame(rng, n=300).drop(columns=["log_employees"])
        data["employees"] = np.exp(4 + rng.normal(size=len(data)))
        card = quiet(data, claims="K1")
        assert "log_employees" in card.missing_controls
        assert "log_employees" not in card.controls and "created_year" in card.controls

    def test_no_controls_available(self, rng):
        data = deal_frame(rng, n=300).drop(
            columns=["log_employees", "product", "industry", "segment", "created_year"]
        )
        card = quiet(data, claims="K1")
        controlled = rows(card, "K1", "controlled")
        assert (controlled["verdict"] == "not testable").all()
        assert controlled["note"].str.contains("none available").all()
        assert card.verdicts()["basis"].iloc[0] == "naive"


class TestScorecard:
    def test_verdicts_one_row_per_claim(self, rng):
        card = quiet(deal_frame(rng, amount=0.3), claims=["K1", "K3", "K8"])
        verdicts = card.verdicts()
        assert list(verdicts.columns) == VERDICT_COLUMNS
        assert list(verdicts["claim_id"]) == ["K1", "K3", "K8"]
        assert verdicts.set_index("claim_id").loc["K1", "verdict"] == "supported"
        assert verdicts.set_index("claim_id").loc["K1", "basis"] == "controlled"

    def test_narrative_is_written_from_the_numbers(self, rng):
        small = quiet(deal_frame(rng, amount=0.1), claims="K1").narrative()
        large = quiet(deal_frame(rng, amount=0.6), claims="K1").narrative()
        assert small != large
        figures = [
            re.search(r"repeat customers as for first-time buyers", t) for t in (small, large)
        ]
        assert all(figures)
        ratio = re.compile(r"Won deals are (\d+\.\d+)x as large for repeat customers")
        assert float(ratio.search(large).group(1)) > float(ratio.search(small).group(1))

    def test_narrative_quotes_the_table(self, rng):
        card = quiet(deal_frame(rng, amount=0.3), claims="K1")
        row = rows(card, "K1", "controlled", proxy="is_repeat_customer").iloc[0]
        text = card.narrative()
        assert f"{row['estimate']:.2f}x" in text
        assert f"{row['ci_low']:.2f}–{row['ci_high']:.2f}" in text
        assert "after controls" in text
        assert "adjust for account size, product, industry, segment and year" in text

    def test_narrative_names_one_missing_control_in_the_singular(self, rng):
        data = deal_frame(rng, amount=0.3).drop(columns=["segment"])
        text = quiet(data, claims="K1").narrative()
        assert "The data lack segment, so it could not be adjusted for." in text

    def test_narrative_never_claims_causation(self, rng):
        text = quiet(deal_frame(rng, n=250, amount=0.3)).narrative()
        assert not re.search(r"\b(proves?|proven|causes|caused)\b", text, flags=re.IGNORECASE)
        assert "do not show that trust is the cause" in text

    def test_select_keeps_the_figures_of_the_full_scorecard(self, rng):
        card = quiet(deal_frame(rng, amount=0.3), claims=["K1", "K5", "K8"])
        chosen = card.select(["K8", "K1"])
        full = card.table[card.table["claim_id"].isin(["K1", "K8"])]
        pd.testing.assert_frame_equal(chosen.table, full)
        assert list(chosen.table.columns) == TABLE_COLUMNS
        assert (chosen.alpha, chosen.controls, chosen.missing_controls, chosen.control_words) == (
            card.alpha,
            card.controls,
            card.missing_controls,
            card.control_words,
        )
        pd.testing.assert_frame_equal(
            chosen.verdicts(),
            card.verdicts().query("claim_id != 'K5'").reset_index(drop=True),
        )
        paragraphs = chosen.narrative().split("\n\n")
        assert [p[:3] for p in paragraphs[1:-1]] == ["K1.", "K8."]
        assert paragraphs[-1] == CAVEAT
        tested = int((full["verdict"] != "not testable").sum())
        assert paragraphs[0].startswith(f"{tested} of {len(full)} comparisons could be tested")
        assert chosen.select("K1").table.equals(card.table[card.table["claim_id"] == "K1"])

    def test_select_plots_only_its_claims(self, rng):
        card = quiet(deal_frame(rng, amount=0.3), claims=["K1", "K8"])
        ax = card.select("K8").plot()
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels and all(label.startswith("K8 ") for label in labels)

    def test_select_names_the_claims_it_holds(self, rng):
        card = quiet(deal_frame(rng, n=200), claims=["K1", "K8"], controls=None)
        with pytest.raises(InvalidValueError, match=r"No claim 'K2' .* holds K1, K8"):
            card.select(["K1", "K2"])

    def test_plot(self, rng):
        card = quiet(deal_frame(rng, amount=0.3), claims=["K1", "K8"])
        ax = card.plot()
        assert isinstance(ax, Axes)
        assert ax.get_xscale() == "log"
        tested = card.table[card.table["verdict"] != "not testable"]
        assert len(ax.get_yticklabels()) == len(tested.groupby(["claim_id", "proxy", "outcome"]))

    def test_plot_without_tested_rows(self, rng):
        ax = quiet(deal_frame(rng, n=8, n_accounts=4), claims="K1").plot()
        assert isinstance(ax, Axes)

    def test_markdown_and_html(self, rng):
        card = quiet(deal_frame(rng, amount=0.3), claims="K1")
        text = card.to_markdown()
        assert text.startswith("## Verdicts")
        header = "| " + " | ".join(c for c in TABLE_COLUMNS if c != "claim") + " |"
        assert header in text
        assert text.count("\n| K1 |") == len(card.table) + 1  # the verdict and every row
        assert "<table" in card._repr_html_()


class TestAccountYears:
    def test_hand_computed_panel(self):
        deals = pd.DataFrame(
            {
                "account_id": ["A", "A", "A", "A", "B", None],
                "created_at": pd.to_datetime(
                    [
                        "2022-07-02",
                        "2023-03-01",
                        "2023-09-01",
                        "2024-02-01",
                        "2023-01-01",
                        "2023-05-01",
                    ]
                ),
                "closed_at": pd.to_datetime(
                    ["2022-08-01", "2023-04-01", None, "2024-03-01", "2023-02-01", None]
                ),
                "status": ["won", "won", "open", "won", "lost", "open"],
                "amount": [100.0, 250.0, 80.0, 30.0, 40.0, 10.0],
                "rep_initiated": [False, True, False, False, False, False],
                "log_employees": [1.0, 1.0, 1.5, 1.5, 2.0, 3.0],
            }
        )
        panel = account_years(deals, as_of="2024-07-01")
        assert list(panel["account_id"]) == ["A", "A", "A", "B", "B"]
        assert list(panel["year"]) == [2022, 2023, 2024, 2023, 2024]
        expected = [
            (pd.Timestamp("2023-01-01") - pd.Timestamp("2022-07-02")).days / 365.25,
            365 / 365.25,
            (pd.Timestamp("2024-07-01") - pd.Timestamp("2024-01-01")).days / 365.25,
        ]
        np.testing.assert_allclose(panel["exposure_years"].iloc[:3], expected)
        # The first deal opens the relationship and is not counted.
        assert list(panel["opportunities"]) == [0, 2, 1, 0, 0]
        assert list(panel["proactive_opportunities"]) == [0, 1, 0, 0, 0]
        assert list(panel["prior_won_deals"]) == [0, 1, 2, 0, 0]
        assert list(panel["is_repeat_customer"]) == [False, True, True, False, False]
        assert list(panel["won_revenue"]) == [0.0, 250.0, 30.0, 0.0, 0.0]
        assert list(panel["log_employees"]) == [1.5, 1.5, 1.5, 2.0, 2.0]
        assert panel["relationship_years"].iloc[0] == pytest.approx(expected[0] / 2)

    def test_requires_dates(self):
        with pytest.raises(ColumnNotFoundError, match="created_at"):
            account_years(pd.DataFrame({"account_id": ["A"], "status": ["won"]}))


def world_card(effects: str, seed: int, n_accounts: int):
    world = simulate_world(n_accounts=n_accounts, effects=effects, seed=seed)
    return quiet(trust_features(world.deals, world.activities, as_of=world.as_of))


@pytest.fixture(scope="module")
def planted_card():
    return world_card("planted", seed=0, n_accounts=600)


@pytest.mark.slow
class TestSimulatedWorld:
    """The simulator plants an effect for every claim; its null world keeps the confounding."""

    def test_planted_claims_are_supported(self, planted_card):
        verdicts = planted_card.verdicts().set_index("claim_id")["verdict"]
        assert (verdicts == "supported").all(), verdicts.to_dict()
        assert not (planted_card.table["verdict"] == "contradicted").any()
        for claim_id, proxy, outcome in [
            ("K1", "is_repeat_customer", "amount"),
            ("K2", "is_repeat_customer", "time_to_close"),
            ("K3", "is_repeat_customer", "time_to_win"),
            ("K4", "prior_won_deals", "proactive_deal"),
            ("K5", "rep_initiated", "amount"),
            ("K6", "owner_prior_deals", "amount"),
            ("K7", "is_repeat_customer", "opportunities"),
            ("K8", "is_repeat_customer", "price_realisation"),
        ]:
            assert controlled_verdict(planted_card, claim_id, proxy, outcome) == "supported"

    def test_planted_narrative(self, planted_card):
        text = planted_card.narrative()
        assert text.count("Verdict: supported") == len(CLAIMS)
        assert "Naive and controlled disagree" in text or "Without controls it would read" in text

    def test_null_world_supports_nothing_beyond_chance(self):
        tested = supported = supported_claims = 0
        for seed in range(3):
            card = world_card("null", seed=seed, n_accounts=500)
            controlled = card.table[card.table["adjustment"] == "controlled"]
            tested += int((controlled["verdict"] != "not testable").sum())
            supported += int((controlled["verdict"] == "supported").sum())
            supported_claims += int((card.verdicts()["verdict"] == "supported").sum())
            # Confounding by account size is kept: the naive repeat-customer gap overstates.
            naive, adjusted = (
                rows(card, "K1", a, proxy="is_repeat_customer")["estimate"].iloc[0]
                for a in ("naive", "controlled")
            )
            assert naive > adjusted
        assert tested == 3 * 27
        assert supported <= 1
        assert supported_claims <= 1
