"""Why parts of a scorecard could not be tested, in words a command line or a page can show.

A comparison is ``not testable`` when the data lack what it needs; most often an export field is
missing altogether (no close dates, no amounts), because the export left it out or named it so
that it was not recognised. :func:`export_gaps` finds those fields, :func:`untestable_reasons`
gives each not-testable row a short reason, and :func:`gap_lines` the closing sentences that name
the missing field and the option that maps it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from salesinsight.claims.narrative import listed
from salesinsight.claims.scorecard import Scorecard
from salesinsight.export import Export
from salesinsight.io.detect import FIELD_WORDS, closest_header
from salesinsight.io.formats import header_key, snake_case

__all__ = [
    "NEEDS",
    "SOURCE_FIELDS",
    "Gap",
    "export_gaps",
    "gap_lines",
    "suggestion_notes",
    "untestable_reasons",
    "with_suggestions",
]

SOURCE_FIELDS: dict[str, tuple[str, str]] = {
    "close_date": ("closed_at", "close dates of won and lost deals"),
    "created_at": ("created_at", "creation dates"),
    "amount": ("amount", "amounts"),
    "lead_source": ("lead_source", "lead sources"),
    "product": ("product", "products"),
    "list_price": ("list_price", "list prices"),
    "owner": ("owner", "deal owners"),
    "account": ("account_id", "accounts"),
    "loss_reason": ("loss_reason", "loss reasons"),
    "employees": ("employees", "account sizes (head counts)"),
}
"""Export fields the proxies and outcomes come from: ``{field: (deals column, in words)}``."""

_HISTORY = ("account", "created_at", "close_date")
NEEDS: dict[str, tuple[str, ...]] = {
    "is_repeat_customer": _HISTORY,
    "prior_won_deals": _HISTORY,
    "relationship_days": ("account", "created_at"),
    "same_owner_as_last": ("account", "owner", "created_at"),
    "is_referral": ("lead_source",),
    "rep_initiated": ("lead_source",),
    "owner_prior_deals": ("owner", "created_at"),
    "amount": ("amount",),
    "won": (),
    "time_to_close": ("created_at", "close_date"),
    "time_to_win": ("created_at", "close_date"),
    "proactive_opportunities": _HISTORY,
    "proactive_deal": ("lead_source",),
    "opportunities": _HISTORY,
    "won_revenue": (*_HISTORY, "amount"),
    "price_realisation": ("amount", "list_price"),
    "quote_realisation": ("amount",),
    "lost_on_price": ("loss_reason",),
    "is_new_product_for_account": ("product",),
}
"""The export fields each proxy and outcome of the scorecard is derived from."""


@dataclass(frozen=True)
class Gap:
    """An export field the deals lack: its name, in words, and the header that may hold it."""

    field: str
    words: str
    header: str | None


def export_gaps(deals: pd.DataFrame, unmapped: Sequence[str] = ()) -> dict[str, Gap]:
    """The export fields of :data:`SOURCE_FIELDS` that the deals lack altogether.

    Close dates count as missing when no won or lost deal has one.

    Parameters
    ----------
    deals : DataFrame
        Canonical deals.
    unmapped : sequence of str
        The export's headers that no field was read from, to name the likeliest one.

    Examples
    --------
    >>> deals = pd.DataFrame({"status": ["won"], "closed_at": [pd.NaT], "amount": [1.0],
    ...                       "created_at": [pd.Timestamp("2024-01-01")]})
    >>> gaps = export_gaps(deals, ["Closing Day", "Region"])
    >>> gaps["close_date"].header, sorted(gaps)
    ('Closing Day', ['account', 'close_date', 'employees', 'lead_source', 'list_price', 'loss_reason', 'owner', 'product'])
    """
    gaps = {}
    for field, (column, words) in SOURCE_FIELDS.items():
        if field == "employees" and "annual_revenue" in deals:
            continue
        values = deals[column] if column in deals else None
        if values is not None and field == "close_date" and "status" in deals:
            values = values[deals["status"].isin(["won", "lost"]).to_numpy()]
            if not len(values):
                continue
        if values is None or not values.notna().any():
            gaps[field] = Gap(field, words, _look_alike(deals, field, unmapped))
    return gaps


#: Fields whose values are numbers; the others hold text.
_NUMERIC = ("amount", "list_price", "employees")


def _look_alike(deals: pd.DataFrame, field: str, unmapped: Sequence[str]) -> str | None:
    """The unmapped header likeliest to hold `field`: its name has a word typical of the field
    (:data:`salesinsight.io.detect.FIELD_WORDS`) and, where the deals keep it, its values are
    of the field's kind (numbers or text)."""
    words = FIELD_WORDS.get(field, (field.replace("_", " "),))
    named = [h for h in unmapped if any(w in header_key(h) for w in words)]
    fitting = [h for h in named if _values_fit(deals, snake_case(h), field)]
    return closest_header(field, field.replace("_", " "), fitting) if fitting else None


def _values_fit(deals: pd.DataFrame, column: str, field: str) -> bool:
    if column not in deals.columns:
        return True
    values = deals[column].dropna().astype(str).str.strip()
    values = values[values != ""]
    if values.empty:
        return False
    numbers = pd.to_numeric(values.str.replace(r"[$€£,\s]", "", regex=True), errors="coerce")
    share = float(numbers.notna().mean())
    return share >= 0.8 if field in _NUMERIC else share < 0.5


def untestable_reasons(table: pd.DataFrame, gaps: Mapping[str, Gap]) -> pd.Series:
    """A short reason for each ``not testable`` row of a scorecard table, empty for the others.

    The reason names the first missing export field the row needs, else the start of its note.

    Examples
    --------
    >>> table = pd.DataFrame({"proxy": ["is_referral", "is_referral"],
    ...                       "outcome": ["time_to_close", "amount"],
    ...                       "verdict": ["not testable", "supported"], "note": ["", ""]})
    >>> gap = Gap("close_date", "close dates of won and lost deals", None)
    >>> untestable_reasons(table, {"close_date": gap}).tolist()
    ['no close dates of won and lost deals', '']
    """
    reasons = []
    for row in table.itertuples(index=False):
        if row.verdict != "not testable":
            reasons.append("")
            continue
        needs = [*NEEDS.get(row.proxy, ()), *NEEDS.get(row.outcome, ())]
        missing = next((gaps[f] for f in needs if f in gaps), None)
        reasons.append(f"no {missing.words}" if missing else _short(str(row.note)))
    return pd.Series(reasons, index=table.index, dtype=object)


def _short(note: str, width: int = 48) -> str:
    text = note.removeprefix("Not testable: ").removeprefix("Not testable with controls: ")
    first = text.split(". ")[0].rstrip(".")
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


def gap_lines(table: pd.DataFrame, gaps: Mapping[str, Gap]) -> list[str]:
    """One sentence per missing field that left comparisons untested, with the option to map it.

    Examples
    --------
    >>> table = pd.DataFrame({"claim_id": ["K2", "K3"], "proxy": ["is_referral"] * 2,
    ...                       "outcome": ["time_to_close", "time_to_win"],
    ...                       "verdict": ["not testable"] * 2, "note": ["", ""]})
    >>> gap = Gap("close_date", "close dates of won and lost deals", "Closing Day")
    >>> print(gap_lines(table, {"close_date": gap})[0])
    K2 and K3 could not be tested (wholly or in part): the export has no close dates of won and lost deals (field `close_date`). If `Closing Day` holds them, map it with --columns 'Closing Day=close_date' (columns={'Closing Day': 'close_date'} in Python).
    """
    untested = table[table["verdict"] == "not testable"]
    lines = []
    for field, gap in gaps.items():
        hit = [
            row.claim_id
            for row in untested.itertuples(index=False)
            if field in (*NEEDS.get(row.proxy, ()), *NEEDS.get(row.outcome, ()))
        ]
        if not hit:
            continue
        claims = listed(list(dict.fromkeys(hit)))
        header = gap.header or "HEADER"
        where = f"If `{gap.header}` holds them" if gap.header else "If a column holds them"
        lines.append(
            f"{claims} could not be tested (wholly or in part): the export has no {gap.words} "
            f"(field `{field}`). {where}, map it with --columns '{header}={field}' "
            f"(columns={{{header!r}: {field!r}}} in Python)."
        )
    size = gaps.get("employees")
    if size is not None and size.header:
        lines.append(
            f"Account size is not controlled for: the export has no head count. `{size.header}` "
            "looks like a count of people; if it measures account size, map it with --columns "
            f"'{size.header}=employees' (columns={{{size.header!r}: 'employees'}} in Python)."
        )
    return lines


def suggestion_notes(table: pd.DataFrame, export: Export) -> pd.Series:
    """What would make each ``not testable`` row of a scorecard table testable (empty for the
    others): the export field it lacks, the export's unmapped header that looks like it and the
    ``--columns`` line mapping it, else what the data would need.

    Examples
    --------
    >>> from salesinsight.datasets import load_sample
    >>> export = load_sample()
    >>> table = pd.DataFrame({"proxy": ["is_referral"], "outcome": ["lost_on_price"],
    ...                       "verdict": ["not testable"], "note": [""]})
    >>> print(suggestion_notes(table, export).iloc[0])
    The export has no loss reasons (field `loss_reason`); a column holding them would make it testable: --columns 'HEADER=loss_reason' (columns={'HEADER': 'loss_reason'} in Python).
    """
    gaps = export_gaps(export.deals, _unmapped(export))
    notes = []
    for row in table.itertuples(index=False):
        if row.verdict != "not testable":
            notes.append("")
            continue
        needs = [*NEEDS.get(row.proxy, ()), *NEEDS.get(row.outcome, ())]
        gap = next((gaps[f] for f in needs if f in gaps), None)
        notes.append(_suggestion(gap) if gap else _data_suggestion(str(row.note)))
    return pd.Series(notes, index=table.index, dtype=object)


def _unmapped(export: Export) -> list[str]:
    files = export.files
    deals_files = files.loc[files["role"] == "deals", "file"] if len(files) else []
    return [h for name in deals_files for h in export.unmapped.get(name, ())]


def _suggestion(gap: Gap) -> str:
    header = gap.header or "HEADER"
    mapping = f"--columns '{header}={gap.field}' (columns={{{header!r}: {gap.field!r}}} in Python)"
    if gap.header:
        return (
            f"The export has no {gap.words} (field `{gap.field}`); `{gap.header}` looks like it: "
            f"if it holds them, mapping it would make it testable: {mapping}."
        )
    return (
        f"The export has no {gap.words} (field `{gap.field}`); a column holding them would "
        f"make it testable: {mapping}."
    )


def _data_suggestion(note: str) -> str:
    """For a row the fields allow but the data do not: more deals of the kind it compares."""
    text = _short(note, width=200)
    return (
        f"Its fields are all there, but {text[0].lower() + text[1:] if text else 'the fit failed'}; "
        "more deals of the kinds it compares (or a longer history) would make it testable."
    )


def with_suggestions(scorecard: Scorecard, export: Export) -> Scorecard:
    """`scorecard` with each ``not testable`` row's note ending in what would make it testable
    (:func:`suggestion_notes`); the other rows unchanged."""
    table = scorecard.table.copy()
    extra = suggestion_notes(table, export)
    has = extra != ""
    table.loc[has, "note"] = (table.loc[has, "note"].astype(str) + " " + extra[has]).str.strip()
    return dataclasses.replace(scorecard, table=table)
