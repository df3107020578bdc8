"""Salesforce: report exports (labels as headers) and API / Data Loader exports (API names).

Report exports carry the user's chosen columns under their labels, dates in the user's locale and
amounts such as ``"$22,700.00"`` or ``USD 1,234.00`` (multi-currency orgs add ``Amount
(converted)`` in the corporate currency, which becomes the amount); formatted reports end with a footer that
:mod:`salesinsight.io.files` removes. API exports use field names (``StageName``, ``IsWon``) and
18-character ids. Stage names are the defaults of a new org; renamed stages such as ``Won`` /
``Lost`` are recognised by :mod:`salesinsight.clean.deals`, and the ``IsWon`` / ``IsClosed`` flags decide
over the stage where present.
"""

from __future__ import annotations

from salesinsight.io.formats import TableFormat

__all__ = ["FORMATS", "STAGES"]

STAGES = {
    "Prospecting": "open",
    "Qualification": "open",
    "Needs Analysis": "open",
    "Value Proposition": "open",
    "Id. Decision Makers": "open",
    "Perception Analysis": "open",
    "Proposal/Price Quote": "open",
    "Negotiation/Review": "open",
    "Closed Won": "won",
    "Closed Lost": "lost",
}

_SHARED = {
    "Industry": "industry",
    "Employees": "employees",
    "Number of Employees": "employees",
    "No. of Employees": "employees",
    "NumberOfEmployees": "employees",
    "Company size": "employees",
    "Annual Revenue": "annual_revenue",
    "Segment": "segment",
    "Product Name": "product",
    "Product": "product",
    "List Price": "list_price",
}

REPORT_DEALS = TableFormat(
    crm="salesforce",
    role="deals",
    label="Salesforce opportunity report",
    headers={
        "Opportunity ID": "deal_id",
        "Opportunity ID (18)": "deal_id",
        "Opportunity Name": "deal_name",
        "Account Name": "account",
        "Account ID": "account_id",
        "Opportunity Owner": "owner",
        "Owner Name": "owner",
        "Owner Full Name": "owner",
        "Stage": "stage",
        "Amount": "amount",
        "Amount (converted)": "amount_converted",
        "Amount (converted) Currency": "converted_currency",
        "Opportunity Currency": "currency",
        "Currency": "currency",
        "Close Date": "close_date",
        "Created Date": "created_at",
        "Lead Source": "lead_source",
        # Stand-ins, read only when the export has no Lead Source (the first present wins).
        "Primary Campaign Source": "lead_source",
        "Campaign Source": "lead_source",
        "Lead Source Detail": "lead_source",
        "Type": "deal_type",
        "Opportunity Type": "deal_type",
        "Closed Lost Reason": "loss_reason",
        "Loss Reason": "loss_reason",
        "Lost Reason": "loss_reason",
        "Probability (%)": "probability",
        "Won": "is_won",
        "Closed": "is_closed",
        **_SHARED,
    },
    signature=("Opportunity Name", "Stage", "Close Date", "Opportunity Owner", "Account Name"),
    stages=STAGES,
)

API_DEALS = TableFormat(
    crm="salesforce",
    role="deals",
    label="Salesforce Opportunity API / Data Loader export",
    headers={
        "Id": "deal_id",
        "Name": "deal_name",
        "Account.Name": "account",
        "AccountId": "account_id",
        "Owner.Name": "owner",
        "OwnerId": "owner",
        "StageName": "stage",
        "Amount": "amount",
        "CurrencyIsoCode": "currency",
        "CloseDate": "close_date",
        "CreatedDate": "created_at",
        "LeadSource": "lead_source",
        "Loss_Reason__c": "loss_reason",
        "Type": "deal_type",
        "Probability": "probability",
        "IsWon": "is_won",
        "IsClosed": "is_closed",
        "Account.Industry": "industry",
        "Account.NumberOfEmployees": "employees",
        "Account.AnnualRevenue": "annual_revenue",
    },
    signature=("StageName", "CloseDate", "IsWon", "IsClosed", "AccountId"),
    stages=STAGES,
)

REPORT_ACTIVITIES = TableFormat(
    crm="salesforce",
    role="activities",
    label="Salesforce tasks and events report",
    headers={
        "Activity ID": "activity_id",
        "Subject": "subject",
        "Activity Type": "type",
        "Task Subtype": "type",
        "Event Subtype": "type",
        "Date": "occurred_at",
        "Activity Date": "occurred_at",
        "Due Date": "occurred_at",
        "Start": "occurred_at",
        "Assigned": "owner",
        "Assigned To": "owner",
        "Company / Account": "account",
        "Account Name": "account",
        "Opportunity ID": "deal_ref",
        "Opportunity": "deal_name",
        "Opportunity Name": "deal_name",
        "Related To": "deal_name",
        "Contact": "contact",
        "Name": "contact",
    },
    signature=("Subject", "Assigned", "Activity Type", "Company / Account", "Opportunity"),
)

API_ACTIVITIES = TableFormat(
    crm="salesforce",
    role="activities",
    label="Salesforce Task / Event API export",
    headers={
        "Id": "activity_id",
        "WhatId": "deal_ref",
        "WhoId": "contact",
        "Subject": "subject",
        "TaskSubtype": "type",
        "EventSubtype": "type",
        "Type": "type",
        "ActivityDateTime": "occurred_at",
        "StartDateTime": "occurred_at",
        "ActivityDate": "occurred_at",
        "CreatedDate": "occurred_at",
        "OwnerId": "owner",
        "AccountId": "account",
    },
    signature=("WhatId", "Subject", "OwnerId", "ActivityDate"),
)

REPORT_ACCOUNTS = TableFormat(
    crm="salesforce",
    role="accounts",
    label="Salesforce account report",
    headers={
        "Account ID": "account_id",
        "Account Name": "account",
        "Industry": "industry",
        "Employees": "employees",
        "Segment": "segment",
    },
    signature=("Account Name", "Account ID", "Industry", "Employees", "Billing Country"),
)

API_ACCOUNTS = TableFormat(
    crm="salesforce",
    role="accounts",
    label="Salesforce Account API export",
    headers={
        "Id": "account_id",
        "Name": "account",
        "Industry": "industry",
        "NumberOfEmployees": "employees",
    },
    signature=("Id", "Name", "NumberOfEmployees", "BillingCountry"),
)

# The connector's tables (Fivetran's layout: API names in snake_case), read from a warehouse or
# dumped to CSV. The joined names (`account_name`, `owner_name`, `product_name`, `account_*`)
# are those read_warehouse adds from the account, user and product tables; a dump of the
# opportunity table alone has the ids instead.
SYNC_DEALS = TableFormat(
    crm="salesforce",
    role="deals",
    label="Salesforce opportunity table (connector sync)",
    headers={
        "id": "deal_id",
        "name": "deal_name",
        "account_name": "account",
        "account_id": "account_id",
        "owner_name": "owner",
        "owner_id": "owner",
        "stage_name": "stage",
        "amount": "amount",
        "currency_iso_code": "currency",
        "close_date": "close_date",
        "created_date": "created_at",
        "lead_source": "lead_source",
        "type": "deal_type",
        "probability": "probability",
        "is_won": "is_won",
        "is_closed": "is_closed",
        "product_name": "product",
        "list_price": "list_price",
        "account_industry": "industry",
        "account_number_of_employees": "employees",
        "account_segment_c": "segment",
    },
    signature=("stage_name", "close_date", "is_won", "is_closed", "created_date"),
    stages=STAGES,
)

SYNC_ACTIVITIES = TableFormat(
    crm="salesforce",
    role="activities",
    label="Salesforce task / event table (connector sync)",
    headers={
        "id": "activity_id",
        "what_id": "deal_ref",
        "who_id": "contact",
        "subject": "subject",
        "task_subtype": "type",
        "event_subtype": "type",
        "type": "type",
        "completed_date_time": "occurred_at",
        "start_date_time": "occurred_at",
        "activity_date_time": "occurred_at",
        "activity_date": "occurred_at",
        "created_date": "occurred_at",
        "owner_id": "owner",
        "account_id": "account",
    },
    signature=("what_id", "who_id", "owner_id", "activity_date", "subject"),
)

SYNC_ACCOUNTS = TableFormat(
    crm="salesforce",
    role="accounts",
    label="Salesforce account table (connector sync)",
    headers={
        "id": "account_id",
        "name": "account",
        "industry": "industry",
        "number_of_employees": "employees",
        "segment_c": "segment",
    },
    signature=("id", "name", "number_of_employees", "billing_country", "account_source"),
)

FORMATS = (
    REPORT_DEALS,
    API_DEALS,
    SYNC_DEALS,
    REPORT_ACTIVITIES,
    API_ACTIVITIES,
    SYNC_ACTIVITIES,
    REPORT_ACCOUNTS,
    API_ACCOUNTS,
    SYNC_ACCOUNTS,
)
