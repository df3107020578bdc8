"""Row ids of the cleaned tables: vendor ids checked, derived ids where there are none.

Exact duplicate rows and later rows repeating an id are found here (rule 4 of
:mod:`salesinsight.clean`), ids lost to Excel's scientific notation are replaced (rule 5), and
account ids are derived from account names (rule 9).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.clean.ledger import concat_ledgers, empty_ledger, ledger_frame, ledger_where
from salesinsight.io.arrow import (
    TEXT,
    as_array,
    encode,
    first_coded_rows,
    first_rows,
    hex_ids,
    repeat_codes,
    row_hashes,
    take_rows,
    translate_bytes,
)
from salesinsight.io.raw import RawTable

__all__ = [
    "Deduped",
    "IdScreen",
    "Ids",
    "account_ids",
    "account_key",
    "account_keys",
    "dedupe",
    "ids_for",
    "scientific",
    "screen_ids",
]

_SCIENTIFIC = r"^\s*[+-]?\d+(\.\d+)?[eE][+-]?\d+\s*$"
# As Excel writes a number too long for a cell's General format: 6.00E+13, 1.23457E+17.
_EXCEL_SCIENTIFIC = r"^\s*-?\d(\.\d{1,5})?E\+\d{2,3}\s*$"


_LEGAL = (
    r"\b(inc|incorporated|llc|l\.l\.c|ltd|limited|gmbh|ag|corp|corporation|co|company|plc|sa|s\.a"
    r"|bv|b\.v|nv|oy|ab|as|srl|spa|pty|pte|kg|sro|s\.r\.o)\b\.?"
)


def account_keys(names: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Derived account ids of many names at once (see :func:`account_key`), on distinct names."""
    uniques, positions = encode(names)
    # Accents come off as the non-ASCII bytes of the decomposed text; then ASCII bytes only.
    text = pc.utf8_lower(pc.utf8_normalize(uniques, "NFKD"))
    text = translate_bytes(text, _PUNCTUATION_AS_SPACE)
    key = translate_bytes(pc.replace_substring_regex(text, _LEGAL, " "), _ALPHANUMERIC)
    # A name that is all legal suffix ("AG") keeps its letters.
    bare = pc.equal(key, "")
    if pc.any(bare).as_py():
        key = pc.if_else(bare, translate_bytes(text, _ALPHANUMERIC), key)
    key = pc.if_else(pc.equal(key, ""), pa.scalar(None, key.type), key).cast(TEXT)
    return pc.take(key, pa.array(positions, mask=positions < 0))


def _byte_table(keep: bytes, spaces: bytes = b"") -> np.ndarray:
    table = np.full(256, -1, dtype=np.int16)
    table[list(keep)] = list(keep)
    table[list(spaces)] = ord(" ")
    return table


#: Non-ASCII bytes dropped, ``,&+`` read as spaces (the legal suffixes stand apart).
_PUNCTUATION_AS_SPACE = _byte_table(bytes(range(0x80)), b",&+")
_ALPHANUMERIC = _byte_table(b"0123456789abcdefghijklmnopqrstuvwxyz")


def account_key(name: str | None) -> str | None:
    """The derived account id of an account name: accents, case, punctuation, spaces and legal
    suffixes (Inc, LLC, GmbH, ...) removed.

    Examples
    --------
    >>> account_key("GTX Pro"), account_key("GTXPro, Inc."), account_key("Müller GmbH")
    ('gtxpro', 'gtxpro', 'muller')
    """
    if name is None:
        return None
    return account_keys(pa.array([name], TEXT))[0].as_py()


def scientific(
    values: pa.Array | pa.ChunkedArray,
    live: np.ndarray | None = None,
    numeric: np.ndarray | None = None,
) -> np.ndarray:
    """Where `values` hold an id that Excel rounded into scientific notation.

    An id is taken for one when it has the shape Excel writes (one digit, at most five decimals,
    ``E+`` and the exponent: ``6.00E+13``, ``1.23457E+17``), or when it merely reads as a number
    in scientific notation (``6E13``, ``006E0000000000``) and another of the `live` rows (all
    rows by default) holds the same value: rounded ids collide, while a distinct record id that
    happens to read like a number is kept. `numeric` is where `values` read as numbers in
    scientific notation, if that is known already.

    Examples
    --------
    >>> scientific(pa.array(["6.0E+11", "0065g00000", None, "1e5", "006E0000000000"])).tolist()
    [True, False, False, False, False]
    >>> scientific(pa.array(["006E0000000000", "006E0000000000", "1.23457E+17"])).tolist()
    [True, True, True]
    """
    numeric = _numeric(values) if numeric is None else numeric
    # Excel's shape is one of the numbers in scientific notation: only those are asked.
    excel = np.zeros(len(numeric), dtype=bool)
    if numeric.any():
        rows = np.flatnonzero(numeric)
        shaped = pc.match_substring_regex(take_rows(values, rows), _EXCEL_SCIENTIFIC)
        excel[rows] = np.asarray(pc.fill_null(shaped, False))
    candidates = numeric & ~excel
    if live is not None:
        candidates &= live
    if not candidates.any():
        return excel
    rows = np.flatnonzero(candidates)
    collide = repeat_codes(take_rows(values, rows)) >= 0
    out = excel.copy()
    out[rows[collide]] = True
    return out


def _numeric(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Where `values` read as a number in scientific notation."""
    return np.asarray(pc.fill_null(pc.match_substring_regex(values, _SCIENTIFIC), False))


@dataclass(frozen=True)
class IdScreen:
    """What :func:`dedupe` learns of a column of vendor ids before it knows the rows dropped:
    which ids read as numbers in scientific notation, and the :func:`repeat_codes` of the ids
    (see :func:`screen_ids`)."""

    numeric: np.ndarray
    codes: np.ndarray


def screen_ids(vendor_ids: pa.Array | pa.ChunkedArray | None) -> IdScreen | None:
    """The :class:`IdScreen` of `vendor_ids` (``None`` without them), to hand to
    :func:`dedupe`: worked out beside other work, it is the bulk of dedupe's.

    Examples
    --------
    >>> screen = screen_ids(pa.array(["a", "6.0E+11", "a", None]))
    >>> screen.numeric.tolist(), screen.codes.tolist()
    ([False, True, False, False], [0, -1, 0, -1])
    """
    if vendor_ids is None:
        return None
    return IdScreen(_numeric(vendor_ids), repeat_codes(vendor_ids))


def account_ids(
    vendor: pa.ChunkedArray, names: pa.ChunkedArray | None, raw: RawTable, ids: Ids
) -> tuple[pa.Array | pa.ChunkedArray, pd.DataFrame]:
    """Vendor account ids; one Excel turned into scientific notation is derived from the name.

    Deals of one account share its id, so only Excel's shape tells a rounded account id here.
    Returns the ids and the ledger rows of those replaced.
    """
    sci = np.asarray(pc.fill_null(pc.match_substring_regex(vendor, _EXCEL_SCIENTIFIC), False))
    if not sci.any():
        return vendor, empty_ledger()
    ledger = ledger_where(
        raw,
        sci,
        action="fixed",
        reason="account id in scientific notation (Excel rounded it; its digits are lost); "
        "derived from the account name instead",
        code="scientific_id",
        column="account_id",
        value=vendor,
        deal_id=ids,
    )
    derived = account_keys(names) if names is not None else pa.nulls(len(sci), TEXT)
    return pc.if_else(pa.array(sci), derived, as_array(vendor).cast(TEXT)), ledger


class Ids:
    """Row ids held as a pyarrow array; indexing with row positions gives a NumPy object array."""

    def __init__(self, values: pa.Array) -> None:
        self.arrow = values

    def __len__(self) -> int:
        return len(self.arrow)

    def __getitem__(self, rows) -> np.ndarray:
        taken = take_rows(self.arrow, rows)
        return np.asarray(taken.to_numpy(zero_copy_only=False), dtype=object)


@dataclass(frozen=True)
class Deduped:
    """The outcome of :func:`dedupe`: an id for every row, which rows to drop (those dropped
    before included), and the ledger rows of the ids replaced and the rows dropped here."""

    ids: Ids
    drop: np.ndarray
    ledger: pd.DataFrame


def dedupe(
    raw: RawTable,
    vendor_ids: pa.ChunkedArray | None,
    drop: np.ndarray,
    *,
    prefix: str,
    noun: str,
    derived: np.ndarray | None = None,
    screen: IdScreen | None = None,
) -> Deduped:
    """Ids for every row, and the exact duplicates and repeated ids among rows not yet dropped.

    Rows without a vendor id take ``derived`` (when given) or ``prefix`` + the row hash.
    `screen` is :func:`screen_ids` of `vendor_ids`, where it was worked out already.
    """
    # Vendor ids stay in their blocks: combining them would copy the column.
    base, replaced = _without_scientific(
        vendor_ids, drop, raw, noun, screen.numeric if screen is not None else None
    )
    if derived is not None:
        extra = pa.array(derived, TEXT)
        base = extra if base is None else pc.coalesce(base, extra)
    unset = np.ones(raw.table.num_rows, dtype=bool) if base is None else np.asarray(base.is_null())
    # One coding of the repeated ids serves both the rows to hash and the repeated ids.
    codes = None
    if screen is not None and base is vendor_ids:
        codes = screen.codes
    elif base is not None:
        codes = repeat_codes(base)
    need_hash = _rows_to_hash(unset, codes, drop)
    hashes = _hashes_where(raw.table, need_hash)
    exact, duplicates = _exact_duplicates(raw, hashes, need_hash & ~drop)
    drop = drop | exact
    if base is None:
        return Deduped(Ids(hex_ids(hashes, prefix)), drop, concat_ledgers([replaced, duplicates]))
    if unset.any():
        base = _filled(base, unset, hashes, prefix)
    if unset.any() or codes is None:
        # Ids derived for rows without one are new values: code them again.
        codes = repeat_codes(base)
    ids = Ids(base)
    repeated, repeats = _repeated_ids(raw, ids, codes, drop, noun)
    return Deduped(ids, drop | repeated, concat_ledgers([replaced, duplicates, repeats]))


def _without_scientific(
    vendor_ids: pa.ChunkedArray | None,
    drop: np.ndarray,
    raw: RawTable,
    noun: str,
    numeric: np.ndarray | None = None,
) -> tuple[pa.ChunkedArray | None, pd.DataFrame]:
    """Vendor ids with those in scientific notation (among rows not dropped) made missing, and
    the ledger rows saying so (`numeric`: where the ids read as numbers, if known)."""
    if vendor_ids is None or not (sci := scientific(vendor_ids, ~drop, numeric) & ~drop).any():
        return vendor_ids, empty_ledger()
    ledger = ledger_where(
        raw,
        sci,
        action="fixed",
        reason=f"{noun} id in scientific notation (Excel rounded it; its digits are "
        "lost and it may equal other rows' ids); replaced by an id derived from the row",
        code="scientific_id",
        column=f"{noun}_id",
        value=vendor_ids,
    )
    return pc.if_else(pa.array(sci), pa.scalar(None, vendor_ids.type), vendor_ids), ledger


def _rows_to_hash(unset: np.ndarray, codes: np.ndarray | None, drop: np.ndarray) -> np.ndarray:
    """Rows whose cells are hashed: those without an id, and live rows whose id repeats (exact
    duplicates are told by the hash)."""
    need = unset.copy()
    if codes is not None:
        live = ~drop & (codes >= 0)
        counts = np.bincount(codes[live], minlength=int(codes.max(initial=0)) + 1)
        need |= live & (counts[np.maximum(codes, 0)] > 1)
    return need


def _hashes_where(table: pa.Table, rows_wanted: np.ndarray) -> np.ndarray:
    """:func:`~salesinsight.io.arrow.row_hashes` of the wanted rows, zero elsewhere."""
    hashes = np.zeros(table.num_rows, dtype=np.uint64)
    if rows_wanted.any():
        rows = np.flatnonzero(rows_wanted)
        sub = table if rows_wanted.all() else take_rows(table, rows)
        hashes[rows] = row_hashes(sub)
    return hashes


def _exact_duplicates(
    raw: RawTable, hashes: np.ndarray, candidates: np.ndarray
) -> tuple[np.ndarray, pd.DataFrame]:
    """Candidate rows whose cells repeat an earlier candidate's, and their ledger rows."""
    exact, first = first_rows(pd.Series(hashes), candidates)
    if not exact.any():
        return exact, empty_ledger()
    ledger = ledger_where(
        raw,
        exact,
        action="dropped",
        reason=[f"exact duplicate of row {r}" for r in raw.source_row[first]],
        code="duplicate",
    )
    return exact, ledger


def _filled(
    base: pa.Array | pa.ChunkedArray, unset: np.ndarray, hashes: np.ndarray, prefix: str
) -> pa.Array:
    """`base` with the ids derived from the row hashes where it has none."""
    filled = np.asarray(base.to_numpy(zero_copy_only=False), dtype=object)
    rows = np.flatnonzero(unset)
    filled[rows] = np.asarray(hex_ids(hashes[rows], prefix).to_pylist(), dtype=object)
    return pa.array(filled, TEXT)


def _repeated_ids(
    raw: RawTable, ids: Ids, codes: np.ndarray, drop: np.ndarray, noun: str
) -> tuple[np.ndarray, pd.DataFrame]:
    """Live rows repeating the id of an earlier live row, and their ledger rows."""
    repeated, first = first_coded_rows(codes, ~drop)
    if not repeated.any():
        return repeated, empty_ledger()
    rows = np.flatnonzero(repeated)
    values = ids[rows]
    ledger = ledger_frame(
        raw.name,
        raw.source_row[rows],
        action="dropped",
        reason=[
            f"{noun} id {v} repeats row {raw.source_row[f]} (the first is kept)"
            for v, f in zip(values, first, strict=True)
        ],
        code="repeated_id",
        column=f"{noun}_id",
        value=values,
    )
    return repeated, ledger


def ids_for(frame: pd.DataFrame, raw: RawTable, ids: Ids) -> np.ndarray:
    """The ids of the rows of `raw` that the ledger rows in `frame` are about (by source row)."""
    if not len(ids):
        return np.full(len(frame), None, dtype=object)
    pos = np.searchsorted(raw.source_row, frame["source_row"].to_numpy())
    return ids[np.clip(pos, 0, len(ids) - 1)]
