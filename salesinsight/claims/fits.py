"""The fits behind each scorecard row: one effect, its standard error and its p-value.

:func:`~salesinsight.claims.evaluate.evaluate_claims` calls one of these per row: :func:`fit_association`
(deal size, win rate, proactive deals), :func:`fit_price` (price realisation), :func:`fit_cox`
(speed) and :func:`fit_rate` (the account-year panel). Each returns a :class:`Fit` on the model's
own log scale with the critical values its interval needs; the library's errors propagate.
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
from salesinsight.stats.rates import poisson_rate
from salesinsight.stats.survival import time_to_close

__all__ = ["Fit", "critical_value", "fit_association", "fit_cox", "fit_price", "fit_rate"]


@dataclass(frozen=True)
class Fit:
    """One fitted effect on the model's own (log) scale, with what its interval needs."""

    estimate: float
    std_err: float
    p_value: float
    n: int
    critical: Callable[[float], float]
    note: str

    @classmethod
    def from_row(cls, row: pd.Series, n: int, critical: Callable[[float], float], note: str) -> Fit:
        """The fit of a summary row with ``estimate``, ``std_err`` and ``p_value``."""
        estimate, std_err, p_value = (float(row[k]) for k in ("estimate", "std_err", "p_value"))
        return cls(estimate, std_err, p_value, n, critical, note)


def critical_value(model: Any) -> Callable[[float], float]:
    """The two-sided critical value at level `a` of the distribution the model tests with."""
    if model is not None and getattr(model, "use_t", False):
        df = getattr(model, "df_resid_inference", None) or model.df_resid
        return lambda a: float(sps.t.ppf(1 - a / 2, df))
    return lambda a: float(sps.norm.ppf(1 - a / 2))


def fit_association(frame: pd.DataFrame, *, outcome: str, proxy: str, **options: Any) -> Fit:
    result = association(frame, outcome=outcome, predictor=proxy, **options)
    return Fit.from_row(result.summary.iloc[0], result.n, critical_value(result.model), result.note)


def fit_cox(frame: pd.DataFrame, *, event: str, proxy: str, **options: Any) -> Fit:
    options.pop("alpha")
    result = time_to_close(frame, by=proxy, event=event, **options)
    if result.hazard_ratios is None:
        raise AnalysisError("The Cox model was not fitted, so there is no hazard ratio.")
    return Fit.from_row(result.hazard_ratios.iloc[0], result.n, critical_value(None), result.note)


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
    )
