"""A stage-history export's cells under canonical raw field names, one row per stage change.

:func:`history_cells` recognises the layout (:mod:`salesinsight.io.vendors.history`) and returns
text cells: a long export's mapped columns as they are; a ``OpportunityFieldHistory`` export's
``StageName`` and ``Amount`` rows turned into ``stage`` and ``amount`` / ``prev_amount``; a
HubSpot deals export's ``Date entered`` / ``Date exited`` columns melted into one row per stage a
deal entered. Parsing the text is :mod:`salesinsight.clean.stage_history`'s work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from salesinsight.exceptions import ExportFormatError
from salesinsight.io.formats import header_key
from salesinsight.io.raw import RawTable
from salesinsight.io.vendors.history import HistoryLayout, history_layout, wide_columns

__all__ = ["HistoryCells", "history_cells"]

_HUBSPOT_IDS = ("record id", "deal id", "hs_object_id", "dealid")


@dataclass(frozen=True)
class HistoryCells:
    """The text cells of a stage-history export.

    ``cells`` has the raw history fields found (``deal_id, stage, entered_at`` always, then
    any of ``exited_at, amount, prev_amount, probability, is_deleted, history_id``) and
    ``source_row``; ``label`` and ``crm`` name the layout; ``wide`` says the rows came from a
    deals export's per-stage columns (HubSpot), several per source row.
    """

    cells: pd.DataFrame
    label: str
    crm: str
    wide: bool
    order: tuple[str, ...] = ()


def _column(raw: RawTable, header: str) -> np.ndarray:
    return raw.table.column(header).to_numpy(zero_copy_only=False).astype(object)


def _long_cells(raw: RawTable, layout: HistoryLayout) -> pd.DataFrame:
    data: dict[str, np.ndarray] = {}
    for header in raw.headers:
        name = layout.keys.get(header_key(header))
        if name is not None and name not in data:
            data[name] = _column(raw, header)
    frame = pd.DataFrame(data)
    frame["source_row"] = raw.source_row.astype(np.int64)
    if layout.field_rows:
        frame = _field_rows(frame)
    for name in ("deal_id", "stage", "entered_at"):
        if name not in frame.columns:
            raise ExportFormatError(
                f"`{raw.name}` looks like a {layout.label} export but has no column for "
                f"`{name}`. Export it with the opportunity id, the stage and the change date."
            )
    return frame


def _field_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """``Field, OldValue, NewValue`` rows to ``stage`` / ``amount`` / ``prev_amount`` columns."""
    what = frame.pop("field").astype(str).str.strip().str.casefold()
    old, new = frame.pop("old_value"), frame.pop("new_value")
    is_stage, is_amount = (what == "stagename").to_numpy(), (what == "amount").to_numpy()
    frame["stage"] = np.where(is_stage, new, None)
    frame["amount"] = np.where(is_amount, new, None)
    frame["prev_amount"] = np.where(is_amount, old, None)
    frame["field"] = what.to_numpy()
    return frame


def _wide_cells(raw: RawTable) -> pd.DataFrame:
    columns = wide_columns(raw.headers)
    ids = [h for h in raw.headers if header_key(h) in _HUBSPOT_IDS]
    if not ids:
        raise ExportFormatError(
            f"`{raw.name}` has HubSpot `Date entered` columns but no `Record ID`; export the "
            "deals with their record id."
        )
    deal_id = _column(raw, ids[0])
    exited = {(c.stage, c.pipeline): c.header for c in columns if c.edge == "exited"}
    parts = []
    for c in columns:
        if c.edge != "entered":
            continue
        entered = _column(raw, c.header)
        keep = pd.notna(entered) & (pd.Series(entered).astype(str).str.strip() != "").to_numpy()
        out = exited.get((c.stage, c.pipeline))
        parts.append(
            pd.DataFrame(
                {
                    "deal_id": deal_id[keep],
                    "stage": c.stage,
                    "pipeline": c.pipeline,
                    "entered_at": entered[keep],
                    "exited_at": _column(raw, out)[keep] if out else None,
                    "source_row": raw.source_row[keep].astype(np.int64),
                }
            )
        )
    if not parts:
        return pd.DataFrame(columns=["deal_id", "stage", "entered_at", "exited_at", "source_row"])
    return pd.concat(parts, ignore_index=True).sort_values("source_row", kind="stable")


def history_cells(raw: RawTable, crm: str = "auto") -> HistoryCells:
    """The cells of a stage-history export (or a HubSpot deals export with stage dates).

    Raises
    ------
    ExportFormatError
        No known history layout matches the headers.

    Examples
    --------
    >>> import pyarrow as pa
    >>> table = pa.table({"OpportunityId": ["006A"], "StageName": ["Prospecting"],
    ...                   "CreatedDate": ["2024-01-02T10:00:00.000+0000"]})
    >>> raw = RawTable("hist.csv", table, np.array([1]), 1, "utf-8", ",", "csv")
    >>> found = history_cells(raw)
    >>> found.label, found.cells[["deal_id", "stage", "source_row"]].values.tolist()
    ('Salesforce OpportunityHistory (API / Data Loader)', [['006A', 'Prospecting', 1]])
    """
    layout = history_layout(raw.headers, crm)
    if layout is not None:
        return HistoryCells(_long_cells(raw, layout), layout.label, layout.crm, wide=False)
    if crm in ("auto", "hubspot") and any(c.edge == "entered" for c in wide_columns(raw.headers)):
        order = tuple(dict.fromkeys(c.stage for c in wide_columns(raw.headers)))
        label = "HubSpot deals export with stage dates"
        return HistoryCells(_wide_cells(raw), label, "hubspot", True, order)
    raise ExportFormatError(
        f"`{raw.name}` is not a stage-history export we know (headers: {raw.headers[:8]}). "
        "Export Salesforce's OpportunityHistory or the Opportunity History report, Zoho's Stage "
        "History, or HubSpot deals with the `Date entered` columns."
    )
