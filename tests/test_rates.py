"""The pseudo-Poisson rate model: its solver from cross-products equals statsmodels' GLM."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from salesinsight.stats._fast.poisson import RateFit, poisson_rate_fit
from salesinsight.stats.checks import Caveats
from salesinsight.stats.design import build_design
from salesinsight.stats.rates import poisson_rate

TIGHT = 1e-9


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
        # statsmodels keeps the weights of the last IRLS step, here those at the estimates.
        np.testing.assert_allclose(fast.model_cov, slow.normalized_cov_params, rtol=1e-5)
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
        exposure, groups = frame["exposure"].to_numpy(), frame["account"].to_numpy()

        def fit_slow():
            return sm.GLM(y, exog, family=sm.families.Poisson(), exposure=exposure).fit(
                cov_type="cluster", cov_kwds={"groups": groups}
            )

        # Whether LAPACK finds the exactly singular information singular depends on its rounding
        # on the machine at hand: the fast path then fails as statsmodels does, or fits as it does.
        try:
            slow = fit_slow()
        except np.linalg.LinAlgError:
            with pytest.raises(np.linalg.LinAlgError):
                poisson_rate_fit(y, exog, exposure=exposure, groups=groups)
            return
        fast = poisson_rate_fit(y, exog, exposure=exposure, groups=groups)
        np.testing.assert_allclose(fast.params, slow.params, rtol=TIGHT)
        np.testing.assert_allclose(fast.cov_params, slow.cov_params(), rtol=TIGHT)


class TestPoissonRate:
    def test_fits_the_design_as_the_solver_does(self, rng):
        frame = panel(rng)
        design = build_design(
            frame,
            predictor="age",
            controls=["log_employees", "industry[b]"],
            caveats=Caveats(),
            intercept=True,
        )
        y = frame["revenue"] / frame["revenue"].mean()
        exposure = frame["exposure"].to_numpy()
        groups = frame["account"].to_numpy()
        public = poisson_rate(y, design, exposure=exposure, groups=groups)
        slow = sm.GLM(y, design.exog, family=sm.families.Poisson(), exposure=exposure).fit(
            cov_type="cluster", cov_kwds={"groups": groups}
        )
        assert list(public.params.index) == TERMS
        np.testing.assert_allclose(public.params, slow.params, rtol=TIGHT)
        np.testing.assert_allclose(public.bse, slow.bse, rtol=TIGHT)
