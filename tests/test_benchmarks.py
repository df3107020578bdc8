"""The benchmark runner works end to end on a tiny world (timings are not checked)."""

from __future__ import annotations

import csv
import importlib.util
import math
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("bench_run", None)


@pytest.fixture(scope="module")
def tables(bench, tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    code = bench.main(
        [
            "--sizes",
            "2000",
            "--naive-sample",
            "300",
            "--quick-repeat",
            "1",
            "--data",
            str(root / "data"),
            "--out",
            str(root / "out"),
        ]
    )
    assert code == 0
    return root


class TestMain:
    def test_every_stage_has_a_row_with_figures(self, bench, tables):
        with (tables / "out" / "benchmark.csv").open(encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
        assert [r["stage"] for r in rows] == list(bench.STAGES)
        for row in rows:
            assert row["note"] == "" or "failed" not in row["note"], row
            for column in ("rows", "wall_s", "cpu_s", "rows_per_s", "peak_mb"):
                value = float(row[column])
                assert math.isfinite(value) and value > 0, (row["stage"], column)
        by_stage = {r["stage"]: r for r in rows}
        assert float(by_stage["read_export"]["x_floor"]) > 0
        assert float(by_stage["trust_features"]["speedup"]) > 0
        assert int(by_stage["trust_features"]["rows"]) == int(by_stage["evaluate_claims"]["rows"])

    def test_markdown_names_the_machine_and_every_stage(self, bench, tables):
        text = (tables / "out" / "benchmark.md").read_text(encoding="utf-8")
        assert "cores" in text and "pandas" in text and "Python" in text
        for stage in bench.STAGES:
            assert f"| {stage} |" in text

    def test_the_rendered_world_is_kept_for_the_next_run(self, bench, tables):
        data, info = bench.world_for(2000, tables / "data", timeout=None)
        assert info["deals"] > 1000 and info["activities"] > 5 * info["deals"]
        assert all((data / name).is_file() for name in info["files"].values())


class TestGrowth:
    def test_linear_growth_reads_ten_times(self, bench):
        rows = [
            {"deals": 1000, "stage": "x", "wall_s": 1.0},
            {"deals": 10_000, "stage": "x", "wall_s": 10.0},
            {"deals": 100_000, "stage": "x", "wall_s": 1000.0},
        ]
        bench.add_growth(rows)
        assert "per_10x" not in rows[0]
        assert rows[1]["per_10x"] == pytest.approx(10.0)
        assert rows[2]["per_10x"] == pytest.approx(100.0)


class TestRepeats:
    def test_quick_stages_run_more_often(self, bench):
        quick, slow = {"wall_s": 0.2}, {"wall_s": 3.0}
        assert not bench.enough_runs([], 1)
        assert bench.enough_runs([slow], 1)
        assert not bench.enough_runs([quick] * 6, 3, quick_repeat=7)
        assert bench.enough_runs([quick] * 7, 3, quick_repeat=7)
        assert bench.enough_runs([quick, slow, quick], 3, quick_repeat=7)
        assert bench.enough_runs([{"error": "failed: x"}], 1, quick_repeat=7)

    def test_deals_only_read_is_held_to_pandas_quickest_run(self, bench):
        runs = [
            {"wall_s": 0.8, "pandas_s": 1.1, "pandas_cpu_s": 1.0},
            {"wall_s": 0.9, "pandas_s": 0.8, "pandas_cpu_s": 0.7},
        ]
        held = bench.with_steady_pandas(runs[0], runs)
        assert held == {"wall_s": 0.8, "pandas_s": 0.8, "pandas_cpu_s": 0.7, "runs": 2}
