"""The planted effects of trust in the simulated world, and the table of their true values.

:class:`Effects` holds one coefficient per (proxy, outcome) pair, each on the scale an estimator
reports for it: the OLS coefficient of log(amount), the log-odds of winning, the log hazard ratio of
closing, the log rate ratio of new opportunities. The proxies enter the simulator raw (no hidden
transform), so a linear, logit or Cox model on the proxy, with the confounders as controls,
recovers the coefficient. :func:`truth_table` lists them with the claim of the book each one stands
for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd

__all__ = ["TRUTH_COLUMNS", "Effects", "truth_table"]

TRUTH_COLUMNS = ["claim", "outcome", "proxy", "model", "scale", "value", "description"]


@dataclass(frozen=True)
class Effects:
    """Planted effects of the trust proxies (defaults: the planted world).

    Every proxy is computed from the account's history strictly before the deal's creation, exactly
    as ``salesinsight.features.trust.trust_features`` computes it. Confounding is not part of this class:
    bigger accounts open deals more often, buy bigger deals (and dearer products) and win slightly
    more often in every world, including the null one.

    Attributes
    ----------
    repeat_log_amount : float
        K1. Added to log(amount) when ``is_repeat_customer``; it includes the higher price
        realisation of repeat customers (``repeat_price_realisation``), so an OLS of log(amount)
        on the proxies recovers exactly this number.
    referral_log_amount : float
        K1. Added to log(amount) when ``is_referral``.
    same_owner_log_amount : float
        K1. Added to log(amount) when ``same_owner_as_last``.
    rep_initiated_log_amount : float
        K5. Added to log(amount) when ``rep_initiated`` (outbound lead source).
    experience_log_amount : float
        K6. Added to log(amount) per deal in ``owner_prior_deals``.
    repeat_close : float
        K2. Log hazard ratio of closing (won or lost) when ``is_repeat_customer``.
    referral_close : float
        K2. Log hazard ratio of closing when ``is_referral``.
    same_owner_close : float
        K2. Log hazard ratio of closing when ``same_owner_as_last``.
    repeat_won : float
        K3 (contrast). Log-odds of winning for ``is_repeat_customer`` on deals of a product the
        account has had deals for before.
    repeat_won_new_product : float
        K3. Log-odds of winning for ``is_repeat_customer`` on deals whose product is new to the
        account (``is_new_product_for_account``).
    referral_won : float
        K1. Log-odds of winning when ``is_referral``.
    rep_initiated_won : float
        K5. Log-odds of winning when ``rep_initiated``.
    experience_won : float
        K6. Log-odds of winning per deal in ``owner_prior_deals``.
    prior_won_rep_initiated : float
        K4. Log-odds that a new deal is rep-initiated (outbound), per deal in ``prior_won_deals``.
    prior_won_new_product : float
        K4. Log-odds that a deal of an account with earlier deals is for a product new to it, per
        deal in ``prior_won_deals`` (among accounts that have not yet had every product).
    repeat_opportunity_rate : float
        K7. Log rate ratio of the account's new opportunities per unit of time once it has a won
        deal closed (is a repeat customer).
    repeat_price_realisation : float
        K8. Added to price realisation (amount / list_price) when ``is_repeat_customer``.

    Examples
    --------
    >>> Effects().repeat_log_amount
    0.25
    >>> Effects.null().repeat_log_amount
    0.0
    """

    repeat_log_amount: float = 0.25
    referral_log_amount: float = 0.15
    same_owner_log_amount: float = 0.10
    rep_initiated_log_amount: float = 0.20
    experience_log_amount: float = 0.002
    repeat_close: float = 0.35
    referral_close: float = 0.25
    same_owner_close: float = 0.15
    repeat_won: float = 0.30
    repeat_won_new_product: float = 0.70
    referral_won: float = 0.40
    rep_initiated_won: float = 0.25
    experience_won: float = 0.003
    prior_won_rep_initiated: float = 0.15
    prior_won_new_product: float = 0.10
    repeat_opportunity_rate: float = 0.40
    repeat_price_realisation: float = 0.05

    @classmethod
    def null(cls) -> Effects:
        """Every trust effect zero; confounding by account size stays.

        Examples
        --------
        >>> set(vars(Effects.null()).values())
        {0.0}
        """
        return cls(**{f.name: 0.0 for f in fields(cls)})


# field -> (claim, outcome, proxy, model, scale, description)
# fmt: off
_ROWS = {
    "repeat_log_amount": (
        "K1", "amount", "is_repeat_customer", "ols_log_amount", "log",
        "Change in log(amount) of won deals for repeat customers (controls: log employees, product).",
    ),
    "referral_log_amount": (
        "K1", "amount", "is_referral", "ols_log_amount", "log",
        "Change in log(amount) of won deals that came from a referral.",
    ),
    "same_owner_log_amount": (
        "K1", "amount", "same_owner_as_last", "ols_log_amount", "log",
        "Change in log(amount) of won deals owned by the rep of the account's previous deal.",
    ),
    "rep_initiated_log_amount": (
        "K5", "amount", "rep_initiated", "ols_log_amount", "log",
        "Change in log(amount) of won deals the rep initiated (outbound).",
    ),
    "experience_log_amount": (
        "K6", "amount", "owner_prior_deals", "ols_log_amount", "log",
        "Change in log(amount) of won deals per earlier deal of the owner.",
    ),
    "repeat_close": (
        "K2", "closed", "is_repeat_customer", "cox_closed", "log_hazard_ratio",
        "Log hazard ratio of closing (won or lost) for repeat customers; open deals censored.",
    ),
    "referral_close": (
        "K2", "closed", "is_referral", "cox_closed", "log_hazard_ratio",
        "Log hazard ratio of closing for referred deals.",
    ),
    "same_owner_close": (
        "K2", "closed", "same_owner_as_last", "cox_closed", "log_hazard_ratio",
        "Log hazard ratio of closing when the owner also had the account's previous deal.",
    ),
    "repeat_won": (
        "K3", "won", "is_repeat_customer", "logit_won_existing_product", "log_odds",
        "Log-odds of winning for repeat customers, among deals of a product the account had before.",
    ),
    "repeat_won_new_product": (
        "K3", "won", "is_repeat_customer", "logit_won_new_product", "log_odds",
        "Log-odds of winning for repeat customers, among deals whose product is new to the account.",
    ),
    "referral_won": (
        "K1", "won", "is_referral", "logit_won", "log_odds",
        "Log-odds of winning for referred deals.",
    ),
    "rep_initiated_won": (
        "K5", "won", "rep_initiated", "logit_won", "log_odds",
        "Log-odds of winning for rep-initiated (outbound) deals.",
    ),
    "experience_won": (
        "K6", "won", "owner_prior_deals", "logit_won", "log_odds",
        "Log-odds of winning per earlier deal of the owner.",
    ),
    "prior_won_rep_initiated": (
        "K4", "rep_initiated", "prior_won_deals", "logit_rep_initiated", "log_odds",
        "Log-odds that a new deal is rep-initiated, per earlier won deal of the account.",
    ),
    "prior_won_new_product": (
        "K4", "is_new_product_for_account", "prior_won_deals", "logit_new_product", "log_odds",
        "Log-odds that a deal is for a product new to the account, per earlier won deal; among "
        "deals of accounts with earlier deals that have not yet had every product.",
    ),
    "repeat_opportunity_rate": (
        "K7", "new_opportunities", "is_repeat_customer", "poisson_rate", "log_rate_ratio",
        "Log rate ratio of new opportunities per account and unit of time once the account has a "
        "won deal closed (controls: log employees).",
    ),
    "repeat_price_realisation": (
        "K8", "price_realisation", "is_repeat_customer", "ols_price_realisation", "difference",
        "Difference in amount / list_price for repeat customers (no other proxy moves it).",
    ),
}
# fmt: on


def truth_table(effects: Effects) -> pd.DataFrame:
    """One row per planted coefficient, on the scale its estimator reports.

    Parameters
    ----------
    effects : Effects
        The effects the world was simulated with.

    Returns
    -------
    DataFrame
        Columns ``claim, outcome, proxy, model, scale, value, description``.

    Examples
    --------
    >>> truth = truth_table(Effects())
    >>> truth.loc[truth["model"].eq("cox_closed"), ["proxy", "value"]]
                     proxy  value
    5   is_repeat_customer   0.35
    6          is_referral   0.25
    7   same_owner_as_last   0.15
    """
    values = asdict(effects)
    rows = [(*_ROWS[name][:5], float(values[name]), _ROWS[name][5]) for name in _ROWS]
    return pd.DataFrame(rows, columns=TRUTH_COLUMNS)


def log_realisation_shift(base: float, shift: float, sd: float) -> float:
    """E[log(base + shift + e)] - E[log(base + e)] for e ~ N(0, sd^2), by Gauss-Hermite quadrature.

    The simulator multiplies a deal's list price by its price realisation, so the realisation gap of
    repeat customers also shifts their log(amount); this is by how much.

    Examples
    --------
    >>> round(log_realisation_shift(0.8, 0.0, 0.05), 12)
    0.0
    """
    nodes, weights = np.polynomial.hermite_e.hermegauss(60)
    weights = weights / weights.sum()
    with_shift = np.log(base + shift + sd * nodes) @ weights
    without = np.log(base + sd * nodes) @ weights
    return float(with_shift - without)
