"""Fits from cross-products equal statsmodels' own fits on the same data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.regression import linear_model
from statsmodels.regression.linear_model import OLSResults, RegressionResultsWrapper

from salesinsight.stats._fast.regression import RateFit, ols_fit, poisson_rate_fit
from salesinsight.stats.checks import Caveats
from salesinsight.stats.design import build_design

TIGHT = 1e-9


def _no_svd(*args, **kwargs):
    raise AssertionError("the fast path must not take an SVD of the design")


def deals(rng: np.random.Generator, n: int = 2000) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "repeat": rng.random(n) < 0.4,
            "log_employees": rng.normal(5.0, 1.2, n),
            # A numeric year far from zero makes the design ill-conditioned on purpose.
            "year": rng.integers(2020, 2025, n).astype(float),
            "segment": rng.choice(["smb", "mid", "ent"], n, p=[0.6, 0.3, 0.1]),
            "account": rng.integers(0, 300, n),
        }
    )
    frame["log_amount"] = (
        9
        + 0.3 * frame["repeat"]
        + 0.2 * frame["log_employees"]
        + 0.05 * (frame["year"] - 2020)
        + rng.normal(0, 0.6, n)
    )
    return frame


def design_of(frame: pd.DataFrame, predictor: str = "repeat", controls=None):
    controls = ["log_employees", "year", "segment"] if controls is None else controls
    return build_design(
        frame, predictor=predictor, controls=controls, caveats=Caveats(), intercept=True
    )


class TestOlsFit:
    @pytest.mark.parametrize(
        "cov",
        [
            {"cov_type": "cluster", "use_t": True},
            {"cov_type": "HC1", "use_t": True},
            {},
        ],
    )
    def test_equals_statsmodels_without_its_svd(self, rng, cov, monkeypatch):
        frame = deals(rng)
        design = design_of(frame, controls=["log_employees", "segment"])
        if cov.get("cov_type") == "cluster":
            cov = {**cov, "cov_kwds": {"groups": frame["account"].to_numpy()}}
        with monkeypatch.context() as patched:
            patched.setattr(linear_model, "pinv_extended", _no_svd)
            fast = ols_fit(frame["log_amount"], design, **cov)
        slow = sm.OLS(frame["log_amount"], design.exog).fit(**cov)
        assert isinstance(fast, RegressionResultsWrapper)
        assert isinstance(fast._results, OLSResults)
        assert list(fast.params.index) == list(slow.params.index)
        np.testing.assert_allclose(fast.params, slow.params, rtol=TIGHT)
        np.testing.assert_allclose(fast.bse, slow.bse, rtol=1e-7)
        np.testing.assert_allclose(fast.pvalues, slow.pvalues, rtol=1e-6)
        np.testing.assert_allclose(fast.resid, slow.resid, rtol=1e-8, atol=1e-10)
        assert fast.df_resid == slow.df_resid and fast.df_model == slow.df_model
        assert fast.model.rank == slow.model.rank
        np.testing.assert_allclose(
            fast.model.wexog_singular_values, slow.model.wexog_singular_values, rtol=1e-6
        )
        np.testing.assert_allclose(fast.model.pinv_wexog, slow.model.pinv_wexog, atol=1e-9)
        assert fast.summary() is not None

    def test_ill_conditioned_design_is_left_to_statsmodels(self, rng):
        # A calendar year as a number beside the intercept: condition number in the millions.
        frame = deals(rng)
        design = design_of(frame)
        cov = {"cov_type": "cluster", "cov_kwds": {"groups": frame["account"]}, "use_t": True}
        fast = ols_fit(frame["log_amount"], design, **cov)
        slow = sm.OLS(frame["log_amount"], design.exog).fit(**cov)
        np.testing.assert_array_equal(fast.params, slow.params)
        np.testing.assert_array_equal(fast.bse, slow.bse)

    def test_well_conditioned_design_agrees_to_rounding(self, rng):
        frame = deals(rng)
        design = design_of(frame, controls=["log_employees", "segment"])
        cov = {"cov_type": "cluster", "cov_kwds": {"groups": frame["account"]}, "use_t": True}
        fast = ols_fit(frame["log_amount"], design, **cov)
        slow = sm.OLS(frame["log_amount"], design.exog).fit(**cov)
        np.testing.assert_allclose(fast.params, slow.params, rtol=TIGHT)
        np.testing.assert_allclose(fast.bse, slow.bse, rtol=TIGHT)
        np.testing.assert_allclose(fast.conf_int(), slow.conf_int(), rtol=TIGHT)

    def test_without_intercept_column(self, rng):
        frame = deals(rng)
        design = build_design(
            frame,
            predictor="repeat",
            controls=["log_employees"],
            caveats=Caveats(),
            intercept=False,
        )
        fast = ols_fit(frame["log_amount"], design, cov_type="HC1")
        slow = sm.OLS(frame["log_amount"], design.exog).fit(cov_type="HC1")
        np.testing.assert_allclose(fast.params, slow.params, rtol=TIGHT)
        np.testing.assert_allclose(fast.bse, slow.bse, rtol=1e-8)


def panel(rng: np.random.Generator, n_accounts: int = 400, effect: float = 0.15) -> pd.DataFrame:
    years = rng.integers(1, 6, n_accounts)
    account = np.repeat(np.arange(n_accounts), years)
    n = len(account)
    size = rng.normal(0, 1, n_accounts)[account]
    frame = pd.DataFrame(
        {
            "Intercept": 1.0,
            "age": rng.uniform(0, 8, n),
            "log_employees": 4 + size,
            "industry[b]": (rng.random(n) < 0.3).astype(float),
            "account": account,
            "exposure": rng.uniform(0.1, 1.0, n),
        }
    )
    rate = frame["exposure"] * np.exp(-1 + effect * frame["age"] + 0.3 * size)
    frame["count"] = rng.poisson(rate).astype(float)
    frame["revenue"] = frame["count"] * rng.lognormal(9, 1, n)
    return frame


TERMS = ["Intercept", "age", "log_employees", "industry[b]"]


def statsmodels_rate(frame: pd.DataFrame, outcome: str, groups: bool):
    y = frame[outcome] / frame[outcome].mean()
    model = sm.GLM(
        y, frame[TERMS], family=sm.families.Poisson(), exposure=frame["exposure"].to_numpy()
    )
    if groups:
        return model.fit(cov_type="cluster", cov_kwds={"groups": frame["account"].to_numpy()})
    return model.fit(cov_type="HC1")


class TestPoissonRateFit:
    @pytest.mark.parametrize("outcome", ["count", "revenue"])
    @pytest.mark.parametrize("clustered", [True, False])
    def test_equals_statsmodels_glm(self, rng, outcome, clustered):
        frame = panel(rng)
        y = frame[outcome] / frame[outcome].mean()
        fast = poisson_rate_fit(
            y,
            frame[TERMS],
            exposure=frame["exposure"].to_numpy(),
            groups=frame["account"].to_numpy() if clustered else None,
        )
        slow = statsmodels_rate(frame, outcome, clustered)
        assert isinstance(fast, RateFit)
        assert fast.converged and slow.converged
        assert fast.iterations == slow.fit_history["iteration"]
        np.testing.assert_allclose(fast.params, slow.params, rtol=TIGHT)
        np.testing.assert_allclose(fast.bse, slow.bse, rtol=TIGHT)
        np.testing.assert_allclose(fast.pvalues, slow.pvalues, rtol=1e-8)
        np.testing.assert_allclose(fast.cov_params, slow.cov_params(), rtol=1e-8, atol=1e-14)
        assert fast.use_t == slow.use_t

    def test_recovers_a_planted_rate_ratio_and_finds_none_without(self, rng):
        planted = panel(rng, n_accounts=3000, effect=0.15)
        null = panel(rng, n_accounts=3000, effect=0.0)
        fits = [
            poisson_rate_fit(
                p["count"] / p["count"].mean(),
                p[TERMS],
                exposure=p["exposure"].to_numpy(),
                groups=p["account"].to_numpy(),
            )
            for p in (planted, null)
        ]
        assert abs(fits[0].params["age"] - 0.15) < 4 * fits[0].bse["age"]
        assert fits[0].pvalues["age"] < 1e-6
        assert abs(fits[1].params["age"]) < 4 * fits[1].bse["age"]

    @pytest.mark.filterwarnings("ignore:The design matrix is rank-deficient")
    def test_singular_steps_are_left_to_statsmodels(self, rng):
        frame = panel(rng)
        frame["age_again"] = frame["age"]
        exog = frame[[*TERMS, "age_again"]]
        y = frame["count"] / frame["count"].mean()
        fast = poisson_rate_fit(
            y, exog, exposure=frame["exposure"].to_numpy(), groups=frame["account"].to_numpy()
        )
        slow = sm.GLM(
            y, exog, family=sm.families.Poisson(), exposure=frame["exposure"].to_numpy()
        ).fit(cov_type="cluster", cov_kwds={"groups": frame["account"].to_numpy()})
        np.testing.assert_allclose(fast.params, slow.params, rtol=TIGHT)
        np.testing.assert_allclose(fast.cov_params, slow.cov_params(), rtol=TIGHT)
