"""Reporting currencies: ISO 4217 codes only, an export's own single currency, converted amounts."""

from __future__ import annotations

import numpy as np
import pytest

from salesinsight.exceptions import InvalidValueError
from salesinsight.export import read_export

HEADER = '"Opportunity Owner","Account Name","Opportunity Name","Stage","Amount","Close Date",' \
    '"Created Date"'  # fmt: skip


def report(tmp_path, rows, header=HEADER, name="report1718000000000.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


class TestCodes:
    @pytest.mark.parametrize("code", ["XYZ", "dollars", "US", "€"])
    def test_a_code_not_in_iso_4217_is_refused(self, tmp_path, code):
        path = report(tmp_path, ['"Ann","Acme","A","Closed Won","10","6/12/24","5/1/24"'])
        with pytest.raises(InvalidValueError, match=r"not an ISO 4217 currency code.*--currency"):
            read_export(path, currency=code)

    def test_rates_in_a_code_not_in_iso_4217_are_refused(self, tmp_path):
        path = report(tmp_path, ['"Ann","Acme","A","Closed Won","10","6/12/24","5/1/24"'])
        with pytest.raises(InvalidValueError, match="fx currency 'EURO'"):
            read_export(path, fx={"EURO": 1.1})

    def test_lower_case_iso_codes_are_fine(self, tmp_path):
        path = report(tmp_path, ['"Ann","Acme","A","Closed Won","10","6/12/24","5/1/24"'])
        assert read_export(path, currency="gbp").currency == "GBP"


class TestOwnCurrency:
    def test_an_export_all_in_one_other_currency_reports_in_it(self, tmp_path):
        path = report(
            tmp_path,
            [
                '"Ann","Acme","A","Closed Won","EUR 1,200.00","6/12/24","5/1/24"',
                '"Ann","Beta","B","Prospecting","EUR 300.00","7/1/24","5/20/24"',
            ],
        )
        export = read_export(path)
        assert export.currency == "EUR"
        assert export.deals["amount"].tolist() == [1200.0, 300.0]
        assert not export.ledger["reason"].str.contains("exchange rate").any()

    def test_an_asked_currency_still_needs_rates(self, tmp_path):
        path = report(tmp_path, ['"Ann","Acme","A","Closed Won","EUR 1,200.00","6/12/24","5/1/24"'])
        export = read_export(path, currency="USD")
        assert export.currency == "USD" and export.deals["amount"].isna().all()
        assert export.ledger["reason"].str.contains("no exchange rate for EUR").any()

    def test_mixed_currencies_without_rates_keep_usd_and_ledger_rows(self, tmp_path):
        path = report(
            tmp_path,
            [
                '"Ann","Acme","A","Closed Won","EUR 1,200.00","6/12/24","5/1/24"',
                '"Ann","Beta","B","Closed Won","USD 300.00","7/1/24","5/20/24"',
            ],
        )
        export = read_export(path)
        assert export.currency == "USD"
        assert np.isnan(export.deals["amount"].iloc[0]) and export.deals["amount"].iloc[1] == 300
        assert (export.ledger["column"] == "amount").sum() == 1


class TestConvertedAmounts:
    HEADER = (
        '"Opportunity Owner","Account Name","Opportunity Name","Stage","Opportunity Currency",'
        '"Amount","Amount (converted) Currency","Amount (converted)","Close Date","Created Date"'
    )
    ROWS = [
        '"Ann","Acme","A","Closed Won","EUR","1,000.00","USD","1,080.00","6/12/24","5/1/24"',
        '"Ann","Beta","B","Closed Won","GBP","500.00","USD","635.00","7/1/24","5/20/24"',
        '"Ann","Gamma","C","Prospecting","USD","200.00","USD","200.00","7/1/24","5/21/24"',
    ]

    def test_the_converted_amount_in_the_corporate_currency_is_the_amount(self, tmp_path):
        export = read_export(report(tmp_path, self.ROWS, header=self.HEADER))
        deals = export.deals
        assert export.currency == "USD"
        assert deals["amount"].tolist() == [1080.0, 635.0, 200.0]
        assert deals["amount_original"].tolist() == [1000.0, 500.0, 200.0]
        assert deals["currency"].tolist() == ["EUR", "GBP", "USD"]
        assert not (export.ledger["column"] == "amount").any()

    def test_another_reporting_currency_converts_the_deals_own_amounts(self, tmp_path):
        path = report(tmp_path, self.ROWS, header=self.HEADER)
        export = read_export(path, currency="EUR", fx={"GBP": 1.17, "USD": 0.93})
        assert export.deals["amount"].round(2).tolist() == [1000.0, 585.0, 186.0]

    def test_only_the_converted_amount(self, tmp_path):
        header = self.HEADER.replace('"Opportunity Currency","Amount",', "")
        rows = [r.replace('"EUR","1,000.00",', "").replace('"GBP","500.00",', "")
                .replace('"USD","200.00","USD"', '"USD"') for r in self.ROWS]  # fmt: skip
        export = read_export(report(tmp_path, rows, header=header))
        assert export.deals["amount"].tolist() == [1080.0, 635.0, 200.0]


def test_the_command_line_refuses_a_bad_currency(tmp_path, capsys):
    from salesinsight.cli import main

    path = report(tmp_path, ['"Ann","Acme","A","Closed Won","10","6/12/24","5/1/24"'])
    code = main(["clean", str(path), "--currency", "dollars", "--out", str(tmp_path / "d.csv")])
    assert code == 3
    assert "'dollars' is not an ISO 4217 currency code" in capsys.readouterr().err
