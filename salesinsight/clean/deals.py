"""Deals: a raw deals table and its layout become the canonical deals table plus ledger rows.

:func:`clean_deals` composes the steps, each of which returns its columns and its ledger rows;
the rules are listed in :mod:`salesinsight.clean`.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.clean.categories import (
    CATEGORIES,
    deal_type_of,
    lead_source_group_of,
    lost_on_price_of,
    repair_typos,
    status_of_stage,
)
from salesinsight.clean.dates import DATE_FIELDS, parse_date_fields, resolve_dates
from salesinsight.clean.ids import Ids, account_ids, account_keys, dedupe, ids_for, screen_ids
from salesinsight.clean.ledger import (
    concat_ledgers,
    empty_ledger,
    ledger_where,
    read_drops,
    read_fixes,
)
from salesinsight.clean.money import money_columns, number_column
from salesinsight.clean.options import Cleaned, CleanOptions, column_names, field_columns
from salesinsight.clean.parse import parse_flags
from salesinsight.exceptions import DataQualityWarning
from salesinsight.io.arrow import (
    TEXT,
    beside,
    keep_rows,
    map_columns,
    map_uniques,
    repeat_text,
    text_series,
)
from salesinsight.io.formats import header_key
from salesinsight.io.raw import RawTable
from salesinsight.schemas import DEAL_COLUMNS, OPTIONAL_DEAL_COLUMNS

__all__ = ["clean_deals"]

_CONSUMED = {
    "close_date",
    "won_at",
    "lost_at",
    "is_won",
    "is_closed",
    "deal_ref",
    "amount_converted",
    "converted_currency",
}
_TEST_RECORD = r"\btest\b|do not use"

#: The text cells of a raw table by the field they map to.
_Cells = Mapping[str, pa.ChunkedArray]


def clean_deals(
    raw: RawTable,
    mapping: Mapping[str, str],
    crm: str,
    fmt_stages: Mapping[str, str],
    fmt_statuses: Mapping[str, str],
    opts: CleanOptions,
) -> Cleaned:
    """Canonical deals of one file and their ledger rows (the rules of :mod:`salesinsight.clean`).

    `mapping` is the layout's ``{header: field}``, `fmt_stages` and `fmt_statuses` its
    ``{stage or status label: status}``.
    """
    names = column_names(raw, mapping)
    headers = {f: h for h, f in names.items()}
    drops = read_drops(raw)
    removed = _removed_rows(raw, headers, fmt_statuses)
    # Dropped rows are in the ledger; every step after works on the kept rows only.
    kept, ids, explicit = _kept_rows(raw, removed)
    cells = field_columns(kept.table, headers)
    # The dates, statuses and amounts, and the other columns, side by side: the work is
    # Arrow's and NumPy's, which let go of Python's global lock.
    (dates, (status, unknown_stages), when, money, labels), others = beside(
        lambda: _dated_amounts(
            kept, cells, names, explicit, {**fmt_stages, **opts.stages}, ids, opts
        ),
        lambda: _undated(cells, kept, ids, opts),
        kept.table.num_rows * kept.table.num_columns // 8,
    )
    (text, typos), (account_id, scientific_ids), (numbers, unread), (list_price, priced) = others
    if list_price is not None:
        # In the reporting currency, at the rate of the deal's amount.
        numbers["list_price"] = list_price * money.rate
    if unknown_stages:
        _warn_unknown(kept.name, crm, unknown_stages)
    n = len(status)
    columns = {
        "deal_id": ids.arrow,
        "created_at": when.created_at,
        "closed_at": when.closed_at,
        "expected_close_at": when.expected_close_at,
        **money.columns,
        **labels,
        **text,
        "account_id": account_id,
        "crm": repeat_text(crm, n),
        "source_file": repeat_text(kept.name, n),
        "source_row": kept.source_row,
        **numbers,
    }
    frame = _deals_frame(columns, names, kept.table)
    fixes = read_fixes(kept, names)
    if len(fixes):
        fixes = fixes.assign(deal_id=ids_for(fixes, kept, ids))
    ledger = concat_ledgers(
        [
            drops,
            removed.ledger,
            dates.ledger,
            when.ledger,
            money.ledger,
            priced,
            typos,
            scientific_ids,
            unread,
            fixes,
        ]
    )
    note = dates.note + (
        "; pass dayfirst=True if this export uses D/M/Y" if dates.ambiguous else ""
    )
    return Cleaned(frame, ledger, note, money.decimal, money.reporting)


def _warn_unknown(name: str, crm: str, stages: set[str]) -> None:
    warnings.warn(
        f"{name}: stages {sorted(stages)[:8]} are not known won/lost stages of {crm}; those "
        "deals are taken as open. Pass stages={'<stage>': 'won'} to read_export, or --stages "
        "'<stage>=won' on the command line, to say otherwise.",
        DataQualityWarning,
        stacklevel=4,
    )


def _dated_amounts(
    kept: RawTable,
    cells: _Cells,
    names: Mapping[str, str],
    explicit: np.ndarray,
    stages: Mapping[str, str],
    ids: Ids,
    opts: CleanOptions,
):
    """The date fields, each deal's status (and the stages not known), its dates as its status
    reads them, its amounts, and its status and currency as Arrow text."""
    dates = parse_date_fields(kept, names, opts.dayfirst, ids)
    status, unknown = _status(cells, explicit, stages)
    when = resolve_dates(dates.columns, status, kept, ids)
    money = money_columns(cells, status, kept, ids, opts)
    # (Made text here, beside the other thread's work, rather than in the deals frame.)
    labels = {
        "status": pa.array(status, TEXT),
        "currency": pa.array(money.columns["currency"], TEXT),
    }
    return dates, (status, unknown), when, money, labels


def _undated(cells: _Cells, kept: RawTable, ids: Ids, opts: CleanOptions) -> tuple:
    """The columns that need neither dates nor statuses: text, account ids, numbers and list
    prices, each with its ledger rows."""
    return (
        _text_columns(cells, kept, ids, opts.source_groups),
        _account_ids(cells, kept, ids),
        _numbers(cells, kept, ids),
        _list_price(cells, kept, ids),
    )


@dataclass(frozen=True)
class _Removed:
    """Rows dropped as test records, deleted deals or duplicates: the ids of every row, which
    rows are dropped, each row's status as its status column says, and the ledger rows."""

    ids: Ids
    drop: np.ndarray
    explicit_status: np.ndarray
    ledger: pd.DataFrame


def _removed_rows(
    raw: RawTable, headers: Mapping[str, str], statuses: Mapping[str, str]
) -> _Removed:
    """Test records, deals marked deleted and duplicates (rules 2 to 4), with their deal ids."""
    cells = field_columns(raw.table, headers)
    # Test records are looked for in the names while the deal ids are screened for repeats.
    (tests, test_rows), screen = beside(
        lambda: _test_records(raw, cells, headers),
        lambda: screen_ids(cells.get("deal_id")),
        raw.table.num_rows * raw.table.num_columns,
    )
    explicit = _explicit_status(cells.get("status"), statuses, raw.table.num_rows)
    deleted = (explicit == "deleted") & ~tests
    deleted_rows = empty_ledger()
    if deleted.any():
        deleted_rows = ledger_where(
            raw,
            deleted,
            action="dropped",
            reason="deal is marked deleted in the CRM",
            code="deleted",
            column="status",
            value="deleted",
        )
    deduped = dedupe(
        raw, cells.get("deal_id"), tests | deleted, prefix="deal-", noun="deal", screen=screen
    )
    ledger = concat_ledgers([test_rows, deleted_rows, deduped.ledger])
    if len(ledger):
        ledger = ledger.assign(deal_id=ids_for(ledger, raw, deduped.ids))
    return _Removed(deduped.ids, deduped.drop, explicit, ledger)


def _says_test(names: pa.ChunkedArray) -> np.ndarray:
    """Where `names` say TEST or DO NOT USE."""
    return np.asarray(
        pc.fill_null(pc.match_substring_regex(names, _TEST_RECORD, ignore_case=True), False)
    )


def _test_records(
    raw: RawTable, cells: _Cells, headers: Mapping[str, str]
) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows whose deal or account name says TEST or DO NOT USE, and their ledger rows."""
    drop = np.zeros(raw.table.num_rows, dtype=bool)
    frames = []
    fields = [f for f in ("deal_name", "account") if f in cells]
    # (Both fields in this thread, but for the largest tables: the ids are screened beside.)
    found = map_columns(lambda f: _says_test(cells[f]), fields, raw.table.num_rows)
    for f, hit in zip(fields, found, strict=True):
        c = cells[f]
        hit &= ~drop
        if hit.any():
            frames.append(
                ledger_where(
                    raw,
                    hit,
                    action="dropped",
                    reason=f"test record (`{headers[f]}` says TEST or DO NOT USE)",
                    code="test_record",
                    column=f,
                    value=c,
                )
            )
            drop |= hit
    return drop, concat_ledgers(frames)


def _explicit_status(
    status_text: pa.ChunkedArray | None, statuses: Mapping[str, str], n: int
) -> np.ndarray:
    """Each row's status as its status column says (``won``, ``lost``, ``open``, ``deleted``),
    where the layout knows the label; else ``None``."""
    if status_text is None:
        return np.full(n, None, dtype=object)
    known = {header_key(k): v for k, v in statuses.items()}
    return map_uniques(status_text, lambda s: known.get(header_key(s)) if s else None, n)


def _kept_rows(raw: RawTable, removed: _Removed) -> tuple[RawTable, Ids, np.ndarray]:
    """`raw`, the ids and the explicit statuses of the rows not dropped."""
    if not removed.drop.any():
        return raw, removed.ids, removed.explicit_status
    keep = ~removed.drop
    kept = dataclasses.replace(
        raw, table=keep_rows(raw.table, keep), source_row=raw.source_row[keep]
    )
    return kept, Ids(removed.ids.arrow.filter(pa.array(keep))), removed.explicit_status[keep]


def _status(
    cells: _Cells, explicit: np.ndarray, stages: Mapping[str, str]
) -> tuple[np.ndarray, set[str]]:
    """Each deal's status (rule 6), and the stages that decided ``open`` without being known."""
    n = len(explicit)
    known = {header_key(k): v for k, v in stages.items()}
    stage = cells.get("stage")
    from_stage = (
        map_uniques(stage, lambda s: status_of_stage(s, known), n)
        if stage is not None
        else np.full(n, None, dtype=object)
    )
    unknown: set[str] = set()
    if stage is not None and known:
        names = text_series(stage, n)
        unknown = set(names[(from_stage == None) & names.notna().to_numpy()].unique())  # noqa: E711
    status = np.where(from_stage == None, "open", from_stage).astype(object)  # noqa: E711
    won_flag = parse_flags(cells["is_won"]) if "is_won" in cells else None
    if won_flag is not None:
        closed_flag = parse_flags(cells["is_closed"]) if "is_closed" in cells else None
        closed = (
            closed_flag == 1.0
            if closed_flag is not None
            else (won_flag == 1.0) | (from_stage == "lost")
        )
        by_flag = np.where(won_flag == 1.0, "won", np.where(closed, "lost", "open"))
        status = np.where(np.isnan(won_flag), status, by_flag).astype(object)
        if unknown:
            flagged = text_series(stage, n)[~np.isnan(won_flag)].unique()
            unknown -= set(flagged)
    decided = np.isin(explicit, ["won", "lost", "open"])
    if decided.any():
        status = np.where(decided, explicit, status).astype(object)
        if unknown:
            unknown -= set(text_series(stage, n)[decided].unique())
    return status, unknown


def _text_columns(
    cells: _Cells, raw: RawTable, ids: Ids, source_groups: Mapping[str, str]
) -> tuple[dict[str, object], pd.DataFrame]:
    """Names, stage and categories (misspelt ones repaired), the lead source group (the word
    rules, or `source_groups` first), the deal type, the loss reason and whether it names
    price, and the ledger rows of the repairs."""
    n = raw.table.num_rows
    text = {
        f: cells[f] if f in cells else pa.nulls(n, TEXT)
        for f in ("account", "owner", "stage", "lead_source", "deal_name")
    }
    text.update({f: cells[f] for f in ("product", "industry", "segment") if f in cells})
    frames = []
    for f in CATEGORIES:
        if f in text:
            text[f], repaired = repair_typos(text[f], f, raw, ids)
            frames.append(repaired)
    text["lead_source_group"] = (
        map_uniques(
            text["lead_source"], lambda s: lead_source_group_of(s, source_groups), n, arrow=True
        )
        if "lead_source" in cells
        else repeat_text("unknown", n)
    )
    if "loss_reason" in cells:
        text["loss_reason"] = cells["loss_reason"]
        flags = map_uniques(cells["loss_reason"], lost_on_price_of, n)
        text["lost_on_price"] = pd.array(flags, dtype="boolean")
    text["deal_type"] = (
        map_uniques(cells["deal_type"], deal_type_of, n, arrow=True)
        if "deal_type" in cells
        else repeat_text("unknown", n)
    )
    return text, concat_ledgers(frames)


def _account_ids(
    cells: _Cells, raw: RawTable, ids: Ids
) -> tuple[pa.Array | pa.ChunkedArray, pd.DataFrame]:
    """The vendor's account ids (rule 9), else ids derived from the account names."""
    if "account_id" in cells:
        return account_ids(cells["account_id"], cells.get("account"), raw, ids)
    if "account" in cells:
        return account_keys(cells["account"]), empty_ledger()
    return pa.nulls(raw.table.num_rows, TEXT), empty_ledger()


def _numbers(cells: _Cells, raw: RawTable, ids: Ids) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    """Head counts and probabilities where exported, and the ledger rows of unreadable ones."""
    columns, frames = {}, []
    for f in ("employees", "annual_revenue", "probability"):
        if f in cells:
            columns[f], unread = number_column(cells[f], f, raw, ids)
            frames.append(unread)
    return columns, concat_ledgers(frames)


def _list_price(cells: _Cells, raw: RawTable, ids: Ids) -> tuple[np.ndarray | None, pd.DataFrame]:
    """List prices as exported (in the deal's own currency), and the ledger rows of unreadable
    ones; ``None`` without a list price column."""
    if "list_price" not in cells:
        return None, empty_ledger()
    return number_column(cells["list_price"], "list_price", raw, ids)


def _deals_frame(
    columns: Mapping[str, object], names: Mapping[str, str], table: pa.Table
) -> pd.DataFrame:
    """The deals table: canonical columns first, then known optional ones, then the export's
    other columns as read (text stays Arrow-backed)."""
    order = [*DEAL_COLUMNS]
    order += [
        f
        for f in (*OPTIONAL_DEAL_COLUMNS, "deal_name", "probability", "actual_amount")
        if f in columns
    ]
    extra: dict[str, pa.ChunkedArray] = {}
    for h, f in names.items():
        if f in columns or f in extra or f in _CONSUMED or f in DATE_FIELDS:
            continue
        if f != "actual_amount":
            extra[f] = table.column(h)
    everything = {**columns, **extra}
    return pd.DataFrame({name: _series(everything[name]) for name in [*order, *extra]}, copy=False)


def _series(value: object) -> pd.Series:
    if isinstance(value, pd.api.extensions.ExtensionArray):
        return pd.Series(value, copy=False)
    if isinstance(value, pa.Array | pa.ChunkedArray):
        if pa.types.is_large_string(value.type) or pa.types.is_string(value.type):
            return text_series(value, len(value))
        return pd.Series(value.to_numpy(zero_copy_only=False))
    arr = np.asarray(value)
    if arr.dtype == object:
        return text_series(pa.array(arr, TEXT), len(arr))
    return pd.Series(arr)
