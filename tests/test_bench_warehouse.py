"""The warehouse benchmark runs end to end on a tiny file (timings are not checked)."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_warehouse.py"


def test_tiny_run_writes_its_table_and_removes_the_file(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_warehouse", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_warehouse"] = module
    try:
        spec.loader.exec_module(module)
        code = module.main(
            [
                "--deals",
                "2000",
                "--tasks",
                "40000",
                "--dir",
                str(tmp_path),
                "--out",
                str(tmp_path / "out"),
            ]
        )
    finally:
        sys.modules.pop("bench_warehouse", None)
    assert code == 0
    with (tmp_path / "out" / "warehouse.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [r["stage"] for r in rows] == list(module.STAGES)
    engine, pandas = rows[1], rows[3]
    assert engine["rows"] == pandas["rows"] == "1,998"  # one deal in a thousand is soft-deleted
    assert not list(tmp_path.glob("salesinsight-warehouse-*"))
