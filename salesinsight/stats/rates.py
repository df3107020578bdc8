"""Rates per unit of exposure: pseudo-Poisson regression with cluster-robust errors.

A Poisson fit with log(exposure) as offset estimates rate ratios consistently for any
non-negative outcome whose mean is log-linear, counts or revenue alike (the pseudo-Poisson or
Poisson quasi-likelihood estimator, Santos Silva and Tenreyro 2006); its sandwich errors do not
rely on the Poisson variance, so overdispersion does not make them too narrow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesinsight.stats._fast.poisson import RateFit, poisson_rate_fit
from salesinsight.stats.design import Design

__all__ = ["RateFit", "poisson_rate"]


def poisson_rate(
    y: pd.Series, design: Design, *, exposure: np.ndarray, groups: np.ndarray | None
) -> RateFit:
    """Pseudo-Poisson regression of `y` on `design` with `exposure`, and robust errors.

    The estimates are those of ``sm.GLM(y, design.exog, family=sm.families.Poisson(),
    exposure=exposure).fit(cov_type="cluster", cov_kwds={"groups": groups})`` (IRLS until the
    deviance changes by at most 1e-8, at most 100 steps), or with ``cov_type="HC1"`` when
    `groups` is None (for this model without a small-sample factor); intervals and p-values use
    the normal distribution. They are computed by a private solver from cross-products of the
    design, several times faster on large panels (see :mod:`salesinsight.stats._fast.poisson`).

    Parameters
    ----------
    y : Series
        Non-negative outcome, aligned with ``design.exog``.
    design : Design
        From :func:`~salesinsight.stats.design.build_design`, with an intercept.
    exposure : ndarray
        Positive exposure per row; log(exposure) is the offset.
    groups : ndarray of int or None
        Cluster codes 0, 1, ... per row, e.g. from :func:`~salesinsight.stats.checks.cluster_codes`.

    Returns
    -------
    RateFit
        ``params`` (log rate ratios), ``cov_params``, ``bse``, ``pvalues``, ``converged``,
        ``iterations``, ``use_t`` (False).

    Examples
    --------
    >>> from salesinsight.stats.checks import Caveats
    >>> from salesinsight.stats.design import build_design
    >>> rng = np.random.default_rng(0)
    >>> frame = pd.DataFrame({"age": rng.uniform(0, 5, 400)})
    >>> exposure = rng.uniform(0.2, 1.0, 400)
    >>> y = pd.Series(rng.poisson(exposure * np.exp(0.3 + 0.2 * frame["age"])), dtype=float)
    >>> design = build_design(
    ...     frame, predictor="age", controls=[], caveats=Caveats(), intercept=True
    ... )
    >>> fit = poisson_rate(y, design, exposure=exposure, groups=np.repeat(np.arange(80), 5))
    >>> round(float(np.exp(fit.params["age"])), 2)  # planted: exp(0.2) = 1.22
    1.29
    """
    return poisson_rate_fit(y, design.exog, exposure=exposure, groups=groups)
