"""Stage-history exports: the header layouts of each vendor's record of how deals moved.

Two shapes exist. *Long* exports have one row per change: Salesforce's ``OpportunityHistory``
object (API names, as the Data Loader writes them), its "Opportunity History" report (labels),
``OpportunityFieldHistory`` (one row per changed field: ``Field``, ``OldValue``, ``NewValue``)
and Zoho's Stage History related list. *Wide* exports carry the history in the deals export
itself: HubSpot writes ``Date entered "<stage> (<pipeline>)"`` and ``Date exited "<stage>
(<pipeline>)"`` columns (API names ``hs_date_entered_<stage id>``, ``hs_date_exited_<stage id>``).

Each layout maps headers onto the raw history fields: ``history_id, deal_id, stage, entered_at,
exited_at, amount, prev_amount, probability, is_deleted, field, old_value, new_value``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from salesinsight.io.formats import header_key

__all__ = ["HISTORY_LAYOUTS", "HistoryLayout", "WideColumn", "history_layout", "wide_columns"]


@dataclass(frozen=True)
class HistoryLayout:
    """One vendor's long stage-history layout: ``headers`` maps export headers onto raw
    history fields; ``signature`` headers must all be present for the layout to match."""

    crm: str
    label: str
    headers: dict[str, str]
    signature: tuple[str, ...]
    field_rows: bool = False
    keys: dict[str, str] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.keys.update({header_key(h): f for h, f in self.headers.items()})


SALESFORCE_API = HistoryLayout(
    crm="salesforce",
    label="Salesforce OpportunityHistory (API / Data Loader)",
    headers={
        "Id": "history_id",
        "OpportunityId": "deal_id",
        "CreatedDate": "entered_at",
        "StageName": "stage",
        "Amount": "amount",
        "PrevAmount": "prev_amount",
        "Probability": "probability",
        "IsDeleted": "is_deleted",
    },
    signature=("OpportunityId", "StageName", "CreatedDate"),
)
SALESFORCE_REPORT = HistoryLayout(
    crm="salesforce",
    label='Salesforce "Opportunity History" report',
    headers={
        "Opportunity ID": "deal_id",
        "Opportunity ID (18)": "deal_id",
        "Opportunity Name": "deal_name",
        "To Stage": "stage",
        "Stage": "stage",
        "Edit Date": "entered_at",
        "Last Modified": "entered_at",
        "Last Modified Date": "entered_at",
        "Amount": "amount",
        "Previous Amount": "prev_amount",
        "Probability (%)": "probability",
        "Deleted": "is_deleted",
    },
    signature=("To Stage",),
)
SALESFORCE_FIELD_HISTORY = HistoryLayout(
    crm="salesforce",
    label="Salesforce OpportunityFieldHistory",
    headers={
        "Id": "history_id",
        "OpportunityId": "deal_id",
        "CreatedDate": "entered_at",
        "Field": "field",
        "OldValue": "old_value",
        "NewValue": "new_value",
        "IsDeleted": "is_deleted",
    },
    signature=("OpportunityId", "Field", "NewValue"),
    field_rows=True,
)
ZOHO_STAGE_HISTORY = HistoryLayout(
    crm="zoho",
    label="Zoho CRM Stage History",
    headers={
        "Record Id": "history_id",
        "Deal Id": "deal_id",
        "Potential Id": "deal_id",
        "POTENTIALID": "deal_id",
        "Deal Name": "deal_name",
        "Stage": "stage",
        "Amount": "amount",
        "Probability (%)": "probability",
        "Expected Revenue": "expected_revenue",
        "Closing Date": "close_date",
        "Modified Time": "entered_at",
        "Last Modified Time": "entered_at",
        "Modified By": "modified_by",
        "Stage Duration (Calendar Days)": "duration_days",
        "Duration (Days)": "duration_days",
    },
    signature=("Stage", "Modified Time"),
)
HISTORY_LAYOUTS = (SALESFORCE_FIELD_HISTORY, SALESFORCE_API, SALESFORCE_REPORT, ZOHO_STAGE_HISTORY)
"""The long layouts, most specific first."""


def history_layout(headers: list[str], crm: str = "auto") -> HistoryLayout | None:
    """The long layout whose signature headers are all present, or None.

    Examples
    --------
    >>> history_layout(["Id", "OpportunityId", "CreatedDate", "StageName", "Amount"]).label
    'Salesforce OpportunityHistory (API / Data Loader)'
    >>> history_layout(["Deal Name", "Amount"]) is None
    True
    """
    keys = {header_key(h) for h in headers}
    for layout in HISTORY_LAYOUTS:
        if crm not in ("auto", layout.crm):
            continue
        if all(header_key(h) in keys for h in layout.signature):
            return layout
    return None


@dataclass(frozen=True)
class WideColumn:
    """A HubSpot ``Date entered`` / ``Date exited`` column: which stage, which edge."""

    header: str
    stage: str
    pipeline: str | None
    edge: str


_WIDE_LABEL = re.compile(
    r'^date (entered|exited) "(?P<stage>.+?)(?: \((?P<pipe>[^()]*)\))?"$', re.I
)
_WIDE_API = re.compile(r"^hs_date_(entered|exited)_(?P<stage>[A-Za-z0-9_]+)$")


def wide_columns(headers: list[str]) -> list[WideColumn]:
    """HubSpot's per-stage date columns among `headers`, in their order.

    Examples
    --------
    >>> cols = wide_columns(['Record ID', 'Date entered "Qualified (Sales Pipeline)"',
    ...                      "hs_date_exited_closedwon"])
    >>> [(c.stage, c.pipeline, c.edge) for c in cols]
    [('Qualified', 'Sales Pipeline', 'entered'), ('closedwon', None, 'exited')]
    """
    out = []
    for header in headers:
        text = header.strip()
        found = _WIDE_LABEL.match(text) or _WIDE_API.match(text)
        if found is None:
            continue
        edge = found.group(1).lower()
        pipeline = found.groupdict().get("pipe")
        out.append(WideColumn(header, found.group("stage").strip(), pipeline, edge))
    return out
