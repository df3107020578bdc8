"""What the stage history says about price: a deal's first quote and what was given up from it.

``first_amount`` is the amount of the deal's first stage-history row that records one (in the
reporting currency: scaled by ``amount / amount_original`` where the deal was converted), and
``negotiated_discount`` is ``1 - amount / first_amount`` for a won deal, the share of the first
quote given up by the close. A deal without a recorded first amount (or with a first amount of
zero) has both missing; so does ``negotiated_discount`` for a deal not won. With it the book's
claim that buyers without trust push on price (Hunter, A Mind for Sales, 2020) is testable on
exports without price books.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesinsight.exceptions import ColumnNotFoundError

__all__ = ["STAGE_AMOUNT_COLUMNS", "stage_amount_columns"]

STAGE_AMOUNT_COLUMNS = ["first_amount", "negotiated_discount"]


def stage_amount_columns(deals: pd.DataFrame, stage_history: pd.DataFrame) -> pd.DataFrame:
    """``first_amount`` and ``negotiated_discount`` per deal, on the index of `deals`.

    Examples
    --------
    >>> deals = pd.DataFrame({"deal_id": ["a", "b", "c"], "status": ["won", "lost", "won"],
    ...                       "amount": [90.0, 50.0, 10.0]})
    >>> history = pd.DataFrame({"deal_id": ["a", "a", "b"], "amount": [np.nan, 100.0, 50.0],
    ...     "entered_at": pd.to_datetime(["2024-01-01", "2024-01-05", "2024-01-02"])})
    >>> stage_amount_columns(deals, history).round(2).values.tolist()
    [[100.0, 0.1], [50.0, nan], [nan, nan]]
    """
    missing = [c for c in ("deal_id", "amount", "entered_at") if c not in stage_history.columns]
    if missing:
        raise ColumnNotFoundError(
            f"Column(s) {missing} not found in `stage_history`; pass Export.stage_history "
            "(read with read_stage_history)."
        )
    known = stage_history.loc[stage_history["amount"].notna()]
    known = known.sort_values(["deal_id", "entered_at"], kind="stable")
    first = known.drop_duplicates("deal_id").set_index("deal_id")["amount"]
    quoted = first.reindex(deals["deal_id"]).to_numpy(dtype=float)
    amount = pd.to_numeric(deals["amount"], errors="coerce").to_numpy(dtype=float)
    if "amount_original" in deals.columns:
        original = pd.to_numeric(deals["amount_original"], errors="coerce").to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(original > 0, amount / original, 1.0)
        quoted = quoted * np.where(np.isfinite(rate), rate, 1.0)
    won = deals["status"].eq("won").to_numpy() if "status" in deals.columns else False
    with np.errstate(divide="ignore", invalid="ignore"):
        discount = np.where(won & (quoted > 0), 1.0 - amount / quoted, np.nan)
    quoted = np.where(quoted > 0, quoted, np.nan)
    return pd.DataFrame(
        {"first_amount": quoted, "negotiated_discount": discount}, index=deals.index
    )
