"""``read_warehouse``: a connector's Salesforce or HubSpot tables, in any engine, to an Export.

The deal and account tables are read as an export's files are (one row per record, cleaned by the
same rules), after the engine has joined each deal to its account, owner, stage and product; the
activities stay in the engine, as an ibis expression that ``trust_features`` counts there, so
that hundreds of millions of them never reach pandas. Every row of every table read is in a
canonical table or in the ledger, naming its table (``source_file``: ``<schema>.<table>``) and its
record's id (``record_id``): the rows that are not current records (soft-deleted, deleted at the
source, an earlier history-mode version) and the orphans of a record missing from the sync. The
owner, product and price book tables are lookups: their current rows feed the deals' columns.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import ibis
import numpy as np
import pandas as pd
from ibis.backends import BaseBackend

from salesinsight.clean.accounts import clean_accounts, enrich_deals
from salesinsight.clean.deals import clean_deals
from salesinsight.clean.ledger import concat_ledgers, read_drops
from salesinsight.clean.options import CleanOptions
from salesinsight.clean.stage_history import clean_stage_history
from salesinsight.clean.warehouse_activities import OPPORTUNITY_KEY_PREFIX, warehouse_activities
from salesinsight.clean.warehouse_tables import (
    HISTORY_TABLES,
    account_rows,
    deal_rows,
    has_table,
    history_rows,
    table_drops,
    table_rows,
)
from salesinsight.exceptions import InvalidValueError, WarehouseError
from salesinsight.export import Export, clean_options, validated_export
from salesinsight.io.detect import detect
from salesinsight.io.raw import RawTable
from salesinsight.io.warehouse.engine import connect, open_table
from salesinsight.io.warehouse.layout import CRMS, tables_of
from salesinsight.schemas import StageHistory

__all__ = ["ACTIVITY_TABLES", "LOOKUP_TABLES", "read_warehouse"]

ACTIVITY_TABLES = {"salesforce": ("task", "event"), "hubspot": ("engagement",)}
"""The tables whose rows are activities."""
LOOKUP_TABLES = {
    "salesforce": ("user", "opportunity_line_item", "product_2", "pricebook_entry"),
    "hubspot": (
        "deal_pipeline",
        "deal_pipeline_stage",
        "deal_company",
        "owner",
        "engagement_call",
        "engagement_email",
        "engagement_meeting",
        "engagement_note",
        "engagement_task",
        "engagement_deal",
    ),
}
"""The tables read for the columns they give deals and activities."""
_DEALS = {"salesforce": "opportunity", "hubspot": "deal"}
_ACCOUNTS = {"salesforce": "account", "hubspot": "company"}


def read_warehouse(
    source: Any,
    *,
    schema: str = "salesforce",
    crm: str = "auto",
    columns: Mapping[str, str] | None = None,
    currency: str | None = None,
    fx: Mapping[str, float] | None = None,
    stages: Mapping[str, str] | None = None,
) -> Export:
    """Read a connector's Salesforce or HubSpot schema into canonical deals and a ledger.

    Parameters
    ----------
    source : str, path, duckdb connection or ibis backend
        A DuckDB database file, a DuckDB connection, an ibis backend or a database URL such as
        ``postgresql://user@host/db`` (see :func:`salesinsight.io.warehouse.engine.connect`).
    schema : str, default "salesforce"
        The schema the connector writes to.
    crm : {"auto", "salesforce", "hubspot"}
        Which connector's tables; ``auto``: Salesforce if the schema has an ``opportunity``
        table, HubSpot if it has a ``deal`` table.
    columns : mapping, optional
        ``{column: field}`` overrides of the deal table's map, as for :func:`read_export`.
    currency, fx, stages
        As for :func:`read_export`.

    Returns
    -------
    Export
        ``deals`` and ``accounts`` as from exports; ``activities`` an ibis expression of the
        current activities linked to those deals or to no deal (``activity_id, deal_id, type,
        occurred_at, source_table``) that :func:`~salesinsight.features.trust_features` counts in
        the engine; ``files`` one row per table read.

    Raises
    ------
    WarehouseError
        Not a database, the connection failed, no such schema, or no deal table (the message
        lists the tables found and the closest names).
    ColumnNotFoundError
        A table lacks a column it needs (the message names the closest column).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from salesinsight.datasets.warehouse import write_sample_warehouse
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> paths = write_sample_warehouse(folder)
    >>> export = read_warehouse(paths["warehouse"], schema="salesforce")
    >>> export.crm, len(export.deals) > 2000
    ('salesforce', True)
    >>> int(export.summary().set_index("file").loc["salesforce.opportunity", "rows_dropped"])
    58
    """
    opts = clean_options(currency, fx, None, stages)
    con = connect(source)
    crm = _which_crm(con, schema, crm)
    deals_raw = deal_rows(con, crm, schema)
    deals_match = detect(deals_raw.headers, crm=crm, columns=columns, name=deals_raw.name)
    fmt = deals_match.format
    cleaned = clean_deals(deals_raw, deals_match.mapping, crm, fmt.stages, fmt.statuses, opts)
    files = [_file_row(deals_raw, "deals", crm, fmt.label, cleaned.date_format)]
    ledgers = [_with_records(cleaned.ledger, deals_raw)]
    accounts = None
    if has_table(con, _ACCOUNTS[crm], schema):
        raw = account_rows(con, crm, schema)
        match = detect(raw.headers, crm=crm, name=raw.name)
        done = clean_accounts(raw, match.mapping, opts)
        accounts = done.frame
        files.append(_file_row(raw, "accounts", crm, match.format.label, ""))
        ledgers.append(_with_records(done.ledger, raw))
    deals = enrich_deals(cleaned.frame, accounts)
    ids = ibis.memtable(pd.DataFrame({"deal_id": deals["deal_id"].astype(str).to_numpy()}))
    rows, dropped = _other_tables(con, crm, schema, ids)
    files += rows
    ledgers += dropped
    history = None
    if has_table(con, HISTORY_TABLES[crm], schema):
        history, row, dropped_history = _stage_history(con, crm, schema, deals, opts)
        files.append(row)
        ledgers.append(dropped_history)
    ledger = concat_ledgers(ledgers)
    export = validated_export(
        deals,
        None,
        accounts,
        ledger,
        crm=crm,
        currency=cleaned.currency,
        files=pd.DataFrame(files),
        unmapped={
            deals_raw.name: tuple(h for h in deals_raw.headers if h not in deals_match.mapping)
        },
    )
    return dataclasses.replace(
        export, activities=_linked_activities(con, crm, schema, ids), stage_history=history
    )


def _stage_history(
    con: BaseBackend, crm: str, schema: str, deals: pd.DataFrame, opts: CleanOptions
) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """The history table cleaned against the deals: its rows, its ``files`` row, its ledger."""
    raw = history_rows(con, crm, schema)
    cells = raw.table.drop_columns(["record_id"]).to_pandas()
    cells["source_row"] = raw.source_row
    cleaned = clean_stage_history(cells, deals, source_file=raw.name, crm=crm, stages=opts.stages)
    ledger = _with_records(concat_ledgers([read_drops(raw), cleaned.ledger]), raw)
    label = f"{_LABELS[crm]} {HISTORY_TABLES[crm]} table (connector sync)"
    row = _file_row(raw, "stage_history", crm, label, "")
    return StageHistory.validate(cleaned.frame), row, ledger


def _which_crm(con: BaseBackend, schema: str, crm: str) -> str:
    if crm not in (*CRMS, "auto"):
        raise InvalidValueError(
            f"`crm` must be 'auto' or one of {', '.join(map(repr, CRMS))} for a warehouse; "
            f"received {crm!r}."
        )
    if crm != "auto":
        open_table(con, _DEALS[crm], schema=schema)
        return crm
    for name in CRMS:
        if schema in con.list_databases() and has_table(con, _DEALS[name], schema):
            return name
    # No deal table of either connector: the error lists what the schema holds.
    open_table(con, _DEALS["salesforce" if schema != "hubspot" else "hubspot"], schema=schema)
    raise WarehouseError(f"No deal table in schema `{schema}`.")  # pragma: no cover


def _file_row(raw: RawTable, role: str, crm: str, label: str, date_format: str) -> dict:
    return {
        "file": raw.name,
        "role": role,
        "crm": crm,
        "format": label,
        "encoding": None,
        "delimiter": None,
        "decimal": None,
        "date_format": date_format or None,
        "rows_read": raw.n_rows,
    }


def _with_records(ledger: pd.DataFrame, raw: RawTable) -> pd.DataFrame:
    """`ledger` with the record id of each of its rows of `raw`'s table, from its row number."""
    if not len(ledger):
        return ledger
    keys = np.full(raw.n_rows + 1, None, dtype=object)
    kept = raw.table.column(raw.headers[0]).to_pylist()
    keys[raw.source_row] = kept
    if len(raw.dropped):
        keys[raw.dropped["source_row"].to_numpy()] = raw.dropped["value"].to_numpy(dtype=object)
    mine = ledger["source_file"].eq(raw.name).to_numpy()
    rows = ledger["source_row"].to_numpy()
    record = np.full(len(ledger), None, dtype=object)
    record[mine] = keys[rows[mine]]
    return ledger.assign(record_id=record)


def _other_tables(
    con: BaseBackend, crm: str, schema: str, ids: ibis.Table
) -> tuple[list[dict], list[pd.DataFrame]]:
    """The files rows and ledger rows of the activity and lookup tables present."""
    rows, ledgers = [], []
    for name in tables_of(crm):
        if name not in (*ACTIVITY_TABLES[crm], *LOOKUP_TABLES[crm]):
            continue
        if not has_table(con, name, schema):
            continue
        ledgers.append(_drops(con, crm, name, schema, ids))
        rows.append(
            {
                "file": f"{schema}.{name}",
                "role": "activities" if name in ACTIVITY_TABLES[crm] else "lookup",
                "crm": crm,
                "format": f"{_LABELS[crm]} {name} table (connector sync)",
                "encoding": None,
                "delimiter": None,
                "decimal": None,
                "date_format": None,
                "rows_read": table_rows(con, crm, name, schema),
            }
        )
    return rows, ledgers


_LABELS = {"salesforce": "Salesforce", "hubspot": "HubSpot"}
_LINKS = {
    "opportunity_line_item": ("opportunity_id", None),
    "task": ("what_id", OPPORTUNITY_KEY_PREFIX),
    "event": ("what_id", OPPORTUNITY_KEY_PREFIX),
    "deal_company": ("deal_id", None),
    "engagement_deal": ("deal_id", None),
}


def _drops(con: BaseBackend, crm: str, name: str, schema: str, ids: ibis.Table) -> pd.DataFrame:
    """The rows of `name` that are not current records, and its orphans of a missing deal."""
    if crm == "hubspot" and name == "engagement":
        return _engagement_drops(con, schema, ids)
    link, prefix = _LINKS.get(name, (None, None))
    copies = None
    if crm == "salesforce" and name == "event":
        copies = "is_child" if "is_child" in open_table(con, name, schema=schema).columns else None
    return table_drops(con, crm, name, schema, link=link, parents=ids, prefix=prefix, copies=copies)


def _engagement_drops(con: BaseBackend, schema: str, ids: ibis.Table) -> pd.DataFrame:
    """Engagements not current, and those all of whose deal links point at missing deals."""
    if not has_table(con, "engagement_deal", schema):
        return table_drops(con, "hubspot", "engagement", schema)
    links = open_table(con, "engagement_deal", schema=schema)
    flagged = links.select(
        engagement=links["engagement_id"].cast("string"),
        ok=ibis.ifelse(links["deal_id"].cast("string").isin(ids["deal_id"]), 1, 0),
    )
    per = flagged.group_by("engagement").aggregate(n_ok=flagged["ok"].sum())
    engagement = open_table(con, "engagement", schema=schema)
    everyone = engagement.select(engagement=engagement["id"].cast("string"))
    lost = per.filter(per["n_ok"] == 0).select("engagement")
    parents = everyone.anti_join(lost, "engagement")
    frame = table_drops(con, "hubspot", "engagement", schema, link="id", parents=parents)
    orphan = frame["code"].eq("orphan")
    frame.loc[orphan, "reason"] = (
        "an orphan: every deal it is associated with is missing from the sync"
    )
    frame.loc[orphan, "deal_id"] = None
    return frame


def _linked_activities(con: BaseBackend, crm: str, schema: str, ids: ibis.Table) -> Any:
    """The current activities on the deals read or on no deal, as an expression in the engine."""
    names = ACTIVITY_TABLES[crm]
    if not all(has_table(con, n, schema) for n in names):
        return None
    acts = warehouse_activities(con, crm=crm, schema=schema)
    return acts.filter(acts["deal_id"].isnull() | acts["deal_id"].isin(ids["deal_id"]))
