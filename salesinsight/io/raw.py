"""The raw table of one file: its text cells, with the rows dropped and cells repaired on the way.

:mod:`salesinsight.io.files` finds the header row, the data rows and any report footer in the
bytes; :func:`build_raw_table` turns those parsed cells into a :class:`RawTable`. It names the
columns (unique, blank headers numbered), drops the rows that carry no deal (blank records,
``Total`` / ``Subtotal`` rows, the header row repeated) with a reason, carries grouping cells of
summary reports down, and repairs mojibake and stray byte-order marks, recording every dropped
row and repaired cell.
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.exceptions import DataQualityWarning
from salesinsight.io.arrow import TEXT, keep_rows, rows_holding, take_rows
from salesinsight.io.text import fix_cells, fix_text

__all__ = ["RawTable", "build_raw_table"]

_SUMMARY_CELL = r"^\s*((grand\s+)?totals?|sub-?totals?)(\s*\(\d+\s+records?\))?\s*:?\s*$"

_DROP_COLUMNS = ["source_row", "value", "code", "reason"]
_FIX_COLUMNS = ["source_row", "header", "value", "new_value", "reason"]


@dataclass
class RawTable:
    """One source file as text cells, before any vendor meaning is applied.

    Attributes
    ----------
    name : str
        File name (no directories), used as ``source_file``.
    table : pyarrow.Table
        One string column per header (headers made unique), one row per kept data row.
    source_row : numpy.ndarray
        1-based data-row number of each row of ``table``.
    n_rows : int
        Number of data rows in the file (kept + dropped here).
    dropped : pandas.DataFrame
        ``source_row, value, code, reason`` of rows removed while reading.
    fixed : pandas.DataFrame
        ``source_row, header, value, new_value, reason`` of cells repaired while reading.
    encoding, delimiter, kind : str
        What was detected: the text encoding, the delimiter (``None`` for spreadsheets) and the
        container (``csv``, ``xlsx``, ``html``).
    """

    name: str
    table: pa.Table
    source_row: np.ndarray
    n_rows: int
    encoding: str
    delimiter: str | None
    kind: str
    dropped: pd.DataFrame = field(default_factory=lambda: _frame(_DROP_COLUMNS))
    fixed: pd.DataFrame = field(default_factory=lambda: _frame(_FIX_COLUMNS))

    @property
    def headers(self) -> list[str]:
        return list(self.table.column_names)


def _frame(columns: list[str], rows: list[tuple] | None = None) -> pd.DataFrame:
    # Object columns: a missing header or value stays None (not NaN, as a str column has it).
    frame = pd.DataFrame(rows or [], columns=columns, dtype=object)
    return frame.astype({"source_row": "int64"})


def build_raw_table(
    name: str,
    headers: list[str],
    table: pa.Table,
    footer: list[str],
    encoding: str,
    delimiter: str | None,
    kind: str,
    bad: Sequence[tuple] = (),
    repaired: Sequence[tuple] = (),
    undecoded: str | None = None,
) -> RawTable:
    """A :class:`RawTable` from the parsed cells of one file, every non-data row accounted for.

    Parameters
    ----------
    name : str
        File name, used as ``source_file`` and in messages.
    headers : list of str
        The header row's cells.
    table : pyarrow.Table
        The body's cells as text columns ``c0, c1, ...``, one row per data row.
    footer : list of str
        Text of the report footer lines cut off after the body (each becomes a dropped row).
    encoding, delimiter, kind : str
        What was detected, kept on the result.
    bad : sequence of tuple
        ``(index, value, code, reason)`` of body rows already found malformed, to drop.
    repaired : sequence of tuple
        ``(index, header, value, new_value, reason)`` of cells already repaired while parsing.
    undecoded : str, optional
        The single-byte encoding of cells parsed as bytes (``None``: they are text already).

    Examples
    --------
    >>> from salesinsight.io.arrow import TEXT
    >>> cells = pa.table({"c0": pa.array(["Acme", None, "Account", "CafÃ©"], TEXT),
    ...                   "c1": pa.array(["Won", None, "Stage", "Lost"], TEXT)})
    >>> raw = build_raw_table("report.csv", ["Account", "Stage"], cells, ["Confidential"],
    ...                       "utf-8", ",", "csv")
    >>> raw.table.column("Account").to_pylist(), raw.source_row.tolist(), raw.n_rows
    (['Acme', 'Café'], [1, 4], 5)
    >>> raw.dropped[["source_row", "code"]].values.tolist()
    [[2, 'blank'], [3, 'header'], [5, 'footer']]
    """
    n_body = table.num_rows
    source_row = np.arange(1, n_body + 1, dtype=np.int64)
    dropped = [
        (n_body + i + 1, text or None, *_footer_reason(text)) for i, text in enumerate(footer)
    ]
    dropped += [(i + 1, value, code, reason) for i, value, code, reason in bad]
    names = _unique_headers(headers, table.num_columns, name)
    table = table.rename_columns(names)
    padded = [*headers, *[""] * table.num_columns][: table.num_columns]
    keep = [
        j
        for j, (n, h) in enumerate(zip(names, padded, strict=True))
        if h.strip() or table.column(n).null_count < table.num_rows
    ]
    table, text_fixes = fix_cells(table.select(keep), undecoded)
    # Cells are repaired before rows are told apart, so a repeated header row is compared with
    # the header repaired alike.
    header_text = [fix_text(padded[j])[0].strip() for j in keep]
    raw = RawTable(
        name=name,
        table=table,
        source_row=source_row,
        n_rows=n_body + len(footer),
        encoding=encoding,
        delimiter=delimiter,
        kind=kind,
    )
    raw = _drop_rows(raw, dropped, header_text, [i for i, *_ in bad])
    rows = [(i + 1, *rest) for i, *rest in repaired]
    # Repairs of the cells of dropped rows are not reported: the rows are.
    kept = np.zeros(n_body + 1, dtype=bool)
    kept[raw.source_row] = True
    rows += [(i + 1, *rest) for i, *rest in text_fixes if kept[i + 1]]
    if rows:
        raw.fixed = pd.concat([raw.fixed, _frame(_FIX_COLUMNS, rows)], ignore_index=True)
    return raw


def _footer_reason(text: str) -> tuple[str, str]:
    if not text:
        return "footer", "blank line in a report footer"
    if re.match(r"(sub-?totals?|totals?)\b", text, re.IGNORECASE):
        return "summary", "summary (Total/Subtotal) row of a report"
    return "footer", "report footer, not a deal"


def _unique_headers(headers: list[str], width: int, name: str = "the file") -> list[str]:
    names: list[str] = []
    seen: Counter[str] = Counter()
    for i in range(width):
        h = headers[i].replace("\ufeff", "").strip() if i < len(headers) else ""
        h = h or f"Unnamed {i + 1}"
        seen[h] += 1
        names.append(h if seen[h] == 1 else f"{h} ({seen[h]})")
    twice = [h for h, k in seen.items() if k > 1 and not h.startswith("Unnamed ")]
    if twice:
        warnings.warn(
            f"`{name}` has several columns named {', '.join(f'`{h}`' for h in twice[:5])}: "
            f"the first of each is read, the others are kept as `{twice[0]} (2)`, ... "
            "Rename the columns in the export if another one is meant.",
            DataQualityWarning,
            stacklevel=2,
        )
    return names


def _drop_rows(raw: RawTable, extra: list[tuple], headers: list[str], bad: list[int]) -> RawTable:
    """Remove blank records, Total / Subtotal rows, repeated header rows and the ``bad``
    records (positions) already explained in ``extra``; fill grouping cells of summary reports."""
    table = raw.table
    n = table.num_rows
    # A summary row fills at most half the columns (a blank one none): only those rows are
    # matched, and only rows missing a cell can be among them.
    most = max(1, table.num_columns // 2)
    short = _rows_missing_one_of(table, most + 1)
    filled = _filled(table, short)
    known = np.zeros(n, dtype=bool)
    known[np.asarray(bad, dtype=np.int64)] = True
    blank = np.zeros(n, dtype=bool)
    blank[short[filled == 0]] = True
    blank &= ~known
    summary = np.zeros(n, dtype=bool)
    summary[short[filled <= most]] = True
    summary &= ~blank
    if summary.any():
        short = np.flatnonzero(summary)
        hit = np.zeros(len(short), dtype=bool)
        for col in table.columns[:2]:
            cells = take_rows(col, short)
            match = pc.match_substring_regex(cells, _SUMMARY_CELL, ignore_case=True)
            hit |= np.asarray(pc.fill_null(match, False))
        summary[short] = hit
    repeated = _repeated_header(table, headers) & ~summary
    rows = list(extra)
    first = table.column(0) if table.num_columns else None
    for i in np.flatnonzero(repeated):
        rows.append(
            (
                int(raw.source_row[i]),
                first[int(i)].as_py() if first is not None else None,
                "header",
                "the header row again (two exports joined into one file?)",
            )
        )
    for i in np.flatnonzero(blank):
        rows.append((int(raw.source_row[i]), None, "blank", "blank row with no values"))
    for i in np.flatnonzero(summary):
        value = first[int(i)].as_py() if first is not None else None
        rows.append(
            (int(raw.source_row[i]), value, "summary", "summary (Total/Subtotal) row of a report")
        )
    fixes: list[tuple] = []
    drop = blank | summary | repeated | known
    if summary.any():
        table, fixes = _fill_groups(table, raw.source_row, drop)
    keep = ~drop
    raw.table = keep_rows(table, keep)
    raw.source_row = raw.source_row[keep]
    raw.dropped = _frame(_DROP_COLUMNS, sorted(rows, key=lambda r: r[0]))
    raw.fixed = _frame(_FIX_COLUMNS, fixes)
    return raw


def _rows_missing_one_of(table: pa.Table, k: int) -> np.ndarray:
    """Positions of the rows that may fill fewer than `k` cells: a row filling none of some `k`
    columns' cells misses one of them, so the `k` columns missing fewest cells are looked at."""
    if table.num_columns < k:
        return np.arange(table.num_rows)
    gaps = np.zeros(table.num_rows, dtype=bool)
    for col in sorted(table.columns, key=lambda c: c.null_count)[:k]:
        if col.null_count:
            gaps |= np.asarray(pc.is_null(col))
    return np.flatnonzero(gaps)


def _filled(table: pa.Table, rows: np.ndarray) -> np.ndarray:
    """How many cells of each of `rows` are filled."""
    out = np.zeros(len(rows), dtype=np.int64)
    for col in table.columns:
        if not col.null_count:
            out += 1
        elif len(rows):
            out += np.asarray(pc.is_valid(col))[rows]
    return out


def _repeated_header(table: pa.Table, headers: list[str]) -> np.ndarray:
    """Rows whose every filled cell is its column's header, at least half the named columns."""
    pairs = [(col, h) for col, h in zip(table.columns, headers, strict=False) if h]
    out = np.zeros(table.num_rows, dtype=bool)
    if not pairs:
        return out
    # Only rows whose first named cell is missing or that column's header can qualify.
    first, header = pairs[0]
    # (A cell holding the header is screened for first: trimming every cell would copy them.)
    rows = rows_holding(first, [header])
    if rows is None:
        rows = np.flatnonzero(np.asarray(pc.fill_null(pc.match_substring(first, header), True)))
    elif first.null_count:
        rows = np.union1d(rows, np.flatnonzero(np.asarray(pc.is_null(first))))
    if len(rows):
        cells = pc.utf8_trim_whitespace(take_rows(first, rows))
        rows = rows[np.asarray(pc.fill_null(pc.equal(cells, header), True))]
    if not len(rows):
        return out
    hits = np.zeros(len(rows), dtype=np.int64)
    for col, header in pairs:
        cells = pc.utf8_trim_whitespace(take_rows(col, rows))
        hits += np.asarray(pc.fill_null(pc.equal(cells, header), False), dtype=np.int64)
    out[rows] = (hits == _filled(table, rows)) & (hits >= max(2, (len(pairs) + 1) // 2))
    return out


def _fill_groups(table: pa.Table, source_row: np.ndarray, drop: np.ndarray):
    """Summary reports show a grouping value only on a group's first row: carry it down."""
    fixes = []
    columns = list(table.columns)
    for j in range(min(2, table.num_columns)):
        values = columns[j].to_pylist()
        data_rows = [i for i in range(len(values)) if not drop[i]]
        if not data_rows or values[data_rows[0]] is None:
            break
        if all(values[i] is not None for i in data_rows):
            break
        last = None
        for i in range(len(values)):
            if drop[i]:
                last = None
                continue
            if values[i] is None and last is not None:
                values[i] = last
                fixes.append(
                    (
                        int(source_row[i]),
                        table.column_names[j],
                        None,
                        last,
                        "blank grouping cell of a summary report, filled from the row above",
                    )
                )
            last = values[i]
        columns[j] = pa.chunked_array([pa.array(values, TEXT)])
    return pa.table(columns, names=table.column_names), fixes
