"""Deduplication of ids: the screen of the ids worked out beside other work changes nothing."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from salesinsight.clean.ids import dedupe, screen_ids
from salesinsight.io.arrow import TEXT
from salesinsight.io.raw import build_raw_table


def _raw(ids: list, names: list):
    table = pa.table({"c0": pa.array(ids, TEXT), "c1": pa.array(names, TEXT)})
    return build_raw_table("deals.csv", ["Id", "Name"], table, [], "utf-8", ",", "csv")


_CLEAN = ["0065g01", "0065g02", "0065g03"]
_DIRTY = [*_CLEAN, "6.0E+11", "1.23457E+17", "6E13", "7E2", None]


@pytest.mark.parametrize("pool", [_CLEAN, _DIRTY], ids=["vendor-ids", "dirty-ids"])
@pytest.mark.parametrize("seed", range(3))
def test_dedupe_with_a_screen_is_dedupe_without(seed, pool):
    rng = np.random.default_rng(seed)
    # Vendor ids, repeated and not; among the dirty ones Excel-rounded ids, numbers that read
    # as scientific notation (colliding or not) and missing ids. Names repeat, so that some
    # rows are exact duplicates.
    n = 400
    ids = [pool[i] for i in rng.integers(0, len(pool), n)]
    ids = [i if i != "0065g03" else f"0065h{k}" for k, i in enumerate(ids)]
    names = [f"Acme {k}" for k in rng.integers(0, 40, n)]
    raw = _raw(ids, names)
    column = raw.table.column("Id")
    for drop in (np.zeros(n, bool), rng.random(n) < 0.2):
        plain = dedupe(raw, column, drop, prefix="deal-", noun="deal")
        screened = dedupe(raw, column, drop, prefix="deal-", noun="deal", screen=screen_ids(column))
        assert plain.ids.arrow.equals(screened.ids.arrow)
        np.testing.assert_array_equal(plain.drop, screened.drop)
        pd.testing.assert_frame_equal(plain.ledger, screened.ledger)
        assert plain.drop.any() and len(plain.ledger)


def test_screen_of_no_ids_is_none():
    assert screen_ids(None) is None
