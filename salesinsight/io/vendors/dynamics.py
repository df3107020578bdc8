"""Microsoft Dynamics 365: Excel exports of opportunities.

The sheet starts with hidden ``(Do Not Modify)`` columns; the first holds the opportunity's GUID,
used as ``deal_id``. ``Status`` (Open / Won / Lost) decides; ``Actual Revenue`` is the value of a
won deal, ``Est. revenue`` otherwise. Dates may be Excel serial numbers and money may be text.
"""

from __future__ import annotations

from salesinsight.io.formats import TableFormat

__all__ = ["FORMATS", "STATUSES"]

STATUSES = {"open": "open", "won": "won", "lost": "lost"}

OPPORTUNITIES = TableFormat(
    crm="dynamics",
    role="deals",
    label="Dynamics 365 opportunities export",
    headers={
        "(Do Not Modify) Opportunity": "deal_id",
        "Topic": "deal_name",
        "Potential Customer": "account",
        "Account": "account",
        "Owner": "owner",
        "Created On": "created_at",
        "Est. close date": "close_date",
        "Actual Close Date": "closed_at",
        "Est. revenue": "amount",
        "Actual Revenue": "actual_amount",
        "Currency": "currency",
        "Status": "status",
        "Probability": "probability",
        "Lead Source": "lead_source",
        "Source Campaign": "lead_source",
        "Industry": "industry",
    },
    signature=("(Do Not Modify) Opportunity", "Topic", "Est. close date", "Est. revenue", "Status"),
    statuses=STATUSES,
)

FORMATS = (OPPORTUNITIES,)
