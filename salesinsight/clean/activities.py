"""Activities exports: canonical activities linked to the deals read with them.

An activity is linked to a deal by the vendor's deal id (``WhatId``, ``Associated Deal IDs``,
``Activity - Deal ID``) where exported, else by the deal's name when exactly one deal has it. A
reference that matches no deal read keeps the activity with ``deal_id`` missing and a ledger row;
a row that names no deal, related record or account at all (Zoho's Tasks export may carry no
related-record id) cannot be linked to anything and is dropped, with a ledger row saying so. The
``contact`` column holds whom the activity was with, where the export names a contact.
Ids, duplicates, dates and types need no deals (:func:`prepare_activities`, run while the deals
are read); :func:`link_activities` links them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.clean.categories import activity_type_of
from salesinsight.clean.dates import DateFields, parse_date_fields
from salesinsight.clean.ids import Deduped, Ids, dedupe
from salesinsight.clean.ledger import (
    concat_ledgers,
    empty_ledger,
    ledger_frame,
    read_drops,
    read_fixes,
)
from salesinsight.clean.options import Cleaned, CleanOptions, column_names
from salesinsight.io.arrow import (
    TEXT,
    beside,
    keep_columns,
    map_uniques,
    repeat_text,
    take_rows,
    text_series,
)
from salesinsight.io.formats import TableFormat
from salesinsight.io.raw import RawTable

__all__ = [
    "PreparedActivities",
    "clean_activities",
    "link_activities",
    "prepare_activities",
]


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
    ledger: pd.DataFrame
    fixes: pd.DataFrame
    date_format: str


_USED = (
    "activity_id",
    "deal_ref",
    "deal_name",
    "account",
    "type",
    "occurred_at",
    "owner",
    "contact",
)
_LINKS = ("deal_ref", "deal_name", "account")


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
    names = column_names(raw, mapping)
    by_field = {f: h for h, f in names.items()}
    table, n = raw.table, raw.table.num_rows
    vendor = by_field.get("activity_id")

    def ids_and_duplicates() -> Deduped:
        return dedupe(
            raw,
            table.column(vendor) if vendor is not None else None,
            np.zeros(n, bool),
            prefix="act-",
            noun="activity",
        )

    def dates_and_types() -> tuple[DateFields, pa.Array | pa.ChunkedArray]:
        dates = parse_date_fields(raw, names, opts.dayfirst, None)
        kind = by_field.get("type")
        kinds = (
            map_uniques(table.column(kind), activity_type_of, n, arrow=True)
            if kind is not None
            else pa.nulls(n, TEXT)
        )
        default = fmt.default_type or (
            "meeting" if "StartDateTime" in by_field.values() else "other"
        )
        return dates, pc.fill_null(kinds, default)

    # Ids and duplicates in one thread, dates and types in another, for a large export.
    deduped, (dates, kinds) = beside(ids_and_duplicates, dates_and_types, n_rows=n * 2)
    ledger = concat_ledgers([read_drops(raw), deduped.ledger, dates.ledger])
    occurred = dates.columns.get("occurred_at", np.full(n, np.datetime64("NaT"), "datetime64[ns]"))
    columns: dict[str, pa.ChunkedArray] = {
        f: table.column(by_field[f])
        for f in ("deal_ref", "deal_name", "account", "owner", "contact", "subject")
        if f in by_field
    }
    for h, f in names.items():
        if f not in _USED and f not in columns:
            columns[f] = table.column(h)
    return PreparedActivities(
        raw.name,
        raw.source_row,
        columns,
        deduped.ids,
        deduped.drop,
        occurred,
        kinds,
        ledger,
        read_fixes(raw, names),
        dates.note,
    )


def link_activities(prep: PreparedActivities, deals: pd.DataFrame) -> Cleaned:
    """Prepared activities linked to ``deals``, as the canonical table and its ledger rows.

    `prep` is used up: each of its columns is let go once its kept rows are copied, so a large
    export is never held twice.
    """
    n = len(prep.source_row)
    columns = prep.columns
    unlinkable, cut = _not_linkable(prep, columns)
    keep = ~(prep.drop | unlinkable)
    refs: dict[str, pa.ChunkedArray] = {
        f: columns.pop(f) for f in ("deal_ref", "deal_name") if f in columns
    }
    text = {
        "activity_id": prep.ids.arrow,
        "account": columns.pop("account", None),
        "type": prep.kinds,
        "owner": columns.pop("owner", None),
        "contact": columns.pop("contact", None),
        **columns,
    }
    columns.clear()
    prep.ids = prep.kinds = None  # type: ignore[assignment]
    text = {f: c if c is not None else pa.nulls(n, TEXT) for f, c in text.items()}
    # The kept rows of the text columns are copied while the activities are linked.
    (deal_id, (rows, values)), kept = beside(
        lambda: _link(refs, deals, n), lambda: keep_columns(text, keep), n_rows=n
    )
    refs.clear()
    kept["deal_id"] = keep_columns({"deal_id": deal_id}, keep)["deal_id"]
    del deal_id
    unlinked = empty_ledger()
    if len(rows):
        unlinked = ledger_frame(
            prep.name,
            prep.source_row[rows],
            action="set_missing",
            reason="the linked deal is not among the deals read; deal_id left missing",
            code="unlinked",
            column="deal_id",
            value=values,
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
        "contact": series.pop("contact"),
        "source_file": text_series(repeat_text(prep.name, m), m),
        "source_row": prep.source_row[keep],
    }
    # (Its arrays are new: the frame need not copy them.)
    frame = pd.DataFrame({**front, **series}, copy=False)
    ledger = concat_ledgers([prep.ledger, cut, unlinked, prep.fixes])
    return Cleaned(frame, ledger, prep.date_format)


def _not_linkable(
    prep: PreparedActivities, columns: dict[str, pa.ChunkedArray]
) -> tuple[np.ndarray, pd.DataFrame]:
    """Live rows that name no deal, related record or account, and their ledger rows."""
    n = len(prep.source_row)
    none = ~prep.drop
    for f in _LINKS:
        if f in columns:
            cells = pc.utf8_trim_whitespace(columns[f].cast(TEXT))
            none &= ~np.asarray(pc.fill_null(pc.not_equal(cells, ""), False))
    if not none.any():
        return np.zeros(n, dtype=bool), empty_ledger()
    rows = np.flatnonzero(none)
    ledger = ledger_frame(
        prep.name,
        prep.source_row[rows],
        action="dropped",
        reason="not linkable: the activity names no deal, related record or account, so it "
        "cannot count for any deal (export it with its Related To or deal column)",
        code="not_linkable",
    )
    return none, ledger


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


def _link(
    refs: Mapping[str, pa.ChunkedArray], deals: pd.DataFrame, n: int
) -> tuple[pa.Array | pa.ChunkedArray, tuple[np.ndarray, list]]:
    """Deal id of each activity, and the rows (with their reference) that match no deal.

    `refs` holds the activities' ``deal_ref`` and ``deal_name`` cells, where exported.
    """
    null = pa.scalar(None, TEXT)
    linked = wanted = pa.nulls(n, TEXT)
    known = pa.array(deals["deal_id"].dropna(), TEXT)
    ref = refs.get("deal_ref")
    if ref is not None:
        wanted = _first_refs(ref, n).cast(TEXT)
        linked = pc.if_else(pc.is_in(wanted, value_set=known), wanted, null)
    name = refs.get("deal_name")
    if name is not None and "deal_name" in deals:
        names = deals["deal_name"].dropna()
        unique = names[~names.duplicated(keep=False)]
        lookup = dict(zip(unique, deals.loc[unique.index, "deal_id"], strict=True))
        by_name = map_uniques(name, lambda v: lookup.get(v.strip()) if v else None, n, arrow=True)
        linked = pc.coalesce(linked, by_name)
        wanted = pc.coalesce(wanted, name.cast(TEXT))
    missing = np.asarray(pc.and_(pc.is_null(linked), pc.is_valid(wanted)))
    rows = np.flatnonzero(missing)
    return linked, (rows, take_rows(wanted, rows).to_pylist())
