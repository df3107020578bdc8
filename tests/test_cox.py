"""The vectorised Efron Cox model gives statsmodels' PHReg results, much faster."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from statsmodels.duration.hazard_regression import PHReg

from salesinsight.stats._fast.cox import EfronCox, cluster_covariance


def _data(rng, n=300, p=3, *, whole_days=True, share_events=0.7):
    x = rng.normal(size=(n, p))
    x[:, 0] = rng.random(n) < 0.4
    days = rng.exponential(40.0, n) * np.exp(-x @ np.linspace(0.4, -0.2, p))
    if whole_days:
        days = np.ceil(days)
    status = (rng.random(n) < share_events).astype(int)
    return days, x, status


def _fits(days, x, status):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = EfronCox(days, x, status).fit()
        slow = PHReg(days, x, status=status, ties="efron").fit()
    return fast, slow


class TestEfronCox:
    @pytest.mark.parametrize("whole_days", [True, False])
    def test_same_likelihood_score_and_hessian_as_phreg(self, rng, whole_days):
        days, x, status = _data(rng, whole_days=whole_days)
        fast, slow = EfronCox(days, x, status), PHReg(days, x, status=status, ties="efron")
        params = rng.normal(0, 0.3, x.shape[1])
        assert fast.loglike(params) == pytest.approx(slow.loglike(params), rel=1e-10)
        np.testing.assert_allclose(fast.score(params), slow.score(params), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(fast.hessian(params), slow.hessian(params), rtol=1e-9, atol=1e-9)

    def test_same_fit_with_heavy_ties_and_early_censoring(self, rng):
        days, x, status = _data(rng, n=400, share_events=0.5)
        days = np.minimum(days // 10, 6)
        days[:30], status[:30] = 0, 0  # censored before any event: in no risk set
        fast, slow = _fits(days, x, status)
        np.testing.assert_allclose(fast.params, slow.params, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(fast.bse, slow.bse, rtol=1e-9, atol=1e-12)
        assert fast.llf == pytest.approx(slow.llf, rel=1e-12)
        assert (fast.df_model, fast.df_resid) == (slow.df_model, slow.df_resid)

    def test_sums_over_many_blocks_of_rows_equal_phreg(self, rng):
        # More rows than one block of the vectorised sums, ties spanning block boundaries.
        days, x, status = _data(rng, n=20_000)
        days = np.minimum(days, 60)
        fast, slow = EfronCox(days, x, status), PHReg(days, x, status=status, ties="efron")
        params = rng.normal(0, 0.3, x.shape[1])
        assert fast.loglike(params) == pytest.approx(slow.loglike(params), rel=1e-10)
        np.testing.assert_allclose(fast.score(params), slow.score(params), rtol=1e-8, atol=1e-8)
        np.testing.assert_allclose(fast.hessian(params), slow.hessian(params), rtol=1e-9)

    @pytest.mark.parametrize("design", ["all_levels", "nearly_collinear"])
    def test_rank_and_implicit_constant_as_phreg_finds_them(self, rng, design):
        days, x, status = _data(rng, n=400)
        if design == "all_levels":
            # Dummies for every level add up to a column of ones: an implicit constant.
            level = rng.integers(0, 3, len(days))
            x = np.column_stack([x[:, 1], *(level == k for k in range(3))]).astype(float)
        else:
            x = np.column_stack([x, x[:, 1] + 1e-9 * rng.normal(size=len(days))])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fast = EfronCox(days, x, status)
            slow = PHReg(days, x, status=status, ties="efron")
        assert fast.k_constant == slow.k_constant
        assert (fast.df_model, fast.df_resid) == (slow.df_model, slow.df_resid)

    def test_rows_with_missing_values_are_dropped_as_phreg_drops_them(self, rng):
        days, x, status = _data(rng)
        x[5, 1] = np.nan
        fast, slow = _fits(days, x, status)
        assert fast.model.nobs == slow.model.nobs == len(days) - 1
        np.testing.assert_allclose(fast.params, slow.params, rtol=1e-9)

    def test_risk_sets_for_other_phreg_methods_are_built_when_asked(self, rng):
        days, x, status = _data(rng, n=120)
        fast, slow = _fits(days, x, status)
        assert "surv" not in vars(fast.model)
        got = fast.model.baseline_cumulative_hazard_function(fast.params)[0]
        expected = slow.model.baseline_cumulative_hazard_function(slow.params)[0]
        grid = np.array([5.0, 20.0, 60.0])
        np.testing.assert_allclose(got(grid), expected(grid), rtol=1e-9)

    def test_a_planted_hazard_ratio_is_recovered(self, rng):
        n = 4000
        flag = rng.random(n) < 0.5
        days = np.ceil(rng.exponential(np.where(flag, 30.0, 60.0)))
        status = (rng.random(n) < 0.8).astype(int)
        fit = EfronCox(days, flag[:, None].astype(float), status).fit()
        assert np.exp(fit.params[0]) == pytest.approx(2.0, rel=0.1)


class TestClusterCovariance:
    def test_matches_phreg_robust_covariance(self, rng):
        days, x, status = _data(rng, n=250)
        groups = rng.integers(0, 50, len(days))
        model = EfronCox(days, x, status)
        params = model.fit().params
        slow = PHReg(days, x, status=status, ties="efron")
        slow.groups = groups
        np.testing.assert_allclose(
            cluster_covariance(model, params, groups),
            slow.robust_covariance(params),
            rtol=1e-8,
        )

    def test_deals_censored_before_the_first_event_contribute_nothing(self, rng):
        days, x, status = _data(rng, n=200)
        groups = np.arange(len(days)) % 40
        model = EfronCox(days, x, status)
        params = model.fit().params
        base = cluster_covariance(model, params, groups)
        early = np.r_[days, 0.0]
        more = EfronCox(early, np.vstack([x, x[:1]]), np.r_[status, 0])
        with_early = cluster_covariance(more, params, np.r_[groups, 0])
        np.testing.assert_allclose(with_early, base, rtol=1e-9)
        assert np.isfinite(with_early).all()
