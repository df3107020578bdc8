"""Why parts of a scorecard could not be tested, in words a command line or a page can show.

A comparison is ``not testable`` when the data lack what it needs; most often an export field is
missing altogether (no close dates, no amounts), because the export left it out or named it so
that it was not recognised. :func:`export_gaps` finds those fields, :func:`untestable_reasons`
gives each not-testable row a short reason, and :func:`gap_lines` the closing sentences that name
the missing field and the option that maps it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from salesinsight.claims.narrative import listed
from salesinsight.io.detect import closest_header

__all__ = ["NEEDS", "SOURCE_FIELDS", "Gap", "export_gaps", "gap_lines", "untestable_reasons"]

SOURCE_FIELDS: dict[str, tuple[str, str]] = {
    "close_date": ("closed_at", "close dates of won and lost deals"),
    "created_at": ("created_at", "creation dates"),
    "amount": ("amount", "amounts"),
    "lead_source": ("lead_source", "lead sources"),
    "product": ("product", "products"),
    "list_price": ("list_price", "list prices"),
    "owner": ("owner", "deal owners"),
    "account": ("account_id", "accounts"),
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
    ('Closing Day', ['account', 'close_date', 'lead_source', 'list_price', 'owner', 'product'])
    """
    gaps = {}
    for field, (column, words) in SOURCE_FIELDS.items():
        values = deals[column] if column in deals else None
        if values is not None and field == "close_date" and "status" in deals:
            values = values[deals["status"].isin(["won", "lost"]).to_numpy()]
            if not len(values):
                continue
        if values is None or not values.notna().any():
            header = closest_header(field, field.replace("_", " "), list(unmapped))
            gaps[field] = Gap(field, words, header)
    return gaps


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
    return lines
