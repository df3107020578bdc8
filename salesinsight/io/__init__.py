"""Reading CRM exports: files to canonical tables, with a ledger of everything dropped or changed.

The pipeline: :mod:`~salesinsight.io.files` reads bytes into text cells (encoding, delimiter,
spreadsheets, report footers), :mod:`~salesinsight.io.detect` recognises the vendor layout from the
headers (one module per vendor holds its layouts), :mod:`salesinsight.clean` turns cells into the
canonical tables (:mod:`~salesinsight.io.parse` parses dates and money), and
:func:`read_export` ties them together.
"""

from __future__ import annotations

from salesinsight.io.export import DROP_CODES, Export, check_invariant, read_export
from salesinsight.io.files import DEFAULT_MAX_BYTES

__all__ = ["DEFAULT_MAX_BYTES", "DROP_CODES", "Export", "check_invariant", "read_export"]
