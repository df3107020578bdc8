"""The benchmark table: every stage of the kit at 10k, 100k and 1M deals, next to its floors.

For each size a simulated world (``simulate_world``, ten activities per deal) is rendered as dirty
vendor exports (``render_exports``; kept under ``benchmarks/.data`` for the next run), and the
Salesforce opportunities and activities reports are put through each stage in a fresh Python
process, so that each peak-memory figure (``ru_maxrss``) belongs to one stage:

* ``pyarrow floor``: ``pyarrow.csv.read_csv`` of the same two files (parsing only: no detection,
  cleaning, ledger or validation), the floor ``read_export`` is compared with;
* ``read_export``: reading, detection, cleaning, ledger and validation of both files (after
  reading the first 50 lines of each once, so that its peak memory above the start is what the
  data took, not modules loaded on first use);
* ``trust_features``: proxies, engagement windows, controls and outcomes of every deal, from the
  cleaned tables;
* ``naive features``: the same proxies and engagement counts written as per-account / per-owner /
  per-deal ``groupby().apply`` (``bench_features.naive_features``), timed on whole accounts
  drawn at random (about ``--naive-sample`` deals) and extrapolated linearly; its owner groups
  are smaller in the sample, so the extrapolation flatters it;
* ``evaluate_claims``: every claim, naive and controlled, on the features table;
* ``report (no notebooks)``: what ``salesinsight report`` does besides running the notebooks:
  ``load_analysis`` on the two files, then ``write_report(..., notebooks=False)``, which
  evaluates the claims once (``Analysis.scorecard``) and writes the scorecard, ledger and deals
  files and the index page;
* ``deals-only export`` and ``report with notebooks`` run on a deals-only export (the
  opportunities report of a world simulated with a tenth of an activity per deal, kept under
  ``deals-only-N``; many exports come without activities): ``read_export`` of that one file,
  timed in the same process right after pandas' bare ``read_csv(dtype=str)`` of it (the
  comparison it is held to: the quickest ``read_export`` against pandas' quickest run, as
  pandas' first large read in a process waits on page faults by chance), and the whole
  ``salesinsight report`` command on it, notebooks included (its CPU time is that of the
  command and every kernel; its peak memory is that of the largest process, the command or a
  kernel, with the command's own peak in the note).

Wall time is affected by whatever else runs on the machine; CPU time (user + system, all threads)
less so; with ``--repeat N`` each stage runs N times and the quickest run is reported (the floor
and ``read_export`` in turns, so that the machine's drift weighs on both alike); a stage whose
runs all take under a second runs at least seven times, as the start-up of a fresh process makes
quick runs the noisiest. ``per 10x`` is
the growth of the wall time from the previous size scaled to ten times the deals (``x10`` is
linear). Run ``python benchmarks/run.py [--sizes 10000,100000,1000000]
[--quick]``; the table is printed and written to ``benchmarks/results/`` as Markdown and CSV.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import pickle
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
QUICK_SIZES = (10_000, 100_000)
ACTIVITIES_PER_DEAL = 10.0
# Deals per account of simulate_world's defaults (four years), to aim at a number of deals.
DEALS_PER_ACCOUNT = 2.94
NAIVE_SAMPLE = 20_000
#: A stage whose runs all take under QUICK_S seconds runs at least QUICK_REPEAT times.
QUICK_S = 1.0
QUICK_REPEAT = 7
STAGES = (
    "pyarrow floor",
    "read_export",
    "trust_features",
    "naive features",
    "evaluate_claims",
    "report (no notebooks)",
    "deals-only export",
    "report with notebooks",
)
#: Stages run on a deals-only export rather than the world with ten activities per deal.
DEALS_ONLY = ("deals-only export", "report with notebooks")
DEALS_ONLY_ACTIVITIES = 0.1
COLUMNS = [
    "deals",
    "stage",
    "rows",
    "wall_s",
    "cpu_s",
    "rows_per_s",
    "peak_mb",
    "x_floor",
    "speedup",
    "per_10x",
    "note",
]


# ---------------------------------------------------------------- stages, each in its own process


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _huge_pages() -> int | None:
    """Bytes of this process's memory in transparent huge pages (Linux), else ``None``."""
    try:
        with open("/proc/self/smaps_rollup") as file:
            for line in file:
                if line.startswith("AnonHugePages:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(work: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    start_rss, start_huge = _peak_bytes(), _huge_pages()
    wall, cpu = time.perf_counter(), _cpu()
    result = work()
    figures = {
        "wall_s": time.perf_counter() - wall,
        "cpu_s": _cpu() - cpu,
        "peak_bytes": _peak_bytes(),
        "start_bytes": start_rss,
    }
    end_huge = _huge_pages()
    if start_huge is not None and end_huge is not None:
        # Memory the allocator took in 2 MB pages, however little of each it uses.
        figures["huge_bytes"] = end_huge - start_huge
    return figures, result


def _load(path: Path) -> Any:
    with path.open("rb") as file:
        return pickle.load(file)


def _save(value: Any, path: Path) -> None:
    with path.open("wb") as file:
        pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)


def _exports(data: Path) -> list[Path]:
    names = json.loads((data / "world.json").read_text())["files"]
    return [data / names["salesforce_deals"], data / names["salesforce_activities"]]


def stage_world(
    data: Path, n_deals: int, activities_per_deal: float = ACTIVITIES_PER_DEAL
) -> dict[str, Any]:
    """Simulate and render a world of about `n_deals` deals into `data`."""
    from salesinsight.datasets import render_exports, simulate_world

    accounts = max(1, round(n_deals / DEALS_PER_ACCOUNT))
    t0 = time.perf_counter()
    world = simulate_world(n_accounts=accounts, activities_per_deal=activities_per_deal, seed=0)
    simulated = time.perf_counter() - t0
    t0 = time.perf_counter()
    paths = render_exports(world, data, seed=0)
    rendered = time.perf_counter() - t0
    return {
        "target": n_deals,
        "accounts": accounts,
        "deals": len(world.deals),
        "activities": len(world.activities),
        "simulate_s": simulated,
        "render_s": rendered,
        "files": {key: path.name for key, path in paths.items()},
        "bytes": {key: path.stat().st_size for key, path in paths.items()},
    }


def stage_floor(data: Path) -> dict[str, Any]:
    import pyarrow.csv as pcsv

    def read() -> int:
        rows = 0
        for path in _exports(data):
            table = pcsv.read_csv(
                path,
                read_options=pcsv.ReadOptions(encoding="cp1252"),
                parse_options=pcsv.ParseOptions(invalid_row_handler=lambda row: "skip"),
            )
            rows += table.num_rows
        return rows

    figures, rows = _measure(read)
    return {**figures, "rows": rows}


def _warm_up(paths: list[Path]) -> None:
    """Read the first rows of each file once, so that modules loaded on first use (the cleaner,
    pandera's backends, ftfy) are not counted as memory the data took."""
    from salesinsight.export import read_export

    with tempfile.TemporaryDirectory() as tmp:
        heads = []
        for path in paths:
            head = Path(tmp) / path.name
            with path.open("rb") as source:
                head.write_bytes(b"".join(source.readline() for _ in range(50)))
            heads.append(head)
        read_export(heads)


def stage_read_export(data: Path) -> dict[str, Any]:
    from salesinsight.export import read_export

    warnings.simplefilter("ignore")
    _warm_up(_exports(data))
    figures, export = _measure(lambda: read_export(_exports(data)))
    _save((export.deals, export.activities), data / "export.pkl")
    rows = int(export.files["rows_read"].sum())
    return {
        **figures,
        "rows": rows,
        "deals": len(export.deals),
        "activities": len(export.activities),
        "ledger": len(export.ledger),
    }


def stage_features(data: Path) -> dict[str, Any]:
    from salesinsight.features.trust import trust_features

    warnings.simplefilter("ignore")
    deals, activities = _load(data / "export.pkl")
    figures, features = _measure(lambda: trust_features(deals, activities))
    _save(features, data / "features.pkl")
    return {**figures, "rows": len(deals), "activities": len(activities)}


def stage_naive(data: Path, sample: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from bench_features import account_subsample, check_naive, naive_features

    from salesinsight.features.trust import trust_features

    warnings.simplefilter("ignore")
    deals, activities = _load(data / "export.pkl")
    total = len(deals)
    deals, activities = account_subsample(deals, activities, sample)
    figures, naive = _measure(lambda: naive_features(deals, activities))
    check_naive(naive, trust_features(deals, activities))
    scale = total / len(deals)
    return {
        **figures,
        "measured_s": figures["wall_s"],
        "wall_s": figures["wall_s"] * scale,
        "cpu_s": figures["cpu_s"] * scale,
        "rows": total,
        "sample": len(deals),
    }


def stage_claims(data: Path) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from salesinsight.claims.evaluate import evaluate_claims

    warnings.simplefilter("ignore")
    features = _load(data / "features.pkl")
    figures, card = _measure(lambda: evaluate_claims(features))
    return {**figures, "rows": len(features), "tests": len(card.table)}


def stage_report(data: Path) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    from salesinsight.report.analysis import load_analysis
    from salesinsight.report.folder import write_report

    warnings.simplefilter("ignore")
    out = Path(tempfile.mkdtemp(prefix="report-", dir=data))

    def run() -> Any:
        # As `salesinsight report` does it, less the notebooks: write_report evaluates the claims.
        analysis = load_analysis([str(p) for p in _exports(data)])
        write_report(analysis, out, force=True, notebooks=False)
        return analysis

    figures, analysis = _measure(run)
    shutil.rmtree(out, ignore_errors=True)
    return {**figures, "rows": analysis.row_counts()["read"]}


def stage_deals_only(data: Path) -> dict[str, Any]:
    import pandas as pd

    from salesinsight.export import read_export

    warnings.simplefilter("ignore")
    deals = _exports(data)[0]
    _warm_up([deals])
    pandas, _ = _measure(lambda: pd.read_csv(deals, dtype=str, encoding="cp1252"))
    figures, export = _measure(lambda: read_export(deals))
    rows = int(export.files["rows_read"].sum())
    return {**figures, "rows": rows, "pandas_s": pandas["wall_s"], "pandas_cpu_s": pandas["cpu_s"]}


def stage_report_notebooks(data: Path) -> dict[str, Any]:
    deals = _exports(data)[0]
    out = Path(tempfile.mkdtemp(prefix="report-", dir=data))
    command = [sys.executable, "-m", "salesinsight", "report", str(deals), "--out", str(out)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    done = subprocess.run([*command, "--force"], capture_output=True, text=True)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    lines = [line.split("salesinsight: ", 1)[-1] for line in done.stderr.splitlines()]
    shutil.rmtree(out, ignore_errors=True)
    return {
        "wall_s": wall,
        "cpu_s": after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime,
        "peak_bytes": after.ru_maxrss * 1024,
        "rows": int(json.loads((data / "world.json").read_text())["deals"]),
        "progress": [line for line in lines if " done in " in line],
    }


def _child(stage: str, data: Path, options: dict[str, Any]) -> dict[str, Any]:
    runners: dict[str, Callable[[], dict[str, Any]]] = {
        "world": lambda: stage_world(
            data, options["deals"], options.get("activities_per_deal", ACTIVITIES_PER_DEAL)
        ),
        "pyarrow floor": lambda: stage_floor(data),
        "read_export": lambda: stage_read_export(data),
        "trust_features": lambda: stage_features(data),
        "naive features": lambda: stage_naive(data, options["naive_sample"]),
        "evaluate_claims": lambda: stage_claims(data),
        "report (no notebooks)": lambda: stage_report(data),
        "deals-only export": lambda: stage_deals_only(data),
        "report with notebooks": lambda: stage_report_notebooks(data),
    }
    return runners[stage]()


def run_stage(
    stage: str, data: Path, *, timeout: float | None = None, **options: Any
) -> dict[str, Any]:
    """Run one stage in a fresh interpreter; its figures, or an ``error``."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        stage,
        "--data",
        str(data),
        "--options",
        json.dumps(options),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:.0f} s"}
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"failed: {last}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------------- the table


def world_for(
    n_deals: int, data_root: Path, *, timeout: float | None, deals_only: bool = False
) -> tuple[Path, dict]:
    """The rendered world of about `n_deals` deals, made once and kept in `data_root`."""
    data = data_root / (f"deals-only-{n_deals}" if deals_only else f"deals-{n_deals}")
    marker = data / "world.json"
    if marker.is_file():
        info = json.loads(marker.read_text())
        if info.get("target") == n_deals and all(
            (data / f).is_file() for f in info["files"].values()
        ):
            return data, info
    data.mkdir(parents=True, exist_ok=True)
    per_deal = DEALS_ONLY_ACTIVITIES if deals_only else ACTIVITIES_PER_DEAL
    info = run_stage("world", data, timeout=timeout, deals=n_deals, activities_per_deal=per_deal)
    if "error" in info:
        raise RuntimeError(f"simulating {n_deals:,} deals {info['error']}")
    marker.write_text(json.dumps(info, indent=1))
    return data, info


def _row(n_deals: int, stage: str, figures: dict[str, Any], note: str = "") -> dict[str, Any]:
    if "error" in figures:
        return {"deals": n_deals, "stage": stage, "note": figures["error"]}
    return {
        "deals": n_deals,
        "stage": stage,
        "rows": figures["rows"],
        "wall_s": figures["wall_s"],
        "cpu_s": figures["cpu_s"],
        "rows_per_s": figures["rows"] / figures["wall_s"] if figures["wall_s"] > 0 else math.nan,
        "peak_mb": figures["peak_bytes"] / 2**20 if "peak_bytes" in figures else math.nan,
        "note": note,
    }


def enough_runs(runs: list[dict[str, Any]], repeat: int, quick_repeat: int = QUICK_REPEAT) -> bool:
    """Whether a stage has run often enough: `repeat` times, and at least `quick_repeat` times
    while every run took under :data:`QUICK_S` seconds (the start-up of a fresh process weighs
    most on quick runs, and differs most between them).

    Examples
    --------
    >>> enough_runs([{"wall_s": 5.0}], 1), enough_runs([{"wall_s": 0.1}] * 3, 3)
    (True, False)
    """
    quick = all("error" not in r and r["wall_s"] < QUICK_S for r in runs)
    return len(runs) >= max(repeat, quick_repeat if quick else 1)


def measure_size(
    n_deals: int,
    data_root: Path,
    *,
    naive_sample: int,
    timeout: float | None,
    progress: Callable[[str], None],
    stages: tuple[str, ...] = STAGES,
    repeat: int = 1,
    quick_repeat: int = QUICK_REPEAT,
) -> list[dict[str, Any]]:
    worlds = {
        only: world_for(n_deals, data_root, timeout=timeout, deals_only=only)
        for only in sorted({s in DEALS_ONLY for s in stages})
    }
    for data, world in worlds.values():
        deals_mb = world["bytes"]["salesforce_deals"] / 2**20
        acts_mb = world["bytes"]["salesforce_activities"] / 2**20
        progress(
            f"{world['deals']:,} deals, {world['activities']:,} activities "
            f"(files {deals_mb:,.0f} + {acts_mb:,.0f} MB) in {data.name}"
        )
    _, world = worlds.get(False) or worlds[True]
    deals_mb = world["bytes"]["salesforce_deals"] / 2**20
    acts_mb = world["bytes"]["salesforce_activities"] / 2**20

    def where(stage: str) -> Path:
        return worlds[stage in DEALS_ONLY][0]

    results: dict[str, dict[str, Any]] = {}
    # The floor and read_export are run in turns (floor, read, floor, read, ...), so that a
    # machine growing slower or quicker during the runs weighs on both alike.
    paired = [s for s in stages if s in ("pyarrow floor", "read_export")]
    all_runs: dict[str, list[dict[str, Any]]] = {s: [] for s in stages}
    while paired and not all(enough_runs(all_runs[s], repeat, quick_repeat) for s in paired):
        for stage in paired:
            all_runs[stage].append(
                run_stage(stage, where(stage), timeout=timeout, naive_sample=naive_sample)
            )
    for stage in stages:
        runs = all_runs[stage]
        while not enough_runs(runs, repeat, quick_repeat):
            runs.append(run_stage(stage, where(stage), timeout=timeout, naive_sample=naive_sample))
        done = [r for r in runs if "error" not in r]
        # The quickest run: the one least disturbed by whatever else the machine was doing.
        results[stage] = figures = min(done, key=lambda r: r["wall_s"]) if done else runs[-1]
        if stage == "deals-only export" and done:
            results[stage] = figures = with_steady_pandas(figures, done)
        shown = figures.get("error") or (
            f"{figures['wall_s']:.2f} s, CPU {figures['cpu_s']:.2f} s, "
            f"peak {figures['peak_bytes'] / 2**20:,.0f} MB"
        )
        progress(f"  {stage}: {shown}")
    file_mb = deals_mb + acts_mb
    rows = []
    floor, read = results.get("pyarrow floor", {}), results.get("read_export", {})
    for stage in stages:
        figures = results[stage]
        note = ""
        if stage in ("pyarrow floor", "read_export") and "peak_bytes" in figures:
            over = (figures["peak_bytes"] - figures["start_bytes"]) / 2**20
            note = f"peak {over / file_mb:.1f}x the files ({file_mb:,.0f} MB) above the start"
            if "huge_bytes" in figures:
                note += f", {figures['huge_bytes'] / 2**20:,.0f} MB more in huge pages at the end"
        if stage == "trust_features" and "activities" in figures:
            note = f"{figures['activities']:,} activities"
        if stage == "naive features" and "sample" in figures:
            note = (
                f"extrapolated from {figures['sample']:,} deals of whole accounts "
                f"({figures['measured_s']:.1f} s measured)"
            )
        if stage == "evaluate_claims" and "tests" in figures:
            note = f"{figures['tests']} scorecard rows"
        if stage in DEALS_ONLY and "wall_s" in figures:
            note = _deals_only_note(stage, figures, worlds[True][1])
        row = _row(worlds[stage in DEALS_ONLY][1]["deals"], stage, figures, note)
        if stage == "read_export" and "wall_s" in read and "wall_s" in floor:
            row["x_floor"] = read["wall_s"] / floor["wall_s"]
            row["note"] += f"; CPU {read['cpu_s'] / floor['cpu_s']:.1f}x the floor's"
        if stage == "trust_features" and "wall_s" in figures:
            naive = results.get("naive features", {})
            if "wall_s" in naive:
                row["speedup"] = naive["wall_s"] / figures["wall_s"]
        rows.append(row)
    return rows


def with_steady_pandas(figures: dict[str, Any], runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The quickest deals-only read's `figures` held to pandas' quickest of the `runs`, not to
    pandas' run in the same process: pandas' first large read in a process waits on page
    faults by chance.

    Examples
    --------
    >>> runs = [{"wall_s": 0.8, "pandas_s": 1.1, "pandas_cpu_s": 1.0},
    ...         {"wall_s": 0.9, "pandas_s": 0.8, "pandas_cpu_s": 0.8}]
    >>> with_steady_pandas(runs[0], runs)
    {'wall_s': 0.8, 'pandas_s': 0.8, 'pandas_cpu_s': 0.8, 'runs': 2}
    """
    steady = min(runs, key=lambda r: r["pandas_s"])
    return {
        **figures,
        "pandas_s": steady["pandas_s"],
        "pandas_cpu_s": steady["pandas_cpu_s"],
        "runs": len(runs),
    }


def _deals_only_note(stage: str, figures: dict[str, Any], world: dict[str, Any]) -> str:
    file_mb = world["bytes"]["salesforce_deals"] / 2**20
    if stage == "deals-only export":
        return (
            f"{figures['wall_s'] / figures['pandas_s']:.2f}x pandas' read_csv(dtype=str) "
            f"({figures['pandas_s']:.2f} s, CPU {figures['pandas_cpu_s']:.2f} s) of the "
            f"{file_mb:,.0f} MB file, quickest of {figures.get('runs', 1)} runs each"
        )
    return f"deals-only file of {file_mb:,.0f} MB; peak of the largest process (command or kernel)"


def add_growth(rows: list[dict[str, Any]]) -> None:
    """``per_10x``: wall time growth from the previous size, per ten times the deals."""
    last: dict[str, dict[str, Any]] = {}
    for row in rows:
        before = last.get(row["stage"])
        if before and row.get("wall_s") and before.get("wall_s") and row["deals"] > before["deals"]:
            exponent = math.log(row["wall_s"] / before["wall_s"]) / math.log(
                row["deals"] / before["deals"]
            )
            row["per_10x"] = 10**exponent
        last[row["stage"]] = row


def machine() -> dict[str, str]:
    import numpy
    import pandas
    import pyarrow
    import statsmodels

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 2**20:.0f} GB"
    except (OSError, IndexError, ValueError):
        memory = "unknown"
    return {
        "date": time.strftime("%Y-%m-%d"),
        "cpu": f"{os.cpu_count()} cores ({cpu})",
        "memory": memory,
        "python": platform.python_version(),
        "versions": f"pandas {pandas.__version__}, numpy {numpy.__version__}, "
        f"pyarrow {pyarrow.__version__}, statsmodels {statsmodels.__version__}",
        "load": "load average {:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg()),
    }


def _fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if kind == "int":
        return f"{int(value):,}"
    if kind == "s":
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if kind == "rate":
        return f"{value:,.0f}"
    if kind == "x":
        return f"{value:.2f}x" if value < 10 else f"{value:.0f}x"
    return str(value)


_KINDS = {
    "deals": "int",
    "stage": "",
    "rows": "int",
    "wall_s": "s",
    "cpu_s": "s",
    "rows_per_s": "rate",
    "peak_mb": "rate",
    "x_floor": "x",
    "speedup": "x",
    "per_10x": "x",
    "note": "",
}


def render_table(rows: list[dict[str, Any]]) -> list[list[str]]:
    return [[_fmt(row.get(c), _KINDS[c]) for c in COLUMNS] for row in rows]


def markdown(rows: list[dict[str, Any]], about: dict[str, str]) -> str:
    cells = render_table(rows)
    right = set(COLUMNS) - {"stage", "note"}
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---:" if c in right else "---" for c in COLUMNS) + "|",
        *("| " + " | ".join(r) + " |" for r in cells),
    ]
    head = (
        f"Measured {about['date']} on {about['cpu']}, {about['memory']} RAM; Python "
        f"{about['python']}, {about['versions']}; {about['load']} when the run started; "
        f"{about['repeat']}."
    )
    legend = (
        "`rows`: data rows of the two files (reading), deals (other stages). `x_floor`: "
        "read_export's wall time over pyarrow's parse of the same files. `speedup`: the naive "
        "groupby-apply's time over trust_features'. `per_10x`: wall-time growth per ten times the deals, "
        "from the previous size (10x is linear). Peak memory is the stage's process peak "
        "(`ru_maxrss`), inputs included; where Linux reports it, the notes add how much more of "
        "the process was in 2 MB transparent huge pages after reading than before (the "
        "allocator takes whole huge pages, however little of each it uses)."
    )
    return head + "\n\n" + "\n".join(lines) + "\n\n" + legend + "\n"


def print_table(rows: list[dict[str, Any]]) -> None:
    cells = render_table(rows)
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(COLUMNS)]
    left = {"stage", "note"}
    line = "  ".join(
        c.ljust(w) if c in left else c.rjust(w) for c, w in zip(COLUMNS, widths, strict=True)
    )
    print(line)
    for r in cells:
        print(
            "  ".join(
                v.ljust(w) if c in left else v.rjust(w)
                for c, v, w in zip(COLUMNS, r, widths, strict=True)
            )
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", help="deals per world, e.g. 10000,100000,1000000")
    parser.add_argument(
        "--quick", action="store_true", help="10k and 100k deals only (unless --sizes)"
    )
    parser.add_argument(
        "--stages", help=f"comma-separated subset of: {', '.join(STAGES)} (default all)"
    )
    parser.add_argument("--naive-sample", type=int, default=NAIVE_SAMPLE)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per stage; the quickest is reported"
    )
    parser.add_argument(
        "--quick-repeat",
        type=int,
        default=QUICK_REPEAT,
        help=f"runs of a stage whose runs take under {QUICK_S:.0f} s (default {QUICK_REPEAT})",
    )
    parser.add_argument("--data", help="where rendered worlds are kept (default benchmarks/.data)")
    parser.add_argument("--out", help="folder for the tables (default benchmarks/results)")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per stage")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        figures = _child(args.child, Path(args.data), json.loads(args.options))
        print(json.dumps(figures))
        return 0

    if args.sizes:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    else:
        sizes = list(QUICK_SIZES if args.quick else DEFAULT_SIZES)
    stages = tuple(s.strip() for s in args.stages.split(",")) if args.stages else STAGES
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        parser.error(f"unknown stage(s) {unknown}; choose among {', '.join(STAGES)}")
    data_root = Path(args.data) if args.data else HERE / ".data"
    out = Path(args.out) if args.out else HERE / "results"
    about = machine()
    about["repeat"] = (
        f"quickest of {args.repeat} runs per stage" if args.repeat > 1 else "one run per stage"
    ) + (
        f" ({args.quick_repeat} for stages under {QUICK_S:.0f} s)" if args.quick_repeat > 1 else ""
    )

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    rows: list[dict[str, Any]] = []
    for n in sorted(sizes):
        rows += measure_size(
            n,
            data_root,
            naive_sample=args.naive_sample,
            timeout=args.timeout,
            progress=progress,
            stages=stages,
            repeat=max(1, args.repeat),
            quick_repeat=max(1, args.quick_repeat),
        )
    add_growth(rows)
    print_table(rows)
    out.mkdir(parents=True, exist_ok=True)
    (out / "benchmark.md").write_text(markdown(rows, about), encoding="utf-8")
    with (out / "benchmark.csv").open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    print(f"\n{about['date']}, {about['cpu']}, {about['memory']}; Python {about['python']}, "
          f"{about['versions']}. Tables in {out}.")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
