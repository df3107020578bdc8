"""Time ``read_export`` on a large Salesforce report next to the pyarrow parsing floor.

Writes N Salesforce-style opportunity rows (a "Details Only" report: quoted labels, ``$22,700.00``
amounts, ``M/D/YYYY`` dates, CRLF line ends, the report footer, a few duplicates and test
records), then measures in fresh subprocesses, so that each peak-memory figure is its own:

* ``pyarrow.csv.read_csv`` of the file (the floor: parsing alone, no cleaning), and
* ``salesinsight.read_export`` (reading, detection, cleaning, ledger, validation).

Run: ``python benchmarks/bench_read.py [--rows 1000000] [--repeat 3]``. Targets: read_export within
3x the floor's time and its peak memory within 4x the file size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

HEADERS = [
    "Opportunity Owner",
    "Account Name",
    "Opportunity Name",
    "Stage",
    "Amount",
    "Probability (%)",
    "Close Date",
    "Created Date",
    "Lead Source",
    "Type",
    "Fiscal Period",
]
STAGES = np.array(
    ["Closed Won", "Closed Lost", "Prospecting", "Qualification", "Negotiation/Review"]
)
SOURCES = np.array(["Web", "Partner Referral", "Cold Call", "Trade Show", "Existing Customer"])
TYPES = np.array(["New Business", "Existing Business"])


def _dates(days: np.ndarray) -> pa.Array:
    stamps = pa.array(np.datetime64("2018-01-01") + days.astype("timedelta64[D]"))
    month = pc.cast(pc.month(stamps), pa.string())
    day = pc.cast(pc.day(stamps), pa.string())
    year = pc.cast(pc.year(stamps), pa.string())
    return pc.binary_join_element_wise(month, day, year, "/")


def _money(amounts: np.ndarray) -> pa.Array:
    cents = np.round(amounts * 100).astype(np.int64)
    whole, frac = cents // 100, cents % 100
    groups = []
    while True:
        groups.append(whole % 1000)
        whole = whole // 1000
        if not (whole > 0).any():
            break
    n_groups = np.ones(len(cents), dtype=int)
    for k in range(1, len(groups)):
        n_groups += np.any(np.stack(groups[k:]) > 0, axis=0)
    body = pc.cast(pa.array(groups[-1]), pa.string())
    for k in range(len(groups) - 2, -1, -1):
        text = pc.cast(pa.array(groups[k]), pa.string())
        inner = pc.binary_join_element_wise(body, pc.utf8_lpad(text, 3, "0"), ",")
        body = pc.if_else(pa.array(n_groups > k + 1), inner, text)
    cents_text = pc.utf8_lpad(pc.cast(pa.array(frac), pa.string()), 2, "0")
    return pc.binary_join_element_wise("$", pc.binary_join_element_wise(body, cents_text, "."), "")


def write_report(path: Path, n: int, seed: int = 0) -> int:
    """Write ``n`` data rows plus a footer; returns the number of data rows including the footer."""
    rng = np.random.default_rng(seed)
    accounts = rng.integers(0, max(n // 20, 1), n)
    created = rng.integers(0, 2500, n)
    cycle = rng.gamma(2.0, 40.0, n).astype(int) + 1
    stage = STAGES[rng.integers(0, len(STAGES), n)]
    columns = {
        "Opportunity Owner": pc.binary_join_element_wise(
            "Rep ", pc.cast(pa.array(rng.integers(0, 200, n)), pa.string()), ""
        ),
        "Account Name": pc.binary_join_element_wise(
            "Account ", pc.cast(pa.array(accounts), pa.string()), ""
        ),
        "Opportunity Name": pc.binary_join_element_wise(
            "Deal ", pc.cast(pa.array(np.arange(n)), pa.string()), ""
        ),
        "Stage": pa.array(stage),
        "Amount": _money(np.exp(rng.normal(9.5, 1.0, n))),
        "Probability (%)": pa.array(np.where(stage == "Closed Won", "100", "40")),
        "Close Date": _dates(created + cycle),
        "Created Date": _dates(created),
        "Lead Source": pa.array(SOURCES[rng.integers(0, len(SOURCES), n)]),
        "Type": pa.array(TYPES[rng.integers(0, 2, n)]),
        "Fiscal Period": pc.binary_join_element_wise(
            "Q", pc.cast(pa.array(rng.integers(1, 5, n)), pa.string()), "-2024", ""
        ),
    }
    table = pa.table(columns)
    dup = rng.choice(n, size=max(n // 1000, 1), replace=False)
    table = pa.concat_tables([table, table.take(pa.array(dup))])
    with path.open("wb") as out:
        out.write((",".join(f'"{h}"' for h in HEADERS) + "\r\n").encode())
        step = 200_000
        for start in range(0, table.num_rows, step):
            part = table.slice(start, step)
            quoted = [
                pc.binary_join_element_wise('"', pc.replace_substring(c, '"', '""'), '"', "")
                for c in part.columns
            ]
            lines = pc.binary_join_element_wise(*quoted, ",")
            out.write(("\r\n".join(lines.to_pylist()) + "\r\n").encode())
        footer = (
            f'\r\n"Grand Totals ({table.num_rows} records)"\r\n\r\n'
            '"Confidential Information - Do Not Distribute"\r\n'
            '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\r\n'
        )
        out.write(footer.encode())
    return table.num_rows + 5


_CHILD = """
import json, sys, time, warnings
path, what = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if what == "pyarrow":
    import pyarrow.csv as pcsv
    t0, c0 = time.perf_counter(), time.process_time()
    table = pcsv.read_csv(
        path,
        parse_options=pcsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
    )
    rows = table.num_rows
else:
    from salesinsight.export import read_export
    warnings.simplefilter("ignore")
    t0, c0 = time.perf_counter(), time.process_time()
    export = read_export(path)
    rows = len(export.deals)
seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) * 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_bytes": peak, "rows": rows}))
"""

_BASELINE = """
import json, sys
if sys.argv[1] == "pyarrow":
    import pyarrow.csv
else:
    import salesinsight.export
status = open("/proc/self/status").read()
print(json.dumps({"peak_bytes": int(status.split("VmHWM:")[1].split()[0]) * 1024}))
"""


def _run(code: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report1718000000000.csv"
        t0 = time.perf_counter()
        n_rows = write_report(path, args.rows)
        size = path.stat().st_size
        print(
            f"wrote {n_rows:,} data rows, {size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s"
        )
        base = {what: _run(_BASELINE, what)["peak_bytes"] for what in ("pyarrow", "read_export")}
        results = {}
        for what in ("pyarrow", "read_export"):
            runs = [_run(_CHILD, str(path), what) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            results[what] = {
                "seconds": best["seconds"],
                "cpu": min(r["cpu"] for r in runs),
                "peak_bytes": max(r["peak_bytes"] for r in runs),
                "rows": best["rows"],
            }
    floor = results["pyarrow"]["seconds"]
    cpu_floor = results["pyarrow"]["cpu"]
    print(
        f"\n{'reader':<14}{'rows':>12}{'seconds':>10}{'x floor':>10}{'cpu s':>8}{'x floor':>9}"
        f"{'peak MB':>10}{'x file':>9}"
    )
    for what, r in results.items():
        extra = r["peak_bytes"] - base[what]
        print(
            f"{what:<14}{r['rows']:>12,}{r['seconds']:>10.2f}{r['seconds'] / floor:>10.2f}"
            f"{r['cpu']:>8.2f}{r['cpu'] / cpu_floor:>9.2f}"
            f"{r['peak_bytes'] / 1e6:>10.0f}{extra / size:>9.2f}"
        )
    print(
        f"\nfile {size / 1e6:.1f} MB; x file counts peak memory above what importing the "
        "libraries takes; seconds are wall-clock (best run), cpu s the process's "
        "CPU time (all threads). Targets: x floor <= 3, x file <= 4."
    )


if __name__ == "__main__":
    main()
