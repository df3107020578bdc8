"""The tables an ELT connector writes when it syncs Salesforce or HubSpot into a warehouse.

Fivetran, and the connectors that copy its shapes, write one table per CRM object into a schema
named after the connector (``salesforce`` and ``hubspot`` by default). The names below are those of
Fivetran's own dbt source packages (``fivetran/dbt_salesforce_source``,
``fivetran/dbt_hubspot_source``: their ``macros/get_*_columns.sql``, ``models/src_*.yml`` and
``integration_tests/seeds``); :data:`TABLES` lists, per table, the columns salesinsight reads and
the connector's own columns it may carry, and :data:`FIELD_SOURCES` which source column each
canonical field comes from.

Naming
    Salesforce: the API names in snake_case, an underscore before a digit (``Product2Id`` ->
    ``product_2_id``, object ``Product2`` -> table ``product_2``, ``Pricebook2Id`` ->
    ``pricebook_2_id``), a custom field's ``__c`` as ``_c`` (``Segment__c`` -> ``segment_c``).
    HubSpot: a deal's or company's properties as ``property_<internal name>``
    (``property_dealname``, ``property_createdate``); ids are integers; associations are tables of
    their own (``deal_company``, ``engagement_deal``). Newer HubSpot syncs add an engagement's
    object properties to its type table as ``property_hs_*`` columns.

Connector conventions (:data:`CONVENTIONS`)
    ``is_deleted`` the vendor's soft delete (Salesforce's recycle bin, HubSpot's archive);
    ``_fivetran_deleted`` the connector saw the record deleted at the source and kept the row,
    flagged; ``_fivetran_active``, ``_fivetran_start``, ``_fivetran_end`` history mode: every
    change adds a version of the record, in the object's own table (the dbt packages' ``*_history``
    models read ``opportunity``, ``account``, ...), and only the active version is current;
    ``_fivetran_synced`` when the connector last wrote the row. A table carries only the ones its
    connector and settings produce.

Two traps in the names
    HubSpot's ``deal_stage`` has history-mode columns, but its versions *are* the stage history
    (one row per stage a deal entered, the active one its current stage): none of them is stale.
    Salesforce's ``opportunity_history`` is the OpportunityHistory object (one row per stage
    change, ``opportunity_id``), not a history-mode copy of ``opportunity``; it is not in the dbt
    package, and its columns, like ``pricebook_entry``'s, are the API names under the naming rule.

Salesforce's ``event`` has one child row per invitee of a group event (``is_child``), copies of
the same meeting; HubSpot's ``engagement.active`` is shown-in-the-UI, not a delete.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = [
    "CONVENTIONS",
    "CRMS",
    "FIELD_SOURCES",
    "FIELD_SOURCE_COLUMNS",
    "TABLES",
    "TableLayout",
    "field_sources",
    "table_layout",
    "tables_of",
]

CRMS = ("salesforce", "hubspot")

CONVENTIONS = {
    "is_deleted": "the record is in the vendor's recycle bin or archive (soft-deleted)",
    "_fivetran_deleted": "the connector saw the record deleted at the source",
    "_fivetran_active": "history mode: true for the current version of the record",
    "_fivetran_start": "history mode: when this version became current",
    "_fivetran_end": "history mode: when this version stopped being current",
    "_fivetran_synced": "when the connector last wrote the row",
}
"""The connector's own columns and what they mean."""

_HISTORY_MODE = ("_fivetran_active", "_fivetran_start", "_fivetran_end")
_OBJECT = ("is_deleted", "_fivetran_deleted", *_HISTORY_MODE, "_fivetran_synced")
_SYNCED = ("_fivetran_deleted", "_fivetran_synced")


@dataclass(frozen=True)
class TableLayout:
    """One table of a connector's schema.

    Attributes
    ----------
    crm : str
        ``salesforce`` or ``hubspot``.
    name : str
        The table's name in the schema.
    role : str
        What it holds for salesinsight: ``deals``, ``accounts``, ``owners``, ``activities``,
        ``activity_details``, ``stage_history``, ``stages``, ``products``, ``links``.
    key : tuple of str
        The column(s) naming a record (the id the ledger cites).
    required : tuple of str
        Columns salesinsight needs from the table.
    optional : tuple of str
        Columns it uses where present.
    conventions : tuple of str
        Connector columns the table may carry (see :data:`CONVENTIONS`).
    versions_are_history : bool
        Its history-mode versions are the history itself (HubSpot ``deal_stage``), not stale
        copies to drop.
    """

    crm: str
    name: str
    role: str
    key: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()
    conventions: tuple[str, ...] = _OBJECT
    versions_are_history: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column named here: required, optional, then the connector's."""
        return (*self.required, *self.optional, *self.conventions)


TABLES: tuple[TableLayout, ...] = (
    TableLayout(
        "salesforce", "opportunity", "deals", ("id",),
        ("id", "created_date", "stage_name", "is_closed", "is_won", "close_date", "amount"),
        ("account_id", "owner_id", "name", "lead_source", "type", "probability",
         "forecast_category", "fiscal_quarter", "fiscal_year", "has_opportunity_line_item",
         "pricebook_2_id", "campaign_id", "record_type_id", "currency_iso_code"),
    ),
    TableLayout(
        "salesforce", "account", "accounts", ("id",), ("id", "name"),
        ("industry", "number_of_employees", "billing_country", "type", "owner_id", "parent_id",
         "account_source", "segment_c"),
    ),
    TableLayout(
        "salesforce", "user", "owners", ("id",), ("id", "name"),
        ("first_name", "last_name", "email", "is_active", "manager_id", "user_role_id", "title",
         "created_date"),
    ),
    TableLayout(
        "salesforce", "task", "activities", ("id",), ("id", "what_id"),
        ("who_id", "account_id", "owner_id", "subject", "task_subtype", "type",
         "completed_date_time", "activity_date", "created_date", "status", "is_closed",
         "call_type", "call_duration_in_seconds"),
    ),
    TableLayout(
        "salesforce", "event", "activities", ("id",), ("id", "what_id"),
        ("who_id", "account_id", "owner_id", "subject", "type", "event_subtype",
         "start_date_time", "activity_date_time", "activity_date", "end_date_time",
         "created_date", "is_child", "is_group_event"),
    ),
    TableLayout(
        "salesforce", "opportunity_history", "stage_history", ("id",),
        ("id", "opportunity_id", "created_date", "stage_name"),
        ("amount", "close_date", "probability", "expected_revenue", "forecast_category",
         "prev_amount", "prev_close_date", "created_by_id"),
        ("is_deleted", *_SYNCED),
    ),
    TableLayout(
        "salesforce", "opportunity_line_item", "products", ("id",), ("id", "opportunity_id"),
        ("product_2_id", "pricebook_entry_id", "name", "quantity", "unit_price", "list_price",
         "total_price", "discount", "product_code", "service_date", "created_date"),
    ),
    TableLayout(
        "salesforce", "product_2", "products", ("id",), ("id", "name"),
        ("product_code", "family", "is_active", "description"),
    ),
    TableLayout(
        "salesforce", "pricebook_entry", "products", ("id",),
        ("id", "product_2_id", "pricebook_2_id", "unit_price"),
        ("is_active", "use_standard_price", "name", "product_code"),
    ),
    TableLayout(
        "hubspot", "deal", "deals", ("deal_id",),
        ("deal_id", "deal_pipeline_stage_id", "property_createdate"),
        ("deal_pipeline_id", "owner_id", "portal_id", "property_dealname", "property_amount",
         "property_closedate", "property_dealtype", "property_hs_analytics_source",
         "property_deal_currency_code", "property_amount_in_home_currency",
         "property_hs_is_closed", "property_hs_is_closed_won", "property_description"),
    ),
    TableLayout(
        "hubspot", "deal_pipeline", "stages", ("pipeline_id",), ("pipeline_id", "label"),
        ("active", "display_order"), _SYNCED,
    ),
    TableLayout(
        "hubspot", "deal_pipeline_stage", "stages", ("stage_id",),
        ("stage_id", "pipeline_id", "label"),
        ("probability", "closed_won", "active", "display_order"), _SYNCED,
    ),
    TableLayout(
        "hubspot", "deal_stage", "stage_history", ("deal_id", "value", "date_entered"),
        ("deal_id", "value", "date_entered"), ("source", "source_id"),
        (*_HISTORY_MODE, "_fivetran_synced"), versions_are_history=True,
    ),
    TableLayout(
        "hubspot", "company", "accounts", ("id",), ("id",),
        ("property_name", "property_industry", "property_numberofemployees", "property_country",
         "property_annualrevenue", "property_createdate", "property_domain"),
    ),
    TableLayout(
        "hubspot", "deal_company", "links", ("deal_id", "company_id"), ("deal_id", "company_id"),
        ("type_id", "category"), ("_fivetran_synced",),
    ),
    TableLayout(
        "hubspot", "owner", "owners", ("owner_id",), ("owner_id",),
        ("first_name", "last_name", "email", "type", "created_at", "updated_at", "is_active",
         "portal_id"),
        _SYNCED,
    ),
    TableLayout(
        "hubspot", "engagement", "activities", ("id",), ("id", "type", "timestamp"),
        ("owner_id", "created_at", "last_updated", "active", "activity_type", "portal_id"),
        _SYNCED,
    ),
    *(
        TableLayout("hubspot", f"engagement_{kind}", "activity_details", ("engagement_id",),
                    ("engagement_id",), details, _SYNCED)
        for kind, details in (
            ("call", ("body", "status", "disposition", "duration_milliseconds", "to_number")),
            ("email", ("subject", "from_email", "status", "sent_via")),
            ("meeting", ("title", "start_time", "end_time", "meeting_outcome", "source")),
            ("note", ("body",)),
            ("task", ("subject", "status", "task_type", "completion_date")),
        )
    ),
    TableLayout(
        "hubspot", "engagement_deal", "links", ("engagement_id", "deal_id"),
        ("engagement_id", "deal_id"), (), ("_fivetran_synced",),
    ),
)  # fmt: skip
"""Every table salesinsight reads from a connector's schema."""

FIELD_SOURCE_COLUMNS = ["crm", "table", "field", "source_table", "source", "rule"]
"""The columns of :data:`FIELD_SOURCES` and of :func:`field_sources`."""

# One row per canonical field and vendor: where it comes from, and how when not a plain copy.
FIELD_SOURCES: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("salesforce", "deals", "deal_id", "opportunity", "id", ""),
    ("salesforce", "deals", "account", "account", "name", "through opportunity.account_id"),
    ("salesforce", "deals", "account_id", "opportunity", "account_id", ""),
    ("salesforce", "deals", "owner", "user", "name", "through opportunity.owner_id"),
    ("salesforce", "deals", "created_at", "opportunity", "created_date", ""),
    ("salesforce", "deals", "closed_at", "opportunity", "close_date", "where is_closed"),
    ("salesforce", "deals", "expected_close_at", "opportunity", "close_date", "where not is_closed"),
    ("salesforce", "deals", "status", "opportunity", "is_won, is_closed",
     "won if is_won, lost if is_closed, else open"),
    ("salesforce", "deals", "stage", "opportunity", "stage_name", ""),
    ("salesforce", "deals", "amount", "opportunity", "amount", "converted with fx by currency"),
    ("salesforce", "deals", "amount_original", "opportunity", "amount", ""),
    ("salesforce", "deals", "currency", "opportunity", "currency_iso_code",
     "multi-currency orgs only; else the reporting currency"),
    ("salesforce", "deals", "lead_source", "opportunity", "lead_source", ""),
    ("salesforce", "deals", "deal_type", "opportunity", "type", "New Business / Existing Business"),
    ("salesforce", "deals", "product", "product_2", "name",
     "through opportunity_line_item.product_2_id, the line of the largest total_price"),
    ("salesforce", "deals", "list_price", "opportunity_line_item", "list_price, quantity",
     "sum of list_price * quantity over the deal's lines"),
    ("salesforce", "deals", "industry", "account", "industry", "through opportunity.account_id"),
    ("salesforce", "deals", "employees", "account", "number_of_employees",
     "through opportunity.account_id"),
    ("salesforce", "deals", "segment", "account", "segment_c", "a custom field, where present"),
    ("salesforce", "accounts", "account_id", "account", "id", ""),
    ("salesforce", "accounts", "account", "account", "name", ""),
    ("salesforce", "activities", "activity_id", "task, event", "id", ""),
    ("salesforce", "activities", "deal_id", "task, event", "what_id",
     "an opportunity's id (key prefix 006); other objects link no deal"),
    ("salesforce", "activities", "type", "task", "task_subtype, type",
     "the first that reads as call, email or meeting, else task"),
    ("salesforce", "activities", "type", "event", "", "meeting"),
    ("salesforce", "activities", "occurred_at", "task",
     "completed_date_time, activity_date, created_date", "the first present"),
    ("salesforce", "activities", "occurred_at", "event",
     "start_date_time, activity_date_time, activity_date", "the first present"),
    ("salesforce", "activities", "owner", "user", "name", "through owner_id"),
    ("salesforce", "activities", "account", "account", "name", "through account_id"),
    ("salesforce", "stage_history", "deal_id", "opportunity_history", "opportunity_id", ""),
    ("salesforce", "stage_history", "stage", "opportunity_history", "stage_name", ""),
    ("salesforce", "stage_history", "entered_at", "opportunity_history", "created_date", ""),
    ("salesforce", "stage_history", "exited_at", "opportunity_history", "created_date",
     "of the deal's next row"),
    ("salesforce", "stage_history", "amount", "opportunity_history", "amount", ""),
    ("hubspot", "deals", "deal_id", "deal", "deal_id", "as text"),
    ("hubspot", "deals", "account", "company", "property_name", "through deal_company"),
    ("hubspot", "deals", "account_id", "deal_company", "company_id", "as text"),
    ("hubspot", "deals", "owner", "owner", "first_name, last_name", "through deal.owner_id"),
    ("hubspot", "deals", "created_at", "deal", "property_createdate", ""),
    ("hubspot", "deals", "closed_at", "deal", "property_closedate", "where the stage is closed"),
    ("hubspot", "deals", "expected_close_at", "deal", "property_closedate", "where it is open"),
    ("hubspot", "deals", "status", "deal_pipeline_stage", "closed_won, probability",
     "through deal.deal_pipeline_stage_id: won if closed_won, lost if probability is 0, "
     "else open"),
    ("hubspot", "deals", "stage", "deal_pipeline_stage", "label",
     "through deal.deal_pipeline_stage_id"),
    ("hubspot", "deals", "amount", "deal", "property_amount_in_home_currency, property_amount",
     "the first present"),
    ("hubspot", "deals", "amount_original", "deal", "property_amount", ""),
    ("hubspot", "deals", "currency", "deal", "property_deal_currency_code", ""),
    ("hubspot", "deals", "lead_source", "deal", "property_hs_analytics_source", ""),
    ("hubspot", "deals", "deal_type", "deal", "property_dealtype",
     "newbusiness / existingbusiness"),
    ("hubspot", "deals", "industry", "company", "property_industry", "through deal_company"),
    ("hubspot", "deals", "employees", "company", "property_numberofemployees",
     "through deal_company"),
    ("hubspot", "accounts", "account_id", "company", "id", "as text"),
    ("hubspot", "accounts", "account", "company", "property_name", ""),
    ("hubspot", "activities", "activity_id", "engagement", "id", "as text"),
    ("hubspot", "activities", "deal_id", "engagement_deal", "deal_id",
     "one row per deal the engagement is associated with"),
    ("hubspot", "activities", "type", "engagement", "type",
     "CALL, EMAIL, MEETING, TASK; NOTE and others as other"),
    ("hubspot", "activities", "occurred_at", "engagement", "timestamp", ""),
    ("hubspot", "activities", "owner", "owner", "first_name, last_name", "through owner_id"),
    ("hubspot", "stage_history", "deal_id", "deal_stage", "deal_id", "as text"),
    ("hubspot", "stage_history", "stage", "deal_pipeline_stage", "label", "through value"),
    ("hubspot", "stage_history", "entered_at", "deal_stage", "date_entered", ""),
    ("hubspot", "stage_history", "exited_at", "deal_stage", "_fivetran_end",
     "missing for the active row"),
)  # fmt: skip
"""Where each canonical field comes from: see :data:`FIELD_SOURCE_COLUMNS`."""


def table_layout(crm: str, name: str) -> TableLayout:
    """The layout of one table of a connector's schema.

    Examples
    --------
    >>> table_layout("salesforce", "task").required
    ('id', 'what_id')
    >>> table_layout("hubspot", "deal_stage").versions_are_history
    True
    """
    for layout in TABLES:
        if layout.crm == crm and layout.name == name:
            return layout
    raise KeyError(f"{crm}.{name}")


def tables_of(crm: str) -> list[str]:
    """The tables salesinsight reads from a connector's schema, in :data:`TABLES` order.

    Examples
    --------
    >>> tables_of("salesforce")[:3]
    ['opportunity', 'account', 'user']
    """
    return [layout.name for layout in TABLES if layout.crm == crm]


def field_sources(crm: str | None = None) -> pd.DataFrame:
    """:data:`FIELD_SOURCES` as a table, for one vendor or both.

    Examples
    --------
    >>> table = field_sources("hubspot")
    >>> table.loc[table["field"].eq("created_at"), ["source_table", "source"]].iloc[0].tolist()
    ['deal', 'property_createdate']
    """
    table = pd.DataFrame(list(FIELD_SOURCES), columns=FIELD_SOURCE_COLUMNS)
    if crm is not None:
        table = table[table["crm"].eq(crm)].reset_index(drop=True)
    return table
