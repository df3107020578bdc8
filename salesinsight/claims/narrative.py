"""The scorecard in words: a verdict per claim and sentences written from the table's figures.

Every sentence is built from the numbers of a scorecard table, so different data give different
words; nothing here claims more than an association. :class:`~salesinsight.claims.scorecard.Scorecard`
calls :func:`claim_verdict` for its ``verdicts()`` and :func:`narrative_text` for its
``narrative()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from salesinsight.claims.registry import CONTROL_WORDS, OUTCOMES, PROXIES

__all__ = [
    "CAVEAT",
    "VERDICTS",
    "claim_verdict",
    "headline_rows",
    "listed",
    "narrative_text",
    "robustness_sentence",
]

VERDICTS = ("supported", "contradicted", "inconclusive", "not testable")
"""The verdicts a row or a claim can get, in the order the counts are reported."""

CAVEAT = (
    "These are associations in past deals, each proxy measured as of the deal's creation; they "
    "do not show that trust is the cause, and what the controls do not measure can still stand "
    "behind them."
)
"""The narrative's closing paragraph."""

# A change of estimate smaller than this ratio is "the same figure" in the sentences.
SAME_FIGURE = np.log(1.05)


def listed(words: Sequence[str]) -> str:
    """Words joined as a sentence lists them.

    Examples
    --------
    >>> listed(["a"]), listed(["a", "b"]), listed(["a", "b", "c"]), listed([])
    ('a', 'a and b', 'a, b and c', '')
    """
    return " and ".join([", ".join(words[:-1]), words[-1]]) if len(words) > 1 else "".join(words)


def _ratio(value: float) -> str:
    return f"{value:.2f}x" if 0.01 <= value < 100 else f"{value:.3g}x"


def _number(value: float) -> str:
    return f"{value:.2f}" if 0.01 <= value < 100 else f"{value:.3g}"


def claim_verdict(rows: pd.DataFrame) -> dict[str, Any]:
    """The overall verdict of one claim from its rows of a scorecard table.

    A claim is judged on its controlled rows (its naive rows when none was tested): supported
    when at least one row supports it and none contradicts it, contradicted in the mirror case,
    inconclusive when no row is significant or rows disagree, and not testable when no row
    could be tested.

    Parameters
    ----------
    rows : DataFrame
        The claim's rows: at least ``adjustment``, ``verdict`` and ``note``.

    Returns
    -------
    dict
        ``verdict``, ``basis`` (``controlled``, ``naive`` or ``none``), the row counts
        ``supported, contradicted, inconclusive, not_testable`` and a ``note`` that explains the
        verdict.

    Examples
    --------
    >>> rows = pd.DataFrame({
    ...     "adjustment": ["naive", "controlled"],
    ...     "verdict": ["supported", "inconclusive"],
    ...     "note": ["", ""],
    ... })
    >>> claim_verdict(rows)["note"]
    'None of the 1 controlled rows is significant after adjustment.'
    """
    tested = rows[rows["verdict"] != "not testable"]
    controlled = tested[tested["adjustment"] == "controlled"]
    naive = tested[tested["adjustment"] == "naive"]
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


def headline_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Per supported claim, the row its robustness is read from.

    Of the rows its verdict rests on (its controlled rows, or its naive rows where no controlled
    row was tested), the supporting row with the largest ``e_value_ci``: the claim's evidence
    that is hardest to explain away.

    Parameters
    ----------
    table : DataFrame
        Scorecard rows with ``claim_id, adjustment, verdict, e_value_ci``.

    Returns
    -------
    DataFrame
        One row per supported claim, in the table's order (its index kept).

    Examples
    --------
    >>> rows = pd.DataFrame({
    ...     "claim_id": ["K1", "K1", "K1", "K2"],
    ...     "adjustment": ["naive", "controlled", "controlled", "controlled"],
    ...     "verdict": ["supported", "supported", "supported", "inconclusive"],
    ...     "e_value_ci": [3.0, 1.2, 1.5, 1.0],
    ... })
    >>> headline_rows(rows).index.tolist()
    [2]
    """
    tested = table[table["verdict"] != "not testable"]
    has_controlled = tested.groupby("claim_id")["adjustment"].transform(
        lambda a: (a == "controlled").any()
    )
    basis = tested[(tested["adjustment"] == "controlled") | ~has_controlled.astype(bool)]
    supported = basis[basis["verdict"] == "supported"]
    best = supported.groupby("claim_id", sort=False)["e_value_ci"].idxmax()
    return table.loc[sorted(best)]


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
    toward_one = abs(adjusted) < abs(raw) - SAME_FIGURE
    moved = abs(raw - adjusted) > SAME_FIGURE
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


def robustness_sentence(row: pd.Series) -> str:
    """The sentence on how strong an unmeasured confounder would have to be, from a row's
    E-values, its strongest measured control and its stability over the years.

    Examples
    --------
    >>> row = pd.Series({
    ...     "proxy": "is_repeat_customer", "outcome": "amount", "e_value": 1.9,
    ...     "e_value_ci": 1.5, "benchmark": "log_employees", "benchmark_e_value": 1.4,
    ...     "sign_stable": True,
    ... })
    >>> print(robustness_sentence(row))
    An unmeasured confounder would have to be associated with both being a repeat customer and
    deal size by a risk ratio of 1.90 to explain this away (1.50 to bring its adjusted interval
    to no effect); account size, the strongest measured one, reaches 1.40; re-estimated per
    created year, the estimate keeps its direction in every year.
    """
    proxy, outcome = PROXIES[row["proxy"]], OUTCOMES[row["outcome"]]
    text = (
        f"An unmeasured confounder would have to be associated with both "
        f"{proxy.noun or proxy.column} and {outcome.noun or outcome.name} by a risk ratio of "
        f"{_number(row['e_value'])} to explain this away ({_number(row['e_value_ci'])} to bring "
        "its adjusted interval to no effect)"
    )
    benchmark = row.get("benchmark")
    if isinstance(benchmark, str):
        words = CONTROL_WORDS.get(benchmark, f"`{benchmark}`")
        strength = row["benchmark_e_value"]
        text += f"; {words}, the strongest measured one, reaches {_number(strength)}" + (
            ": a confounder as strong, left unmeasured, would be enough"
            if strength >= row["e_value"]
            else ""
        )
    stable = row.get("sign_stable")
    if stable is not None and not pd.isna(stable):
        text += (
            "; re-estimated per created year, the estimate keeps its direction in every year"
            if stable
            else "; re-estimated per created year, the estimate points the other way in "
            f"{row.get('sign_flips')}, so it may not hold over time"
        )
    return f"{text}."


def _claim_paragraph(claim_id: str, rows: pd.DataFrame, control_words: str) -> str:
    verdict = claim_verdict(rows)
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
    if verdict["verdict"] == "supported" and "e_value_ci" in rows.columns:
        parts.append(robustness_sentence(headline_rows(rows).iloc[0]))
    return " ".join(parts)


def _scope_paragraph(
    table: pd.DataFrame,
    *,
    alpha: float,
    controls: Sequence[str],
    missing_controls: Sequence[str],
    control_words: str,
) -> str:
    """What was tested, how the intervals were adjusted, and what the controls are."""
    tested = table["verdict"] != "not testable"
    text = (
        f"{int(tested.sum())} of {len(table)} comparisons could be tested. Intervals are widened "
        f"for the number of tests (Benjamini-Hochberg, false discovery rate {alpha:g}); a claim "
        "is supported only where its adjusted interval lies on the predicted side of no effect."
    )
    if controls:
        text += f" Controlled rows adjust for {control_words}" + (
            " (account-year rows for all but product)." if "product" in controls else "."
        )
    if missing_controls:
        pronoun = "it" if len(missing_controls) == 1 else "they"
        text += (
            f" The data lack {listed(list(missing_controls))}, so {pronoun} could not be "
            "adjusted for."
        )
    return text


def narrative_text(
    table: pd.DataFrame,
    *,
    alpha: float,
    controls: Sequence[str] = (),
    missing_controls: Sequence[str] = (),
    control_words: str = "",
    endings: Mapping[str, str] | None = None,
) -> str:
    """A paragraph per claim of a scorecard table, in business terms, between scope and caveat.

    Parameters
    ----------
    table : DataFrame
        A scorecard table (:data:`~salesinsight.claims.scorecard.TABLE_COLUMNS`).
    alpha : float
        The false discovery rate the verdicts were held to.
    controls, missing_controls : sequence of str
        The control columns used, and the automatic controls the data lack.
    control_words : str
        The controls in words ("account size, product and year").
    endings : mapping, optional
        ``{claim id: text}`` ending that claim's paragraph (K2's stage by stage).

    Returns
    -------
    str
        Paragraphs separated by blank lines: the scope, one per claim, the caveat
        (:data:`CAVEAT`).
    """
    scope = _scope_paragraph(
        table,
        alpha=alpha,
        controls=controls,
        missing_controls=missing_controls,
        control_words=control_words,
    )
    endings = endings or {}
    claims = [
        " ".join(
            part
            for part in (
                _claim_paragraph(str(claim_id), rows, control_words),
                endings.get(claim_id),
            )
            if part
        )
        for claim_id, rows in table.groupby("claim_id", sort=False)
    ]
    return "\n\n".join([scope, *claims, CAVEAT])
