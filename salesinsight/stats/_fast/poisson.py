"""Pseudo-Poisson rate fits computed from cross-products of the design.

statsmodels' ``GLM.fit`` solves one least-squares problem of the whole ``n x k`` design per IRLS
step (an SVD each): for the account-year panel of a million deals, a few dozen terms and a dozen
rate models, most of the scorecard's time. :func:`poisson_rate_fit` is
``sm.GLM(y, exog, family=Poisson(), exposure=...).fit()`` with cluster-robust errors: the same
IRLS steps from the same start, with the same convergence rule (the change of the deviance),
each weighted least-squares step solved from its ``k x k`` cross-product; then the same sandwich
covariance. It agrees with statsmodels to rounding (about 1e-10 relative), and leaves to
statsmodels itself any IRLS step whose cross-product is not clearly non-singular, where the
normal equations would lose the accuracy an SVD keeps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import linalg
from scipy import stats as sps

from salesinsight.stats.design import clearly_full_rank, gram_matrix

__all__ = ["RateFit", "poisson_rate_fit"]

_EPS = np.finfo(float).eps


def _inverse(gram: np.ndarray) -> np.ndarray:
    """Inverse of a positive definite cross-product, equilibrated for accuracy."""
    scale = 1.0 / np.sqrt(np.diag(gram))
    factor = linalg.cho_factor(gram * np.outer(scale, scale))
    return linalg.cho_solve(factor, np.eye(len(gram))) * np.outer(scale, scale)


@dataclass(frozen=True)
class RateFit:
    """A pseudo-Poisson rate fit: estimates with their robust covariance, on the log scale.

    ``use_t`` is False: intervals and p-values use the normal distribution, as statsmodels' GLM
    does by default. ``model_cov`` is the model-based covariance, the inverse of the information
    ``X' diag(mu) X`` (statsmodels' ``normalized_cov_params``).
    """

    params: pd.Series
    cov_params: pd.DataFrame
    model_cov: pd.DataFrame
    converged: bool
    iterations: int
    use_t: bool = False

    @property
    def bse(self) -> pd.Series:
        """Standard errors of ``params``."""
        return pd.Series(np.sqrt(np.diag(self.cov_params)), index=self.params.index)

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the Wald tests that a coefficient is 0 (normal reference)."""
        return pd.Series(2 * sps.norm.sf(np.abs(self.params / self.bse)), index=self.params.index)


class _Unreproducible(Exception):
    """The fast path met a case (non-finite values, a nearly singular step) it leaves to
    statsmodels."""


def _poisson_deviance(y: np.ndarray, mu: np.ndarray) -> float:
    """Poisson deviance, computed as statsmodels computes it (its convergence rule reads it)."""
    ratio = np.clip(y / mu, _EPS, np.inf)
    return float(np.sum(2 * (y * np.log(ratio) - (y - mu))))


def _weighted_solve(x: np.ndarray, z: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted least squares of `z` on `x` from the normal equations (equilibrated Cholesky)."""
    gram = gram_matrix(x, weights=weights)
    # Judged on unit-scaled columns, as _inverse solves it: a column measured in days next to a
    # 0/1 flag makes the raw cross-product look nearly singular when the scaled one is not.
    scale = 1.0 / np.sqrt(np.clip(np.diag(gram), _EPS, np.inf))
    if not clearly_full_rank(gram * np.outer(scale, scale)):
        raise _Unreproducible
    return _inverse(gram) @ (x.T @ (weights * z))


def _irls(
    y: np.ndarray, x: np.ndarray, offset: np.ndarray, maxiter: int, tol: float
) -> tuple[np.ndarray, np.ndarray, bool, int]:
    """statsmodels' ``GLM._fit_irls`` for the Poisson family and log link, step for step."""
    mu = (y + y.mean()) / 2.0
    linear = np.log(np.clip(mu, _EPS, np.inf))
    previous = _poisson_deviance(y, mu)
    params = np.zeros(x.shape[1])
    converged, iterations = False, 0
    while not converged and iterations < maxiter:
        iterations += 1
        slope = 1.0 / np.clip(mu, _EPS, np.inf)
        weights = 1.0 / (slope**2 * np.fabs(mu))
        z = linear + slope * (y - mu) - offset
        if not (np.isfinite(z).all() and np.isfinite(weights).all()):
            raise _Unreproducible
        if iterations == 1:
            params = _weighted_solve(x, z, weights)
        else:
            # From the second step the working response is x @ params plus a correction, so
            # the step solves for the change alone: the same solution, without the normal
            # equations' loss of accuracy on the part that is already known.
            params = params + _weighted_solve(x, z - (linear - offset), weights)
        linear = x @ params + offset
        mu = np.exp(linear)
        deviance = _poisson_deviance(y, mu)
        converged = bool(abs(previous - deviance) <= tol)
        previous = deviance
    return params, mu, converged, iterations


def poisson_rate_fit(
    y: pd.Series,
    exog: pd.DataFrame,
    *,
    exposure: np.ndarray,
    groups: np.ndarray | None,
    maxiter: int = 100,
    tol: float = 1e-8,
) -> RateFit:
    """Pseudo-Poisson regression with exposure and cluster-robust (or HC0) covariance.

    Equals ``sm.GLM(y, exog, family=sm.families.Poisson(), exposure=exposure).fit(cov_type=
    "cluster", cov_kwds={"groups": groups})`` (or ``cov_type="HC1"`` when `groups` is None,
    which statsmodels' GLM computes without a small-sample factor). Where the fast path cannot
    reproduce statsmodels step for step (non-finite values, a singular step), statsmodels
    fits it.

    Parameters
    ----------
    y : Series
        Non-negative outcome.
    exog : DataFrame
        Design with an intercept, linearly independent columns.
    exposure : ndarray
        Positive exposure per row; log(exposure) is the offset.
    groups : ndarray of int or None
        Cluster codes 0, 1, ... per row.
    maxiter, tol
        As for ``GLM.fit``: at most `maxiter` IRLS steps, stopping when the deviance changes by
        at most `tol`.

    Returns
    -------
    RateFit

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> n = 400
    >>> x = pd.DataFrame({"Intercept": 1.0, "age": rng.uniform(0, 5, n)})
    >>> exposure = rng.uniform(0.2, 1.0, n)
    >>> y = pd.Series(rng.poisson(exposure * np.exp(0.3 + 0.2 * x["age"])).astype(float))
    >>> groups = np.repeat(np.arange(80), 5)
    >>> fast = poisson_rate_fit(y, x, exposure=exposure, groups=groups)
    >>> slow = sm.GLM(y, x, family=sm.families.Poisson(), exposure=exposure).fit(
    ...     cov_type="cluster", cov_kwds={"groups": groups}
    ... )
    >>> bool(np.allclose(fast.params, slow.params, rtol=1e-10))
    True
    >>> bool(np.allclose(fast.bse, slow.bse, rtol=1e-10))
    True
    """
    values = np.asarray(exog, dtype=float)
    outcome = np.asarray(y, dtype=float)
    offset = np.log(np.asarray(exposure, dtype=float))
    try:
        params, mu, converged, iterations = _irls(outcome, values, offset, maxiter, tol)
        cov, model_cov = _sandwich(values, outcome, mu, groups)
    except _Unreproducible:
        cov_type = "cluster" if groups is not None else "HC1"
        slow = sm.GLM(y, exog, family=sm.families.Poisson(), exposure=exposure).fit(
            maxiter=maxiter,
            tol=tol,
            cov_type=cov_type,
            cov_kwds={"groups": groups} if groups is not None else None,
        )
        params, cov = np.asarray(slow.params), np.asarray(slow.cov_params())
        model_cov = np.asarray(slow.normalized_cov_params)
        converged, iterations = bool(slow.converged), int(slow.fit_history["iteration"])
    names = list(exog.columns)
    return RateFit(
        params=pd.Series(params, index=names),
        cov_params=pd.DataFrame(cov, index=names, columns=names),
        model_cov=pd.DataFrame(model_cov, index=names, columns=names),
        converged=converged,
        iterations=iterations,
    )


def _sandwich(
    x: np.ndarray, y: np.ndarray, mu: np.ndarray, groups: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """statsmodels' ``cov_cluster`` (CRV1 factor) of a Poisson GLM, or its HC0 for no groups,
    and the model-based covariance (the inverse information) it is built on."""
    hessian = -gram_matrix(x, weights=mu)
    if not np.isfinite(hessian).all():
        raise _Unreproducible
    bread = np.linalg.inv(hessian)
    residual = y - mu
    n, k = x.shape
    if groups is None:
        return bread @ gram_matrix(x, weights=residual**2) @ bread.T, -bread
    codes = np.asarray(groups)
    n_groups = int(codes.max()) + 1
    # Per cluster, the sum of its rows' scores x * (y - mu), one column at a time.
    sums = np.column_stack(
        [np.bincount(codes, weights=x[:, j] * residual, minlength=n_groups) for j in range(k)]
    )
    n_present = int(np.count_nonzero(np.bincount(codes, minlength=n_groups)))
    cov = bread @ gram_matrix(sums) @ bread.T
    return cov * (n_present / (n_present - 1.0) * ((n - 1.0) / float(n - k))), -bread
