"""A simulated pipeline with known per-stage effects of trust, to test the stage estimators.

:func:`simulate_stage_world` draws deals that move through four open stages. In each stage a
deal leaves forward at a rate multiplied by the stage's planted hazard ratio when its account is
a repeat customer, and is lost at a rate trust does not change, so the cause-specific hazard
ratio of leaving forward is exactly the planted one. A won deal's final amount is its first quote
less a discount that is smaller for repeat customers (the book's claim that trusted buyers push
less on price; Hunter, A Mind for Sales, 2020). Deals still open at the cut-off are censored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from salesinsight.schemas import STAGE_HISTORY_COLUMNS

__all__ = ["PLANTED_DISCOUNT", "PLANTED_STAGE_EFFECTS", "STAGES", "simulate_stage_world"]

STAGES = ("Qualification", "Needs Analysis", "Proposal", "Negotiation")
#: Median days to leave forward, and to be lost, in each stage (without trust).
_FORWARD_DAYS = (12.0, 24.0, 18.0, 14.0)
_LOST_DAYS = (40.0, 60.0, 70.0, 90.0)
PLANTED_STAGE_EFFECTS = {
    "Qualification": 1.0,
    "Needs Analysis": 2.0,
    "Proposal": 1.5,
    "Negotiation": 1.0,
}
"""Hazard ratio of leaving each stage forward for repeat customers."""
PLANTED_DISCOUNT = (0.15, -0.10)
"""A won deal's discount off its first quote: base, and the change for repeat customers."""
_START = np.datetime64("2023-01-01", "ns")
_DAY = np.timedelta64(86_400_000_000_000, "ns")


def _stage_rows(k: int, stage: str, ids, entered, exited, amount) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ids,
            "stage": stage,
            "entered_at": entered,
            "exited_at": exited,
            "amount": amount,
            "stage_status": "won"
            if stage == "Closed Won"
            else "lost"
            if stage == "Closed Lost"
            else "open",
            "stage_rank": float(k),
            "probability": np.nan,
            "source_file": "simulated_history",
        }
    )


def _walk(trusted: np.ndarray, created: np.ndarray, effects, rng, cutoff, stages):
    """Each deal's stays: entry times per stage, and how and when it ended."""
    n = len(trusted)
    clock = created.astype("datetime64[ns]").copy()
    alive = np.ones(n, bool)
    status = np.full(n, "open", dtype=object)
    closed_at = np.full(n, np.datetime64("NaT", "ns"))
    entries = []
    for k, stage in enumerate(stages):
        m = k % len(_FORWARD_DAYS)
        rate_f = np.log(2) / _FORWARD_DAYS[m] * np.where(trusted, effects.get(stage, 1.0), 1.0)
        rate_l = np.log(2) / _LOST_DAYS[m]
        days = rng.exponential(1.0 / (rate_f + rate_l))
        forward = rng.random(n) < rate_f / (rate_f + rate_l)
        entries.append((alive & (clock <= cutoff), clock.copy()))
        end = clock + (days * _DAY).astype("timedelta64[ns]")
        done = alive & (end <= cutoff)
        lost = done & ~forward
        status[lost], closed_at[lost] = "lost", end[lost]
        alive &= ~lost & done
        clock = np.where(alive, end, clock)
    status[alive], closed_at[alive] = "won", clock[alive]
    return entries, status, closed_at


def simulate_stage_world(
    n_deals: int = 2000,
    *,
    seed: int = 0,
    effects: Mapping[str, float] | None = None,
    discount: tuple[float, float] = PLANTED_DISCOUNT,
    repeat_share: float = 0.4,
    stages: Sequence[str] = STAGES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Deals and their stage history, with per-stage trust effects and a trust-dependent discount.

    Parameters
    ----------
    n_deals : int
        Deals, four to an account (``account_id``); created over two years from 2023-01-01 and
        observed until 2025-01-01.
    seed : int
        Random seed.
    effects : mapping, optional
        ``{stage: hazard ratio}`` for repeat customers; default :data:`PLANTED_STAGE_EFFECTS`;
        ``{}`` is a null world.
    discount : (float, float)
        Base discount of a won deal off its first quote, and its change for repeat customers;
        ``(0.15, 0.0)`` is a null world.
    repeat_share : float
        Share of accounts that are repeat customers (``is_repeat_customer``).
    stages : sequence of str
        The open stages, in order (default :data:`STAGES`; more stages reuse their speeds).

    Returns
    -------
    deals, history : DataFrame
        ``deal_id, account_id, owner, lead_source_group, is_repeat_customer, status,
        created_at, closed_at, amount, first_amount, discount``; and the canonical stage history (with ``Closed Won`` /
        ``Closed Lost`` rows).

    Examples
    --------
    >>> deals, history = simulate_stage_world(n_deals=8, seed=0)
    >>> history["stage"].iloc[0], sorted(deals["status"].unique())
    ('Qualification', ['lost', 'won'])
    """
    rng = np.random.default_rng(seed)
    effects = PLANTED_STAGE_EFFECTS if effects is None else effects
    account = np.arange(n_deals) // 4
    trusted = (rng.random(account.max() + 1) < repeat_share)[account]
    created = _START + (rng.uniform(0, 730, n_deals) * _DAY).astype("timedelta64[ns]")
    cutoff = _START + 731 * _DAY
    entries, status, closed_at = _walk(trusted, created, effects, rng, cutoff, stages)
    first = np.round(rng.lognormal(np.log(20_000), 0.6, n_deals), 2)
    cut = np.clip(discount[0] + discount[1] * trusted + rng.normal(0, 0.03, n_deals), 0, 0.6)
    won = status == "won"
    final = np.where(won, np.round(first * (1 - cut), 2), first)
    ids = np.array([f"D{i:06d}" for i in range(n_deals)], dtype=object)
    parts = []
    for k, (mask, entered) in enumerate(entries):
        went_on, nxt = entries[k + 1] if k + 1 < len(entries) else (won, closed_at)
        # Left for the next stage, else ended here (lost), else still in it.
        exited = np.where(went_on, nxt, closed_at)
        parts.append(_stage_rows(k, stages[k], ids[mask], entered[mask], exited[mask], first[mask]))
    for k, (name, mask) in enumerate((("Closed Won", won), ("Closed Lost", status == "lost"))):
        at = closed_at[mask]
        parts.append(
            _stage_rows(
                len(stages) + k,
                name,
                ids[mask],
                at,
                np.full(len(at), np.datetime64("NaT", "ns")),
                final[mask],
            )
        )
    history = pd.concat(parts, ignore_index=True).sort_values(
        ["deal_id", "entered_at"], kind="stable"
    )
    history["source_row"] = np.arange(1, len(history) + 1)
    deals = pd.DataFrame(
        {
            "deal_id": ids,
            "account_id": np.array([f"A{a:05d}" for a in account], dtype=object),
            "owner": np.array([f"rep {a % 9}" for a in account], dtype=object),
            "lead_source_group": "inbound",
            "is_repeat_customer": trusted,
            "status": status,
            "created_at": created,
            "closed_at": closed_at,
            "amount": final,
            "first_amount": first,
            "discount": np.where(won, 1 - final / first, np.nan),
        }
    )
    return deals, history[STAGE_HISTORY_COLUMNS].reset_index(drop=True)
