"""The canonical tables: pandera models are the data contract between the steps of the pipeline.

``read_export`` produces frames that validate against :class:`Deals`, :class:`Activities`,
:class:`Accounts` and :class:`Ledger`; every later step can rely on these columns and types.
Columns an export carries that the vendor map does not know are kept, snake_cased, which is why the
models are not strict.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera.typing import Series

from salesinsight.io.arrow import repeat_codes

__all__ = [
    "ACTIVITY_TYPES",
    "DEAL_COLUMNS",
    "DEAL_TYPES",
    "LEAD_SOURCE_GROUPS",
    "LEDGER_ACTIONS",
    "LEDGER_COLUMNS",
    "OPTIONAL_DEAL_COLUMNS",
    "STAGE_HISTORY_COLUMNS",
    "STATUSES",
    "Accounts",
    "Activities",
    "Deals",
    "Ledger",
    "StageHistory",
]

STATUSES = ("won", "lost", "open")
LEAD_SOURCE_GROUPS = (
    "referral",
    "existing_customer",
    "partner",
    "inbound",
    "outbound",
    "event",
    "other",
    "unknown",
)
DEAL_TYPES = ("new_business", "upsell", "cross_sell", "renewal", "existing_business", "unknown")
ACTIVITY_TYPES = ("call", "email", "meeting", "task", "other")
LEDGER_ACTIONS = ("dropped", "set_missing", "fixed", "flagged")
DEAL_COLUMNS = [
    "deal_id",
    "account",
    "account_id",
    "owner",
    "created_at",
    "closed_at",
    "expected_close_at",
    "status",
    "stage",
    "amount",
    "amount_original",
    "currency",
    "lead_source",
    "lead_source_group",
    "deal_type",
    "crm",
    "source_file",
    "source_row",
]
"""The canonical deal columns, in the order every deals table carries them."""
OPTIONAL_DEAL_COLUMNS = [
    "product",
    "list_price",
    "industry",
    "employees",
    "annual_revenue",
    "segment",
    "loss_reason",
    "lost_on_price",
]
"""Known deal columns an export may or may not carry; they follow the canonical ones."""
STAGE_HISTORY_COLUMNS = [
    "deal_id",
    "stage",
    "entered_at",
    "exited_at",
    "amount",
    "stage_status",
    "stage_rank",
    "probability",
    "source_file",
    "source_row",
]
"""The canonical stage-history columns, in order."""
LEDGER_COLUMNS = [
    "source_file",
    "source_row",
    "deal_id",
    "column",
    "value",
    "action",
    "reason",
    "record_id",
]


def _not_repeated(values: pd.Series) -> pd.Series:
    """True where a value is held by no other row: ``unique=True`` without a hash table of
    every value, which took seconds on millions of ids."""
    return pd.Series(repeat_codes(pyarrow.array(values)) < 0, index=values.index)


class Deals(pa.DataFrameModel):
    """One row per opportunity, in the reporting currency, with status decided from the export."""

    deal_id: Series[str] = pa.Field(
        description="Unique. Vendor id as text; where the export has none, a stable hash of the "
        "row's content.",
    )
    account: Series[str] = pa.Field(
        nullable=True, description="Account (company) name as exported."
    )
    account_id: Series[str] = pa.Field(
        nullable=True,
        description="Vendor account id, else derived from the normalised account name.",
    )
    owner: Series[str] = pa.Field(nullable=True, description="Salesperson who owns the deal.")
    created_at: Series[pd.Timestamp] = pa.Field(
        nullable=True,
        description="When the deal was created; missing when the export's date is unusable.",
    )
    closed_at: Series[pd.Timestamp] = pa.Field(
        nullable=True, description="When a won or lost deal closed; always missing for open deals."
    )
    expected_close_at: Series[pd.Timestamp] = pa.Field(
        nullable=True, description="An open deal's forecast close date (often already past)."
    )
    status: Series[str] = pa.Field(isin=list(STATUSES), description="won, lost or open.")
    stage: Series[str] = pa.Field(nullable=True, description="Stage name as exported.")
    amount: Series[float] = pa.Field(
        ge=0, nullable=True, description="Deal value in the reporting currency."
    )
    amount_original: Series[float] = pa.Field(
        nullable=True, description="Deal value as exported, in the deal's own currency."
    )
    currency: Series[str] = pa.Field(
        nullable=True, description="ISO code of the deal's own currency."
    )
    lead_source: Series[str] = pa.Field(nullable=True, description="Lead source as exported.")
    lead_source_group: Series[str] = pa.Field(
        isin=list(LEAD_SOURCE_GROUPS),
        description="Lead source mapped onto a small fixed vocabulary.",
    )
    deal_type: Series[str] = pa.Field(
        isin=list(DEAL_TYPES),
        description="new_business, upsell, cross_sell, renewal, existing_business (an existing "
        "customer's deal of no finer type) or unknown.",
    )
    crm: Series[str] = pa.Field(description="Vendor the export came from.")
    source_file: Series[str] = pa.Field(description="File name (not path) the row was read from.")
    source_row: Series[int] = pa.Field(
        ge=1, description="1-based data-row number in the source file."
    )
    product: Series[str] | None = pa.Field(
        nullable=True, description="Product or product line sold, where exported."
    )
    list_price: Series[float] | None = pa.Field(
        ge=0, nullable=True, description="List price in the reporting currency, where exported."
    )
    industry: Series[str] | None = pa.Field(nullable=True, description="Account's industry.")
    employees: Series[float] | None = pa.Field(
        ge=0, nullable=True, description="Account size in employees."
    )
    annual_revenue: Series[float] | None = pa.Field(
        ge=0, nullable=True, description="Account's annual revenue, where exported."
    )
    segment: Series[str] | None = pa.Field(nullable=True, description="Market segment.")
    loss_reason: Series[str] | None = pa.Field(
        nullable=True, description="Why a lost deal was lost, as exported."
    )
    lost_on_price: Series[pd.BooleanDtype] | None = pa.Field(
        nullable=True,
        description="Whether the loss reason names price (see clean.categories); missing "
        "without a reason.",
    )

    @pa.check("deal_id", name="unique", error="the value repeats another row's")
    def _unique_deal_id(cls, values: Series[str]) -> Series[bool]:
        return _not_repeated(values)

    class Config:
        strict = False
        coerce = True


class Activities(pa.DataFrameModel):
    """One row per logged call, email, meeting or task."""

    activity_id: Series[str] = pa.Field(description="Unique. Vendor id or a stable derived id.")
    deal_id: Series[str] = pa.Field(
        nullable=True, description="The deal the activity is linked to."
    )
    account: Series[str] = pa.Field(nullable=True, description="Account name, where exported.")
    type: Series[str] = pa.Field(
        isin=list(ACTIVITY_TYPES), description="call, email, meeting, task or other."
    )
    occurred_at: Series[pd.Timestamp] = pa.Field(nullable=True, description="When it happened.")
    owner: Series[str] = pa.Field(nullable=True, description="Who logged it.")
    contact: Series[str] | None = pa.Field(
        nullable=True,
        description="The person at the customer it was with (the vendor's contact id, else "
        "name), where exported; read_export always writes it, other sources may leave it out.",
    )
    source_file: Series[str] = pa.Field(description="File name (not path) the row was read from.")
    source_row: Series[int] = pa.Field(
        ge=1, description="1-based data-row number in the source file."
    )

    @pa.check("activity_id", name="unique", error="the value repeats another row's")
    def _unique_activity_id(cls, values: Series[str]) -> Series[bool]:
        return _not_repeated(values)

    class Config:
        strict = False
        coerce = True


class Accounts(pa.DataFrameModel):
    """One row per account, where an accounts export was given."""

    account_id: Series[str] = pa.Field(description="Unique. Vendor id or derived from the name.")
    account: Series[str] = pa.Field(nullable=True, description="Account name.")

    @pa.check("account_id", name="unique", error="the value repeats another row's")
    def _unique_account_id(cls, values: Series[str]) -> Series[bool]:
        return _not_repeated(values)

    class Config:
        strict = False
        coerce = True


class Ledger(pa.DataFrameModel):
    """Every row the cleaner dropped and every value it changed, with a reason a person understands."""

    source_file: Series[str] = pa.Field(description="File name (not path) of the row.")
    source_row: Series[int] = pa.Field(ge=1, description="1-based data-row number in that file.")
    deal_id: Series[str] = pa.Field(nullable=True, description="The row's deal id, where known.")
    column: Series[str] = pa.Field(
        nullable=True, description="Canonical column concerned; missing for a whole row."
    )
    value: Series[str] = pa.Field(nullable=True, description="The value as read, as text.")
    action: Series[str] = pa.Field(
        isin=list(LEDGER_ACTIONS),
        description="dropped, set_missing, fixed, or flagged (kept as read, but at odds with "
        "another table).",
    )
    reason: Series[str] = pa.Field(description="Why, in a sentence.")
    record_id: Series[str] = pa.Field(
        nullable=True,
        description="The id of the record the row holds, where the source names records (a "
        "warehouse table's key); missing for export files, whose rows the file and row name.",
    )

    class Config:
        strict = True
        coerce = True
        ordered = True


class StageHistory(pa.DataFrameModel):
    """One row per stage a deal entered, in time order within each deal."""

    deal_id: Series[str] = pa.Field(description="The deal, present in the deals table.")
    stage: Series[str] = pa.Field(description="Stage name as exported.")
    entered_at: Series[pd.Timestamp] = pa.Field(description="When the deal entered the stage.")
    exited_at: Series[pd.Timestamp] = pa.Field(
        nullable=True, description="When it left; missing while the deal is still in the stage."
    )
    amount: Series[float] = pa.Field(
        nullable=True, description="The deal's amount on entering the stage, where known."
    )
    stage_status: Series[str] = pa.Field(
        isin=["open", "won", "lost", "unknown"],
        description="What the stage means: open, won, lost (from the vendor's stages, the deals "
        "table and `stages=`), else unknown.",
    )
    stage_rank: Series[float] = pa.Field(
        nullable=True,
        description="Position of the stage in the vendor's pipeline, where known.",
    )
    probability: Series[float] = pa.Field(
        nullable=True, description="The stage's win probability in percent, where exported."
    )
    source_file: Series[str] = pa.Field(description="File name (not path) the row was read from.")
    source_row: Series[int] = pa.Field(
        ge=1, description="1-based data-row number in the source file."
    )

    class Config:
        strict = False
        coerce = True
