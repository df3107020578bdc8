"""A warehouse's activity tables as canonical activities: an expression the engine runs, not a frame.

Salesforce keeps activities in ``task`` and ``event``; HubSpot in ``engagement``, linked to deals by
``engagement_deal``. :func:`warehouse_activities` unions them into the canonical activity columns
(``activity_id, deal_id, type, occurred_at, source_table``) over the current records only (see
:mod:`salesinsight.io.warehouse.conventions`), so that counting them can run where hundreds of
millions of them are kept. Activity types go through the same label rules as exports
(:func:`~salesinsight.clean.categories.activity_type_of`), applied to the few distinct labels the
tables hold and sent back to the engine as a ``CASE``.

* Salesforce ``task``: ``deal_id`` is ``what_id`` where it is an opportunity's id (key prefix
  ``006``); the type is the first of ``task_subtype`` and ``type`` that reads as a call, an email or
  a meeting, else ``task``; ``occurred_at`` the first of ``completed_date_time``, ``activity_date``
  and ``created_date``. ``event``: a meeting at ``start_date_time`` (else ``activity_date_time``,
  ``activity_date``); the copies of a group event made for each invitee (``is_child``) are left out.
* HubSpot ``engagement``: one row per deal it is associated with (an engagement on two deals counts
  for both); ``deal_id`` is that deal's id as text; the type from ``type`` (``CALL``, ``EMAIL``,
  ``MEETING``, ``TASK``; ``NOTE`` and the rest as ``other``); ``occurred_at`` its ``timestamp``.
"""

from __future__ import annotations

import ibis
from ibis.backends import BaseBackend

from salesinsight.clean.categories import activity_type_of
from salesinsight.exceptions import InvalidValueError
from salesinsight.io.warehouse.conventions import current_rows
from salesinsight.io.warehouse.engine import open_table, require_columns
from salesinsight.io.warehouse.layout import CRMS, table_layout

__all__ = ["ACTIVITY_VIEW_COLUMNS", "OPPORTUNITY_KEY_PREFIX", "warehouse_activities"]

ACTIVITY_VIEW_COLUMNS = ("activity_id", "deal_id", "type", "occurred_at", "source_table")
"""The columns of :func:`warehouse_activities`, in order."""
OPPORTUNITY_KEY_PREFIX = "006"
"""The first three characters of every Salesforce opportunity id."""
_SPECIFIC = ("call", "email", "meeting")


def warehouse_activities(
    con: BaseBackend, *, crm: str = "salesforce", schema: str | None = None
) -> ibis.Table:
    """The current activities of a connector's schema, as canonical columns, in the engine.

    Parameters
    ----------
    con : ibis backend
        The engine holding the tables (see :func:`salesinsight.io.warehouse.engine.connect`).
    crm : {"salesforce", "hubspot"}
        Which connector's tables.
    schema : str, optional
        The schema they are in; default: the connector's default, the vendor's name.

    Returns
    -------
    ibis.Table
        :data:`ACTIVITY_VIEW_COLUMNS`: ``activity_id`` and ``deal_id`` as text (``deal_id`` null
        where the activity is on no deal), ``type`` one of call, email, meeting, task, other,
        ``occurred_at`` a timestamp, ``source_table`` the table the row came from.

    Raises
    ------
    WarehouseError
        A table is missing (the message lists the schema's tables).
    ColumnNotFoundError
        A table lacks a column it needs.

    Examples
    --------
    >>> con = ibis.duckdb.connect()
    >>> _ = con.raw_sql('''
    ...     CREATE SCHEMA salesforce;
    ...     CREATE TABLE salesforce.task AS SELECT * FROM (VALUES
    ...         ('00T1', '0061', 'Call', 'Call', TIMESTAMP '2024-01-02 10:00', false),
    ...         ('00T2', '0011', 'Task', 'To Do', TIMESTAMP '2024-01-03 10:00', false),
    ...         ('00T3', '0061', 'Email', 'Email', TIMESTAMP '2024-01-04 10:00', true))
    ...         t(id, what_id, task_subtype, type, completed_date_time, is_deleted);
    ...     CREATE TABLE salesforce.event AS SELECT * FROM (VALUES
    ...         ('00U1', '0061', TIMESTAMP '2024-01-05 09:00', false))
    ...         t(id, what_id, start_date_time, is_child);
    ... ''')
    >>> view = warehouse_activities(con).order_by("activity_id")
    >>> con.execute(view)[["activity_id", "deal_id", "type", "source_table"]]
      activity_id deal_id     type source_table
    0        00T1    0061     call         task
    1        00T2     NaN     task         task
    2        00U1    0061  meeting        event
    """
    if crm not in CRMS:
        raise InvalidValueError(
            f"`crm` must be one of {', '.join(map(repr, CRMS))} for a warehouse; received {crm!r}."
        )
    schema = crm if schema is None else schema
    if crm == "salesforce":
        return _salesforce_tasks(con, schema).union(_salesforce_events(con, schema))
    return _hubspot_engagements(con, schema)


def _current(con: BaseBackend, name: str, schema: str, crm: str) -> ibis.Table:
    layout = table_layout(crm, name)
    table = open_table(con, name, schema=schema)
    require_columns(table, layout.required, name=f"{schema}.{name}")
    return current_rows(table, layout)


def _first_present(table: ibis.Table, columns: tuple[str, ...]) -> ibis.Value:
    values = [table[c].cast("timestamp") for c in columns if c in table.columns]
    if not values:
        return ibis.null("timestamp")
    return ibis.coalesce(*values) if len(values) > 1 else values[0]


def _salesforce_deal(what_id: ibis.Value) -> ibis.Value:
    ref = what_id.cast("string")
    return ibis.ifelse(ref.startswith(OPPORTUNITY_KEY_PREFIX), ref, ibis.null("string"))


def _salesforce_tasks(con: BaseBackend, schema: str) -> ibis.Table:
    task = _current(con, "task", schema, "salesforce")
    kinds = [
        _relabel(task[c], _kinds_of_labels(con, task, c, specific_only=True), ibis.null("string"))
        for c in ("task_subtype", "type")
        if c in task.columns
    ]
    return task.select(
        activity_id=task["id"].cast("string"),
        deal_id=_salesforce_deal(task["what_id"]),
        type=ibis.coalesce(*kinds, ibis.literal("task")),
        occurred_at=_first_present(task, ("completed_date_time", "activity_date", "created_date")),
        source_table=ibis.literal("task"),
    )


def _salesforce_events(con: BaseBackend, schema: str) -> ibis.Table:
    event = _current(con, "event", schema, "salesforce")
    if "is_child" in event.columns:
        event = event.filter(~event["is_child"].fill_null(False))
    return event.select(
        activity_id=event["id"].cast("string"),
        deal_id=_salesforce_deal(event["what_id"]),
        type=ibis.literal("meeting"),
        occurred_at=_first_present(
            event, ("start_date_time", "activity_date_time", "activity_date")
        ),
        source_table=ibis.literal("event"),
    )


def _hubspot_engagements(con: BaseBackend, schema: str) -> ibis.Table:
    engagement = _current(con, "engagement", schema, "hubspot")
    links = _current(con, "engagement_deal", schema, "hubspot")
    kinds = _kinds_of_labels(con, engagement, "type", specific_only=False)
    joined = engagement.left_join(links, engagement["id"] == links["engagement_id"])
    return joined.select(
        activity_id=joined["id"].cast("string"),
        deal_id=joined["deal_id"].cast("string"),
        type=_relabel(joined["type"], kinds, ibis.literal("other")),
        occurred_at=joined["timestamp"].cast("timestamp"),
        source_table=ibis.literal("engagement"),
    )


def _kinds_of_labels(
    con: BaseBackend, table: ibis.Table, column: str, *, specific_only: bool
) -> dict[str, str]:
    """The activity type of each distinct label of `column` (only calls, emails and meetings
    when `specific_only`): a small query, the labels being a vendor's picklist."""
    labels = con.to_pyarrow(table.select(label=table[column].cast("string")).distinct())
    kinds = {label: activity_type_of(label) for label in labels["label"].drop_null().to_pylist()}
    return {
        label: kind
        for label, kind in kinds.items()
        if kind is not None and (kind in _SPECIFIC or not specific_only)
    }


def _relabel(labels: ibis.Value, kinds: dict[str, str], fallback: ibis.Value) -> ibis.Value:
    if not kinds:
        return fallback
    return labels.cast("string").substitute(kinds, else_=fallback)
