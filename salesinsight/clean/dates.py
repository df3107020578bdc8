"""Dates of the cleaned tables: one day/month order per file, implausible dates and the close
dates of open deals set missing with a ledger row (rule 7 of :mod:`salesinsight.clean`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from salesinsight.clean.ids import Ids
from salesinsight.clean.ledger import concat_ledgers, empty_ledger, ledger_where
from salesinsight.clean.parse import date_order_evidence, parse_dates
from salesinsight.io.raw import RawTable

__all__ = ["DATE_FIELDS", "DateFields", "DealDates", "parse_date_fields", "resolve_dates"]

DATE_FIELDS = ("created_at", "close_date", "closed_at", "won_at", "lost_at", "expected_close_at")
#: Dates outside [1980, 2100) are placeholders, not dates a deal happened on.
_DATE_RANGE = (np.datetime64("1980-01-01", "ns"), np.datetime64("2100-01-01", "ns"))


def _file_dayfirst(
    raw: RawTable, names: Mapping[str, str], dayfirst: bool | None
) -> tuple[bool, str]:
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


@dataclass(frozen=True)
class DateFields:
    """The date columns of one file, parsed.

    Attributes
    ----------
    columns : dict of str to numpy.ndarray
        ``datetime64[ns]`` values (NaT where missing, unreadable or implausible) by field.
    note : str
        The layouts found per header, and the day/month order when it mattered.
    ambiguous : bool
        Numeric dates were read month first without a date that tells.
    ledger : pandas.DataFrame
        Ledger rows of the dates set missing.
    """

    columns: dict[str, np.ndarray]
    note: str
    ambiguous: bool
    ledger: pd.DataFrame


def parse_date_fields(
    raw: RawTable, names: Mapping[str, str], dayfirst: bool | None, ids: Ids | None
) -> DateFields:
    """Parse every date column of `raw` (`names` maps headers to fields) in one day/month order.

    `ids` name the rows' deals in the ledger rows (``None``: no deal ids).
    """
    columns: dict[str, np.ndarray] = {}
    styles = []
    frames = []
    order_first, order_note = _file_dayfirst(raw, names, dayfirst)
    for h, f in names.items():
        if f not in (*DATE_FIELDS, "occurred_at"):
            continue
        col = raw.table.column(h)
        parsed = parse_dates(col, dayfirst=order_first)
        columns[f], odd = _plausible_dates(parsed.values, h, f, col, raw, ids)
        frames.append(odd)
        if parsed.style:
            styles.append(f"{h}: {parsed.style}")
        if parsed.failed.any():
            frames.append(
                ledger_where(
                    raw,
                    parsed.failed,
                    action="set_missing",
                    reason=f"could not read the value of `{h}` as a date",
                    code="bad_date",
                    column=_date_column(f),
                    value=col,
                    deal_id=ids,
                )
            )
    numeric = any(s.endswith(("M/D/Y", "D/M/Y")) for s in styles)
    ambiguous = numeric and "assumed" in order_note
    note = "; ".join(styles) + (f" ({order_note})" if numeric else "")
    return DateFields(columns, note, ambiguous, concat_ledgers(frames))


def _plausible_dates(
    values: np.ndarray,
    h: str,
    f: str,
    col: pa.ChunkedArray,
    raw: RawTable,
    ids: Ids | None,
) -> tuple[np.ndarray, pd.DataFrame]:
    odd = ~np.isnat(values) & ((values < _DATE_RANGE[0]) | (values >= _DATE_RANGE[1]))
    if not odd.any():
        return values, empty_ledger()
    ledger = ledger_where(
        raw,
        odd,
        action="set_missing",
        reason=f"`{h}` is before 1980 or after 2099: a placeholder (Excel's day zero, a "
        "'never' date), not a real date",
        code="implausible_date",
        column=_date_column(f),
        value=col,
        deal_id=ids,
    )
    return np.where(odd, np.datetime64("NaT", "ns"), values), ledger


def _date_column(f: str) -> str:
    """The output column a date field's ledger rows name."""
    if f in ("created_at", "occurred_at", "expected_close_at"):
        return f
    return "closed_at"


@dataclass(frozen=True)
class DealDates:
    """The dates of the deals, each where its status allows it, and the ledger rows of those
    set missing (see :func:`resolve_dates`)."""

    created_at: np.ndarray
    closed_at: np.ndarray
    expected_close_at: np.ndarray
    ledger: pd.DataFrame


def resolve_dates(
    dates: Mapping[str, np.ndarray], status: np.ndarray, raw: RawTable, ids: Ids
) -> DealDates:
    """A won or lost deal's close date becomes ``closed_at``, an open deal's
    ``expected_close_at``; a deal created after it closed has ``created_at`` set missing."""
    nat = np.full(len(status), np.datetime64("NaT"), dtype="datetime64[ns]")
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
    frames = []
    if stray.any():
        frames.append(
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
        frames.append(
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
    return DealDates(created, closed_at, expected, concat_ledgers(frames))
