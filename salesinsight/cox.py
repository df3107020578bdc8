"""The Cox model with Efron's handling of tied times, computed from sums over the event times.

statsmodels' :class:`~statsmodels.duration.hazard_regression.PHReg` walks the distinct event times
in a Python loop for every evaluation of the likelihood, score and Hessian, and builds its risk
sets with loops over the rows: minutes for a million deals. :class:`EfronCox` is a ``PHReg`` with
the same model, the same Newton fit and the same results object, whose likelihood, score and
Hessian are computed with a few vectorised passes:

* rows are bucketed by the last event time at or before their own time; a risk set is every
  bucket from its time on, so its sums are reverse cumulative sums over buckets;
* Efron's correction for ``m`` deals tied at one event time averages over ``l = 0 .. m-1`` the
  risk set less ``l/m`` of the tied deals; those averages need only a few sums per event time;
* the Hessian's risk-set second moments collapse into one weighted cross-product of the design,
  ``sum_k a_k R2_k = X' diag(e * cumsum(a)[bucket]) X``.

Deals censored before the first event are in no risk set, as in ``PHReg``. Strata, entry times
and offsets are not supported (this kit does not use them). Only ``model.surv`` — the risk-set
index lists ``PHReg`` methods such as ``baseline_cumulative_hazard`` read — is still built the
slow way, and only when such a method asks for it.

:func:`cluster_covariance` is the cluster-robust (sandwich) covariance, as
``PHReg.fit(groups=...)`` gives it, from the same sums.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from statsmodels.base.model import LikelihoodModel
from statsmodels.duration.hazard_regression import PHReg, PHSurvivalTime

__all__ = ["EfronCox", "cluster_covariance"]


class EfronCox(PHReg):
    """Cox proportional hazards regression with Efron ties, vectorised.

    Parameters
    ----------
    endog : array_like
        Durations.
    exog : array_like or DataFrame
        Covariates, no intercept; its columns should be linearly independent.
    status : array_like
        1 where the event happened at ``endog``, 0 where the deal is censored there.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 2))
    >>> days = np.ceil(rng.exponential(30 * np.exp(-x @ [0.5, -0.2])))
    >>> status = (rng.random(300) < 0.8).astype(int)
    >>> fast = EfronCox(days, x, status).fit()
    >>> slow = PHReg(days, x, status=status, ties="efron").fit()
    >>> bool(np.allclose(fast.params, slow.params) and np.allclose(fast.bse, slow.bse))
    True
    """

    def __init__(self, endog, exog, status) -> None:
        LikelihoodModel.__init__(
            self, endog, exog, status=status, entry=None, strata=None, offset=None, missing="drop"
        )
        # The base class stored `status`, less the rows it dropped for missing values.
        self.status: np.ndarray = np.asarray(self.__dict__["status"])
        self.nobs = len(self.endog)
        self.groups = None
        self.missing = "drop"
        self.ties = "efron"
        rank = _rank(np.asarray(self.exog, dtype=float))
        self.df_resid = float(self.exog.shape[0] - rank)
        self.df_model = float(rank)
        self._sums = _EventSums(np.asarray(self.endog, float), self.status, self.exog)

    @cached_property
    def surv(self) -> PHSurvivalTime:  # type: ignore[override]
        """The risk-set index lists of ``PHReg``, built on first use."""
        return PHSurvivalTime(self.endog, self.status, self.exog, None, None, None)

    def efron_loglike(self, params):
        return self._sums.loglike(np.asarray(params, dtype=float))

    def efron_gradient(self, params):
        return self._sums.gradient(np.asarray(params, dtype=float))

    def efron_hessian(self, params):
        return self._sums.hessian(np.asarray(params, dtype=float))


def _rank(exog: np.ndarray) -> int:
    """``np.linalg.matrix_rank(exog)`` through the triangle of a QR decomposition (same
    singular values, a fraction of the cost for tall matrices)."""
    if exog.size == 0:
        return 0
    rows, cols = exog.shape
    triangle = np.linalg.qr(exog, mode="r") if rows > cols else exog
    values = np.linalg.svd(triangle, compute_uv=False)
    return int((values > values.max() * max(rows, cols) * np.finfo(float).eps).sum())


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
        self.exog = np.asarray(exog, dtype=float)[order]
        self.bucket = bucket[order]
        self.starts = np.searchsorted(self.bucket, np.arange(n_times))
        failed = fails[order]
        self.failed = np.flatnonzero(failed)
        self.fail_bucket = self.bucket[self.failed]
        self.fail_starts = np.searchsorted(self.fail_bucket, np.arange(n_times))
        ties = np.bincount(self.fail_bucket, minlength=n_times)
        # One slot per failure: its event time and its share l/m of Efron's correction.
        self.slot_time = np.repeat(np.arange(n_times), ties)
        first = np.cumsum(ties) - ties
        self.share = (np.arange(len(self.slot_time)) - first[self.slot_time]) / ties[self.slot_time]
        self.exog_failed_sum = self.exog[self.failed].sum(axis=0)
        self.n_times = n_times

    def _weights(self, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        linear = self.exog @ params
        if len(linear):
            linear -= linear.max()
        return linear, np.exp(linear)

    def _sums(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per event time: the risk set's sum of `values` (rows) and the tied failures' sum."""
        per_bucket = np.add.reduceat(values, self.starts, axis=0)
        at_risk = np.cumsum(per_bucket[::-1], axis=0)[::-1]
        return at_risk, np.add.reduceat(values[self.failed], self.fail_starts, axis=0)

    def _denominators(self, risk: np.ndarray) -> np.ndarray:
        """Efron's denominator of each failure: its risk set less its share of the ties."""
        r0, f0 = self._sums(risk)
        return r0[self.slot_time] - self.share * f0[self.slot_time]

    def loglike(self, params: np.ndarray) -> float:
        if not self.n_times:
            return 0.0
        linear, risk = self._weights(params)
        c0 = self._denominators(risk)
        return float(linear[self.failed].sum() - np.log(c0).sum())

    def _per_time(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.slot_time, weights=values, minlength=self.n_times)

    def gradient(self, params: np.ndarray) -> np.ndarray:
        if not self.n_times:
            return np.zeros(self.exog.shape[1])
        _, risk = self._weights(params)
        c0 = self._denominators(risk)
        r1, f1 = self._sums(self.exog * risk[:, None])
        inverse = 1.0 / c0
        return (
            self.exog_failed_sum
            - self._per_time(inverse) @ r1
            + self._per_time(self.share * inverse) @ f1
        )

    def hessian(self, params: np.ndarray) -> np.ndarray:
        if not self.n_times:
            return np.zeros((self.exog.shape[1],) * 2)
        _, risk = self._weights(params)
        c0 = self._denominators(risk)
        r1, f1 = self._sums(self.exog * risk[:, None])
        inverse = 1.0 / c0
        share = self.share
        a = self._per_time(inverse)
        b = self._per_time(share * inverse)
        d = self._per_time(inverse**2)
        e = self._per_time(share * inverse**2)
        c = self._per_time(share**2 * inverse**2)
        # sum_k a_k R2_k, with R2_k the risk set's second moment: every row weighted by the
        # a_k of all event times at or before its own.
        weight = risk * np.cumsum(a)[self.bucket]
        second = self.exog.T @ (self.exog * weight[:, None])
        tied = self.exog[self.failed]
        second -= tied.T @ (tied * (risk[self.failed] * b[self.fail_bucket])[:, None])
        cross = r1.T @ (f1 * e[:, None])
        second -= r1.T @ (r1 * d[:, None]) - cross - cross.T + f1.T @ (f1 * c[:, None])
        return -second


def cluster_covariance(
    model: PHReg, params: np.ndarray, days: np.ndarray, status: np.ndarray, groups: np.ndarray
) -> np.ndarray:
    """Cluster-robust (sandwich) covariance of a Cox fit, as ``PHReg.fit(groups=...)`` gives it.

    statsmodels builds the score residuals with a Python loop over event times that grows with
    the square of the rows (half a minute for 20,000 deals with distinct durations) and returns
    NaN for deals censored before the first event. The same residuals follow from cumulative
    sums over the sorted times; deals never at risk at an event contribute zero.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=(200, 1))
    >>> days, status = np.ceil(rng.exponential(20, 200)), np.ones(200, dtype=int)
    >>> groups = np.repeat(np.arange(40), 5)
    >>> model = EfronCox(days, x, status)
    >>> params = model.fit().params
    >>> slow = PHReg(days, x, status=status, ties="efron")
    >>> slow.groups = groups
    >>> bool(np.allclose(cluster_covariance(model, params, days, status, groups),
    ...                  slow.robust_covariance(params)))
    True
    """
    exog = np.asarray(model.exog, dtype=float)
    linear = exog @ params
    risk = np.exp(linear - linear.max())
    order = np.argsort(days, kind="stable")
    sorted_days = days[order]
    event_days, deaths = np.unique(days[status == 1], return_counts=True)
    # Sums over the risk set {t_j >= u_k} of each distinct event day u_k, via reversed cumsums.
    first_at_risk = np.searchsorted(sorted_days, event_days, side="left")
    tail0 = np.cumsum(risk[order][::-1])[::-1]
    tail1 = np.cumsum((risk[:, None] * exog)[order][::-1], axis=0)[::-1]
    s0, s1 = tail0[first_at_risk], tail1[first_at_risk]
    hazard_step = deaths / s0
    average = s1 / s0[:, None]
    passed = np.searchsorted(event_days, days, side="right")
    cum_hazard = np.r_[0.0, np.cumsum(hazard_step)][passed]
    cum_average = np.vstack([np.zeros(exog.shape[1]), np.cumsum(average * hazard_step[:, None], 0)])
    own_average = np.vstack([np.zeros(exog.shape[1]), average])[passed]
    score = (
        exog * (status - risk * cum_hazard)[:, None]
        - status[:, None] * own_average
        + risk[:, None] * cum_average[passed]
    )
    n_groups = int(groups.max()) + 1
    per_group = np.column_stack(
        [
            np.bincount(groups, weights=score[:, j], minlength=n_groups)
            for j in range(score.shape[1])
        ]
    )
    bread = np.linalg.inv(model.hessian(params))
    return bread @ (per_group.T @ per_group) @ bread
