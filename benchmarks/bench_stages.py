"""The stage-history benchmark: 1M deals through six open stages, read and analysed.

A simulated pipeline (:func:`salesinsight.datasets.stages.simulate_stage_world` with six open
stages) is written as a Salesforce API deals export and an ``OpportunityHistory`` export (one row
per stage entered, plus the close; ``Id, OpportunityId, CreatedDate, StageName, Amount,
Probability, IsDeleted``). Then, in this process, one after the other:

* ``read_export (deals)``: the deals file, for scale (not a target);
* ``read_stage_history``: reading, cleaning and validating the history against the deals;
* ``time_in_stage``: Kaplan-Meier per stage and group, a Cox model of leaving each stage forward
  per stage with errors clustered by account, and the funnel, by ``is_repeat_customer``.

The target is ``read_stage_history`` + ``time_in_stage`` <= 60 s at 1M deals. Run ``python
benchmarks/bench_stages.py [--deals 1000000]``; the table is printed and written to
``benchmarks/results/stages.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from salesinsight.datasets.stages import simulate_stage_world
from salesinsight.export import read_export, read_stage_history
from salesinsight.stats.stages import time_in_stage

HERE = Path(__file__).resolve().parent
STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Proposal/Price Quote",
    "Negotiation/Review",
)
TARGET_S = 60.0


def _stamp(values: pd.Series) -> pa.Array:
    text = values.dt.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    return pa.array(text.where(values.notna(), None), type=pa.string())


def write_files(n_deals: int, folder: Path, seed: int = 0) -> tuple[Path, Path, pd.DataFrame]:
    """The deals and history exports of a simulated pipeline, and the deals' proxy."""
    deals, history = simulate_stage_world(n_deals, seed=seed, stages=STAGES)
    won, closed = deals["status"].eq("won"), deals["status"].ne("open")
    final = history.groupby("deal_id")["stage"].last().reindex(deals["deal_id"]).to_numpy()
    table = pa.table(
        {
            "Id": deals["deal_id"],
            "Name": deals["deal_id"],
            "AccountId": deals["account_id"],
            "OwnerId": deals["owner"],
            "StageName": final,
            "Amount": deals["amount"].round(2),
            "CreatedDate": _stamp(deals["created_at"]),
            "CloseDate": _stamp(
                deals["closed_at"].fillna(deals["created_at"] + pd.Timedelta(90, "D"))
            ),
            "IsWon": np.where(won, "true", "false"),
            "IsClosed": np.where(closed, "true", "false"),
        }
    )
    deals_path = folder / "Opportunity.csv"
    pacsv.write_csv(table, deals_path)
    probability = {s: 10.0 * (k + 1) for k, s in enumerate(STAGES)} | {
        "Closed Won": 100.0,
        "Closed Lost": 0.0,
    }
    rows = pa.table(
        {
            "Id": [f"008{i:09d}" for i in range(len(history))],
            "OpportunityId": history["deal_id"],
            "CreatedDate": _stamp(history["entered_at"]),
            "StageName": history["stage"],
            "Amount": history["amount"].round(2),
            "Probability": history["stage"].map(probability),
            "IsDeleted": np.full(len(history), "false"),
        }
    )
    history_path = folder / "OpportunityHistory.csv"
    pacsv.write_csv(rows, history_path)
    return deals_path, history_path, deals[["deal_id", "is_repeat_customer"]]


def _timed(rows: list[dict], n: int, stage: str, count: int, fn):
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    wall = time.perf_counter() - start
    rows.append(
        {
            "deals": n,
            "stage": stage,
            "rows": count
            if count
            else len(out.stage_history)
            if hasattr(out, "stage_history") and out.stage_history is not None
            else n,
            "wall_s": round(wall, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        }
    )
    return out


def run(n_deals: int, folder: Path) -> list[dict]:
    deals_path, history_path, proxy = write_files(n_deals, folder)
    n_history = sum(1 for _ in history_path.open()) - 1
    rows: list[dict] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export = _timed(
            rows, n_deals, "read_export (deals)", n_deals, lambda: read_export(deals_path)
        )
        export = _timed(
            rows,
            n_deals,
            "read_stage_history",
            n_history,
            lambda: read_stage_history(history_path, export),
        )
        data = export.deals.merge(proxy, on="deal_id")
        result = _timed(
            rows,
            n_deals,
            "time_in_stage",
            len(export.stage_history),
            lambda: time_in_stage(data, export.stage_history, by="is_repeat_customer"),
        )
    total = rows[1]["wall_s"] + rows[2]["wall_s"]
    rows.append(
        {
            "deals": n_deals,
            "stage": "read_stage_history + time_in_stage",
            "rows": n_history,
            "wall_s": round(total, 2),
            "cpu_s": round(rows[1]["cpu_s"] + rows[2]["cpu_s"], 2),
            "peak_mb": rows[2]["peak_mb"],
            "note": f"target <= {TARGET_S:.0f} s; {'met' if total <= TARGET_S else 'missed'}; "
            f"order: {result.order_source}",
        }
    )
    return rows


def write_table(rows: list[dict], out: Path) -> str:
    out.mkdir(parents=True, exist_ok=True)
    columns = ["deals", "stage", "rows", "wall_s", "cpu_s", "peak_mb", "note"]
    with (out / "stages.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows({c: r.get(c, "") for c in columns} for r in rows)
    head = (
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; one run per stage; load average "
        f"{' / '.join(f'{v:.1f}' for v in os.getloadavg())} at the end.\n\n"
    )
    lines = ["| " + " | ".join(columns) + " |", "|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        lines.append(
            f"| {r['deals']:,} | {r['stage']} | {r['rows']:,} | {r['wall_s']:.1f} | "
            f"{r['cpu_s']:.1f} | {r['peak_mb']:,} | {r.get('note', '')} |"
        )
    text = head + "\n".join(lines) + "\n"
    (out / "stages.md").write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        rows = run(args.deals, Path(folder))
    print(write_table(rows, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
