"""Clustered errors and medians equal R's on the reference world (tests/data/reference).

tests/reference/make_world.py writes the bundled sample's feature table, make_r_results.R fits
R's models on it (lm and glm with ``sandwich::vcovCL``, ``survival::coxph`` with Efron ties and
``cluster = account_id``, ``survfit``); these tests read R's numbers from the files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesinsight.stats.association import association
from salesinsight.stats.survival import time_to_close

# Terms whose meaning does not depend on the product dummies' reference level (R takes the
# first level, salesinsight the most common one).
TERMS = ["is_repeat_customer", "log_employees"]


def _r(r_results: pd.DataFrame, model: str) -> pd.DataFrame:
    return r_results[r_results["model"] == model].set_index("term").loc[TERMS]


def _mine(summary: pd.DataFrame) -> pd.DataFrame:
    return summary.set_index("term").loc[TERMS]


class TestAssociationEqualsSandwich:
    def test_ols_clustered_errors_equal_vcovcl_hc1(self, reference_world, r_results):
        result = association(
            reference_world,
            outcome="amount",
            predictor="is_repeat_customer",
            controls=["log_employees", "product"],
        )
        mine, r = _mine(result.summary), _r(r_results, "ols_log_amount")
        assert result.n == r["n"].iloc[0]
        np.testing.assert_allclose(mine["estimate"], r["estimate"], rtol=1e-10)
        np.testing.assert_allclose(mine["std_err"], r["std_err"], rtol=1e-10)
        # HC0 would be narrower: the factor (N-1)/(N-K) is there.
        assert (mine["std_err"] > _r(r_results, "ols_log_amount_hc0")["std_err"] * 1.003).all()

    def test_logit_clustered_errors_equal_vcovcl_hc0(self, reference_world, r_results):
        result = association(
            reference_world,
            outcome="won",
            predictor="is_repeat_customer",
            controls=["log_employees", "product"],
        )
        mine, r = _mine(result.summary), _r(r_results, "logit_won")
        assert result.n == r["n"].iloc[0]
        np.testing.assert_allclose(mine["estimate"], r["estimate"], rtol=1e-7)
        np.testing.assert_allclose(mine["std_err"], r["std_err"], rtol=1e-7)
        assert (mine["std_err"] < _r(r_results, "logit_won_hc1")["std_err"]).all()


class TestTimeToCloseEqualsSurvival:
    @pytest.mark.parametrize(("event", "model"), [("closed", "cox_closed"), ("won", "cox_won")])
    def test_cox_clustered_errors_equal_coxph(self, reference_world, r_results, event, model):
        result = time_to_close(
            reference_world, by="is_repeat_customer", event=event, controls="log_employees"
        )
        mine, r = _mine(result.hazard_ratios), _r(r_results, model)
        assert result.n == r["n"].iloc[0]
        np.testing.assert_allclose(mine["estimate"], r["estimate"], rtol=1e-8)
        # The bar is 0.5 %; the sums reproduce R's to rounding.
        np.testing.assert_allclose(mine["std_err"], r["std_err"], rtol=1e-8)
        model_based = np.sqrt(np.diag(result.model.model_cov))
        np.testing.assert_allclose(model_based, r["std_err_model"], rtol=1e-8)

    def test_kaplan_meier_medians_equal_survfit(self, reference_world, r_km_medians):
        summary = time_to_close(reference_world, by="is_repeat_customer").summary
        # statsmodels' default interval is on the log(-log) scale, R's conf.type = "log-log".
        r = r_km_medians[r_km_medians["conf_type"] == "log-log"]
        mine = summary.set_index("group").loc[r["group"].astype(str)]
        np.testing.assert_array_equal(mine["median_days"], r["median_days"])
        np.testing.assert_array_equal(mine["median_ci_low"], r["median_ci_low"])
        np.testing.assert_array_equal(mine["median_ci_high"], r["median_ci_high"])
