"""How deals move through the pipeline: time in each stage, what speeds it up, and the funnel.

:func:`time_in_stage` takes one row per deal (``deal_id`` and the columns compared) and the
canonical stage history (:class:`salesinsight.schemas.StageHistory`). For each open stage:

- the time spent in it is Kaplan-Meier (:func:`salesinsight.stats.survival.time_to_close` on the
  stage's own clock), deals still in the stage at ``as_of`` censored;
- the hazard ratios are a Cox model of *leaving the stage forward* (to a later stage or a win),
  a deal that left backwards or was lost censored there, errors clustered by account;
- the funnel counts the deals that entered, advanced, were lost or are still open, with a Wilson
  interval for the share of the decided ones that advanced.

The stage order comes from the export (the stages' probabilities, else the vendor's pipeline
order) or, failing both, is inferred from the order in which deals entered the stages; the note
says which.
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
from matplotlib.figure import Figure
from statsmodels.stats.proportion import proportion_confint

from salesinsight.exceptions import AnalysisError, InvalidValueError, StatisticalWarning
from salesinsight.stats.checks import as_names, require_columns
from salesinsight.stats.survival import TimeToClose, time_to_close

__all__ = ["FUNNEL_COLUMNS", "HAZARD_COLUMNS", "SUMMARY_COLUMNS", "TimeInStage", "time_in_stage"]

SUMMARY_COLUMNS = [
    "stage",
    "group",
    "n",
    "exits",
    "censored",
    "median_days",
    "median_ci_low",
    "median_ci_high",
]
HAZARD_COLUMNS = ["stage", "term", "ratio", "ratio_ci_low", "ratio_ci_high", "p_value", "n"]
FUNNEL_COLUMNS = [
    "stage",
    "entered",
    "advanced",
    "lost",
    "open",
    "conversion",
    "conversion_ci_low",
    "conversion_ci_high",
]
_HISTORY = ["deal_id", "stage", "entered_at", "exited_at", "stage_status"]
_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True, eq=False)
class TimeInStage:
    """Time in each stage, per group, with the Cox ratios of leaving it forward and the funnel.

    Attributes
    ----------
    summary : DataFrame
        ``stage, group, n, exits, censored, median_days, median_ci_low, median_ci_high``.
    hazard_ratios : DataFrame
        ``stage, term, ratio, ratio_ci_low, ratio_ci_high, p_value, n`` (empty without `by`
        or controls); a ratio above 1 means the deals leave the stage forward sooner.
    funnel : DataFrame
        ``stage, entered, advanced, lost, open, conversion, conversion_ci_low,
        conversion_ci_high``; conversion is advanced / (advanced + lost), Wilson interval.
    order : list of str
        The open stages in pipeline order; ``order_source`` says where it came from.
    note : str
        What was estimated, the stage order's source and every caveat, stage by stage.
    """

    summary: pd.DataFrame
    hazard_ratios: pd.DataFrame
    funnel: pd.DataFrame
    order: list[str]
    order_source: str
    note: str
    by: str | None
    as_of: pd.Timestamp
    fits: dict[str, TimeToClose]

    def plot(self, *, columns: int = 3) -> Figure:
        """Kaplan-Meier curves of the share of deals still in each stage, one panel a stage."""
        stages = [s for s in self.order if s in self.fits]
        rows = max(1, -(-len(stages) // columns))
        fig, axes = plt.subplots(rows, columns, figsize=(4 * columns, 3 * rows), squeeze=False)
        for ax, stage in zip(axes.flat, stages, strict=False):
            self.fits[stage].plot(ax=ax)
            ax.set_title(stage)
            ax.set_xlabel("days in stage")
            ax.set_ylabel("share still in stage")
        for ax in list(axes.flat)[len(stages) :]:
            ax.set_visible(False)
        fig.tight_layout()
        return fig

    def _repr_html_(self) -> str:
        parts = [
            f"<p><b>Time in stage</b>{' by <code>' + html.escape(self.by) + '</code>' if self.by else ''}"
            f" (stages {html.escape(' → '.join(self.order))})</p>",
            self.funnel.to_html(index=False, float_format=lambda v: f"{v:.3g}"),
            self.summary.to_html(index=False, float_format=lambda v: f"{v:.4g}"),
        ]
        if len(self.hazard_ratios):
            parts.append(self.hazard_ratios.to_html(index=False, float_format=lambda v: f"{v:.3g}"))
        parts.append(f"<p>{html.escape(self.note)}</p>")
        return "".join(parts)


def stage_order(history: pd.DataFrame) -> tuple[list[str], str]:
    """The open stages in pipeline order, and where the order came from.

    Examples
    --------
    >>> h = pd.DataFrame({"deal_id": ["a", "a", "b"], "stage": ["Demo", "Deal", "Demo"],
    ...                   "entered_at": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-03"]),
    ...                   "stage_status": "open"})
    >>> stage_order(h)
    (['Demo', 'Deal'], 'inferred from the order in which deals entered the stages')
    """
    open_rows = history.loc[~history["stage_status"].isin(["won", "lost"])]
    stages = list(dict.fromkeys(open_rows["stage"]))
    for column, source in (
        ("probability", "the stages' probabilities in the history export"),
        ("stage_rank", "the vendor's pipeline order"),
    ):
        if column in open_rows.columns:
            value = open_rows.groupby("stage")[column].median()
            if value.reindex(stages).notna().all() and len(stages):
                return sorted(stages, key=lambda s: (value[s], s)), source
    position = open_rows.sort_values(["deal_id", "entered_at"], kind="stable")
    step = position.groupby("deal_id").cumcount() / position.groupby("deal_id")["stage"].transform(
        "size"
    )
    mean = step.groupby(position["stage"]).mean()
    ordered = sorted(stages, key=lambda s: (mean[s], s))
    return ordered, "inferred from the order in which deals entered the stages"


def _coded(data: pd.DataFrame, history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables with deal ids as integer codes (joins on millions of text ids are slow),
    the history restricted to the deals of `data`."""
    ids = np.concatenate(
        [data["deal_id"].to_numpy(dtype=object), history["deal_id"].to_numpy(dtype=object)]
    )
    codes, _ = pd.factorize(ids)
    data = data.assign(deal_id=codes[: len(data)])
    history = history.assign(deal_id=codes[len(data) :], stage=history["stage"].astype(object))
    return data, history.loc[history["deal_id"].isin(data["deal_id"])]


def _deal_status(data: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """Each deal's status: ``status`` of `data` where present, else its history's last stage."""
    if "status" in data.columns:
        return data.drop_duplicates("deal_id").set_index("deal_id")["status"].astype(str)
    last = history.sort_values("entered_at", kind="stable").groupby("deal_id").tail(1)
    return last.set_index("deal_id")["stage_status"].replace("unknown", "open")


def _stays(
    history: pd.DataFrame, order: list[str], status: pd.Series, data: pd.DataFrame, as_of
) -> pd.DataFrame:
    """One row per stay in an open stage: days in it, whether it ended, and how.

    ``left`` is True where the deal left the stage by `as_of`; ``forward`` where it left to a
    later stage or a win. A deal's last stay ends at its close where the history stops there.
    """
    rank = {s: i for i, s in enumerate(order)}
    h = history.sort_values(["deal_id", "entered_at"], kind="stable").reset_index(drop=True)
    nxt_status = h.groupby("deal_id")["stage_status"].shift(-1)
    nxt_rank = h.groupby("deal_id")["stage"].shift(-1).map(rank)
    here = h["stage"].map(rank)
    last = nxt_status.isna()
    closed_at = _closed_at(data, h["deal_id"])
    deal = status.reindex(h["deal_id"]).to_numpy()
    end = h["exited_at"].where(~last | h["exited_at"].notna(), closed_at.where(deal != "open"))
    end = end.where(end <= as_of)
    forward = (nxt_status == "won") | (nxt_rank > here)
    forward = forward.where(~last, pd.Series(deal == "won", index=h.index))
    stays = h.assign(
        days=((end.fillna(as_of) - h["entered_at"]) / _DAY).clip(lower=0.0),
        left=end.notna(),
        forward=forward.fillna(False).astype(bool) & end.notna(),
    )
    return stays.loc[h["stage"].isin(order)]


def _closed_at(data: pd.DataFrame, deal_id: pd.Series) -> pd.Series:
    if "closed_at" not in data.columns:
        return pd.Series(pd.NaT, index=deal_id.index, dtype="datetime64[ns]")
    closed = data.drop_duplicates("deal_id").set_index("deal_id")["closed_at"]
    closed = pd.to_datetime(closed)
    return pd.Series(closed.reindex(deal_id).to_numpy(), index=deal_id.index)


def _funnel(stays: pd.DataFrame, history: pd.DataFrame, order: list[str], status, alpha):
    """Entered, advanced, lost and open deals per stage, with Wilson conversion intervals."""
    rank = {s: i for i, s in enumerate(order)}
    reached = history.assign(r=history["stage"].map(rank))
    best = reached.groupby("deal_id")["r"].max()
    won = status.reindex(best.index).eq("won") | reached.loc[
        reached["stage_status"].eq("won"), "deal_id"
    ].drop_duplicates().pipe(lambda ids: pd.Series(best.index.isin(ids), index=best.index))
    lost = status.reindex(best.index).eq("lost")
    rows = []
    for stage in order:
        ids = stays.loc[stays["stage"] == stage, "deal_id"].drop_duplicates()
        advanced = (best.reindex(ids) > rank[stage]).to_numpy() | won.reindex(ids).to_numpy()
        gone = ~advanced & lost.reindex(ids).fillna(False).to_numpy()
        a, g, n = int(advanced.sum()), int(gone.sum()), len(ids)
        low, high = (np.nan, np.nan)
        if a + g:
            low, high = proportion_confint(a, a + g, alpha=alpha, method="wilson")
        conversion = a / (a + g) if a + g else np.nan
        rows.append([stage, n, a, g, n - a - g, conversion, float(low), float(high)])
    return pd.DataFrame(rows, columns=FUNNEL_COLUMNS)


def _fit(frame: pd.DataFrame, closed: pd.Series, **kwargs) -> tuple[TimeToClose, list[str]]:
    """One stage's :func:`time_to_close`, its warnings kept as text for the note."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", StatisticalWarning)
        fit = time_to_close(frame.assign(closed=closed.to_numpy()), **kwargs)
    return fit, [str(w.message) for w in caught if issubclass(w.category, StatisticalWarning)]


def _stage_fits(
    stays: pd.DataFrame, order: list[str], by, controls, cluster, alpha
) -> tuple[list[pd.DataFrame], list[pd.DataFrame], dict[str, TimeToClose], list[str]]:
    summaries, ratios, fits, notes = [], [], {}, []
    for stage in order:
        frame = stays.loc[stays["stage"] == stage].rename(columns={"days": "duration_days"})
        frame = frame.drop(columns=["status"], errors="ignore")
        try:
            fit, said = _fit(frame, frame["left"], by=by, cluster=cluster, alpha=alpha)
        except AnalysisError as err:
            notes.append(f"{stage}: {err}")
            continue
        fits[stage] = fit
        summary = fit.summary.rename(columns={"events": "exits"}).assign(stage=stage)
        summaries.append(summary[SUMMARY_COLUMNS])
        if by is not None or controls:
            try:
                cox, more = _fit(
                    frame, frame["forward"], by=by, controls=controls, cluster=cluster, alpha=alpha
                )
            except AnalysisError as err:
                said.append(f"no Cox model of leaving forward: {err}")
            else:
                said += more
                if cox.hazard_ratios is not None:
                    ratios.append(cox.hazard_ratios.assign(stage=stage)[HAZARD_COLUMNS])
        notes += [f"{stage}: {text}" for text in dict.fromkeys(said)]
    return summaries, ratios, fits, notes


def time_in_stage(
    data: pd.DataFrame,
    stage_history: pd.DataFrame,
    *,
    by: str | None = None,
    controls: str | Sequence[str] = (),
    as_of: Any = None,
    cluster: str | None = "account_id",
    alpha: float = 0.05,
) -> TimeInStage:
    """Time in each pipeline stage, the trust proxy's effect on leaving it forward, the funnel.

    Parameters
    ----------
    data : DataFrame
        One row per deal with ``deal_id`` (the deals or ``trust_features``' output); ``status``
        and ``closed_at`` end a deal's last stay where the history stops before its close.
    stage_history : DataFrame
        ``Export.stage_history``.
    by : str, optional
        Column compared (a trust proxy): Kaplan-Meier curves per group, Cox ratios per stage.
    controls : str or sequence of str
        Columns adjusted for in the Cox models.
    as_of : date-like, optional
        Cut-off: stays still going then are censored; default the latest date in the history.
    cluster : str or None, default "account_id"
        Column whose groups share errors in the Cox models.
    alpha : float
        Intervals are at level ``1 - alpha``.

    Returns
    -------
    TimeInStage

    Raises
    ------
    ColumnNotFoundError
        A named column, or a canonical history column, is absent.
    AnalysisError
        No stage has enough stays to estimate anything.

    Examples
    --------
    >>> from salesinsight.datasets.stages import simulate_stage_world
    >>> deals, history = simulate_stage_world(n_deals=2000, seed=1)
    >>> res = time_in_stage(deals, history, by="is_repeat_customer")
    >>> res.order
    ['Qualification', 'Needs Analysis', 'Proposal', 'Negotiation']
    >>> # Planted: 1.0, 2.0, 1.5 and 1.0 (see PLANTED_STAGE_EFFECTS).
    >>> res.hazard_ratios[["stage", "ratio"]].round(1).values.tolist()
    [['Qualification', 1.0], ['Needs Analysis', 2.1], ['Proposal', 1.5], ['Negotiation', 0.9]]
    """
    controls_t = as_names(controls, "controls")
    if not 0 < alpha < 1:
        raise InvalidValueError(f"`alpha` must lie between 0 and 1, got {alpha!r}.")
    require_columns(stage_history, _HISTORY, argument="stage_history")
    require_columns(data, ["deal_id", *([by] if by else []), *controls_t], argument="data")
    data, history = _coded(data, stage_history)
    latest = pd.concat([history["entered_at"], history["exited_at"]]).max()
    cutoff = pd.Timestamp(as_of) if as_of is not None else latest
    history = history.loc[history["entered_at"] <= cutoff]
    order, source = stage_order(history)
    status = _deal_status(data, history)
    cluster = cluster if cluster is None or cluster in data.columns else None
    keep = [c for c in dict.fromkeys([by, *controls_t, cluster, "status"]) if c in data.columns]
    stays = _stays(history, order, status, data, cutoff)
    stays = stays.merge(data[["deal_id", *keep]].drop_duplicates("deal_id"), on="deal_id")
    summaries, ratios, fits, notes = _stage_fits(stays, order, by, controls_t, cluster, alpha)
    if not summaries:
        raise AnalysisError("No stage has enough stays to estimate: " + " ".join(notes))
    head = (
        f"Time in {len(order)} open stage(s) over {stays['deal_id'].nunique()} deals, stays "
        f"still going at {cutoff.date()} censored; stage order {source}. Cox models of leaving "
        "each stage forward (to a later stage or a win; backward moves and losses censored)"
        + (f", errors clustered by `{cluster}`" if cluster else ", errors not clustered")
        + ". Conversion: advanced / (advanced + lost), Wilson intervals; open deals left out."
    )
    return TimeInStage(
        summary=pd.concat(summaries, ignore_index=True),
        hazard_ratios=(
            pd.concat(ratios, ignore_index=True) if ratios else pd.DataFrame(columns=HAZARD_COLUMNS)
        ),
        funnel=_funnel(stays, history, order, status, alpha),
        order=order,
        order_source=source,
        note=" ".join([head, *notes]),
        by=by,
        as_of=cutoff,
        fits=fits,
    )
