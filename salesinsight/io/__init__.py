"""Reading: the bytes of an export file become a raw table of text cells.

:mod:`~salesinsight.io.files` reads bytes into text cells (encoding, delimiter, spreadsheets,
report footers) behind the :mod:`~salesinsight.io.guards`, with the records that do not fit the
header accounted for by :mod:`~salesinsight.io.records`; :mod:`~salesinsight.io.raw` turns the
cells into a :class:`~salesinsight.io.raw.RawTable` (rows that carry no data dropped with a
reason), repairing mojibake with :mod:`~salesinsight.io.text`. :mod:`~salesinsight.io.detect`
recognises the vendor layout from the headers (:mod:`~salesinsight.io.formats` describes a
layout), with one module per vendor in :mod:`salesinsight.io.vendors`;
:mod:`~salesinsight.io.arrow` holds the Arrow building blocks the reader and the cleaners share.
Cleaning the cells into canonical tables is :mod:`salesinsight.clean`'s work, and
:func:`salesinsight.export.read_export` ties both together.
"""

from __future__ import annotations

from salesinsight.io.files import DEFAULT_MAX_BYTES

__all__ = ["DEFAULT_MAX_BYTES"]
