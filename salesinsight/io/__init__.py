"""Reading: the bytes of an export file become a raw table of text cells.

:mod:`~salesinsight.io.files` reads bytes into text cells (encoding, delimiter, spreadsheets,
report footers) behind the :mod:`~salesinsight.io.guards`; :mod:`~salesinsight.io.detect`
recognises the vendor layout from the headers, with one module per vendor in
:mod:`salesinsight.io.vendors`. Cleaning the cells into canonical tables is
:mod:`salesinsight.clean`'s work, and :func:`salesinsight.export.read_export` ties both together.
"""

from __future__ import annotations

from salesinsight.io.files import DEFAULT_MAX_BYTES

__all__ = ["DEFAULT_MAX_BYTES"]
