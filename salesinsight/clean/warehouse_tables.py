"""A warehouse's deal and account tables as the rows a cleaner reads, and the rows it leaves out.

:func:`deal_rows` joins a connector's deal table to the tables that name its account, owner,
stage and product, inside the engine, and fetches one row per record of the deal table (current
or not) as text cells: a :class:`~salesinsight.io.raw.RawTable` whose rows that are not current
records (soft-deleted, deleted at the source, an earlier history-mode version) are already
dropped with their reason, so that the deals cleaner of exports reads the rest. The row numbers
(``source_row``) count the table's rows ordered by its key; the table's name,
``<schema>.<table>``, stands for the file name.

:func:`table_drops` lists, as ledger rows, the rows of any other table that are not current
records, and :func:`orphan_drops` the current rows that point at a record missing from the sync
(a line item of a deleted opportunity, an activity on a deal the sync lacks): each row names its
table and its record's id (``record_id``; a composite key joined by ``|``).
"""

from __future__ import annotations

import dataclasses

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends import BaseBackend

from salesinsight.clean.ledger import empty_ledger, ledger_frame
from salesinsight.io.arrow import TEXT
from salesinsight.io.raw import RawTable
from salesinsight.io.warehouse.conventions import DROP_CODES, current_rows, drop_reason
from salesinsight.io.warehouse.engine import open_table, require_columns
from salesinsight.io.warehouse.layout import TableLayout, table_layout

__all__ = [
    "HISTORY_TABLES",
    "account_rows",
    "deal_rows",
    "has_table",
    "history_rows",
    "record_keys",
    "table_drops",
    "table_rows",
]

_ROW = "__source_row"
_WHY = "__why"


def has_table(con: BaseBackend, name: str, schema: str) -> bool:
    """Whether `schema` holds table `name`."""
    return name in con.list_tables(database=schema)


def record_keys(table: ibis.Table, layout: TableLayout) -> ibis.Value:
    """The record id of each row as text: the key, its parts joined by ``|``."""
    parts = [table[c].cast("string") for c in layout.key]
    if len(parts) == 1:
        return parts[0]
    out = parts[0]
    for part in parts[1:]:
        out = out.concat("|", part)
    return out


def _opened(con: BaseBackend, layout: TableLayout, schema: str) -> ibis.Table:
    table = open_table(con, layout.name, schema=schema)
    require_columns(table, layout.required, name=f"{schema}.{layout.name}")
    return table


def _numbered(
    table: ibis.Table, layout: TableLayout, only: tuple[str | None, ...] | None = None
) -> ibis.Table:
    """`table` with its row number by key (1-based) and the reason a row is not current; with
    `only`, just the key, the connector's columns and those named (the numbering sorts the
    table, and a sort of hundreds of millions of rows should carry no more than it needs)."""
    if only is not None:
        wanted = [*layout.key, *layout.conventions, *(c for c in only if c)]
        table = table.select(*dict.fromkeys(c for c in wanted if c in table.columns))
    order = [table[c] for c in layout.key]
    if "_fivetran_start" in table.columns:
        order.append(table["_fivetran_start"])
    return table.mutate(
        **{_ROW: ibis.row_number().over(order_by=order) + 1, _WHY: drop_reason(table, layout)}
    )


def table_rows(con: BaseBackend, crm: str, name: str, schema: str) -> int:
    """How many rows table `name` holds."""
    return int(con.to_pyarrow(open_table(con, name, schema=schema).count()).as_py())


def table_drops(
    con: BaseBackend,
    crm: str,
    name: str,
    schema: str,
    *,
    link: str | None = None,
    parents: ibis.Table | None = None,
    prefix: str | None = None,
    what: str = "deal",
    copies: str | None = None,
) -> pd.DataFrame:
    """Ledger rows of the rows of `schema.name` that are not current records and, given `link`
    and `parents`, of the current rows whose `link` names no id of `parents` (a table whose
    first column is the ids present): orphans of a missing `what`. With `prefix`, only link
    values starting with it point at a `what` (a Salesforce ``what_id`` names many objects).
    With `copies`, the current rows where that boolean column is true are dropped too, as copies
    of another row (Salesforce's child rows of a group event). One query: the table is read
    once.

    Examples
    --------
    >>> con = ibis.duckdb.connect()
    >>> _ = con.raw_sql("CREATE SCHEMA salesforce; CREATE TABLE salesforce.user AS "
    ...                 "SELECT * FROM (VALUES ('005b', 'Bo', true), ('005a', 'Al', false)) "
    ...                 "t(id, name, _fivetran_deleted)")
    >>> table_drops(con, "salesforce", "user", "salesforce")[["source_row", "record_id", "code"]]
       source_row record_id     code
    0           2      005b  deleted
    """
    layout = table_layout(crm, name)
    table = _numbered(_opened(con, layout, schema), layout, only=(link, copies))
    ref = ibis.null("string")
    if link is not None and parents is not None:
        ref = table[link].cast("string")
        if prefix is not None:
            ref = ibis.ifelse(ref.startswith(prefix), ref, ibis.null("string"))
        ids = parents.select(__parent=parents[parents.columns[0]].cast("string")).distinct()
        table = table.mutate(__ref=ref)
        table = table.left_join(ids, table["__ref"] == ids["__parent"])
        orphan = table["__ref"].notnull() & table["__parent"].isnull()
        reason = f"an orphan: its {what} ({link}) is not among the current records of the sync"
        why = ibis.ifelse(table[_WHY].isnull() & orphan, ibis.literal(reason), table[_WHY])
        table = table.mutate(**{_WHY: why})
        ref = table["__ref"]
    if copies is not None:
        copy = table[_WHY].isnull() & table[copies].fill_null(False)
        reason = f"a copy of another row of the table ({copies} is true): counted once"
        table = table.mutate(**{_WHY: ibis.ifelse(copy, ibis.literal(reason), table[_WHY])})
    rows = table.filter(table[_WHY].notnull())
    found = con.to_pyarrow(
        rows.select(
            _ROW, _WHY, key=record_keys(rows, layout),
            deal=ref if what == "deal" else ibis.null("string"),
        ).order_by(_ROW)
    )  # fmt: skip
    return _drops_frame(f"{schema}.{name}", found)


def _drops_frame(source: str, found: pa.Table) -> pd.DataFrame:
    if not found.num_rows:
        return empty_ledger()
    why = np.asarray(found[_WHY].to_pylist(), dtype=object)
    keys = np.asarray(found["key"].to_pylist(), dtype=object)
    deals = np.asarray(found["deal"].to_pylist(), dtype=object)
    frames = []
    for reason in dict.fromkeys(why.tolist()):
        mask = why == reason
        frames.append(
            ledger_frame(
                source,
                found[_ROW].to_numpy()[mask],
                action="dropped",
                reason=reason,
                code=DROP_CODES.get(reason, "copy" if "copy" in reason else "orphan"),
                record_id=keys[mask],
                deal_id=deals[mask],
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values("source_row", ignore_index=True)


def deal_rows(con: BaseBackend, crm: str, schema: str) -> RawTable:
    """Every row of the deal table, joined to its account, owner, stage and product, as text:
    the current records kept, the others dropped with their reason."""
    name = "opportunity" if crm == "salesforce" else "deal"
    layout = table_layout(crm, name)
    table = _numbered(_opened(con, layout, schema), layout)
    view = (
        _salesforce_view(con, table, schema)
        if crm == "salesforce"
        else _hubspot_view(con, table, schema)
    )
    return _raw_table(f"{schema}.{name}", con.to_pyarrow(view.order_by(_ROW)), layout)


def account_rows(con: BaseBackend, crm: str, schema: str) -> RawTable:
    """Every row of the account (company) table as text, the rows not current dropped."""
    name = "account" if crm == "salesforce" else "company"
    layout = table_layout(crm, name)
    table = _numbered(_opened(con, layout, schema), layout)
    keep = [c for c in layout.columns if c in table.columns and not c.startswith("_")]
    view = table.select(*keep, _ROW, _WHY)
    return _raw_table(f"{schema}.{name}", con.to_pyarrow(view.order_by(_ROW)), layout)


HISTORY_TABLES = {"salesforce": "opportunity_history", "hubspot": "deal_stage"}
"""The connector's stage-history table of each CRM."""
# Connector columns onto the raw stage-history fields the history cleaner reads.
_HISTORY_FIELDS = {
    "salesforce": {
        "id": "history_id",
        "opportunity_id": "deal_id",
        "stage_name": "stage",
        "created_date": "entered_at",
        "amount": "amount",
        "prev_amount": "prev_amount",
        "probability": "probability",
    },
    "hubspot": {"deal_id": "deal_id", "stage_label": "stage", "date_entered": "entered_at"},
}


def history_rows(con: BaseBackend, crm: str, schema: str) -> RawTable:
    """Every row of the stage-history table (``opportunity_history``, HubSpot ``deal_stage``)
    under the raw history field names, as text: the rows not current dropped with their reason.

    HubSpot's ``value`` is the stage id, named through ``deal_pipeline_stage``; a stage's exit
    is the deal's next entry, as for Salesforce.
    """
    name = HISTORY_TABLES[crm]
    layout = table_layout(crm, name)
    table = _numbered(_opened(con, layout, schema), layout)
    if crm == "hubspot":
        table = _joined(table, _current(con, crm, "deal_pipeline_stage", schema), "value",
                        "stage_id", stage_label="label")  # fmt: skip
        # A stage id without a label in the pipeline table stands for itself.
        table = table.mutate(
            stage_label=table["stage_label"].fill_null(table["value"].cast("string"))
        )
    fields = {c: f for c, f in _HISTORY_FIELDS[crm].items() if c in table.columns}
    view = table.select(
        *layout.key,
        _ROW,
        _WHY,
        __record_id=record_keys(table, layout),
        **{f"__{f}": table[c] for c, f in fields.items()},
    )
    raw = _raw_table(f"{schema}.{name}", con.to_pyarrow(view.order_by(_ROW)), layout)
    # The record id first (the ledger names rows by it), then the history fields.
    cells = raw.table.drop_columns([c for c in layout.key if c in raw.table.column_names])
    cells = cells.rename_columns([c.removeprefix("__") for c in cells.column_names])
    return dataclasses.replace(raw, table=cells)


def _raw_table(name: str, fetched: pa.Table, layout: TableLayout) -> RawTable:
    why = fetched[_WHY]
    rows = fetched[_ROW].to_numpy().astype(np.int64)
    dropped = why.is_valid().to_numpy(zero_copy_only=False)
    keys = [pc.cast(fetched[c], pa.string()) for c in layout.key]
    key = keys[0] if len(keys) == 1 else pc.binary_join_element_wise(*keys, "|")
    cells = fetched.drop_columns([_ROW, _WHY])
    text = pa.table({c: _as_text(cells[c]) for c in cells.column_names})
    reasons = why.to_pylist()
    lost = pd.DataFrame(
        {
            "source_row": rows[dropped],
            "value": np.asarray(key.to_pylist(), dtype=object)[dropped],
            "code": [DROP_CODES[r] for r, d in zip(reasons, dropped, strict=True) if d],
            "reason": [r for r, d in zip(reasons, dropped, strict=True) if d],
        }
    ).astype({"source_row": "int64"})
    return RawTable(
        name=name,
        table=text.filter(pa.array(~dropped)),
        source_row=rows[~dropped],
        n_rows=len(rows),
        encoding="",
        delimiter=None,
        kind="warehouse",
        dropped=lost,
    )


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_timestamp(kind):
        # ISO 8601 with a "T" and whole seconds, as exports write them.
        column = pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
    elif pa.types.is_boolean(kind):
        column = pc.if_else(column, "true", "false")
    return pc.cast(column, TEXT)


def _current(con: BaseBackend, crm: str, name: str, schema: str) -> ibis.Table | None:
    if not has_table(con, name, schema):
        return None
    layout = table_layout(crm, name)
    return current_rows(_opened(con, layout, schema), layout)


def _joined(table: ibis.Table, lookup: ibis.Table | None, on: str, key: str, **named) -> ibis.Table:
    """`table` with the columns `named` ({new name: lookup column}) of the `lookup` row whose
    `key` equals `on`; null columns without a lookup table."""
    if lookup is None or on not in table.columns:
        return table.mutate(**{n: ibis.null("string") for n in named})
    present = {n: c for n, c in named.items() if c in lookup.columns}
    if not present:
        return table.mutate(**{n: ibis.null("string") for n in named})
    side = lookup.select(
        __key=lookup[key].cast("string"), **{n: lookup[c] for n, c in present.items()}
    )
    # One row per key (a key repeated in a lookup table would repeat deals), portably: the
    # first by a window, which every engine has.
    side = side.mutate(__n=ibis.row_number().over(group_by=side["__key"], order_by=side["__key"]))
    side = side.filter(side["__n"] == 0).drop("__n")
    out = table.left_join(side, table[on].cast("string") == side["__key"]).drop("__key")
    missing = {n: ibis.null("string") for n in named if n not in present}
    return out.mutate(**missing) if missing else out


def _salesforce_view(con: BaseBackend, opp: ibis.Table, schema: str) -> ibis.Table:
    layout = table_layout("salesforce", "opportunity")
    own = [c for c in layout.required + layout.optional if c in opp.columns]
    view = opp.select(*own, _ROW, _WHY)
    accounts = _current(con, "salesforce", "account", schema)
    view = _joined(
        view,
        accounts,
        "account_id",
        "id",
        account_name="name",
        account_industry="industry",
        account_number_of_employees="number_of_employees",
        account_segment_c="segment_c",
    )
    view = _joined(view, _users(con, schema), "owner_id", "id", owner_name="name")
    return _joined(view, _products(con, schema), "id", "deal", product_name="product",
                   list_price="list_price")  # fmt: skip


def _users(con: BaseBackend, schema: str) -> ibis.Table | None:
    users = _current(con, "salesforce", "user", schema)
    if users is None or "name" in users.columns:
        return users
    first = users["first_name"] if "first_name" in users.columns else ibis.literal("")
    last = users["last_name"] if "last_name" in users.columns else ibis.literal("")
    return users.mutate(name=first.fill_null("").concat(" ", last.fill_null("")).strip())


def _products(con: BaseBackend, schema: str) -> ibis.Table | None:
    """Per opportunity: the product of its line of the largest ``total_price`` and the sum of
    ``list_price * quantity`` over its lines."""
    lines = _current(con, "salesforce", "opportunity_line_item", schema)
    if lines is None:
        return None
    products = _current(con, "salesforce", "product_2", schema)
    lines = _joined(lines, products, "product_2_id", "id", product="name")
    if "list_price" in lines.columns and "quantity" in lines.columns:
        lines = lines.mutate(line_list=lines["list_price"] * lines["quantity"])
    else:
        lines = lines.mutate(line_list=ibis.null("float64"))
    size = lines["total_price"] if "total_price" in lines.columns else lines["line_list"]
    ranked = lines.mutate(
        __rank=ibis.row_number().over(
            group_by=lines["opportunity_id"], order_by=[size.desc(), lines["id"]]
        ),
        # In cents, as a price is: the products of fractional quantities leave float dust.
        __total=lines["line_list"].sum().over(group_by=lines["opportunity_id"]).round(2),
    )
    top = ranked.filter(ranked["__rank"] == 0)
    return top.select(
        deal=top["opportunity_id"].cast("string"), product=top["product"], list_price=top["__total"]
    )


def _hubspot_view(con: BaseBackend, deal: ibis.Table, schema: str) -> ibis.Table:
    layout = table_layout("hubspot", "deal")
    own = [c for c in layout.required + layout.optional if c in deal.columns]
    view = deal.select(*own, _ROW, _WHY)
    view = view.mutate(deal_id=view["deal_id"].cast("string"))
    stages = _current(con, "hubspot", "deal_pipeline_stage", schema)
    if stages is not None:
        closed_won = stages["closed_won"].fill_null(False)
        lost = stages["probability"].fill_null(-1) == 0
        stages = stages.mutate(won=closed_won, closed=closed_won | lost)
    view = _joined(view, stages, "deal_pipeline_stage_id", "stage_id", stage_label="label",
                   is_won="won", is_closed="closed")  # fmt: skip
    view = _joined(view, _owners(con, schema), "owner_id", "owner_id", owner_name="name")
    return _joined(view, _companies(con, schema), "deal_id", "deal", company_id="company_id",
                   company_name="property_name", company_industry="property_industry",
                   company_employees="property_numberofemployees")  # fmt: skip


def _owners(con: BaseBackend, schema: str) -> ibis.Table | None:
    owners = _current(con, "hubspot", "owner", schema)
    if owners is None:
        return None
    parts = [owners[c].fill_null("") for c in ("first_name", "last_name") if c in owners.columns]
    name = parts[0].concat(" ", parts[1]) if len(parts) == 2 else (parts or [ibis.literal("")])[0]
    return owners.mutate(name=name.strip())


def _companies(con: BaseBackend, schema: str) -> ibis.Table | None:
    """Per deal: its associated company (the lowest company id when there are several)."""
    links = _current(con, "hubspot", "deal_company", schema)
    if links is None:
        return None
    companies = _current(con, "hubspot", "company", schema)
    first = links.group_by("deal_id").aggregate(company_id=links["company_id"].min())
    first = first.select(deal=first["deal_id"].cast("string"), company_id=first["company_id"])
    joined = _joined(first, companies, "company_id", "id", property_name="property_name",
                     property_industry="property_industry",
                     property_numberofemployees="property_numberofemployees")  # fmt: skip
    return joined.mutate(company_id=joined["company_id"].cast("string"))
