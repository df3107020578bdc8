"""Money of the cleaned deals: amounts in the deal's currency and the reporting currency, with
unreadable, abbreviated, negative and implausible amounts in the ledger (rule 8 of
:mod:`salesinsight.clean`).

The reporting currency is the one asked for; when none is, it is the deals' own currency when
they all share one (an EUR-only export reports in EUR), else :data:`DEFAULT_CURRENCY`. A
multi-currency Salesforce report's ``Amount (converted)`` already holds each deal in the
corporate currency: where that is the reporting currency, it is the deal's amount. Currency codes
given as options must be ISO 4217 codes (:func:`check_currency_code`, from pycountry's list).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pycountry

from salesinsight.clean.ids import Ids
from salesinsight.clean.ledger import concat_ledgers, empty_ledger, ledger_where
from salesinsight.clean.options import CleanOptions
from salesinsight.clean.parse import MoneyColumn, parse_money
from salesinsight.exceptions import InvalidValueError
from salesinsight.io.arrow import map_uniques
from salesinsight.io.raw import RawTable

__all__ = ["DEFAULT_CURRENCY", "Money", "check_currency_code", "money_columns", "number_column"]

DEFAULT_CURRENCY = "USD"
"""The reporting currency of deals in several currencies when none is asked for."""

#: No single deal is worth this much in any reporting currency.
_MAX_AMOUNT = 1e12


@dataclass(frozen=True)
class Money:
    """The money columns of the deals (see :func:`money_columns`).

    Attributes
    ----------
    columns : dict of str to numpy.ndarray
        ``amount``, ``amount_original`` and ``currency``, plus ``actual_amount`` where the
        export has it.
    decimal : str
        The decimal separator of the amounts (empty without an amount column).
    ledger : pandas.DataFrame
        Ledger rows of the amounts fixed or set missing.
    reporting : str
        The reporting currency ``amount`` is in.
    rate : numpy.ndarray, optional
        Each deal's rate from its own currency to the reporting currency (missing where none is
        known), for other prices of the deal such as its list price.
    """

    columns: dict[str, np.ndarray]
    decimal: str
    ledger: pd.DataFrame
    reporting: str = DEFAULT_CURRENCY
    rate: np.ndarray | None = None


def check_currency_code(code: str, *, what: str = "currency") -> str:
    """`code` upper-cased if it is an ISO 4217 currency code, else an error saying so.

    Examples
    --------
    >>> check_currency_code("eur")
    'EUR'
    >>> check_currency_code("dollars")
    Traceback (most recent call last):
    ...
    salesinsight.exceptions.InvalidValueError: currency 'dollars' is not an ISO 4217 currency code...
    """
    text = str(code).strip().upper()
    if len(text) == 3 and pycountry.currencies.get(alpha_3=text) is not None:
        return text
    raise InvalidValueError(
        f"{what} {code!r} is not an ISO 4217 currency code; expected three letters such as "
        "USD, EUR, GBP or JPY (--currency on the command line, currency= in Python)."
    )


def money_columns(
    cells: Mapping[str, pa.ChunkedArray],
    status: np.ndarray,
    raw: RawTable,
    ids: Ids,
    opts: CleanOptions,
) -> Money:
    """Amounts of the deals in their own currency and in the reporting currency.

    `cells` holds the text of the ``amount``, ``actual_amount``, ``currency``,
    ``amount_converted`` and ``converted_currency`` fields the export has. A won deal's actual
    amount, where given, is its amount. A list price is read apart (:func:`number_column`) and
    put in the reporting currency with the returned rates.
    """
    actual = parse_money(cells["actual_amount"]) if "actual_amount" in cells else None
    converted = _converted_amounts(cells, len(status))
    amount_cells = cells.get("amount")
    if amount_cells is None and "amount_converted" in cells:
        amount_cells, converted = cells["amount_converted"], None
    original, symbol, decimal, parsed = _amounts(amount_cells, actual, status, raw, ids)
    currency = _currency_codes(symbol, cells.get("currency"), len(status))
    reporting = opts.currency or _own_currency(currency, original, converted)
    currency, assumed = _filled_currencies(currency, original, cells, reporting, raw, ids)
    given = None
    if converted is not None:
        given = np.where(converted[1] == reporting, converted[0], np.nan)
    amount, rate, ledger = _in_reporting(original, currency, opts.fx, reporting, raw, ids, given)
    columns = {"amount": amount, "amount_original": original, "currency": currency}
    if actual is not None:
        columns["actual_amount"] = actual.amount
    return Money(columns, decimal, concat_ledgers([parsed, assumed, ledger]), reporting, rate)


def _converted_amounts(
    cells: Mapping[str, pa.ChunkedArray], n: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """A multi-currency report's converted amounts and their currency, where exported."""
    if "amount_converted" not in cells:
        return None
    parsed = parse_money(cells["amount_converted"])
    codes = _currency_codes(parsed.currency, cells.get("converted_currency"), n)
    return parsed.amount, codes


def _own_currency(
    currency: np.ndarray,
    original: np.ndarray,
    converted: tuple[np.ndarray, np.ndarray] | None,
) -> str:
    """The reporting currency when none is asked for: the converted amounts' one currency, else
    the one currency of every deal with an amount, else :data:`DEFAULT_CURRENCY`."""
    if converted is not None:
        codes = {c for c in converted[1][~np.isnan(converted[0])] if c is not None}
        if len(codes) == 1:
            return codes.pop()
    codes = set(pd.unique(currency[~np.isnan(original)])) - {None}
    return codes.pop() if len(codes) == 1 else DEFAULT_CURRENCY


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


def _currency_codes(symbol: np.ndarray, given: pa.ChunkedArray | None, n: int) -> np.ndarray:
    """Each deal's currency as the currency column says, else as its amount cell does; None
    where neither does."""
    currency = symbol.astype(object)
    if given is not None:
        codes = map_uniques(given, _currency_code, n)
        currency = np.where(codes == None, currency, codes).astype(object)  # noqa: E711
    return currency


def _filled_currencies(
    currency: np.ndarray,
    original: np.ndarray,
    cells: Mapping[str, pa.ChunkedArray],
    reporting: str,
    raw: RawTable,
    ids: Ids,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Currencies left unsaid taken as the reporting currency (with a ledger row where a
    currency column leaves it unsaid)."""
    ledger = empty_ledger()
    unset = (currency == None) & ~np.isnan(original)  # noqa: E711
    if "currency" in cells and unset.any():
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


def _in_reporting(
    original: np.ndarray,
    currency: np.ndarray,
    fx: Mapping[str, float],
    reporting: str,
    raw: RawTable,
    ids: Ids,
    given: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Amounts in the reporting currency, the rate of each deal's currency, and the ledger rows
    of amounts without a rate or implausible (negative, or 10^12 and more).

    Where `given` (the export's converted amounts) has a value, it is the amount, and the rate
    is the one it implies."""
    rates = {k.upper(): float(v) for k, v in fx.items()}
    rates[reporting] = 1.0
    codes, distinct = pd.factorize(currency)
    rate = np.array([rates.get(c, np.nan) for c in distinct] + [np.nan], dtype=float)[codes]
    amount = original * rate
    if given is not None:
        known = ~np.isnan(given)
        with np.errstate(divide="ignore", invalid="ignore"):
            implied = np.where(original > 0, given / original, np.nan)
        rate = np.where(known & np.isnan(rate), implied, rate)
        amount = np.where(known, given, amount)
    no_rate = np.isnan(amount) & ~np.isnan(original)
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
    if column in ("employees", "annual_revenue", "list_price"):
        values = np.where(values < 0, np.nan, values)
    return values, _money_ledger(parsed, cells, column, raw, ids)
