"""Deals: a raw deals table and its layout become the canonical deals table plus ledger rows.

The rules are listed in :mod:`salesinsight.clean`.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.clean.dates import DATE_FIELDS, parse_date_fields, resolve_dates
from salesinsight.clean.ids import (
    Ids,
    account_ids,
    account_key,
    account_keys,
    dedupe,
    ids_for,
)
from salesinsight.clean.money import money_columns, number_column
from salesinsight.clean.parse import parse_flags
from salesinsight.exceptions import DataQualityWarning, InvalidValueError
from salesinsight.io.arrow import (
    TEXT,
    as_array,
    empty_ledger,
    keep_rows,
    ledger_frame,
    ledger_where,
    map_uniques,
    repeat_text,
    text_series,
)
from salesinsight.io.files import RawTable
from salesinsight.io.formats import header_key, snake_case
from salesinsight.schemas import DEAL_COLUMNS, OPTIONAL_DEAL_COLUMNS

__all__ = [
    "CleanOptions",
    "Cleaned",
    "account_key",
    "account_keys",
    "deal_type_of",
    "lead_source_group_of",
]

_CONSUMED = {"close_date", "won_at", "lost_at", "is_won", "is_closed", "deal_ref"}
_TEST_RECORD = r"\btest\b|do not use"


@dataclass(frozen=True)
class CleanOptions:
    """Options of :func:`salesinsight.io.read_export` that the cleaner needs."""

    currency: str = "USD"
    fx: Mapping[str, float] = field(default_factory=dict)
    dayfirst: bool | None = None
    stages: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Cleaned:
    """A canonical table from one file, its ledger rows (with a ``code`` column) and facts."""

    frame: pd.DataFrame
    ledger: pd.DataFrame
    date_format: str = ""
    decimal: str = ""


_LEAD_RULES = (
    ("referral", r"referr|word of mouth|recommend"),
    ("existing_customer", r"existing|customer|upsell|renewal|account manag|install"),
    ("partner", r"partner|reseller|channel|alliance|\bvar\b|distributor"),
    ("event", r"event|trade ?show|conference|webinar|seminar|expo|meetup|booth"),
    (
        "outbound",
        r"outbound|cold|prospect|sales ?generated|self.?generated|\bsdr\b|\bbdr\b|outreach"
        r"|purchased list|list import|employee|rep ",
    ),
    (
        "inbound",
        r"inbound|web|site|organic|search|seo|sem|ppc|ads?\b|advert|direct|social|email marketing"
        r"|marketing|content|chat|inquir|enquir|contact form|demo request|trial|download",
    ),
)


def lead_source_group_of(source: str | None) -> str:
    """Map a lead source label onto the fixed groups of :data:`salesinsight.schemas.LEAD_SOURCE_GROUPS`.

    Examples
    --------
    >>> [lead_source_group_of(s) for s in ["Partner Referral", "Web", "Cold Call", "Trade Show",
    ...                                    "ORGANIC_SEARCH", "Other", None]]
    ['referral', 'inbound', 'outbound', 'event', 'inbound', 'other', 'unknown']
    """
    if source is None or not source.strip():
        return "unknown"
    text = source.replace("_", " ").casefold()
    for group, pattern in _LEAD_RULES:
        if re.search(pattern, text):
            return group
    return "other"


def deal_type_of(kind: str | None) -> str:
    """Map a deal type label onto ``new_business``, ``existing_business`` or ``unknown``.

    Examples
    --------
    >>> [deal_type_of(s) for s in ["New Business", "newbusiness", "Upsell", "Renewal", None]]
    ['new_business', 'new_business', 'existing_business', 'existing_business', 'unknown']
    """
    if kind is None:
        return "unknown"
    text = kind.replace("_", " ").casefold()
    if re.search(r"existing|upsell|up-sell|cross|renew|expansion|add-on|addon|upgrade", text):
        return "existing_business"
    if re.search(r"\bnew\b|newbusiness|new logo|first", text):
        return "new_business"
    return "unknown"


def _status_of_stage(stage: str | None, known: Mapping[str, str]) -> str | None:
    if stage is None:
        return None
    key = header_key(stage)
    if key in known:
        return known[key]
    if re.search(r"\bwon\b|closedwon|closed.?won|\bsigned\b", key):
        return "won"
    if re.search(r"\blost\b|closedlost|closed.?lost|disqualified|dead", key):
        return "lost"
    return None


# ---------------------------------------------------------------------------- the deals table


def _column_names(raw: RawTable, mapping: Mapping[str, str]) -> dict[str, str]:
    """Header -> output column name: mapped fields, else snake_case without collisions."""
    names: dict[str, str] = dict(mapping)
    taken = set(mapping.values())
    for h in raw.headers:
        if h in names:
            continue
        name = snake_case(h)
        base, k = name, 2
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        names[h] = name
        taken.add(name)
    return names


def clean_deals(
    raw: RawTable, mapping: Mapping[str, str], crm: str, fmt_stages, fmt_statuses, opts
) -> Cleaned:
    """Canonical deals of one file; see the module docstring for the rules."""
    names = _column_names(raw, mapping)
    by_field = {f: h for h, f in names.items()}
    table = raw.table
    n = table.num_rows
    ledger: list[pd.DataFrame] = [_read_drops(raw)]

    def col(f: str):
        h = by_field.get(f)
        return table.column(h) if h is not None else None

    drop = np.zeros(n, dtype=bool)
    reason_rows: list[pd.DataFrame] = []

    for f in ("deal_name", "account"):
        c = col(f)
        if c is None:
            continue
        hit = np.asarray(
            pc.fill_null(pc.match_substring_regex(c, _TEST_RECORD, ignore_case=True), False)
        )
        hit &= ~drop
        if hit.any():
            reason_rows.append(
                ledger_where(
                    raw,
                    hit,
                    action="dropped",
                    reason=f"test record (`{by_field[f]}` says TEST or DO NOT USE)",
                    code="test_record",
                    column=f,
                    value=c,
                )
            )
            drop |= hit

    status_text = col("status")
    status_map = {**{header_key(k): v for k, v in fmt_statuses.items()}}
    explicit_status = np.full(n, None, dtype=object)
    if status_text is not None:
        explicit_status = map_uniques(
            status_text, lambda s: status_map.get(header_key(s)) if s else None, n
        )
        deleted = (explicit_status == "deleted") & ~drop
        if deleted.any():
            reason_rows.append(
                ledger_where(
                    raw,
                    deleted,
                    action="dropped",
                    reason="deal is marked deleted in the CRM",
                    code="deleted",
                    column="status",
                    value="deleted",
                )
            )
            drop |= deleted

    ids, drop, dup_rows = dedupe(raw, col("deal_id"), drop, prefix="deal-", noun="deal")
    reason_rows.extend(dup_rows)
    for frame in reason_rows:
        frame["deal_id"] = ids_for(frame, raw, ids)
    ledger.extend(reason_rows)
    if drop.any():
        # Dropped rows are in the ledger; everything below works on the kept rows only.
        keep = pa.array(~drop)
        raw = dataclasses.replace(
            raw, table=keep_rows(raw.table, ~drop), source_row=raw.source_row[~drop]
        )
        table, n = raw.table, raw.table.num_rows
        ids = Ids(ids.arrow.filter(keep))
        explicit_status = explicit_status[~drop]
        drop = np.zeros(n, dtype=bool)

    dates, date_note, ambiguous = parse_date_fields(raw, names, opts.dayfirst, ledger, ids)
    status, unknown_stages = _status(col, explicit_status, fmt_stages, opts, n)
    if unknown_stages:
        warnings.warn(
            f"{raw.name}: stages {sorted(unknown_stages)[:8]} are not known won/lost stages "
            f"of {crm}; those deals are taken as open. Pass stages={{'<stage>': 'won'}} to "
            "read_export to say otherwise.",
            DataQualityWarning,
            stacklevel=3,
        )
    out: dict[str, object] = {"deal_id": ids.arrow, "status": status}
    resolve_dates(out, dates, status, raw, ids, ledger, n)
    decimal = money_columns(out, col, status, raw, ids, ledger, opts, n)
    for f in ("account", "owner", "stage", "lead_source", "deal_name"):
        out[f] = col(f) if col(f) is not None else pa.nulls(n, TEXT)
    for f in ("product", "industry", "segment"):
        if col(f) is not None:
            out[f] = col(f)
    for f in _CATEGORIES:
        if f in out:
            out[f] = _fix_typos(out[f], f, raw, ids, ledger)
    lead = out["lead_source"]
    out["lead_source_group"] = (
        map_uniques(lead, lead_source_group_of, n, arrow=True)
        if col("lead_source") is not None
        else repeat_text("unknown", n)
    )
    kind = col("deal_type")
    out["deal_type"] = (
        map_uniques(kind, deal_type_of, n, arrow=True)
        if kind is not None
        else repeat_text("unknown", n)
    )
    if col("account_id") is not None:
        out["account_id"] = account_ids(col("account_id"), col("account"), raw, ids, ledger)
    elif col("account") is not None:
        out["account_id"] = account_keys(col("account"))
    else:
        out["account_id"] = pa.nulls(n, TEXT)
    out["crm"] = repeat_text(crm, n)
    out["source_file"] = repeat_text(raw.name, n)
    out["source_row"] = raw.source_row
    for f in ("employees", "probability"):
        if col(f) is not None:
            out[f] = number_column(col(f), f, raw, ids, ledger)
    order = [*DEAL_COLUMNS]
    order += [
        f for f in (*OPTIONAL_DEAL_COLUMNS, "deal_name", "probability", "actual_amount") if f in out
    ]
    for h, f in names.items():
        if f not in out and f not in _CONSUMED and f not in DATE_FIELDS and f != "actual_amount":
            out[f] = table.column(h)
            order.append(f)
    frame = _assemble_frame(out, order, ~drop)
    ledger.append(_read_fixes(raw, names, ids))
    result = pd.concat([x for x in ledger if len(x)] or [empty_ledger()], ignore_index=True)
    if ambiguous:
        date_note += "; pass dayfirst=True if this export uses D/M/Y"
    return Cleaned(frame, result, date_note, decimal)


def _assemble_frame(out: Mapping[str, object], order: list[str], keep: np.ndarray) -> pd.DataFrame:
    """Filter every column to the kept rows and build the DataFrame (text stays Arrow-backed)."""
    mask = pa.array(keep)
    everything = bool(keep.all())
    columns = {}
    for name in order:
        value = out[name]
        if isinstance(value, pa.Array | pa.ChunkedArray):
            kept = value if everything else pc.filter(value, mask)
            if pa.types.is_large_string(kept.type) or pa.types.is_string(kept.type):
                columns[name] = text_series(kept, int(keep.sum()))
            else:
                columns[name] = pd.Series(kept.to_numpy(zero_copy_only=False))
        else:
            arr = np.asarray(value)
            kept = arr if everything else arr[keep]
            if arr.dtype == object:
                columns[name] = text_series(pa.array(kept, TEXT), len(kept))
            else:
                columns[name] = pd.Series(kept)
    return pd.DataFrame(columns, copy=False)


_CATEGORIES = ("lead_source", "industry", "segment", "product")


def _fix_typos(values, column: str, raw: RawTable, ids: Ids, ledger: list) -> pa.Array:
    """Repair misspelt categories: a value seen at most twice that is a close spelling (difflib
    ratio >= 0.85, or the same letters swapped) of a value seen at least five times as often (and
    at least three times) is read as that value, with a ledger row."""
    counts = pc.value_counts(as_array(values).drop_null())
    labels = counts.field("values").to_pylist()
    freq = dict(zip(labels, counts.field("counts").to_pylist(), strict=True))
    common = [v for v, c in freq.items() if c >= 3]
    repairs = {}
    for value, count in freq.items():
        if count > 2:
            continue
        targets = [v for v in common if freq[v] >= 5 * count and v.casefold() != value.casefold()]
        match = difflib.get_close_matches(value, targets, n=1, cutoff=0.85) or [
            t for t in targets if sorted(t.casefold()) == sorted(value.casefold())
        ]
        if len(match) >= 1:
            repairs[value] = match[0]
    if not repairs:
        return values
    keys = pa.array(list(repairs), TEXT)
    pos = pc.index_in(as_array(values).cast(TEXT), value_set=keys)
    rows = np.flatnonzero(np.asarray(pc.fill_null(pc.is_valid(pos), False)))
    before = as_array(values).take(pa.array(rows)).to_pylist()
    ledger.append(
        ledger_frame(
            raw.name,
            raw.source_row[rows],
            action="fixed",
            reason=[f"misspelt category, read as `{repairs[v]}`" for v in before],
            code="category_typo",
            column=column,
            value=before,
            deal_id=ids[rows],
        )
    )
    fixed = pc.take(pa.array(list(repairs.values()), TEXT), pos)
    return pc.coalesce(fixed, as_array(values).cast(TEXT))


def _read_drops(raw: RawTable) -> pd.DataFrame:
    d = raw.dropped
    if not len(d):
        return empty_ledger()
    frames = [
        ledger_frame(
            raw.name,
            g["source_row"].to_numpy(),
            action="dropped",
            reason=g["reason"].to_numpy(),
            code=code,
            value=g["value"].to_numpy(),
        )
        for code, g in d.groupby("code", sort=False)
    ]
    return pd.concat(frames, ignore_index=True)


def _read_fixes(raw: RawTable, names: Mapping[str, str], ids: Ids | None) -> pd.DataFrame:
    fx = raw.fixed
    if not len(fx):
        return empty_ledger()
    kept = np.isin(fx["source_row"].to_numpy(), raw.source_row)
    fx = fx.loc[kept]
    frame = pd.DataFrame(
        {
            "source_file": raw.name,
            "source_row": fx["source_row"].to_numpy(dtype=np.int64),
            "deal_id": None,
            "column": [names.get(h, snake_case(h)) if h else None for h in fx["header"]],
            "value": fx["value"].to_numpy(dtype=object),
            "action": "fixed",
            "reason": [
                f"{r}: now `{v}`" if pd.notna(v) else r
                for r, v in zip(fx["reason"], fx["new_value"], strict=True)
            ],
            "code": "repaired_text",
        }
    )
    if ids is not None and len(frame):
        frame["deal_id"] = ids_for(frame, raw, ids)
    return frame


def _status(col, explicit: np.ndarray, fmt_stages, opts: CleanOptions, n: int):
    known = {header_key(k): v for k, v in {**fmt_stages, **opts.stages}.items()}
    stage = col("stage")
    from_stage = (
        map_uniques(stage, lambda s: _status_of_stage(s, known), n)
        if stage is not None
        else np.full(n, None, dtype=object)
    )
    unknown: set[str] = set()
    if stage is not None and known:
        names = text_series(stage, n)
        unknown = set(names[(from_stage == None) & names.notna().to_numpy()].unique())  # noqa: E711
    status = np.where(from_stage == None, "open", from_stage).astype(object)  # noqa: E711
    won_flag = parse_flags(col("is_won")) if col("is_won") is not None else None
    if won_flag is not None:
        closed_flag = parse_flags(col("is_closed")) if col("is_closed") is not None else None
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


def validation_error(err: Exception, table: str) -> InvalidValueError:
    """Turn pandera's lazy ``SchemaErrors`` into one readable error."""
    cases = getattr(err, "failure_cases", None)
    if cases is None:
        return InvalidValueError(f"The cleaned {table} table does not fit its schema: {err}")
    lines = [
        f"  - column `{r.get('column')}`: {r.get('check')} failed for value {r.get('failure_case')!r}"
        for r in cases.head(10).to_dict("records")
    ]
    return InvalidValueError(
        f"The cleaned {table} table does not fit its schema ({len(cases)} problems):\n"
        + "\n".join(lines)
        + "\nPass columns={...} to map the offending export columns differently."
    )
