"""Money of the cleaned deals: amounts in the deal's currency and the reporting currency, with
unreadable, abbreviated, negative and implausible amounts in the ledger (rule 8 of
:mod:`salesinsight.clean`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from salesinsight.clean.ids import Ids
from salesinsight.clean.ledger import concat_ledgers, empty_ledger, ledger_where
from salesinsight.clean.options import CleanOptions
from salesinsight.clean.parse import MoneyColumn, parse_money
from salesinsight.io.arrow import TEXT, map_uniques
from salesinsight.io.raw import RawTable

__all__ = ["Money", "money_columns", "number_column"]

#: No single deal is worth this much in any reporting currency.
_MAX_AMOUNT = 1e12


@dataclass(frozen=True)
class Money:
    """The money columns of the deals (see :func:`money_columns`).

    Attributes
    ----------
    columns : dict of str to numpy.ndarray
        ``amount``, ``amount_original`` and ``currency``, plus ``actual_amount`` and
        ``list_price`` where the export has them.
    decimal : str
        The decimal separator of the amounts (empty without an amount column).
    ledger : pandas.DataFrame
        Ledger rows of the amounts fixed or set missing.
    """

    columns: dict[str, np.ndarray]
    decimal: str
    ledger: pd.DataFrame


def money_columns(
    cells: Mapping[str, pa.ChunkedArray],
    status: np.ndarray,
    raw: RawTable,
    ids: Ids,
    opts: CleanOptions,
) -> Money:
    """Amounts of the deals in their own currency and in the reporting currency.

    `cells` holds the text of the ``amount``, ``actual_amount``, ``currency`` and
    ``list_price`` fields the export has. A won deal's actual amount, where given, is its amount.
    """
    reporting = opts.currency.upper()
    actual = parse_money(cells["actual_amount"]) if "actual_amount" in cells else None
    original, symbol, decimal, parsed = _amounts(cells.get("amount"), actual, status, raw, ids)
    currency, assumed = _currencies(symbol, original, cells.get("currency"), reporting, raw, ids)
    amount, rate, converted = _converted(original, currency, opts.fx, reporting, raw, ids)
    columns = {"amount": amount, "amount_original": original, "currency": currency}
    frames = [parsed, assumed, converted]
    if actual is not None:
        columns["actual_amount"] = actual.amount
    if "list_price" in cells:
        list_price, priced = number_column(cells["list_price"], "list_price", raw, ids)
        columns["list_price"] = list_price * rate
        frames.append(priced)
    return Money(columns, decimal, concat_ledgers(frames))


def _amounts(
    amount_col: pa.ChunkedArray | None,
    actual: MoneyColumn | None,
    status: np.ndarray,
    raw: RawTable,
    ids: Ids,
) -> tuple[np.ndarray, np.ndarray, str, pd.DataFrame]:
    """The amount of each deal as exported (a won deal's actual amount where it has one), the
    currency its cell names, the decimal separator, and the ledger rows of the amounts read."""
    n = len(status)
    if amount_col is None:
        original, symbol, decimal = np.full(n, np.nan), np.full(n, None, dtype=object), ""
        ledger = empty_ledger()
    else:
        parsed = parse_money(amount_col)
        original, symbol, decimal = parsed.amount.copy(), parsed.currency, parsed.decimal
        ledger = _money_ledger(parsed, amount_col, "amount", raw, ids)
    if actual is not None:
        use = (status == "won") & ~np.isnan(actual.amount)
        original = np.where(use, actual.amount, original)
        symbol = np.where(use & (actual.currency != None), actual.currency, symbol)  # noqa: E711
    return original, symbol, decimal, ledger


def _currencies(
    symbol: np.ndarray,
    original: np.ndarray,
    given: pa.ChunkedArray | None,
    reporting: str,
    raw: RawTable,
    ids: Ids,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Each deal's currency: the currency column's, else the amount cell's, else the reporting
    currency (with a ledger row where a currency column leaves it unsaid)."""
    currency = symbol.astype(object)
    ledger = empty_ledger()
    if given is not None:
        codes = map_uniques(given, _currency_code, len(original))
        currency = np.where(codes == None, currency, codes).astype(object)  # noqa: E711
        unset = (currency == None) & ~np.isnan(original)  # noqa: E711
        if unset.any():
            ledger = ledger_where(
                raw,
                unset,
                action="fixed",
                reason=f"currency missing; taken as the reporting currency {reporting}",
                code="currency_assumed",
                column="currency",
                deal_id=ids,
            )
    currency = np.where(currency == None, reporting, currency).astype(object)  # noqa: E711
    return currency, ledger


def _converted(
    original: np.ndarray,
    currency: np.ndarray,
    fx: Mapping[str, float],
    reporting: str,
    raw: RawTable,
    ids: Ids,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Amounts in the reporting currency, the rate of each deal's currency, and the ledger rows
    of amounts without a rate or implausible (negative, or 10^12 and more)."""
    rates = {k.upper(): float(v) for k, v in fx.items()}
    rates[reporting] = 1.0
    rate = map_uniques(pa.array(currency, TEXT), lambda c: rates.get(c, np.nan), len(currency))
    rate = rate.astype(float)
    amount = original * rate
    no_rate = np.isnan(rate) & ~np.isnan(original)
    frames = []
    if no_rate.any():
        frames.append(
            ledger_where(
                raw,
                no_rate,
                action="set_missing",
                reason=lambda rows: [
                    f"no exchange rate for {c}; pass fx={{'{c}': <{reporting} per {c}>}}"
                    for c in currency[rows]
                ],
                code="no_fx_rate",
                column="amount",
                value=original,
                deal_id=ids,
            )
        )
    implausible = [
        (amount < 0, "negative amount; a deal's value cannot be below zero", "negative_amount"),
        (
            amount >= _MAX_AMOUNT,
            "amount of a trillion (1e12) or more: a typing or unit error, not a deal",
            "implausible_amount",
        ),
    ]
    for bad, reason, code in implausible:
        if bad.any():
            frames.append(
                ledger_where(
                    raw,
                    bad,
                    action="set_missing",
                    reason=reason,
                    code=code,
                    column="amount",
                    value=original,
                    deal_id=ids,
                )
            )
    amount = np.where(np.logical_or.reduce([bad for bad, _, _ in implausible]), np.nan, amount)
    return amount, rate, concat_ledgers(frames)


def _currency_code(text: str | None) -> str | None:
    if text is None:
        return None
    code = text.strip().upper()
    match = re.search(r"\b([A-Z]{3})\b", code)
    return match.group(1) if match else None


def _money_ledger(
    parsed: MoneyColumn,
    cells: pa.ChunkedArray,
    column: str,
    raw: RawTable,
    ids: Ids,
) -> pd.DataFrame:
    """Ledger rows of the values of a money column that could not be read or were abbreviated."""
    frames = []
    if parsed.failed.any():
        frames.append(
            ledger_where(
                raw,
                parsed.failed,
                action="set_missing",
                reason=f"could not read the value as an amount of money ({column})",
                code="bad_number",
                column=column,
                value=cells,
                deal_id=ids,
            )
        )
    if parsed.abbreviated.any():
        frames.append(
            ledger_where(
                raw,
                parsed.abbreviated,
                action="fixed",
                reason=lambda rows: [
                    f"abbreviation expanded to {v:g}" for v in parsed.amount[rows]
                ],
                code="abbreviation",
                column=column,
                value=cells,
                deal_id=ids,
            )
        )
    return concat_ledgers(frames)


def number_column(
    cells: pa.ChunkedArray, column: str, raw: RawTable, ids: Ids
) -> tuple[np.ndarray, pd.DataFrame]:
    """A column of numbers (employees, probability, list price) read like amounts of money, and
    the ledger rows of the values that could not be read or were abbreviated.

    A negative head count or list price is missing.
    """
    parsed = parse_money(cells)
    values = parsed.amount
    if column in ("employees", "list_price"):
        values = np.where(values < 0, np.nan, values)
    return values, _money_ledger(parsed, cells, column, raw, ids)
