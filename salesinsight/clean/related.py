"""Activities and accounts exports: canonical tables linked to the deals read with them.

An activity is linked to a deal by the vendor's deal id (``WhatId``, ``Associated Deal IDs``,
``Activity - Deal ID``) where exported, else by the deal's name when exactly one deal has it. A
reference that matches no deal read keeps the activity with ``deal_id`` missing and a ledger row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.clean.dates import parse_date_fields
from salesinsight.clean.deals import Cleaned, CleanOptions, _column_names, _read_drops, _read_fixes
from salesinsight.clean.ids import Ids, account_key, account_keys, dedupe
from salesinsight.clean.money import number_column
from salesinsight.io.arrow import (
    TEXT,
    beside,
    empty_ledger,
    keep_columns,
    ledger_frame,
    map_uniques,
    repeat_text,
    text_series,
)
from salesinsight.io.files import RawTable
from salesinsight.io.formats import TableFormat

__all__ = [
    "PreparedActivities",
    "activity_type_of",
    "clean_accounts",
    "clean_activities",
    "link_activities",
    "prepare_activities",
]

_TYPE_RULES = (
    ("call", r"call|phone|dial"),
    ("email", r"e-?mail|\bmail\b|inmail"),
    ("meeting", r"meeting|event|demo|appointment|visit|presentation|lunch|conference"),
    ("task", r"task|to-?do|follow"),
)


def activity_type_of(kind: str | None) -> str | None:
    """Map an activity type label onto call, email, meeting, task or other.

    Examples
    --------
    >>> [activity_type_of(k) for k in ["Call", "EMAIL", "Meeting", "To-do", "Note", None]]
    ['call', 'email', 'meeting', 'task', 'other', None]
    """
    if kind is None or not kind.strip():
        return None
    text = kind.replace("_", " ").casefold()
    for name, pattern in _TYPE_RULES:
        if re.search(pattern, text):
            return name
    return "other"


def _first_ref(ref: str | None) -> str | None:
    if ref is None:
        return None
    token = re.split(r"[;,|]", ref)[0].strip()
    return token or None


@dataclass
class PreparedActivities:
    """The activities of one file cleaned as far as they can be without the deals: ids,
    duplicates, dates and types (see :func:`prepare_activities`), and the columns still to use.
    """

    name: str
    source_row: np.ndarray
    columns: dict[str, pa.ChunkedArray]
    ids: Ids
    drop: np.ndarray
    occurred: np.ndarray
    kinds: pa.Array | pa.ChunkedArray
    ledger: list[pd.DataFrame]
    fixes: pd.DataFrame
    date_format: str


_USED = ("activity_id", "deal_ref", "deal_name", "account", "type", "occurred_at", "owner")


def clean_activities(
    raw: RawTable,
    mapping: Mapping[str, str],
    fmt: TableFormat,
    opts: CleanOptions,
    deals: pd.DataFrame,
) -> Cleaned:
    """Canonical activities of one file, linked to ``deals``."""
    return link_activities(prepare_activities(raw, mapping, fmt, opts), deals)


def prepare_activities(
    raw: RawTable, mapping: Mapping[str, str], fmt: TableFormat, opts: CleanOptions
) -> PreparedActivities:
    """The part of :func:`clean_activities` that needs no deals: it can run while they are read.

    Only the columns still to be used are kept, so the others are let go with `raw`.
    """
    names = _column_names(raw, mapping)
    by_field = {f: h for h, f in names.items()}
    table, n = raw.table, raw.table.num_rows
    vendor = by_field.get("activity_id")

    def ids_and_duplicates():
        return dedupe(
            raw,
            table.column(vendor) if vendor is not None else None,
            np.zeros(n, bool),
            prefix="act-",
            noun="activity",
        )

    def dates_and_types():
        found: list[pd.DataFrame] = []
        dates, note, _ = parse_date_fields(raw, names, opts.dayfirst, found, None)
        kind = by_field.get("type")
        kinds = (
            map_uniques(table.column(kind), activity_type_of, n, arrow=True)
            if kind is not None
            else pa.nulls(n, TEXT)
        )
        default = fmt.default_type or (
            "meeting" if "StartDateTime" in by_field.values() else "other"
        )
        return dates, note, pc.fill_null(kinds, default), found

    # Ids and duplicates in one thread, dates and types in another, for a large export.
    (ids, drop, frames), (dates, note, kinds, date_rows) = beside(
        ids_and_duplicates, dates_and_types, n_rows=n * 2
    )
    ledger = [_read_drops(raw), *frames, *date_rows]
    occurred = dates.get("occurred_at", np.full(n, np.datetime64("NaT"), "datetime64[ns]"))
    columns: dict[str, pa.ChunkedArray] = {
        f: table.column(by_field[f])
        for f in ("deal_ref", "deal_name", "account", "owner", "subject")
        if f in by_field
    }
    for h, f in names.items():
        if f not in _USED and f not in columns:
            columns[f] = table.column(h)
    fixes = _read_fixes(raw, names, None)
    return PreparedActivities(
        raw.name, raw.source_row, columns, ids, drop, occurred, kinds, ledger, fixes, note
    )


def link_activities(prep: PreparedActivities, deals: pd.DataFrame) -> Cleaned:
    """Prepared activities linked to ``deals``, as the canonical table and its ledger rows.

    `prep` is used up: each of its columns is let go once its kept rows are copied, so a large
    export is never held twice.
    """
    ledger, n = list(prep.ledger), len(prep.source_row)
    columns, keep = prep.columns, ~prep.drop
    refs = {f: columns.pop(f) for f in ("deal_ref", "deal_name") if f in columns}
    text = {
        "activity_id": prep.ids.arrow,
        "account": columns.pop("account", None),
        "type": prep.kinds,
        "owner": columns.pop("owner", None),
        **columns,
    }
    columns.clear()
    prep.ids = prep.kinds = None  # type: ignore[assignment]
    text = {f: c if c is not None else pa.nulls(n, TEXT) for f, c in text.items()}
    # The kept rows of the text columns are copied while the activities are linked.
    (deal_id, (rows, values)), kept = beside(
        lambda: _link(refs.get, deals, n), lambda: keep_columns(text, keep), n_rows=n
    )
    refs.clear()
    kept["deal_id"] = keep_columns({"deal_id": deal_id}, keep)["deal_id"]
    del deal_id
    if len(rows):
        ledger.append(
            ledger_frame(
                prep.name,
                prep.source_row[rows],
                action="set_missing",
                reason="the linked deal is not among the deals read; deal_id left missing",
                code="unlinked",
                column="deal_id",
                value=values,
            )
        )
    m = int(keep.sum())
    series = {f: text_series(kept.pop(f), m) for f in list(kept)}
    front = {
        "activity_id": series.pop("activity_id"),
        "deal_id": series.pop("deal_id"),
        "account": series.pop("account"),
        "type": series.pop("type"),
        "occurred_at": prep.occurred[keep],
        "owner": series.pop("owner"),
        "source_file": text_series(repeat_text(prep.name, m), m),
        "source_row": prep.source_row[keep],
    }
    # (Its arrays are new: the frame need not copy them.)
    frame = pd.DataFrame({**front, **series}, copy=False)
    ledger.append(prep.fixes)
    result = pd.concat([x for x in ledger if len(x)] or [empty_ledger()], ignore_index=True)
    return Cleaned(frame, result, prep.date_format)


def _first_refs(ref: pa.ChunkedArray, n: int) -> pa.ChunkedArray | pa.Array:
    """The first deal id of each reference cell (a cell may list several, split by ``;,|``)."""
    if pc.all(pc.fill_null(pc.utf8_is_alnum(ref), True)).as_py():
        # Letters and digits only (CRM record ids): nothing to split or trim.
        return ref
    present = _bytes_present(ref)
    if present[list(b";,|")].any():
        return map_uniques(ref, _first_ref, n, arrow=True)
    if not present[[*b" \t\r\n\v\f", *range(0x80, 0x100)]].any():
        # Plain ASCII ids: nothing to split or trim (empty cells were read as missing).
        return ref
    trimmed = pc.utf8_trim_whitespace(ref)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, trimmed.type), trimmed)


def _bytes_present(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Which of the 256 byte values occur in the cells' text buffers (one pass at memory speed;
    bytes outside a sliced chunk may show up, which only sends the caller the general way)."""
    seen = np.zeros(256, dtype=np.int64)
    chunks = values.chunks if isinstance(values, pa.ChunkedArray) else [values]
    for chunk in chunks:
        data = chunk.buffers()[2]
        if data is not None and data.size:
            seen += np.bincount(np.frombuffer(data, dtype=np.uint8), minlength=256)
    return seen > 0


def _link(col, deals: pd.DataFrame, n: int):
    """Deal id of each activity, and the rows (with their reference) that match no deal."""
    null = pa.scalar(None, TEXT)
    linked = wanted = pa.nulls(n, TEXT)
    known = pa.array(deals["deal_id"].dropna(), TEXT)
    ref = col("deal_ref")
    if ref is not None:
        wanted = _first_refs(ref, n).cast(TEXT)
        linked = pc.if_else(pc.is_in(wanted, value_set=known), wanted, null)
    name = col("deal_name")
    if name is not None and "deal_name" in deals:
        names = deals["deal_name"].dropna()
        unique = names[~names.duplicated(keep=False)]
        lookup = dict(zip(unique, deals.loc[unique.index, "deal_id"], strict=True))
        by_name = map_uniques(name, lambda v: lookup.get(v.strip()) if v else None, n, arrow=True)
        linked = pc.coalesce(linked, by_name)
        wanted = pc.coalesce(wanted, name.cast(TEXT))
    missing = np.asarray(pc.and_(pc.is_null(linked), pc.is_valid(wanted)))
    rows = np.flatnonzero(missing)
    return linked, (rows, wanted.take(pa.array(rows)).to_pylist())


def clean_accounts(raw: RawTable, mapping: Mapping[str, str], opts: CleanOptions) -> Cleaned:
    """Canonical accounts of one file: one row per account id."""
    names = _column_names(raw, mapping)
    by_field = {f: h for h, f in names.items()}
    table, n = raw.table, raw.table.num_rows

    def col(f: str):
        h = by_field.get(f)
        return table.column(h) if h is not None else None

    ledger = [_read_drops(raw)]
    derived = (
        np.asarray(account_keys(col("account")).to_pylist(), dtype=object)
        if col("account") is not None
        else None
    )
    ids, drop, frames = dedupe(
        raw, col("account_id"), np.zeros(n, bool), prefix="acct-", noun="account", derived=derived
    )
    ledger.extend(frames)
    frame = pd.DataFrame(
        {
            "account_id": text_series(ids.arrow, n),
            "account": text_series(col("account"), n),
            "source_file": np.full(n, raw.name, dtype=object),
            "source_row": raw.source_row,
        }
    )
    for f in ("industry", "segment"):
        if col(f) is not None:
            frame[f] = text_series(col(f), n)
    if col("employees") is not None:
        frame["employees"] = number_column(col("employees"), "employees", raw, ids, ledger)
    for h, f in names.items():
        if f not in frame and f not in ("account_id", "account", "employees"):
            frame[f] = text_series(table.column(h), n)
    frame = frame.loc[~drop].reset_index(drop=True)
    ledger.append(_read_fixes(raw, names, None))
    result = pd.concat([x for x in ledger if len(x)] or [empty_ledger()], ignore_index=True)
    result["deal_id"] = None
    return Cleaned(frame, result)


def enrich_deals(deals: pd.DataFrame, accounts: pd.DataFrame | None) -> pd.DataFrame:
    """Fill deals' account name, industry, employees and segment from an accounts export.

    A deal finds its account by ``account_id``, else by the normalised account name (a deals
    report without account ids then takes the accounts export's ids).
    """
    if accounts is None or not len(accounts):
        return deals
    table = accounts.drop_duplicates("account_id").set_index("account_id")
    names = accounts.assign(key=accounts["account"].map(account_key, na_action="ignore"))
    by_name = names.dropna(subset=["key"]).drop_duplicates("key").set_index("key")["account_id"]
    out = deals.copy()
    known = out["account_id"].isin(table.index)
    keys = out["account"].map(account_key, na_action="ignore")
    out["account_id"] = out["account_id"].where(known, keys.map(by_name)).fillna(out["account_id"])
    for f in ("account", "industry", "employees", "segment"):
        if f not in table:
            continue
        looked_up = out["account_id"].map(table[f])
        out[f] = looked_up if f not in out else out[f].where(out[f].notna(), looked_up)
    return out
