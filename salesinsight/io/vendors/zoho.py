"""Zoho CRM: Deals (formerly Potentials), Calls and Accounts exports.

Money comes as ``"$22,700.00"`` and dates as ``"15 Apr, 2021 00:02:00"``; reports without a
``Record Id`` get derived deal ids. A calls export holds calls only: ``Call Type`` is the
direction (inbound / outbound), not the kind of activity.
"""

from __future__ import annotations

from salesinsight.io.formats import TableFormat

__all__ = ["FORMATS", "STAGES"]

STAGES = {
    "Qualification": "open",
    "Needs Analysis": "open",
    "Value Proposition": "open",
    "Identify Decision Makers": "open",
    "Id. Decision Makers": "open",
    "Perception Analysis": "open",
    "Proposal/Price Quote": "open",
    "Negotiation/Review": "open",
    "Closed Won": "won",
    "Closed Lost": "lost",
    "Closed Lost to Competition": "lost",
}

_DEALS = {
    "Record Id": "deal_id",
    "Deal Id": "deal_id",
    "Deal Name": "deal_name",
    "Potential Name": "deal_name",
    "Deal Owner": "owner",
    "Potential Owner": "owner",
    "Account Name": "account",
    "Account Id": "account_id",
    "Created Time": "created_at",
    "Closing Date": "close_date",
    "Amount": "amount",
    "Stage": "stage",
    "Type": "deal_type",
    "Lead Source": "lead_source",
    "Probability (%)": "probability",
    "Probability": "probability",
    "Currency": "currency",
    "Industry": "industry",
    "Employees": "employees",
}

DEALS = TableFormat(
    crm="zoho",
    role="deals",
    label="Zoho CRM deals export",
    headers=_DEALS,
    signature=("Deal Name", "Deal Owner", "Closing Date", "Created Time", "Stage"),
    stages=STAGES,
)

POTENTIALS = TableFormat(
    crm="zoho",
    role="deals",
    label="Zoho CRM potentials export",
    headers=_DEALS,
    signature=("Potential Name", "Potential Owner", "Closing Date", "Created Time", "Stage"),
    stages=STAGES,
)

CALLS = TableFormat(
    crm="zoho",
    role="activities",
    label="Zoho CRM calls export",
    headers={
        "Record Id": "activity_id",
        "Call Id": "activity_id",
        "Subject": "subject",
        "Call Start Time": "occurred_at",
        "Call Owner": "owner",
        "Related To": "deal_name",
        "Related To Id": "deal_ref",
        "What Id": "deal_ref",
        "Account Name": "account",
    },
    signature=("Call Start Time", "Call Type", "Call Owner", "Call Duration", "Subject"),
    default_type="call",
)

ACCOUNTS = TableFormat(
    crm="zoho",
    role="accounts",
    label="Zoho CRM accounts export",
    headers={
        "Record Id": "account_id",
        "Account Name": "account",
        "Industry": "industry",
        "Employees": "employees",
    },
    signature=("Account Name", "Account Owner", "Employees", "Account Type", "Created Time"),
)

FORMATS = (DEALS, POTENTIALS, CALLS, ACCOUNTS)
