"""Text cells as read: decoded from a single-byte encoding and repaired, one distinct value at a time.

Only a cell holding a byte outside ASCII can need decoding or repair, so each block of a column is
screened for such cells and only their distinct values are worked on, each once per column. A
repair removes invisible byte-order marks (U+FEFF) and undoes mojibake (text saved as UTF-8 and
read as cp1252 or Mac-Roman) with ftfy.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.io.arrow import TEXT, map_columns, non_ascii_rows, replace_cells

__all__ = ["fix_cells", "fix_text"]

_BOM = "\ufeff"
_BOM_REASON = "removed an invisible byte-order mark (U+FEFF)"
_MOJIBAKE_REASON = "repaired mojibake (text saved in one encoding and read in another)"


def fix_text(text: str) -> tuple[str, str | None]:
    """`text` repaired, and the reason (``None`` when nothing changed).

    Examples
    --------
    >>> fix_text("CafÃ©"), fix_text("\\ufeffAcme"), fix_text("Zürich")
    (('Café', 'repaired mojibake (text saved in one encoding and read in another)'), \
('Acme', 'removed an invisible byte-order mark (U+FEFF)'), ('Zürich', None))
    """
    clean = text.replace(_BOM, "")
    # ftfy leaves text its badness heuristic passes exactly as it is: asking it first is the
    # same answer without ftfy's per-call set-up.
    if _ftfy().badness.is_bad(clean):
        clean = _ftfy().fix_encoding(clean)
    if clean == text:
        return text, None
    return clean, _BOM_REASON if text.replace(_BOM, "") == clean else _MOJIBAKE_REASON


@cache
def _ftfy():
    import ftfy
    import ftfy.badness

    return ftfy


def fix_cells(table: pa.Table, encoding: str | None = None) -> tuple[pa.Table, list[tuple]]:
    """`table`'s text cells decoded from `encoding` and repaired.

    Parameters
    ----------
    table : pyarrow.Table
        Text columns. With `encoding`, their non-ASCII cells hold bytes of that single-byte
        encoding (read without decoding); without it they are text already.
    encoding : str, optional
        A single-byte, ASCII-compatible encoding such as ``"cp1252"``.

    Returns
    -------
    table : pyarrow.Table
    fixes : list of tuple
        ``(position, column, before, after, reason)`` of each repaired cell; decoding alone is
        not a repair.

    Examples
    --------
    >>> def cp1252(*cells):  # text columns holding cp1252 bytes, as parsed
    ...     return pa.array(cells, pa.large_binary()).view(TEXT)
    >>> table = pa.table({"a": cp1252(b"Caf\\xe9", b"Acme", None),
    ...                   "b": cp1252(b"x", b"Caf\\xc3\\xa9", b"y")})
    >>> fixed, fixes = fix_cells(table, "cp1252")
    >>> fixed.column("a").to_pylist(), fixed.column("b").to_pylist()
    (['Café', 'Acme', None], ['x', 'Café', 'y'])
    >>> [f[:4] for f in fixes]
    [(1, 'b', 'CafÃ©', 'Café')]
    """
    columns: list[pa.ChunkedArray] = []
    fixes: list[tuple] = []
    changed = False
    done = map_columns(lambda c: _fix_column(c, encoding), table.columns, table.num_rows)
    for name, column, (fixed, found) in zip(table.column_names, table.columns, done, strict=True):
        changed |= fixed is not column
        columns.append(fixed)
        fixes.extend((i, name, before, after, reason) for i, before, after, reason in found)
    if not changed:
        return table, fixes
    return pa.table(columns, names=table.column_names), fixes


def _fix_column(
    column: pa.ChunkedArray, encoding: str | None
) -> tuple[pa.ChunkedArray, list[tuple]]:
    """One column, block by block (a block's cells are taken and replaced without copying the
    others); each distinct cell is decoded and repaired once."""
    done: dict[object, tuple[str, str, str | None]] = {}
    chunks, found, start, changed = [], [], 0, False
    for chunk in column.chunks:
        rows = non_ascii_rows(chunk)
        if len(rows):
            cells = chunk.take(pa.array(rows))
            if encoding is not None:
                cells = cells.cast(pa.large_binary())
            distinct = pc.unique(cells)
            values = distinct.to_pylist()
            done.update(_fix_values(values, encoding, done))
            results = [done[v] for v in values]
            repaired = np.array([r[2] is not None for r in results], dtype=bool)
            if encoding is not None or repaired.any():
                where = pc.index_in(cells, value_set=distinct)
                texts = pa.array([r[1] for r in results], TEXT)
                chunk = replace_cells(chunk, rows, pc.take(texts, where))
                changed = True
                at = np.asarray(where)
                hit = repaired[at]
                for i, k in zip(rows[hit], at[hit], strict=True):
                    before, after, reason = results[k]
                    found.append((start + int(i), before, after, reason))
        chunks.append(chunk)
        start += len(chunk)
    if not changed:
        return column, found
    return pa.chunked_array(chunks, TEXT), found


def _fix_values(
    values: list, encoding: str | None, done: dict
) -> dict[object, tuple[str, str, str | None]]:
    """``{cell: (text, repaired text, reason)}`` for the cells not `done` yet."""
    out = {}
    for value in values:
        if value not in done:
            text = value.decode(encoding or "utf-8") if isinstance(value, bytes) else value
            out[value] = (text, *fix_text(text))
    return out
