"""Vectorised parsing: dates decided per column, money in every layout, yes/no flags."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from salesinsight.clean.parse import date_order_evidence, parse_dates, parse_flags, parse_money


def texts(values):
    return pa.array(values, pa.large_string())


def iso(col):
    return [None if np.isnat(v) else str(v)[:19] for v in col.values]


class TestParseDates:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("6/12/24", "2024-06-12T00:00:00"),
            ("06/12/2024 10:05 AM", "2024-06-12T10:05:00"),
            ("6/12/2024 12:30 am", "2024-06-12T00:30:00"),
            ("6/12/2024 1:05 PM", "2024-06-12T13:05:00"),
            ("15 Apr, 2021 00:02:00", "2021-04-15T00:02:00"),
            ("Apr 15, 2021", "2021-04-15T00:00:00"),
            ("2021-03-01", "2021-03-01T00:00:00"),
            ("2025-02-28 14:00:00", "2025-02-28T14:00:00"),
            ("2021-03-01T10:00:00.000Z", "2021-03-01T10:00:00"),
            ("2021-03-01T10:00:00.000+0200", "2021-03-01T08:00:00"),
            ("45292", "2024-01-01T00:00:00"),
            ("1704067200000", "2024-01-01T00:00:00"),
            ("12/31/99", "1999-12-31T00:00:00"),
        ],
    )
    def test_layouts(self, text, expected):
        assert iso(parse_dates(texts([text]))) == [expected]

    def test_order_is_one_for_the_whole_column(self):
        col = texts(["03-07-2021", "04-08-2021"])
        assert iso(parse_dates(col, dayfirst=False))[0] == "2021-03-07T00:00:00"
        assert iso(parse_dates(col, dayfirst=True))[0] == "2021-07-03T00:00:00"

    def test_values_against_the_column_order_fail_instead_of_flipping(self):
        col = parse_dates(texts(["13/02/2021", "02/13/2021"]), dayfirst=True)
        assert iso(col) == ["2021-02-13T00:00:00", None]
        assert col.failed.tolist() == [False, True]

    def test_evidence_counts_distinct_values(self):
        assert date_order_evidence(texts(["13/02/2021", "13/02/2021", "01/02/2021"])) == (1, 0)
        assert date_order_evidence(texts(["02/13/2021"])) == (0, 1)
        assert date_order_evidence(texts(["2021-02-13"])) == (0, 0)

    def test_missing_and_garbage(self):
        col = parse_dates(texts([None, "", "  ", "tomorrow", "2/30/2024"]))
        assert iso(col) == [None] * 5
        assert col.failed.tolist() == [False, False, False, True, True]

    def test_many_rows_few_distinct_values(self):
        values = texts(["1/2/2024", "3/4/2024", None] * 10000)
        col = parse_dates(values)
        assert col.style == "M/D/Y"
        assert np.isnat(col.values).sum() == 10000


class TestParseMoney:
    @pytest.mark.parametrize(
        "pool",
        [
            ["$1,200.00", "USD 3,400.50", None, "", " 12 ", "n/a", "$54K", "(500.00)"],
            ["1.234,56 €", "12,50", "$9.99", None, "7"],
            ["12,5", "1,234", "3", "", None, "x"],
        ],
    )
    def test_long_columns_of_few_values_read_as_row_by_row(self, pool):
        # Long enough to be read one distinct value at a time; the short copy is read row by row.
        rng = np.random.default_rng(len(pool))
        short = [pool[i] for i in rng.integers(0, len(pool), 4000)]
        one, many = parse_money(texts(short)), parse_money(texts(short * 5))
        assert many.decimal == one.decimal
        for name in ("amount", "currency", "failed", "abbreviated"):
            expected = np.tile(getattr(one, name), 5)
            np.testing.assert_array_equal(getattr(many, name), expected, strict=True)

    @pytest.mark.parametrize(
        ("text", "amount", "currency"),
        [
            ("$22,700.00", 22700.0, "USD"),
            ("USD 1,234.00", 1234.0, "USD"),
            ("1.234,56 €", 1234.56, "EUR"),
            ("1 234,56", 1234.56, None),
            ("1\u00a0234,56", 1234.56, None),
            ("12.0", 12.0, None),
            ("$54K", 54000.0, "USD"),
            ("1.5M", 1.5e6, None),
            ("(500.00)", -500.0, None),
            ("-$5", -5.0, "USD"),
            ("£7", 7.0, "GBP"),
            ("125 000 CZK", 125000.0, "CZK"),
        ],
    )
    def test_layouts(self, text, amount, currency):
        parsed = parse_money(texts([text]))
        assert parsed.amount[0] == pytest.approx(amount)
        assert parsed.currency[0] == currency

    def test_decimal_separator_decided_by_the_column(self):
        assert parse_money(texts(["1,234", "5,50"])).amount.tolist() == [1.234, 5.5]
        assert parse_money(texts(["1,234", "5.50"])).amount.tolist() == [1234.0, 5.5]
        assert parse_money(texts(["1,234"]), decimal=",").amount.tolist() == [1.234]

    def test_abbreviations_and_failures_are_flagged(self):
        parsed = parse_money(texts(["$54K", "n/a", None, "12"]))
        assert parsed.abbreviated.tolist() == [True, False, False, False]
        assert parsed.failed.tolist() == [False, True, False, False]
        assert np.isnan(parsed.amount[1:3]).all()

    def test_fast_path_matches_the_general_path(self):
        values = ["$1,234.50", "99", "-$1,000,000.25"]
        fast = parse_money(texts(values))
        general = parse_money(texts([*values, "1.5K"])).amount[:3]
        assert fast.amount.tolist() == general.tolist() == [1234.5, 99.0, -1000000.25]

    @pytest.mark.parametrize("signs", [["", "$"], ["", "$", "-", "-$", "$-"]])
    def test_plain_amounts_read_as_written(self, signs):
        # Plain US amounts, with the dollar sign and the minus sign where exports put them.
        rng = np.random.default_rng(len(signs))
        numbers = rng.integers(0, 10**9, 300) / 100
        written = [
            signs[rng.integers(len(signs))] + (f"{x:,.2f}" if rng.random() < 0.5 else f"{x:.2f}")
            for x in numbers
        ]
        parsed = parse_money(texts([*written, None, ""]))
        expected = [float(w.replace("$", "").replace(",", "")) for w in written]
        assert parsed.amount[:-2].tolist() == expected
        assert np.isnan(parsed.amount[-2:]).all()
        assert parsed.currency.tolist() == [("USD" if "$" in w else None) for w in written] + [
            None,
            None,
        ]
        assert not parsed.failed.any() and not parsed.abbreviated.any()

    @pytest.mark.parametrize("text", ["--5", "-$-5", "$$5", "5-"])
    def test_odd_signs_are_read_generally_not_raised(self, text):
        # These once reached the plain reading, whose number cast raised.
        parsed = parse_money(texts([text, "$1,234.50"]))
        assert parsed.amount[1] == 1234.5
        assert parsed.failed[0] or not np.isnan(parsed.amount[0])

    def test_mostly_plain_column_reads_the_others_generally(self):
        # Plain US amounts take the quick way; the few others are read as the general way would.
        values = ["$1,234.50"] * 6 + ["USD 70,188.07", "n/a", None, "£7", "$54K"]
        parsed = parse_money(texts(values))
        assert parsed.amount[:6].tolist() == [1234.5] * 6
        assert parsed.amount[[6, 9, 10]].tolist() == [70188.07, 7.0, 54000.0]
        assert parsed.currency[[0, 6, 8, 9]].tolist() == ["USD", "USD", None, "GBP"]
        assert parsed.failed.tolist() == [False] * 7 + [True] + [False] * 3
        assert parsed.abbreviated.tolist() == [False] * 10 + [True]
        assert parsed.decimal == "."

    def test_mostly_plain_column_with_a_decimal_comma_elsewhere(self):
        # "1,234" alone is plain; a "5,50" among the others makes the comma the decimal
        # separator of the whole column, as it did before the quick way existed.
        parsed = parse_money(texts(["1,234"] * 4 + ["5,50"]))
        assert parsed.decimal == ","
        assert parsed.amount.tolist() == [1.234] * 4 + [5.5]


class TestParseFlags:
    def test_values(self):
        flags = parse_flags(texts(["TRUE", "false", "1", "0", "Yes", None, "maybe"]))
        assert flags[:5].tolist() == [1.0, 0.0, 1.0, 0.0, 1.0]
        assert np.isnan(flags[5:]).all()
