"""Categories of the cleaned tables: labels as exported mapped onto small fixed vocabularies.

Lead sources become the groups of :data:`salesinsight.schemas.LEAD_SOURCE_GROUPS` (picklist
values and free-text campaign names alike, by the word rules of :data:`LEAD_RULES`, which a
``source_groups`` map overrides), deal types those of :data:`salesinsight.schemas.DEAL_TYPES`,
loss reasons a flag of losing on price (:data:`PRICE_WORDS`), activity types those of
:data:`salesinsight.schemas.ACTIVITY_TYPES`, and a stage the status it stands for (rule 6 of
:mod:`salesinsight.clean`). Misspelt category values are read as the common value they are a
typo of, with a ledger row (:func:`repair_typos`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.clean.ids import Ids
from salesinsight.clean.ledger import empty_ledger, ledger_frame
from salesinsight.io.arrow import TEXT, as_array, take_rows
from salesinsight.io.formats import header_key
from salesinsight.io.raw import RawTable

__all__ = [
    "CATEGORIES",
    "LEAD_RULES",
    "PRICE_WORDS",
    "activity_type_of",
    "deal_type_of",
    "lead_source_group_of",
    "lost_on_price_of",
    "repair_typos",
    "status_of_stage",
]

#: Deal columns whose misspelt values are repaired, in the order their ledger rows come.
CATEGORIES = ("lead_source", "industry", "segment", "product")

#: The word rules, tried in this order on the case-folded label (underscores read as spaces);
#: the first group whose pattern is found wins, a label matching none is ``other`` and an empty
#: one ``unknown``. Webinars count as events, as trade shows do: a scheduled session the seller
#: runs, whose attendees become leads.
LEAD_RULES = (
    ("referral", r"referr|word of mouth|recommend"),
    (
        "existing_customer",
        r"existing|customer|upsell|up-sell|cross.?sell|renewal|check.?in|account manag|install",
    ),
    ("partner", r"partner|reseller|channel|alliance|\bvar\b|distributor"),
    ("event", r"event|trade ?show|conference|webinar|seminar|expo\b|meetup|booth"),
    (
        "outbound",
        r"outbound|cold|prospect|sales ?generated|self.?generated|\bsdr\b|\bbdr\b|outreach"
        r"|purchased list|list import|employee|rep ",
    ),
    (
        "inbound",
        r"inbound|web|site|organic|search|seo|sem|ppc|ads?\b|advert|direct|social|email marketing"
        r"|marketing|content|chat|inquir|enquir|contact|\bforms?\b|demo|trial|download",
    ),
)
#: Words of a loss reason that say the deal was lost on price.
PRICE_WORDS = r"pric|cost|budget|expensiv|cheap|discount|afford"

_TYPE_RULES = (
    ("call", r"call|phone|dial"),
    ("email", r"e-?mail|\bmail\b|inmail"),
    ("meeting", r"meeting|event|demo|appointment|visit|presentation|lunch|conference"),
    ("task", r"task|to-?do|follow"),
)


def lead_source_group_of(source: str | None, overrides: Mapping[str, str] | None = None) -> str:
    """Map a lead source label onto the fixed groups of :data:`salesinsight.schemas.LEAD_SOURCE_GROUPS`.

    `overrides` (``{header_key(label): group}``) decides before the word rules of
    :data:`LEAD_RULES`.

    Examples
    --------
    >>> [lead_source_group_of(s) for s in ["Partner Referral", "Web", "Cold Call", "Trade Show",
    ...                                    "ORGANIC_SEARCH", "Other", None]]
    ['referral', 'inbound', 'outbound', 'event', 'inbound', 'other', 'unknown']
    >>> [lead_source_group_of(s) for s in ["BDR Outreach", "Check-in Call", "OA-GoogleAds-Q3",
    ...                                    "TS-National ALA Booth Visitors 2024"]]
    ['outbound', 'existing_customer', 'inbound', 'event']
    >>> lead_source_group_of("Spring Gala", {"spring gala": "event"})
    'event'
    """
    if source is None or not source.strip():
        return "unknown"
    if overrides and header_key(source) in overrides:
        return overrides[header_key(source)]
    text = source.replace("_", " ").casefold()
    for group, pattern in LEAD_RULES:
        if re.search(pattern, text):
            return group
    return "other"


_DEAL_TYPE_RULES = (
    ("cross_sell", r"cross"),
    ("upsell", r"up-?sell|upgrade|expansion|expand|add-?on|seat"),
    ("renewal", r"renew"),
    ("existing_business", r"existing"),
    ("new_business", r"\bnew\b|newbusiness|new logo|first"),
)


def deal_type_of(kind: str | None) -> str:
    """Map a deal type label onto ``new_business``, ``upsell``, ``cross_sell``, ``renewal``,
    ``existing_business`` (an existing customer's deal of no finer type) or ``unknown``.

    Examples
    --------
    >>> [deal_type_of(s) for s in ["New Business", "newbusiness", "Upsell", "Cross-Sell",
    ...                            "Renewal", "Expansion", "Add-on", "Existing Business", None]]
    ['new_business', 'new_business', 'upsell', 'cross_sell', 'renewal', 'upsell', 'upsell', 'existing_business', 'unknown']
    """
    if kind is None:
        return "unknown"
    text = kind.replace("_", " ").casefold()
    for name, pattern in _DEAL_TYPE_RULES:
        if re.search(pattern, text):
            return name
    return "unknown"


def lost_on_price_of(reason: str | None) -> bool | None:
    """Whether a loss reason says the deal was lost on price (:data:`PRICE_WORDS`); None
    without a reason.

    Examples
    --------
    >>> [lost_on_price_of(r) for r in ["Price", "No Budget", "Went with cheaper vendor",
    ...                                "Lost to Competitor", "", None]]
    [True, True, True, False, None, None]
    """
    if reason is None or not reason.strip():
        return None
    return re.search(PRICE_WORDS, reason.casefold()) is not None


def activity_type_of(kind: str | None) -> str | None:
    """Map an activity type label onto call, email, meeting, task or other.

    Examples
    --------
    >>> [activity_type_of(k) for k in ["Call", "EMAIL", "Meeting", "To-do", "Note", None]]
    ['call', 'email', 'meeting', 'task', 'other', None]
    """
    if kind is None or not kind.strip():
        return None
    text = kind.replace("_", " ").casefold()
    for name, pattern in _TYPE_RULES:
        if re.search(pattern, text):
            return name
    return "other"


def status_of_stage(stage: str | None, known: Mapping[str, str]) -> str | None:
    """The status a stage stands for: from `known` (``{header_key(stage): status}``), else
    ``won`` / ``lost`` for names that say so, else ``None``.

    Examples
    --------
    >>> [status_of_stage(s, {"negotiation": "open"}) for s in
    ...  ["Closed Won", "Closed - Lost", "Negotiation", "Qualification", None]]
    ['won', 'lost', 'open', None, None]
    """
    if stage is None:
        return None
    key = header_key(stage)
    if key in known:
        return known[key]
    if re.search(r"\bwon\b|closedwon|closed.?won|\bsigned\b", key):
        return "won"
    if re.search(r"\blost\b|closedlost|closed.?lost|disqualified|dead", key):
        return "lost"
    return None


def repair_typos(
    values: pa.Array | pa.ChunkedArray, column: str, raw: RawTable, ids: Ids
) -> tuple[pa.Array | pa.ChunkedArray, pd.DataFrame]:
    """Repair misspelt categories: a value seen at most twice that is a close spelling (difflib
    ratio >= 0.85, or the same letters swapped) of a value seen at least five times as often (and
    at least three times) is read as that value, with a ledger row.

    Returns the repaired values and the ledger rows of the repairs.
    """
    whole = as_array(values)
    repairs = _typos(whole)
    if not repairs:
        return values, empty_ledger()
    keys = pa.array(list(repairs), TEXT)
    pos = pc.index_in(whole.cast(TEXT), value_set=keys)
    rows = np.flatnonzero(np.asarray(pc.fill_null(pc.is_valid(pos), False)))
    before = take_rows(whole, rows).to_pylist()
    ledger = ledger_frame(
        raw.name,
        raw.source_row[rows],
        action="fixed",
        reason=[f"misspelt category, read as `{repairs[v]}`" for v in before],
        code="category_typo",
        column=column,
        value=before,
        deal_id=ids[rows],
    )
    fixed = pc.take(pa.array(list(repairs.values()), TEXT), pos)
    return pc.coalesce(fixed, whole.cast(TEXT)), ledger


def _typos(values: pa.Array) -> dict[str, str]:
    """``{misspelt value: the common value it is read as}`` (see :func:`repair_typos`)."""
    counts = pc.value_counts(values.drop_null())
    labels = counts.field("values").to_pylist()
    freq = dict(zip(labels, counts.field("counts").to_pylist(), strict=True))
    common = [v for v, c in freq.items() if c >= 3]
    repairs = {}
    for value, count in freq.items():
        if count > 2:
            continue
        targets = [v for v in common if freq[v] >= 5 * count and v.casefold() != value.casefold()]
        match = difflib.get_close_matches(value, targets, n=1, cutoff=0.85) or [
            t for t in targets if sorted(t.casefold()) == sorted(value.casefold())
        ]
        if len(match) >= 1:
            repairs[value] = match[0]
    return repairs
