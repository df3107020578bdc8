"""Reading: the bytes of an export file become a raw table of text cells.

- :mod:`~salesinsight.io.guards`: what a file really is, and size limits, checked before parsing;
- :mod:`~salesinsight.io.encodings`: the text encoding, sniffed, checked and decoded;
- :mod:`~salesinsight.io.files`: bytes to text cells (:func:`~salesinsight.io.files.read_table`):
  delimiter, header row, spreadsheets and HTML tables, report footers;
- :mod:`~salesinsight.io.records`: the records of a delimited file that do not fit its header,
  each accounted for;
- :mod:`~salesinsight.io.raw`: the cells as a :class:`~salesinsight.io.raw.RawTable`, rows that
  carry no data dropped with a reason; :mod:`~salesinsight.io.text` repairs mojibake in them;
- :mod:`~salesinsight.io.detect`: the vendor layout recognised from the headers, among the
  layouts (:mod:`~salesinsight.io.formats`) of :mod:`salesinsight.io.vendors`, one module per
  vendor;
- :mod:`~salesinsight.io.arrow`: the Arrow building blocks the reader and the cleaners share.

Cleaning the cells into canonical tables is :mod:`salesinsight.clean`'s work, and
:func:`salesinsight.export.read_export` ties both together.
"""

from __future__ import annotations

from salesinsight.io.files import DEFAULT_MAX_BYTES

__all__ = ["DEFAULT_MAX_BYTES"]
