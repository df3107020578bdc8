"""Vectorised Arrow building blocks shared by the reader and the cleaners: text columns, distinct
values, kept rows, work side by side in threads, row hashes and the ids made from them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "PARALLEL_CELLS",
    "TEXT",
    "as_array",
    "beside",
    "encode",
    "first_coded_rows",
    "first_rows",
    "hex_ids",
    "keep_columns",
    "keep_rows",
    "map_columns",
    "map_uniques",
    "non_ascii_rows",
    "repeat_codes",
    "repeat_text",
    "replace_cells",
    "row_hashes",
    "rows_holding",
    "take_rows",
    "text_series",
    "translate_bytes",
]


#: Arrow type of text columns: pandas' ``str`` dtype stores large strings, so no cast is needed.
TEXT = pa.large_string()

#: Tables with fewer cells than this are worked on column after column, in one thread.
PARALLEL_CELLS = 1 << 22

_T = TypeVar("_T")
_R = TypeVar("_R")


def map_columns(fn: Callable[[_T], _R], columns: Sequence[_T], n_rows: int) -> list[_R]:
    """``[fn(c) for c in columns]``, in Arrow's CPU threads when the table is large.

    Arrow's kernels let go of Python's global lock, so columns of a large table are cleaned side
    by side (as many at once as :func:`pyarrow.cpu_count`); small tables are not worth a thread.

    Examples
    --------
    >>> map_columns(len, [pa.array([1, 2]), pa.array([3])], n_rows=2)
    [2, 1]
    """
    workers = min(pa.cpu_count(), len(columns))
    if workers < 2 or n_rows * len(columns) < PARALLEL_CELLS:
        return [fn(c) for c in columns]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, columns))


def text_series(arr: pa.ChunkedArray | pa.Array | None, n: int) -> pd.Series:
    """A pyarrow string column as a pandas ``str`` Series (NaN for missing)."""
    if arr is None:
        return pd.Series(np.full(n, np.nan, dtype=object), dtype="str")
    if arr.type != TEXT:
        arr = arr.cast(TEXT)
    if isinstance(arr, pa.ChunkedArray) and not arr.num_chunks:
        arr = pa.array([], TEXT)
    return pd.Series(pd.array(arr, dtype="str"))


def encode(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Distinct non-missing values (in order of first appearance) and, per row, the position of
    its value (-1 when missing).

    One pass of Arrow's dictionary encoding, chunk by chunk, so a column read in blocks is never
    copied into one piece.

    Examples
    --------
    >>> uniques, positions = encode(pa.chunked_array([["b", None], ["a", "b"]]))
    >>> uniques.to_pylist(), positions.tolist()
    (['b', 'a'], [0, -1, 1, 0])
    """
    coded = pc.dictionary_encode(values)
    chunks = coded.chunks if isinstance(coded, pa.ChunkedArray) else [coded]
    if not chunks:
        return pa.array([], values.type), np.zeros(0, dtype=np.int64)
    # The chunks of one encoding share its dictionary (checked: a later Arrow could differ).
    uniques = chunks[-1].dictionary
    if any(len(c.dictionary) != len(uniques) for c in chunks):  # pragma: no cover
        uniques = pc.unique(values).drop_null()
        uniques = uniques.combine_chunks() if isinstance(uniques, pa.ChunkedArray) else uniques
        positions = pc.fill_null(pc.index_in(values, value_set=uniques), -1)
        return uniques, np.asarray(positions.to_numpy(zero_copy_only=False), dtype=np.int64)
    parts = [np.asarray(pc.fill_null(c.indices, -1), dtype=np.int64) for c in chunks]
    return uniques, np.concatenate(parts) if len(parts) > 1 else parts[0]


def map_uniques(arr: pa.ChunkedArray | pa.Array, fn, n: int, *, arrow: bool = False):
    """Apply ``fn`` to each distinct value (missing -> ``fn(None)``) and spread the result.

    Returns a NumPy object array, or a pyarrow string array with ``arrow=True``.
    """
    uniques, positions = encode(arr)
    mapped = [fn(u) for u in uniques.to_pylist()] + [fn(None)]
    positions = np.where(positions < 0, len(mapped) - 1, positions)
    if arrow:
        return pc.take(pa.array(mapped, TEXT), pa.array(positions))
    return np.array(mapped, dtype=object)[positions] if n else np.zeros(0, dtype=object)


def repeat_text(value: str, n: int) -> pa.Array:
    """`value` `n` times, as a text array (built in one piece: quicker than ``pa.repeat``).

    Examples
    --------
    >>> repeat_text("deals.csv", 2).to_pylist()
    ['deals.csv', 'deals.csv']
    """
    data = value.encode("utf-8")
    offsets = np.arange(0, (n + 1) * len(data), len(data) or 1, dtype=np.int64)
    if not data:
        offsets = np.zeros(n + 1, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))


def as_array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """`values` as one array (a column read in blocks is combined; one block is not copied)."""
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def translate_bytes(values: pa.Array, table: np.ndarray) -> pa.Array:
    """Each text of `values` with its bytes mapped through `table` (256 entries; -1 drops the
    byte), in one pass over the bytes: a quicker ``str.translate`` of ASCII characters.

    Dropping every byte from 0x80 drops whole non-ASCII characters (UTF-8 writes them with such
    bytes only); mapping a byte outside ASCII to another is the caller's care.

    Examples
    --------
    >>> table = np.arange(256)
    >>> table[ord(",")], table[0x80:] = ord(" "), -1
    >>> translate_bytes(pa.array(["a,b", "é!", None]), table).to_pylist()
    ['a b', '!', None]
    """
    values = values.cast(TEXT)
    if values.offset:
        values = pa.concat_arrays([values])  # the buffers start at the first cell
    start, raw = _offsets_and_bytes(values)
    table = np.asarray(table)
    dropped = table < 0
    # bytes.translate maps and drops in one pass without temporaries; each new offset is the old
    # one less the bytes dropped before it.
    text = raw.tobytes()
    out = text.translate(
        np.where(dropped, 0, table).astype(np.uint8).tobytes(),
        np.flatnonzero(dropped).astype(np.uint8).tobytes(),
    )
    offsets_now = start - start[0]
    # (bytes.translate also marks the dropped bytes: numpy's lookup would widen every byte.)
    gone = np.flatnonzero(np.frombuffer(text.translate(dropped.astype(np.uint8).tobytes()), bool))
    ends = offsets_now - np.searchsorted(gone, offsets_now)
    return pa.LargeStringArray.from_buffers(
        len(values), pa.py_buffer(ends), pa.py_buffer(out), values.buffers()[0], values.null_count
    )


def non_ascii_rows(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Positions of the cells holding a byte outside ASCII (the only ones decoding or mojibake
    repair can change).

    Examples
    --------
    >>> non_ascii_rows(pa.array(["Acme", "Café", None, "Zürich"])).tolist()
    [1, 3]
    """
    if values.null_count == len(values) or not _any_high_byte(values):
        return np.zeros(0, dtype=np.int64)
    ascii_ = pc.fill_null(pc.string_is_ascii(values), True)
    if pc.all(ascii_).as_py():
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(~np.asarray(ascii_))


def rows_holding(values: pa.Array | pa.ChunkedArray, needles: Sequence[str]) -> np.ndarray | None:
    """Positions of the cells that may hold one of `needles`: every cell that does, and any
    that a needle crosses into from the cell before.

    A screen before an exact search, quicker than Arrow's search of every cell when the cells
    are many and short: one ``bytes.find`` pass over each block's bytes per needle. ``None``
    when the needles occur so often that searching every cell is quicker.

    Examples
    --------
    >>> rows_holding(pa.array(["Acme", "Stage", None, "Stage 2"]), ["Stage"])
    array([1, 3])
    """
    wanted = [n.encode("utf-8") for n in needles]
    found, start = [], 0
    for chunk in _chunks(values):
        offsets, text = _offsets_and_bytes(chunk)
        data = text.tobytes()
        at: list[int] = []
        for needle in wanted:
            i = data.find(needle)
            while i >= 0:
                at.append(i)
                if len(at) > _MOST_HITS:
                    return None
                i = data.find(needle, i + 1)
        rows = np.searchsorted(offsets - offsets[0], np.asarray(at, np.int64), side="right") - 1
        found.append(start + np.unique(rows))
        start += len(chunk)
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


#: More hits than this and :func:`rows_holding` leaves the search to Arrow.
_MOST_HITS = 1 << 14


def _offsets_and_bytes(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A text array's offsets (64-bit) and a view of the bytes they point into."""
    buffers = chunk.buffers()
    width = 8 if pa.types.is_large_string(chunk.type) or pa.types.is_large_binary(chunk.type) else 4
    offsets = np.frombuffer(
        buffers[1], f"<i{width}", count=len(chunk) + 1, offset=chunk.offset * width
    ).astype(np.int64, copy=False)
    if buffers[2] is None:
        return offsets, np.zeros(0, dtype=np.uint8)
    return offsets, np.frombuffer(buffers[2], np.uint8)[offsets[0] : offsets[-1]]


def _any_high_byte(values: pa.Array | pa.ChunkedArray) -> bool:
    """Whether the text of `values` holds a byte outside ASCII (one pass over the bytes, no
    array per cell)."""
    for chunk in _chunks(values):
        if len(chunk.buffers()) < 3 or not len(chunk):
            continue
        _, text = _offsets_and_bytes(chunk)
        if len(text) and text.max() >= 0x80:
            return True
    return False


def replace_cells(
    values: pa.Array | pa.ChunkedArray, rows: np.ndarray, new: pa.Array
) -> pa.ChunkedArray:
    """`values` with the cells at positions `rows` replaced by `new` (missing in `new`: kept)."""
    positions = np.full(len(values), -1, dtype=np.int64)
    positions[rows] = np.arange(len(rows))
    index = pa.array(positions, mask=positions < 0)
    taken = pc.take(new, index)
    if isinstance(values, pa.ChunkedArray):
        taken = pa.chunked_array([taken]) if isinstance(taken, pa.Array) else taken
    return pc.coalesce(taken, values)


def take_rows(values: _Taken, rows: np.ndarray) -> _Taken:
    """``values.take(rows)`` block by block: Arrow combines a column read in blocks into one
    piece before taking from it, which copies the whole column to take a few rows.

    Examples
    --------
    >>> blocks = pa.chunked_array([["a", "b"], ["c"], ["d", "e"]])
    >>> take_rows(blocks, np.array([4, 0, 2])).to_pylist()
    ['e', 'a', 'c']
    >>> take_rows(pa.table({"x": blocks}), np.array([1, 3])).column("x").to_pylist()
    ['b', 'd']
    """
    rows = np.asarray(rows, dtype=np.int64)
    if isinstance(values, pa.Table):
        columns = [take_rows(c, rows) for c in values.columns]
        return pa.Table.from_arrays(columns, schema=values.schema)
    if isinstance(values, pa.Array) or values.num_chunks < 2:
        return values.take(pa.array(rows))
    bounds = np.cumsum([0, *(len(c) for c in values.chunks)])
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    cuts = np.searchsorted(ordered, bounds)
    parts = [
        values.chunk(k).take(pa.array(ordered[cuts[k] : cuts[k + 1]] - bounds[k]))
        for k in range(values.num_chunks)
        if cuts[k] < cuts[k + 1]
    ]
    taken = pa.chunked_array(parts, values.type)
    if len(rows) and (np.diff(rows) < 0).any():
        inverse = np.empty_like(order)
        inverse[order] = np.arange(len(order))
        taken = pa.chunked_array([taken.combine_chunks().take(pa.array(inverse))], values.type)
    return taken


_Taken = TypeVar("_Taken", pa.Table, pa.ChunkedArray, pa.Array)


def keep_rows(table: pa.Table, keep: np.ndarray) -> pa.Table:
    """The rows where ``keep`` is true.

    A few kept runs (rows dropped at the end of a report) are zero-copy slices; otherwise each
    column is filtered on its own (quicker than ``Table.filter``), so no column is left in
    thousands of tiny chunks.

    Examples
    --------
    >>> table = pa.table({"a": [1, 2, 3, 4]})
    >>> keep_rows(table, np.array([True, False, True, True])).column("a").to_pylist()
    [1, 3, 4]
    """
    if keep.all():
        return table
    return pa.table(_kept(table.columns, keep), names=table.column_names)


def keep_columns(columns: dict[str, pa.ChunkedArray | pa.Array], keep: np.ndarray) -> dict:
    """:func:`keep_rows` of named columns, letting go of each one as soon as it is filtered.

    `columns` is emptied: a column nothing else refers to is freed once its kept rows are
    copied, so a large table is never held twice.

    Examples
    --------
    >>> columns = {"a": pa.array([1, 2, 3]), "b": pa.array(["x", "y", "z"])}
    >>> kept = keep_columns(columns, np.array([True, False, True]))
    >>> {k: v.to_pylist() for k, v in kept.items()}, columns
    ({'a': [1, 3], 'b': ['x', 'z']}, {})
    """
    names = list(columns)
    values = [columns.pop(name) for name in names]
    return dict(zip(names, _kept(values, keep), strict=True))


def _kept(columns: list, keep: np.ndarray) -> list:
    """The `keep` rows of each of `columns`, side by side for a large table; each entry of the
    list is let go once its column is filtered."""
    if keep.all():
        return list(columns)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], keep.astype(np.int8), [0]])))
    runs = list(zip(edges[0::2], edges[1::2], strict=True))
    mask = pa.array(keep) if len(runs) > 16 else None

    def one(j: int):
        col, columns[j] = columns[j], None
        if mask is not None:
            return pc.filter(col, mask)
        parts = [c for a, b in runs for c in _chunks(col.slice(a, b - a))]
        return pa.chunked_array(parts, col.type)

    return map_columns(one, range(len(columns)), len(keep))


def _chunks(values: pa.ChunkedArray | pa.Array) -> list[pa.Array]:
    return values.chunks if isinstance(values, pa.ChunkedArray) else [values]


def beside(first: Callable[[], _R], second: Callable[[], _T], n_rows: int) -> tuple[_R, _T]:
    """``(first(), second())``, the two side by side in threads when `n_rows` is large (the
    work is mostly Arrow's and NumPy's, which let go of Python's global lock).

    Examples
    --------
    >>> beside(lambda: 1, lambda: "a", n_rows=10)
    (1, 'a')
    """
    if pa.cpu_count() < 2 or n_rows < PARALLEL_CELLS // 8:
        return first(), second()
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(second)
        return first(), running.result()


def hex_ids(hashes: np.ndarray, prefix: str) -> pa.Array:
    """uint64 hashes -> ``prefix`` + 16 lowercase hex digits, without a Python loop."""
    raw = hashes.astype(">u8").view(np.uint8).reshape(-1, 8)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    width = len(head) + 16
    out = np.empty((len(hashes), width), dtype=np.uint8)
    out[:, : len(head)] = head
    out[:, len(head) :: 2] = digits[raw >> 4]
    out[:, len(head) + 1 :: 2] = digits[raw & 15]
    offsets = np.arange(0, (len(hashes) + 1) * width, width, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(
        len(hashes), pa.py_buffer(offsets), pa.py_buffer(out.tobytes())
    )


def row_hashes(table: pa.Table) -> np.ndarray:
    """64-bit hash of each row's cells as exported, in column order.

    The cells are joined with the unit separator (U+001F, missing cells as empty text) and hashed
    with SipHash-2-4 under pandas' fixed default key (:func:`pandas.util.hash_array`), so the
    same row always gets the same hash.
    """
    if table.num_columns == 0:
        return np.zeros(table.num_rows, dtype=np.uint64)
    out = np.empty(table.num_rows, dtype=np.uint64)
    step = 1 << 17
    for start in range(0, table.num_rows, step):
        part = table.slice(start, step)
        joined = pc.binary_join_element_wise(
            *(c.cast(TEXT) for c in part.columns),
            pa.scalar("\x1f", TEXT),
            null_handling="replace",
            null_replacement="",
        )
        values = np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)
        out[start : start + step] = pd.util.hash_array(values, categorize=False)
    return out


def repeat_codes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per row, a code shared by the rows holding the same value, for values held by more than
    one row; -1 for values held by one row and for missing values.

    Large columns of ids of one length (CRM record ids) are screened with a 64-bit hash of their
    bytes and a sort, and only rows whose hash repeats are compared exactly: a hash table of ten
    million distinct strings is what made finding the few repeated ids slow.

    Examples
    --------
    >>> repeat_codes(pa.array(["a", "b", "a", None, "c", "b"])).tolist()
    [0, 1, 0, -1, -1, 1]
    """
    if values.type != TEXT:
        values = values.cast(TEXT)
    hashes = _fixed_width_hashes(values) if len(values) >= 1 << 16 else None
    if hashes is None:
        return _exact_repeat_codes(values)
    ordered = np.sort(hashes)
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    out = np.full(len(values), -1, dtype=np.int64)
    if len(twice):
        rows = _rows_holding(hashes, np.unique(twice))
        out[rows] = _exact_repeat_codes(take_rows(values, rows))
    return out


def _rows_holding(hashes: np.ndarray, wanted: np.ndarray, bits: int = 22) -> np.ndarray:
    """Positions of the `hashes` found among the few `wanted`: their low bits screen first (a
    table lookup), and only the rows passing the screen are looked up exactly."""
    low = np.uint64((1 << bits) - 1)
    seen = np.zeros(1 << bits, dtype=bool)
    seen[(wanted & low).view(np.int64)] = True
    keys = np.bitwise_and(hashes, low).view(np.int64)
    candidates = np.flatnonzero(seen[keys])
    return candidates[pd.Series(hashes[candidates]).isin(wanted).to_numpy()]


def _exact_repeat_codes(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    codes = pd.factorize(text_series(values, len(values)))[0]
    counts = np.bincount(codes[codes >= 0], minlength=int(codes.max(initial=0)) + 1)
    return np.where((codes >= 0) & (counts[np.maximum(codes, 0)] > 1), codes, -1)


def _fixed_width_hashes(values: pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """A 64-bit hash of each value when all are present and of one length (else ``None``)."""
    if values.null_count or not len(values):
        return None
    if isinstance(values, pa.ChunkedArray):
        parts = [_fixed_width_hashes(c) for c in values.chunks if len(c)]
        if any(p is None for p in parts) or len({_width(c) for c in values.chunks if len(c)}) > 1:
            return None
        return np.concatenate(parts)  # type: ignore[arg-type]
    n = len(values)
    offsets = np.frombuffer(values.buffers()[1], np.int64, count=n + 1, offset=values.offset * 8)
    width = int(offsets[1] - offsets[0])
    if not 0 < width <= 64 or not (np.diff(offsets) == width).all():
        return None
    data = values.buffers()[2]
    if width >= 8:
        # Eight-byte words read in place, the last one overlapping the one before it.
        starts = [*range(0, width - 7, 8), *([width - 8] if width % 8 else [])]
        words = [
            np.ndarray((n,), "<u8", buffer=data, offset=int(offsets[0]) + k, strides=(width,))
            for k in starts
        ]
    else:
        cells = np.frombuffer(data, np.uint8)[offsets[0] : offsets[-1]].reshape(n, width)
        padded = np.zeros((n, 8), dtype=np.uint8)
        padded[:, :width] = cells
        words = [padded.view("<u8")[:, 0]]
    hashes = np.zeros(n, dtype=np.uint64)
    shifted = np.empty(min(n, _BLOCK), dtype=np.uint64)
    # Block by block, in place: the words of a block stay in cache while they are mixed.
    for start in range(0, n, _BLOCK):
        out = hashes[start : start + _BLOCK]
        tmp = shifted[: len(out)]
        for word in words:
            out ^= word[start : start + _BLOCK]
            out *= np.uint64(0x9E3779B97F4A7C15)
            np.right_shift(out, np.uint64(29), out=tmp)
            out ^= tmp
    return hashes


_BLOCK = 1 << 18


def _width(values: pa.Array) -> int:
    offsets = values.buffers()[1]
    start, stop = np.frombuffer(offsets, np.int64, count=2, offset=values.offset * 8)
    return int(stop - start)


def first_rows(keys: pd.Series, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Among ``candidates`` (bool), rows whose key repeats an earlier candidate, and that row."""
    positions = np.flatnonzero(candidates)
    sub = keys.iloc[positions].reset_index(drop=True)
    dup = sub.duplicated(keep="first").to_numpy() & sub.notna().to_numpy()
    if not dup.any():
        return np.zeros(len(keys), dtype=bool), np.zeros(0, dtype=np.int64)
    first = pd.Series(positions[~dup], index=sub[~dup].to_numpy())
    first = first[~first.index.duplicated()]
    repeats = positions[dup]
    mask = np.zeros(len(keys), dtype=bool)
    mask[repeats] = True
    return mask, first.reindex(sub[dup].to_numpy()).to_numpy()


def first_coded_rows(codes: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`first_rows` for keys already factorised into integer ``codes`` (-1: missing).

    Examples
    --------
    >>> mask, first = first_coded_rows(np.array([0, 1, 0, -1, 1, 0]), np.ones(6, dtype=bool))
    >>> np.flatnonzero(mask).tolist(), first.tolist()
    ([2, 4, 5], [0, 1, 0])
    """
    positions = np.flatnonzero(candidates & (codes >= 0))
    keys = codes[positions]
    dup = pd.Series(keys).duplicated(keep="first").to_numpy()
    mask = np.zeros(len(codes), dtype=bool)
    if not dup.any():
        return mask, np.zeros(0, dtype=np.int64)
    first_of = np.full(int(keys.max()) + 1, -1, dtype=np.int64)
    first_of[keys[~dup]] = positions[~dup]
    mask[positions[dup]] = True
    return mask, first_of[keys[dup]]
