"""The warehouse benchmark: engagement counts of 1M deals over 100M tasks, inside DuckDB.

A DuckDB file in the Salesforce connector's layout is generated inside the engine, never in
pandas: ``opportunity`` (``--deals``, history-mode and delete columns), ``task`` (``--tasks``, on
random deals, calls, emails and to-dos from 5 days before to 120 days after the deal's creation,
one in a thousand soft-deleted, one in a hundred on an account rather than a deal) and ``event``
(``--tasks / 20`` meetings), with an ``account`` (one per five deals) and a ``user`` table
(200 owners). Then each stage runs in a fresh Python process, so that its peak
memory (``ru_maxrss``, DuckDB's buffers included) is its own:

* ``generate``: writing the file (reported for scale, not a target);
* ``engagement (deals in engine)``: :func:`~salesinsight.clean.warehouse_activities.warehouse_activities`
  and :func:`~salesinsight.features.engagement_sql.engagement_counts` with the deals taken from
  the ``opportunity`` table in the engine: one query, one row per deal fetched;
* ``fetch deals``: the current opportunities' id and creation time into pandas, as reading the
  deals of a warehouse would;
* ``engagement (deals from pandas)``: the same counts for a DataFrame of deals, sent to the
  engine as a temporary table, as ``trust_features`` on a warehouse's cleaned deals would;
* ``read_warehouse + trust_features``: the whole path an analyst runs, from the file to one row
  of features per deal (the target: 5 minutes and 6 GB at 1M deals and 100M tasks).

Each stage after ``generate`` runs ``--repeat`` times (default 3) and the quickest run counts:
the first run reads the file from disk, later ones from the system's cache. DuckDB runs with
``--threads`` threads and a ``--memory-limit`` (it spills to a temporary folder
beside the file past it). The file is written under ``--dir`` (default: the system's temporary
folder) and deleted afterwards unless ``--keep``. Run ``python benchmarks/bench_warehouse.py
[--deals 1000000] [--tasks 100000000] [--quick]``; the table is printed and written to
``benchmarks/results/warehouse.md`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
COLUMNS = ["deals", "stage", "rows", "wall_s", "cpu_s", "rows_per_s", "peak_mb", "note"]
START = "2021-01-01"
SPAN_SECONDS = 4 * 365 * 86_400


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _settings(con: Any, args: argparse.Namespace, path: Path) -> None:
    spill = path.with_name(path.name + ".spill")
    con.execute(f"SET threads = {int(args.threads)}")
    con.execute(f"SET memory_limit = '{args.memory_limit}'")
    con.execute(f"SET temp_directory = '{spill}'")
    con.execute("SET preserve_insertion_order = false")


def generate(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Write the file with DuckDB's own SQL: the deals' creation times are a hash of their number,
    so that the tasks can be dated around them without a join."""
    import duckdb

    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    _settings(con, args, path)
    created = f"TIMESTAMP '{START}' + to_seconds((hash(d) % {SPAN_SECONDS})::BIGINT)"
    con.execute("CREATE SCHEMA salesforce")
    con.execute(
        f"""
        CREATE TABLE salesforce.opportunity AS
        SELECT '006' || lpad(d::VARCHAR, 15, '0') AS id,
               {created} AS created_date,
               '001' || lpad((hash(d * 5) % {max(1, int(args.deals) // 5)})::VARCHAR, 15, '0')
                   AS account_id,
               '005' || lpad((d % 200)::VARCHAR, 15, '0') AS owner_id,
               'Prospecting' AS stage_name, false AS is_closed, false AS is_won,
               (hash(d * 3) % 100000)::DOUBLE AS amount,
               ({created})::DATE + 90 AS close_date,
               d % 1000 = 0 AS is_deleted, false AS _fivetran_deleted, true AS _fivetran_active,
               TIMESTAMP '{START}' + INTERVAL 5 YEAR AS _fivetran_synced
        FROM range({int(args.deals)}) t(d)
        """
    )
    con.execute(
        f"""
        CREATE TABLE salesforce.account AS
        SELECT '001' || lpad(a::VARCHAR, 15, '0') AS id, 'Account ' || a AS name,
               (10 + hash(a) % 5000)::INTEGER AS number_of_employees, false AS is_deleted
        FROM range({max(1, int(args.deals) // 5)}) t(a)
        """
    )
    con.execute(
        """
        CREATE TABLE salesforce.user AS
        SELECT '005' || lpad(u::VARCHAR, 15, '0') AS id, 'Rep ' || u AS name, false AS is_deleted
        FROM range(200) t(u)
        """
    )
    activity = f"""
        SELECT '{{prefix}}' || lpad(i::VARCHAR, 15, '0') AS id,
               CASE WHEN i % 100 = 7 THEN '001' ELSE '006' END
                   || lpad(d::VARCHAR, 15, '0') AS what_id,
               {created} + to_seconds((hash(i * 7) % (125 * 86400))::BIGINT - 5 * 86400)
                   AS occurred_at,
               hash(i * 11) % 10 AS pick,
               i % 1000 = 3 AS is_deleted
        FROM (SELECT i, hash(i) % {int(args.deals)} AS d FROM range({{n}}) t(i))
    """
    con.execute(
        f"""
        CREATE TABLE salesforce.task AS
        SELECT id, what_id,
               CASE WHEN pick < 4 THEN 'Call' WHEN pick < 8 THEN 'Email' ELSE 'Task' END
                   AS task_subtype,
               CASE WHEN pick < 4 THEN 'Call' WHEN pick < 8 THEN 'Email' ELSE 'To-Do' END AS type,
               occurred_at AS completed_date_time, occurred_at::DATE AS activity_date,
               is_deleted, TIMESTAMP '{START}' + INTERVAL 5 YEAR AS _fivetran_synced
        FROM ({activity.format(prefix="00T", n=int(args.tasks))})
        """
    )
    con.execute(
        f"""
        CREATE TABLE salesforce.event AS
        SELECT id, what_id, 'Meeting' AS type, occurred_at AS start_date_time,
               occurred_at::DATE AS activity_date, false AS is_child, is_deleted,
               TIMESTAMP '{START}' + INTERVAL 5 YEAR AS _fivetran_synced
        FROM ({activity.format(prefix="00U", n=int(args.tasks) // 20)})
        """
    )
    con.execute("CHECKPOINT")
    con.close()
    size = path.stat().st_size
    return {"rows": int(args.tasks) + int(args.deals), "note": f"file {size / 2**30:.1f} GiB"}


def _engine(path: Path, args: argparse.Namespace) -> Any:
    from salesinsight.io.warehouse.engine import connect

    con = connect(path)
    _settings(con.con, args, path)
    return con


def _deals_in_engine(con: Any) -> Any:
    from salesinsight.io.warehouse.conventions import current_rows
    from salesinsight.io.warehouse.engine import open_table
    from salesinsight.io.warehouse.layout import table_layout

    table = open_table(con, "opportunity", schema="salesforce")
    live = current_rows(table, table_layout("salesforce", "opportunity"))
    return live.select(deal_id=live["id"], created_at=live["created_date"])


def engagement_in_engine(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    from salesinsight.clean.warehouse_activities import warehouse_activities
    from salesinsight.features.engagement_sql import engagement_counts

    con = _engine(path, args)
    counts = engagement_counts(_deals_in_engine(con), warehouse_activities(con))
    total = int(counts["activities_30d"].sum())
    return {"rows": len(counts), "note": f"{total:,} activities in the 30-day windows"}


def fetch_deals(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    con = _engine(path, args)
    deals = con.to_pyarrow(_deals_in_engine(con)).to_pandas()
    return {
        "rows": len(deals),
        "note": f"{deals.memory_usage(deep=True).sum() / 2**20:,.1f} MB in pandas",
    }


def engagement_from_pandas(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    from salesinsight.clean.warehouse_activities import warehouse_activities
    from salesinsight.features.engagement_sql import engagement_counts

    con = _engine(path, args)
    deals = con.to_pyarrow(_deals_in_engine(con)).to_pandas()
    start = time.perf_counter()
    counts = engagement_counts(deals, warehouse_activities(con))
    took = time.perf_counter() - start
    return {"rows": len(counts), "note": f"{took:.1f} s of it after the deals were fetched"}


def read_and_features(path: Path, args: argparse.Namespace) -> dict[str, Any]:
    """What an analyst runs: ``read_warehouse`` (deals cleaned in pandas, the ledger of every
    table, activities kept in the engine) then ``trust_features`` (engagement counted there)."""
    import warnings

    import duckdb

    import salesinsight

    con = duckdb.connect(str(path), read_only=True)
    _settings(con, args, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        export = salesinsight.read_warehouse(con, schema="salesforce")
        read = time.perf_counter() - start
        data = salesinsight.trust_features(export.deals, export.activities)
    dropped = int(export.ledger["action"].eq("dropped").sum())
    return {
        "rows": len(data),
        "note": f"read_warehouse {read:.0f} s ({dropped:,} ledger rows), then trust_features; "
        f"{int(data['activities_30d'].sum()):,} activities in the 30-day windows",
    }


STAGES = {
    "generate": generate,
    "engagement (deals in engine)": engagement_in_engine,
    "fetch deals": fetch_deals,
    "engagement (deals from pandas)": engagement_from_pandas,
    "read_warehouse + trust_features": read_and_features,
}


def _run_stage(name: str, path: Path, args: argparse.Namespace) -> None:
    """In the child process: run one stage, print its figures as JSON."""
    wall, cpu = time.perf_counter(), _cpu()
    out = STAGES[name](path, args)
    out.update(wall_s=time.perf_counter() - wall, cpu_s=_cpu() - cpu, peak_mb=_peak_mb())
    print(json.dumps(out))


def _child(name: str, path: Path, argv: list[str]) -> dict[str, Any]:
    command = [sys.executable, __file__, *argv, "--stage", name, "--path", str(path)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _wall(figures: dict[str, Any]) -> float:
    return figures["wall_s"]


def _row(deals: int, stage: str, figures: dict[str, Any]) -> dict[str, Any]:
    return {
        "deals": f"{deals:,}",
        "stage": stage,
        "rows": f"{figures['rows']:,}",
        "wall_s": f"{figures['wall_s']:.1f}",
        "cpu_s": f"{figures['cpu_s']:.1f}",
        "rows_per_s": f"{figures['rows'] / max(figures['wall_s'], 1e-9):,.0f}",
        "peak_mb": f"{figures['peak_mb']:,.0f}",
        "note": figures["note"],
    }


def _write(rows: list[dict[str, Any]], header: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    lines = [header, "", "| " + " | ".join(COLUMNS) + " |"]
    lines.append(
        "|" + "|".join("---:" if c not in ("stage", "note") else "---" for c in COLUMNS) + "|"
    )
    lines += ["| " + " | ".join(str(r[c]) for c in COLUMNS) + " |" for r in rows]
    (out / "warehouse.md").write_text("\n".join(lines) + "\n")
    with (out / "warehouse.csv").open("w", newline="") as file:
        writer = csv.DictWriter(file, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print("\n".join(lines))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--tasks", type=int, default=100_000_000)
    parser.add_argument("--quick", action="store_true", help="100k deals, 10M tasks")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB's memory limit")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--keep", action="store_true", help="keep the generated file")
    parser.add_argument(
        "--file", type=Path, help="a file an earlier run generated (--keep): skip generate"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each stage after generate; the quickest counts",
    )
    parser.add_argument("--stage", choices=list(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser().parse_args(argv)
    if args.quick:
        args.deals, args.tasks = 100_000, 10_000_000
    if args.stage:
        _run_stage(args.stage, args.path, args)
        return 0
    settings = [
        f"--deals={args.deals}",
        f"--tasks={args.tasks}",
        f"--threads={args.threads}",
        f"--memory-limit={args.memory_limit}",
    ]
    folder = Path(tempfile.mkdtemp(prefix="salesinsight-warehouse-", dir=args.dir))
    path = folder / "crm.duckdb" if args.file is None else args.file
    rows = []
    try:
        for stage in STAGES:
            if stage == "generate" and args.file is not None:
                continue
            runs = 1 if stage == "generate" else max(1, args.repeat)
            figures = min((_child(stage, path, settings) for _ in range(runs)), key=_wall)
            rows.append(_row(args.deals, stage, figures))
            print(
                f"{stage}: {figures['wall_s']:.1f} s, peak {figures['peak_mb']:,.0f} MB", flush=True
            )
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    import duckdb
    import ibis

    header = (
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, DuckDB {duckdb.__version__} "
        f"({args.threads} threads, memory limit {args.memory_limit}), ibis {ibis.__version__}, "
        f"Python {platform.python_version()}; quickest of {args.repeat} runs per stage after "
        "generate; load average "
        f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())} at the end."
    )
    _write(rows, header, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
