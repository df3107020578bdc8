"""E-values (VanderWeele and Ding 2017) and sensemakr's omitted-variable bounds (Cinelli and
Hazlett 2020) against their papers' worked examples and against direct computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats as sps

from salesinsight.exceptions import AnalysisError, InvalidValueError
from salesinsight.stats.evalues import Conversion, e_value, e_values, shift_e_value
from salesinsight.stats.ovb import (
    confounder_bound,
    control_partial_r2,
    estimate_without,
    partial_r2,
    robustness_value,
)

# Cinelli and Hazlett's Darfur example (sensemakr's tests): peacefactor on directlyharmed with
# age, farmer_dar, herder_dar, pastvoted, hhsize_darfur, female and village dummies.
DARFUR = {"estimate": 0.09731582, "std_err": 0.02325654, "t": 4.18445, "dof": 783}
# Partial R² of `female` with directlyharmed (given the other covariates) and with peacefactor
# (given directlyharmed and the others), from the two regressions on sensemakr's darfur data.
FEMALE = {"r2dxj_x": 0.009081065190328759, "r2yxj_dx": 0.10903391542784283}
# sensemakr's ovb_bounds(model, "directlyharmed", benchmark_covariates = "female", kd = 1:3).
FEMALE_BOUNDS = pd.DataFrame(
    {
        "kd": [1, 2, 3],
        "r2dz_x": [0.00916428667504862, 0.0183285733500972, 0.0274928600251459],
        "r2yz_dx": [0.12464092303637, 0.249324064199975, 0.374050471038094],
        "estimate": [0.0752202698486415, 0.0529151689180575, 0.0303960178770157],
        "std_err": [0.0218733298036818, 0.0203500639944344, 0.0186700665753491],
        "t_value": [3.43890347394571, 2.60024582392121, 1.62806156873318],
        "ci_low": [0.0322829603180086, 0.0129680276030601, -0.00625329133645187],
        "ci_high": [0.118157579379274, 0.092862310233055, 0.0670453270904833],
    }
)


def _e(rr: float) -> float:
    """The E-value by its definition, written out for the tests."""
    rr = 1 / rr if rr < 1 else rr
    return rr + np.sqrt(rr * (rr - 1))


class TestEValue:
    def test_the_papers_example(self):
        # VanderWeele and Ding (2017): RR 3.9 (1.8 to 8.7) needs 7.26, its interval 3.0.
        found = e_values(3.9, 1.8, 8.7, Conversion("risk_ratio"))
        assert found.point == pytest.approx(7.26, abs=0.005)
        assert found.interval == pytest.approx(3.0, abs=1e-12)

    @pytest.mark.parametrize("rr", [1.0, 1.05, 1.9, 4.0, 0.5, 0.8])
    def test_formula_and_symmetry(self, rr):
        assert float(e_value(rr)) == pytest.approx(_e(rr), rel=1e-14)
        assert float(e_value(rr)) == pytest.approx(float(e_value(1 / rr)), rel=1e-14)

    def test_interval_covering_no_effect_is_exactly_one(self):
        assert e_values(1.4, 0.98, 2.0, Conversion("rate_ratio")).interval == 1.0
        assert e_values(0.7, 0.4, 1.0, Conversion("rate_ratio")).interval == 1.0

    def test_protective_ratio_uses_the_upper_limit(self):
        found = e_values(0.5, 0.3, 0.8, Conversion("rate_ratio"))
        assert found.interval == pytest.approx(_e(1 / 0.8))

    def test_rejects_non_positive_ratios(self):
        with pytest.raises(InvalidValueError, match="positive"):
            e_value(0.0)


class TestConversion:
    def test_common_odds_ratio_through_its_square_root(self):
        odds = Conversion("odds_ratio", outcome_share=0.4)
        found = e_values(2.25, 1.44, 3.24, odds)
        assert found.point == pytest.approx(_e(1.5))
        assert found.interval == pytest.approx(_e(1.2))
        assert "sqrt(OR)" in odds.words() and "40%" in odds.words()

    def test_rare_outcomes_keep_odds_and_hazard_ratios(self):
        for scale in ("odds_ratio", "hazard_ratio"):
            rare = Conversion(scale, outcome_share=0.15)
            assert not rare.common
            assert e_values(2.0, 1.5, 2.5, rare).point == pytest.approx(_e(2.0))
            assert "rare" in rare.words()

    def test_common_hazard_ratio_through_the_papers_formula(self):
        hazard = Conversion("hazard_ratio", outcome_share=0.9)
        for hr in (0.56, 1.5, 2.47):
            rr = (1 - 0.5 ** np.sqrt(hr)) / (1 - 0.5 ** np.sqrt(1 / hr))
            assert float(hazard.risk_ratio(hr)) == pytest.approx(rr, rel=1e-14)
        # The EValue package's example: HR 0.56 (0.46 to 0.69), common outcome.
        found = e_values(0.56, 0.46, 0.69, hazard)
        assert found.point == pytest.approx(_e(float(hazard.risk_ratio(0.56))))
        assert found.interval == pytest.approx(_e(float(hazard.risk_ratio(0.69))))

    def test_ratio_of_means_through_the_standardized_difference(self):
        means = Conversion("mean_ratio", residual_sd=0.8)
        ratio = np.exp(0.2)  # d = 0.2 / 0.8 = 0.25
        assert float(means.risk_ratio(ratio)) == pytest.approx(np.exp(0.91 * 0.25), rel=1e-14)
        assert "exp(0.91 d)" in means.words()

    def test_rate_ratios_are_risk_ratios(self):
        assert float(Conversion("rate_ratio").risk_ratio(1.7)) == 1.7

    def test_missing_inputs_are_refused(self):
        with pytest.raises(InvalidValueError, match="outcome_share"):
            Conversion("odds_ratio")
        with pytest.raises(InvalidValueError, match="residual_sd"):
            Conversion("mean_ratio", residual_sd=0.0)
        with pytest.raises(InvalidValueError, match="scale"):
            Conversion("relative_odds")

    def test_shift_e_value_is_the_e_value_of_the_bias(self):
        odds = Conversion("odds_ratio", outcome_share=0.5)
        assert shift_e_value(1.44, 2.25, odds) == pytest.approx(_e(1.5 / 1.2))
        assert shift_e_value(2.0, 2.0, odds) == 1.0


class TestSensemakrDarfur:
    def test_partial_r2_and_robustness_values(self):
        t, dof = DARFUR["t"], DARFUR["dof"]
        # The paper: 2.2 %, RV 13.9 %, RV at alpha = 0.05 7.6 % (sensemakr: 0.02187309,
        # 0.1387764, 0.07625797).
        assert partial_r2(t, dof) == pytest.approx(0.02187309, abs=1e-8)
        assert robustness_value(t, dof) == pytest.approx(0.1387764, abs=1e-7)
        assert robustness_value(t, dof, alpha=0.05) == pytest.approx(0.07625797, abs=1e-7)

    @pytest.mark.parametrize("kd", [1, 2, 3])
    def test_bounds_from_a_confounder_as_strong_as_female(self, kd):
        bound = confounder_bound(
            DARFUR["estimate"], DARFUR["std_err"], DARFUR["dof"], **FEMALE, kd=kd
        )
        expected = FEMALE_BOUNDS.set_index("kd").loc[kd]
        for field in ("r2dz_x", "r2yz_dx", "estimate", "std_err", "t_value", "ci_low", "ci_high"):
            assert getattr(bound, field) == pytest.approx(expected[field], rel=1e-6, abs=1e-9)

    def test_a_negative_estimate_is_moved_up_to_zero(self):
        bound = confounder_bound(-DARFUR["estimate"], DARFUR["std_err"], DARFUR["dof"], **FEMALE)
        assert bound.estimate == pytest.approx(-0.0752202698486415, rel=1e-6)

    def test_confounders_at_the_robustness_value_bring_the_estimate_to_zero(self):
        # sensemakr's check: r2dz = r2yz = RV moves the estimate exactly to zero.
        rv = robustness_value(DARFUR["t"], DARFUR["dof"])
        se = DARFUR["estimate"] / DARFUR["t"]
        bias = np.sqrt(rv * rv / (1 - rv)) * se * np.sqrt(DARFUR["dof"])
        assert bias == pytest.approx(DARFUR["estimate"], rel=1e-12)

    def test_an_impossible_strength_is_an_analysis_error(self):
        with pytest.raises(AnalysisError, match="kd"):
            confounder_bound(0.1, 0.02, 783, r2dxj_x=0.6, r2yxj_dx=0.1, kd=2)

    def test_no_robustness_where_the_interval_covers_zero(self):
        assert robustness_value(1.5, 500, alpha=0.05) == 0.0

    def test_large_effects_use_the_non_binding_case(self):
        t, dof = 150.0, 200
        critical = abs(sps.t.ppf(0.025, dof - 1)) / np.sqrt(dof - 1)
        fq = t / np.sqrt(dof)
        assert fq > 1 / critical
        expected = (fq**2 - critical**2) / (1 + fq**2)
        assert robustness_value(t, dof, alpha=0.05) == pytest.approx(expected, rel=1e-6)


@pytest.fixture
def regression_data(rng) -> pd.DataFrame:
    n = 600
    size = rng.normal(size=n)
    segment = rng.choice(["a", "b", "c"], size=n)
    treated = (0.6 * size + (segment == "b") + rng.normal(size=n) > 0.5).astype(float)
    y = 0.3 * treated + 0.8 * size + 0.4 * (segment == "c") + rng.normal(size=n)
    return pd.DataFrame({"y": y, "treated": treated, "size": size, "segment": segment})


class TestControlPartialR2:
    def test_equals_the_auxiliary_regressions(self, regression_data):
        fit = smf.ols("y ~ treated + size + C(segment)", data=regression_data).fit()
        r2d, r2y = control_partial_r2(fit, treatment="treated", control=["size"])
        treatment = smf.ols("treated ~ size + C(segment)", data=regression_data).fit()
        t = treatment.tvalues["size"]
        assert r2d == pytest.approx(t**2 / (t**2 + treatment.df_resid), rel=1e-10)
        assert r2y == pytest.approx(partial_r2(fit.tvalues["size"], fit.df_resid), rel=1e-10)

    def test_a_group_of_dummies_equals_the_residual_sums_of_squares(self, regression_data):
        fit = smf.ols("y ~ treated + size + C(segment)", data=regression_data).fit()
        dummies = [n for n in fit.model.exog_names if n.startswith("C(segment)")]
        r2d, r2y = control_partial_r2(fit, treatment="treated", control=dummies)
        full = smf.ols("treated ~ size + C(segment)", data=regression_data).fit()
        short = smf.ols("treated ~ size", data=regression_data).fit()
        assert r2d == pytest.approx(1 - full.ssr / short.ssr, rel=1e-10)
        without = smf.ols("y ~ treated + size", data=regression_data).fit()
        assert r2y == pytest.approx(1 - fit.ssr / without.ssr, rel=1e-10)

    def test_unknown_terms_are_named(self, regression_data):
        fit = smf.ols("y ~ treated + size", data=regression_data).fit()
        with pytest.raises(InvalidValueError, match="industry"):
            control_partial_r2(fit, treatment="treated", control=["industry"])


class TestEstimateWithout:
    def test_least_squares_is_exact(self, regression_data):
        fit = smf.ols("y ~ treated + size + C(segment)", data=regression_data).fit()
        names = fit.model.exog_names
        dropped = [i for i, n in enumerate(names) if n.startswith("C(segment)")]
        moved = estimate_without(
            fit.params, fit.normalized_cov_params, term=names.index("treated"), dropped=dropped
        )
        refit = smf.ols("y ~ treated + size", data=regression_data).fit()
        assert moved == pytest.approx(refit.params["treated"], rel=1e-10)

    def test_logit_is_close_to_the_refit(self, rng):
        n = 4000
        size = rng.normal(size=n)
        treated = (0.7 * size + rng.normal(size=n) > 0).astype(float)
        won = (rng.random(n) < 1 / (1 + np.exp(-(0.4 * treated + 0.6 * size)))).astype(float)
        full = sm.Logit(won, sm.add_constant(np.column_stack([treated, size]))).fit(disp=0)
        short = sm.Logit(won, sm.add_constant(treated)).fit(disp=0)
        moved = estimate_without(full.params, full.normalized_cov_params, term=1, dropped=[2])
        # The one-step approximation captures the confounding (the bulk of the shift).
        shift, approximate = short.params[1] - full.params[1], moved - full.params[1]
        assert shift > 0.2
        assert approximate == pytest.approx(shift, rel=0.2)
