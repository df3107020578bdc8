"""The fits behind each scorecard row: one effect, its standard error and its p-value.

:func:`~salesinsight.claims.evaluate.evaluate_claims` calls one of these per row: :func:`fit_association`
(deal size, win rate, proactive deals), :func:`fit_price` (price realisation), :func:`fit_cox`
(speed) and :func:`fit_rate` (the account-year panel). Each returns a :class:`Fit` on the model's
own log scale with the critical values its interval needs, and what its sensitivity to
unmeasured confounding is read from: how its ratio converts to a risk ratio for an E-value, the
estimate it would have without each control (:func:`~salesinsight.stats.ovb.estimate_without`),
and for least squares sensemakr's statistics (:class:`Sensemakr`). The library's errors
propagate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from salesinsight.exceptions import AnalysisError
from salesinsight.stats.association import association
from salesinsight.stats.checks import MIN_EVENTS, MIN_ROWS, Caveats, cluster_codes
from salesinsight.stats.design import build_design
from salesinsight.stats.evalues import Conversion
from salesinsight.stats.ovb import (
    ConfounderBound,
    confounder_bound,
    control_partial_r2,
    estimate_without,
    partial_r2,
    robustness_value,
)
from salesinsight.stats.rates import poisson_rate
from salesinsight.stats.survival import time_to_close

__all__ = [
    "Fit",
    "Sensemakr",
    "control_terms",
    "critical_value",
    "fit_association",
    "fit_cox",
    "fit_lost_on_price",
    "fit_price",
    "fit_quote",
    "fit_rate",
]


@dataclass(frozen=True)
class Sensemakr:
    """sensemakr's statistics of a least-squares row (Cinelli and Hazlett 2020).

    Attributes
    ----------
    partial_r2 : float
        The proxy's partial R² with the outcome.
    robustness_value, robustness_value_alpha : float
        ``RV_q=1`` and ``RV_q=1,alpha`` (from the classical errors, at the scorecard's alpha).
    benchmark : str or None
        The control a confounder as strong as would move the estimate most (None without
        controls).
    bound : ConfounderBound or None
        The estimate (log scale) after removing a confounder as strong as `benchmark`.
    """

    partial_r2: float
    robustness_value: float
    robustness_value_alpha: float
    benchmark: str | None = None
    bound: ConfounderBound | None = None


@dataclass(frozen=True)
class Fit:
    """One fitted effect on the model's own (log) scale, with what its interval needs.

    ``conversion`` takes its ratio to a risk ratio for E-values; ``shifts`` pairs each control
    with the estimate (log scale) the fit would have without it; ``sensemakr`` is set for
    least squares.
    """

    estimate: float
    std_err: float
    p_value: float
    n: int
    critical: Callable[[float], float]
    note: str
    conversion: Conversion
    shifts: tuple[tuple[str, float], ...] = ()
    sensemakr: Sensemakr | None = None


def critical_value(model: Any) -> Callable[[float], float]:
    """The two-sided critical value at level `a` of the distribution the model tests with."""
    if model is not None and getattr(model, "use_t", False):
        df = getattr(model, "df_resid_inference", None) or model.df_resid
        return lambda a: float(sps.t.ppf(1 - a / 2, df))
    return lambda a: float(sps.norm.ppf(1 - a / 2))


def control_terms(names: Sequence[str], controls: Sequence[str]) -> dict[str, list[int]]:
    """Positions of each control's terms among a model's `names` (a category's dummies are
    named ``control[level]``); controls the model left out have none and are not listed.

    Examples
    --------
    >>> control_terms(["Intercept", "x", "size", "product[b]", "product[c]"], ["size", "product"])
    {'size': [2], 'product': [3, 4]}
    """
    found = {
        control: [i for i, n in enumerate(names) if n == control or n.startswith(f"{control}[")]
        for control in controls
    }
    return {control: positions for control, positions in found.items() if positions}


def _shifts(
    params: pd.Series, cov: np.ndarray, term: str, controls: Sequence[str]
) -> tuple[tuple[str, float], ...]:
    """Each control with the estimate of `term` without it (exact for OLS, one step else)."""
    names = list(params.index)
    position = names.index(term)
    values, matrix = params.to_numpy(dtype=float), np.asarray(cov, dtype=float)
    return tuple(
        (control, estimate_without(values, matrix, term=position, dropped=positions))
        for control, positions in control_terms(names, controls).items()
    )


def _sensemakr(result: Any, term: str, controls: Sequence[str], alpha: float) -> Sensemakr:
    """sensemakr's statistics from a statsmodels OLS fit, the strongest control found by the
    bias a confounder as strong as it would cause."""
    names = list(result.model.exog_names)
    position = names.index(term)
    estimate = float(np.asarray(result.params)[position])
    se = float(np.sqrt(result.scale * np.asarray(result.normalized_cov_params)[position, position]))
    dof = float(result.df_resid)
    t_value = estimate / se
    best: tuple[str, ConfounderBound] | None = None
    for control, positions in control_terms(names, controls).items():
        r2d, r2y = control_partial_r2(result, treatment=term, control=[names[i] for i in positions])
        try:
            bound = confounder_bound(estimate, se, dof, r2dxj_x=r2d, r2yxj_dx=r2y, alpha=alpha)
        except AnalysisError:
            # A control explaining half the proxy's variance or more: no confounder can be as
            # strong with it in this framework, so it is no benchmark.
            continue
        if best is None or abs(estimate - bound.estimate) > abs(estimate - best[1].estimate):
            best = (control, bound)
    return Sensemakr(
        partial_r2=partial_r2(t_value, dof),
        robustness_value=robustness_value(t_value, dof),
        robustness_value_alpha=robustness_value(t_value, dof, alpha=alpha),
        benchmark=best[0] if best else None,
        bound=best[1] if best else None,
    )


def _conversion(result: Any) -> Conversion:
    """How an association's ratio converts to a risk ratio (VanderWeele and Ding 2017)."""
    if result.family in ("log_ols", "ols"):
        # The scorecard's least-squares outcomes are logs: the ratio is one of (geometric) means.
        return Conversion("mean_ratio", residual_sd=float(np.sqrt(result.model.scale)))
    if result.family == "logit":
        share = float(np.mean(result.model.model.endog))
        return Conversion("odds_ratio", outcome_share=share)
    return Conversion("rate_ratio")


def fit_association(frame: pd.DataFrame, *, outcome: str, proxy: str, **options: Any) -> Fit:
    result = association(frame, outcome=outcome, predictor=proxy, **options)
    row = result.summary.iloc[0]
    model = result.model
    return Fit(
        float(row["estimate"]),
        float(row["std_err"]),
        float(row["p_value"]),
        result.n,
        critical_value(model),
        result.note,
        conversion=_conversion(result),
        shifts=_shifts(model.params, model.normalized_cov_params, row["term"], result.controls),
        sensemakr=(
            _sensemakr(model, row["term"], result.controls, options["alpha"])
            if result.family in ("log_ols", "ols")
            else None
        ),
    )


def fit_cox(frame: pd.DataFrame, *, event: str, proxy: str, **options: Any) -> Fit:
    options.pop("alpha")
    result = time_to_close(frame, by=proxy, event=event, **options)
    if result.hazard_ratios is None or result.model is None:
        raise AnalysisError("The Cox model was not fitted, so there is no hazard ratio.")
    row = result.hazard_ratios.iloc[0]
    events = int(result.summary["events"].sum())
    return Fit(
        float(row["estimate"]),
        float(row["std_err"]),
        float(row["p_value"]),
        result.n,
        critical_value(None),
        result.note,
        conversion=Conversion("hazard_ratio", outcome_share=events / result.n),
        shifts=_shifts(result.model.params, result.model.model_cov, row["term"], result.controls),
    )


def fit_price(frame: pd.DataFrame, *, proxy: str, **options: Any) -> Fit:
    amount = pd.to_numeric(frame["amount"], errors="coerce").astype(float)
    price = pd.to_numeric(frame["list_price"], errors="coerce").astype(float)
    realisation = amount / price.where(price > 0)
    keep = frame["status"].astype(str).eq("won") & (realisation > 0)
    if realisation[keep].nunique() < 2:
        raise AnalysisError(
            f"{int(keep.sum())} won deal(s) with a list price and an amount, with "
            f"{realisation[keep].nunique()} distinct realisation(s): nothing varies to explain."
        )
    # Only the columns the model reads: a row subset of every column is costly at scale.
    cluster = options.get("cluster")
    used = [proxy, *options.get("controls", ()), *([cluster] if cluster else [])]
    won = frame.loc[keep, list(dict.fromkeys(used))].assign(
        log_price_realisation=np.log(realisation[keep])
    )
    fit = fit_association(won, outcome="log_price_realisation", proxy=proxy, **options)
    note = (
        "Over won deals with a list price; the model is on log(amount / list price), so the "
        f"ratio compares the share of list price realised. {fit.note}"
    )
    return replace(fit, note=note)


def fit_quote(frame: pd.DataFrame, *, proxy: str, **options: Any) -> Fit:
    """OLS of log(amount / first amount) over won deals: the share of the first quote kept
    (``1 - negotiated_discount``), from the stage history's first recorded amount."""
    amount = pd.to_numeric(frame["amount"], errors="coerce").astype(float)
    first = pd.to_numeric(frame["first_amount"], errors="coerce").astype(float)
    kept = amount / first.where(first > 0)
    keep = frame["status"].astype(str).eq("won") & (kept > 0)
    if kept[keep].nunique() < 2:
        raise AnalysisError(
            f"{int(keep.sum())} won deal(s) with a first recorded amount, with "
            f"{kept[keep].nunique()} distinct share(s) of it kept: nothing varies to explain."
        )
    cluster = options.get("cluster")
    used = [proxy, *options.get("controls", ()), *([cluster] if cluster else [])]
    won = frame.loc[keep, list(dict.fromkeys(used))].assign(
        log_quote_realisation=np.log(kept[keep])
    )
    fit = fit_association(won, outcome="log_quote_realisation", proxy=proxy, **options)
    note = (
        "Over won deals whose stage history records an amount; the model is on log(amount / "
        "first recorded amount), so the ratio compares the share of the first quote kept "
        f"(1 - negotiated discount). {fit.note}"
    )
    return replace(fit, note=note)


def fit_lost_on_price(frame: pd.DataFrame, *, proxy: str, **options: Any) -> Fit:
    """Logit of a lost deal's loss reason naming price, over lost deals with a reason."""
    flag = frame["lost_on_price"].astype("boolean")
    keep = frame["status"].astype(str).eq("lost").to_numpy() & flag.notna().to_numpy()
    on_price = int(flag[keep].sum())
    if on_price == 0 or on_price == int(keep.sum()):
        raise AnalysisError(
            f"{int(keep.sum())} lost deal(s) with a loss reason, {on_price} of them lost on "
            "price: nothing varies to explain."
        )
    cluster = options.get("cluster")
    used = [proxy, *options.get("controls", ()), *([cluster] if cluster else [])]
    lost = frame.loc[keep, list(dict.fromkeys(used))].assign(
        lost_on_price=flag[keep].astype(float).to_numpy()
    )
    fit = fit_association(lost, outcome="lost_on_price", proxy=proxy, **options)
    note = (
        f"Over {int(keep.sum())} lost deals with a loss reason, {on_price} of them lost on price "
        f"(the reason names price, cost, budget or a discount). {fit.note}"
    )
    return replace(fit, note=note)


def fit_rate(
    panel: pd.DataFrame,
    *,
    outcome: str,
    proxy: str,
    controls: Sequence[str],
    cluster: str | None,
    alpha: float,
) -> Fit:
    """Pseudo-Poisson rate model with exposure: consistent for any non-negative outcome."""
    caveats = Caveats()
    columns = list(dict.fromkeys([outcome, proxy, "exposure_years", *controls]))
    frame = panel[columns + ([cluster] if cluster and cluster not in columns else [])]
    incomplete = frame.isna().any(axis=1)
    if incomplete.any():
        caveats.add(
            f"{int(incomplete.sum())} of {len(frame)} account-years left out for missing values."
        )
        frame = frame.loc[~incomplete]
    y = frame[outcome].astype(float)
    n, positive = len(frame), int((y > 0).sum())
    if n < MIN_ROWS or positive < MIN_EVENTS:
        raise AnalysisError(
            f"Only {n} account-years, {positive} of them with `{outcome}` above 0; at least "
            f"{MIN_ROWS} and {MIN_EVENTS} are needed."
        )
    design = build_design(
        frame, predictor=proxy, controls=controls, caveats=caveats, intercept=True
    )
    groups: np.ndarray | None = None
    if cluster is not None:
        groups = cluster_codes(
            frame[cluster],
            caveats,
            rows="account-years",
            errors="cluster-robust errors",
            instead="Pass `cluster=None` for robust (HC1) errors.",
        )
    with caveats.translating_fit_warnings("rate model"):
        # Dividing by the mean keeps revenue in a range the fit handles; ratios are unchanged.
        model = poisson_rate(
            y / y.mean(),
            design,
            exposure=frame["exposure_years"].to_numpy(dtype=float),
            groups=groups,
        )
    term = design.predictor_terms[0]
    note = (
        f"Pseudo-Poisson rate model of `{outcome}` per account-year on `{proxy}` over {n} "
        f"account-years, exposure = years observed"
        + (f", controlling for {', '.join(controls)}" if controls else ", no controls")
        + (f"; errors clustered by `{cluster}`" if cluster else "; robust (HC1) errors")
        + f". {caveats.note}"
    ).strip()
    return Fit(
        float(model.params[term]),
        float(model.bse[term]),
        float(model.pvalues[term]),
        n,
        critical_value(model),
        note,
        conversion=Conversion("rate_ratio"),
        shifts=_shifts(model.params, model.model_cov, term, controls),
    )
