"""Row ids of the cleaned tables: vendor ids checked, derived ids where there are none.

Exact duplicate rows and later rows repeating an id are found here (rule 4 of
:mod:`salesinsight.clean.deals`), ids lost to Excel's scientific notation are replaced (rule 5), and
account ids are derived from account names (rule 9).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.io.arrow import (
    TEXT,
    as_array,
    encode,
    first_coded_rows,
    first_rows,
    hex_ids,
    ledger_frame,
    ledger_where,
    repeat_codes,
    row_hashes,
)
from salesinsight.io.files import RawTable

__all__ = [
    "Ids",
    "account_ids",
    "account_key",
    "account_keys",
    "dedupe",
    "ids_for",
    "scientific",
]

SCIENTIFIC = r"^\s*[+-]?\d+(\.\d+)?[eE][+-]?\d+\s*$"


_LEGAL = (
    r"\b(inc|incorporated|llc|l\.l\.c|ltd|limited|gmbh|ag|corp|corporation|co|company|plc|sa|s\.a"
    r"|bv|b\.v|nv|oy|ab|as|srl|spa|pty|pte|kg|sro|s\.r\.o)\b\.?"
)


def account_keys(names: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Derived account ids of many names at once (see :func:`account_key`), on distinct names."""
    uniques, positions = encode(names)
    text = pc.utf8_lower(pc.utf8_normalize(uniques, "NFKD"))
    text = pc.replace_substring_regex(text, r"[^\x00-\x7f]", "")
    text = pc.replace_substring_regex(text, r"[,&+]", " ")
    key = pc.replace_substring_regex(
        pc.replace_substring_regex(text, _LEGAL, " "), "[^0-9a-z]+", ""
    )
    whole = pc.replace_substring_regex(text, "[^0-9a-z]+", "")
    key = pc.if_else(pc.equal(key, ""), whole, key)
    key = pc.if_else(pc.equal(key, ""), pa.scalar(None, key.type), key).cast(TEXT)
    return pc.take(key, pa.array(positions, mask=positions < 0))


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


def scientific(values) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.match_substring_regex(values, SCIENTIFIC), False))


def account_ids(vendor, names, raw: RawTable, ids: Ids, ledger: list):
    """Vendor account ids; one Excel turned into scientific notation is derived from the name."""
    sci = scientific(vendor)
    if not sci.any():
        return vendor
    ledger.append(
        ledger_where(
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
    )
    derived = account_keys(names) if names is not None else pa.nulls(len(sci), TEXT)
    return pc.if_else(pa.array(sci), derived, as_array(vendor).cast(TEXT))


class Ids:
    """Row ids held as a pyarrow array; indexing with row positions gives a NumPy object array."""

    def __init__(self, values: pa.Array) -> None:
        self.arrow = values

    def __len__(self) -> int:
        return len(self.arrow)

    def __getitem__(self, rows) -> np.ndarray:
        taken = self.arrow.take(pa.array(np.asarray(rows, dtype=np.int64)))
        return np.asarray(taken.to_numpy(zero_copy_only=False), dtype=object)


def dedupe(
    raw: RawTable,
    vendor_ids: pa.ChunkedArray | None,
    drop: np.ndarray,
    *,
    prefix: str,
    noun: str,
    derived: np.ndarray | None = None,
) -> tuple[Ids, np.ndarray, list[pd.DataFrame]]:
    """Ids for every row, and the exact duplicates and repeated ids among rows not yet dropped.

    Rows without a vendor id take ``derived`` (when given) or ``prefix`` + the row hash.
    """
    table, n = raw.table, raw.table.num_rows
    drop = drop.copy()
    # Vendor ids stay in their blocks: combining them would copy the column.
    base = vendor_ids
    frames: list[pd.DataFrame] = []
    if base is not None and (sci := scientific(base) & ~drop).any():
        frames.append(
            ledger_where(
                raw,
                sci,
                action="fixed",
                reason=f"{noun} id in scientific notation (Excel rounded it; its digits are "
                "lost and it may equal other rows' ids); replaced by an id derived from the row",
                code="scientific_id",
                column=f"{noun}_id",
                value=base,
            )
        )
        base = pc.if_else(pa.array(sci), pa.scalar(None, base.type), base)
    if derived is not None:
        extra = pa.array(derived, TEXT)
        base = extra if base is None else pc.coalesce(base, extra)
    unset = np.ones(n, dtype=bool) if base is None else np.asarray(base.is_null())
    need_hash = unset.copy()
    codes = None
    if base is not None:
        # One coding of the repeated ids serves both the rows to hash and the repeated ids.
        codes = repeat_codes(base)
        live = ~drop & (codes >= 0)
        counts = np.bincount(codes[live], minlength=int(codes.max(initial=0)) + 1)
        need_hash |= live & (counts[np.maximum(codes, 0)] > 1)
    hashes = np.zeros(n, dtype=np.uint64)
    if need_hash.any():
        rows = np.flatnonzero(need_hash)
        sub = table if need_hash.all() else table.take(pa.array(rows))
        hashes[rows] = row_hashes(sub)
    exact, first = first_rows(pd.Series(hashes), need_hash & ~drop)
    if exact.any():
        frames.append(
            ledger_where(
                raw,
                exact,
                action="dropped",
                reason=[f"exact duplicate of row {r}" for r in raw.source_row[first]],
                code="duplicate",
            )
        )
        drop |= exact
    if base is None:
        return Ids(hex_ids(hashes, prefix)), drop, frames
    if unset.any():
        filled = np.asarray(base.to_numpy(zero_copy_only=False), dtype=object)
        rows = np.flatnonzero(unset)
        filled[rows] = np.asarray(hex_ids(hashes[rows], prefix).to_pylist(), dtype=object)
        base = pa.array(filled, TEXT)
    ids = Ids(base)
    if unset.any() or codes is None:
        # Ids derived for rows without one are new values: code them again.
        codes = repeat_codes(base)
    repeated, first = first_coded_rows(codes, ~drop)
    if repeated.any():
        rows = np.flatnonzero(repeated)
        values = ids[rows]
        frames.append(
            ledger_frame(
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
        )
        drop |= repeated
    return ids, drop, frames


def ids_for(frame: pd.DataFrame, raw: RawTable, ids: Ids) -> np.ndarray:
    if not len(ids):
        return np.full(len(frame), None, dtype=object)
    pos = np.searchsorted(raw.source_row, frame["source_row"].to_numpy())
    return ids[np.clip(pos, 0, len(ids) - 1)]
