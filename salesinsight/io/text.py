"""Text cells as read: decoded from a single-byte encoding and repaired, one distinct value at a time.

Only a cell holding a byte outside ASCII can need decoding or repair, so each block of a column is
screened for such cells and only their distinct values are worked on, each once per column. A
repair removes invisible byte-order marks (U+FEFF) and undoes mojibake (text saved as UTF-8 and
read as cp1252 or Mac-Roman) with ftfy.

ftfy's badness check is a regular expression whose matches are a few characters long and each
hold a character outside ASCII. So a text is checked through the short windows around its
non-ASCII characters, each distinct window (a name's "ü" among its neighbours) searched once: the
same answer as searching every text whole, several times quicker on columns of names.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.io.arrow import TEXT, map_columns, non_ascii_rows, replace_cells, take_rows
from salesinsight.io.regex import local_reach

__all__ = ["fix_cells", "fix_text", "looks_bad", "looks_bad_many"]

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
    return _repaired(text, looks_bad(text.replace(_BOM, "")))


def _repaired(text: str, bad: bool) -> tuple[str, str | None]:
    """:func:`fix_text` of a `text` whose badness (without byte-order marks) is known."""
    clean = text.replace(_BOM, "")
    # ftfy leaves text its badness heuristic passes exactly as it is: asking it first is the
    # same answer without ftfy's per-call set-up.
    if bad:
        clean = _ftfy().fix_encoding(clean)
    if clean == text:
        return text, None
    return clean, _BOM_REASON if text.replace(_BOM, "") == clean else _MOJIBAKE_REASON


def looks_bad(text: str) -> bool:
    """ftfy's ``badness.is_bad(text)``: whether `text` looks like mojibake.

    Examples
    --------
    >>> looks_bad("CafÃ© Zürich"), looks_bad("Café Zürich"), looks_bad("Acme")
    (True, False, False)
    """
    return bool(looks_bad_many([text])[0])


def looks_bad_many(texts: Sequence[str]) -> np.ndarray:
    """:func:`looks_bad` of each of `texts`, searched window by window around their non-ASCII
    characters (found in one pass over all the texts; each distinct window searched once per
    process).

    Examples
    --------
    >>> looks_bad_many(["CafÃ©", "Café", "", "Ã "]).tolist()
    [True, False, False, True]
    """
    reach = _reach()
    joined = "\x00".join(texts)
    if reach is None or joined.count("\x00") != len(texts) - 1:
        # (A text holding the separator itself is searched whole.)
        return np.array([_ftfy().badness.is_bad(t) for t in texts], dtype=bool)
    bad = np.zeros(len(texts), dtype=bool)
    # One code point per character, so positions in the array are positions in the text.
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    at = np.flatnonzero(codes > 0x7F)
    if not len(at):
        return bad
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    starts = np.cumsum(lengths + 1) - (lengths + 1)
    which = np.searchsorted(starts, at, side="right") - 1
    low = np.maximum(at - reach, starts[which])
    high = np.minimum(at + reach + 1, starts[which] + lengths[which])
    first = (low == starts[which]).tolist()
    hits = [
        _window_is_bad(joined[a:b], s)
        for a, b, s in zip(low.tolist(), high.tolist(), first, strict=True)
    ]
    bad[which[np.asarray(hits, dtype=bool)]] = True
    return bad


@lru_cache(maxsize=1 << 16)
def _window_is_bad(window: str, at_start: bool) -> bool:
    pattern = _ftfy().badness.BADNESS_RE
    if at_start:
        return pattern.search(window) is not None
    # Searched from the second character: "^" matches only at a text's real start.
    return pattern.search("\x00" + window, 1) is not None


@cache
def _reach() -> int | None:
    """How far a match of ftfy's badness pattern reaches from one of its non-ASCII characters
    (its longest match less one), or ``None`` when the pattern is not of that local kind."""
    return local_reach(_ftfy().badness.BADNESS_RE)


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
    # The largest columns first, so that the threads finish about together.
    order = sorted(range(table.num_columns), key=lambda j: -table.column(j).nbytes)
    by_size = map_columns(lambda j: _fix_column(table.column(j), encoding), order, table.num_rows)
    by_position = dict(zip(order, by_size, strict=True))
    done = [by_position[j] for j in range(table.num_columns)]
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
    """One column: its non-ASCII cells taken from every block at once, each distinct one decoded
    and repaired once, and put back block by block (the others are not copied)."""
    rows = non_ascii_rows(column)
    if not len(rows):
        return column, []
    cells = take_rows(column, rows)
    if encoding is not None:
        cells = cells.cast(pa.large_binary())
    distinct = pc.unique(cells)
    values = distinct.to_pylist()
    results = _fix_values(values, encoding)
    repaired = np.array([r[2] is not None for r in results], dtype=bool)
    if encoding is None and not repaired.any():
        return column, []
    at = np.asarray(pc.index_in(cells, value_set=distinct))
    new = pa.array([r[1] for r in results], TEXT).take(pa.array(at))
    hit = repaired[at]
    bounds = np.cumsum([0, *(len(c) for c in column.chunks)])
    cuts = np.searchsorted(rows, bounds)
    # Undecoded blocks change wherever they hold a non-ASCII cell; text ones where repaired.
    chunks = [
        replace_cells(chunk, rows[a:b] - bounds[k], new.slice(a, b - a))
        if b > a and (encoding is not None or hit[a:b].any())
        else chunk
        for k, (chunk, a, b) in enumerate(zip(column.chunks, cuts[:-1], cuts[1:], strict=True))
    ]
    found = [(int(i), *results[k]) for i, k in zip(rows[hit], at[hit], strict=True)]
    return pa.chunked_array(chunks, TEXT), found


def _fix_values(values: list, encoding: str | None) -> list[tuple[str, str, str | None]]:
    """``(text, repaired text, reason)`` of each of the distinct cells `values`."""
    texts = _decoded(values, encoding)
    marked = any(_BOM in t for t in texts)
    bad = looks_bad_many([t.replace(_BOM, "") for t in texts] if marked else texts)
    out: list[tuple[str, str, str | None]] = [(t, t, None) for t in texts]
    # Only texts that look bad or hold a byte-order mark can change.
    for k in np.flatnonzero(bad) if not marked else range(len(texts)):
        out[k] = (texts[k], *_repaired(texts[k], bool(bad[k])))
    return out


def _decoded(values: list, encoding: str | None) -> list[str]:
    """The text of each cell; bytes are decoded all at once where no cell holds a NUL byte."""
    if not values or not isinstance(values[0], bytes):
        return values
    joined = b"\x00".join(values)
    if joined.count(b"\x00") == len(values) - 1:
        return joined.decode(encoding or "utf-8").split("\x00")
    return [v.decode(encoding or "utf-8") for v in values]
