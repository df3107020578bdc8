"""The shared look of salesinsight's figures: a palette, a theme and a forest plot.

Result objects draw with these helpers so that notebooks, the claims scorecard and the report look
alike. Nothing here changes matplotlib's global state except :func:`theme`, which a notebook calls
once at the top.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import LogFormatter

from salesinsight.exceptions import ColumnNotFoundError

__all__ = ["PALETTE", "STYLE", "forest", "ratio_axis", "theme"]

# Colour-blind safe (Okabe-Ito), in the order groups are drawn.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#D55E00",
    "#CC79A7",
    "#56B4E9",
    "#F0E442",
    "#000000",
)

STYLE: dict[str, Any] = {
    "axes.prop_cycle": plt.cycler(color=list(PALETTE)),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e5e5",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "axes.titlesize": "medium",
    "axes.titleweight": "bold",
    "axes.labelsize": "small",
    "xtick.labelsize": "small",
    "ytick.labelsize": "small",
    "legend.fontsize": "small",
    "legend.frameon": False,
    "figure.figsize": (7.0, 4.0),
    "figure.dpi": 100,
    "savefig.bbox": "tight",
}


def theme() -> None:
    """Apply the salesinsight look (palette, light grid, no top/right spines) to matplotlib.

    Examples
    --------
    >>> with plt.rc_context():  # restores the previous look afterwards
    ...     theme()
    ...     plt.rcParams["axes.spines.top"]
    False
    """
    plt.style.use(STYLE)


class _PlainLogFormatter(LogFormatter):
    """Log-axis labels as plain numbers (0.6, 1, 2, 10), chosen as matplotlib would."""

    def _num_to_string(self, x: float, vmin: float, vmax: float) -> str:
        return f"{x:g}"


def ratio_axis(ax: Axes) -> Axes:
    """Put ratios on a log x axis labelled with plain numbers (0.8, 1, 2), never crowded.

    Parameters
    ----------
    ax : Axes
        The axes whose x axis shows ratios.

    Returns
    -------
    Axes
        The same axes.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0.7, 3.0], [0, 1])
    >>> ratio_axis(ax).get_xscale()
    'log'
    >>> plt.close(fig)
    """
    ax.set_xscale("log")
    # Matplotlib's own choice of which minor ticks to label keeps 0.7, 0.8, 0.9 from colliding.
    ax.xaxis.set_major_formatter(_PlainLogFormatter())
    ax.xaxis.set_minor_formatter(_PlainLogFormatter(minor_thresholds=(2, 0.5)))
    return ax


def _pick_scale(summary: pd.DataFrame, scale: str) -> tuple[str, str, str, bool]:
    has_ratio = "ratio" in summary.columns and summary["ratio"].notna().any()
    if scale == "auto":
        scale = "ratio" if has_ratio else "estimate"
    if scale == "ratio":
        return "ratio", "ratio_ci_low", "ratio_ci_high", True
    return "estimate", "ci_low", "ci_high", False


def forest(
    summary: pd.DataFrame,
    ax: Axes | None = None,
    *,
    label: str = "term",
    group: str | None = None,
    scale: str = "auto",
    xlabel: str | None = None,
    exclude: Sequence[str] = ("Intercept",),
) -> Axes:
    """Draw estimates with their confidence intervals, one row per label (a forest plot).

    Parameters
    ----------
    summary : DataFrame
        A tidy table with `label` and either ``ratio, ratio_ci_low, ratio_ci_high`` or
        ``estimate, ci_low, ci_high`` columns (the layout of every salesinsight result).
    ax : matplotlib Axes, optional
        Where to draw; the current axes by default.
    label : str, default "term"
        Column naming each row on the y axis.
    group : str, optional
        Column whose values are drawn side by side within a row in different colours, e.g.
        naive versus controlled estimates of the same claim.
    scale : {"auto", "ratio", "estimate"}, default "auto"
        ``"ratio"`` draws the ratio columns on a log axis with a reference line at 1;
        ``"estimate"`` the raw estimates with a reference line at 0; ``"auto"`` uses ratios
        where the table has any.
    xlabel : str, optional
        Axis label; defaults to the column drawn.
    exclude : sequence of str, default ("Intercept",)
        Labels not drawn.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> table = pd.DataFrame({
    ...     "term": ["is_repeat_customer", "log_employees"],
    ...     "ratio": [1.4, 1.1], "ratio_ci_low": [1.1, 0.9], "ratio_ci_high": [1.8, 1.3],
    ... })
    >>> ax = forest(table)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['is_repeat_customer', 'log_employees']
    """
    point, low, high, log = _pick_scale(summary, scale)
    needed = [label, point, low, high] + ([group] if group is not None else [])
    missing = [c for c in needed if c not in summary.columns]
    if missing:
        raise ColumnNotFoundError(
            f"forest() needs the column(s) {', '.join(f'`{c}`' for c in missing)}; the table has "
            f"{', '.join(f'`{c}`' for c in summary.columns)}. Pass a tidy result summary or set "
            "`label=` / `scale=`."
        )
    ax = ax if ax is not None else plt.gca()
    rows = summary[~summary[label].astype(str).isin(list(exclude))]
    labels = list(dict.fromkeys(rows[label].astype(str)))
    position = {name: i for i, name in enumerate(labels)}
    groups = list(dict.fromkeys(rows[group])) if group is not None else [None]
    step = 0.6 / max(len(groups), 1)
    for k, value in enumerate(groups):
        part = rows if value is None else rows[rows[group] == value]
        offset = (k - (len(groups) - 1) / 2) * step
        y = np.array([position[str(v)] for v in part[label]], dtype=float) + offset
        est = part[point].to_numpy(dtype=float)
        lo = part[low].to_numpy(dtype=float)
        hi = part[high].to_numpy(dtype=float)
        color = PALETTE[k % len(PALETTE)]
        ax.hlines(y, lo, hi, color=color, linewidth=1.8)
        ax.plot(est, y, "o", color=color, label=None if value is None else str(value))
    ax.axvline(1.0 if log else 0.0, color="#555555", linewidth=0.9, linestyle="--")
    if log:
        ratio_axis(ax)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.set_xlabel(xlabel if xlabel is not None else point.replace("_", " "))
    if group is not None:
        ax.legend(title=group.replace("_", " "))
    return ax
