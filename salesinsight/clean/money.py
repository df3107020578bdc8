"""Money of the cleaned deals: amounts in the deal's currency and the reporting currency, with
unreadable, abbreviated, negative and implausible amounts in the ledger (rule 8 of
:mod:`salesinsight.clean.deals`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from salesinsight.clean.parse import parse_money
from salesinsight.io.arrow import TEXT, ledger_where, map_uniques

if TYPE_CHECKING:
    from salesinsight.clean.deals import CleanOptions

__all__ = ["money_columns", "number_column"]

#: No single deal is worth this much in any reporting currency.
_MAX_AMOUNT = 1e12


def money_columns(out, col, status, raw, ids, ledger, opts: CleanOptions, n: int) -> str:
    reporting = opts.currency.upper()
    amount_col = col("amount")
    parsed = parse_money(amount_col) if amount_col is not None else None
    if parsed is None:
        original = np.full(n, np.nan)
        symbol = np.full(n, None, dtype=object)
        decimal = ""
    else:
        original, symbol, decimal = parsed.amount.copy(), parsed.currency, parsed.decimal
        _money_ledger(parsed, amount_col, "amount", raw, ids, ledger)
    actual_col = col("actual_amount")
    if actual_col is not None:
        actual = parse_money(actual_col)
        use = (status == "won") & ~np.isnan(actual.amount)
        original = np.where(use, actual.amount, original)
        symbol = np.where(use & (actual.currency != None), actual.currency, symbol)  # noqa: E711
        out["actual_amount"] = actual.amount
    cur_col = col("currency")
    currency = symbol.astype(object)
    if cur_col is not None:
        given = map_uniques(cur_col, _currency_code, n)
        currency = np.where(given == None, currency, given).astype(object)  # noqa: E711
        unset = (currency == None) & ~np.isnan(original)  # noqa: E711
        if unset.any():
            ledger.append(
                ledger_where(
                    raw,
                    unset,
                    action="fixed",
                    reason=f"currency missing; taken as the reporting currency {reporting}",
                    code="currency_assumed",
                    column="currency",
                    deal_id=ids,
                )
            )
    currency = np.where(currency == None, reporting, currency).astype(object)  # noqa: E711
    rates = {k.upper(): float(v) for k, v in opts.fx.items()}
    rates[reporting] = 1.0
    rate = map_uniques(pa.array(currency, TEXT), lambda c: rates.get(c, np.nan), n)
    rate = rate.astype(float)
    amount = original * rate
    no_rate = np.isnan(rate) & ~np.isnan(original)
    if no_rate.any():
        ledger.append(
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
            ledger.append(
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
    out["amount"] = amount
    out["amount_original"] = original
    out["currency"] = currency
    if col("list_price") is not None:
        out["list_price"] = number_column(col("list_price"), "list_price", raw, ids, ledger) * rate
    return decimal


def _currency_code(text: str | None) -> str | None:
    if text is None:
        return None
    code = text.strip().upper()
    match = re.search(r"\b([A-Z]{3})\b", code)
    return match.group(1) if match else None


def _money_ledger(parsed, arr, column: str, raw, ids, ledger) -> None:
    if parsed.failed.any():
        ledger.append(
            ledger_where(
                raw,
                parsed.failed,
                action="set_missing",
                reason=f"could not read the value as an amount of money ({column})",
                code="bad_number",
                column=column,
                value=arr,
                deal_id=ids,
            )
        )
    if parsed.abbreviated.any():
        ledger.append(
            ledger_where(
                raw,
                parsed.abbreviated,
                action="fixed",
                reason=lambda rows: [
                    f"abbreviation expanded to {v:g}" for v in parsed.amount[rows]
                ],
                code="abbreviation",
                column=column,
                value=arr,
                deal_id=ids,
            )
        )


def number_column(arr, column: str, raw, ids, ledger) -> np.ndarray:
    parsed = parse_money(arr)
    _money_ledger(parsed, arr, column, raw, ids, ledger)
    values = parsed.amount
    if column in ("employees", "list_price"):
        values = np.where(values < 0, np.nan, values)
    return values
