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


def _efron_scores(days, x, status, params):
    """Efron score residuals row by row, a loop over event times and tied steps (as R's
    ``residuals(coxph(...), type = "score")``): the slow definition the solver is checked by."""
    risk = np.exp(x @ params)
    scores = np.zeros_like(x)
    for t in np.unique(days[status == 1]):
        at_risk = days >= t
        tied = at_risk & (days == t) & (status == 1)
        m = tied.sum()
        total, tied_total = risk[at_risk].sum(), risk[tied].sum()
        moment = (risk[at_risk, None] * x[at_risk]).sum(0)
        tied_moment = (risk[tied, None] * x[tied]).sum(0)
        for step in range(m):
            share = step / m
            denominator = total - share * tied_total
            mean = (moment - share * tied_moment) / denominator
            weight = np.where(tied, 1 - share, 1.0) * at_risk
            scores += tied[:, None] * (x - mean) / m
            scores -= (weight * risk)[:, None] * (x - mean) / denominator
    return scores


def _efron_sandwich(days, x, status, groups, fit):
    """``H^-1 (sum_g s_g s_g') H^-1`` from the row-by-row residuals, no small-sample factor."""
    scores = _efron_scores(days, x, status, fit.params.to_numpy())
    per_group = np.zeros((groups.max() + 1, x.shape[1]))
    np.add.at(per_group, groups, scores)
    bread = fit.model_cov.to_numpy()
    return bread @ per_group.T @ per_group @ bread


class TestClusteredCovariance:
    def test_without_ties_equals_phreg_fit_with_groups(self, rng):
        # Efron's and Breslow's score residuals coincide where no two events share a time.
        days, x, status = _data(rng, n=250, whole_days=False)
        status[np.argmin(days)] = 1  # statsmodels' residuals are NaN for deals at risk of nothing
        groups = rng.integers(0, 50, len(days))
        fast = efron_cox(days, x, status, groups=groups)
        assert_same_fit(fast, _phreg(days, x, status, groups=groups), rtol=1e-8)
        np.testing.assert_allclose(fast.model_cov, _phreg(days, x, status).cov_params())
        assert fast.cov_params is fast.cluster_cov

    @pytest.mark.parametrize("n", [250, 10_000])
    def test_with_ties_equals_efron_score_residuals_row_by_row(self, rng, n):
        # Heavy ties, and (at 10,000 rows) more rows than one block of the vectorised sums.
        days, x, status = _data(rng, n=n)
        days = np.minimum(days, 60)
        groups = rng.integers(0, n // 5, n)
        fast = efron_cox(days, x, status, groups=groups)
        expected = _efron_sandwich(days, x, status, groups, fast)
        np.testing.assert_allclose(fast.cluster_cov, expected, rtol=1e-9, atol=1e-16)
        # Point estimates and model-based errors stay statsmodels'.
        slow = _phreg(days, x, status)
        np.testing.assert_allclose(fast.params, slow.params, rtol=1e-8)
        np.testing.assert_allclose(fast.model_cov, slow.cov_params(), rtol=1e-8)

    def test_with_ties_is_wider_than_breslow_residuals(self, rng):
        # statsmodels' PHReg keeps Breslow's residuals under Efron ties; R does not.
        days, x, status = _data(rng, n=400)
        groups = rng.integers(0, 80, len(days))
        fast = efron_cox(days, x, status, groups=groups)
        assert (fast.bse > _phreg(days, x, status, groups=groups).bse).all()

    def test_deals_censored_before_the_first_event_contribute_nothing(self, rng):
        days, x, status = _data(rng, n=200)
        groups = np.arange(len(days)) % 40
        early = efron_cox(
            np.r_[days, 0.0], np.vstack([x, x[:1]]), np.r_[status, 0], groups=np.r_[groups, 0]
        )
        assert np.isfinite(early.cluster_cov.to_numpy()).all()
        without = efron_cox(days, x, status, groups=groups)
        np.testing.assert_allclose(early.cluster_cov, without.cluster_cov, rtol=1e-10)
        np.testing.assert_allclose(early.params, without.params, rtol=1e-10)

    def test_cluster_codes_must_match_the_rows(self, rng):
        days, x, status = _data(rng)
        with pytest.raises(InvalidValueError, match="cluster codes"):
            efron_cox(days, x, status, groups=np.zeros(3, dtype=int))
