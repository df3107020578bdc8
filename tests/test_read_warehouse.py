"""read_warehouse: a connector's schema to the same Export as exports, nothing lost table by table,
the activities counted in the engine, on DuckDB and (when a server is given) PostgreSQL."""

from __future__ import annotations

import logging

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

import salesinsight
from salesinsight.datasets import load_sample, simulate_world, write_warehouse
from salesinsight.datasets.warehouse import write_sample_warehouse
from salesinsight.exceptions import ColumnNotFoundError, WarehouseError
from salesinsight.features.engagement import count_in_window, engagement_columns
from salesinsight.io.warehouse.layout import CRMS

pytestmark = pytest.mark.filterwarnings("ignore::salesinsight.exceptions.DataQualityWarning")

STAGE_HISTORY = {"opportunity_history", "deal_stage"}


@pytest.fixture(scope="module")
def world():
    return simulate_world(n_accounts=60, seed=11, activities_per_deal=5.0)


@pytest.fixture(scope="module")
def duckdb_file(world, tmp_path_factory):
    path = tmp_path_factory.mktemp("wh") / "crm.duckdb"
    return path, write_warehouse(world, path, seed=3)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def engine(request, world, duckdb_file):
    """(source, dirt manifest) on each engine; PostgreSQL skips without a server."""
    if request.param == "duckdb":
        return duckdb_file
    con = ibis.connect(request.getfixturevalue("postgres_url"))
    return con, write_warehouse(world, con, seed=3)


def _dropped(export) -> pd.DataFrame:
    ledger = export.ledger.assign(code=export.ledger_codes.to_numpy())
    ledger = ledger[ledger["action"].eq("dropped")]
    return ledger.assign(table=ledger["source_file"].str.split(".").str[1])


@pytest.mark.parametrize("crm", CRMS)
def test_every_row_not_current_is_in_the_ledger_by_table_and_id(engine, crm):
    source, dirt = engine
    export = salesinsight.read_warehouse(source, schema=crm)
    dropped = _dropped(export)
    expected = dirt[dirt["crm"].eq(crm) & dirt["kind"].ne("not_on_a_deal")]
    assert expected["table"].isin(STAGE_HISTORY).any()
    assert set(zip(dropped["table"], dropped["record_id"], strict=True)) == set(
        zip(expected["table"], expected["record_id"], strict=True)
    )
    assert len(dropped) == len(expected)
    kinds = {"soft_deleted": "deleted", "connector_deleted": "deleted",
             "inactive_version": "history_version", "orphan": "orphan"}  # fmt: skip
    merged = dropped.merge(expected, on=["table", "record_id"])
    assert (merged["code"] == merged["kind"].map(kinds)).all()
    # Kept + dropped = read, table by table; the deals kept are the world's.
    summary = export.summary()
    assert (summary["rows_kept"] + summary["rows_dropped"] == summary["rows_read"]).all()
    assert len(export.deals) == summary.loc[summary["role"].eq("deals"), "rows_kept"].item()
    assert export.ledger.columns.tolist()[-1] == "record_id"


def test_the_deals_are_the_world_s(world, duckdb_file):
    export = salesinsight.read_warehouse(duckdb_file[0], schema="salesforce")
    assert len(export.deals) == len(world.deals)
    statuses = export.deals["status"].value_counts().sort_index()
    assert statuses.to_dict() == world.deals["status"].value_counts().sort_index().to_dict()
    assert export.deals["owner"].notna().all() and export.deals["account"].notna().all()
    assert export.deals["product"].notna().all() and (export.deals["list_price"] > 0).all()
    hub = salesinsight.read_warehouse(duckdb_file[0], schema="hubspot")
    assert hub.crm == "hubspot" and len(hub.deals) == len(world.deals)
    assert hub.deals["status"].value_counts().to_dict() == statuses.to_dict()
    assert hub.deals["owner"].notna().all() and hub.deals["account"].notna().all()


@pytest.mark.parametrize("crm", CRMS)
def test_engagement_counted_in_the_engine_equals_the_in_memory_path(engine, crm):
    source, _ = engine
    export = salesinsight.read_warehouse(source, schema=crm)
    assert isinstance(export.activities, ibis.Table)
    data = salesinsight.trust_features(export.deals, export.activities)
    fetched = export.activities.to_pandas()
    created = pd.to_datetime(export.deals["created_at"]).to_numpy("datetime64[ns]")
    ok = ~np.isnat(created)
    expected = count_in_window(
        export.deals["deal_id"], np.where(ok, created.view("int64"), 0), ok, fetched,
        window_days=30,
    )  # fmt: skip
    for name in engagement_columns(30):
        assert data[name].tolist() == expected[name].tolist(), name
    assert data["activities_30d"].sum() > 0
    # Orphans are not among the activities; activities on no deal are.
    orphans = _dropped(export).query("code == 'orphan'")["record_id"]
    assert not set(orphans) & set(fetched["activity_id"])
    if crm == "salesforce":
        assert fetched["deal_id"].isna().any()


def test_csv_exports_and_warehouse_of_the_sample_agree(tmp_path):
    """The sample's CSV exports and its warehouse: the same deals, and the same verdicts."""
    paths = write_sample_warehouse(tmp_path)
    wh = salesinsight.read_warehouse(paths["warehouse"])
    csv = load_sample("salesforce")
    assert set(wh.deals["deal_id"]) == set(csv.deals["deal_id"])
    both = wh.deals.merge(csv.deals, on="deal_id", suffixes=("_wh", "_csv"))
    for column in ("status", "owner", "account", "product", "industry", "lead_source_group"):
        assert (both[f"{column}_wh"] == both[f"{column}_csv"]).all(), column
    # Reports show dates, the warehouse the instant.
    for column in ("created_at", "closed_at"):
        same = both[f"{column}_wh"].dt.normalize() == both[f"{column}_csv"].dt.normalize()
        assert (same | both[f"{column}_csv"].isna()).all(), column
    # The exports' planted dirt (amounts missing or altered) is theirs alone.
    exported_dirt = pd.read_csv(paths["truth"].parent / "warehouse_dirt.csv")
    assert len(exported_dirt)
    amounts = np.isclose(both["amount_wh"], both["amount_csv"], rtol=1e-6)
    assert amounts.mean() > 0.99
    # Ledger counts: the warehouse drops exactly the rows its manifest lists.
    dirt = pd.read_csv(paths["warehouse_dirt"])
    listed = dirt[dirt["crm"].eq("salesforce")]
    listed = listed[listed["kind"].ne("not_on_a_deal")]
    assert len(_dropped(wh)) == len(listed)
    # The scorecard: every claim gets the same verdict.
    cards = [
        salesinsight.evaluate_claims(salesinsight.trust_features(e.deals, e.activities))
        for e in (wh, csv)
    ]
    verdicts = [card.verdicts().set_index("claim_id")["verdict"] for card in cards]
    pd.testing.assert_series_equal(verdicts[0], verdicts[1])


def test_the_connector_tables_dumped_to_csv_read_as_the_warehouse(duckdb_file, tmp_path):
    path, _ = duckdb_file
    with duckdb.connect(str(path), read_only=True) as con:
        for name in ("opportunity", "account", "task", "event"):
            con.sql(f"SELECT * FROM salesforce.{name}").write_csv(str(tmp_path / f"{name}.csv"))
    export = salesinsight.read_export(sorted(tmp_path.glob("*.csv")))
    labels = export.files.set_index("file")["format"]
    assert labels["opportunity.csv"] == "Salesforce opportunity table (connector sync)"
    assert labels["account.csv"] == "Salesforce account table (connector sync)"
    assert labels["task.csv"] == "Salesforce task / event table (connector sync)"
    wh = salesinsight.read_warehouse(path)
    both = export.deals.merge(wh.deals, on="deal_id", suffixes=("_csv", "_wh"))
    assert len(both) == len(wh.deals) == len(export.deals)
    for column in ("created_at", "closed_at", "amount", "status", "account_id"):
        a, b = both[f"{column}_csv"], both[f"{column}_wh"]
        assert ((a == b) | (a.isna() & b.isna())).all(), column
    summary = export.summary().set_index("file")
    wh_summary = wh.summary().set_index("file")
    assert (
        summary.loc["opportunity.csv", "rows_dropped"]
        == (wh_summary.loc["salesforce.opportunity", "rows_dropped"])
    )
    assert summary.loc["opportunity.csv", "dropped_deleted"] > 0


class TestBadInput:
    def test_a_file_that_is_not_a_database(self, tmp_path):
        path = tmp_path / "deals.csv"
        path.write_text("a,b\n1,2\n")
        with pytest.raises(WarehouseError, match="not a DuckDB database"):
            salesinsight.read_warehouse(path)

    def test_a_missing_schema_lists_the_schemas(self, duckdb_file):
        with pytest.raises(WarehouseError, match="No schema `sales`.*`salesforce`"):
            salesinsight.read_warehouse(duckdb_file[0], schema="sales")

    def test_a_missing_deal_table_lists_the_tables_and_the_closest(self, tmp_path):
        con = duckdb.connect(str(tmp_path / "crm.duckdb"))
        con.execute("CREATE SCHEMA salesforce; CREATE TABLE salesforce.opportunities (id TEXT)")
        con.close()
        with pytest.raises(WarehouseError, match="`opportunities`.*Closest: `opportunities`"):
            salesinsight.read_warehouse(tmp_path / "crm.duckdb", crm="salesforce")
        with pytest.raises(WarehouseError, match="No table `salesforce.opportunity`"):
            salesinsight.read_warehouse(tmp_path / "crm.duckdb")

    def test_a_missing_column_names_the_closest(self, duckdb_file):
        con = duckdb.connect()
        con.execute(f"ATTACH '{duckdb_file[0]}' AS src (READ_ONLY)")
        con.execute("CREATE SCHEMA salesforce")
        con.execute(
            "CREATE TABLE salesforce.opportunity AS SELECT * RENAME (stage_name AS stagename) "
            "FROM src.salesforce.opportunity"
        )
        with pytest.raises(ColumnNotFoundError, match="`stage_name`.*Closest: `stagename`"):
            salesinsight.read_warehouse(con)

    def test_a_failing_connection_keeps_the_credentials_out(self, caplog):
        url = "postgresql://ann_analyst:s3cr3t-pw@127.0.0.1:1/crm"
        with caplog.at_level(logging.DEBUG), pytest.raises(WarehouseError) as info:
            salesinsight.read_warehouse(url)
        text = str(info.value) + caplog.text
        assert "127.0.0.1:1/crm" in str(info.value)
        assert "s3cr3t-pw" not in text and "ann_analyst" not in text
        # The driver's own error, which may quote the URL, is not chained into the traceback.
        assert info.value.__cause__ is None and info.value.__suppress_context__


@pytest.mark.parametrize("crm", CRMS)
def test_the_stage_history_table_is_read_into_the_export(duckdb_file, crm):
    source, _ = duckdb_file
    export = salesinsight.read_warehouse(source, schema=crm)
    history = export.stage_history
    assert history is not None and history["deal_id"].isin(export.deals["deal_id"]).all()
    files = export.summary().set_index("file")
    table = f"{crm}.{'opportunity_history' if crm == 'salesforce' else 'deal_stage'}"
    assert files.loc[table, "role"] == "stage_history"
    assert files.loc[table, "rows_kept"] == len(history)
    # Every deal's history ends where the deal stands: a won deal in its won stage.
    last = history.sort_values("entered_at").groupby("deal_id").tail(1).set_index("deal_id")
    won = export.deals.set_index("deal_id")["status"].eq("won")
    assert (
        last.loc[won[won].index.intersection(last.index), "stage_status"] == "won"
    ).mean() > 0.95
    data = salesinsight.trust_features(export.deals, export.activities, stage_history=history)
    # Salesforce's history records the amount at each change; HubSpot's deal_stage has none.
    recorded = data["first_amount"].notna().mean()
    assert recorded > 0.9 if crm == "salesforce" else recorded == 0
