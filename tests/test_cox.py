"""The vectorised Efron Cox solver gives statsmodels' PHReg fits on the same designs, faster."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg

from salesinsight.exceptions import InvalidValueError
from salesinsight.stats._fast.cox import CoxFit, efron_cox


def _data(rng, n=300, p=3, *, whole_days=True, share_events=0.7):
    x = rng.normal(size=(n, p))
    x[:, 0] = rng.random(n) < 0.4
    days = rng.exponential(40.0, n) * np.exp(-x @ np.linspace(0.4, -0.2, p))
    if whole_days:
        days = np.ceil(days)
    status = (rng.random(n) < share_events).astype(int)
    return days, x, status


def _phreg(days, x, status, groups=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PHReg(days, x, status=status, ties="efron").fit(groups=groups)


def assert_same_fit(fast: CoxFit, slow, *, rtol=1e-9) -> None:
    np.testing.assert_allclose(fast.params, slow.params, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(fast.bse, slow.bse, rtol=rtol, atol=1e-12)
    np.testing.assert_allclose(fast.cov_params, slow.cov_params(), rtol=rtol, atol=1e-14)
    np.testing.assert_allclose(fast.pvalues, slow.pvalues, rtol=1e-7, atol=1e-300)
    np.testing.assert_allclose(fast.conf_int(0.1), slow.conf_int(0.1), rtol=rtol, atol=1e-12)
    assert fast.loglike == pytest.approx(slow.llf, rel=1e-12)


class TestEfronCox:
    @pytest.mark.parametrize("whole_days", [True, False])
    def test_equals_phreg(self, rng, whole_days):
        days, x, status = _data(rng, whole_days=whole_days)
        fast = efron_cox(days, x, status)
        assert_same_fit(fast, _phreg(days, x, status))
        assert fast.converged and fast.cluster_cov is None
        assert fast.nobs == len(days)

    def test_equals_phreg_with_heavy_ties_and_early_censoring(self, rng):
        days, x, status = _data(rng, n=400, share_events=0.5)
        days = np.minimum(days // 10, 6)
        days[:30], status[:30] = 0, 0  # censored before any event: in no risk set
        assert_same_fit(efron_cox(days, x, status), _phreg(days, x, status))

    def test_sums_over_many_blocks_of_rows_equal_phreg(self, rng):
        # More rows than one block of the vectorised sums, ties spanning block boundaries.
        days, x, status = _data(rng, n=20_000)
        days = np.minimum(days, 60)
        assert_same_fit(efron_cox(days, x, status), _phreg(days, x, status), rtol=1e-8)

    def test_a_likelihood_without_maximum_stops_where_phreg_stops(self, rng):
        days, x, status = _data(rng, n=300)
        status[x[:, 0] == 1] = 0  # no event where the flag is 1: the estimate runs to -inf
        fast = efron_cox(days, x, status)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            slow = PHReg(days, x, status=status, ties="efron").fit()
        assert any("converge" in str(w.message) for w in caught)
        assert not fast.converged and fast.iterations == 100
        np.testing.assert_allclose(fast.params, slow.params, rtol=1e-9)

    def test_terms_are_named_after_the_columns(self, rng):
        days, x, status = _data(rng, p=2)
        fast = efron_cox(days, pd.DataFrame(x, columns=["referral", "size"]), status)
        assert list(fast.params.index) == ["referral", "size"]
        assert list(fast.conf_int().columns) == ["lower", "upper"]
        assert list(efron_cox(days, x, status).params.index) == ["x1", "x2"]

    def test_missing_values_are_refused(self, rng):
        days, x, status = _data(rng)
        x[5, 1] = np.nan
        with pytest.raises(InvalidValueError, match="finite"):
            efron_cox(days, x, status)

    def test_a_planted_hazard_ratio_is_recovered(self, rng):
        n = 4000
        flag = rng.random(n) < 0.5
        days = np.ceil(rng.exponential(np.where(flag, 30.0, 60.0)))
        status = (rng.random(n) < 0.8).astype(int)
        fit = efron_cox(days, flag[:, None].astype(float), status)
        assert np.exp(fit.params.iloc[0]) == pytest.approx(2.0, rel=0.1)


class TestClusteredCovariance:
    def test_equals_phreg_fit_with_groups(self, rng):
        days, x, status = _data(rng, n=250)
        groups = rng.integers(0, 50, len(days))
        fast = efron_cox(days, x, status, groups=groups)
        assert_same_fit(fast, _phreg(days, x, status, groups=groups), rtol=1e-8)
        np.testing.assert_allclose(fast.model_cov, _phreg(days, x, status).cov_params())
        assert fast.cov_params is fast.cluster_cov

    def test_deals_censored_before_the_first_event_contribute_nothing(self, rng):
        # statsmodels' score residuals are NaN for such deals; without them it agrees.
        days, x, status = _data(rng, n=200)
        groups = np.arange(len(days)) % 40
        early = efron_cox(
            np.r_[days, 0.0], np.vstack([x, x[:1]]), np.r_[status, 0], groups=np.r_[groups, 0]
        )
        assert np.isfinite(early.cluster_cov.to_numpy()).all()
        assert_same_fit(early, _phreg(days, x, status, groups=groups), rtol=1e-8)

    def test_cluster_codes_must_match_the_rows(self, rng):
        days, x, status = _data(rng)
        with pytest.raises(InvalidValueError, match="cluster codes"):
            efron_cox(days, x, status, groups=np.zeros(3, dtype=int))
