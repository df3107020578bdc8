"""Raw reading: encodings, delimiters, spreadsheets, footers, the size guard; binary fixtures
(.xlsx, UTF-16) are generated here rather than committed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from salesinsight.exceptions import ExportFormatError, FileTooLargeError
from salesinsight.export import check_invariant, read_export
from salesinsight.io import files
from salesinsight.io.encodings import sniff_encoding
from salesinsight.io.files import read_table, sniff_delimiter

HEADER = "Opportunity Name\tStage\tAmount\tCreated Date\tClose Date\n"
ROWS = "Ärger GmbH - deal\tClosed Won\t1.234,50\t02.01.2024\t31.01.2024\nB\tProspecting\t10,00\t03.01.2024\t01.03.2024\n"


@pytest.fixture
def dynamics_xlsx(tmp_path):
    """A Dynamics 365 export: hidden (Do Not Modify) columns, serial dates, money as text."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "My Open Opportunities"
    sheet.append(
        [
            "(Do Not Modify) Opportunity",
            "(Do Not Modify) Row Checksum",
            "(Do Not Modify) Modified On",
            "Topic",
            "Potential Customer",
            "Est. close date",
            "Est. revenue",
            "Actual Revenue",
            "Probability",
            "Status",
            "Status Reason",
            "Owner",
            "Created On",
        ]
    )
    sheet.append(
        [
            "1f0e2d3c-0000-0000-0000-000000000001",
            "abc==",
            dt.datetime(2024, 3, 1, 10, 0),
            "Contoso - 50 seats",
            "Contoso Ltd",
            45351,
            "3,522.00",
            4000,
            100,
            "Won",
            "Won",
            "Pat Kim",
            45292,
        ]
    )
    sheet.append(
        [
            "1f0e2d3c-0000-0000-0000-000000000002",
            "def==",
            dt.datetime(2024, 3, 2, 10, 0),
            "Fabrikam - pilot",
            "Fabrikam Inc",
            dt.datetime(2024, 6, 30),
            1500.5,
            None,
            40,
            "Open",
            "In Progress",
            "Pat Kim",
            dt.datetime(2024, 2, 15, 9, 30),
        ]
    )
    sheet.append([None] * 13)
    for col in "ABC":
        sheet.column_dimensions[col].hidden = True
    hidden = book.create_sheet("hiddenSheet")
    hidden.sheet_state = "hidden"
    hidden["A1"] = "metadata"
    path = tmp_path / "My Open Opportunities 3-1-2024.xlsx"
    book.save(path)
    return path


class TestReadTable:
    def test_utf16_tab_delimited_from_excel(self, tmp_path):
        path = tmp_path / "unicode.txt"
        path.write_bytes((HEADER + ROWS).encode("utf-16"))
        raw = read_table(path)
        assert (raw.encoding, raw.delimiter, raw.n_rows) == ("utf-16", "\t", 2)
        assert raw.table.column("Opportunity Name")[0].as_py() == "Ärger GmbH - deal"

    def test_utf16_export_loads_with_day_first_dates(self, tmp_path):
        path = tmp_path / "unicode.txt"
        path.write_bytes((HEADER + ROWS).encode("utf-16"))
        export = read_export(path)
        assert export.deals["amount"].tolist() == [1234.5, 10.0]
        assert export.deals["created_at"].dt.strftime("%Y-%m-%d").tolist() == [
            "2024-01-02",
            "2024-01-03",
        ]
        check_invariant(export, {path.name: 2})

    def test_utf8_bom_and_crlf(self, tmp_path):
        path = tmp_path / "bom.csv"
        path.write_bytes(b"\xef\xbb\xbfStage,Amount\r\nClosed Won,5\r\n")
        raw = read_table(path)
        assert raw.headers == ["Stage", "Amount"]
        assert raw.encoding == "utf-8-sig"

    def test_title_line_before_header_is_skipped(self, tmp_path):
        path = tmp_path / "titled.csv"
        path.write_text("Opportunities by owner\nStage,Amount,Owner\nWon,5,A\nLost,6,B\n")
        raw = read_table(path)
        assert raw.headers == ["Stage", "Amount", "Owner"]
        assert raw.n_rows == 2

    def test_ragged_rows_fall_back_and_keep_every_row(self, tmp_path):
        path = tmp_path / "ragged.csv"
        path.write_text('Stage,Amount,Notes\nWon,5\nLost,6,"two\nlines"\nOpen,7,x,extra\n')
        raw = read_table(path)
        assert raw.n_rows == 3
        assert raw.table.column("Notes").to_pylist() == [None, "two\nlines", "x"]
        assert raw.table.column("Unnamed 4").to_pylist() == [None, None, "extra"]

    def test_formulas_stay_text(self, tmp_path):
        path = tmp_path / "inject.csv"
        path.write_text('Stage,Amount,Note\nWon,5,"=HYPERLINK(""x"")"\n')
        raw = read_table(path)
        assert raw.table.column("Note")[0].as_py() == '=HYPERLINK("x")'

    def test_size_guard_names_the_limit_and_the_fix(self, tmp_path):
        path = tmp_path / "big.csv"
        path.write_text("Stage,Amount\n" + "Won,5\n" * 100)
        with pytest.raises(FileTooLargeError, match=r"limit of 100 bytes.*max_bytes="):
            read_export(path, max_bytes=100)

    def test_legacy_binary_xls_is_refused_with_advice(self, tmp_path):
        path = tmp_path / "old.xls"
        path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 100)
        with pytest.raises(ExportFormatError, match="save it as .xlsx or .csv"):
            read_table(path)

    def test_cp1252_cells_are_decoded_on_both_paths(self, tmp_path):
        text = (
            'Account,Stage,Amount\r\n"Café €",Won,5\r\nZürich AG,"Lost, late",6\r\nAcme,Won,7\r\n'
        )
        fast, slow = tmp_path / "fast.csv", tmp_path / "slow.csv"
        fast.write_bytes(text.encode("cp1252"))
        # A row with an extra cell sends the file through the Python parser instead of pyarrow's.
        slow.write_bytes(text.replace("Acme,Won,7", "Acme,Won,7,x").encode("cp1252"))
        for path in (fast, slow):
            raw = read_table(path)
            assert raw.encoding == "cp1252"
            assert raw.table.column("Account").to_pylist() == ["Café €", "Zürich AG", "Acme"]
            assert raw.table.column("Stage").to_pylist() == ["Won", "Lost, late", "Won"]

    def test_cp1252_footer_is_decoded(self, tmp_path):
        path = tmp_path / "report.csv"
        path.write_bytes(
            "Account,Amount\nCafé,5\n\nGrand Totals (1 records)\nDaté\n".encode("cp1252")
        )
        raw = read_table(path)
        assert raw.table.column("Account").to_pylist() == ["Café"]
        assert "Daté" in raw.dropped["value"].tolist()

    def test_byte_undefined_in_cp1252_reads_as_latin1(self, tmp_path):
        path = tmp_path / "latin.csv"
        path.write_bytes(b"Account,Amount\nCaf\xe9\x81,5\n")
        raw = read_table(path)
        assert raw.encoding == "latin-1"
        assert raw.table.column("Account").to_pylist() == ["Caf\xe9\x81"]

    @pytest.mark.parametrize("beside", [False, True], ids=["parsed-after", "parsed-beside"])
    @pytest.mark.parametrize(
        "where",
        [b"Account,Amount\nCaf\xe9,5\nZ\x81rich,6\n", b"Acc\x81unt,Amount\nCaf\xe9,5\n"],
        ids=["cell", "header"],
    )
    def test_code_page_is_settled_while_parsing(self, tmp_path, monkeypatch, beside, where):
        # A large body is parsed while the code page is settled; a byte cp1252 lacks, anywhere
        # in the file, makes it latin-1 all the same.
        if beside:
            monkeypatch.setattr(files, "_PARSE_WHILE_COUNTING", 1)
        path = tmp_path / "latin.csv"
        path.write_bytes(where)
        raw = read_table(path)
        assert raw.encoding == "latin-1"
        assert raw.headers == where.split(b"\n")[0].decode("latin-1").split(",")
        assert raw.table.column(raw.headers[0]).to_pylist()[0] == "Caf\xe9"
        cp1252 = tmp_path / "cp1252.csv"
        cp1252.write_bytes(where.replace(b"\x81", b"\x80"))
        assert read_table(cp1252).encoding == "cp1252"
        assert "\u20ac" in "".join(read_table(cp1252).headers) + str(
            read_table(cp1252).table.to_pylist()
        )

    def test_html_in_a_code_page_is_settled_first(self, tmp_path):
        path = tmp_path / "report.xls"
        path.write_bytes(
            b"<table><tr><th>Account</th><th>Amount</th></tr>"
            b"<tr><td>Z\x81rich</td><td>5</td></tr></table>"
        )
        raw = read_table(path)
        assert raw.encoding == "latin-1"
        assert raw.table.column("Account").to_pylist() == ["Z\x81rich"]

    def test_forced_single_byte_encoding_is_checked(self, tmp_path):
        path = tmp_path / "latin.csv"
        path.write_bytes(b"Account,Amount\nCaf\xe9\x81,5\n")
        with pytest.raises(
            ExportFormatError, match=r"cannot be decoded as cp1252: byte 0x81 at byte offset 19"
        ):
            read_table(path, encoding="cp1252")
        raw = read_table(path, encoding="iso-8859-15")
        assert raw.table.column("Account").to_pylist() == ["Caf\xe9\x81"]

    def test_empty_file(self, tmp_path):
        path = tmp_path / "empty.csv"
        path.write_text("")
        with pytest.raises(ExportFormatError, match="empty"):
            read_table(path)


class TestDynamicsXlsx:
    def test_loads_with_serial_dates_and_hidden_columns(self, dynamics_xlsx):
        export = read_export(dynamics_xlsx)
        deals = export.deals
        assert export.crm == "dynamics"
        assert deals["deal_id"].tolist() == [
            "1f0e2d3c-0000-0000-0000-000000000001",
            "1f0e2d3c-0000-0000-0000-000000000002",
        ]
        assert deals["status"].tolist() == ["won", "open"]
        assert deals["amount"].tolist() == [4000.0, 1500.5]
        assert deals["created_at"].dt.strftime("%Y-%m-%d %H:%M").tolist() == [
            "2024-01-01 00:00",
            "2024-02-15 09:30",
        ]
        assert deals["closed_at"].astype(str).tolist()[0] == "2024-02-29"
        assert deals["expected_close_at"].astype(str).tolist()[1] == "2024-06-30"
        assert {"row_checksum", "modified_on"} <= set(deals.columns)
        check_invariant(export, {dynamics_xlsx.name: 2})

    def test_summary_reports_the_container(self, dynamics_xlsx):
        info = read_export(dynamics_xlsx).summary().iloc[0]
        assert info["encoding"] == "xlsx"
        assert info["rows_read"] == info["rows_kept"] == 2


class TestSniffers:
    def test_delimiters(self):
        assert sniff_delimiter("a,b,c\n1,2,3\n") == ","
        assert sniff_delimiter("a;b;c\n1,5;2;3\n") == ";"
        assert sniff_delimiter("a\tb\n1\t2\n") == "\t"
        assert sniff_delimiter("a|b|c\n1|2|3\n") == "|"

    def test_encodings(self):
        assert sniff_encoding(b"plain ascii") == "utf-8"
        assert sniff_encoding("Café".encode()) == "utf-8"
        assert sniff_encoding("Café €".encode("cp1252")) == "cp1252"
        assert sniff_encoding("Café".encode("utf-16-le")) == "utf-16-le"
        assert sniff_encoding(b"\xef\xbb\xbfx") == "utf-8-sig"


class TestLargerFile:
    def test_thousands_of_rows_take_the_fast_path(self, tmp_path, rng):
        n = 5000
        frame = pd.DataFrame(
            {
                "Opportunity Name": [f"Deal {i}" for i in range(n)],
                "Stage": rng.choice(["Closed Won", "Closed Lost", "Prospecting"], n),
                "Amount": [f"${v:,.2f}" for v in rng.uniform(0, 1e6, n)],
                "Created Date": "1/2/2024",
                "Close Date": "3/4/2024",
                "Account Name": "Acme",
                "Opportunity Owner": "Ann",
            }
        )
        path = tmp_path / "big.csv"
        frame.to_csv(path, index=False)
        export = read_export(path)
        assert len(export.deals) == n
        np.testing.assert_allclose(
            export.deals["amount"],
            frame["Amount"].str.replace(r"[$,]", "", regex=True).astype(float),
        )
        check_invariant(export, {"big.csv": n})


class TestMappedFiles:
    """Large files are mapped into memory instead of copied; mapped or copied, a file reads the
    same, errors included, and the map is closed once the file is read."""

    SAMPLE = Path(__file__).parents[1] / "salesinsight" / "datasets" / "sample"
    BAD = Path(__file__).parent / "data" / "bad"

    @staticmethod
    def _variants(tmp_path: Path) -> list[Path]:
        text = HEADER + ROWS
        made = {
            "utf16.txt": text.encode("utf-16"),
            "utf8_bom.csv": b"\xef\xbb\xbf" + text.encode(),
            "cp1252.csv": (
                text + "Caf\u00e9 \u20ac\tClosed Won\t5,00\t02.01.2024\t31.01.2024\n"
            ).encode("cp1252"),
            "cr_only.csv": text.replace("\n", "\r").encode(),
            "table.xls": b"<table><tr><td>Stage</td><td>Amount</td></tr>"
            b"<tr><td>Closed Won</td><td>5</td></tr></table>",
        }
        for name, data in made.items():
            (tmp_path / name).write_bytes(data)
        return [tmp_path / name for name in made]

    @staticmethod
    def _read(path: Path):
        try:
            raw = read_table(path)
        except Exception as err:  # the error itself is compared
            return type(err), str(err)
        frames = raw.table.to_pandas(), pd.DataFrame(raw.source_row), raw.dropped, raw.fixed
        return (*frames, raw.headers, raw.n_rows, raw.encoding, raw.delimiter, raw.kind)

    def test_a_mapped_file_reads_as_a_copied_one(self, tmp_path, monkeypatch):
        paths = [
            *sorted(p for p in self.BAD.iterdir() if p.name != "expected.csv"),
            *sorted(self.SAMPLE.glob("*.csv")),
            *self._variants(tmp_path),
        ]
        copied = [self._read(p) for p in paths]
        monkeypatch.setattr(files, "_MAP_BYTES", 1)
        mapped = [self._read(p) for p in paths]
        for path, one, other in zip(paths, copied, mapped, strict=True):
            assert len(one) == len(other), path.name
            for a, b in zip(one, other, strict=True):
                if isinstance(a, pd.DataFrame):
                    pd.testing.assert_frame_equal(a, b, obj=path.name)
                else:
                    assert a == b, path.name

    def test_the_map_is_closed_after_reading(self, tmp_path, monkeypatch):
        maps = []

        def spy(path, size):
            data = file_data(path, size)
            maps.append(data)
            return data

        file_data = files._file_data
        monkeypatch.setattr(files, "_MAP_BYTES", 1)
        monkeypatch.setattr(files, "_file_data", spy)
        path = tmp_path / "report.csv"
        path.write_text(HEADER + ROWS)
        assert read_table(path).n_rows == 2
        (tmp_path / "broken.csv").write_bytes(b"%PDF-1.7\n" + b"x" * 64)
        with pytest.raises(ExportFormatError):
            read_table(tmp_path / "broken.csv")
        assert [type(m).__name__ for m in maps] == ["mmap", "mmap"]
        assert all(m.closed for m in maps)
