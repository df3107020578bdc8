"""The simulator's planted effects are visible in its own output; the null world shows none.

Models are fitted with statsmodels directly on the clean world (``world.deals`` with the proxies the
simulator used), with the confounders as controls: OLS of log(amount) over won deals, logit of
winning over closed deals, Cox (PHReg, open deals censored) of the time to close, logits of a new
deal's lead source and product novelty, and a Poisson rate of new opportunities with exposure split
at each account's first win.

Seventeen coefficients are checked at once, so each interval is Bonferroni-widened to keep the
family's coverage at 95% (with plain 95% intervals, some coefficient would miss in most worlds by
chance alone). The same correction decides "significant" in the null world.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.duration.hazard_regression import PHReg

from salesinsight.datasets import Effects, simulate_world

N_COEFFICIENTS = len(Effects.null().__dataclass_fields__)
ALPHA = 0.05 / N_COEFFICIENTS
TRUST = ["is_repeat_customer", "is_referral", "same_owner_as_last", "rep_initiated"]


def _rows(result, terms, names, model: str) -> list[tuple]:
    params = pd.Series(np.asarray(result.params), index=result.model.exog_names)
    pvalues = pd.Series(np.asarray(result.pvalues), index=params.index)
    ci = pd.DataFrame(np.asarray(result.conf_int(alpha=ALPHA)), index=params.index)
    return [
        (model, name, params[t], ci.loc[t, 0], ci.loc[t, 1], pvalues[t])
        for t, name in zip(terms, names, strict=True)
    ]


def fit_planted_models(world) -> pd.DataFrame:
    """One row per truth row: model, proxy, estimate, ci_low, ci_high, p_value."""
    d = world.deals
    x = pd.DataFrame({name: d[name].astype(float) for name in TRUST})
    x["owner_prior_deals"] = d["owner_prior_deals"].astype(float)
    x["new_product"] = d["is_new_product_for_account"].astype(float)
    x["log_employees"] = np.log(d["employees"])
    products = pd.get_dummies(d["product"], drop_first=True, dtype=float)
    won = d["status"].eq("won").to_numpy()
    closed = d["status"].ne("open").to_numpy()
    rows: list[tuple] = []

    size_terms = [*TRUST, "owner_prior_deals"]
    design = sm.add_constant(pd.concat([x[[*size_terms, "log_employees"]], products], axis=1))
    ols = sm.OLS(np.log(d["amount"][won]), design[won]).fit()
    rows += _rows(ols, size_terms, size_terms, "ols_log_amount")
    realisation = sm.OLS((d["amount"] / d["list_price"])[won], design[won]).fit()
    rows += _rows(
        realisation, ["is_repeat_customer"], ["is_repeat_customer"], "ols_price_realisation"
    )

    win = pd.DataFrame(
        {
            "repeat_existing": x["is_repeat_customer"] * (1 - x["new_product"]),
            "repeat_new": x["is_repeat_customer"] * x["new_product"],
            "new_product": x["new_product"],
            "is_referral": x["is_referral"],
            "rep_initiated": x["rep_initiated"],
            "owner_prior_deals": x["owner_prior_deals"],
            "log_employees": x["log_employees"],
        }
    )
    logit = sm.Logit(won[closed].astype(float), sm.add_constant(win[closed])).fit(disp=0)
    terms = ["is_referral", "rep_initiated", "owner_prior_deals"]
    rows += _rows(logit, terms, terms, "logit_won")
    rows += _rows(logit, ["repeat_existing"], ["is_repeat_customer"], "logit_won_existing_product")
    rows += _rows(logit, ["repeat_new"], ["is_repeat_customer"], "logit_won_new_product")

    ended = d["closed_at"].fillna(world.as_of)
    duration = ((ended - d["created_at"]) / pd.Timedelta(days=1)).to_numpy()
    cox_terms = ["is_repeat_customer", "is_referral", "same_owner_as_last"]
    cox_x = x[[*cox_terms, "log_employees"]]
    # No two deals close at the same instant, so Breslow equals Efron here and is quicker.
    cox = PHReg(duration, cox_x, status=closed.astype(float), ties="breslow").fit()
    rows += _rows(cox, cox_terms, cox_terms, "cox_closed")

    prior_won = sm.add_constant(d[["prior_won_deals"]].astype(float))
    outbound = sm.Logit(x["rep_initiated"], prior_won).fit(disp=0)
    rows += _rows(outbound, ["prior_won_deals"], ["prior_won_deals"], "logit_rep_initiated")
    # Novelty is a choice only for accounts with earlier deals that have not had every product.
    first_time = (~d.duplicated(["account_id", "product"])).astype(int)
    products_had = first_time.groupby(d["account_id"]).cumsum() - first_time
    earlier = d.groupby("account_id").cumcount() > 0
    room = (earlier & (products_had < len(world.products))).to_numpy()
    novelty = sm.Logit(x["new_product"][room], prior_won[room]).fit(disp=0)
    rows += _rows(novelty, ["prior_won_deals"], ["prior_won_deals"], "logit_new_product")

    rows += _rows(_opportunity_rate(world), ["repeat"], ["is_repeat_customer"], "poisson_rate")
    columns = ["model", "proxy", "estimate", "ci_low", "ci_high", "p_value"]
    return pd.DataFrame(rows, columns=columns)


def _opportunity_rate(world):
    """Poisson of new deals per account, before and after its first win, with exposure."""
    d, accounts = world.deals, world.accounts.set_index("account_id")
    won = d["status"].eq("won")
    first_win = d[won].groupby("account_id")["closed_at"].min().reindex(accounts.index)
    entered = accounts["entered_at"]
    switch = first_win.fillna(world.as_of).clip(lower=entered, upper=world.as_of)
    year = pd.Timedelta(days=365.25)
    counts = [
        d[d["is_repeat_customer"].eq(flag)].groupby("account_id").size().reindex(accounts.index)
        for flag in (False, True)
    ]
    panel = pd.DataFrame(
        {
            "n": np.concatenate([c.fillna(0).to_numpy() for c in counts]),
            "exposure": np.concatenate(
                [((switch - entered) / year).to_numpy(), ((world.as_of - switch) / year).to_numpy()]
            ),
            "repeat": np.repeat([0.0, 1.0], len(accounts)),
            "log_employees": np.tile(np.log(accounts["employees"].to_numpy()), 2),
        }
    )
    panel = panel[panel["exposure"] > 0]
    return sm.GLM(
        panel["n"],
        sm.add_constant(panel[["repeat", "log_employees"]]),
        family=sm.families.Poisson(),
        offset=np.log(panel["exposure"]),
    ).fit()


def _fitted(effects: str, seed: int) -> pd.DataFrame:
    world = simulate_world(n_accounts=9000, effects=effects, activities_per_deal=0, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = fit_planted_models(world)
    merged = fits.merge(world.truth, on=["model", "proxy"], how="outer", validate="1:1")
    assert len(merged) == len(world.truth) == N_COEFFICIENTS
    return merged


@pytest.fixture(scope="module")
def planted() -> pd.DataFrame:
    return _fitted("planted", seed=11)


@pytest.fixture(scope="module")
def null() -> pd.DataFrame:
    return _fitted("null", seed=12)


@pytest.mark.slow
class TestPlantedWorld:
    def test_every_planted_coefficient_lies_in_its_interval(self, planted):
        missed = planted[~planted["value"].between(planted["ci_low"], planted["ci_high"])]
        assert missed.empty, missed[["claim", "model", "proxy", "value", "estimate"]].to_string()

    def test_every_planted_effect_is_detected(self, planted):
        assert planted["p_value"].lt(ALPHA).all()
        assert np.sign(planted["estimate"]).eq(np.sign(planted["value"])).all()


@pytest.mark.slow
class TestNullWorld:
    def test_no_trust_coefficient_is_significant(self, null):
        assert null["value"].eq(0).all()
        significant = null[null["p_value"].lt(ALPHA)]
        assert significant.empty, significant[["model", "proxy", "estimate"]].to_string()

    def test_intervals_cover_zero(self, null):
        assert (null["ci_low"].le(0) & null["ci_high"].ge(0)).all()

    def test_confounding_makes_the_naive_repeat_effect_positive(self):
        world = simulate_world(n_accounts=3000, effects="null", activities_per_deal=0, seed=13)
        won = world.deals[world.deals["status"].eq("won")]
        repeat = won["is_repeat_customer"].astype(float)
        log_amount = np.log(won["amount"])
        naive = sm.OLS(log_amount, sm.add_constant(repeat)).fit()
        controls = pd.concat(
            [
                repeat,
                np.log(won["employees"]).rename("log_employees"),
                pd.get_dummies(won["product"], drop_first=True, dtype=float),
            ],
            axis=1,
        )
        controlled = sm.OLS(log_amount, sm.add_constant(controls)).fit()
        assert naive.params["is_repeat_customer"] > 0.3
        assert naive.pvalues["is_repeat_customer"] < 1e-6
        assert abs(controlled.params["is_repeat_customer"]) < 0.1
