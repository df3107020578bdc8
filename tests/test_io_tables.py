import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from salesinsight.io.arrow import (
    keep_columns,
    keep_rows,
    non_ascii_rows,
    repeat_codes,
    repeat_text,
    rows_holding,
    translate_bytes,
)


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

    def test_fixed_width_ids_in_blocks_repeat_across_blocks(self, rng):
        # Ids read in blocks are hashed block by block (no combined copy of the column).
        n = 90_000
        alphabet = np.array(list("0123456789ABCDEF"))
        ids = ["".join(row) for row in alphabet[rng.integers(0, len(alphabet), (n, 18))]]
        ids[80_000] = ids[5]  # a repeat in another block
        blocks = pa.chunked_array([pa.array(ids[:40_000]), pa.array(ids[40_000:])])
        got = repeat_codes(blocks)
        assert got[5] == got[80_000] >= 0
        assert _same_partition(got, _expected(ids))
        # Blocks of different widths are coded exactly, as one column of mixed widths is.
        mixed = pa.chunked_array([pa.array(ids[:40_000]), pa.array([i[:10] for i in ids[40_000:]])])
        assert _same_partition(
            repeat_codes(mixed), _expected(ids[:40_000] + [i[:10] for i in ids[40_000:]])
        )

    def test_small_input(self):
        assert repeat_codes(pa.array([], pa.string())).tolist() == []
        assert repeat_codes(pa.array(["x", None, "x"])).tolist() == [0, -1, 0]


class TestKeepRows:
    def test_few_dropped_rows_keep_order(self):
        table = pa.table({"a": list(range(10))})
        keep = np.ones(10, dtype=bool)
        keep[[0, 4, 9]] = False
        assert keep_rows(table, keep).column("a").to_pylist() == [1, 2, 3, 5, 6, 7, 8]


class TestKeepColumns:
    def test_many_dropped_rows_and_columns_let_go(self):
        columns = {"a": pa.chunked_array([list(range(50)), list(range(50, 100))]), "b": None}
        columns["b"] = pa.array([str(i) for i in range(100)])
        keep = np.arange(100) % 3 != 0  # 34 dropped rows: filtered, not sliced
        kept = keep_columns(columns, keep)
        assert columns == {}
        assert kept["a"].to_pylist() == [i for i in range(100) if i % 3]
        assert kept["b"].to_pylist() == [str(i) for i in range(100) if i % 3]


class TestNonAsciiRows:
    def test_sliced_and_blocked_text(self):
        assert non_ascii_rows(pa.array(["Café", "Acme", "x"]).slice(1)).tolist() == []
        assert non_ascii_rows(pa.array(["Acme", "Café"], pa.large_string()).slice(1)).tolist() == [
            0
        ]
        blocks = pa.chunked_array([["a", "b"], ["Zürich", None, "c"]], pa.large_string())
        assert non_ascii_rows(blocks).tolist() == [2]


class TestRowsHolding:
    @pytest.mark.parametrize("seed", range(5))
    def test_every_cell_holding_a_needle_is_found(self, seed):
        rng = np.random.default_rng(seed)
        alphabet = list("abtTesStE ") + ["é", "ſ"]
        texts = [
            None if rng.random() < 0.1 else "".join(rng.choice(alphabet, rng.integers(0, 9)))
            for _ in range(2000)
        ]
        kept = texts[5:]
        needles = ["test", "aé", "ſt"]
        truth = [i for i, t in enumerate(kept) if t is not None and any(n in t for n in needles)]
        assert truth
        # Large text in blocks, the first of them sliced (as a parsed column is), or text with
        # 32-bit offsets in one piece.
        blocks = pa.chunked_array(
            [
                pa.array(texts[:700], pa.large_string()).slice(5),
                pa.array(texts[700:], pa.large_string()),
            ]
        )
        for values, cuts in ((blocks, [695]), (pa.array(texts, pa.string()).slice(5), [])):
            rows = rows_holding(values, needles)
            assert set(truth) <= set(rows)
            # Exactly the cells where a needle begins in the bytes of their block, crossing
            # into the cells after it or not.
            begins = set()
            for lo, hi in zip([0, *cuts], [*cuts, len(kept)], strict=True):
                cells = [(t or "").encode() for t in kept[lo:hi]]
                ends = np.cumsum([len(c) for c in cells])
                joined = b"".join(cells)
                for n in needles:
                    at = joined.find(n.encode())
                    while at >= 0:
                        begins.add(lo + int(np.searchsorted(ends, at, side="right")))
                        at = joined.find(n.encode(), at + 1)
            assert sorted(rows) == sorted(begins)

    def test_too_many_hits_leave_the_search_to_the_caller(self):
        values = pa.array(["a"] * 20_000)
        assert rows_holding(values, ["a"]) is None
        assert rows_holding(values, ["b"]).tolist() == []
        assert rows_holding(pa.chunked_array([], pa.string()), ["a"]).tolist() == []


class TestTranslateBytes:
    @pytest.mark.parametrize("seed", range(5))
    def test_as_str_translate_of_ascii_text(self, seed):
        rng = np.random.default_rng(seed)
        table = np.arange(256)
        table[0x80:] = -1
        table[rng.choice(0x80, 30, replace=False)] = -1
        moved = rng.choice(0x80, 10, replace=False)
        table[moved] = rng.integers(0, 0x80, 10)
        alphabet = [chr(c) for c in range(0x20, 0x7F)] + ["é", "ü", "漢"]
        texts = [
            None if rng.random() < 0.1 else "".join(rng.choice(alphabet, rng.integers(0, 12)))
            for _ in range(500)
        ]
        values = pa.array(texts, pa.large_string()).slice(3)
        ascii_map = {c: (None if table[c] < 0 else int(table[c])) for c in range(0x80)}

        def expected(text):
            kept = "".join(ch for ch in text if ord(ch) < 0x80)
            return kept.translate(ascii_map)

        got = translate_bytes(values, table).to_pylist()
        assert got == [None if t is None else expected(t) for t in texts[3:]]

    def test_nothing_or_everything_dropped(self):
        keep_all, drop_all = np.arange(256), np.full(256, -1)
        values = pa.array(["Acme", "", None])
        assert translate_bytes(values, keep_all).to_pylist() == ["Acme", "", None]
        assert translate_bytes(values, drop_all).to_pylist() == ["", "", None]
        assert translate_bytes(pa.array([], pa.string()), drop_all).to_pylist() == []


class TestRepeatText:
    def test_values(self):
        assert repeat_text("é.csv", 3).to_pylist() == ["é.csv"] * 3
        assert repeat_text("", 2).to_pylist() == ["", ""]
        assert repeat_text("x", 0).to_pylist() == []


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
        from salesinsight.clean.activities import _first_refs

        refs = pa.chunked_array([pa.array(cells, pa.large_string())])
        assert _first_refs(refs, len(cells)).to_pylist() == expected
