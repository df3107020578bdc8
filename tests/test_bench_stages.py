"""The stage-history benchmark runs end to end on a tiny pipeline (timings are not checked)."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_stages.py"


def test_tiny_run_writes_its_table(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_stages", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_stages"] = module
    try:
        spec.loader.exec_module(module)
        assert module.main(["--deals", "400", "--out", str(tmp_path)]) == 0
    finally:
        sys.modules.pop("bench_stages", None)
    with (tmp_path / "stages.csv").open(encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [r["stage"] for r in rows] == [
        "read_export (deals)",
        "read_stage_history",
        "time_in_stage",
        "read_stage_history + time_in_stage",
    ]
    assert int(rows[1]["rows"]) > 400
    assert "probabilities" in rows[-1]["note"]
    assert (tmp_path / "stages.md").read_text(encoding="utf-8").count("\n| 400 |") == 4
