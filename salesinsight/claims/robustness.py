"""How well each scorecard row stands up to a skeptic: E-values, sensemakr and stability.

:func:`~salesinsight.claims.evaluate.evaluate_claims` calls :func:`add_robustness` once the
verdicts are in. Every row with an estimate gets

* ``e_value`` and ``e_value_ci``: the E-values (VanderWeele and Ding 2017) of its ratio and of the
  limit of its adjusted interval nearest to no effect (1 where the interval covers it), after the
  conversion its model needs (:class:`~salesinsight.stats.evalues.Conversion`, said in the note);
* ``benchmark`` and ``benchmark_e_value`` (controlled rows): the strongest measured control and
  the E-value of the shift leaving it out causes, the yardstick for the E-value (McGowan and
  Greevy 2020). For least squares the strongest is sensemakr's, the control a confounder as
  strong as would bias the estimate most; otherwise the one whose omission moves the estimate most;
* for least squares, sensemakr's ``partial_r2``, ``robustness_value``, ``robustness_value_alpha``
  and ``bound_ratio`` (the ratio after removing a confounder as strong as the benchmark);
* ``sign_stable`` on the row each supported claim's robustness is read from (of the rows its
  verdict rests on, the one whose adjusted interval is hardest to explain away:
  :func:`~salesinsight.claims.narrative.headline_rows`), re-estimated per created year (per
  calendar year for account-year rows): whether every year's estimate lies on the side of no
  effect the whole data's does, and ``sign_flips``, the years where it does not (each year's
  figures are in the note).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesinsight.claims.fits import Fit
from salesinsight.claims.narrative import headline_rows, listed
from salesinsight.exceptions import SalesInsightError
from salesinsight.stats.evalues import e_values, shift_e_value

__all__ = ["ROBUSTNESS_COLUMNS", "Refit", "add_robustness"]

ROBUSTNESS_COLUMNS = [
    "e_value",
    "e_value_ci",
    "benchmark",
    "benchmark_e_value",
    "partial_r2",
    "robustness_value",
    "robustness_value_alpha",
    "bound_ratio",
    "sign_stable",
    "sign_flips",
]
# Periods with fewer rows than this are not re-estimated on their own.
MIN_PERIOD_ROWS = 30


@dataclass(frozen=True)
class Refit:
    """What re-estimating a row on part of its data needs: the rows it was fitted on, the column
    of their period, the fit as a function of some of those rows, and the columns that fit reads
    (None: all), so that each period's rows are a small copy."""

    table: pd.DataFrame
    period: str
    fit: Callable[[pd.DataFrame], Fit]
    columns: Sequence[str] | None = None


def _empty() -> dict[str, Any]:
    words = {"benchmark": None, "sign_stable": pd.NA, "sign_flips": None}
    return {c: np.nan for c in ROBUSTNESS_COLUMNS} | words


def _benchmark(fit: Fit) -> tuple[str, float, float] | None:
    """The strongest measured control, the ratio without it and the E-value of that shift."""
    if not fit.shifts:
        return None
    ratio = float(np.exp(fit.estimate))
    shifts = {c: float(np.exp(without)) for c, without in fit.shifts}
    strengths = {c: shift_e_value(ratio, shifts[c], fit.conversion) for c in shifts}
    chosen = fit.sensemakr.benchmark if fit.sensemakr is not None else None
    if chosen not in shifts:
        chosen = max(strengths, key=strengths.__getitem__)
    return chosen, shifts[chosen], strengths[chosen]


def _sensitivity(row: dict[str, Any], alpha: float) -> list[str]:
    """Fill in the row's E-values, benchmark and sensemakr columns; the sentences for its note."""
    fit: Fit = row["fit"]
    found = e_values(row["estimate"], row["ci_low"], row["ci_high"], fit.conversion)
    row.update(e_value=found.point, e_value_ci=found.interval)
    notes = [
        f"E-value {found.point:.2f} for the estimate and {found.interval:.2f} for its adjusted "
        f"interval, {fit.conversion.words()} (VanderWeele and Ding 2017)."
    ]
    benchmark = _benchmark(fit)
    if benchmark is not None:
        name, without, strength = benchmark
        row.update(benchmark=name, benchmark_e_value=strength)
        how = "" if fit.sensemakr is not None else ", to a first-order approximation"
        notes.append(
            f"Leaving out `{name}`, the strongest measured control, would move the ratio to "
            f"{without:.3g}{how}: a confounder of E-value {strength:.2f}."
        )
    stats = fit.sensemakr
    if stats is not None:
        row.update(
            partial_r2=stats.partial_r2,
            robustness_value=stats.robustness_value,
            robustness_value_alpha=stats.robustness_value_alpha,
        )
        text = (
            f"sensemakr (Cinelli and Hazlett 2020, from classical errors): the proxy's partial "
            f"R² with the outcome is {stats.partial_r2:.1%}; a confounder explaining "
            f"{stats.robustness_value:.1%} of the residual variance of both would bring the "
            f"estimate to no effect, {stats.robustness_value_alpha:.1%} its {1 - alpha:.0%} "
            "interval"
        )
        if stats.bound is not None:
            bound = stats.bound
            row["bound_ratio"] = float(np.exp(bound.estimate))
            text += (
                f"; one as strong as `{stats.benchmark}` would leave a ratio of "
                f"{np.exp(bound.estimate):.3g}"
                + (
                    f" ({np.exp(bound.ci_low):.3g}–{np.exp(bound.ci_high):.3g})"
                    if bound.r2yz_dx < 1
                    else " (such a confounder would explain all of the outcome's residual "
                    "variance, so this is an extreme case without an interval)"
                )
            )
        notes.append(text + ".")
    return notes


def _period_fits(refit: Refit, alpha: float) -> list[tuple[str, int, float, float, float]]:
    """Per period with enough rows: its label, rows, ratio and interval at level ``1 - alpha``."""
    out: list[tuple[str, int, float, float, float]] = []
    table = refit.table if refit.columns is None else refit.table[list(refit.columns)]
    periods = table[refit.period]
    for label, positions in periods.groupby(periods, observed=True, sort=True).indices.items():
        if len(positions) < MIN_PERIOD_ROWS:
            continue
        with warnings.catch_warnings():
            # Small periods warn of small samples; the note reports their figures as they are.
            warnings.simplefilter("ignore")
            try:
                fit = refit.fit(table.iloc[positions])
            except SalesInsightError:
                continue
        if not np.isfinite([fit.estimate, fit.std_err]).all():
            continue
        half = fit.critical(alpha) * fit.std_err
        ratio, low, high = (float(v) for v in np.exp([0.0, -half, half]) * np.exp(fit.estimate))
        out.append((str(label), fit.n, ratio, low, high))
    return out


def _stability(row: dict[str, Any], alpha: float) -> str:
    """Re-estimate a supported row per period; set ``sign_stable`` and say what was found."""
    refit: Refit | None = row.get("refit")
    if refit is None:
        return "Not re-estimated per year: the rows carry no creation year."
    periods = _period_fits(refit, alpha)
    if len(periods) < 2:
        return (
            "Not re-estimated per year: fewer than two years with enough rows "
            f"({MIN_PERIOD_ROWS}) to fit."
        )
    side = np.sign(np.log(row["estimate"]))
    flips = [p for p in periods if np.sign(np.log(p[2])) != side]
    row.update(sign_stable=not flips, sign_flips=", ".join(p[0] for p in flips))
    listing = ", ".join(f"{label} {ratio:.3g}x (n = {n})" for label, n, ratio, _, _ in periods)
    if not flips:
        return f"Re-estimated per year: {listing}; the same direction in every year."
    firm = [p[0] for p in flips if p[3] > 1 or p[4] < 1]
    return (
        f"Re-estimated per year: {listing}; the direction flips in "
        f"{listed([p[0] for p in flips])}"
        + (
            f", with an interval excluding no effect in {listed(firm)}"
            if firm
            else " (within noise: no such year's interval excludes no effect)"
        )
        + "."
    )


def add_robustness(rows: Sequence[dict[str, Any]], alpha: float) -> None:
    """Add the :data:`ROBUSTNESS_COLUMNS` to scored rows, in place, and extend their notes.

    Parameters
    ----------
    rows : sequence of dict
        Scorecard rows after their verdicts: tested rows carry their ``fit`` (a
        :class:`~salesinsight.claims.fits.Fit`) and, where they can be re-estimated per
        period, a ``refit`` (:class:`Refit`).
    alpha : float
        The scorecard's false discovery rate: the level of sensemakr's ``RV_q=1,alpha`` and of
        the per-year intervals.
    """
    for row in rows:
        row.update(_empty())
    tested = [r for r in rows if r["fit"] is not None]
    for row in tested:
        row["note"] = " ".join([row["note"], *_sensitivity(row, alpha)])
    columns = ["claim_id", "adjustment", "verdict", "e_value_ci"]
    table = pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=columns)
    for position in headline_rows(table).index:
        row = rows[position]
        row["note"] = f"{row['note']} {_stability(row, alpha)}"
