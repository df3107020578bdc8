"""Pipedrive: headers prefixed by entity (``Deal - Title``); the status column decides.

A lost deal keeps the stage it was lost in, so the stage never decides the status here. Values
are in each deal's own currency (``Deal - Currency``); datetimes look like ``2025-02-28 14:00:00``.
Exports are localised; the Czech headers of the core fields are recognised too.
"""

from __future__ import annotations

from salesinsight.io.formats import TableFormat

__all__ = ["FORMATS", "STATUSES"]

STATUSES = {
    "won": "won",
    "lost": "lost",
    "open": "open",
    "deleted": "deleted",
    "vyhráno": "won",
    "prohráno": "lost",
    "otevřeno": "open",
    "smazáno": "deleted",
}

_DEAL = {
    "ID": "deal_id",
    "Title": "deal_name",
    "Value": "amount",
    "Currency": "currency",
    "Status": "status",
    "Stage": "stage",
    "Owner": "owner",
    "Organization": "account",
    "Organization ID": "account_id",
    "Deal created": "created_at",
    "Add time": "created_at",
    "Won time": "won_at",
    "Lost time": "lost_at",
    "Deal closed on": "closed_at",
    "Close time": "closed_at",
    "Expected close date": "expected_close_at",
    "Source": "lead_source",
    "Lead source": "lead_source",
    "Channel": "lead_source",
    "Source channel": "lead_source",
    "Lost reason": "loss_reason",
    "Product name": "product",
}

_CZECH = {
    "Obchod - ID": "deal_id",
    "Obchod - Název": "deal_name",
    "Obchod - Hodnota": "amount",
    "Obchod - Měna": "currency",
    "Obchod - Stav": "status",
    "Obchod - Fáze": "stage",
    "Obchod - Vlastník": "owner",
    "Obchod - Organizace": "account",
    "Obchod - Obchod vytvořen": "created_at",
    "Obchod - Čas přidání": "created_at",
    "Obchod - Čas výhry": "won_at",
    "Obchod - Čas prohry": "lost_at",
    "Obchod - Očekávané datum uzavření": "expected_close_at",
}

DEALS = TableFormat(
    crm="pipedrive",
    role="deals",
    label="Pipedrive deals export",
    headers={
        **{f"Deal - {h}": f for h, f in _DEAL.items()},
        "Organization - ID": "account_id",
        "Organization - Name": "account",
        "Organization - Industry": "industry",
        "Organization - Number of employees": "employees",
        "Organization - Employees": "employees",
        **_CZECH,
    },
    signature=("Deal - ID", "Deal - Title", "Deal - Value", "Deal - Status", "Deal - Stage"),
    statuses=STATUSES,
)

DEALS_CZECH = TableFormat(
    crm="pipedrive",
    role="deals",
    label="Pipedrive deals export (Czech)",
    headers=DEALS.headers,
    signature=(
        "Obchod - ID",
        "Obchod - Název",
        "Obchod - Hodnota",
        "Obchod - Stav",
        "Obchod - Fáze",
    ),
    statuses=STATUSES,
)

ACTIVITIES = TableFormat(
    crm="pipedrive",
    role="activities",
    label="Pipedrive activities export",
    headers={
        "Activity - ID": "activity_id",
        "Activity - Type": "type",
        "Activity - Subject": "subject",
        "Activity - Due date": "occurred_at",
        "Activity - Deal ID": "deal_ref",
        "Activity - Deal": "deal_name",
        "Activity - Assigned to user": "owner",
        "Activity - Organization": "account",
        "Activity - Contact person": "contact",
        "Activity - Person": "contact",
        "Person - Name": "contact",
        "Activity - Add time": "occurred_at",
    },
    signature=("Activity - ID", "Activity - Type", "Activity - Due date", "Activity - Deal"),
)

ORGANIZATIONS = TableFormat(
    crm="pipedrive",
    role="accounts",
    label="Pipedrive organizations export",
    headers={
        "Organization - ID": "account_id",
        "Organization - Name": "account",
        "Organization - Industry": "industry",
        "Organization - Number of employees": "employees",
        "Organization - Employees": "employees",
    },
    signature=("Organization - ID", "Organization - Name", "Organization - Owner"),
)

FORMATS = (DEALS, DEALS_CZECH, ACTIVITIES, ORGANIZATIONS)
