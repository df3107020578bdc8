"""A rendered export in memory: headers and rows of text, the defects put into it, its bytes.

Rows are plain lists; a defect is attached to the row object itself, so rows can be inserted
(duplicates, a test record) and the manifest still finds each defect's final row number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["DIRT_COLUMNS", "Note", "Sheet"]

DIRT_COLUMNS = ["file", "row", "kind", "record_id", "column", "value", "clean_value", "detail"]


@dataclass
class Note:
    """One defect of a sheet, attached to the row object it concerns."""

    row: list[str]
    kind: str
    column: str = ""
    value: str = ""
    clean_value: str = ""
    same_as: list[str] | None = None
    detail: str = ""


@dataclass
class Sheet:
    """A table of text cells as a vendor writes it, and the defects put into it.

    Examples
    --------
    >>> sheet = Sheet.from_columns("x.csv", {"ID": ["1", "2"], "Amount": ["5", "7"]}, id_column="ID")
    >>> sheet.set_cell(sheet.rows[1], "Amount", "", "blank_amount")
    >>> sheet.to_bytes()
    b'ID,Amount\\n1,5\\n2,\\n'
    >>> sheet.manifest()[["row", "kind", "record_id", "clean_value"]].values.tolist()
    [[2, 'blank_amount', '2', '7']]
    """

    name: str
    headers: list[str]
    rows: list[list[str]]
    id_column: str
    encoding: str = "utf-8"
    newline: str = "\n"
    quote_all: bool = False
    footer: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    # world row position of each row object (by identity), and rows already dirtied
    source: dict[int, int] = field(default_factory=dict)
    touched: set[int] = field(default_factory=set)

    @classmethod
    def from_columns(cls, name: str, columns: dict[str, Sequence[str]], **options) -> Sheet:
        rows = [list(r) for r in zip(*columns.values(), strict=True)]
        sheet = cls(name=name, headers=list(columns), rows=rows, **options)
        sheet.source = {id(r): i for i, r in enumerate(rows)}
        return sheet

    def col(self, header: str) -> int:
        return self.headers.index(header)

    def pick(
        self, k: int, rng: np.random.Generator, where: Callable[[int], bool] | None = None
    ) -> list[list[str]]:
        """Up to ``k`` rows not dirtied yet (``where`` filters on the world row position)."""
        pool = [
            r
            for r in self.rows
            if id(r) not in self.touched
            and id(r) in self.source
            and (where is None or where(self.source[id(r)]))
        ]
        if not pool or k <= 0:
            return []
        chosen = sorted(rng.choice(len(pool), size=min(k, len(pool)), replace=False))
        rows = [pool[i] for i in chosen]
        self.touched.update(id(r) for r in rows)
        return rows

    def set_cell(
        self, row: list[str], header: str, value: str, kind: str, detail: str = ""
    ) -> None:
        j = self.col(header)
        self.notes.append(Note(row, kind, header, value, row[j], detail=detail))
        row[j] = value

    def insert_copy(self, row: list[str], rng: np.random.Generator) -> list[str]:
        """A copy of ``row`` placed a little further down, as an export appended twice would."""
        copy = list(row)
        at = min(self.rows.index(row) + 1 + int(rng.integers(0, 40)), len(self.rows))
        self.rows.insert(at, copy)
        self.touched.add(id(copy))
        return copy

    def to_bytes(self) -> bytes:
        buffer = io.StringIO()
        if self.quote_all:
            writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator=self.newline)
        else:
            writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator=self.newline)
        writer.writerow(self.headers)
        writer.writerows(self.rows)
        buffer.write("".join(line + self.newline for line in self.footer))
        return buffer.getvalue().encode(self.encoding)

    def manifest(self) -> pd.DataFrame:
        position = {id(r): i + 1 for i, r in enumerate(self.rows)}
        j = self.col(self.id_column)
        records = []
        for note in self.notes:
            detail = note.detail
            if note.same_as is not None:
                detail = f"{detail} row {position[id(note.same_as)]}".strip()
            records.append(
                (
                    self.name,
                    position[id(note.row)],
                    note.kind,
                    note.row[j],
                    note.column,
                    note.value,
                    note.clean_value,
                    detail,
                )
            )
        for i, line in enumerate(self.footer, start=len(self.rows) + 1):
            records.append((self.name, i, "report_footer", "", "", line, "", "report footer line"))
        return pd.DataFrame(records, columns=DIRT_COLUMNS)
