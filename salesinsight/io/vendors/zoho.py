"""Zoho CRM: Deals (formerly Potentials), Calls, Events, Tasks and Accounts exports.

Money comes as ``"$22,700.00"`` and dates as ``"15 Apr, 2021 00:02:00"``; reports without a
``Record Id`` get derived deal ids. A calls export holds calls only: ``Call Type`` is the
direction (inbound / outbound), not the kind of activity. Events (meetings) and Tasks exports link
to deals through ``POTENTIALID`` / ``What Id`` or ``Related To``; a Tasks export may carry no
related-record id at all (``Task Owner, Subject, Created Time, Due Date, Status``), and its rows
are then not linkable (see :mod:`salesinsight.clean.activities`).
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
    "Reason For Loss": "loss_reason",
    "Probability (%)": "probability",
    "Probability": "probability",
    "Currency": "currency",
    "Industry": "industry",
    "Employees": "employees",
    "No. of Employees": "employees",
    "Annual Revenue": "annual_revenue",
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

# Related-record columns of Zoho's activity exports. What Id names the related record of any
# module (a deal, a lead, an account), POTENTIALID only a deal: the first is the wider link.
_RELATED = {
    "What Id": "deal_ref",
    "WHATID": "deal_ref",
    "Related To Id": "deal_ref",
    "POTENTIALID": "deal_ref",
    "Related To": "deal_name",
    "Account Name": "account",
    "CONTACTID": "contact",
    "Who Id": "contact",
    "Contact Name": "contact",
}

CALLS = TableFormat(
    crm="zoho",
    role="activities",
    label="Zoho CRM calls export",
    headers={
        "Record Id": "activity_id",
        "Call Id": "activity_id",
        "ACTIVITYID": "activity_id",
        "Subject": "subject",
        "Call Start Time": "occurred_at",
        "Call Owner": "owner",
        **_RELATED,
    },
    signature=("Call Start Time", "Call Type", "Call Owner", "Call Duration", "Subject"),
    default_type="call",
)

EVENTS = TableFormat(
    crm="zoho",
    role="activities",
    label="Zoho CRM events export",
    headers={
        "EVENTID": "activity_id",
        "Record Id": "activity_id",
        "Subject": "subject",
        "Title": "subject",
        "Start DateTime": "occurred_at",
        "From": "occurred_at",
        "Event Owner": "owner",
        "Host": "owner",
        **_RELATED,
    },
    signature=("EVENTID", "Event Owner", "Start DateTime", "End DateTime", "SEMODULE"),
    default_type="meeting",
)

TASKS = TableFormat(
    crm="zoho",
    role="activities",
    label="Zoho CRM tasks export",
    headers={
        "TASKID": "activity_id",
        "Record Id": "activity_id",
        "Subject": "subject",
        "Due Date": "occurred_at",
        "Created Time": "occurred_at",
        "Task Owner": "owner",
        **_RELATED,
    },
    signature=("Task Owner", "Subject", "Due Date", "Status"),
    default_type="task",
    links_optional=True,
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

FORMATS = (DEALS, POTENTIALS, CALLS, EVENTS, TASKS, ACCOUNTS)
