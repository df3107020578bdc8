"""Vectorised parsing of the text cells of an export: dates, money and yes/no flags.

Every parser works on a whole column at once with pyarrow compute kernels, on the column's
distinct values where that saves work (dates repeat a lot), and decides a column's conventions
from all its values together: day/month order and decimal separator are never guessed row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.io.arrow import as_array, encode, take_rows

__all__ = [
    "DateColumn",
    "MoneyColumn",
    "date_order_evidence",
    "parse_dates",
    "parse_flags",
    "parse_money",
]

_TIME = (
    r"(?:[ T,]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<p>[AaPp]\.?[Mm]\.?)?)?"
)
_PATTERNS = {
    "numeric": r"^(?P<a>\d{1,2})[/.\-](?P<b>\d{1,2})[/.\-](?P<y>\d{4}|\d{2})" + _TIME + "$",
    "iso": r"^(?P<y>\d{4})[\-/.](?P<a>\d{1,2})[\-/.](?P<b>\d{1,2})"
    + _TIME
    + r"\s*(?P<z>Z|[+\-]\d{2}:?\d{2})?$",
    "day month-name year": r"^(?P<b>\d{1,2})[ \-](?P<mon>[A-Za-z]{3,9})\.?,?[ \-](?P<y>\d{4}|\d{2})"
    + _TIME
    + "$",
    "month-name day year": r"^(?P<mon>[A-Za-z]{3,9})\.? (?P<b>\d{1,2}),? (?P<y>\d{4})"
    + _TIME
    + "$",
}
_MONTHS = {
    m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())
}
#: Excel serial day numbers accepted as dates: 1954-10-02 .. 2119-01-11.
_SERIAL_RANGE = (20000.0, 80000.0)
_EXCEL_EPOCH = np.datetime64("1899-12-30", "ns")


@dataclass(frozen=True)
class DateColumn:
    """A parsed date column: ``values`` (datetime64[ns], NaT where missing or unreadable),
    ``failed`` (text present but not a date) and ``style`` (the layouts found, e.g. ``M/D/Y``)."""

    values: np.ndarray
    failed: np.ndarray
    style: str


@dataclass(frozen=True)
class MoneyColumn:
    """A parsed money column: ``amount`` (float, NaN where missing or unreadable), ``currency``
    (ISO code from a symbol or code in the cell, else None), ``failed``, ``abbreviated``
    (``54K``-style values expanded) and ``decimal`` (the decimal separator chosen)."""

    amount: np.ndarray
    currency: np.ndarray
    failed: np.ndarray
    abbreviated: np.ndarray
    decimal: str


def _clean_text(values: pa.Array) -> pa.Array:
    values = pc.utf8_trim_whitespace(values)
    return pc.replace_substring_regex(values, r"\s+", " ")


def _fields(struct: pa.Array, names: list[str]) -> dict[str, np.ndarray]:
    out = {}
    for name in names:
        col = pc.struct_field(struct, name)
        out[name] = np.asarray(pc.fill_null(col, "").to_numpy(zero_copy_only=False), dtype=object)
    return out


def _ints(text: np.ndarray, default: int = 0) -> np.ndarray:
    series = pd.Series(text, dtype=object).replace("", str(default))
    return series.astype("int64").to_numpy()


def date_order_evidence(values: pa.Array | pa.ChunkedArray) -> tuple[int, int]:
    """Count distinct numeric dates that only fit day-first and only fit month-first.

    Examples
    --------
    >>> import pyarrow as pa
    >>> date_order_evidence(pa.array(["13/02/2021", "03/04/2021", "25/12/2020"]))
    (2, 0)
    """
    uniques = _clean_text(as_array(pc.unique(values).drop_null()))
    parts = pc.extract_regex(uniques, _PATTERNS["numeric"])
    valid = parts.is_valid()
    if not pc.any(valid).as_py():
        return 0, 0
    parts = parts.filter(valid)
    a = _ints(_fields(parts, ["a"])["a"])
    b = _ints(_fields(parts, ["b"])["b"])
    return int(((a > 12) & (b <= 12)).sum()), int(((b > 12) & (a <= 12)).sum())


def parse_dates(values: pa.Array | pa.ChunkedArray, *, dayfirst: bool = False) -> DateColumn:
    """Parse a column of date or datetime text, deciding the layout for the whole column.

    Understood: ``M/D/YY`` and ``M/D/YYYY`` (or ``D/M`` with ``dayfirst``; separators ``/ - .``)
    with optional ``hh:mm[:ss] [AM|PM]``; ISO 8601 with ``T``, fractions and ``Z``/offsets
    (converted to UTC); ``15 Apr, 2021 00:02:00``; ``Apr 15, 2021``; Excel serial day numbers;
    Unix epoch seconds (10 digits) and milliseconds (13 digits, as in HubSpot's API).

    Examples
    --------
    >>> import pyarrow as pa
    >>> col = parse_dates(pa.array(["6/12/24", "12/1/24 3:05 PM", None, "soon"]))
    >>> [str(v) for v in col.values], col.failed.tolist(), col.style
    (['2024-06-12T00:00:00.000000000', '2024-12-01T15:05:00.000000000', 'NaT', 'NaT'], [False, False, False, True], 'M/D/Y')
    """
    distinct, positions = encode(values)
    uniques = _clean_text(distinct)
    result = np.full(len(uniques), np.datetime64("NaT", "ns"))
    blank = np.asarray(pc.equal(uniques, ""))
    styles: list[str] = []
    pending = ~blank
    for name, pattern in _PATTERNS.items():
        if not pending.any():
            break
        parts = pc.extract_regex(uniques, pattern)
        hit = np.asarray(parts.is_valid()) & pending
        if not hit.any():
            continue
        f = _fields(parts.filter(pa.array(hit)), [field.name for field in parts.type])
        stamps, style = _stamps(name, f, dayfirst)
        styles.append(style)
        result[hit] = stamps
        pending &= ~hit
    if pending.any():
        result, found = _numeric_dates(uniques, pending, result)
        styles.extend(found)
    null = positions < 0
    values_out = result[np.where(null, 0, positions)] if len(result) else np.full(len(null), "NaT")
    values_out = values_out.astype("datetime64[ns]")
    values_out[null] = np.datetime64("NaT")
    failed = ~null & np.isnat(values_out)
    if len(blank):
        failed &= ~blank[np.where(null, 0, positions)]
    return DateColumn(values=values_out, failed=failed, style="+".join(styles))


def _stamps(layout: str, f: dict[str, np.ndarray], dayfirst: bool) -> tuple[np.ndarray, str]:
    """The dates of the parts `f` that one of the layouts of ``_PATTERNS`` extracted (NaT where
    they make no date), and the layout's style as :class:`DateColumn` names it."""
    if layout == "numeric":
        first, second = _ints(f["a"]), _ints(f["b"])
        day, month = (first, second) if dayfirst else (second, first)
        style = "D/M/Y" if dayfirst else "M/D/Y"
    elif layout == "iso":
        month, day = _ints(f["a"]), _ints(f["b"])
        style = "ISO"
    else:
        day = _ints(f["b"])
        month = np.array([_MONTHS.get(m[:3].lower(), 0) for m in f["mon"]], dtype=np.int64)
        style = "D Mon Y" if layout.startswith("day") else "Mon D Y"
    year = _ints(f["y"])
    year = np.where(year < 100, np.where(year < 69, 2000 + year, 1900 + year), year)
    hour = _ints(f["H"])
    meridiem = np.char.lower(np.char.replace(f["p"].astype(str), ".", ""))
    bad_hour = (meridiem != "") & ((hour < 1) | (hour > 12))
    hour = np.where((meridiem == "pm") & (hour < 12), hour + 12, hour)
    hour = np.where((meridiem == "am") & (hour == 12), 0, hour)
    stamps = pd.to_datetime(
        pd.DataFrame(
            {
                "year": year,
                "month": month,
                "day": day,
                "hour": hour,
                "minute": _ints(f["M"]),
                "second": _ints(f["S"]),
            }
        ),
        errors="coerce",
    ).to_numpy(dtype="datetime64[ns]")
    stamps[bad_hour] = np.datetime64("NaT")
    if layout == "iso":
        stamps = stamps - _offsets(f["z"])
    return stamps, style


def _offsets(zone: np.ndarray) -> np.ndarray:
    text = pd.Series(zone, dtype=object).str.replace(":", "", regex=False)
    sign = np.where(text.str.startswith("-"), -1, 1)
    hours = pd.to_numeric(text.str[1:3], errors="coerce").fillna(0).to_numpy()
    minutes = pd.to_numeric(text.str[3:5], errors="coerce").fillna(0).to_numpy()
    return ((sign * (hours * 60 + minutes)).astype("int64")).astype("timedelta64[m]")


def _numeric_dates(uniques: pa.Array, pending: np.ndarray, result: np.ndarray):
    numbers = pc.cast(
        pc.if_else(pc.match_substring_regex(uniques, r"^\d+(\.\d+)?$"), uniques, None),
        pa.float64(),
    ).to_numpy(zero_copy_only=False)
    lengths = np.asarray(pc.utf8_length(uniques).to_numpy(zero_copy_only=False))
    styles = []
    serial = pending & (numbers >= _SERIAL_RANGE[0]) & (numbers <= _SERIAL_RANGE[1])
    if serial.any():
        days = (numbers[serial] * 86_400_000_000_000).astype("int64").astype("timedelta64[ns]")
        result[serial] = _EXCEL_EPOCH + days
        styles.append("Excel serial")
    for length, unit, label in ((13, "ms", "epoch ms"), (10, "s", "epoch s")):
        epoch = pending & ~serial & (lengths == length) & ~np.isnan(numbers)
        if epoch.any():
            result[epoch] = numbers[epoch].astype("int64").astype(f"datetime64[{unit}]")
            styles.append(label)
    return result, styles


_MONEY = (
    r"^(?P<neg>-|\()?(?P<pre>[A-Za-z]{3}|[^\d.,\-()]{1,3})?(?P<neg2>-)?"
    r"(?P<num>\d[\d.,]*|[.,]\d+)(?P<suf>[kKmMbB])?(?P<post>[A-Za-z]{3}|[^\d.,\-()]{1,3})?"
    r"(?P<close>\))?$"
)
_SYMBOLS = {
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "£": "GBP",
    "¥": "JPY",
    "₹": "INR",
    "CA$": "CAD",
    "C$": "CAD",
    "A$": "AUD",
    "AU$": "AUD",
    "R$": "BRL",
    "Kč": "CZK",
    "zł": "PLN",
    "Fr.": "CHF",
}
_MONEY_GROUPS = ("neg", "pre", "neg2", "suf", "post", "close")
_COMMA_DECIMAL = r",\d{1,2}$|\.\d{3},|^\d{1,3}(?:\.\d{3}){2,}$"
_DOT_DECIMAL = r"\.\d{1,2}$|,\d{3}\.|^\d{1,3}(?:,\d{3}){2,}$|\.\d{4,}$"
# (One minus sign at most, before or after the dollar sign: ``--5`` is not an amount.)
_SIMPLE_US = r"^(-\$?|\$?-?)(\d{1,3}(,\d{3})*|\d+)(\.\d+)?$"
# Thousands separators only between groups of three (or the Indian 12,34,567), so a value such
# as ``9,0`` cut short is unreadable rather than read as 90.
_GROUPED = {
    ".": r"^(\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})*,\d{3}|\d*)(\.\d*)?$",
    ",": r"^(\d{1,3}(\.\d{3})+|\d*)(,\d*)?$",
}


def parse_money(values: pa.Array | pa.ChunkedArray, *, decimal: str | None = None) -> MoneyColumn:
    """Parse money text, deciding the decimal separator for the whole column.

    Understood: ``$22,700.00``, ``USD 1,234.00``, ``1.234,56 €``, ``1 234,56`` (also with
    non-breaking spaces), ``12.0``, ``$54K`` / ``1.2M``, ``(500.00)`` and ``-500``. A column whose
    values show a comma before one or two final digits (``12,50``) or dots between groups of three
    (``1.234.567``) more often than the opposite uses the comma as its decimal separator.

    Examples
    --------
    >>> import pyarrow as pa
    >>> m = parse_money(pa.array(["1.234,56 €", "1 234,56", "12,5", None, "n/a"]))
    >>> m.amount.tolist(), m.currency.tolist(), m.decimal
    ([1234.56, 1234.56, 12.5, nan, nan], ['EUR', None, None, None, None], ',')
    >>> parse_money(pa.array(["$54K", "USD 1,234.00", "12.0"])).amount.tolist()
    [54000.0, 1234.0, 12.0]
    """
    coded = _few_distinct(values)
    if coded is None:
        return _money_rows(values, decimal)
    # Each distinct value is read once; the share of plain US amounts still counts rows.
    uniques, positions = coded
    counts = np.bincount(positions[positions >= 0], minlength=len(uniques))
    parsed = _money_rows(uniques, decimal, counts, missing=int((positions < 0).sum()))
    at = np.where(positions < 0, len(uniques), positions)
    return MoneyColumn(
        np.append(parsed.amount, np.nan)[at],
        np.append(parsed.currency, np.array([None], dtype=object))[at],
        np.append(parsed.failed, False)[at],
        np.append(parsed.abbreviated, False)[at],
        parsed.decimal,
    )


#: Columns this long are first sampled for how many distinct values they hold.
_DISTINCT_FROM = 1 << 14
_SAMPLE = 1024


def _few_distinct(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray] | None:
    """A long column's distinct values and each row's position among them (see
    :func:`~salesinsight.io.arrow.encode`), unless an even sample of it is nearly all distinct
    (amounts mostly are; head counts and probabilities are not)."""
    n = len(values)
    if n < _DISTINCT_FROM:
        return None
    sample = take_rows(values, np.linspace(0, n - 1, _SAMPLE).astype(np.int64))
    if pc.count_distinct(sample, mode="all").as_py() > 0.9 * _SAMPLE:
        return None
    return encode(values)


def _money_rows(
    values: pa.Array | pa.ChunkedArray,
    decimal: str | None,
    weights: np.ndarray | None = None,
    missing: int = 0,
) -> MoneyColumn:
    """:func:`parse_money` of `values`, each standing for `weights` rows (one by default) of a
    column with `missing` more missing cells."""
    text = pc.utf8_trim_whitespace(values)
    null = np.asarray(pc.fill_null(pc.equal(text, ""), True))
    if decimal not in (None, "."):
        return _parse_money(values, null, decimal)
    simple = np.asarray(pc.fill_null(pc.match_substring_regex(text, _SIMPLE_US), True))
    if simple.all():
        return _simple_money(text, null)
    if weights is None:
        weights = np.ones(len(simple), dtype=np.int64)
    if (simple @ weights + missing) / (weights.sum() + missing) < 0.5:
        return _parse_money(values, null, decimal)
    # Mostly ``$22,700.00``: only the other values need the general reading. Plain US amounts
    # never show a decimal comma, so when the others alone point to the decimal point, the
    # whole column does.
    rest = np.flatnonzero(~simple)
    other = _parse_money(take_rows(values, rest), null[rest], decimal)
    if other.decimal != ".":
        return _parse_money(values, null, decimal)
    mask = pa.array(simple)
    out = _simple_money(pc.if_else(mask, text, pa.scalar(None, text.type)), null & simple)
    for name in ("amount", "currency", "failed", "abbreviated"):
        getattr(out, name)[rest] = getattr(other, name)
    return out


def _simple_money(text: pa.Array | pa.ChunkedArray, null: np.ndarray) -> MoneyColumn:
    """Amounts written ``$22,700.00``, ``-1,234`` or ``12.5`` (missing cells stay missing)."""
    n = len(text)
    # Such a cell holds at most one dollar sign, first or after the minus sign.
    after_minus = pc.fill_null(pc.starts_with(text, "-$"), False)
    dollar = np.asarray(pc.fill_null(pc.starts_with(text, "$"), False))
    if pc.any(after_minus).as_py():
        dollar = dollar | np.asarray(after_minus)
        bare = pc.replace_substring(text, "$", "")
    else:
        bare = pc.ascii_ltrim(text, "$")
    plain = pc.replace_substring(bare, ",", "")
    amount = np.array(pc.cast(plain, pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
    currency = np.full(n, None, dtype=object)
    currency[dollar] = "USD"
    amount[null] = np.nan
    return MoneyColumn(amount, currency, np.zeros(n, bool), np.zeros(n, bool), ".")


def _parse_money(
    values: pa.Array | pa.ChunkedArray, null: np.ndarray, decimal: str | None
) -> MoneyColumn:
    """The general reading of money text (see :func:`parse_money`)."""
    n = len(values)
    distinct, positions = encode(values)
    uniques = pc.replace_substring_regex(distinct, "[\\s\u00a0\u202f\u2009']+", "")
    parts = pc.extract_regex(uniques, _MONEY)
    part = {k: pc.fill_null(pc.struct_field(parts, k), "") for k in _MONEY_GROUPS}
    num = pc.struct_field(parts, "num")
    if decimal is None:
        comma = pc.sum(pc.match_substring_regex(num, _COMMA_DECIMAL)).as_py() or 0
        dot = pc.sum(pc.match_substring_regex(num, _DOT_DECIMAL)).as_py() or 0
        decimal = "," if comma > dot else "."
    grouped = pc.fill_null(pc.match_substring_regex(num, _GROUPED[decimal]), False)
    if decimal == ",":
        num = pc.replace_substring(pc.replace_substring(num, ".", ""), ",", ".")
    else:
        num = pc.replace_substring(num, ",", "")
    valid = pc.fill_null(pc.match_substring_regex(num, r"^(\d*\.?\d+|\d+\.)$"), False)
    valid = pc.and_(valid, grouped)
    number = pc.cast(pc.if_else(valid, num, None), pa.float64()).to_numpy(zero_copy_only=False)
    number = number.astype(float)
    suffix = np.asarray(pc.utf8_lower(part["suf"]).to_numpy(zero_copy_only=False), dtype=object)
    scale = np.select([suffix == "k", suffix == "m", suffix == "b"], [1e3, 1e6, 1e9], 1.0)
    neg = np.asarray(pc.equal(part["neg"], "-")) | np.asarray(pc.equal(part["neg2"], "-"))
    neg |= np.asarray(pc.equal(part["neg"], "(")) & np.asarray(pc.equal(part["close"], ")"))
    number = np.where(neg, -number, number) * scale
    symbols = pc.if_else(pc.not_equal(part["pre"], ""), part["pre"], part["post"])
    sym = pc.dictionary_encode(symbols)
    codes = np.array([_currency(v) for v in sym.dictionary.to_pylist()] + [None], dtype=object)
    currency_u = codes[pc.fill_null(sym.indices, len(codes) - 1).to_numpy(zero_copy_only=False)]
    indices = np.where(positions < 0, 0, positions)
    if len(number):
        amount, currency, scale = number[indices], currency_u[indices], scale[indices]
    else:
        amount, currency, scale = np.full(n, np.nan), np.full(n, None, object), np.ones(n)
    amount = np.where(null, np.nan, amount)
    currency = np.where(null, np.array(None, dtype=object), currency).astype(object)
    failed = ~null & np.isnan(amount)
    abbreviated = ~null & (scale != 1.0)
    return MoneyColumn(amount, currency, failed, abbreviated, decimal)


def _currency(symbol: str) -> str | None:
    if not symbol:
        return None
    if symbol in _SYMBOLS:
        return _SYMBOLS[symbol]
    if len(symbol) == 3 and symbol.isalpha():
        return symbol.upper()
    return None


_TRUE = {"true", "1", "yes", "y", "x", "t", "won", "wahr", "ano"}
_FALSE = {"false", "0", "no", "n", "f", "", "falsch", "ne"}


def parse_flags(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Yes/no text to a float array: 1.0, 0.0, or NaN when missing or not a yes/no value.

    Examples
    --------
    >>> import pyarrow as pa
    >>> parse_flags(pa.array(["TRUE", "false", "1", None, "maybe"])).tolist()
    [1.0, 0.0, 1.0, nan, nan]
    """
    arr = as_array(values)
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(arr))
    true = np.asarray(pc.fill_null(pc.is_in(lowered, pa.array(sorted(_TRUE))), False))
    false = np.asarray(pc.fill_null(pc.is_in(lowered, pa.array(sorted(_FALSE))), False))
    return np.where(true, 1.0, np.where(false, 0.0, np.nan))
