"""Stage history cleaned: one row per stage a deal entered, and a ledger row for every other row.

:func:`clean_stage_history` takes a raw table with canonical column names (``deal_id, stage,
entered_at`` and any of ``exited_at, amount, prev_amount, probability, is_deleted, field,
source_row``), as text (an export's cells) or typed (a warehouse table), so any source of history
feeds the same steps:

1. soft-deleted rows (``IsDeleted``), rows without a deal id or a readable date, exact duplicates
   and rows of deals absent from the deals table (orphans) are dropped, each with a reason;
2. the rest are put in time order within each deal (out-of-order rows are ordered, not dropped);
3. amount-only changes carry their amount to the stage they fall in, and a row repeating the
   stage before it (an amount, probability or close-date change) is dropped as no stage entry;
4. ``exited_at`` is the next stage's entry (or the export's own exit date), missing for the last;
5. a won (lost) deal whose history ends in a lost (won) stage gets a ``flagged`` ledger row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from salesinsight.clean.ledger import concat_ledgers, ledger_frame
from salesinsight.clean.parse import parse_dates, parse_flags, parse_money
from salesinsight.io.vendors import hubspot, salesforce, zoho
from salesinsight.schemas import STAGE_HISTORY_COLUMNS

__all__ = ["CleanedHistory", "clean_stage_history", "stage_statuses"]

_VENDOR_STAGES = {
    "salesforce": salesforce.STAGES,
    "hubspot": hubspot.STAGES,
    "zoho": zoho.STAGES,
}


@dataclass(frozen=True)
class CleanedHistory:
    """``frame`` (the canonical columns of :class:`salesinsight.schemas.StageHistory`) and
    ``ledger`` (its dropped and flagged rows, with the internal ``code``)."""

    frame: pd.DataFrame
    ledger: pd.DataFrame


def stage_statuses(
    deals: pd.DataFrame, crm: str | None = None, stages: Mapping[str, str] | None = None
) -> dict[str, str]:
    """What each stage means (open, won, lost): the vendor's stages, then the deals table's own
    stage and status (a stage every closed deal in it shares), then `stages`.

    Examples
    --------
    >>> deals = pd.DataFrame({"stage": ["Signed", "Signed", "Gone"],
    ...                       "status": ["won", "won", "lost"]})
    >>> stage_statuses(deals, stages={"Gone": "lost"})
    {'Signed': 'won', 'Gone': 'lost'}
    """
    out = dict(_VENDOR_STAGES.get(crm or "", {}))
    if {"stage", "status"} <= set(deals.columns):
        closed = deals.loc[deals["status"].isin(["won", "lost"]), ["stage", "status"]].dropna()
        for stage, statuses in closed.groupby("stage", sort=False)["status"]:
            if statuses.nunique() == 1:
                out[str(stage)] = str(statuses.iloc[0])
    out.update(stages or {})
    return out


def _dates(values: pd.Series, dayfirst: bool) -> tuple[np.ndarray, np.ndarray]:
    """Timestamps (naive UTC) and a flag for text that was no date."""
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        stamps = pd.to_datetime(values, utc=True).dt.tz_localize(None)
        return stamps.to_numpy(dtype="datetime64[ns]"), np.zeros(len(values), bool)
    iso = _iso_dates(values)
    if iso is not None:
        return iso, np.zeros(len(values), bool)
    parsed = parse_dates(_text(values), dayfirst=dayfirst)
    return parsed.values, parsed.failed


def _iso_dates(values: pd.Series) -> np.ndarray | None:
    """ISO 8601 text (API exports) in one vectorised pass, or None when any value is not."""
    try:
        stamps = pd.to_datetime(values, format="ISO8601", utc=True)
    except (ValueError, TypeError):
        return None
    return stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def _text(values: pd.Series) -> pa.Array:
    cells = values.astype(object).where(values.notna(), None)
    try:
        return pa.array(cells.to_numpy(), type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        return pa.array([None if v is None else str(v) for v in cells], type=pa.string())


def _numbers(values: pd.Series | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=float)
    try:
        return np.asarray(pc.cast(_text(values), pa.float64()).to_numpy(zero_copy_only=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    return parse_money(_text(values.astype(object).str.replace("%", "", regex=False))).amount


def _names(values: pd.Series) -> np.ndarray:
    """Trimmed text as objects, None where missing or blank."""
    text = pc.utf8_trim_whitespace(_text(values))
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    return text.to_numpy(zero_copy_only=False)


def _member(values: pd.Series, allowed) -> np.ndarray:
    """``values.isin(allowed)`` through Arrow's hash set (quick on millions of ids)."""
    found = pc.is_in(
        pa.array(values.to_numpy(dtype=object), type=pa.string()),
        value_set=pa.array(list(allowed), type=pa.string()),
    )
    return np.asarray(pc.fill_null(found, False))


def _parsed(raw: pd.DataFrame, dayfirst: bool) -> tuple[pd.DataFrame, np.ndarray]:
    """The raw rows with typed columns, and which dates failed to parse."""
    n = len(raw)
    entered, bad_entered = _dates(raw["entered_at"], dayfirst)
    if "exited_at" in raw.columns:
        exited, _ = _dates(raw["exited_at"], dayfirst)
    else:
        exited = np.full(n, np.datetime64("NaT", "ns"))
    deleted = raw.get("is_deleted")
    flags = parse_flags(_text(deleted)) if deleted is not None else np.zeros(n)
    frame = pd.DataFrame(
        {
            "deal_id": _names(raw["deal_id"]),
            "stage": _names(raw["stage"]),
            "entered_at": entered,
            "exited_at": exited,
            "amount": _numbers(raw.get("amount"), n),
            "prev_amount": _numbers(raw.get("prev_amount"), n),
            "probability": _numbers(raw.get("probability"), n),
            "deleted": flags == 1.0,
            "field": raw["field"].to_numpy() if "field" in raw.columns else None,
            "source_row": raw["source_row"].to_numpy(dtype=np.int64),
        }
    )
    return frame, bad_entered


def _drops(
    frame: pd.DataFrame, raw: pd.DataFrame, bad_date: np.ndarray, deal_ids: np.ndarray
) -> tuple[np.ndarray, list[tuple[np.ndarray, str, str]]]:
    """Which rows are kept, and the (mask, code, reason) of each kind of drop, in order."""
    left = np.ones(len(frame), bool)
    kinds = []

    def take(mask: np.ndarray, code: str, reason: str) -> None:
        hit = mask & left
        left[hit] = False
        kinds.append((hit, code, reason))

    take(frame["deleted"].to_numpy(), "deleted", "soft-deleted history row (IsDeleted)")
    take(frame["deal_id"].isna().to_numpy(), "malformed", "history row without a deal id")
    take(
        frame["entered_at"].isna().to_numpy(),
        "malformed",
        "history row without a readable change date"
        if bad_date.any()
        else "history row without a change date",
    )
    content = raw.drop(columns=["source_row"]).astype(str)
    take(content.duplicated(keep="first").to_numpy(), "duplicate", "exact duplicate history row")
    no_stage = frame["stage"].isna() & frame["amount"].isna()
    take(no_stage.to_numpy(), "not_stage", "a change of another field, not of stage or amount")
    orphan = ~_member(frame["deal_id"], deal_ids)
    take(orphan, "orphan", "history of a deal that is not in the deals export")
    return left, kinds


def _amount_at_entry(kept: pd.DataFrame) -> pd.Series:
    """The deal's amount on entering each stage: its own, else the last one before, else the
    amount the next change started from (``PrevAmount`` / ``OldValue``)."""
    by_deal = kept.groupby("deal_id", sort=False)
    amount = by_deal["amount"].ffill()
    before = by_deal["prev_amount"].bfill()
    return amount.fillna(before)


def _stage_rows(kept: pd.DataFrame) -> np.ndarray:
    """Rows that enter a stage: a stage present and different from the deal's previous one."""
    stage = kept["stage"].groupby(kept["deal_id"], sort=False).ffill()
    previous = stage.groupby(kept["deal_id"], sort=False).shift(1)
    return (kept["stage"].notna() & (stage != previous)).to_numpy()


def _exits(entries: pd.DataFrame) -> np.ndarray:
    following = entries.groupby("deal_id", sort=False)["entered_at"].shift(-1)
    given = entries["exited_at"]
    return given.where(given.notna(), following).to_numpy(dtype="datetime64[ns]")


def _contradictions(history: pd.DataFrame, deals: pd.DataFrame, source_file: str) -> pd.DataFrame:
    """A ``flagged`` ledger row per closed deal whose last stage says the opposite outcome."""
    last = history.groupby("deal_id", sort=False).tail(1)
    status = deals.drop_duplicates("deal_id").set_index("deal_id")["status"]
    deal_status = status.reindex(last["deal_id"]).to_numpy()
    clash = (
        np.isin(deal_status, ["won", "lost"])
        & last["stage_status"].isin(["won", "lost"]).to_numpy()
        & (deal_status != last["stage_status"].to_numpy())
    )
    rows = last.loc[clash]
    return ledger_frame(
        source_file,
        rows["source_row"].to_numpy(),
        action="flagged",
        reason=[
            f"the deal is {s} but its history ends in the {t} stage {g!r}; the deal's status is kept"
            for s, t, g in zip(deal_status[clash], rows["stage_status"], rows["stage"], strict=True)
        ],
        code="contradiction",
        column="stage",
        value=rows["stage"].to_numpy(),
        deal_id=rows["deal_id"].to_numpy(),
    )


def _ledger(frame: pd.DataFrame, kinds, source_file: str) -> list[pd.DataFrame]:
    parts = []
    for mask, code, reason in kinds:
        if mask.any():
            rows = frame.loc[mask]
            parts.append(
                ledger_frame(
                    source_file,
                    rows["source_row"].to_numpy(),
                    action="dropped",
                    reason=reason,
                    code=code,
                    deal_id=rows["deal_id"].to_numpy(),
                )
            )
    return parts


def _ranks(stages: pd.Series, crm: str | None, order: list[str] | None) -> np.ndarray:
    listed = order if order is not None else list(_VENDOR_STAGES.get(crm or "", {}))
    rank = {s: float(i) for i, s in enumerate(dict.fromkeys(listed))}
    return stages.map(rank).to_numpy(dtype=float)


def clean_stage_history(
    raw: pd.DataFrame,
    deals: pd.DataFrame,
    *,
    source_file: str,
    crm: str | None = None,
    stages: Mapping[str, str] | None = None,
    order: list[str] | None = None,
    dayfirst: bool = False,
) -> CleanedHistory:
    """Clean raw stage-history rows against the deals they belong to.

    Parameters
    ----------
    raw : DataFrame
        Canonical raw columns ``deal_id, stage, entered_at, source_row`` and optionally
        ``exited_at, amount, prev_amount, probability, is_deleted, field``; text or typed.
    deals : DataFrame
        The cleaned deals (``deal_id``, ``stage``, ``status``).
    source_file : str
        The file (or table) the rows came from, for ``source_file`` and the ledger.
    crm : str, optional
        Vendor, whose standard stages say which are won or lost and their pipeline order.
    stages : mapping, optional
        ``{stage: "won" | "lost" | "open"}`` for custom stages.
    order : list of str, optional
        The pipeline's stage order, where the export states it.
    dayfirst : bool
        Day before month in numeric dates.

    Returns
    -------
    CleanedHistory

    Examples
    --------
    >>> deals = pd.DataFrame({"deal_id": ["1", "2"], "stage": ["Closed Won", "Prospecting"],
    ...                       "status": ["won", "open"]})
    >>> raw = pd.DataFrame({
    ...     "deal_id": ["1", "1", "1", "1", "9"],
    ...     "stage": ["Closed Won", "Prospecting", "Prospecting", "Prospecting", "Prospecting"],
    ...     "entered_at": ["2024-03-01", "2024-01-01", "2024-01-01", "2024-02-01", "2024-01-05"],
    ...     "amount": ["900", "1000", "1000", "950", "5"], "source_row": [1, 2, 3, 4, 5]})
    >>> out = clean_stage_history(raw, deals, source_file="h.csv", crm="salesforce")
    >>> out.frame[["deal_id", "stage", "amount", "source_row"]].values.tolist()
    [['1', 'Prospecting', 1000.0, 2], ['1', 'Closed Won', 900.0, 1]]
    >>> out.ledger[["source_row", "code"]].values.tolist()
    [[3, 'duplicate'], [5, 'orphan'], [4, 'same_stage']]
    """
    frame, bad_date = _parsed(raw.reset_index(drop=True), dayfirst)
    ids = deals["deal_id"].dropna().astype(str).unique()
    left, kinds = _drops(frame, raw.reset_index(drop=True), bad_date, ids)
    kept = frame.loc[left].sort_values(["deal_id", "entered_at", "source_row"], kind="stable")
    kept = kept.assign(amount=_amount_at_entry(kept))
    entry = _stage_rows(kept)
    amount_only = kept["stage"].isna().to_numpy()
    extra = pd.Series(False, index=frame.index)
    kinds.append(
        (
            extra.index.isin(kept.index[amount_only]),
            "amount_change",
            "an amount change, not a stage entry: its amount is carried to the stage it falls in",
        )
    )
    kinds.append(
        (
            extra.index.isin(kept.index[~entry & ~amount_only]),
            "same_stage",
            "the stage did not change (an amount, probability or date change)",
        )
    )
    history = kept.loc[entry].copy()
    history["exited_at"] = _exits(history)
    statuses = stage_statuses(deals, crm, stages)
    history["stage_status"] = history["stage"].map(statuses).fillna("unknown")
    history["stage_rank"] = _ranks(history["stage"], crm, order)
    history["source_file"] = source_file
    ledger = concat_ledgers(
        [*_ledger(frame, kinds, source_file), _contradictions(history, deals, source_file)]
    )
    return CleanedHistory(history[STAGE_HISTORY_COLUMNS].reset_index(drop=True), ledger)
