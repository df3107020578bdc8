"""Tables as a reader sees them in the report: p-values in scientific form, no meaningless index,
text left-aligned and numbers right-aligned, nothing shown as ``<NA>`` or ``NaN``."""

from __future__ import annotations

import itertools

import pandas as pd

__all__ = ["P_VALUE_COLUMNS", "display_table", "format_p", "frame_html"]

P_VALUE_COLUMNS = ("p_value", "p_adjusted")
"""Columns shown as p-values (two significant digits, scientific below 0.001)."""

_IDS = itertools.count()


def format_p(value: float) -> str:
    """A p-value as text: two significant digits, scientific form below 0.001, blank if missing.

    Examples
    --------
    >>> format_p(0.0182), format_p(1.28e-09), format_p(float("nan"))
    ('0.018', '1.3e-09', '')
    """
    if value is None or pd.isna(value):
        return ""
    return f"{value:.2g}" if value >= 1e-3 else f"{value:.1e}"


def display_table(frame: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """`frame` rounded for reading: numbers to `digits` decimals, p-values as :func:`format_p`.

    Examples
    --------
    >>> display_table(pd.DataFrame({"estimate": [1.23456], "p_adjusted": [2.3e-7]}))
       estimate p_adjusted
    0     1.235    2.3e-07
    """
    out = frame.round(digits)
    # Counts missing for untested rows read as NaN, as missing floats do, not as `<NA>`.
    for column in out.columns[[isinstance(t, pd.Int64Dtype) for t in out.dtypes]]:
        if out[column].isna().any():
            out[column] = out[column].astype(float)
    for column in P_VALUE_COLUMNS:
        if column in out:
            out[column] = frame[column].map(format_p)
    return out


def _meaningless_index(frame: pd.DataFrame) -> bool:
    """An unnamed index of row numbers (a default or a filtered one) says nothing to a reader."""
    index = frame.index
    return index.nlevels == 1 and index.name is None and pd.api.types.is_integer_dtype(index)


def frame_html(frame: pd.DataFrame) -> str:
    """`frame` as an HTML table: row numbers left out, text columns left-aligned, numbers right.

    Used as the notebooks' HTML display of data frames (see
    :func:`salesinsight.report.kernel.setup_notebook`).

    Examples
    --------
    >>> page = frame_html(pd.DataFrame({"claim": ["K1"], "n": [3]}))
    >>> "<th>0</th>" in page, "text-align:left" in page
    (False, True)
    """
    show_index = not _meaningless_index(frame)
    table_id = f"si-table-{next(_IDS)}"
    body = frame.to_html(
        index=show_index, na_rep="", border=0, classes="dataframe", table_id=table_id
    )
    offset = frame.index.nlevels if show_index else 0
    rules = [f"#{table_id} th{{text-align:left}}", f"#{table_id} td{{text-align:right}}"]
    for position, column in enumerate(frame.columns, start=offset + 1):
        dtype = frame[column].dtype
        if not (pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)):
            rules.append(f"#{table_id} td:nth-child({position}){{text-align:left}}")
    return f"<style>{' '.join(rules)}</style>{body}"
