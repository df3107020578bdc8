"""How a trust proxy relates to an outcome: regression with controls and clustered errors.

:func:`association` picks the model from the outcome (log-scale OLS for deal size, logit for
winning, Poisson or negative binomial for counts, OLS for other numbers), clusters the standard
errors by account and returns a tidy table of effects. Rank correlations with bootstrap
intervals that resample whole accounts live in :mod:`salesinsight.stats.correlation`; its
:func:`~salesinsight.stats.correlation.correlations` is importable from here as well.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import statsmodels.api as sm
from matplotlib.axes import Axes

from salesinsight.exceptions import (
    AnalysisError,
    ConvergenceWarning,
    InvalidValueError,
    SeparationWarning,
    SmallSampleWarning,
)
from salesinsight.features.outcomes import won_flag, won_rows
from salesinsight.plots import forest
from salesinsight.stats.checks import (
    EVENTS_PER_TERM,
    MIN_EVENTS,
    MIN_ROWS,
    Caveats,
    as_names,
    cluster_codes,
    require_cluster,
    require_columns,
)
from salesinsight.stats.correlation import correlations
from salesinsight.stats.design import Design, build_design, clearly_full_rank, tidy_coefficients

__all__ = ["Association", "association", "correlations"]

# Pearson dispersion of a Poisson fit above which the negative binomial is used instead.
OVERDISPERSION = 1.5


@dataclass(frozen=True, eq=False)
class Association:
    """The fitted relation between one predictor and one outcome.

    Attributes
    ----------
    summary : DataFrame
        One row per term, the predictor's first and the intercept last: ``term, estimate,
        std_err, ci_low, ci_high, p_value, n, ratio, ratio_ci_low, ratio_ci_high``. The ratio
        columns are ``exp`` of the estimate and its limits for log, logit and count models and
        missing for OLS on a raw outcome.
    model : statsmodels results
        The fitted statsmodels model, for anything the summary does not show.
    note : str
        The model in words, rows left out and why, and every statistical caveat.
    n, n_clusters : int
        Rows used and distinct clusters among them (``n_clusters`` is None without clustering).
    outcome, predictor, controls
        As passed.
    family : str
        ``"log_ols"``, ``"logit"``, ``"poisson"``, ``"negative_binomial"`` or ``"ols"``.
    effect : str
        What the ratio (or, for OLS, the estimate) means, e.g. ``"deal size ratio"``.
    """

    summary: pd.DataFrame
    model: Any
    note: str
    n: int
    n_clusters: int | None
    outcome: str
    predictor: str
    controls: tuple[str, ...]
    family: str
    effect: str

    def plot(self, ax: Axes | None = None) -> Axes:
        """Forest plot of every term's ratio (or estimate) with its confidence interval."""
        ax = forest(self.summary, ax if ax is not None else plt.gca(), xlabel=self.effect)
        ax.set_title(f"{self.predictor} and {self.outcome}")
        return ax

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{html.escape(self.effect.capitalize())}</b> of "
            f"<code>{html.escape(self.predictor)}</code> on "
            f"<code>{html.escape(self.outcome)}</code> ({self.n} rows)</p>"
        )
        table = self.summary.to_html(index=False, float_format=lambda v: f"{v:.4g}")
        return f"{head}{table}<p>{html.escape(self.note)}</p>"


@dataclass(frozen=True)
class _Outcome:
    y: pd.Series
    family: str
    effect: str
    population: str
    label: str


def _binary(values: pd.Series) -> bool:
    present = values.dropna()
    if pd.api.types.is_bool_dtype(present.dtype):
        return True
    return bool(present.isin([0, 1]).all())


def _select_outcome(data: pd.DataFrame, outcome: str, caveats: Caveats) -> _Outcome:
    """The outcome values over the rows the model is about (won deals, closed deals, ...)."""
    if outcome == "amount":
        require_columns(data, ["amount"], argument="outcome")
        rows = won_rows(data)
        if rows is None:
            rows = pd.Series(True, index=data.index)
            caveats.add("No `status` or `won` column: every row is taken to be a won deal.")
        amount = pd.to_numeric(data.loc[rows, "amount"], errors="coerce").astype(float)
        zero = int((amount <= 0).sum())
        if zero:
            caveats.add(f"{zero} won deal(s) with amount 0 left out: the model is on log(amount).")
        amount = amount[~(amount <= 0)]
        return _Outcome(
            np.log(amount),
            "log_ols",
            "deal size ratio",
            "won deals with amount > 0",
            "log(amount)",
        )
    if outcome == "log_amount":
        require_columns(data, ["log_amount"], argument="outcome")
        y = pd.to_numeric(data["log_amount"], errors="coerce").astype(float).dropna()
        return _Outcome(y, "log_ols", "deal size ratio", "won deals with amount > 0", outcome)
    if outcome == "won" and "won" not in data.columns and "status" in data.columns:
        y = won_flag(data["status"]).dropna()
        return _Outcome(y, "logit", "odds ratio of winning", "closed deals", "won")
    require_columns(data, [outcome], argument="outcome")
    values = data[outcome]
    if not (pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values)):
        raise InvalidValueError(
            f"Outcome `{outcome}` holds {values.dtype} values; a number, a 0/1 flag or a count "
            "is needed. Encode it as numbers first, or use `amount` or `won`."
        )
    if outcome == "won" or _binary(values):
        y = values.dropna().astype(float)
        if not y.isin([0.0, 1.0]).all():
            raise InvalidValueError(
                f"Outcome `{outcome}` must be 1 (won) or 0 (lost); it holds "
                f"{sorted(set(y.unique()) - {0.0, 1.0})[:5]}. Rebuild it with `trust_features`."
            )
        population = "closed deals" if outcome == "won" else f"rows with `{outcome}`"
        effect = "odds ratio of winning" if outcome == "won" else f"odds ratio of {outcome}"
        return _Outcome(y, "logit", effect, population, outcome)
    y = values.astype(float)
    present = y.dropna()
    if len(present) and (present >= 0).all() and (present == np.round(present)).all():
        return _Outcome(y, "poisson", "rate ratio", "rows", outcome)
    return _Outcome(y, "ols", f"difference in {outcome}", "rows", outcome)


def _drop_missing(frame: pd.DataFrame, caveats: Caveats, population: str) -> pd.DataFrame:
    missing = frame.isna()
    rows = missing.any(axis=1)
    if rows.any():
        per_column = missing.sum()
        detail = ", ".join(
            f"{'the outcome' if c == '__y__' else c}: {int(k)}" for c, k in per_column.items() if k
        )
        caveats.add(
            f"{int(rows.sum())} of {len(frame)} {population} left out for missing values "
            f"({detail})."
        )
    return frame.loc[~rows]


def _check_separation(
    y: pd.Series, exog: pd.DataFrame, fitted: np.ndarray, caveats: Caveats
) -> None:
    separated = []
    outcome = y.to_numpy(dtype=float)
    events = outcome.sum()
    for term, column in zip(exog.columns, exog.to_numpy(dtype=float).T, strict=True):
        if term == "Intercept" or not ((column == 0.0) | (column == 1.0)).all():
            continue
        # Rows and events with the flag at 1, then at 0 (exact: sums of zeros and ones).
        rows_at_one = column.sum()
        events_at_one = column @ outcome
        counts = ((len(column) - rows_at_one, events - events_at_one), (rows_at_one, events_at_one))
        for level, (rows, hits) in enumerate(counts):
            if rows and hits in (0, rows):
                separated.append(f"`{term}` = {level} only with outcome {int(hits == rows)}")
                break
    extreme = int(((fitted < 1e-8) | (fitted > 1 - 1e-8)).sum())
    if separated or extreme:
        detail = "; ".join(separated) if separated else f"{extreme} rows predicted with certainty"
        caveats.warn(
            SeparationWarning,
            f"(Quasi-)complete separation in the logit ({detail}): the affected odds ratios "
            "run towards 0 or infinity and their intervals are unreliable. Pool rare groups or "
            "drop the separating control.",
        )


def _fit(
    kind: str,
    y: pd.Series,
    design: Design,
    *,
    offset: np.ndarray | None,
    cov: dict[str, Any],
    caveats: Caveats,
) -> tuple[Any, str]:
    exog = design.exog
    if kind == "log_ols" or kind == "ols":
        return sm.OLS(y, exog).fit(**cov), kind
    # statsmodels finds the rank with a QR decomposition of the whole design; a design whose
    # cross-product is clearly non-singular has full rank, which is what it would find.
    check_rank = not clearly_full_rank(design.gram)
    if kind == "logit":
        with caveats.translating_fit_warnings("logistic regression"):
            result = sm.Logit(y, exog, check_rank=check_rank).fit(disp=0, maxiter=100, **cov)
            fitted = np.asarray(result.predict())
        _check_separation(y, exog, fitted, caveats)
        return result, kind
    with caveats.translating_fit_warnings("Poisson regression"):
        result = sm.Poisson(y, exog, offset=offset, check_rank=check_rank).fit(
            disp=0, maxiter=100, **cov
        )
    mu = np.asarray(result.predict())
    dispersion = float(((y - mu) ** 2 / mu).sum() / result.df_resid)
    if dispersion <= OVERDISPERSION:
        caveats.add(f"Poisson dispersion {dispersion:.2f} (no overdispersion).")
        return result, "poisson"
    with caveats.translating_fit_warnings("negative binomial regression"):
        nb = sm.NegativeBinomial(y, exog, offset=offset, check_rank=check_rank).fit(
            disp=0, maxiter=200, **cov
        )
    caveats.add(
        f"Poisson dispersion {dispersion:.2f} > {OVERDISPERSION}: negative binomial used "
        f"(alpha = {float(nb.params['alpha']):.3g})."
    )
    return nb, "negative_binomial"


def _check_converged(result: Any, family: str, caveats: Caveats) -> None:
    """Warn of a fit that stopped before converging, unless statsmodels already said so."""
    retvals = getattr(result, "mle_retvals", None)
    converged = bool(retvals.get("converged", True)) if retvals else True
    if not converged and ConvergenceWarning not in caveats.issued:
        caveats.warn(
            ConvergenceWarning,
            f"The {family} fit stopped before converging; its estimates are unreliable.",
        )


def _check_arguments(
    data: pd.DataFrame,
    outcome: str,
    predictor: str,
    controls: tuple[str, ...],
    cluster: str | None,
    exposure: str | None,
    alpha: float,
) -> None:
    if not isinstance(predictor, str) or not isinstance(outcome, str):
        raise InvalidValueError(
            f"`outcome` and `predictor` must be column names, got {outcome!r} and {predictor!r}."
        )
    if predictor == outcome or predictor in controls:
        raise InvalidValueError(
            f"`predictor` {predictor!r} also appears as the outcome or a control; "
            "pass it once, as the predictor."
        )
    if not 0 < alpha < 1:
        raise InvalidValueError(f"`alpha` must lie between 0 and 1, got {alpha!r}.")
    require_columns(data, [predictor], argument="predictor")
    require_columns(data, controls, argument="controls")
    require_cluster(data, cluster)
    if exposure is not None:
        require_columns(data, [exposure], argument="exposure")


def _model_frame(
    data: pd.DataFrame,
    chosen: _Outcome,
    columns: list[str],
    *,
    predictor: str,
    exposure: str | None,
    caveats: Caveats,
) -> tuple[pd.DataFrame, np.ndarray | None]:
    """The complete rows the model uses (the outcome as ``__y__``), and the log-exposure offset."""
    frame = data.loc[chosen.y.index, list(dict.fromkeys(columns))].copy()
    frame["__y__"] = chosen.y
    frame = _drop_missing(frame, caveats, chosen.population)
    if frame.empty:
        raise AnalysisError(
            f"No {chosen.population} to analyse: "
            + (caveats.note or f"none among the {len(data)} rows given.")
            + f" Check that `{predictor}` and the controls have values in these rows."
        )
    if exposure is None:
        return frame, None
    positive = pd.to_numeric(frame[exposure], errors="coerce") > 0
    if not positive.all():
        caveats.add(f"{int((~positive).sum())} row(s) with `{exposure}` <= 0 left out.")
        frame = frame.loc[positive]
    return frame, np.log(frame[exposure].to_numpy(dtype=float))


def _check_sample(
    chosen: _Outcome, y: pd.Series, n_terms: int, *, outcome: str, predictor: str, caveats: Caveats
) -> None:
    """Refuse too few rows or events, or a constant outcome; warn of few events per term."""
    n = len(y)
    needed = max(MIN_ROWS, n_terms + 3)
    if n < needed:
        raise AnalysisError(
            f"Only {n} {chosen.population} with complete values; at least {needed} are needed for "
            f"{n_terms} terms. Use fewer controls or more data."
        )
    if chosen.family in ("ols", "log_ols") and y.nunique() < 2:
        # A constant outcome fits exactly: a zero effect with a zero-width interval from nothing.
        raise AnalysisError(
            f"`{chosen.label}` takes a single value ({y.iloc[0]:g}) in the {n} "
            f"{chosen.population} analysed, so there is no variation for `{predictor}` to "
            "explain."
        )
    if chosen.family == "logit":
        events = int(y.sum())
        minority = min(events, n - events)
        if minority < MIN_EVENTS:
            raise AnalysisError(
                f"Too few events: {events} of {n} {chosen.population} have `{outcome}` = 1 and "
                f"{n - events} have 0; at least {MIN_EVENTS} of each are needed."
            )
        if minority < EVENTS_PER_TERM * max(n_terms - 1, 1):
            caveats.warn(
                SmallSampleWarning,
                f"Only {minority} of the rarer outcome for {n_terms - 1} term(s) "
                f"(fewer than {EVENTS_PER_TERM} per term): odds ratios may be biased away from 1.",
            )
    if chosen.family == "poisson" and y.sum() < MIN_EVENTS:
        raise AnalysisError(
            f"Too few events: the counts in `{outcome}` add up to {int(y.sum())} over {n} rows; "
            f"at least {MIN_EVENTS} are needed."
        )


def _covariance(
    frame: pd.DataFrame, cluster: str | None, family: str, caveats: Caveats
) -> tuple[dict[str, Any], int | None]:
    """The statsmodels covariance options, and the number of clusters (None without).

    Clustered errors follow R's ``sandwich::vcovCL``: least squares with its ``HC1`` factor
    ``G/(G-1) (N-1)/(N-K)`` (statsmodels' default, and Stata's), the logit with ``HC0``'s
    ``G/(G-1)`` alone (Stata's for likelihood models); statsmodels would apply both factors.
    """
    if cluster is None:
        return {"cov_type": "HC1", "use_t": True}, None
    codes = cluster_codes(
        frame[cluster],
        caveats,
        rows="rows",
        errors="cluster-robust errors",
        instead="Pass `cluster=None` for row-level robust errors.",
    )
    n_clusters = int(codes.max()) + 1
    kwds: dict[str, Any] = {"groups": codes}
    if family == "logit":
        kwds.update(use_correction=False, scaling_factor=n_clusters / (n_clusters - 1))
    # t with (clusters - 1) degrees of freedom: z intervals from a few dozen clusters are
    # too narrow (Cameron and Miller 2015).
    return {"cov_type": "cluster", "cov_kwds": kwds, "use_t": True}, n_clusters


_DESCRIBED = {
    "log_ols": "OLS of {}",
    "ols": "OLS of {}",
    "logit": "Logit of {}",
    "poisson": "Poisson regression of {}",
    "negative_binomial": "Negative binomial regression of {}",
}


def _note(
    chosen: _Outcome,
    family: str,
    effect: str,
    *,
    n: int,
    n_clusters: int | None,
    predictor: str,
    controls: tuple[str, ...],
    cluster: str | None,
    exposure: str | None,
    alpha: float,
    caveats: Caveats,
) -> str:
    """The model in words, then every remark and caveat."""
    errors = (
        f"standard errors clustered by `{cluster}` ({n_clusters} clusters, t intervals with "
        f"{(n_clusters or 0) - 1} df)"
        if cluster is not None
        else "heteroskedasticity-robust (HC1) standard errors, t intervals"
    )
    lines = [
        f"{_DESCRIBED[family].format(chosen.label)} on `{predictor}` over {n} {chosen.population}"
        + (f", controlling for {', '.join(controls)}" if controls else ", no controls")
        + (f", exposure `{exposure}`" if exposure else "")
        + f"; {errors}; {int(round(100 * (1 - alpha)))}% intervals."
    ]
    if family != "ols":
        lines.append(f"`ratio` is exp(estimate), the {effect}.")
    return " ".join([*lines, caveats.note]).strip()


def association(
    data: pd.DataFrame,
    *,
    outcome: str,
    predictor: str,
    controls: str | Sequence[str] = (),
    cluster: str | None = "account_id",
    exposure: str | None = None,
    alpha: float = 0.05,
) -> Association:
    """Estimate how `predictor` relates to `outcome`, with controls and account-clustered errors.

    The model follows from the outcome:

    - ``"amount"``: OLS of log(amount) over won deals with amount > 0 (``"log_amount"`` likewise);
      the ratio is the deal size ratio, ``exp(coefficient)``.
    - ``"won"`` or any 0/1 column: logit over the rows where it is known (closed deals for
      ``won``); the ratio is the odds ratio.
    - a column of non-negative whole numbers: Poisson, or negative binomial when the Poisson
      dispersion exceeds 1.5; the ratio is the rate ratio. ``exposure`` adds log(exposure) as an
      offset, so the ratio compares rates per unit of exposure.
    - any other numeric column (e.g. ``price_realisation``): OLS on the raw values; no ratio.

    Booleans enter as 0/1; text and categorical columns as dummies against their most common
    level, levels with fewer than 10 rows pooled. Rows missing any value the model uses are left
    out and counted in the note.

    Parameters
    ----------
    data : DataFrame
        One row per deal, e.g. the output of ``trust_features``.
    outcome : str
        ``"amount"``, ``"won"`` or a numeric column.
    predictor : str
        The trust proxy whose effect is wanted; its terms come first in the summary.
    controls : str or sequence of str, default ()
        Columns adjusted for (account size, product, segment, period, ...).
    cluster : str or None, default "account_id"
        Column whose groups share errors (deals of one account); intervals and p-values use a
        t distribution with (clusters - 1) degrees of freedom. None gives
        heteroskedasticity-robust (HC1) errors instead.
    exposure : str, optional
        Positive column of exposure (e.g. account-years) for count outcomes.
    alpha : float, default 0.05
        Confidence intervals are at level ``1 - alpha``.

    Returns
    -------
    Association
        ``summary`` (term, estimate, std_err, ci_low, ci_high, p_value, n, ratio, ratio_ci_low,
        ratio_ci_high), ``model``, ``note``, ``effect``, ``plot()``.

    Raises
    ------
    ColumnNotFoundError
        A named column is absent (the message names the closest columns).
    AnalysisError
        The predictor takes one value, or there are too few rows, events or clusters.

    Warns
    -----
    SmallSampleWarning
        Fewer than 20 clusters, or fewer than 10 events per term of a logit.
    SeparationWarning
        A term (nearly) perfectly separates won from lost deals.
    ConvergenceWarning
        The fit did not converge.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> deals = pd.DataFrame({
    ...     "account_id": np.repeat([f"A{i}" for i in range(40)], 5),
    ...     "status": "won",
    ...     "is_repeat_customer": rng.random(200) < 0.5,
    ... })
    >>> deals["amount"] = np.exp(9 + 0.3 * deals["is_repeat_customer"] + rng.normal(0, 0.5, 200))
    >>> result = association(deals, outcome="amount", predictor="is_repeat_customer")
    >>> result.effect
    'deal size ratio'
    >>> result.summary[["term", "ratio", "ratio_ci_low", "ratio_ci_high", "n"]].round(2)
                     term    ratio  ratio_ci_low  ratio_ci_high    n
    0  is_repeat_customer     1.39          1.19           1.62  200
    1           Intercept  7645.46       6918.50        8448.79  200
    """
    controls_t = as_names(controls, "controls")
    _check_arguments(data, outcome, predictor, controls_t, cluster, exposure, alpha)
    caveats = Caveats()
    chosen = _select_outcome(data, outcome, caveats)
    if exposure is not None and chosen.family != "poisson":
        raise InvalidValueError(
            f"`exposure` applies to count outcomes; `{outcome}` is modelled by {chosen.family}. "
            "Drop `exposure=` or pass a count column."
        )
    used = [predictor, *controls_t, *(c for c in (cluster, exposure) if c)]
    frame, offset = _model_frame(
        data, chosen, used, predictor=predictor, exposure=exposure, caveats=caveats
    )
    y = frame["__y__"]
    design = build_design(
        frame, predictor=predictor, controls=controls_t, caveats=caveats, intercept=True
    )
    _check_sample(
        chosen, y, design.exog.shape[1], outcome=outcome, predictor=predictor, caveats=caveats
    )
    cov, n_clusters = _covariance(frame, cluster, chosen.family, caveats)
    result, family = _fit(chosen.family, y, design, offset=offset, cov=cov, caveats=caveats)
    _check_converged(result, family, caveats)
    terms = list(design.exog.columns)
    table = tidy_coefficients(
        np.asarray(result.params)[: len(terms)],
        np.asarray(result.bse)[: len(terms)],
        np.asarray(result.conf_int(alpha=alpha))[: len(terms)],
        np.asarray(result.pvalues)[: len(terms)],
        terms=terms,
        order=[*design.predictor_terms, *design.control_terms, "Intercept"],
        n=len(frame),
        ratio=family != "ols",
    )
    effect = "rate ratio" if family == "negative_binomial" else chosen.effect
    note = _note(
        chosen,
        family,
        effect,
        n=len(frame),
        n_clusters=n_clusters,
        predictor=predictor,
        controls=controls_t,
        cluster=cluster,
        exposure=exposure,
        alpha=alpha,
        caveats=caveats,
    )
    return Association(
        summary=table,
        model=result,
        note=note,
        n=len(frame),
        n_clusters=n_clusters,
        outcome=outcome,
        predictor=predictor,
        controls=controls_t,
        family=family,
        effect=effect,
    )
