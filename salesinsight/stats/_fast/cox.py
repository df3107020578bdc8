"""The Cox model with Efron's handling of tied times, fitted from sums over the event times.

statsmodels' :class:`~statsmodels.duration.hazard_regression.PHReg` walks the distinct event times
in a Python loop for every evaluation of the likelihood, score and Hessian, and builds its risk
sets with loops over the rows: minutes for a million deals. :func:`efron_cox` fits the same model
with the same Newton iterations (``PHReg(..., ties="efron").fit()``: from zero, the Hessian scaled
by the rows and ridged by 1e-10, until no coefficient moves by more than 1e-8, at most 100 steps),
its likelihood, score and Hessian computed with a few vectorised passes:

* rows are bucketed by the last event time at or before their own time; a risk set is every
  bucket from its time on, so its sums are reverse cumulative sums over buckets;
* Efron's correction for ``m`` deals tied at one event time averages over ``l = 0 .. m-1`` the
  risk set less ``l/m`` of the tied deals; those averages need only a few sums per event time;
* the Hessian's risk-set second moments collapse into one weighted cross-product of the design,
  ``sum_k a_k R2_k = X' diag(e * cumsum(a)[bucket]) X`` (the tied failures' correction folded
  into the same weights);
* the design is stored column-major, sorted by event time, and every pass over it goes a block
  of rows at a time: the risk-set sums and the Hessian's cross-product share one pass, and the
  log-likelihood alone needs none beyond the linear predictor.

Deals censored before the first event are in no risk set, as in ``PHReg``. Strata, entry times
and offsets are not supported (this kit does not use them).

With clusters, the covariance is the sandwich of R's ``coxph(..., ties = "efron", cluster = ...)``:
``H^-1 (sum_g s_g s_g') H^-1`` with ``s_g`` a cluster's sum of score residuals and no small-sample
factor, the residuals built from the same sums. They are Efron's score residuals, as R's; under
ties ``PHReg.fit(groups=...)`` uses Breslow's, whose errors came out 0.5 to 1 % narrower on the
bundled sample's whole-day durations (they agree where no two events share a time). statsmodels also builds
them with a Python loop over event times that grows with the square of the rows and returns NaN
for deals censored before the first event; here such deals, never at risk at an event,
contribute zero.

The result is a small frozen :class:`CoxFit`; nothing of statsmodels is subclassed or set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
from scipy import stats as sps
from scipy.linalg.blas import dsyrk

from salesinsight.exceptions import InvalidValueError
from salesinsight.stats.design import gram_matrix

__all__ = ["CoxFit", "efron_cox"]

# Rows per block of a pass over the design: its weighted copy stays in cache (as in gram_matrix).
_BLOCK_ROWS = 8192
# statsmodels' Newton settings for PHReg.fit: step tolerance, ridge on the scaled Hessian, steps.
_TOL = 1e-8
_RIDGE = 1e-10
_MAXITER = 100


@dataclass(frozen=True, eq=False)
class CoxFit:
    """A fitted Cox model (Efron ties), as ``TimeToClose.model`` holds it.

    Attributes
    ----------
    params : Series
        Log hazard ratios, one per term.
    model_cov : DataFrame
        Model-based covariance: the inverse of the information at ``params``.
    cluster_cov : DataFrame or None
        Cluster-robust (sandwich) covariance, when clusters were given.
    loglike : float
        Log partial likelihood at ``params``.
    converged : bool
        Whether the Newton steps settled before the iteration limit.
    iterations : int
        Newton steps taken.
    nobs : int
        Rows fitted.
    """

    params: pd.Series
    model_cov: pd.DataFrame
    cluster_cov: pd.DataFrame | None
    loglike: float
    converged: bool
    iterations: int
    nobs: int

    @property
    def cov_params(self) -> pd.DataFrame:
        """The covariance the errors use: clustered where clusters were given, else model-based."""
        return self.cluster_cov if self.cluster_cov is not None else self.model_cov

    @property
    def bse(self) -> pd.Series:
        """Standard errors of ``params``."""
        return pd.Series(np.sqrt(np.diag(self.cov_params)), index=self.params.index)

    @property
    def pvalues(self) -> pd.Series:
        """Two-sided p-values of the Wald tests that a coefficient is 0 (normal reference)."""
        return pd.Series(2 * sps.norm.sf(np.abs(self.params / self.bse)), index=self.params.index)

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald intervals at level ``1 - alpha``: columns ``lower`` and ``upper``."""
        q = sps.norm.ppf(1 - alpha / 2)
        return pd.DataFrame(
            {"lower": self.params - q * self.bse, "upper": self.params + q * self.bse}
        )


def efron_cox(
    time: np.ndarray,
    exog: pd.DataFrame | np.ndarray,
    status: np.ndarray,
    *,
    groups: np.ndarray | None = None,
) -> CoxFit:
    """Fit a Cox model with Efron ties, as ``PHReg(time, exog, status=status, ties="efron")``.

    Parameters
    ----------
    time : ndarray
        Durations.
    exog : DataFrame or ndarray
        Covariates, no intercept, linearly independent columns; a DataFrame names the terms.
    status : ndarray
        1 where the event happened at `time`, 0 where the row is censored there.
    groups : ndarray of int, optional
        Cluster code (0, 1, ...) of each row: adds the cluster-robust covariance, as R's
        ``coxph(..., cluster = groups)`` gives it (from Efron's score residuals).

    Returns
    -------
    CoxFit

    Raises
    ------
    InvalidValueError
        A value is missing or infinite, or the lengths differ.

    Examples
    --------
    >>> from statsmodels.duration.hazard_regression import PHReg
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 2))
    >>> days = np.ceil(rng.exponential(30 * np.exp(-x @ [0.5, -0.2])))
    >>> status = (rng.random(300) < 0.8).astype(int)
    >>> fast = efron_cox(days, x, status)
    >>> slow = PHReg(days, x, status=status, ties="efron").fit()
    >>> bool(np.allclose(fast.params, slow.params) and np.allclose(fast.bse, slow.bse))
    True
    """
    names = list(exog.columns) if isinstance(exog, pd.DataFrame) else None
    values = np.asarray(exog, dtype=float)
    time = np.asarray(time, dtype=float)
    status = np.asarray(status)
    if values.ndim != 2 or len(values) != len(time) or len(status) != len(time):
        raise InvalidValueError(
            f"`exog` must be a matrix with one row per duration; got shape {values.shape} for "
            f"{len(time)} durations and {len(status)} statuses."
        )
    if not (np.isfinite(values).all() and np.isfinite(time).all()):
        raise InvalidValueError("Durations and covariates must be finite; drop missing rows first.")
    sums = _EventSums(time, status, values)
    params, iterations = _newton(sums, values.shape[1], len(time))
    hessian = sums.hessian(params)
    # statsmodels inverts the final Hessian scaled by the rows, then scales back.
    model_cov = np.linalg.inv(-hessian / len(time)) / len(time)
    cluster_cov = None
    if groups is not None:
        groups = np.asarray(groups)
        if len(groups) != len(time):
            raise InvalidValueError(f"{len(groups)} cluster codes for {len(time)} rows.")
        per_group = sums.cluster_scores(params, groups)
        bread = np.linalg.inv(hessian)
        cluster_cov = bread @ (per_group.T @ per_group) @ bread
    index = names if names is not None else [f"x{j + 1}" for j in range(values.shape[1])]

    def frame(matrix: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(matrix, index=index, columns=index)

    return CoxFit(
        params=pd.Series(params, index=index),
        model_cov=frame(model_cov),
        cluster_cov=None if cluster_cov is None else frame(cluster_cov),
        loglike=sums.loglike(params),
        converged=iterations < _MAXITER,
        iterations=iterations,
        nobs=len(time),
    )


def _newton(sums: _EventSums, k: int, nobs: int) -> tuple[np.ndarray, int]:
    """statsmodels' Newton-Raphson of ``LikelihoodModel.fit``, step for step: the negative
    log-likelihood, score and Hessian scaled by the rows, the Hessian ridged."""
    old = np.full(k, np.inf)
    params = np.zeros(k)
    iterations = 0
    while iterations < _MAXITER and np.any(np.abs(params - old) > _TOL):
        scaled = -sums.hessian(params) / nobs
        scaled[np.diag_indices(k)] += _RIDGE
        old = params
        params = old - np.linalg.solve(scaled, -sums.gradient(old) / nobs)
        iterations += 1
    return params, iterations


class _Blocks:
    """Per event time, the sums of ``risk * x`` over the rows at that time and over the failures
    among them, a block of rows at a time (rows sorted by event time): the weighted copy of each
    block stays small, and one pass over the design serves both sums."""

    def __init__(self, bucket: np.ndarray, failed: np.ndarray, n_times: int) -> None:
        self.n_times = n_times
        self.blocks = []
        for start in range(0, len(bucket), _BLOCK_ROWS):
            part = bucket[start : start + _BLOCK_ROWS]
            first = np.flatnonzero(np.r_[True, part[1:] != part[:-1]])
            fails = np.flatnonzero(failed[start : start + _BLOCK_ROWS])
            fail_part = part[fails]
            fail_first = np.flatnonzero(np.r_[True, fail_part[1:] != fail_part[:-1]])
            self.blocks.append(
                (
                    start,
                    start + len(part),
                    first,
                    part[first],
                    fails,
                    fail_first,
                    fail_part[fail_first] if len(fails) else fail_part,
                )
            )

    def sums(
        self, exog: np.ndarray, risk: np.ndarray, weights: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The two sums, and with `weights` also ``X' diag(weights) X`` from the same pass."""
        k = exog.shape[1]
        at_time = np.zeros((self.n_times, k))
        failures = np.zeros((self.n_times, k))
        upper = np.zeros((k, k), order="F") if weights is not None else None
        root = np.sqrt(weights) if weights is not None else None
        for start, stop, first, times, fails, fail_first, fail_times in self.blocks:
            rows = exog[start:stop]
            block = rows * risk[start:stop, None]
            at_time[times] += np.add.reduceat(block, first, axis=0)
            if len(fails):
                failures[fail_times] += np.add.reduceat(block[fails], fail_first, axis=0)
            if root is not None:
                scaled = np.asfortranarray(rows * root[start:stop, None])
                upper = dsyrk(1.0, scaled, beta=1.0, c=upper, trans=1, overwrite_c=1)
        second = None if upper is None else np.triu(upper) + np.triu(upper, 1).T
        return at_time, failures, second


@dataclass
class _Point:
    """The quantities of one coefficient vector; the sums over the design filled in on demand."""

    params: np.ndarray
    linear: np.ndarray
    risk: np.ndarray
    c0: np.ndarray
    r0: np.ndarray
    r1: np.ndarray | None = None
    f1: np.ndarray | None = None
    second: np.ndarray | None = None


class _EventSums:
    """The bookkeeping of one Cox data set that does not depend on the coefficients."""

    def __init__(self, time: np.ndarray, status: np.ndarray, exog: np.ndarray) -> None:
        fails = status == 1
        self.event_times = np.unique(time[fails])
        n_times = len(self.event_times)
        bucket = np.searchsorted(self.event_times, time, side="right") - 1
        # Rows censored before the first event are in no risk set.
        at_risk = np.flatnonzero(bucket >= 0)
        order = at_risk[np.argsort(bucket[at_risk], kind="stable")]
        self.rows = order
        values = np.asarray(exog, dtype=float)
        # Column-major: every pass over the design reads contiguous columns.
        self.exog = np.empty((len(order), values.shape[1]), order="F")
        for j in range(values.shape[1]):
            self.exog[:, j] = values[:, j][order]
        self.bucket = bucket[order]
        self.starts = np.searchsorted(self.bucket, np.arange(n_times))
        failed = fails[order]
        self.failed = np.flatnonzero(failed)
        self.fail_bucket = self.bucket[self.failed]
        self.fail_starts = np.searchsorted(self.fail_bucket, np.arange(n_times))
        self.blocks = _Blocks(self.bucket, failed, n_times)
        self.ties = ties = np.bincount(self.fail_bucket, minlength=n_times)
        # One slot per failure: its event time and its share l/m of Efron's correction.
        self.slot_time = np.repeat(np.arange(n_times), ties)
        first = np.cumsum(ties) - ties
        self.share = (np.arange(len(self.slot_time)) - first[self.slot_time]) / ties[self.slot_time]
        self.exog_failed_sum = failed.astype(float) @ self.exog
        self.n_times = n_times
        self.n_rows = len(time)
        self._last: _Point | None = None

    def _point(self, params: np.ndarray, *, sums: bool = True, hessian: bool = False) -> _Point:
        """What the likelihood, score and Hessian need at `params`, computed as asked and kept
        for the last `params` (Newton asks for the Hessian and the score at the same point, and
        the log-likelihood alone needs no pass over the design beyond the linear predictor)."""
        point = self._last
        if point is None or not np.array_equal(point.params, params):
            linear = self.exog @ params
            if len(linear):
                linear -= linear.max()
            risk = np.exp(linear)
            r0 = _from_later(np.add.reduceat(risk, self.starts))
            f0 = np.add.reduceat(risk[self.failed], self.fail_starts)
            c0 = r0[self.slot_time] - self.share * f0[self.slot_time]
            point = self._last = _Point(params.copy(), linear, risk, c0, r0)
        if hessian and point.second is None:
            weights = self._hessian_weights(point)
            if point.r1 is None:
                per_time, point.f1, point.second = self.blocks.sums(self.exog, point.risk, weights)
                point.r1 = _from_later(per_time)
            else:
                point.second = gram_matrix(self.exog, weights=weights)
        if sums and point.r1 is None:
            per_time, point.f1, _ = self.blocks.sums(self.exog, point.risk)
            point.r1 = _from_later(per_time)
        return point

    def _hessian_weights(self, point: _Point) -> np.ndarray:
        """Row weights of the Hessian's second moments: sum_k (a_k R2_k - b_k F2_k), with R2_k
        the risk set's second moment and F2_k the tied failures', puts on every row the a_k of
        all event times at or before its own, on a failure less the b_k of its own time (never
        below zero, as b_k <= a_k)."""
        inverse = 1.0 / point.c0
        a = self._per_time(inverse)
        b = self._per_time(self.share * inverse)
        weight = np.cumsum(a)[self.bucket]
        weight[self.failed] -= b[self.fail_bucket]
        return np.maximum(weight * point.risk, 0.0)

    def _per_time(self, values: np.ndarray) -> np.ndarray:
        """Sums of per-failure `values` per event time (slots are in event-time order, and
        every event time has a failure)."""
        return np.add.reduceat(values, self.fail_starts)

    def loglike(self, params: np.ndarray) -> float:
        if not self.n_times:
            return 0.0
        point = self._point(params, sums=False)
        return float(point.linear[self.failed].sum() - np.log(point.c0).sum())

    def gradient(self, params: np.ndarray) -> np.ndarray:
        if not self.n_times:
            return np.zeros(self.exog.shape[1])
        point = self._point(params)
        c0, r1, f1 = point.c0, point.r1, point.f1
        inverse = 1.0 / c0
        return (
            self.exog_failed_sum
            - self._per_time(inverse) @ r1
            + self._per_time(self.share * inverse) @ f1
        )

    def hessian(self, params: np.ndarray) -> np.ndarray:
        if not self.n_times:
            return np.zeros((self.exog.shape[1],) * 2)
        point = self._point(params, hessian=True)
        inverse = 1.0 / point.c0
        share = self.share
        d = self._per_time(inverse**2)
        e = self._per_time(share * inverse**2)
        c = self._per_time(share**2 * inverse**2)
        # _point(hessian=True) filled in the sums and the second moments.
        r1, f1 = cast(np.ndarray, point.r1), cast(np.ndarray, point.f1)
        second = cast(np.ndarray, point.second).copy()
        cross = r1.T @ (f1 * e[:, None])
        second -= r1.T @ (r1 * d[:, None]) - cross - cross.T + f1.T @ (f1 * c[:, None])
        return -second

    def cluster_scores(self, params: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Per cluster, the sum of its rows' score residuals under Efron's ties, as R's
        ``residuals(coxph(...), type = "score")`` gives them; rows in no risk set contribute 0.

        At an event time with ``m`` tied failures, step ``l = 0 .. m-1`` of Efron's correction
        has the risk sum ``c_l`` (the risk set less ``l/m`` of the tied failures) and the mean
        ``xbar_l``. Each tied failure gains ``(x - xbar_l) / m``; every row at risk loses
        ``w * risk * (x - xbar_l) / c_l``, with ``w = 1 - l/m`` for the tied failures and 1 for
        the others. Summed over the event times up to a row's own, that is
        ``x * (failed - weight) + risk * A - failed * (M + risk * B)``: ``weight`` the Hessian's
        row weight, ``A`` the running sum of ``sum_l xbar_l / c_l``, and at the row's own time
        ``M = mean_l xbar_l`` and ``B = sum_l (l/m) xbar_l / c_l``. Without ties these are
        Breslow's residuals, which statsmodels' ``PHReg`` uses whatever the ties.
        """
        n_groups = int(groups.max()) + 1 if len(groups) else 0
        out = np.zeros((n_groups, self.exog.shape[1]))
        if not self.n_times:
            return out
        point = self._point(params)
        # _point filled in the risk-set sums.
        r1, f1 = cast(np.ndarray, point.r1), cast(np.ndarray, point.f1)
        # xbar_l = (r1 - share f1) / c_l, so each sum over the steps l is a sum over r1 and f1
        # weighted by per-time sums of powers of 1 / c_l and of the shares.
        inverse, share = 1.0 / point.c0, self.share
        first, shared = self._per_time(inverse), self._per_time(share * inverse)
        d, e = self._per_time(inverse**2), self._per_time(share * inverse**2)
        c = self._per_time(share**2 * inverse**2)
        later = np.cumsum(r1 * d[:, None] - f1 * e[:, None], axis=0)
        own = (r1 * first[:, None] - f1 * shared[:, None]) / self.ties[:, None]
        own_share = r1 * e[:, None] - f1 * c[:, None]
        # Rows are sorted by event time, so a per-time value spreads to rows by repetition.
        rows_per_time = np.diff(np.r_[self.starts, len(self.bucket)])
        failed = np.zeros(len(self.bucket))
        failed[self.failed] = 1.0
        failed_risk = failed * point.risk
        factor = failed - point.risk * np.repeat(np.cumsum(first), rows_per_time)
        factor += failed_risk * np.repeat(shared, rows_per_time)
        codes = groups[self.rows]
        score = np.empty(len(self.bucket))
        for j in range(out.shape[1]):
            # One column at a time: no copy the size of the design.
            np.multiply(self.exog[:, j], factor, out=score)
            score += np.repeat(later[:, j], rows_per_time) * point.risk
            score -= np.repeat(own[:, j], rows_per_time) * failed
            score -= np.repeat(own_share[:, j], rows_per_time) * failed_risk
            out[:, j] = np.bincount(codes, weights=score, minlength=n_groups)
        return out


def _from_later(per_time: np.ndarray) -> np.ndarray:
    """Sums over each event time and all later ones (the risk set's sum)."""
    return np.cumsum(per_time[::-1], axis=0)[::-1]
