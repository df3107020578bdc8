"""Checks on a file's bytes before they are parsed: what the file really is, and size limits.

A file named ``.csv`` may be a PDF, a ZIP archive or random bytes; a small ``.xlsx`` may unpack
to gigabytes; a "CSV" may be one 200 MB line or 100,000 columns wide. Each is refused here with an
:class:`~salesinsight.exceptions.ExportFormatError` or a
:class:`~salesinsight.exceptions.FileTooLargeError` that says what the file is and what to do,
before a parser is handed the bytes. Nothing found in a file is ever executed or evaluated.
"""

from __future__ import annotations

import io
import mmap
import zipfile

from salesinsight.exceptions import ExportFormatError, FileTooLargeError

__all__ = [
    "MAX_COLUMNS",
    "MAX_HEADER_LINE",
    "check_columns",
    "check_first_line",
    "check_magic",
    "check_text",
    "check_zip",
]

#: Widest table accepted: CRM exports have tens to a few hundred columns.
MAX_COLUMNS = 10_000
#: Longest first line accepted: a header row of even thousands of columns is far shorter.
MAX_HEADER_LINE = 1 << 24

_MAGIC = (
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"{\\rtf", "a Rich Text (RTF) document"),
)
_EXPORT_AGAIN = "Export the report from the CRM as CSV or .xlsx and read that file."


def check_magic(data: bytes, name: str) -> None:
    """Refuse files whose first bytes say they are a document, image or archive, not a table.

    Examples
    --------
    >>> check_magic(b"%PDF-1.7 ...", "deals.csv")
    Traceback (most recent call last):
    ...
    salesinsight.exceptions.ExportFormatError: `deals.csv` is a PDF document, not a table of deals (only its name says otherwise). Export the report from the CRM as CSV or .xlsx and read that file.
    """
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise ExportFormatError(
                f"`{name}` is {what}, not a table of deals (only its name says otherwise). "
                + _EXPORT_AGAIN
            )


def check_zip(data: bytes, name: str, max_bytes: int) -> None:
    """A ZIP file must be an .xlsx workbook that unpacks to at most ``max_bytes``.

    An archive of other files (a zipped CSV) is refused naming what it holds; a workbook whose
    parts unpack beyond the size guard (a "zip bomb") is refused before anything is unpacked.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as err:
        raise ExportFormatError(
            f"`{name}` starts like a ZIP archive or .xlsx workbook but cannot be opened ({err}). "
            "Re-save it from Excel, or export the data as CSV."
        ) from err
    names = [m.filename for m in members]
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        shown = ", ".join(f"`{n}`" for n in names[:5]) + (" ..." if len(names) > 5 else "")
        raise ExportFormatError(
            f"`{name}` is a ZIP archive holding {shown or 'nothing'}, not an .xlsx workbook or "
            "a CSV file. Extract the archive and read the export inside it."
        )
    unpacked = sum(m.file_size for m in members)
    if unpacked > max_bytes:
        raise FileTooLargeError(
            f"`{name}` unpacks to {unpacked:,} bytes, larger than the limit of {max_bytes:,} "
            f"bytes. Pass max_bytes={unpacked + 1} (or more) to read_export to read it anyway."
        )


def check_text(text_head: str, name: str) -> None:
    """Refuse text that is mostly control characters or undecodable bytes: a binary file.

    Examples
    --------
    >>> check_text("Stage,Amount\\nClosed Won,10\\n", "deals.csv")
    >>> check_text("\\x00\\x13\\x07\\ufffd" * 10, "deals.csv")
    Traceback (most recent call last):
    ...
    salesinsight.exceptions.ExportFormatError: `deals.csv` is not a text file: 40 of its first 40 characters are control characters or undecodable bytes. Export the report from the CRM as CSV or .xlsx and read that file.
    """
    sample = text_head[:4096]
    odd = sum(
        1
        for ch in sample
        if (ch < " " and ch not in "\t\n\r\f\v") or "\x7f" <= ch <= "\x9f" or ch == "\ufffd"
    )
    if odd > max(8, len(sample) // 50):
        raise ExportFormatError(
            f"`{name}` is not a text file: {odd} of its first {len(sample)} characters are "
            "control characters or undecodable bytes. " + _EXPORT_AGAIN
        )


def check_first_line(data: bytes | mmap.mmap, name: str) -> int:
    """End of the first line (after its line break); refuses a first line longer than
    :data:`MAX_HEADER_LINE`, which cannot be a header row.

    Examples
    --------
    >>> check_first_line(b"Stage,Amount\\r\\nWon,1\\r\\n", "deals.csv")
    14
    """
    for sep in (b"\n", b"\r"):
        end = data.find(sep, 0, MAX_HEADER_LINE)
        if end >= 0:
            return end + 1
    if len(data) <= MAX_HEADER_LINE:
        return len(data)
    raise ExportFormatError(
        f"`{name}` has no line break in its first {MAX_HEADER_LINE:,} bytes "
        f"({len(data):,} bytes in all), so it has no header row followed by data rows: it is not "
        "a table export. " + _EXPORT_AGAIN
    )


def check_columns(n_columns: int, name: str) -> None:
    """Refuse a header row wider than :data:`MAX_COLUMNS`.

    Examples
    --------
    >>> check_columns(12, "deals.csv")
    """
    if n_columns > MAX_COLUMNS:
        raise ExportFormatError(
            f"`{name}` has {n_columns:,} columns, more than the {MAX_COLUMNS:,} a CRM export can "
            "plausibly have (is the delimiter wrong, or the table transposed?). Choose the "
            "columns you need in the CRM's export view, or delete unused columns, and export "
            "again."
        )
