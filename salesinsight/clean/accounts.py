"""Accounts exports: canonical accounts, one row per account id, and the deals they enrich.

An account's id is the vendor's, else derived from its name (rule 9 of :mod:`salesinsight.clean`);
:func:`enrich_deals` fills the deals' account name, industry, employees and segment from them.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from salesinsight.clean.ids import account_keys, dedupe
from salesinsight.clean.ledger import concat_ledgers, empty_ledger, read_drops, read_fixes
from salesinsight.clean.money import number_column
from salesinsight.clean.options import Cleaned, CleanOptions, column_names, field_columns
from salesinsight.io.arrow import TEXT, text_series
from salesinsight.io.raw import RawTable

__all__ = ["clean_accounts", "enrich_deals"]


def clean_accounts(raw: RawTable, mapping: Mapping[str, str], opts: CleanOptions) -> Cleaned:
    """Canonical accounts of one file: one row per account id."""
    names = column_names(raw, mapping)
    cells = field_columns(raw.table, {f: h for h, f in names.items()})
    n = raw.table.num_rows
    derived = (
        np.asarray(account_keys(cells["account"]).to_pylist(), dtype=object)
        if "account" in cells
        else None
    )
    deduped = dedupe(
        raw,
        cells.get("account_id"),
        np.zeros(n, bool),
        prefix="acct-",
        noun="account",
        derived=derived,
    )
    frame = pd.DataFrame(
        {
            "account_id": text_series(deduped.ids.arrow, n),
            "account": text_series(cells.get("account"), n),
            "source_file": np.full(n, raw.name, dtype=object),
            "source_row": raw.source_row,
        }
    )
    for f in ("industry", "segment"):
        if f in cells:
            frame[f] = text_series(cells[f], n)
    unread = empty_ledger()
    if "employees" in cells:
        frame["employees"], unread = number_column(
            cells["employees"], "employees", raw, deduped.ids
        )
    for h, f in names.items():
        if f not in frame and f not in ("account_id", "account", "employees"):
            frame[f] = text_series(raw.table.column(h), n)
    frame = frame.loc[~deduped.drop].reset_index(drop=True)
    ledger = concat_ledgers([read_drops(raw), deduped.ledger, unread, read_fixes(raw, names)])
    # Account rows name no deal (the ids the steps gave them are accounts').
    return Cleaned(frame, ledger.assign(deal_id=None))


def enrich_deals(deals: pd.DataFrame, accounts: pd.DataFrame | None) -> pd.DataFrame:
    """Fill deals' account name, industry, employees and segment from an accounts export.

    A deal finds its account by ``account_id``, else by the normalised account name (a deals
    report without account ids then takes the accounts export's ids).
    """
    if accounts is None or not len(accounts):
        return deals
    table = accounts.drop_duplicates("account_id").set_index("account_id")
    names = accounts.assign(key=_account_keys(accounts["account"]))
    by_name = names.dropna(subset=["key"]).drop_duplicates("key").set_index("key")["account_id"]
    out = deals.copy()
    known = out["account_id"].isin(table.index)
    keys = _account_keys(out["account"])
    out["account_id"] = out["account_id"].where(known, keys.map(by_name)).fillna(out["account_id"])
    for f in ("account", "industry", "employees", "segment"):
        if f not in table:
            continue
        looked_up = out["account_id"].map(table[f])
        out[f] = looked_up if f not in out else out[f].where(out[f].notna(), looked_up)
    return out


def _account_keys(names: pd.Series) -> pd.Series:
    """:func:`~salesinsight.clean.ids.account_key` of every name, computed once per distinct
    name in Arrow (a name missing stays missing)."""
    text = pa.array(names.astype(object).where(names.notna(), None), TEXT, from_pandas=True)
    return pd.Series(account_keys(text).to_pylist(), index=names.index, dtype=object)
