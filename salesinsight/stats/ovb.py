"""Omitted variable bias in least squares, as sensemakr measures it (Cinelli and Hazlett 2020).

Cinelli and Hazlett ("Making sense of sensitivity: extending omitted variable bias", *JRSS B*
82: 39-67) describe a confounder ``Z`` left out of a regression of ``Y`` on the proxy ``D`` and
controls ``X`` by two partial R²: of ``Z`` with ``D`` given ``X`` and of ``Z`` with ``Y`` given
``D`` and ``X``. From the fitted regression alone:

* :func:`partial_r2`: the proxy's own partial R² with the outcome, ``t² / (t² + df)``;
* :func:`robustness_value`: the partial R² a confounder would need with both to bring the
  estimate to zero (``RV_q=1``), or to where its interval at level ``alpha`` reaches zero
  (``RV_q=1,alpha``);
* :func:`confounder_bound`: the estimate and interval after removing a confounder ``kd`` (and
  ``ky``) times as strong as a measured control, from that control's two partial R²
  (:func:`control_partial_r2`).

These use the classical OLS errors, as sensemakr does. The package itself (PySensemakr 0.0.8)
fails on current pandas; the closed forms here are tested against the paper's worked example.

:func:`estimate_without` gives the estimate a fit would have without some of its terms, for any
model with a covariance: exact for least squares, a one-step approximation of the refit for
likelihood models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from salesinsight.exceptions import AnalysisError, InvalidValueError

__all__ = [
    "ConfounderBound",
    "confounder_bound",
    "control_partial_r2",
    "estimate_without",
    "partial_r2",
    "robustness_value",
]


def partial_r2(t_value: float, dof: float) -> float:
    """Partial R² of a coefficient with the outcome: ``t² / (t² + dof)``.

    Examples
    --------
    >>> round(partial_r2(4.18445, 783), 5)  # the paper's example: 2.2 %
    0.02187
    """
    return float(t_value**2 / (t_value**2 + dof))


def robustness_value(
    t_value: float, dof: float, *, q: float = 1.0, alpha: float | None = None
) -> float:
    """The robustness value ``RV_q`` (with `alpha`, ``RV_q,alpha``) of a coefficient.

    The partial R² a confounder would need with both the proxy and the outcome to reduce the
    estimate by ``100 q`` % (with `alpha`: to bring the edge of its ``1 - alpha`` interval
    there), Cinelli and Hazlett's equations 18-19, with the case where the bound on the
    confounder's association with the outcome does not bind.

    Examples
    --------
    The paper's example (t = 4.18 with 783 degrees of freedom): 13.9 %, and 7.6 % at 5 %.

    >>> round(robustness_value(4.18445, 783), 4), round(robustness_value(4.18445, 783, alpha=0.05), 4)
    (0.1388, 0.0763)
    """
    if not q > 0:
        raise InvalidValueError(f"`q` must be positive, got {q!r}.")
    fq = q * abs(t_value) / np.sqrt(dof)
    if alpha is None:
        return float(0.5 * (np.sqrt(fq**4 + 4 * fq**2) - fq**2))
    if not 0 < alpha < 1:
        raise InvalidValueError(f"`alpha` must lie between 0 and 1, got {alpha!r}.")
    critical = abs(float(sps.t.ppf(alpha / 2, dof - 1))) / np.sqrt(dof - 1)
    fqa = fq - critical
    if fqa <= 0:
        return 0.0
    if fq > 1 / critical:
        return float((fq**2 - critical**2) / (1 + fq**2))
    return float(0.5 * (np.sqrt(fqa**4 + 4 * fqa**2) - fqa**2))


@dataclass(frozen=True)
class ConfounderBound:
    """The estimate after removing a confounder as strong as (``kd`` times) a measured control.

    Attributes
    ----------
    r2dz_x, r2yz_dx : float
        The confounder's partial R² with the proxy, and with the outcome.
    estimate, std_err, t_value : float
        The adjusted estimate (moved towards zero), its standard error and t-value.
    ci_low, ci_high : float
        Its interval at the level asked.
    """

    r2dz_x: float
    r2yz_dx: float
    estimate: float
    std_err: float
    t_value: float
    ci_low: float
    ci_high: float


def confounder_bound(
    estimate: float,
    std_err: float,
    dof: float,
    *,
    r2dxj_x: float,
    r2yxj_dx: float,
    kd: float = 1.0,
    ky: float | None = None,
    alpha: float = 0.05,
) -> ConfounderBound:
    """Bound the bias from a confounder ``kd`` times as strong as a control (sensemakr's
    ``ovb_bounds``), from the control's partial R² with the proxy (`r2dxj_x`, given the other
    controls) and with the outcome (`r2yxj_dx`, given the proxy and the other controls).

    Parameters
    ----------
    estimate, std_err, dof : float
        The proxy's coefficient, its classical standard error and the residual degrees of freedom.
    r2dxj_x, r2yxj_dx : float
        The control's partial R², e.g. from :func:`control_partial_r2`.
    kd, ky : float
        How many times stronger than the control the confounder is with the proxy and with the
        outcome (`ky` defaults to `kd`).
    alpha : float, default 0.05
        Level of the adjusted interval (t with `dof` degrees of freedom, as sensemakr's).

    Returns
    -------
    ConfounderBound
        The confounder's partial R² and the adjusted estimate, error, t-value and interval. An
        implied partial R² with the outcome above 1 is set to 1, as sensemakr does: the
        confounder then explains all of the outcome's residual variance, and the adjusted error
        is 0.

    Raises
    ------
    AnalysisError
        The implied partial R² with the proxy reaches 1: no confounder can be that strong.

    Examples
    --------
    The paper's example, a confounder as strong as `female` (partial R² 0.91 % with being
    directly harmed and 10.9 % with the attitude to peace):

    >>> bound = confounder_bound(0.09731582, 0.02325654, 783,
    ...                          r2dxj_x=0.009081065190, r2yxj_dx=0.109033915428)
    >>> round(bound.r2dz_x, 4), round(bound.r2yz_dx, 4), round(bound.estimate, 4)
    (0.0092, 0.1246, 0.0752)
    """
    ky = kd if ky is None else ky
    r2dz_x = kd * r2dxj_x / (1 - r2dxj_x)
    r2zxj_xd = kd * r2dxj_x**2 / ((1 - kd * r2dxj_x) * (1 - r2dxj_x))
    if r2dz_x >= 1 or r2zxj_xd >= 1:
        raise AnalysisError(
            f"A confounder {kd:g} times as strong as the control would explain all of the "
            "proxy's variance; choose a smaller `kd`."
        )
    r2yz_dx = ((np.sqrt(ky) + np.sqrt(r2zxj_xd)) / np.sqrt(1 - r2zxj_xd)) ** 2 * (
        r2yxj_dx / (1 - r2yxj_dx)
    )
    r2yz_dx = float(min(r2yz_dx, 1.0))
    bias = np.sqrt(r2yz_dx * r2dz_x / (1 - r2dz_x)) * std_err * np.sqrt(dof)
    adjusted = float(np.sign(estimate) * (abs(estimate) - bias))
    se = float(np.sqrt((1 - r2yz_dx) / (1 - r2dz_x)) * std_err * np.sqrt(dof / (dof - 1)))
    half = abs(float(sps.t.ppf(alpha / 2, dof))) * se
    with np.errstate(divide="ignore", invalid="ignore"):
        # A confounder explaining all of the outcome's residual variance leaves no error.
        t_value = float(np.divide(adjusted, se))
    return ConfounderBound(
        r2dz_x=float(r2dz_x),
        r2yz_dx=r2yz_dx,
        estimate=adjusted,
        std_err=se,
        t_value=t_value,
        ci_low=adjusted - half,
        ci_high=adjusted + half,
    )


def _positions(names: Sequence[str], wanted: Sequence[str]) -> list[int]:
    missing = [w for w in wanted if w not in names]
    if missing:
        raise InvalidValueError(f"Terms {missing} are not in the model; it has {list(names)}.")
    return [list(names).index(w) for w in wanted]


def control_partial_r2(
    result: Any, *, treatment: str, control: Sequence[str]
) -> tuple[float, float]:
    """The two partial R² of a control (one term or a group, e.g. a category's dummies).

    From a fitted statsmodels OLS `result` alone: with ``A = (X'X)^-1`` of its design, the
    control's partial R² with the proxy given the other controls is ``A_DJ A_JJ^-1 A_JD / A_DD``
    (the regression of the proxy on the controls, without fitting it), and with the outcome
    given the proxy and the others ``W / (W + df)`` from the classical Wald statistic ``W`` of
    its terms (sensemakr's ``partial_r2`` and ``group_partial_r2``).

    Parameters
    ----------
    result : statsmodels RegressionResults
        The least-squares fit (its ``params``, ``normalized_cov_params``, ``scale``,
        ``df_resid`` and ``model.exog_names`` are read).
    treatment : str
        The proxy's term.
    control : sequence of str
        The control's terms.

    Returns
    -------
    (r2dxj_x, r2yxj_dx) : tuple of float

    Examples
    --------
    >>> import statsmodels.api as sm
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=500)
    >>> d = 0.5 * x + rng.normal(size=500)
    >>> y = d + x + rng.normal(size=500)
    >>> fit = sm.OLS(y, sm.add_constant(np.column_stack([d, x]))).fit()
    >>> r2d, r2y = control_partial_r2(fit, treatment="x1", control=["x2"])
    >>> aux = sm.OLS(d, sm.add_constant(x)).fit()
    >>> bool(np.isclose(r2d, aux.rsquared)), round(r2y, 2)
    (True, 0.5)
    """
    names = list(result.model.exog_names)
    d = _positions(names, [treatment])[0]
    j = _positions(names, list(control))
    inverse = np.asarray(result.normalized_cov_params, dtype=float)
    cross = inverse[d, j]
    block = inverse[np.ix_(j, j)]
    r2d = float(cross @ np.linalg.solve(block, cross) / inverse[d, d])
    params = np.asarray(result.params, dtype=float)[j]
    wald = float(params @ np.linalg.solve(block * float(result.scale), params))
    return r2d, wald / (wald + float(result.df_resid))


def estimate_without(
    params: np.ndarray, cov: np.ndarray, *, term: int, dropped: Sequence[int]
) -> float:
    """The coefficient `term` would have in the fit without the terms `dropped`.

    ``b_D - V_DJ V_JJ^-1 b_J`` with ``V`` the fit's model-based covariance (any positive
    multiple of it): least squares constrained to ``b_J = 0``, which for OLS is exactly the
    regression without those terms; for a logit, Cox or Poisson fit, with ``V`` the inverse
    information, the one-step (Wald) approximation of refitting without them.

    Examples
    --------
    >>> import statsmodels.api as sm
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(300, 2))
    >>> y = x @ [1.0, 0.5] + rng.normal(size=300)
    >>> full = sm.OLS(y, sm.add_constant(x)).fit()
    >>> short = sm.OLS(y, sm.add_constant(x[:, :1])).fit()
    >>> moved = estimate_without(full.params, full.normalized_cov_params, term=1, dropped=[2])
    >>> bool(np.isclose(moved, short.params[1]))
    True
    """
    values = np.asarray(params, dtype=float)
    matrix = np.asarray(cov, dtype=float)
    j = list(dropped)
    cross = matrix[term, j]
    return float(values[term] - cross @ np.linalg.solve(matrix[np.ix_(j, j)], values[j]))
