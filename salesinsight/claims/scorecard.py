"""The scorecard a reader sees: verdicts per claim, a forest plot and sentences written from numbers.

:class:`Scorecard` holds the table :func:`salesinsight.claims.evaluate.evaluate_claims` computes and turns it
into words. Every sentence is built from the table's figures, so different data give different
words; nothing here claims more than an association.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from salesinsight.claims.registry import OUTCOMES, PROXIES
from salesinsight.plots import PALETTE, ratio_axis

__all__ = ["TABLE_COLUMNS", "VERDICTS", "VERDICT_COLUMNS", "Scorecard"]

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
VERDICTS = ("supported", "contradicted", "inconclusive", "not testable")
VERDICT_COLOURS = {
    "supported": PALETTE[2],
    "contradicted": PALETTE[3],
    "inconclusive": "#8c8c8c",
}
# Intervals this far from 1 are drawn to the edge of the plot rather than stretching its axis.
PLOT_LIMITS = (1e-2, 1e2)


def _ratio(value: float) -> str:
    return f"{value:.2f}x" if 0.01 <= value < 100 else f"{value:.3g}x"


def _number(value: float) -> str:
    return f"{value:.2f}" if 0.01 <= value < 100 else f"{value:.3g}"


def _listed(words: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


def _claim_verdict(rows: pd.DataFrame) -> dict[str, Any]:
    """The overall verdict of one claim from its controlled rows (naive when none was tested)."""
    controlled = rows[(rows["adjustment"] == "controlled") & (rows["verdict"] != "not testable")]
    naive = rows[(rows["adjustment"] == "naive") & (rows["verdict"] != "not testable")]
    basis_name, basis = ("controlled", controlled) if len(controlled) else ("naive", naive)
    if not len(basis):
        basis_name, basis = "none", rows
    counts = {v: int((basis["verdict"] == v).sum()) for v in VERDICTS}
    supported, contradicted = counts["supported"], counts["contradicted"]
    if basis_name == "none":
        verdict, note = "not testable", str(rows["note"].iloc[0])
    elif supported and not contradicted:
        verdict = "supported"
        note = f"{supported} of {len(basis)} {basis_name} rows support it, none contradicts it."
    elif contradicted and not supported:
        verdict = "contradicted"
        note = f"{contradicted} of {len(basis)} {basis_name} rows contradict it, none supports it."
    elif supported and contradicted:
        verdict = "inconclusive"
        note = (
            f"The {basis_name} rows disagree: {supported} support it and {contradicted} "
            "contradict it."
        )
    else:
        verdict = "inconclusive"
        note = f"None of the {len(basis)} {basis_name} rows is significant after adjustment."
    return {
        "verdict": verdict,
        "basis": basis_name,
        "supported": supported,
        "contradicted": contradicted,
        "inconclusive": counts["inconclusive"],
        "not_testable": int((rows["verdict"] == "not testable").sum()),
        "note": note,
    }


def _sentence(row: pd.Series) -> str:
    proxy = PROXIES[row["proxy"]]
    phrase = OUTCOMES[row["outcome"]].phrase.format(ratio=_ratio(row["estimate"]))
    who = (
        f"for {proxy.label} as for {proxy.contrast}"
        if proxy.is_flag
        else f"for each additional {proxy.unit}"
    )
    adjusted = "after controls" if row["adjustment"] == "controlled" else "without controls"
    return (
        f"{phrase[0].upper()}{phrase[1:]} {who} (adjusted 95% CI "
        f"{_number(row['ci_low'])}–{_number(row['ci_high'])}, {adjusted}, n = {row['n']}): "
        f"{row['verdict']}."
    )


def _comparison(naive: pd.Series, controlled: pd.Series, control_words: str) -> str:
    """A sentence on how the controls change the figure, when they change it."""
    raw, adjusted = np.log(naive["estimate"]), np.log(controlled["estimate"])
    toward_one = abs(adjusted) < abs(raw) - np.log(1.05)
    moved = abs(raw - adjusted) > np.log(1.05)
    if naive["verdict"] != controlled["verdict"]:
        why = (
            f"the controls shrink it, so part of the raw difference goes with {control_words} "
            "rather than with trust"
            if toward_one
            else "the two estimates are close and only their precision differs"
            if not moved
            else f"{control_words} move the estimate away from no effect"
        )
        return (
            f"Naive and controlled disagree: without controls the ratio is "
            f"{_ratio(naive['estimate'])} ({naive['verdict']}), after controls "
            f"{_ratio(controlled['estimate'])} ({controlled['verdict']}); {why}."
        )
    if moved:
        return f"Without controls it would read {_ratio(naive['estimate'])}."
    return ""


def _claim_paragraph(claim_id: str, rows: pd.DataFrame, control_words: str) -> str:
    verdict = _claim_verdict(rows)
    parts = [f"{claim_id}. {rows['claim'].iloc[0]}"]
    untested: dict[str, list[str]] = {}
    for (proxy, outcome), pair in rows.groupby(["proxy", "outcome"], sort=False):
        tested = pair[pair["verdict"] != "not testable"]
        if not len(tested):
            reason = str(pair.loc[pair["adjustment"] == "naive", "note"].iloc[0])
            untested.setdefault(reason, []).append(f"`{proxy}` on {outcome}")
            continue
        lead = tested[tested["adjustment"] == "controlled"]
        main = (lead if len(lead) else tested).iloc[0]
        parts.append(_sentence(main))
        if len(tested) == 2:
            naive = tested[tested["adjustment"] == "naive"].iloc[0]
            text = _comparison(naive, main, control_words)
            if text:
                parts.append(text)
    for reason, pairs in untested.items():
        parts.append(f"{', '.join(pairs)}: {reason}")
    if verdict["verdict"] == "not testable":
        parts.append("Verdict: not testable on this data.")
    else:
        parts.append(f"Verdict: {verdict['verdict']}; {verdict['note']}")
    return " ".join(parts)


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
        testable``), ``note`` (the model, the controls, every caveat, or what is missing).
    alpha : float
        The false discovery rate the verdicts are held to.
    controls : tuple of str
        The control columns of the controlled rows.
    missing_controls : tuple of str
        Automatic controls the data lack.
    control_words : str
        The controls in words, as the narrative names them.
    """

    table: pd.DataFrame
    alpha: float
    controls: tuple[str, ...]
    missing_controls: tuple[str, ...]
    control_words: str

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
        out = []
        for claim_id, rows in self.table.groupby("claim_id", sort=False):
            out.append(
                {"claim_id": claim_id, "claim": rows["claim"].iloc[0], **_claim_verdict(rows)}
            )
        return pd.DataFrame(out, columns=VERDICT_COLUMNS)

    def narrative(self) -> str:
        """A paragraph per claim, written from the scorecard's numbers in business terms."""
        tested = self.table["verdict"] != "not testable"
        lines = [
            f"{int(tested.sum())} of {len(self.table)} comparisons could be tested. Intervals are "
            f"widened for the number of tests (Benjamini-Hochberg, false discovery rate "
            f"{self.alpha:g}); a claim is supported only where its adjusted interval lies on the "
            "predicted side of no effect."
        ]
        if self.controls:
            lines[0] += f" Controlled rows adjust for {self.control_words}" + (
                " (account-year rows for all but product)." if "product" in self.controls else "."
            )
        if self.missing_controls:
            missing = list(self.missing_controls)
            pronoun = "it" if len(missing) == 1 else "they"
            lines[0] += (
                f" The data lack {_listed(missing)}, so {pronoun} could not be adjusted for."
            )
        for claim_id, rows in self.table.groupby("claim_id", sort=False):
            lines.append(_claim_paragraph(str(claim_id), rows, self.control_words))
        lines.append(
            "These are associations in past deals, each proxy measured as of the deal's "
            "creation; they do not show that trust is the cause, and what the controls do not "
            "measure can still stand behind them."
        )
        return "\n\n".join(lines)

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
        labels = list(
            dict.fromkeys(rows["claim_id"] + " " + rows["proxy"] + " · " + rows["outcome"])
        )
        position = {name: i for i, name in enumerate(labels)}
        for adjustment, offset in (("naive", -0.17), ("controlled", 0.17)):
            part = rows[rows["adjustment"] == adjustment]
            if not len(part):
                continue
            y = [
                position[f"{c} {p} · {o}"] + offset
                for c, p, o in zip(part["claim_id"], part["proxy"], part["outcome"], strict=True)
            ]
            colours = [VERDICT_COLOURS[v] for v in part["verdict"]]
            low = part["ci_low"].clip(*PLOT_LIMITS).to_numpy(dtype=float)
            high = part["ci_high"].clip(*PLOT_LIMITS).to_numpy(dtype=float)
            ax.hlines(y, low, high, colors=colours, linewidth=1.6)
            ax.scatter(
                part["estimate"].clip(*PLOT_LIMITS),
                y,
                c=colours if adjustment == "controlled" else "white",
                edgecolors=colours,
                marker="o",
                zorder=3,
            )
        ax.axvline(1.0, color="#555555", linewidth=0.9, linestyle="--")
        ratio_axis(ax)
        ax.set_yticks(range(len(labels)), labels)
        ax.set_ylim(len(labels) - 0.5, -0.5)
        ax.set_xlabel("ratio (above 1: larger, faster, more), BH-adjusted interval")
        handles = [
            Line2D([], [], color=c, marker="o", linestyle="-", label=v)
            for v, c in VERDICT_COLOURS.items()
        ] + [
            Line2D(
                [],
                [],
                color="#555555",
                marker="o",
                markerfacecolor="white",
                linestyle="none",
                label="naive",
            ),
            Line2D([], [], color="#555555", marker="o", linestyle="none", label="controlled"),
        ]
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.set_title("The book's claims against the data")
        return ax

    def to_markdown(self) -> str:
        """The verdicts, the full table and the narrative as a Markdown document."""
        verdicts = self.verdicts()
        table = self.table.copy()
        for column in ("estimate", "ci_low", "ci_high", "p_value", "p_adjusted"):
            table[column] = table[column].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
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
