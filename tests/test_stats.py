"""association and correlations: the models they choose, their numbers and their complaints."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from matplotlib.axes import Axes
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from salesinsight.exceptions import (
    AnalysisError,
    ColumnNotFoundError,
    ConvergenceWarning,
    InvalidValueError,
    SeparationWarning,
    SmallSampleWarning,
)
from salesinsight.plots import forest
from salesinsight.stats.association import association
from salesinsight.stats.bootstrap import cluster_bootstrap
from salesinsight.stats.correlation import correlations
from salesinsight.stats.design import OTHER_LEVEL, bh_adjust

TIDY = [
    "term",
    "estimate",
    "std_err",
    "ci_low",
    "ci_high",
    "p_value",
    "n",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
]


def make_deals(
    rng: np.random.Generator, n_accounts: int = 80, per_account: int = 6
) -> pd.DataFrame:
    """Deals with account effects, a trust flag, a size control, a segment and all outcomes."""
    n = n_accounts * per_account
    account = np.repeat(np.arange(n_accounts), per_account)
    size = rng.normal(0, 1, n_accounts)[account]
    account_effect = rng.normal(0, 0.4, n_accounts)[account]
    repeat = rng.random(n) < 1 / (1 + np.exp(-size))
    segment = np.where(size > 0.5, "enterprise", np.where(size > -0.5, "mid", "smb"))
    log_amount = 9 + 0.3 * repeat + 0.4 * size + account_effect + rng.normal(0, 0.6, n)
    p_win = 1 / (1 + np.exp(-(-0.5 + 0.7 * repeat + 0.3 * size + account_effect)))
    won = rng.random(n) < p_win
    is_open = rng.random(n) < 0.2
    status = np.where(is_open, "open", np.where(won, "won", "lost"))
    return pd.DataFrame(
        {
            "deal_id": [f"D{i}" for i in range(n)],
            "account_id": [f"A{a}" for a in account],
            "status": status,
            "amount": np.exp(log_amount),
            "is_repeat_customer": repeat,
            "log_employees": size + rng.normal(0, 0.1, n),
            "segment": segment,
            "won": np.where(is_open, np.nan, won.astype(float)),
            "price_realisation": 0.9 + 0.05 * repeat + rng.normal(0, 0.05, n),
        }
    )


@pytest.fixture
def deals(rng: np.random.Generator) -> pd.DataFrame:
    return make_deals(rng)


def assert_same_fit(summary: pd.DataFrame, result, terms: dict[str, str]) -> None:
    """Our tidy row for each term equals statsmodels' numbers for the named parameter."""
    table = summary.set_index("term")
    conf = result.conf_int()
    for ours, theirs in terms.items():
        row = table.loc[ours]
        np.testing.assert_allclose(row["estimate"], result.params[theirs], rtol=1e-10)
        np.testing.assert_allclose(row["std_err"], result.bse[theirs], rtol=1e-10)
        np.testing.assert_allclose(row["p_value"], result.pvalues[theirs], rtol=1e-8, atol=1e-300)
        np.testing.assert_allclose(
            [row["ci_low"], row["ci_high"]], conf.loc[theirs].to_numpy(), rtol=1e-10
        )


class TestAssociation:
    def test_amount_matches_statsmodels_ols_with_clustered_errors(self, deals):
        result = association(
            deals,
            outcome="amount",
            predictor="is_repeat_customer",
            controls=["log_employees", "segment"],
        )
        won = deals[deals["status"] == "won"].assign(
            repeat=lambda d: d["is_repeat_customer"].astype(float)
        )
        reference = won["segment"].value_counts().idxmax()
        others = sorted(set(won["segment"]) - {reference})
        direct = smf.ols(
            f"np.log(amount) ~ repeat + log_employees + C(segment, Treatment('{reference}'))",
            data=won,
        ).fit(
            cov_type="cluster",
            cov_kwds={"groups": pd.factorize(won["account_id"])[0]},
            use_t=True,
        )
        assert_same_fit(
            result.summary,
            direct,
            {
                "is_repeat_customer": "repeat",
                "log_employees": "log_employees",
                **{
                    f"segment[{level}]": f"C(segment, Treatment('{reference}'))[T.{level}]"
                    for level in others
                },
                "Intercept": "Intercept",
            },
        )
        assert result.family == "log_ols"
        assert result.effect == "deal size ratio"
        assert result.n == len(won)
        assert result.n_clusters == won["account_id"].nunique()

    def test_won_matches_statsmodels_logit_over_closed_deals(self, deals):
        result = association(
            deals, outcome="won", predictor="is_repeat_customer", controls="log_employees"
        )
        closed = deals[deals["status"] != "open"].assign(
            repeat=lambda d: d["is_repeat_customer"].astype(float)
        )
        groups = pd.factorize(closed["account_id"])[0]
        n_groups = groups.max() + 1
        # R's vcovCL(type = "HC0") and Stata's factor for likelihood models: G/(G-1) alone.
        direct = smf.logit("won ~ repeat + log_employees", data=closed).fit(
            disp=0,
            cov_type="cluster",
            cov_kwds={
                "groups": groups,
                "use_correction": False,
                "scaling_factor": n_groups / (n_groups - 1),
            },
            use_t=True,
        )
        assert_same_fit(
            result.summary,
            direct,
            {"is_repeat_customer": "repeat", "log_employees": "log_employees"},
        )
        assert result.family == "logit"
        assert result.effect == "odds ratio of winning"
        assert result.n == len(closed)

    def test_won_is_derived_from_status_when_the_column_is_absent(self, deals):
        with_column = association(deals, outcome="won", predictor="is_repeat_customer")
        from_status = association(
            deals.drop(columns="won"), outcome="won", predictor="is_repeat_customer"
        )
        pd.testing.assert_frame_equal(with_column.summary, from_status.summary)

    def test_summary_layout_predictor_first_intercept_last_and_ratios(self, deals):
        result = association(
            deals, outcome="amount", predictor="is_repeat_customer", controls=["segment"]
        )
        summary = result.summary
        assert list(summary.columns) == TIDY
        assert summary["term"].iloc[0] == "is_repeat_customer"
        assert summary["term"].iloc[-1] == "Intercept"
        np.testing.assert_allclose(summary["ratio"], np.exp(summary["estimate"]))
        np.testing.assert_allclose(summary["ratio_ci_low"], np.exp(summary["ci_low"]))
        assert (summary["n"] == result.n).all()

    def test_raw_outcome_uses_ols_without_ratios(self, deals):
        result = association(deals, outcome="price_realisation", predictor="is_repeat_customer")
        assert result.family == "ols"
        assert result.summary[["ratio", "ratio_ci_low", "ratio_ci_high"]].isna().all().all()
        assert result.summary["estimate"].iloc[0] == pytest.approx(0.05, abs=0.02)
        assert result.n == len(deals)

    def test_categorical_predictor_has_one_term_per_level_first(self, deals):
        result = association(deals, outcome="amount", predictor="segment")
        won = deals[deals["status"] == "won"]
        reference = won["segment"].value_counts().idxmax()
        others = sorted(set(won["segment"]) - {reference})
        assert list(result.summary["term"]) == [*(f"segment[{lv}]" for lv in others), "Intercept"]
        assert f"most common level `{reference}`" in result.note

    def test_rare_levels_are_pooled(self, deals):
        deals = deals.assign(industry="retail")
        deals.loc[deals.index[:3], "industry"] = "mining"
        deals.loc[deals.index[3:6], "industry"] = "fishing"
        deals.loc[deals.index[6:60], "industry"] = "software"
        result = association(
            deals, outcome="price_realisation", predictor="is_repeat_customer", controls="industry"
        )
        assert f"industry[{OTHER_LEVEL}]" in set(result.summary["term"])
        assert "industry[mining]" not in set(result.summary["term"])
        assert "pooled" in result.note

    def test_missing_values_are_dropped_and_counted(self, deals):
        deals = deals.copy()
        deals.loc[deals.index[:7], "price_realisation"] = np.nan
        deals.loc[deals.index[5:10], "log_employees"] = np.nan
        result = association(
            deals,
            outcome="price_realisation",
            predictor="is_repeat_customer",
            controls="log_employees",
        )
        assert result.n == len(deals) - 10
        assert "10 of" in result.note
        assert "log_employees: 5" in result.note

    def test_amount_zero_won_deals_are_left_out_and_open_deals_ignored(self, deals):
        deals = deals.copy()
        won_rows = deals.index[deals["status"] == "won"]
        deals.loc[won_rows[:4], "amount"] = 0.0
        result = association(deals, outcome="amount", predictor="is_repeat_customer")
        assert result.n == len(won_rows) - 4
        assert "4 won deal(s) with amount 0" in result.note

    def test_poisson_with_exposure_recovers_the_rate_ratio(self, rng):
        n = 600
        accounts = np.repeat(np.arange(150), 4)
        trusted = rng.random(n) < 0.5
        years = rng.uniform(0.2, 3.0, n)
        counts = rng.poisson(years * np.exp(0.2 + np.log(1.5) * trusted))
        frame = pd.DataFrame(
            {"account_id": accounts, "trusted": trusted, "years": years, "new_opps": counts}
        )
        result = association(frame, outcome="new_opps", predictor="trusted", exposure="years")
        direct = sm.Poisson(
            counts, sm.add_constant(trusted.astype(float)), offset=np.log(years)
        ).fit(disp=0, cov_type="cluster", cov_kwds={"groups": accounts}, use_t=True)
        row = result.summary.iloc[0]
        assert result.family == "poisson"
        assert result.effect == "rate ratio"
        assert row["ratio_ci_low"] < 1.5 < row["ratio_ci_high"]
        np.testing.assert_allclose(row["estimate"], direct.params[1], rtol=1e-8)
        np.testing.assert_allclose(row["std_err"], direct.bse[1], rtol=1e-6)
        np.testing.assert_allclose([row["ci_low"], row["ci_high"]], direct.conf_int()[1], rtol=1e-6)

    def test_overdispersed_counts_use_negative_binomial(self, rng):
        n = 800
        accounts = np.repeat(np.arange(200), 4)
        trusted = rng.random(n) < 0.5
        mean = np.exp(1.0 + 0.4 * trusted) * rng.gamma(1.0, 1.0, n)
        frame = pd.DataFrame(
            {"account_id": accounts, "trusted": trusted, "ideas": rng.poisson(mean)}
        )
        result = association(frame, outcome="ideas", predictor="trusted")
        direct = sm.NegativeBinomial(
            frame["ideas"].to_numpy(), sm.add_constant(trusted.astype(float))
        ).fit(disp=0, maxiter=200, cov_type="cluster", cov_kwds={"groups": accounts}, use_t=True)
        assert result.family == "negative_binomial"
        assert "negative binomial" in result.note
        assert list(result.summary["term"]) == ["trusted", "Intercept"]
        np.testing.assert_allclose(result.summary["estimate"].iloc[0], direct.params[1], rtol=1e-5)
        assert result.summary["ratio_ci_low"].iloc[0] < np.exp(0.4)

    def test_without_cluster_uses_hc1_errors(self, deals):
        result = association(
            deals, outcome="price_realisation", predictor="is_repeat_customer", cluster=None
        )
        direct = sm.OLS(
            deals["price_realisation"],
            sm.add_constant(deals["is_repeat_customer"].astype(float)),
        ).fit(cov_type="HC1", use_t=True)
        np.testing.assert_allclose(
            result.summary["std_err"].iloc[0], direct.bse["is_repeat_customer"], rtol=1e-10
        )
        assert result.n_clusters is None
        assert "HC1" in result.note

    def test_unknown_column_names_the_closest(self, deals):
        with pytest.raises(ColumnNotFoundError, match="is_repeat_customer"):
            association(deals, outcome="amount", predictor="is_repeat_custmer")
        with pytest.raises(ColumnNotFoundError, match="cluster=None"):
            association(deals, outcome="amount", predictor="is_repeat_customer", cluster="acct")

    def test_constant_predictor_is_an_analysis_error(self, deals):
        with pytest.raises(AnalysisError, match="single value"):
            association(deals.assign(flag=True), outcome="amount", predictor="flag")

    def test_predictor_duplicated_by_a_control_is_an_analysis_error(self, deals):
        deals = deals.assign(copy=deals["is_repeat_customer"].astype(float) * 2)
        with pytest.raises(AnalysisError, match="fully determined"):
            association(deals, outcome="amount", predictor="is_repeat_customer", controls="copy")

    def test_collinear_control_is_left_out_with_a_remark(self, deals):
        deals = deals.assign(size_twice=deals["log_employees"] * 2)
        result = association(
            deals,
            outcome="amount",
            predictor="is_repeat_customer",
            controls=["log_employees", "size_twice"],
        )
        assert "size_twice" not in set(result.summary["term"])
        assert "collinear" in result.note

    def test_too_few_rows_reports_the_numbers(self, deals):
        with pytest.raises(AnalysisError, match=r"Only 8 .* at least 10"):
            association(deals.iloc[:8], outcome="price_realisation", predictor="is_repeat_customer")

    def test_too_few_events_reports_the_numbers(self, deals):
        deals = deals.assign(won=np.where(np.arange(len(deals)) < 3, 1.0, 0.0))
        with pytest.raises(AnalysisError, match=r"3 of \d+ .* at least 5"):
            association(deals, outcome="won", predictor="is_repeat_customer")

    def test_few_clusters_warn_and_note(self, deals):
        few = deals[deals["account_id"].isin([f"A{i}" for i in range(12)])]
        with pytest.warns(SmallSampleWarning, match="12 clusters"):
            result = association(few, outcome="price_realisation", predictor="is_repeat_customer")
        assert "12 clusters" in result.note

    def test_separation_warns_and_notes(self, deals):
        deals = deals.assign(won=np.where(deals["is_repeat_customer"], 1.0, deals["won"]))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = association(deals, outcome="won", predictor="is_repeat_customer")
        categories = {w.category for w in caught}
        assert SeparationWarning in categories
        assert "separation" in result.note
        assert "is_repeat_customer` = 1 only with outcome 1" in result.note

    def test_separation_at_the_zero_level_names_it(self, deals):
        deals = deals.assign(won=np.where(deals["is_repeat_customer"], deals["won"], 0.0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = association(deals, outcome="won", predictor="is_repeat_customer")
        assert "is_repeat_customer` = 0 only with outcome 0" in result.note

    def test_non_convergence_warns_once_and_notes(self, rng):
        x = rng.normal(size=200)
        frame = pd.DataFrame(
            {"account_id": np.repeat(np.arange(50), 4), "x": x, "won": (x > 0).astype(float)}
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = association(frame, outcome="won", predictor="x")
        assert [w.category for w in caught].count(ConvergenceWarning) == 1
        assert "did not converge" in result.note
        assert not any(
            issubclass(w.category, RuntimeWarning) and w.category.__module__ == "builtins"
            for w in caught
        )

    def test_exposure_only_for_counts(self, deals):
        with pytest.raises(InvalidValueError, match="count"):
            association(
                deals, outcome="amount", predictor="is_repeat_customer", exposure="log_employees"
            )

    def test_plot_and_html(self, deals):
        result = association(
            deals, outcome="amount", predictor="is_repeat_customer", controls="log_employees"
        )
        ax = result.plot()
        assert isinstance(ax, Axes)
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels == ["is_repeat_customer", "log_employees"]
        assert ax.get_xscale() == "log"
        html = result._repr_html_()
        assert "<table" in html and "deal size ratio" in html.lower()


class TestBhAdjust:
    def test_matches_statsmodels(self, rng):
        p = rng.uniform(0, 0.2, 40)
        expected = multipletests(p, method="fdr_bh")[1]
        np.testing.assert_allclose(bh_adjust(p), expected)

    def test_rejects_values_outside_zero_one(self):
        with pytest.raises(InvalidValueError):
            bh_adjust([0.1, 1.5])


def clustered_pairs(
    rng: np.random.Generator, *, n_accounts: int, per_account: int, rho: float
) -> pd.DataFrame:
    """x and y sharing a correlation `rho` through account-level effects only."""
    account = np.repeat(np.arange(n_accounts), per_account)
    shared = rng.normal(size=n_accounts)
    x = shared[account] + 0.3 * rng.normal(size=account.size)
    y = rho * shared[account] + np.sqrt(1 - rho**2) * rng.normal(size=n_accounts)[account]
    y = y + 0.3 * rng.normal(size=account.size)
    return pd.DataFrame({"account_id": account, "x": x, "y": np.round(y, 1)})


class TestCorrelations:
    def test_estimates_equal_scipy(self, deals):
        table = correlations(
            deals, proxies=["is_repeat_customer"], outcomes=["price_realisation"], n_boot=200
        )
        expected = sps.spearmanr(
            deals["is_repeat_customer"].astype(float), deals["price_realisation"]
        ).statistic
        assert table["estimate"].iloc[0] == pytest.approx(expected)
        kendall = correlations(
            deals,
            proxies="is_repeat_customer",
            outcomes="price_realisation",
            method="kendall",
            n_boot=100,
        )
        assert kendall["estimate"].iloc[0] == pytest.approx(
            sps.kendalltau(deals["is_repeat_customer"], deals["price_realisation"]).statistic
        )

    def test_vectorised_bootstrap_equals_spearman_on_resampled_rows(self, rng):
        frame = clustered_pairs(rng, n_accounts=30, per_account=5, rho=0.5)
        x, y = frame["x"].to_numpy(), frame["y"].to_numpy()
        codes = frame["account_id"].to_numpy()
        fast = cluster_bootstrap(
            x, y, codes, method="spearman", n_boot=25, rng=np.random.default_rng(7)
        )
        draw = np.random.default_rng(7)
        slow = []
        for _ in range(25):
            counts = draw.multinomial(30, np.full(30, 1 / 30))
            index = np.repeat(np.arange(len(x)), counts[codes])
            slow.append(sps.spearmanr(x[index], y[index]).statistic)
        np.testing.assert_allclose(fast, slow, rtol=1e-10)

    def test_resampling_accounts_widens_the_interval(self, rng):
        frame = clustered_pairs(rng, n_accounts=40, per_account=10, rho=0.3)
        by_account = correlations(frame, proxies="x", outcomes="y", n_boot=1000)
        by_row = correlations(frame, proxies="x", outcomes="y", n_boot=1000, cluster=None)
        width = (by_account["ci_high"] - by_account["ci_low"]).iloc[0]
        naive = (by_row["ci_high"] - by_row["ci_low"]).iloc[0]
        assert width > 1.8 * naive
        assert by_account["n_clusters"].iloc[0] == 40
        assert by_row["n_clusters"].iloc[0] == 400

    def test_planted_and_null_correlations(self, rng):
        planted = clustered_pairs(rng, n_accounts=100, per_account=4, rho=0.6)
        null = clustered_pairs(rng, n_accounts=100, per_account=4, rho=0.0)
        hit = correlations(planted, proxies="x", outcomes="y", n_boot=1000).iloc[0]
        miss = correlations(null, proxies="x", outcomes="y", n_boot=1000).iloc[0]
        assert hit["ci_low"] > 0 and hit["p_value"] < 0.05
        assert miss["ci_low"] < 0 < miss["ci_high"] and miss["p_value"] > 0.05

    def test_layout_seed_and_pairs(self, deals):
        table = correlations(
            deals,
            proxies=["is_repeat_customer", "log_employees"],
            outcomes=["price_realisation", "won"],
            n_boot=200,
            seed=3,
        )
        assert list(table.columns) == [
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
        assert len(table) == 4
        assert table.loc[table["outcome"] == "won", "n"].iloc[0] == deals["won"].notna().sum()
        again = correlations(
            deals, proxies="log_employees", outcomes="won", n_boot=200, seed=3
        ).iloc[0]
        assert again["ci_low"] == table.iloc[3]["ci_low"]

    def test_constant_column_is_explained_not_invented(self, deals):
        table = correlations(
            deals.assign(flag=1.0), proxies="flag", outcomes="price_realisation", n_boot=100
        )
        assert np.isnan(table["estimate"].iloc[0])
        assert "single value" in table["note"].iloc[0]

    def test_few_clusters_warn(self, deals):
        few = deals[deals["account_id"].isin([f"A{i}" for i in range(8)])]
        with pytest.warns(SmallSampleWarning, match="clusters"):
            table = correlations(
                few, proxies="log_employees", outcomes="price_realisation", n_boot=100
            )
        assert "8 clusters" in table["note"].iloc[0]

    def test_bad_arguments(self, deals):
        with pytest.raises(ColumnNotFoundError, match="log_employees"):
            correlations(deals, proxies="log_employes", outcomes="won", n_boot=100)
        with pytest.raises(InvalidValueError, match="method"):
            correlations(deals, proxies="log_employees", outcomes="won", method="pearson")
        with pytest.raises(InvalidValueError, match="n_boot"):
            correlations(deals, proxies="log_employees", outcomes="won", n_boot=10)
        with pytest.raises(InvalidValueError, match="numbers"):
            correlations(deals, proxies="segment", outcomes="won", n_boot=100)


class TestNullableColumns:
    """trust_features returns pandas' nullable dtypes; missing entries are left out, not errors."""

    def test_boolean_int64_and_string_columns(self, deals):
        deals = deals.assign(
            is_repeat_customer=pd.array(deals["is_repeat_customer"], dtype="boolean"),
            won=pd.array(deals["won"], dtype="Float64"),
            prior_won_deals=pd.array(np.arange(len(deals)) % 4, dtype="Int64"),
            segment=deals["segment"].astype("str"),
        )
        deals.loc[deals.index[0], "is_repeat_customer"] = pd.NA
        deals.loc[deals.index[1], "prior_won_deals"] = pd.NA
        plain = deals.dropna(subset=["is_repeat_customer", "prior_won_deals"]).assign(
            is_repeat_customer=lambda d: d["is_repeat_customer"].astype(bool),
            won=lambda d: d["won"].astype(float),
            prior_won_deals=lambda d: d["prior_won_deals"].astype(int),
        )
        options = {"predictor": "is_repeat_customer", "controls": ["prior_won_deals", "segment"]}
        nullable = association(deals, outcome="won", **options)
        numpy_typed = association(plain, outcome="won", **options)
        pd.testing.assert_frame_equal(nullable.summary, numpy_typed.summary)
        table = correlations(
            deals, proxies=["is_repeat_customer", "prior_won_deals"], outcomes="won", n_boot=100
        )
        assert table["estimate"].notna().all()
        assert table["n"].tolist() == [
            int((deals["is_repeat_customer"].notna() & deals["won"].notna()).sum()),
            int((deals["prior_won_deals"].notna() & deals["won"].notna()).sum()),
        ]


class TestForest:
    def test_ratio_scale_groups_and_plain_labels(self):
        table = pd.DataFrame(
            {
                "term": ["a", "b", "a", "b"],
                "fit": ["naive", "naive", "controlled", "controlled"],
                "ratio": [1.5, 0.8, 1.2, 0.9],
                "ratio_ci_low": [1.2, 0.6, 1.0, 0.7],
                "ratio_ci_high": [1.9, 1.1, 1.4, 1.2],
            }
        )
        ax = forest(table, group="fit")
        assert ax.get_xscale() == "log"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["naive", "controlled"]
        assert ax.lines[-1].get_xdata()[0] == 1.0  # the no-effect line
        ax.figure.canvas.draw()
        labels = [t.get_text() for t in ax.get_xticklabels(minor=False) if t.get_text()]
        assert "1" in labels and not any("e" in label or "^" in label for label in labels)

    def test_estimate_scale_without_ratios(self):
        table = pd.DataFrame(
            {
                "term": ["x", "Intercept"],
                "estimate": [0.05, 0.9],
                "ci_low": [0.01, 0.8],
                "ci_high": [0.09, 1.0],
                "ratio": [np.nan, np.nan],
            }
        )
        ax = forest(table)
        assert ax.get_xscale() == "linear"
        assert [t.get_text() for t in ax.get_yticklabels()] == ["x"]
        assert ax.lines[-1].get_xdata()[0] == 0.0

    def test_missing_columns_are_named(self):
        with pytest.raises(ColumnNotFoundError, match="ratio_ci_low"):
            forest(pd.DataFrame({"term": ["x"], "ratio": [1.2]}))
