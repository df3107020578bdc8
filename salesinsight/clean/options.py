"""What every table cleaner shares: the options it takes, what it returns, its column names.

The deals, activities and accounts cleaners each take a raw table, its layout's ``{header:
field}`` mapping and :class:`CleanOptions`, and return a :class:`Cleaned` table with its ledger
rows; :func:`column_names` names the output columns of the headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from salesinsight.io.formats import snake_case
from salesinsight.io.raw import RawTable

__all__ = ["CleanOptions", "Cleaned", "column_names", "field_columns"]


@dataclass(frozen=True)
class CleanOptions:
    """Options of :func:`salesinsight.export.read_export` that the cleaners need.

    ``currency`` None: the deals' own currency when they share one, else USD.
    ``source_groups``: ``{header_key(lead source): group}`` deciding before the word rules.
    """

    currency: str | None = "USD"
    fx: Mapping[str, float] = field(default_factory=dict)
    dayfirst: bool | None = None
    stages: Mapping[str, str] = field(default_factory=dict)
    source_groups: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Cleaned:
    """A canonical table from one file, its ledger rows (with a ``code`` column) and facts: the
    date format, the decimal separator and, for deals, the reporting currency of ``amount``."""

    frame: pd.DataFrame
    ledger: pd.DataFrame
    date_format: str = ""
    decimal: str = ""
    currency: str = ""


def column_names(raw: RawTable, mapping: Mapping[str, str]) -> dict[str, str]:
    """Header -> output column name: mapped fields, else snake_case without collisions.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> raw = SimpleNamespace(headers=["Stage", "Deal Size", "Deal size", "Region"])
    >>> column_names(raw, {"Stage": "stage"})
    {'Stage': 'stage', 'Deal Size': 'deal_size', 'Deal size': 'deal_size_2', 'Region': 'region'}
    """
    names: dict[str, str] = dict(mapping)
    taken = set(mapping.values())
    for h in raw.headers:
        if h in names:
            continue
        name = snake_case(h)
        base, k = name, 2
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        names[h] = name
        taken.add(name)
    return names


def field_columns(table: pa.Table, headers: Mapping[str, str]) -> dict[str, pa.ChunkedArray]:
    """The columns of `table` by field, from ``{field: header}`` (fields not exported are absent).

    Examples
    --------
    >>> table = pa.table({"Stage": ["Won"], "Amount": ["10"]})
    >>> sorted(field_columns(table, {"stage": "Stage", "amount": "Amount"}))
    ['amount', 'stage']
    """
    return {f: table.column(h) for f, h in headers.items()}
