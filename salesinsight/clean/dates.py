"""Dates of the cleaned tables: one day/month order per file, implausible dates and the close
dates of open deals set missing with a ledger row (rule 7 of :mod:`salesinsight.clean.deals`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from salesinsight.clean.parse import date_order_evidence, parse_dates
from salesinsight.io.arrow import ledger_where
from salesinsight.io.files import RawTable

__all__ = ["DATE_FIELDS", "parse_date_fields", "resolve_dates"]

DATE_FIELDS = ("created_at", "close_date", "closed_at", "won_at", "lost_at", "expected_close_at")
#: Dates outside [1980, 2100) are placeholders, not dates a deal happened on.
_DATE_RANGE = (np.datetime64("1980-01-01", "ns"), np.datetime64("2100-01-01", "ns"))


def _file_dayfirst(raw: RawTable, names: Mapping[str, str], dayfirst: bool | None):
    """Decide the file's day/month order from every date column together."""
    if dayfirst is not None:
        return dayfirst, "forced"
    day = month = 0
    for h, f in names.items():
        if f in (*DATE_FIELDS, "occurred_at"):
            d, m = date_order_evidence(raw.table.column(h))
            day, month = day + d, month + m
    if day > month:
        return True, "day first (inferred)"
    if month > 0:
        return False, "month first (inferred)"
    return False, "month first (assumed: no date tells)"


def parse_date_fields(raw, names, dayfirst, ledger, ids):
    columns: dict[str, np.ndarray] = {}
    styles = []
    order_first, order_note = _file_dayfirst(raw, names, dayfirst)
    for h, f in names.items():
        if f not in (*DATE_FIELDS, "occurred_at"):
            continue
        col = raw.table.column(h)
        parsed = parse_dates(col, dayfirst=order_first)
        columns[f] = _plausible_dates(parsed.values, h, f, col, raw, ledger, ids)
        if parsed.style:
            styles.append(f"{h}: {parsed.style}")
        if parsed.failed.any():
            ledger.append(
                ledger_where(
                    raw,
                    parsed.failed,
                    action="set_missing",
                    reason=f"could not read the value of `{h}` as a date",
                    code="bad_date",
                    column=f if f in ("created_at", "occurred_at") else _date_target(f),
                    value=col,
                    deal_id=ids,
                )
            )
    numeric = any(s.endswith(("M/D/Y", "D/M/Y")) for s in styles)
    ambiguous = numeric and "assumed" in order_note
    note = "; ".join(styles) + (f" ({order_note})" if numeric else "")
    return columns, note, ambiguous


def _plausible_dates(values, h, f, col, raw, ledger, ids) -> np.ndarray:
    odd = ~np.isnat(values) & ((values < _DATE_RANGE[0]) | (values >= _DATE_RANGE[1]))
    if not odd.any():
        return values
    ledger.append(
        ledger_where(
            raw,
            odd,
            action="set_missing",
            reason=f"`{h}` is before 1980 or after 2099: a placeholder (Excel's day zero, a "
            "'never' date), not a real date",
            code="implausible_date",
            column=f if f in ("created_at", "occurred_at") else _date_target(f),
            value=col,
            deal_id=ids,
        )
    )
    return np.where(odd, np.datetime64("NaT", "ns"), values)


def _date_target(f: str) -> str:
    return "expected_close_at" if f == "expected_close_at" else "closed_at"


def resolve_dates(out, dates, status, raw, ids, ledger, n):
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    get = lambda f: dates.get(f, nat)  # noqa: E731
    won, lost, is_open = status == "won", status == "lost", status == "open"
    actual = np.where(won, get("won_at"), np.where(lost, get("lost_at"), nat))
    actual = np.where(np.isnat(get("closed_at")), actual, get("closed_at"))
    closed_at = np.where(np.isnat(actual), get("close_date"), actual)
    closed_at = np.where(is_open, nat, closed_at).astype("datetime64[ns]")
    expected = np.where(
        np.isnat(get("expected_close_at")), get("close_date"), get("expected_close_at")
    )
    expected = np.where(is_open, expected, nat).astype("datetime64[ns]")
    stray = is_open & ~np.isnat(actual)
    if stray.any():
        ledger.append(
            ledger_where(
                raw,
                stray,
                action="set_missing",
                reason="the deal is open, so its recorded close time is not a close",
                code="open_close_time",
                column="closed_at",
                value=lambda rows: pd.Series(actual[rows]).astype(str).to_numpy(),
                deal_id=ids,
            )
        )
    created = get("created_at").copy()
    late = ~np.isnat(created) & ~np.isnat(closed_at)
    late &= created.astype("datetime64[D]") > closed_at.astype("datetime64[D]")
    if late.any():
        ledger.append(
            ledger_where(
                raw,
                late,
                action="set_missing",
                reason="created after it closed (an import or migration date, not the real "
                "creation); created_at set missing, the deal is kept",
                code="created_after_closed",
                column="created_at",
                value=lambda rows: pd.Series(created[rows]).astype(str).to_numpy(),
                deal_id=ids,
            )
        )
        created[late] = np.datetime64("NaT")
    out["created_at"] = created
    out["closed_at"] = closed_at
    out["expected_close_at"] = expected
