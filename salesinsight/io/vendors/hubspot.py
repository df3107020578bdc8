"""HubSpot: UI exports (labels, every field quoted) and API-style property names.

Ids are long numbers kept as text; amounts come without thousands separators. UI exports show
stage labels, API data internal ids (``closedwon``); custom pipelines use numeric stage ids, which
the ``Is Closed Won`` flag resolves where exported. Activities come as one export of every kind
(``Activity type``) or one per kind (calls, emails, meetings, notes), each with ``Associated Deal``
and ``Associated Contact`` columns (names, and ids in the ``... IDs`` columns).
"""

from __future__ import annotations

from salesinsight.io.formats import TableFormat

__all__ = ["FORMATS", "STAGES"]

STAGES = {
    "Appointment Scheduled": "open",
    "Qualified To Buy": "open",
    "Presentation Scheduled": "open",
    "Decision Maker Bought-In": "open",
    "Contract Sent": "open",
    "Closed Won": "won",
    "Closed Lost": "lost",
    "appointmentscheduled": "open",
    "qualifiedtobuy": "open",
    "presentationscheduled": "open",
    "decisionmakerboughtin": "open",
    "contractsent": "open",
    "closedwon": "won",
    "closedlost": "lost",
}

UI_DEALS = TableFormat(
    crm="hubspot",
    role="deals",
    label="HubSpot deals export",
    headers={
        "Record ID": "deal_id",
        "Deal ID": "deal_id",
        "Deal Name": "deal_name",
        "Deal Stage": "stage",
        "Amount": "amount",
        "Close Date": "close_date",
        "Create Date": "created_at",
        "Deal owner": "owner",
        "Deal Type": "deal_type",
        "Associated Company": "account",
        "Associated Company IDs": "account_id",
        "Associated Company ID": "account_id",
        "Original Source": "lead_source",
        "Original Source Type": "lead_source",
        "Original Source Drill-Down 1": "lead_source",
        "Latest Source": "lead_source",
        "Closed Lost Reason": "loss_reason",
        "Is Closed Won": "is_won",
        "Is Closed": "is_closed",
        "Currency": "currency",
        "Industry": "industry",
        "Number of Employees": "employees",
        "Company size": "employees",
        "Annual Revenue": "annual_revenue",
        "Product": "product",
    },
    signature=("Record ID", "Deal Name", "Deal Stage", "Create Date", "Deal owner", "Pipeline"),
    stages=STAGES,
)

API_DEALS = TableFormat(
    crm="hubspot",
    role="deals",
    label="HubSpot deals (API properties)",
    headers={
        "hs_object_id": "deal_id",
        "dealId": "deal_id",
        "dealname": "deal_name",
        "dealstage": "stage",
        "amount": "amount",
        "closedate": "close_date",
        "createdate": "created_at",
        "hubspot_owner_id": "owner",
        "dealtype": "deal_type",
        "associatedcompanyid": "account_id",
        "hs_analytics_source": "lead_source",
        "closed_lost_reason": "loss_reason",
        "hs_is_closed_won": "is_won",
        "hs_is_closed": "is_closed",
        "deal_currency_code": "currency",
    },
    signature=("dealname", "dealstage", "closedate", "createdate"),
    stages=STAGES,
)

ACTIVITIES = TableFormat(
    crm="hubspot",
    role="activities",
    label="HubSpot activities (engagements) export",
    headers={
        "Record ID": "activity_id",
        "Activity ID": "activity_id",
        "Engagement ID": "activity_id",
        "Activity type": "type",
        "Engagement type": "type",
        "Activity date": "occurred_at",
        "Timestamp": "occurred_at",
        "Activity assigned to": "owner",
        "Associated Deal IDs": "deal_ref",
        "Associated Deal ID": "deal_ref",
        "Associated Deal": "deal_name",
        "Associated Company": "account",
        "Associated Contact IDs": "contact",
        "Associated Contact": "contact",
        "Subject": "subject",
        "engagement.id": "activity_id",
        "engagement.type": "type",
        "engagement.timestamp": "occurred_at",
        "associations.dealIds": "deal_ref",
    },
    signature=("Activity type", "Activity date", "Activity assigned to", "Associated Deal"),
)

# What every per-kind activity export of HubSpot carries besides its own columns.
_ENGAGEMENT = {
    "Record ID": "activity_id",
    "Activity date": "occurred_at",
    "Activity assigned to": "owner",
    "Associated Deal IDs": "deal_ref",
    "Associated Deal ID": "deal_ref",
    "Associated Deal": "deal_name",
    "Associated Company": "account",
    "Associated Contact IDs": "contact",
    "Associated Contact ID": "contact",
    "Associated Contact": "contact",
}


def _kind(kind: str, label: str, own: dict[str, str], signature: tuple[str, ...]) -> TableFormat:
    """A HubSpot export of one kind of activity (calls, emails, meetings or notes)."""
    return TableFormat(
        crm="hubspot",
        role="activities",
        label=f"HubSpot {label} export",
        headers={**own, **_ENGAGEMENT},
        signature=signature,
        default_type=kind,
    )


CALLS = _kind(
    "call",
    "calls",
    {"Call Title": "subject", "Call title": "subject"},
    ("Call outcome", "Call direction", "Call duration (HH:mm:ss)", "Call notes"),
)
EMAILS = _kind(
    "email",
    "emails",
    {"Email subject": "subject"},
    ("Email subject", "Email direction", "Email send status", "Email body"),
)
MEETINGS = _kind(
    "meeting",
    "meetings",
    {"Meeting name": "subject", "Meeting start time": "occurred_at"},
    ("Meeting name", "Meeting start time", "Meeting end time", "Meeting outcome"),
)
NOTES = _kind(
    "other",
    "notes",
    {"Note body": "subject"},
    ("Note body", "Activity date", "Activity assigned to", "Associated Deal"),
)

COMPANIES = TableFormat(
    crm="hubspot",
    role="accounts",
    label="HubSpot companies export",
    headers={
        "Record ID": "account_id",
        "Company ID": "account_id",
        "Company name": "account",
        "Industry": "industry",
        "Number of Employees": "employees",
    },
    signature=("Record ID", "Company name", "Company Domain Name", "Number of Employees"),
)

# The connector's tables (Fivetran's layout: properties as `property_<name>`), read from a
# warehouse or dumped to CSV. The joined names (`stage_label`, `owner_name`, `company_*`,
# `is_won`, `is_closed`) are those read_warehouse adds from the pipeline stage, owner and company
# tables; a dump of the deal table alone has the stage id, which the default pipeline's STAGES
# know.
SYNC_DEALS = TableFormat(
    crm="hubspot",
    role="deals",
    label="HubSpot deal table (connector sync)",
    headers={
        "deal_id": "deal_id",
        "property_dealname": "deal_name",
        "company_name": "account",
        "company_id": "account_id",
        "owner_name": "owner",
        "owner_id": "owner",
        "stage_label": "stage",
        "deal_pipeline_stage_id": "stage",
        "property_amount": "amount",
        "property_deal_currency_code": "currency",
        "property_closedate": "close_date",
        "property_createdate": "created_at",
        "property_hs_analytics_source": "lead_source",
        "property_dealtype": "deal_type",
        "is_won": "is_won",
        "is_closed": "is_closed",
        "company_industry": "industry",
        "company_employees": "employees",
    },
    signature=(
        "deal_id",
        "deal_pipeline_stage_id",
        "property_dealname",
        "property_createdate",
        "property_closedate",
    ),
    stages=STAGES,
)

SYNC_COMPANIES = TableFormat(
    crm="hubspot",
    role="accounts",
    label="HubSpot company table (connector sync)",
    headers={
        "id": "account_id",
        "property_name": "account",
        "property_industry": "industry",
        "property_numberofemployees": "employees",
    },
    signature=("id", "property_name", "property_numberofemployees", "property_domain"),
)

FORMATS = (
    UI_DEALS,
    API_DEALS,
    SYNC_DEALS,
    ACTIVITIES,
    CALLS,
    EMAILS,
    MEETINGS,
    NOTES,
    COMPANIES,
    SYNC_COMPANIES,
)
