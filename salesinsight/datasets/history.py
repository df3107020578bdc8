"""A simulated world's stage history, rendered as Salesforce's ``OpportunityHistory`` export.

Each deal walks the open stages of :data:`~salesinsight.datasets.simulate.OPEN_STAGES` in order
from its creation: a won deal through all of them, a lost one up to the stage it was lost in, an
open one up to the stage it is in at the snapshot. Its time from creation to close (or to the
snapshot) is the world's, so the world's planted effect on the speed of closing stays as it is;
how that time splits across the stages is where the history plants its own effects:

* **Negotiation takes as long.** The last open stage lasts a time drawn without regard to trust
  (median :data:`NEGOTIATION_DAYS`, never more than 80 % of the deal's time).
* **Trust saves time in Needs Analysis.** The rest of the time is split by random weights, and a
  repeat customer's weight for Needs Analysis is :data:`NEEDS_ANALYSIS_WEIGHT` of the others' (the
  book's claim that trusted buyers decide faster; Hunter, *A Mind for Sales*, 2020).
* **Trusted buyers keep more of the first quote.** A won deal's first amount is its final one
  plus a discount, smaller for repeat customers (:data:`HISTORY_DISCOUNT`); the amount changes to
  the final one midway through the last open stage, as a row of the same stage.

The file is what the Data Loader writes for ``OpportunityHistory`` (API names, ISO timestamps in
UTC, one row per change of stage or amount), with the dirt real ones carry: rows of soft-deleted
changes (``IsDeleted`` true) and exact duplicate rows, listed in the manifest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from salesinsight.datasets import dirt
from salesinsight.datasets.sheet import Note, Sheet
from salesinsight.datasets.simulate import OPEN_STAGES, World
from salesinsight.datasets.vendors import (
    SALESFORCE_PROBABILITY,
    end_dates,
    salesforce_ids,
    vendor_ids,
)

__all__ = [
    "HISTORY_DISCOUNT",
    "HISTORY_FILE",
    "NEEDS_ANALYSIS_WEIGHT",
    "NEGOTIATION_DAYS",
    "history_truth",
    "render_history",
    "stage_walks",
]

HISTORY_FILE = "OpportunityHistory.csv"
NEGOTIATION_DAYS = 5.0
"""Median days in the last open stage (Negotiation/Review), whatever the trust."""
NEEDS_ANALYSIS_WEIGHT = 0.35
"""A repeat customer's weight for Needs Analysis in the split of a deal's time (others: 1)."""
HISTORY_DISCOUNT = (0.12, -0.06)
"""A won deal's discount off its first quote: base, and the change for repeat customers."""
_NEEDS = OPEN_STAGES.index("Needs Analysis")
_LAST = len(OPEN_STAGES) - 1
_DAY = pd.Timedelta(days=1)
_FORECAST = {
    **{s: "Pipeline" for s in OPEN_STAGES[:5]},
    "Perception Analysis": "Best Case",
    "Proposal/Price Quote": "Best Case",
    "Negotiation/Review": "Commit",
    "Closed Won": "Closed",
    "Closed Lost": "Omitted",
}


def _reached(deals: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """How many open stages each deal entered: all for a won deal, up to its stage otherwise."""
    index = {s: i for i, s in enumerate(OPEN_STAGES)}
    reached = deals["stage"].map(index).to_numpy(dtype=float) + 1
    won = deals["status"].eq("won").to_numpy()
    lost = deals["status"].eq("lost").to_numpy()
    reached[won] = len(OPEN_STAGES)
    # Lost deals drop out early more often than late.
    share = 0.75 ** np.arange(len(OPEN_STAGES))
    reached[lost] = 1 + rng.choice(len(OPEN_STAGES), size=int(lost.sum()), p=share / share.sum())
    return reached.astype(np.int64)


def stage_walks(world: World, rng: np.random.Generator) -> pd.DataFrame:
    """Every open stage each deal entered, with its entry and exit times and amount.

    Returns
    -------
    DataFrame
        ``deal, stage, rank, entered_at, exited_at, amount``: ``deal`` is the
        deal's row in ``world.deals``; ``exited_at`` is the close (or the next stage's entry),
        missing while the deal is still in the stage; ``amount`` is the first quote.

    Examples
    --------
    >>> from salesinsight.datasets import simulate_world
    >>> world = simulate_world(n_accounts=20, seed=1)
    >>> walks = stage_walks(world, np.random.default_rng(0))
    >>> bool((walks["exited_at"].dropna() >= walks.loc[walks["exited_at"].notna(), "entered_at"]).all())
    True
    """
    deals = world.deals
    n = len(deals)
    reached = _reached(deals, rng)
    start = deals["created_at"]
    end = deals["closed_at"].fillna(world.as_of)
    total = np.maximum((end - start) / _DAY, 0.0).to_numpy()
    repeat = deals["is_repeat_customer"].to_numpy(dtype=bool)
    weights = rng.gamma(2.0, 1.0, (n, len(OPEN_STAGES)))
    weights[:, _NEEDS] *= np.where(repeat, NEEDS_ANALYSIS_WEIGHT, 1.0)
    weights[np.arange(len(OPEN_STAGES)) >= reached[:, None]] = 0.0
    last = np.minimum(rng.exponential(NEGOTIATION_DAYS / np.log(2), n), 0.8 * total)
    has_last = reached == len(OPEN_STAGES)
    weights[has_last, _LAST] = 0.0
    rest = total - np.where(has_last, last, 0.0)
    days = weights / weights.sum(axis=1, keepdims=True) * rest[:, None]
    days[has_last, _LAST] = last[has_last]
    offsets = np.cumsum(days, axis=1) - days
    entered = start.to_numpy()[:, None] + (offsets * 86_400e9).astype("timedelta64[ns]")
    first = _first_quotes(deals, repeat, rng)
    deal, rank = np.nonzero(np.arange(len(OPEN_STAGES)) < reached[:, None])
    moved_on = rank + 1 < reached[deal]
    exited = np.full(len(deal), np.datetime64("NaT", "ns"))
    exited[moved_on] = entered[deal[moved_on], rank[moved_on] + 1]
    closed = deals["closed_at"].notna().to_numpy()[deal] & ~moved_on
    exited[closed] = end.to_numpy()[deal[closed]]
    return pd.DataFrame(
        {
            "deal": deal,
            "stage": np.asarray(OPEN_STAGES, dtype=object)[rank],
            "rank": rank,
            "entered_at": entered[deal, rank],
            "exited_at": exited,
            "amount": first[deal],
        }
    )


def _first_quotes(deals: pd.DataFrame, repeat: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The first amount each deal was quoted at: a won deal's final amount plus its discount."""
    amount = deals["amount"].to_numpy(dtype=float)
    base, change = HISTORY_DISCOUNT
    cut = np.clip(base + change * repeat + rng.normal(0, 0.06, len(amount)), 0.0, 0.4)
    won = deals["status"].eq("won").to_numpy()
    return np.round(np.where(won, amount / (1 - cut), amount), 2)


def _rows(world: World, walks: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The history's rows: stage entries, the final amount of won deals, and the close."""
    deals = world.deals
    won = deals["status"].eq("won").to_numpy()
    closed = deals["closed_at"].notna().to_numpy()
    final_amount = deals["amount"].to_numpy(dtype=float)
    last = walks[(walks["rank"] == _LAST) & won[walks["deal"]]]
    stay = (last["exited_at"] - last["entered_at"]) * rng.uniform(0.3, 0.7, len(last))
    change = last.assign(
        entered_at=last["entered_at"] + stay,
        amount=final_amount[last["deal"]],
    )
    ends = walks[walks["exited_at"].notna()].groupby("deal").tail(1)
    ends = ends[closed[ends["deal"]]]
    close = ends.assign(
        stage=np.where(won[ends["deal"]], "Closed Won", "Closed Lost"),
        rank=len(OPEN_STAGES),
        entered_at=ends["exited_at"],
        amount=final_amount[ends["deal"]],
    )
    rows = pd.concat([walks, change, close], ignore_index=True)
    rows = rows.sort_values(["deal", "entered_at", "rank"], kind="stable", ignore_index=True)
    # Each change carries the amount before it (none on a deal's first row).
    rows["prev_amount"] = rows.groupby("deal")["amount"].shift()
    return rows.sort_values(["entered_at", "deal"], kind="stable", ignore_index=True)


def _stamp(values: pd.Series) -> list[str]:
    return values.dt.strftime("%Y-%m-%dT%H:%M:%S.000Z").tolist()


def _money(values: np.ndarray) -> list[str]:
    return ["" if np.isnan(v) else f"{v:.2f}" for v in values.tolist()]


def salesforce_history(world: World, name: str, rng: np.random.Generator, ids) -> Sheet:
    """The world's stage history as a Data Loader export of ``OpportunityHistory``."""
    walks = stage_walks(world, rng)
    rows = _rows(world, walks, rng)
    probability = rows["stage"].map(SALESFORCE_PROBABILITY).to_numpy(dtype=float)
    close = end_dates(world).to_numpy()[rows["deal"]]
    amount = rows["amount"].to_numpy(dtype=float)
    sheet = Sheet.from_columns(
        name,
        {
            "Id": salesforce_ids("008", 3_000_000 + np.arange(len(rows))),
            "OpportunityId": ids.salesforce.take(rows["deal"].to_numpy()),
            "CreatedDate": _stamp(rows["entered_at"]),
            "StageName": rows["stage"].tolist(),
            "Amount": _money(amount),
            "PrevAmount": _money(rows["prev_amount"].to_numpy(dtype=float)),
            "ExpectedRevenue": _money(np.round(amount * probability / 100, 2)),
            "CloseDate": pd.Series(close).dt.strftime("%Y-%m-%d").tolist(),
            "Probability": [f"{p:.0f}" for p in probability.tolist()],
            "ForecastCategory": rows["stage"].map(_FORECAST).tolist(),
            "IsDeleted": ["false"] * len(rows),
        },
        id_column="Id",
        newline="\r\n",
    )
    _soft_deleted(sheet, dirt.count(len(rows), 0.002), rng)
    dirt.duplicate_rows(sheet, dirt.count(len(rows), 0.002), rng)
    return sheet


def _soft_deleted(sheet: Sheet, k: int, rng: np.random.Generator) -> None:
    """Changes that were made and deleted: copies of stage rows with a new id, ``IsDeleted`` true."""
    for n, row in enumerate(sheet.pick(k, rng)):
        new_id = salesforce_ids("008", np.array([2_000_000 + n]))[0].as_py()
        copy = sheet.insert_copy(row, rng)
        sheet.cells[copy] = {sheet.col("Id"): new_id, sheet.col("IsDeleted"): "true"}
        sheet.notes.append(Note(copy, "soft_deleted", "IsDeleted", "true", detail="deleted change"))


def render_history(
    world: World, directory: str | Path, *, seed: int = 0
) -> tuple[Path, pd.DataFrame]:
    """Write the world's stage history next to exports :func:`render_exports` wrote with `seed`.

    The opportunity ids are those of the Salesforce deals export rendered with the same `seed`.

    Returns
    -------
    path : Path
        The file written, :data:`HISTORY_FILE`.
    manifest : DataFrame
        Its dirt, in the columns of ``dirt.csv``.

    Examples
    --------
    >>> import tempfile
    >>> from salesinsight.datasets import simulate_world
    >>> world = simulate_world(n_accounts=20, seed=1)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path, manifest = render_history(world, tmp)
    ...     header = path.read_text().splitlines()[0]
    >>> header.split(",")[:4]
    ['Id', 'OpportunityId', 'CreatedDate', 'StageName']
    >>> sorted(set(manifest["kind"]))
    ['duplicate_row', 'soft_deleted']
    """
    ids = vendor_ids(world, np.random.default_rng(seed))
    sheet = salesforce_history(world, HISTORY_FILE, np.random.default_rng([seed, 21]), ids)
    path = Path(directory) / sheet.name
    with path.open("wb") as file:
        sheet.write(file)
    return path, sheet.manifest()


def history_truth() -> pd.DataFrame:
    """The effects the stage history plants, in the columns of the world's ``truth`` table.

    Examples
    --------
    >>> history_truth()[["claim", "outcome", "value"]].values.tolist()[0]
    ['K2', 'time_in_stage:Needs Analysis', 0.35]
    """
    base, change = HISTORY_DISCOUNT
    return pd.DataFrame(
        [
            (
                "K2",
                "time_in_stage:Needs Analysis",
                "is_repeat_customer",
                "stage_weight",
                "ratio",
                NEEDS_ANALYSIS_WEIGHT,
                "A repeat customer's share of a deal's time spent in Needs Analysis, relative to "
                "others' (the last stage, Negotiation/Review, lasts as long whatever the trust).",
            ),
            (
                "K8",
                "quote_realisation",
                "is_repeat_customer",
                "won_discount",
                "difference",
                change,
                f"Change in a won deal's discount off its first quote for repeat customers "
                f"(base {base:.0%}).",
            ),
        ],
        columns=["claim", "outcome", "proxy", "model", "scale", "value", "description"],
    )
