"""The scorecard a reader sees: verdicts per claim, a forest plot and the narrative.

:class:`Scorecard` holds the table :func:`salesinsight.claims.evaluate.evaluate_claims` computes;
its words come from :mod:`salesinsight.claims.narrative`.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from salesinsight.claims.narrative import claim_verdict, listed, narrative_text
from salesinsight.claims.registry import PROXIES
from salesinsight.claims.robustness import ROBUSTNESS_COLUMNS
from salesinsight.claims.stages import STAGE_COLUMNS, stage_sentences
from salesinsight.exceptions import InvalidValueError
from salesinsight.plots import PALETTE, ratio_axis

__all__ = ["TABLE_COLUMNS", "VERDICT_COLUMNS", "Scorecard"]

TABLE_COLUMNS = [
    "claim_id",
    "claim",
    "proxy",
    "outcome",
    "adjustment",
    "n",
    "effect",
    "estimate",
    "ci_low",
    "ci_high",
    "p_value",
    "p_adjusted",
    "verdict",
    "note",
    *ROBUSTNESS_COLUMNS,
]
VERDICT_COLUMNS = [
    "claim_id",
    "claim",
    "verdict",
    "basis",
    "supported",
    "contradicted",
    "inconclusive",
    "not_testable",
    "note",
]
VERDICT_COLOURS = {
    "supported": PALETTE[2],
    "contradicted": PALETTE[3],
    "inconclusive": "#8c8c8c",
}
# Intervals this far from 1 are drawn to the edge of the plot rather than stretching its axis.
PLOT_LIMITS = (1e-2, 1e2)
# Naive rows sit just above their label, controlled rows just below it.
ROW_OFFSETS = (("naive", -0.17), ("controlled", 0.17))


@dataclass(frozen=True, eq=False)
class Scorecard:
    """The book's claims scored against the data.

    Attributes
    ----------
    table : DataFrame
        One row per claim, proxy, outcome and adjustment: ``claim_id, claim, proxy, outcome,
        adjustment`` (``naive`` or ``controlled``), ``n, effect`` (what the ratio measures),
        ``estimate, ci_low, ci_high`` (the ratio and its BH-adjusted interval), ``p_value,
        p_adjusted, verdict`` (``supported``, ``contradicted``, ``inconclusive`` or ``not
        testable``), ``note`` (the model, the controls, every caveat, or what is missing), then
        how the row stands up to unmeasured confounding (:mod:`salesinsight.claims.robustness`):
        ``e_value, e_value_ci`` (VanderWeele and Ding's E-values of the ratio and of its
        adjusted interval, 1 where that covers no effect), ``benchmark, benchmark_e_value`` (the
        strongest measured control and the E-value of the shift it causes), for least squares
        sensemakr's ``partial_r2, robustness_value, robustness_value_alpha, bound_ratio``, and
        ``sign_stable, sign_flips`` (on the row each supported claim is judged by: whether the
        estimate keeps its side of no effect in every created year, and the years it does not).
    alpha : float
        The false discovery rate the verdicts are held to.
    controls : tuple of str
        The control columns of the controlled rows.
    missing_controls : tuple of str
        Automatic controls the data lack.
    control_words : str
        The controls in words, as the narrative names them.
    stages : DataFrame
        K2 stage by stage, when the claims were scored with a stage history
        (:mod:`salesinsight.claims.stages`): ``claim_id, proxy, stage, n, ratio, ci_low,
        ci_high, p_value, p_adjusted, reading`` (``faster``, ``slower`` or ``no clear
        difference``); empty without one.
    """

    table: pd.DataFrame
    alpha: float
    controls: tuple[str, ...]
    missing_controls: tuple[str, ...]
    control_words: str
    stages: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=STAGE_COLUMNS))

    def select(self, claim_ids: str | Sequence[str]) -> Scorecard:
        """The scorecard of some claims only, with the figures of the full one.

        Nothing is re-estimated: the rows keep their intervals, p-values and verdicts, which
        were adjusted for every test of the full scorecard (Benjamini-Hochberg), and their
        labels in its table. Verdicts, narrative and plot then speak of these claims only.

        Parameters
        ----------
        claim_ids : str or sequence of str
            One claim id (``"K1"``) or several (``["K1", "K5", "K8"]``), as in
            ``table["claim_id"]``. The rows stay in the table's order.

        Returns
        -------
        Scorecard
            The same columns, `alpha` and controls, with the rows of those claims.

        Raises
        ------
        InvalidValueError
            When an id is not in the scorecard; the message lists those it holds.

        Examples
        --------
        >>> import numpy as np
        >>> from salesinsight.claims import evaluate_claims
        >>> rng = np.random.default_rng(0)
        >>> repeat = rng.random(400) < 0.5
        >>> data = pd.DataFrame({
        ...     "account_id": [f"A{i % 80}" for i in range(400)],
        ...     "status": "won",
        ...     "amount": np.exp(9 + 0.4 * repeat + rng.normal(0, 0.5, 400)),
        ...     "is_repeat_customer": repeat,
        ... })
        >>> card = evaluate_claims(data, claims=["K1", "K2"], controls=None)
        >>> k1 = card.select("K1")
        >>> k1.verdicts()[["claim_id", "verdict"]].values.tolist()
        [['K1', 'supported']]
        >>> k1.table.equals(card.table[card.table["claim_id"] == "K1"])
        True
        """
        wanted = [claim_ids] if isinstance(claim_ids, str) else list(claim_ids)
        held = list(dict.fromkeys(self.table["claim_id"]))
        unknown = [c for c in wanted if c not in held]
        if unknown:
            raise InvalidValueError(
                f"No claim {listed([repr(c) for c in unknown])} in this scorecard; it holds "
                f"{', '.join(held) or 'no claim'}. Pass ids among them, e.g. "
                f"`select({held[:2]!r})`."
            )
        return replace(
            self,
            table=self.table[self.table["claim_id"].isin(wanted)],
            stages=self.stages[self.stages["claim_id"].isin(wanted)],
        )

    def verdicts(self) -> pd.DataFrame:
        """One row per claim with its overall verdict.

        A claim is judged on its controlled rows (its naive rows when none could be tested):
        supported when at least one row supports it and none contradicts it, contradicted in the
        mirror case, inconclusive when no row is significant or rows disagree, and not testable
        when no row could be tested.

        Returns
        -------
        DataFrame
            ``claim_id, claim, verdict, basis`` (``controlled``, ``naive`` or ``none``),
            ``supported, contradicted, inconclusive, not_testable`` (row counts), ``note``.
        """
        out = [
            {"claim_id": claim_id, "claim": rows["claim"].iloc[0], **claim_verdict(rows)}
            for claim_id, rows in self.table.groupby("claim_id", sort=False)
        ]
        return pd.DataFrame(out, columns=VERDICT_COLUMNS)

    def narrative(self) -> str:
        """A paragraph per claim, written from the scorecard's numbers in business terms; with a
        stage history, K2's paragraph ends with where in the pipeline trust saves time."""
        endings = {
            str(claim_id): stage_sentences(rows, _proxy_labels())
            for claim_id, rows in self.stages.groupby("claim_id", sort=False)
        }
        return narrative_text(
            self.table,
            alpha=self.alpha,
            controls=self.controls,
            missing_controls=self.missing_controls,
            control_words=self.control_words,
            endings=endings,
        )

    def plot(self, ax: Axes | None = None) -> Axes:
        """Forest plot of every tested ratio with its adjusted interval on a log axis.

        Colours give the verdict; open markers are naive rows, filled markers controlled ones.
        """
        ax = ax if ax is not None else plt.gca()
        rows = self.table[self.table["verdict"] != "not testable"]
        if not len(rows):
            ax.text(
                0.5,
                0.5,
                "No claim could be tested on this data.",
                ha="center",
                transform=ax.transAxes,
            )
            ax.set_axis_off()
            return ax
        names = rows["claim_id"] + " " + rows["proxy"] + " · " + rows["outcome"]
        labels = list(dict.fromkeys(names))
        position = names.map({name: i for i, name in enumerate(labels)})
        for adjustment, offset in ROW_OFFSETS:
            part = rows["adjustment"] == adjustment
            if part.any():
                y = position[part].to_numpy(dtype=float) + offset
                _draw_rows(ax, rows[part], y, filled=adjustment == "controlled")
        ax.axvline(1.0, color="#555555", linewidth=0.9, linestyle="--")
        ratio_axis(ax)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlabel("ratio (above 1: larger, faster, more), BH-adjusted interval")
        ax.legend(handles=_legend_handles(), loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.set_title("The book's claims against the data")
        return ax

    def to_markdown(self) -> str:
        """The verdicts, the full table and the narrative as a Markdown document."""
        verdicts = self.verdicts()
        table = self.table.copy()
        words = ("benchmark", "sign_stable", "sign_flips")
        numbers = ["estimate", "ci_low", "ci_high", "p_value", "p_adjusted"]
        for column in numbers + [c for c in ROBUSTNESS_COLUMNS if c not in words]:
            table[column] = table[column].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
        for column in words:
            table[column] = table[column].map(lambda v: "" if pd.isna(v) else str(v))
        table["n"] = table["n"].map(lambda v: "" if pd.isna(v) else str(v))
        return "\n\n".join(
            [
                "## Verdicts",
                _markdown_table(verdicts[["claim_id", "verdict", "basis", "note"]]),
                "## All comparisons",
                _markdown_table(table.drop(columns="claim")),
                "## In words",
                self.narrative(),
            ]
        )

    def _repr_html_(self) -> str:
        table = self.table.drop(columns="claim").to_html(
            index=False, float_format=lambda v: f"{v:.3g}", na_rep=""
        )
        verdicts = self.verdicts()[["claim_id", "claim", "verdict", "note"]].to_html(index=False)
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in self.narrative().split("\n\n")[:1])
        return f"<h4>Claims scorecard</h4>{paragraphs}{verdicts}{table}"


def _draw_rows(ax: Axes, rows: pd.DataFrame, y: Any, *, filled: bool) -> None:
    """Intervals and point estimates of some rows, coloured by verdict, at heights `y`."""
    colours = [VERDICT_COLOURS[v] for v in rows["verdict"]]
    low = rows["ci_low"].clip(*PLOT_LIMITS).to_numpy(dtype=float)
    high = rows["ci_high"].clip(*PLOT_LIMITS).to_numpy(dtype=float)
    ax.hlines(y, low, high, colors=colours, linewidth=1.6)
    ax.scatter(
        rows["estimate"].clip(*PLOT_LIMITS),
        y,
        c=colours if filled else "white",
        edgecolors=colours,
        marker="o",
        zorder=3,
    )


def _legend_handles() -> list[Line2D]:
    """One handle per verdict colour, then the naive (open) and controlled (filled) markers."""
    verdicts = [
        Line2D([], [], color=c, marker="o", linestyle="-", label=v)
        for v, c in VERDICT_COLOURS.items()
    ]
    naive = Line2D(
        [],
        [],
        color="#555555",
        marker="o",
        markerfacecolor="white",
        linestyle="none",
        label="naive",
    )
    controlled = Line2D([], [], color="#555555", marker="o", linestyle="none", label="controlled")
    return [*verdicts, naive, controlled]


def _markdown_table(frame: pd.DataFrame) -> str:
    def cell(value: Any) -> str:
        text = (
            "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)
        )
        return text.replace("|", "\\|").replace("\n", " ")

    head = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "|".join("---" for _ in frame.columns) + "|"
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _proxy_labels() -> dict[str, str]:
    """How the narrative names each proxy's deals: its label, or "each additional <unit>"."""
    return {
        name: proxy.label if proxy.is_flag else f"each additional {proxy.unit}"
        for name, proxy in PROXIES.items()
    }
