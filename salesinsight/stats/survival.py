"""How long deals take to close, with open deals counted as censored rather than ignored.

:func:`time_to_close` gives Kaplan-Meier medians per group, a Cox model of the hazard of closing
(or winning) with account-clustered errors, and, for ``event="won"``, the cumulative incidence of
winning with losing as a competing outcome. A mean or median over closed deals alone would leave
out the slow deals that are still open and make every group look faster than it is.

The curves are statsmodels' ``SurvfuncRight`` and ``CumIncidenceRight``. The Cox model is fitted
by a private solver (:mod:`salesinsight.stats._fast.cox`) whose estimates and model-based errors
equal statsmodels' ``PHReg(..., ties="efron").fit()`` on the same design (whose loops over event
times take minutes on a large book) and whose account-clustered errors equal R's
``coxph(..., ties = "efron", cluster = account_id)``.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from scipy import stats as sps
from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight

from salesinsight.exceptions import (
    AnalysisError,
    ConvergenceWarning,
    InvalidValueError,
    SeparationWarning,
    SmallSampleWarning,
)
from salesinsight.features.outcomes import end_states, outcomes_as_of, recorded_durations
from salesinsight.plots import PALETTE
from salesinsight.stats._fast.cox import CoxFit, efron_cox
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
from salesinsight.stats.design import build_design, tidy_coefficients

__all__ = ["TimeToClose", "time_to_close"]

SUMMARY_COLUMNS = [
    "group",
    "n",
    "events",
    "censored",
    "median_days",
    "median_ci_low",
    "median_ci_high",
]
INCIDENCE_COLUMNS = ["group", "outcome", "days", "estimate", "std_err", "ci_low", "ci_high"]
HORIZONS = (30, 60, 90, 180, 365)
# A numeric `by` with more distinct values than this is drawn as quartile groups.
MAX_NUMERIC_GROUPS = 6


@dataclass(frozen=True, eq=False)
class TimeToClose:
    """Time from creation to close (or to winning), per group, with censoring handled.

    Attributes
    ----------
    summary : DataFrame
        One row per group: ``group, n, events, censored, median_days, median_ci_low,
        median_ci_high`` (Kaplan-Meier; for ``event="won"`` or ``"lost"`` the median of the
        cumulative incidence, plus a ``competing`` count of deals that ended the other way).
    hazard_ratios : DataFrame or None
        Cox model terms: ``term, estimate, std_err, ci_low, ci_high, p_value, n, ratio,
        ratio_ci_low, ratio_ci_high``; ``ratio`` is the hazard ratio (above 1: faster).
    cumulative_incidence : DataFrame or None
        For ``event="won"``/``"lost"``: ``group, outcome, days, estimate, std_err, ci_low,
        ci_high``, the probability of having ended that way by ``days``.
    model : CoxFit or None
        The Cox fit (None without `by` or controls): ``params`` (log hazard ratios), ``bse``,
        ``pvalues`` and ``conf_int(alpha)``, from ``cov_params`` (the clustered covariance
        ``cluster_cov`` where errors are clustered, else the model-based ``model_cov``), and
        ``loglike``, ``converged``, ``iterations``, ``nobs``.
    note : str
        What was estimated, rows left out and every caveat.
    """

    summary: pd.DataFrame
    hazard_ratios: pd.DataFrame | None
    cumulative_incidence: pd.DataFrame | None
    model: CoxFit | None
    note: str
    by: str | None
    event: str
    controls: tuple[str, ...]
    as_of: pd.Timestamp | None
    n: int
    curves: dict[str, Any]
    censored_times: dict[str, np.ndarray]

    def plot(self, ax: Axes | None = None) -> Axes:
        """Kaplan-Meier curves (share still open) or, for won/lost, cumulative incidence curves.

        Censored deals are marked with small vertical ticks on their group's curve.
        """
        ax = ax if ax is not None else plt.gca()
        for k, (label, curve) in enumerate(self.curves.items()):
            color = PALETTE[k % len(PALETTE)]
            if isinstance(curve, SurvfuncRight):
                times, values = curve.surv_times, curve.surv_prob
                start = 1.0
            else:
                times, values = curve.times, curve.cinc[0]
                start = 0.0
            x = np.r_[0.0, times]
            y = np.r_[start, values]
            ax.step(x, y, where="post", color=color, label=label)
            censored = self.censored_times[label]
            if len(censored):
                at = np.searchsorted(x, censored, side="right") - 1
                ax.plot(censored, y[at], "|", color=color, markersize=6, alpha=0.7)
        ax.set_xlabel("days since creation")
        if self.event == "closed":
            ax.set_ylabel("share of deals still open")
        else:
            ax.set_ylabel(
                f"cumulative incidence of {'winning' if self.event == 'won' else 'losing'}"
            )
        ax.set_ylim(0, 1.02)
        if self.by is not None:
            ax.legend(title=self.by)
        return ax

    def _repr_html_(self) -> str:
        what = "time to close" if self.event == "closed" else f"time to {self.event}"
        parts = [
            f"<p><b>{html.escape(what.capitalize())}</b>"
            + (f" by <code>{html.escape(self.by)}</code>" if self.by else "")
            + f" ({self.n} deals)</p>",
            self.summary.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
        ]
        if self.hazard_ratios is not None:
            parts.append(self.hazard_ratios.to_html(index=False, float_format=lambda v: f"{v:.4g}"))
        parts.append(f"<p>{html.escape(self.note)}</p>")
        return "".join(parts)


def _durations(
    data: pd.DataFrame, *, event: str, as_of: Any, caveats: Caveats
) -> tuple[pd.DataFrame, pd.Timestamp | None]:
    """Days observed and how each deal ended (won, lost, closed or open) by the cut-off."""
    recorded = recorded_durations(data) if as_of is None else None
    if recorded is not None:
        if "status" not in data.columns and event != "closed":
            require_columns(data, ["won"], argument="event")
        ended = end_states(data, won_or_lost=event != "closed")
        caveats.add("Durations from `duration_days` and `closed`.")
        return pd.DataFrame({"days": recorded[0], "ended": ended}), None
    require_columns(data, ["created_at", "status", "closed_at"], argument="data")
    frame, cutoff = outcomes_as_of(data, as_of=as_of)
    if len(frame) < len(data):
        caveats.add(f"{len(data) - len(frame)} deal(s) created after {cutoff.date()} left out.")
    caveats.add(f"Open deals censored at {cutoff.date()}.")
    return frame, cutoff


def _group_labels(values: pd.Series, name: str, caveats: Caveats) -> tuple[pd.Series, list[str]]:
    """Each row's group label, and the groups in their natural order (numeric, not by text)."""
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    )
    if numeric and values.nunique() > MAX_NUMERIC_GROUPS:
        bins = pd.qcut(values.astype(float), 4, duplicates="drop")
        caveats.add(
            f"`{name}` has {values.nunique()} distinct values: curves are drawn for its quartile "
            "groups, the Cox model uses it as a number (hazard ratio per unit)."
        )
        # Labels through the categories: formatting an interval per row is slow.
        names = np.array([str(c) for c in bins.cat.categories] + [None], dtype=object)
        labels = pd.Series(names[bins.cat.codes.to_numpy()], index=values.index, dtype="str")
        present = set(labels.dropna().unique())
        order = [str(c) for c in bins.cat.categories if str(c) in present]
        return labels, order
    order = [str(v) for v in sorted(values.unique())]
    return values.astype(str), order


def _median_from_incidence(curve: CumIncidenceRight, z: float) -> tuple[float, float, float]:
    """First day the cumulative incidence reaches 1/2, with the days its CI band reaches it."""
    if not len(curve.times):
        return np.nan, np.nan, np.nan
    estimate, se = curve.cinc[0], curve.cinc_se[0]
    low, high = _loglog_band(estimate, se, z)

    def first(values: np.ndarray) -> float:
        hit = np.flatnonzero(values >= 0.5)
        return float(curve.times[hit[0]]) if len(hit) else np.nan

    return first(estimate), first(high), first(low)


def _loglog_band(estimate: np.ndarray, se: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise CI of a probability on the log(-log) scale, which keeps it inside [0, 1]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        spread = z * se / (estimate * np.abs(np.log(estimate)))
        low = estimate ** np.exp(spread)
        high = estimate ** np.exp(-spread)
    inside = (estimate > 0) & (estimate < 1)
    return np.where(inside, low, estimate), np.where(inside, high, estimate)


def _incidence_at(
    curve: CumIncidenceRight,
    label: str,
    follow_up: float,
    horizons: Sequence[float],
    z: float,
    outcomes: tuple[str, str],
) -> list[dict[str, Any]]:
    rows = []
    # Past the last observed day the curves are known only if every deal had ended by then.
    ended_all = sum(float(c[-1]) for c in curve.cinc) > 1 - 1e-10 if len(curve.times) else False
    for cause, outcome in enumerate(outcomes):
        has_cause = cause < len(curve.cinc)
        estimate = curve.cinc[cause] if has_cause else np.zeros(len(curve.times))
        se = curve.cinc_se[cause] if has_cause else np.zeros(len(curve.times))
        low, high = _loglog_band(estimate, se, z)
        for day in horizons:
            index = int(np.searchsorted(curve.times, day, side="right")) - 1
            if day > follow_up and not ended_all:
                values = (np.nan, np.nan, np.nan, np.nan)
            elif index < 0:
                values = (0.0, 0.0, 0.0, 0.0)
            else:
                values = (estimate[index], se[index], low[index], high[index])
            rows.append(
                dict(zip(INCIDENCE_COLUMNS, (label, outcome, float(day), *values), strict=True))
            )
    return rows


def _check_monotone(status: np.ndarray, exog: pd.DataFrame, caveats: Caveats) -> None:
    empty = []
    events = status.sum()
    for term, column in zip(exog.columns, exog.to_numpy(dtype=float).T, strict=True):
        if not ((column == 0.0) | (column == 1.0)).all():
            continue
        # Events with the flag at 1, and at 0 (exact: sums of zeros and ones).
        at_one = column @ status
        for level, count in enumerate((events - at_one, at_one)):
            if count == 0:
                empty.append(f"`{term}` = {level}")
    if empty:
        caveats.warn(
            SeparationWarning,
            f"No events among deals with {', '.join(empty)}: the Cox likelihood has no finite "
            "maximum there and those hazard ratios are unreliable.",
        )


def _resolve_cluster(data: pd.DataFrame, cluster: str | None, caveats: Caveats) -> str | None:
    """The cluster column to use: the default `account_id` may be absent (errors unclustered)."""
    if cluster is not None and cluster not in data.columns:
        if cluster != "account_id":
            require_cluster(data, cluster)
        caveats.add("No `account_id` column: Cox errors are not clustered by account.")
        return None
    return cluster


def _analysed_rows(
    data: pd.DataFrame, times: pd.DataFrame, columns: list[str], caveats: Caveats
) -> pd.DataFrame:
    """Durations beside the columns the estimates use, less incomplete or negative rows."""
    frame = pd.concat([times, data.loc[times.index, columns]], axis=1)
    missing = frame.isna().any(axis=1)
    if missing.any():
        detail = ", ".join(f"{c}: {int(k)}" for c, k in frame.isna().sum().items() if k)
        caveats.add(
            f"{int(missing.sum())} of {len(frame)} deals left out for missing values ({detail})."
        )
    frame = frame.loc[~missing]
    negative = frame["days"] < 0
    if negative.any():
        caveats.add(f"{int(negative.sum())} deal(s) closed before they were created left out.")
        frame = frame.loc[~negative]
    return frame


def _event_codes(ended: pd.Series, outcomes: tuple[str, str], event: str) -> np.ndarray:
    """1 where the deal ended by the event, 2 by the competing outcome, 0 where censored."""
    if event == "closed":
        return (ended != "open").to_numpy(dtype=int)
    return np.select([ended == outcomes[0], ended == outcomes[1]], [1, 2], 0)


@dataclass(frozen=True)
class _Curves:
    """The per-group estimates of :func:`time_to_close`, before the Cox model."""

    summary: pd.DataFrame
    curves: dict[str, Any]
    censored_times: dict[str, np.ndarray]
    incidence: pd.DataFrame | None


def _group_curve(
    t: np.ndarray,
    s: np.ndarray,
    label: str,
    *,
    event: str,
    alpha: float,
    horizons: Sequence[float],
    outcomes: tuple[str, str],
) -> tuple[dict[str, Any], Any, list[dict[str, Any]]]:
    """One group's summary row, its curve and its cumulative incidence rows."""
    row: dict[str, Any] = {
        "group": label,
        "n": len(t),
        "events": int((s == 1).sum()),
        "censored": int((s == 0).sum()),
    }
    incidence: list[dict[str, Any]] = []
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if event == "closed":
            curve: Any = SurvfuncRight(t, s, title=label)
            median = curve.quantile(0.5) if row["events"] else np.nan
            low, high = curve.quantile_ci(0.5, alpha=alpha) if row["events"] else (np.nan,) * 2
        else:
            z = float(sps.norm.ppf(1 - alpha / 2))
            row["competing"] = int((s == 2).sum())
            curve = CumIncidenceRight(t, s, title=label)
            median, low, high = _median_from_incidence(curve, z)
            incidence = _incidence_at(curve, label, float(t.max()), horizons, z, outcomes)
    row["median_days"], row["median_ci_low"], row["median_ci_high"] = (
        float(v) if np.isfinite(v) else np.nan for v in (median, low, high)
    )
    row["open_ended"] = bool(np.isinf(high))
    return row, curve, incidence


def _curves(
    frame: pd.DataFrame,
    status: np.ndarray,
    *,
    by: str | None,
    event: str,
    alpha: float,
    horizons: Sequence[float],
    outcomes: tuple[str, str],
    caveats: Caveats,
) -> _Curves:
    """Kaplan-Meier or cumulative incidence estimates per group of `by`, with their caveats."""
    labels, order = (
        _group_labels(frame[by], by, caveats)
        if by is not None
        else (pd.Series("all", index=frame.index), ["all"])
    )
    days = frame["days"].to_numpy(dtype=float)
    rows, curves, censored_times, incidence = [], {}, {}, []
    for label in order:
        mask = (labels == label).to_numpy()
        t, s = days[mask], status[mask]
        row, curves[label], more = _group_curve(
            t, s, label, event=event, alpha=alpha, horizons=horizons, outcomes=outcomes
        )
        censored_times[label] = t[s == 0]
        rows.append(row)
        incidence += more
    columns = SUMMARY_COLUMNS + (["competing"] if event != "closed" else [])
    summary = pd.DataFrame(rows, columns=[*columns, "open_ended"])
    if summary["median_days"].isna().any():
        caveats.add(
            "A missing median: fewer than half of that group's deals "
            + ("closed" if event == "closed" else f"were {event}")
            + " within the follow-up."
        )
    if summary["open_ended"].any():
        caveats.add("A missing upper median limit: the interval extends beyond the follow-up.")
    return _Curves(
        summary=summary[columns],
        curves=curves,
        censored_times=censored_times,
        incidence=(
            pd.DataFrame(incidence, columns=INCIDENCE_COLUMNS) if event != "closed" else None
        ),
    )


def _cox(
    frame: pd.DataFrame,
    status: np.ndarray,
    *,
    by: str | None,
    controls: tuple[str, ...],
    cluster: str | None,
    alpha: float,
    caveats: Caveats,
) -> tuple[pd.DataFrame, CoxFit]:
    """The Cox model of the event's (cause-specific) hazard: its tidy table and its fit."""
    design = build_design(frame, predictor=by, controls=controls, caveats=caveats, intercept=False)
    cox_status = (status == 1).astype(int)
    n_events, n_terms = int(cox_status.sum()), design.exog.shape[1]
    if n_events < EVENTS_PER_TERM * n_terms:
        caveats.warn(
            SmallSampleWarning,
            f"Only {n_events} events for {n_terms} Cox term(s) (fewer than "
            f"{EVENTS_PER_TERM} per term): hazard ratios may be biased away from 1.",
        )
    groups: np.ndarray | None = None
    if cluster is not None:
        groups = cluster_codes(
            frame[cluster],
            caveats,
            rows="deals",
            errors="robust Cox errors",
            instead="Pass `cluster=None` for model-based errors.",
        )
    _check_monotone(cox_status, design.exog, caveats)
    with caveats.translating_fit_warnings("Cox model"):
        model = efron_cox(
            frame["days"].to_numpy(dtype=float), design.exog, cox_status, groups=groups
        )
    if not model.converged and ConvergenceWarning not in caveats.issued:
        caveats.warn(
            ConvergenceWarning,
            "The Cox model did not converge; its estimates and standard errors are unreliable.",
        )
    table = tidy_coefficients(
        model.params,
        model.bse,
        np.asarray(model.conf_int(alpha=alpha)),
        model.pvalues,
        terms=list(design.exog.columns),
        order=[*design.predictor_terms, *design.control_terms],
        n=len(frame),
        ratio=True,
    )
    return table, model


def _cox_remark(event: str, cluster: str | None, controls: tuple[str, ...]) -> str:
    kind = "of closing" if event == "closed" else f"cause-specific hazard of being {event}"
    competing = "lost" if event == "won" else "won"
    return (
        f"Cox model ({kind}; Efron ties"
        + (f"; errors clustered by `{cluster}`" if cluster is not None else "")
        + (f"; controls: {', '.join(controls)}" if controls else "")
        + "): `ratio` is the hazard ratio, above 1 meaning faster."
        + (
            f" {competing.capitalize()} deals are censored at their close."
            if event != "closed"
            else ""
        )
    )


def _head(event: str, n: int, n_events: int) -> str:
    if event == "closed":
        return f"Kaplan-Meier medians of days to close over {n} deals ({n_events} closed)."
    competing = "lost" if event == "won" else "won"
    return (
        f"Cumulative incidence of being {event} over {n} deals ({n_events} {event}), "
        f"{competing} deals as the competing outcome; the median is the first day half the "
        f"group's deals were {event}."
    )


def time_to_close(
    data: pd.DataFrame,
    *,
    by: str | None,
    event: str = "closed",
    controls: str | Sequence[str] = (),
    as_of: Any = None,
    cluster: str | None = "account_id",
    horizons: Sequence[float] = HORIZONS,
    alpha: float = 0.05,
) -> TimeToClose:
    """Kaplan-Meier, Cox and competing-risk estimates of the time from creation to close.

    Durations come from ``duration_days`` and ``closed`` when present (the output of
    ``trust_features``); otherwise, or when `as_of` is given, from ``created_at``,
    ``closed_at`` and ``status``, with deals still open at `as_of` censored there.

    Parameters
    ----------
    data : DataFrame
        One row per deal.
    by : str or None
        Column whose groups are compared (a trust proxy). A numeric column with more than six
        values is drawn as quartile groups and enters the Cox model as a number.
    event : {"closed", "won", "lost"}, default "closed"
        ``"closed"``: time to any close. ``"won"``: time to winning, with lost deals a competing
        outcome — the summary and ``cumulative_incidence`` give the probability of having won by
        each day, and the Cox model is of the cause-specific hazard of winning (lost deals
        censored at their close). ``"lost"`` likewise.
    controls : str or sequence of str, default ()
        Columns adjusted for in the Cox model.
    as_of : date-like, optional
        Cut-off for open deals; default the latest date in the data. Deals created later are
        left out; deals closed later count as open.
    cluster : str or None, default "account_id"
        Column whose groups share errors in the Cox model (robust covariance); when the default
        column is absent, model-based errors are used and the note says so.
    horizons : sequence of float, default (30, 60, 90, 180, 365)
        Days at which the cumulative incidence is reported.
    alpha : float, default 0.05
        Intervals are at level ``1 - alpha``.

    Returns
    -------
    TimeToClose
        ``summary``, ``hazard_ratios``, ``cumulative_incidence``, ``model``, ``plot()``,
        ``note``.

    Raises
    ------
    ColumnNotFoundError
        A named column, or the columns durations need, are absent.
    AnalysisError
        Fewer than 10 deals or 5 events remain.

    Warns
    -----
    SmallSampleWarning
        Fewer than 20 clusters, or fewer than 10 events per Cox term.
    SeparationWarning
        A group without any event (its hazard ratio has no finite estimate).
    ConvergenceWarning
        The Cox fit did not converge.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> n = 300
    >>> deals = pd.DataFrame({"account_id": np.repeat(np.arange(60), 5),
    ...                       "is_referral": rng.random(n) < 0.4})
    >>> days = rng.exponential(np.where(deals["is_referral"], 40.0, 80.0))
    >>> follow_up = rng.uniform(20, 200, n)
    >>> deals["duration_days"] = np.minimum(days, follow_up)
    >>> deals["closed"] = days <= follow_up
    >>> result = time_to_close(deals, by="is_referral")
    >>> result.summary[["group", "n", "events", "censored", "median_days"]].round(1)
       group    n  events  censored  median_days
    0  False  191     133        58         50.1
    1   True  109      98        11         24.7
    >>> result.hazard_ratios[["term", "ratio", "ratio_ci_low", "ratio_ci_high"]].round(2)
              term  ratio  ratio_ci_low  ratio_ci_high
    0  is_referral   2.11          1.64           2.71
    """
    controls_t = as_names(controls, "controls")
    if event not in {"closed", "won", "lost"}:
        raise InvalidValueError(f"`event` must be 'closed', 'won' or 'lost', got {event!r}.")
    if not 0 < alpha < 1:
        raise InvalidValueError(f"`alpha` must lie between 0 and 1, got {alpha!r}.")
    if by is not None:
        require_columns(data, [by], argument="by")
        if by in controls_t:
            raise InvalidValueError(f"`by` {by!r} also appears in `controls`; pass it once.")
    require_columns(data, controls_t, argument="controls")
    caveats = Caveats()
    cluster = _resolve_cluster(data, cluster, caveats)
    times, cutoff = _durations(data, event=event, as_of=as_of, caveats=caveats)
    if event != "closed" and times["ended"].eq("closed").any():
        raise InvalidValueError(
            f"`event={event!r}` needs to know which closed deals were won; the data have "
            "neither `status` nor `won`. Use `event='closed'` or add `status`."
        )
    columns = [c for c in dict.fromkeys([by, *controls_t, cluster]) if c is not None]
    frame = _analysed_rows(data, times, columns, caveats)
    outcomes = (event, "lost" if event == "won" else "won")
    status = _event_codes(frame["ended"], outcomes, event)
    n, n_events = len(frame), int((status == 1).sum())
    if n < MIN_ROWS or n_events < MIN_EVENTS:
        raise AnalysisError(
            f"Too few deals or events: {n} deals with {n_events} {event}; at least {MIN_ROWS} "
            f"deals and {MIN_EVENTS} events are needed."
            + (f" {caveats.note}" if caveats.note else "")
        )
    found = _curves(
        frame,
        status,
        by=by,
        event=event,
        alpha=alpha,
        horizons=horizons,
        outcomes=outcomes,
        caveats=caveats,
    )
    hazard_ratios, model = None, None
    if by is not None or controls_t:
        hazard_ratios, model = _cox(
            frame, status, by=by, controls=controls_t, cluster=cluster, alpha=alpha, caveats=caveats
        )
        caveats.add(_cox_remark(event, cluster, controls_t))
    return TimeToClose(
        summary=found.summary,
        hazard_ratios=hazard_ratios,
        cumulative_incidence=found.incidence,
        model=model,
        note=" ".join([_head(event, n, n_events), caveats.note]).strip(),
        by=by,
        event=event,
        controls=controls_t,
        as_of=cutoff,
        n=n,
        curves=found.curves,
        censored_times=found.censored_times,
    )
