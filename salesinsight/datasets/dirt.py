"""The defects real CRM exports carry, put into a rendered sheet and noted in its manifest.

Each function dirties a few rows of a :class:`~salesinsight.datasets.sheet.Sheet` (never a row
another defect already touched) and records what it did. How many rows: a share of the file with a
small minimum, so even a tiny world shows every kind. :func:`deal_defects` and :func:`duplicates`
are the sets every deals export gets, whatever its vendor.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pyarrow as pa

from salesinsight.datasets.sheet import Note, Sheet
from salesinsight.datasets.simulate import World

__all__ = [
    "blank_amounts",
    "category_typos",
    "count",
    "created_after_closed",
    "deal_defects",
    "duplicates",
    "duplicate_rows",
    "mac_roman_mojibake",
    "mojibake",
    "repeated_ids",
    "slipped_forecasts",
    "test_record",
    "windows_mojibake",
    "zero_amount_lost",
]


def count(n: int, share: float, minimum: int = 2) -> int:
    """How many rows of ``n`` get a defect: ``share`` of them, at least ``minimum``.

    Examples
    --------
    >>> count(100, 0.01), count(10_000, 0.01)
    (2, 100)
    """
    return max(minimum, round(n * share))


def windows_mojibake(text: str) -> str | None:
    """UTF-8 bytes read as cp1252 (``Müller`` -> ``MÃ¼ller``); None where cp1252 cannot say it.

    Examples
    --------
    >>> windows_mojibake("O’Connor")
    'Oâ€™Connor'
    """
    try:
        garbled = text.encode("utf-8").decode("cp1252")
        garbled.encode("cp1252")
    except UnicodeError:
        return None
    return garbled if garbled != text else None


def mac_roman_mojibake(text: str) -> str | None:
    """UTF-8 bytes read as Mac-Roman, as a Mac/Excel round trip leaves them (``O‚ÄôConnor``).

    Examples
    --------
    >>> mac_roman_mojibake("O’Connor")
    'O‚ÄôConnor'
    """
    garbled = text.encode("utf-8").decode("mac_roman")
    return garbled if garbled != text else None


def blank_amounts(sheet: Sheet, header: str, k: int, rng: np.random.Generator) -> None:
    """Empty the amount of ``k`` rows."""
    for row in sheet.pick(k, rng):
        sheet.set_cell(row, header, "", "blank_amount", "amount left empty")


def zero_amount_lost(
    sheet: Sheet, world: World, header: str, zero: str, k: int, rng: np.random.Generator
) -> None:
    """Set the amount of ``k`` lost deals to zero, as reps do when a deal is lost."""
    lost = world.deals["status"].eq("lost").to_numpy()
    for row in sheet.pick(k, rng, lost):
        sheet.set_cell(row, header, zero, "zero_amount_lost", "lost deal with a zero amount")


def created_after_closed(
    sheet: Sheet,
    world: World,
    header: str,
    fmt: Callable[[pd.Timestamp], str],
    k: int,
    rng: np.random.Generator,
) -> None:
    """Move the creation of ``k`` closed deals after their close, as a data migration does."""
    closed_at = world.deals["closed_at"]
    latest = world.as_of - pd.Timedelta(days=3)
    eligible = (closed_at < latest).to_numpy()
    for row in sheet.pick(k, rng, eligible):
        closed = closed_at.iloc[row]
        room = (world.as_of - closed) / pd.Timedelta(days=1) - 2
        moved = closed + pd.Timedelta(days=1 + float(rng.random()) * room)
        sheet.set_cell(
            row, header, fmt(moved), "created_after_closed", "record created after the deal closed"
        )


def mojibake(
    sheet: Sheet,
    world: World,
    header: str,
    garble: Callable[[str], str | None],
    k: int,
    rng: np.random.Generator,
) -> None:
    """Garble the account name of ``k`` rows whose name has characters beyond ASCII."""
    accounts = world.deals["account"]
    garbled_of = {name: garble(name) for name in accounts.unique() if not name.isascii()}
    fits = {name: text for name, text in garbled_of.items() if text is not None}
    for row in sheet.pick(k, rng, accounts.isin(list(fits)).to_numpy()):
        garbled = fits[accounts.iloc[row]]
        sheet.set_cell(
            row, header, str(garbled), "mojibake", "text garbled by an encoding round trip"
        )


def category_typos(sheet: Sheet, header: str, k: int, rng: np.random.Generator) -> None:
    """Swap two letters of a category in ``k`` rows (``Technology`` -> ``Technolgoy``)."""
    for row in sheet.pick(k, rng):
        text = sheet.cell(row, header)
        if len(text) < 5:
            continue
        at = len(text) - 3
        typo = text[:at] + text[at + 1] + text[at] + text[at + 2 :]
        sheet.set_cell(row, header, typo, "category_typo", "misspelt category")


def slipped_forecasts(sheet: Sheet, world: World, header: str) -> None:
    """Note every open deal whose forecast close date is already past (not a defect we add)."""
    deals = world.deals
    slipped = (deals["status"].eq("open") & deals["expected_close_at"].lt(world.as_of)).to_numpy()
    rows = np.flatnonzero(slipped)
    values = sheet.columns[sheet.col(header)].take(pa.array(rows)).to_pylist()
    for row, value in zip(rows.tolist(), values, strict=True):
        value = sheet.cells.get(row, {}).get(sheet.col(header), value)
        sheet.notes.append(
            Note(row, "slipped_forecast", header, value, "", detail="open deal past forecast")
        )


def test_record(sheet: Sheet, values: dict[str, str], rng: np.random.Generator) -> None:
    """Insert a test record somewhere in the file."""
    row = sheet.add_row(int(rng.integers(0, sheet.n_rows + 1)), values=values)
    sheet.notes.append(Note(row, "test_record", detail="test record, not a deal"))


def duplicate_rows(sheet: Sheet, k: int, rng: np.random.Generator) -> None:
    """Repeat ``k`` rows exactly, a little further down.

    Examples
    --------
    >>> sheet = Sheet.from_columns("x.csv", {"ID": ["1", "2", "3"]}, id_column="ID")
    >>> duplicate_rows(sheet, 1, np.random.default_rng(0))
    >>> sheet.n_rows, sheet.manifest()["kind"].tolist()
    (4, ['duplicate_row'])
    """
    for row in sheet.pick(k, rng):
        copy = sheet.insert_copy(row, rng)
        sheet.notes.append(Note(copy, "duplicate_row", same_as=row, detail="exact duplicate of"))


def repeated_ids(
    sheet: Sheet,
    header: str,
    restate: Callable[[str], str],
    k: int,
    rng: np.random.Generator,
) -> None:
    """Repeat the id of ``k`` rows on a second row whose amount differs (a later edit)."""
    for row in sheet.pick(k, rng):
        value = sheet.cell(row, header)
        if not value:
            continue
        copy = sheet.insert_copy(row, rng)
        restated = restate(value)
        sheet.cells.setdefault(copy, {})[sheet.col(header)] = restated
        sheet.notes.append(
            Note(
                copy,
                "repeated_id",
                header,
                restated,
                value,
                same_as=row,
                detail="same id, different amount, as",
            )
        )


def deal_defects(
    sheet: Sheet,
    world: World,
    rng: np.random.Generator,
    *,
    amount: str,
    zero: str,
    created: str,
    fmt: Callable[[pd.Timestamp], str],
) -> None:
    """The amount and date defects every deals export gets, in the vendor's formats.

    Blank amounts, zero amounts on lost deals (``zero`` as the vendor writes it) and creation
    dates after the close (written with ``fmt``), each on a small share of the deals.
    """
    n = len(world.deals)
    blank_amounts(sheet, amount, count(n, 0.003), rng)
    zero_amount_lost(sheet, world, amount, zero, count(n, 0.004), rng)
    created_after_closed(sheet, world, created, fmt, count(n, 0.002), rng)


def duplicates(
    sheet: Sheet, rng: np.random.Generator, *, amount: str, restate: Callable[[str], str]
) -> None:
    """Exact duplicate rows and, more rarely, repeated ids with a ``restate``-d amount."""
    n = sheet.n_rows
    duplicate_rows(sheet, count(n, 0.003), rng)
    repeated_ids(sheet, amount, restate, count(n, 0.001), rng)
