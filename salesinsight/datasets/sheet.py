"""A rendered export in memory: columns of text cells, the defects put into it, its bytes.

The world's rows are held column by column (Arrow string arrays) and never copied one by one; a
defect changes a few cells (kept aside as overrides) or adds a row (a duplicate, a test record)
somewhere in the file. Rows are named by integers: the world's rows by their position in the
world's table, added rows by the numbers after them. Where a row sits in the file is kept as a
sort key, so that millions of rows take no longer than a few thousand defects need; the manifest
gives each defect's final row number.
"""

from __future__ import annotations

import io
from bisect import bisect_left, insort
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["DIRT_COLUMNS", "Note", "Sheet", "text_array"]

DIRT_COLUMNS = ["file", "row", "kind", "record_id", "column", "value", "clean_value", "detail"]
# Sort keys: the world's row i has key i * _GAP; an added row gets a key between its neighbours'.
_GAP = 1 << 64
# Rows written per chunk: bounds the memory of the text being built.
_CHUNK = 250_000


def text_array(values: Sequence[str] | np.ndarray | pd.Series | pa.Array) -> pa.Array:
    """Cells as an Arrow string array (missing values become empty cells).

    Examples
    --------
    >>> text_array(["a", None]).to_pylist()
    ['a', '']
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pd.Series):
        values = pa.array(values, from_pandas=True)
    if not isinstance(values, pa.Array):
        values = pa.array(values, type=pa.string(), from_pandas=True)
    if values.type != pa.string():
        values = values.cast(pa.string())
    return pc.fill_null(values, "") if values.null_count else values


@dataclass
class Note:
    """One defect of a sheet, attached to the row (by number) it concerns."""

    row: int
    kind: str
    column: str = ""
    value: str = ""
    clean_value: str = ""
    same_as: int | None = None
    detail: str = ""


@dataclass
class Sheet:
    """A table of text cells as a vendor writes it, and the defects put into it.

    Examples
    --------
    >>> sheet = Sheet.from_columns("x.csv", {"ID": ["1", "2"], "Amount": ["5", "7"]}, id_column="ID")
    >>> sheet.set_cell(1, "Amount", "", "blank_amount")
    >>> sheet.to_bytes()
    b'ID,Amount\\n1,5\\n2,\\n'
    >>> sheet.manifest()[["row", "kind", "record_id", "clean_value"]].values.tolist()
    [[2, 'blank_amount', '2', '7']]
    """

    name: str
    headers: list[str]
    columns: list[pa.Array]
    id_column: str
    encoding: str = "utf-8"
    newline: str = "\n"
    quote_all: bool = False
    footer: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # world rows already dirtied; cells changed, by row and column; the world row an added row
    # copies (-1: none); sort keys of the added rows, in file order
    touched: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    cells: dict[int, dict[int, str]] = field(default_factory=dict)
    copies: list[int] = field(default_factory=list)
    keys: dict[int, int] = field(default_factory=dict)
    sorted_keys: list[int] = field(default_factory=list)

    @classmethod
    def from_columns(cls, name: str, columns: Mapping[str, object], **options) -> Sheet:
        arrays = [text_array(values) for values in columns.values()]  # type: ignore[arg-type]
        lengths = {len(a) for a in arrays}
        if len(lengths) > 1:
            raise ValueError(f"columns of {name} differ in length: {sorted(lengths)}")
        sheet = cls(name=name, headers=list(columns), columns=arrays, **options)
        sheet.touched = np.zeros(lengths.pop() if lengths else 0, bool)
        return sheet

    @property
    def n_world(self) -> int:
        """Rows that come from the world (numbered 0 to ``n_world - 1``)."""
        return len(self.touched)

    @property
    def n_rows(self) -> int:
        """Data rows in the file now."""
        return self.n_world + len(self.copies)

    def col(self, header: str) -> int:
        return self.headers.index(header)

    def cell(self, row: int, header: str) -> str:
        j = self.col(header)
        changed = self.cells.get(row, {})
        if j in changed:
            return changed[j]
        source = row if row < self.n_world else self.copies[row - self.n_world]
        return "" if source < 0 else self.columns[j][source].as_py()

    def pick(self, k: int, rng: np.random.Generator, where: np.ndarray | None = None) -> list[int]:
        """Up to ``k`` world rows not dirtied yet (``where``: a mask over the world rows)."""
        allowed = ~self.touched if where is None else ~self.touched & where
        pool = np.flatnonzero(allowed)
        if not len(pool) or k <= 0:
            return []
        chosen = np.sort(rng.choice(len(pool), size=min(k, len(pool)), replace=False))
        rows = pool[chosen]
        self.touched[rows] = True
        return rows.tolist()

    def set_cell(self, row: int, header: str, value: str, kind: str, detail: str = "") -> None:
        self.notes.append(Note(row, kind, header, value, self.cell(row, header), detail=detail))
        self.cells.setdefault(row, {})[self.col(header)] = value

    def add_row(
        self, at: int, *, copy_of: int = -1, values: Mapping[str, str] | None = None
    ) -> int:
        """Insert a row before the row now at position ``at``: a copy of a world row, or new."""
        row = self.n_rows
        left = self._key_at(at - 1) if at > 0 else -_GAP
        right = self._key_at(at) if at < self.n_rows else self.n_world * _GAP
        key = (left + right) // 2
        if not left < key < right:
            raise RuntimeError(f"{self.name}: too many rows inserted at one place")
        self.copies.append(copy_of)
        self.keys[row] = key
        insort(self.sorted_keys, key)
        if values is not None:
            self.cells[row] = {self.col(h): v for h, v in values.items()}
        elif row_cells := self.cells.get(copy_of):
            self.cells[row] = dict(row_cells)
        return row

    def insert_copy(self, row: int, rng: np.random.Generator) -> int:
        """A copy of world ``row`` placed a little further down, as an export appended twice would."""
        at = min(self.position(row) + 1 + int(rng.integers(0, 40)), self.n_rows)
        return self.add_row(at, copy_of=row)

    def position(self, row: int) -> int:
        """0-based position of a row in the file now."""
        if row < self.n_world:
            return row + bisect_left(self.sorted_keys, row * _GAP)
        key = self.keys[row]
        return key // _GAP + 1 + bisect_left(self.sorted_keys, key)

    def _key_at(self, at: int) -> int:
        # Added rows' positions grow with their keys: search the first one at or after `at`.
        lo, hi = 0, len(self.sorted_keys)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.sorted_keys[mid] // _GAP + 1 + mid < at:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self.sorted_keys) and self.sorted_keys[lo] // _GAP + 1 + lo == at:
            return self.sorted_keys[lo]
        return (at - lo) * _GAP

    def _order(self) -> np.ndarray:
        """Row numbers in file order."""
        n_world = self.n_world
        added = sorted(self.keys, key=self.keys.__getitem__)
        before = np.array([self.keys[r] // _GAP + 1 for r in added], dtype=np.int64)
        at_added = before + np.arange(len(added))
        at_world = np.arange(n_world) + np.searchsorted(before, np.arange(n_world), side="right")
        order = np.empty(self.n_rows, dtype=np.int64)
        order[at_world] = np.arange(n_world)
        order[at_added] = np.array(added, dtype=np.int64)
        return order

    def _column(self, j: int, rows: np.ndarray) -> pa.Array:
        """Column ``j`` of the given rows, changed cells included."""
        source = rows.copy()
        added = rows >= self.n_world
        if added.any():
            source[added] = np.asarray(self.copies, dtype=np.int64)[rows[added] - self.n_world]
        values = self.columns[j].take(pa.array(source, mask=source < 0))
        changed = {r: c[j] for r, c in self.cells.items() if j in c}
        if changed:
            hit = np.isin(rows, np.fromiter(changed, dtype=np.int64, count=len(changed)))
            where = np.flatnonzero(hit)
            if len(where):
                new = pa.array([changed[r] for r in rows[where].tolist()], pa.string())
                values = pc.replace_with_mask(values, pa.array(hit), new)
        return pc.fill_null(values, "") if values.null_count else values

    def _quote(self, values: pa.Array) -> pa.Array:
        # As the csv module writes them: every field quoted, or only those holding a comma, a
        # quote or a character of the line ending; quotes doubled inside quoted fields.
        quoted = pc.binary_join_element_wise('"', pc.replace_substring(values, '"', '""'), '"', "")
        if self.quote_all:
            return quoted
        special = "[" + "".join(sorted({",", '"', *self.newline})) + "]"
        needs = pc.match_substring_regex(values, special)
        if len(self.headers) == 1:
            needs = pc.or_(needs, pc.equal(values, ""))
        return pc.if_else(needs, quoted, values)

    def _text(self, rows: np.ndarray) -> bytes:
        fields = [self._quote(self._column(j, rows)) for j in range(len(self.headers))]
        lines = pc.binary_join_element_wise(*fields, ",")
        return _joined(pc.binary_join_element_wise(lines, self.newline, ""))

    def write(self, out: BinaryIO) -> None:
        """Write the file: header, rows, footer, in the sheet's encoding and line ending."""
        header = pa.array(self.headers, pa.string())
        head = ",".join(self._quote(header).to_pylist()) + self.newline
        out.write(head.encode(self.encoding))
        order = self._order()
        for start in range(0, len(order), _CHUNK):
            text = self._text(order[start : start + _CHUNK])
            if self.encoding not in ("utf-8", "utf8"):
                text = text.decode("utf-8").encode(self.encoding)
            out.write(text)
        out.write("".join(line + self.newline for line in self.footer).encode(self.encoding))

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self.write(buffer)
        return buffer.getvalue()

    def manifest(self) -> pd.DataFrame:
        order = self._order()
        position = np.empty(len(order), dtype=np.int64)
        position[order] = np.arange(1, len(order) + 1)
        rows = np.array([note.row for note in self.notes], dtype=np.int64)
        record_ids = self._column(self.col(self.id_column), rows).to_pylist() if len(rows) else []
        records = []
        for note, record_id in zip(self.notes, record_ids, strict=True):
            detail = note.detail
            if note.same_as is not None:
                detail = f"{detail} row {position[note.same_as]}".strip()
            records.append(
                (
                    self.name,
                    int(position[note.row]),
                    note.kind,
                    record_id,
                    note.column,
                    note.value,
                    note.clean_value,
                    detail,
                )
            )
        for i, line in enumerate(self.footer, start=self.n_rows + 1):
            records.append((self.name, i, "report_footer", "", "", line, "", "report footer line"))
        return pd.DataFrame(records, columns=DIRT_COLUMNS)


def _joined(lines: pa.Array) -> bytes:
    """The values of a string array back to back, straight from its data buffer."""
    if not len(lines):
        return b""
    _, offsets, data = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
    if data is None:
        return b""
    return data.slice(int(bounds[0]), int(bounds[-1] - bounds[0])).to_pybytes()
