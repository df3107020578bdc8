"""Microsoft Dynamics 365: Excel exports of opportunities and of activities.

The sheet starts with hidden ``(Do Not Modify)`` columns; the first holds the opportunity's GUID,
used as ``deal_id``. ``Status`` (Open / Won / Lost) decides; ``Actual Revenue`` is the value of a
won deal, ``Est. revenue`` otherwise. Dates may be Excel serial numbers and money may be text.
An activities view (``(Do Not Modify) Activity``, ``Subject``, ``Regarding``, ``Activity Type``:
Phone Call, Email, Appointment, Task) links each activity to the opportunity it is regarding, by
its topic.
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
        "Status Reason": "loss_reason",
        "Industry": "industry",
        "Number of Employees": "employees",
        "Annual Revenue": "annual_revenue",
    },
    signature=("(Do Not Modify) Opportunity", "Topic", "Est. close date", "Est. revenue", "Status"),
    statuses=STATUSES,
)

ACTIVITIES = TableFormat(
    crm="dynamics",
    role="activities",
    label="Dynamics 365 activities export",
    headers={
        "(Do Not Modify) Activity": "activity_id",
        "Subject": "subject",
        "Activity Type": "type",
        "Regarding": "deal_name",
        "Owner": "owner",
        "Actual End": "occurred_at",
        "Start Date": "occurred_at",
        "Due Date": "occurred_at",
        "Created On": "occurred_at",
        "Contact": "contact",
        "Account": "account",
    },
    signature=("(Do Not Modify) Activity", "Subject", "Regarding", "Activity Type"),
)

FORMATS = (OPPORTUNITIES, ACTIVITIES)
