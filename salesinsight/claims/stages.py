"""K2 stage by stage: in which pipeline stages trust shortens the time, from a stage history.

The scorecard's K2 rows say whether trusted deals close sooner overall. With a stage history
(:attr:`salesinsight.Export.stage_history`), :func:`stage_rows` asks where: for each K2 proxy, a
Cox model per open stage of the time to leave it forward (to a later stage or a win; losses and
backward moves censored, deals still in it censored at the cut-off), with the same controls as
the scorecard's controlled rows and errors clustered by account
(:func:`salesinsight.stats.stages.time_in_stage`). Every stage ratio of every proxy is one test:
the p-values are Benjamini-Hochberg adjusted together and each ratio is read from its adjusted
interval, as the scorecard's are. :func:`stage_note` says the result in the K2 rows' note and
:func:`stage_sentences` in the narrative.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.stats as sps

from salesinsight.claims.registry import Proxy
from salesinsight.exceptions import AnalysisError, StatisticalWarning
from salesinsight.stats.design import bh_adjust, bh_levels
from salesinsight.stats.stages import HAZARD_COLUMNS, time_in_stage

__all__ = ["STAGE_COLUMNS", "stage_note", "stage_rows", "stage_sentences"]

STAGE_COLUMNS = [
    "claim_id",
    "proxy",
    "stage",
    "n",
    "ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "reading",
]
"""Columns of :attr:`salesinsight.claims.Scorecard.stages`: one row per K2 proxy and stage."""
_READINGS = {1: "faster", -1: "slower", 0: "no clear difference"}


def _proxy_ratios(work, history, proxy: Proxy, controls, alpha) -> pd.DataFrame:
    """One proxy's hazard ratio of leaving each stage forward (empty where none could be fit)."""
    terms = [proxy.scaled, *[c for c in controls if c != proxy.scaled]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        try:
            res = time_in_stage(work, history, controls=terms, alpha=alpha)
        except AnalysisError:
            return pd.DataFrame(columns=HAZARD_COLUMNS)
    ratios = res.hazard_ratios
    ratios = ratios.loc[ratios["term"] == proxy.scaled].copy()
    # The stages in pipeline order, as the funnel has them.
    ratios["order"] = ratios["stage"].map({s: i for i, s in enumerate(res.order)})
    return ratios.sort_values("order", kind="stable")


def stage_rows(
    work: pd.DataFrame,
    history: pd.DataFrame,
    proxies: Sequence[Proxy],
    controls: Sequence[str],
    alpha: float,
    *,
    claim_id: str = "K2",
) -> pd.DataFrame:
    """Per-stage hazard ratios of each proxy, BH-adjusted together, read from adjusted intervals.

    Parameters
    ----------
    work : DataFrame
        The scorecard's working frame: one row per deal, proxies rescaled to their units.
    history : DataFrame
        The canonical stage history.
    proxies : sequence of Proxy
        The claim's proxies; those the data lack are left out.
    controls : sequence of str
        The controlled rows' controls (columns of `work`).
    alpha : float
        False discovery rate.

    Returns
    -------
    DataFrame
        :data:`STAGE_COLUMNS`; ``reading`` is ``faster`` or ``slower`` where the adjusted interval
        lies on one side of 1, else ``no clear difference``.

    Examples
    --------
    >>> from salesinsight.claims.registry import PROXIES
    >>> from salesinsight.datasets.stages import simulate_stage_world
    >>> deals, history = simulate_stage_world(n_deals=3000, seed=2)
    >>> rows = stage_rows(deals, history, [PROXIES["is_repeat_customer"]], [], 0.05)
    >>> rows[["stage", "reading"]].values.tolist()  # planted: 1.0, 2.0, 1.5, 1.0
    [['Qualification', 'no clear difference'], ['Needs Analysis', 'faster'], ['Proposal', 'faster'], ['Negotiation', 'no clear difference']]
    """
    parts = []
    for proxy in proxies:
        if proxy.scaled not in work.columns or work[proxy.scaled].notna().sum() == 0:
            continue
        ratios = _proxy_ratios(work, history, proxy, controls, alpha)
        if len(ratios):
            parts.append(ratios.assign(proxy=proxy.column))
    if not parts:
        return pd.DataFrame(columns=STAGE_COLUMNS)
    rows = pd.concat(parts, ignore_index=True)
    p = rows["p_value"].to_numpy(dtype=float)
    q = bh_adjust(p)
    # The interval at the level the adjusted p-value implies (as the scorecard's rows are read).
    level = bh_levels(p, q, alpha)
    log_ratio = np.log(rows["ratio"].to_numpy(dtype=float))
    # Wald intervals: the standard error from the interval time_in_stage gives at `alpha`.
    width = np.log(rows["ratio_ci_high"].to_numpy(dtype=float)) - np.log(
        rows["ratio_ci_low"].to_numpy(dtype=float)
    )
    std_err = width / (2 * sps.norm.ppf(1 - alpha / 2))
    half = sps.norm.ppf(1 - level / 2) * std_err
    low, high = np.exp(log_ratio - half), np.exp(log_ratio + half)
    side = np.where(low > 1, 1, np.where(high < 1, -1, 0))
    return pd.DataFrame(
        {
            "claim_id": claim_id,
            "proxy": rows["proxy"],
            "stage": rows["stage"],
            "n": rows["n"].astype("Int64"),
            "ratio": rows["ratio"].astype(float),
            "ci_low": low,
            "ci_high": high,
            "p_value": p,
            "p_adjusted": q,
            "reading": [_READINGS[s] for s in side],
        }
    )[STAGE_COLUMNS]


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def stage_note(rows: pd.DataFrame, proxy: str) -> str:
    """The per-stage result of one proxy in a sentence for its K2 rows' note ("" without rows).

    Examples
    --------
    >>> rows = pd.DataFrame({"proxy": "p", "stage": ["A", "B"], "ratio": [2.0, 1.02],
    ...                      "reading": ["faster", "no clear difference"]})
    >>> stage_note(rows, "p")
    'By stage (stage history, hazard ratio of moving on, BH-adjusted): faster in A (2.00); no clear difference in B (1.02).'
    """
    mine = rows.loc[rows["proxy"] == proxy]
    if not len(mine):
        return ""
    parts = []
    for reading in ("faster", "slower", "no clear difference"):
        part = mine.loc[mine["reading"] == reading]
        if len(part):
            stages = [f"{s} ({r:.2f})" for s, r in zip(part["stage"], part["ratio"], strict=True)]
            parts.append(f"{reading} in {_listed(stages)}")
    return (
        "By stage (stage history, hazard ratio of moving on, BH-adjusted): "
        + "; ".join(parts)
        + "."
    )


def stage_sentences(rows: pd.DataFrame, proxy_labels: dict[str, str]) -> str:
    """Where in the pipeline trust saves time, for the narrative ("" without rows).

    Examples
    --------
    >>> rows = pd.DataFrame({"proxy": "p", "stage": ["A", "B"], "ratio": [2.0, 1.02],
    ...                      "reading": ["faster", "no clear difference"]})
    >>> stage_sentences(rows, {"p": "repeat customers"})
    'Stage by stage (from the stage history): for repeat customers, deals move on faster in A (2.00x as fast); B takes as long.'
    """
    sentences = []
    for proxy, mine in rows.groupby("proxy", sort=False):
        label = proxy_labels.get(str(proxy), f"`{proxy}`")
        sentences.append(_proxy_sentence(label, mine))
    if not sentences:
        return ""
    return "Stage by stage (from the stage history): " + "; ".join(sentences) + "."


def _proxy_sentence(label: str, mine: pd.DataFrame) -> str:
    """One proxy's clause: faster in k of n stages, most in one of them; the others as long."""
    same = mine.loc[mine["reading"] == "no clear difference", "stage"].tolist()
    parts = []
    for reading, words in (("faster", "faster"), ("slower", "slower")):
        part = mine.loc[mine["reading"] == reading]
        if not len(part):
            continue
        top = part.loc[(np.log(part["ratio"].astype(float))).abs().idxmax()]
        where = (
            f"in {part['stage'].iloc[0]}"
            if len(part) == 1
            else (f"in {len(part)} of {len(mine)} stages, most in {top['stage']}")
        )
        parts.append(f"{words} {where} ({top['ratio']:.2f}x as fast)")
    if not parts:
        return f"for {label}, no stage differs clearly"
    text = f"for {label}, deals move on " + " and ".join(parts)
    if same:
        text += f"; {_listed(same)} {'takes' if len(same) == 1 else 'take'} as long"
    return text
