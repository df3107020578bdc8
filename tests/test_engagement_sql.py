"""The engagement counts computed inside the engine equal the in-memory path's, on DuckDB and
PostgreSQL, from the warehouse's own tables and from a frame of deals."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from salesinsight.clean.warehouse_activities import warehouse_activities
from salesinsight.datasets import simulate_world, write_warehouse
from salesinsight.datasets.vendors import vendor_ids
from salesinsight.exceptions import ColumnNotFoundError, InvalidValueError
from salesinsight.features import engagement_columns, trust_features
from salesinsight.features.engagement_sql import (
    COUNTED_TYPES,
    SQL_DIALECTS,
    engagement_counts,
    engagement_sql,
)
from salesinsight.io.warehouse.conventions import current_rows
from salesinsight.io.warehouse.engine import connect, open_table
from salesinsight.io.warehouse.layout import table_layout

WINDOWS = (30, 14)


@pytest.fixture(scope="module")
def world():
    return simulate_world(n_accounts=70, seed=11, activities_per_deal=10.0)


@pytest.fixture(scope="module")
def in_memory(world):
    """trust_features' engagement columns, with the deals under each vendor's ids."""
    ids = vendor_ids(world, np.random.default_rng(0))
    out = {}
    for crm, vendor in (("salesforce", ids.salesforce), ("hubspot", ids.hubspot)):
        rename = dict(zip(world.deals["deal_id"], vendor.to_pylist(), strict=True))
        deals = world.deals.assign(deal_id=world.deals["deal_id"].map(rename))
        acts = world.activities.assign(deal_id=world.activities["deal_id"].map(rename))
        for window in WINDOWS:
            data = trust_features(deals, acts, window_days=window)
            frame = data[["deal_id", *engagement_columns(window)]]
            out[crm, window] = frame.sort_values("deal_id", ignore_index=True)
    return out


@pytest.fixture(scope="module")
def duckdb_con(world, tmp_path_factory):
    path = tmp_path_factory.mktemp("engagement") / "crm.duckdb"
    write_warehouse(world, path, seed=0)
    return connect(path)


@pytest.fixture(scope="module")
def postgres_con(world, postgres_url):
    con = ibis.connect(postgres_url)
    write_warehouse(world, con, seed=0)
    return con


def _warehouse_deals(con, crm: str) -> ibis.Table:
    if crm == "salesforce":
        table = open_table(con, "opportunity", schema="salesforce")
        live = current_rows(table, table_layout(crm, "opportunity"))
        return live.select(deal_id=live["id"], created_at=live["created_date"])
    table = open_table(con, "deal", schema="hubspot")
    live = current_rows(table, table_layout(crm, "deal"))
    return live.select(
        deal_id=live["deal_id"].cast("string"), created_at=live["property_createdate"]
    )


def _check_equal(con, crm, in_memory):
    activities = warehouse_activities(con, crm=crm)
    for window in WINDOWS:
        got = engagement_counts(_warehouse_deals(con, crm), activities, window_days=window)
        pd.testing.assert_frame_equal(got, in_memory[crm, window], check_dtype=True)


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_duckdb_counts_equal_the_in_memory_path(duckdb_con, crm, in_memory):
    _check_equal(duckdb_con, crm, in_memory)


@pytest.mark.parametrize("crm", ["salesforce", "hubspot"])
def test_postgres_counts_equal_the_in_memory_path(postgres_con, crm, in_memory):
    _check_equal(postgres_con, crm, in_memory)


def test_counts_are_not_trivial(in_memory):
    frame = in_memory["salesforce", 30]
    for name in engagement_columns(30):
        assert frame[name].sum() > 0, name


def test_a_frame_of_deals_keeps_its_index_and_order(world, duckdb_con, in_memory):
    expected = in_memory["salesforce", 30].set_index("deal_id")
    deals = expected.index.to_frame(index=False)
    ids = vendor_ids(world, np.random.default_rng(0)).salesforce.to_pylist()
    created = dict(zip(ids, world.deals["created_at"], strict=True))
    deals = deals.assign(created_at=deals["deal_id"].map(created)).iloc[::-1]
    deals.index = pd.RangeIndex(100, 100 + len(deals))
    got = engagement_counts(deals, warehouse_activities(duckdb_con))
    assert got.index.equals(deals.index)
    assert got["deal_id"].tolist() == deals["deal_id"].tolist()
    pd.testing.assert_frame_equal(
        got.set_index("deal_id"), expected.loc[deals["deal_id"]], check_names=False
    )


def _edge_case():
    deals = pd.DataFrame(
        {
            "deal_id": ["a", "b", "c"],
            "created_at": pd.to_datetime(
                ["2024-01-01 12:00", "2024-02-01", None], format="ISO8601"
            ),
        }
    )
    acts = pd.DataFrame(
        {
            "deal_id": ["a", "a", "a", "a", "a", "b", "c", None, "z"],
            "type": ["meeting", "call", "email", "task", "call", "other", "call", "call", "call"],
            "occurred_at": pd.to_datetime(
                [
                    "2024-01-01 12:00",  # at creation: counted
                    "2024-01-31 11:59:59",  # the last second inside
                    "2024-01-31 12:00",  # the window's end: not counted
                    "2024-01-01 11:59",  # before creation: not counted
                    None,  # no time: not counted
                    "2024-02-02",
                    "2024-01-01",  # a deal without a creation time: missing counts
                    "2024-01-02",  # no deal
                    "2024-01-02",  # a deal not listed
                ],
                format="ISO8601",
            ),
        }
    )
    return deals, acts


@pytest.mark.parametrize("engine", ["duckdb", "postgres"])
def test_window_edges_equal_the_in_memory_path(engine, request):
    deals, acts = _edge_case()
    if engine == "duckdb":
        con = ibis.duckdb.connect()
    else:
        con = ibis.connect(request.getfixturevalue("postgres_url"))
    table = con.create_table("edge_activities", acts, overwrite=True)
    got = engagement_counts(deals, table)
    expected = trust_features(
        deals.assign(
            account_id="x",
            owner="o",
            closed_at=pd.NaT,
            status="open",
            amount=1.0,
            lead_source_group="inbound",
        ),
        acts,
    )[["deal_id", *engagement_columns()]]
    pd.testing.assert_frame_equal(got, expected)
    assert got["meetings_30d"].tolist()[:2] == [1, 0]
    assert got["activities_30d"].isna().tolist() == [False, False, True]


def test_counted_types_follow_the_engagement_columns():
    assert [f"{stem}_30d" for stem in COUNTED_TYPES] == engagement_columns(30)


@pytest.mark.parametrize("dialect", SQL_DIALECTS)
def test_the_expression_compiles_for_each_engine(dialect):
    sql = engagement_sql(dialect)
    assert "deals" in sql and "activities" in sql
    assert "meetings_30d" in sql


class TestBadInput:
    def test_window(self):
        deals, acts = _edge_case()
        table = ibis.memtable(acts)
        for bad in (0, -3, 2.5, True):
            with pytest.raises(InvalidValueError, match="window_days"):
                engagement_counts(deals, table, window_days=bad)

    def test_missing_columns(self):
        deals, acts = _edge_case()
        with pytest.raises(ColumnNotFoundError, match="`occurred_at`"):
            engagement_counts(deals, ibis.memtable(acts.drop(columns="occurred_at")))
        with pytest.raises(ColumnNotFoundError, match="`created_at`"):
            engagement_counts(deals.drop(columns="created_at"), ibis.memtable(acts))

    def test_duplicate_deals(self):
        deals, acts = _edge_case()
        with pytest.raises(InvalidValueError, match="repeats"):
            engagement_counts(pd.concat([deals, deals]), ibis.memtable(acts))

    def test_unknown_dialect(self):
        with pytest.raises(InvalidValueError, match="dialect"):
            engagement_sql("oracle")

    def test_unknown_crm(self):
        with pytest.raises(InvalidValueError, match="crm"):
            warehouse_activities(ibis.duckdb.connect(), crm="pipedrive")
