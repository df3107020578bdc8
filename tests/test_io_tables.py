import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from salesinsight.io.tables import keep_rows, repeat_codes


def _expected(values: list) -> np.ndarray:
    series = pd.Series(values, dtype="str")
    repeated = series.duplicated(keep=False) & series.notna()
    codes = pd.factorize(series)[0]
    return np.where(repeated, codes, -1)


def _same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to the numbering of the codes."""
    if not np.array_equal(a < 0, b < 0):
        return False
    pairs = set(zip(a[a >= 0].tolist(), b[b >= 0].tolist(), strict=True))
    return len(pairs) == len({x for x, _ in pairs}) == len({y for _, y in pairs})


class TestRepeatCodes:
    @pytest.mark.parametrize("width", [3, 8, 15, 18, 40])
    def test_fixed_width_ids_match_the_exact_coding(self, rng, width):
        n = 80_000
        alphabet = np.array(list("0123456789ABCDEFabcdef"))
        ids = ["".join(row) for row in alphabet[rng.integers(0, len(alphabet), (n, width))]]
        for i in rng.integers(0, n, 300):
            ids[int(rng.integers(0, n))] = ids[int(i)]
        got = repeat_codes(pa.array(ids))
        want = _expected(ids)
        assert (want >= 0).sum() > 0
        assert _same_partition(got, want)

    def test_variable_width_and_missing_ids_take_the_exact_path(self, rng):
        n = 70_000
        ids = [str(v) if v % 7 else None for v in rng.integers(0, 60_000, n)]
        got = repeat_codes(pa.chunked_array([pa.array(ids[:30_000]), pa.array(ids[30_000:])]))
        assert _same_partition(got, _expected(ids))

    def test_small_input(self):
        assert repeat_codes(pa.array([], pa.string())).tolist() == []
        assert repeat_codes(pa.array(["x", None, "x"])).tolist() == [0, -1, 0]


class TestKeepRows:
    def test_few_dropped_rows_keep_order(self):
        table = pa.table({"a": list(range(10))})
        keep = np.ones(10, dtype=bool)
        keep[[0, 4, 9]] = False
        assert keep_rows(table, keep).column("a").to_pylist() == [1, 2, 3, 5, 6, 7, 8]


class TestFirstRefs:
    """Deal references of activities: split lists, trimmed, plain ids passed through."""

    @pytest.mark.parametrize(
        ("cells", "expected"),
        [
            (["006A;006B", " 006C ", None], ["006A", "006C", None]),
            (["006A", " 006C\t", "  "], ["006A", "006C", None]),
            (["006A", "006C", None], ["006A", "006C", None]),
            (["0060\u00a0", "006C"], ["0060", "006C"]),
        ],
    )
    def test_paths_agree(self, cells, expected):
        from salesinsight.io.related import _first_refs

        refs = pa.chunked_array([pa.array(cells, pa.large_string())])
        assert _first_refs(refs, len(cells)).to_pylist() == expected
