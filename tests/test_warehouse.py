"""Warehouse syncs: the connector layout, opening a source, the connector conventions, and the
simulated warehouse holding exactly the world plus the rows its manifest lists."""

from __future__ import annotations

import duckdb
import ibis
import numpy as np
import pandas as pd
import pytest

from salesinsight.datasets import simulate_world, warehouse_tables, write_warehouse
from salesinsight.datasets.connector import WAREHOUSE_DIRT_KINDS
from salesinsight.datasets.vendors import vendor_ids
from salesinsight.exceptions import ColumnNotFoundError, InvalidValueError, WarehouseError
from salesinsight.io.warehouse.conventions import DROP_REASONS, current_rows, drop_reason
from salesinsight.io.warehouse.engine import connect, open_table, redact_url, require_columns
from salesinsight.io.warehouse.layout import (
    CONVENTIONS,
    CRMS,
    FIELD_SOURCES,
    TABLES,
    field_sources,
    table_layout,
    tables_of,
)

ISSUE_TABLES = {
    "salesforce": {
        "opportunity", "account", "user", "task", "event", "opportunity_history",
        "opportunity_line_item", "product_2", "pricebook_entry",
    },
    "hubspot": {
        "deal", "deal_pipeline", "deal_pipeline_stage", "deal_stage", "company", "deal_company",
        "owner", "engagement", "engagement_call", "engagement_email", "engagement_meeting",
        "engagement_note", "engagement_deal",
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def world():
    return simulate_world(n_accounts=80, seed=5, activities_per_deal=6.0)


@pytest.fixture(scope="module")
def synced(world):
    return warehouse_tables(world, seed=0)


@pytest.fixture(scope="module")
def warehouse(world, tmp_path_factory):
    path = tmp_path_factory.mktemp("warehouse") / "crm.duckdb"
    dirt = write_warehouse(world, path, seed=0)
    return path, dirt


class TestLayout:
    def test_every_table_of_the_issue_is_described(self):
        for crm in CRMS:
            assert ISSUE_TABLES[crm] <= set(tables_of(crm))

    def test_field_sources_name_columns_of_the_layout(self):
        for crm, _, field, source_table, source, _ in FIELD_SOURCES:
            for table in source_table.split(", "):
                layout = table_layout(crm, table)
                for column in filter(None, source.split(", ")):
                    assert column in layout.columns, (crm, field, table, column)

    def test_conventions_are_the_connectors(self):
        for layout in TABLES:
            assert set(layout.conventions) <= set(CONVENTIONS)
            assert not set(layout.required) & set(layout.conventions)

    def test_field_sources_table(self):
        table = field_sources()
        assert set(table["crm"]) == set(CRMS)
        assert {"deal_id", "created_at", "status", "amount"} <= set(
            table.loc[table["table"].eq("deals"), "field"]
        )

    def test_unknown_table(self):
        with pytest.raises(KeyError):
            table_layout("salesforce", "lead")


class TestSimulatedSyncMatchesTheLayout:
    def test_every_table_is_written_with_its_required_columns(self, synced):
        tables, _ = synced
        for crm in CRMS:
            assert set(tables[crm]) == set(tables_of(crm))
            for name, table in tables[crm].items():
                layout = table_layout(crm, name)
                assert set(layout.required) <= set(table.column_names), name
                assert set(table.column_names) <= set(layout.columns), name

    def test_the_same_seed_numbers_deals_as_the_exports(self, world, synced):
        tables, _ = synced
        ids = vendor_ids(world, np.random.default_rng(0))
        opp = tables["salesforce"]["opportunity"]
        assert opp["id"].to_pylist()[: len(world.deals)] == ids.salesforce.to_pylist()
        deal = tables["hubspot"]["deal"]["deal_id"].to_pylist()[: len(world.deals)]
        assert [str(d) for d in deal] == ids.hubspot.to_pylist()

    def test_manifest_kinds(self, synced):
        _, dirt = synced
        assert set(dirt["kind"]) == set(WAREHOUSE_DIRT_KINDS)
        assert not dirt.duplicated(["crm", "table", "record_id", "kind"]).any()


def _count(con, sql: str) -> int:
    return con.sql(sql).fetchone()[0]


class TestNothingIsLost:
    """Table by table: every row is a current record of the world or listed in the manifest."""

    def test_flagged_rows_are_exactly_the_manifests(self, warehouse):
        path, dirt = warehouse
        con = connect(path)
        flagged = {"soft_deleted", "connector_deleted", "inactive_version"}
        for layout in TABLES:
            table = open_table(con, layout.name, schema=layout.crm)
            why = drop_reason(table, layout)
            key = table[layout.key[0]].cast("string")
            rows = con.to_pyarrow(table.filter(why.notnull()).select(key=key))["key"]
            listed = dirt[
                dirt["crm"].eq(layout.crm)
                & dirt["table"].eq(layout.name)
                & dirt["kind"].isin(flagged)
            ]
            assert sorted(rows.to_pylist()) == sorted(listed["record_id"]), layout.name

    def test_current_records_are_the_world(self, world, warehouse):
        path, _ = warehouse
        con = connect(path)
        n_deals, n_acts = len(world.deals), len(world.activities)
        meetings = int(world.activities["type"].eq("meeting").sum())
        expected = {
            ("salesforce", "opportunity"): n_deals,
            ("salesforce", "account"): len(world.accounts),
            ("salesforce", "user"): len(world.reps),
            ("salesforce", "opportunity_line_item"): n_deals,
            ("hubspot", "deal"): n_deals,
            ("hubspot", "company"): len(world.accounts),
            ("hubspot", "owner"): len(world.reps),
        }
        for (crm, name), n in expected.items():
            table = open_table(con, name, schema=crm)
            assert con.to_pyarrow(current_rows(table, table_layout(crm, name)).count()).as_py() == n
        opps = "SELECT id FROM salesforce.opportunity WHERE _fivetran_active AND NOT is_deleted AND NOT _fivetran_deleted"
        with duckdb.connect(str(path), read_only=True) as raw:
            linked = _count(
                raw,
                f"SELECT count(*) FROM salesforce.task WHERE NOT is_deleted AND what_id IN ({opps})",
            )
            linked += _count(
                raw,
                f"SELECT count(*) FROM salesforce.event WHERE NOT is_deleted AND what_id IN ({opps})",
            )
        assert linked == n_acts
        assert meetings > 0

    def test_unlinked_activities_are_the_manifests(self, warehouse):
        path, dirt = warehouse
        opps = "SELECT id FROM salesforce.opportunity WHERE _fivetran_active AND NOT is_deleted AND NOT _fivetran_deleted"
        with duckdb.connect(str(path), read_only=True) as raw:
            for table in ("task", "event"):
                unlinked = raw.sql(
                    f"SELECT id FROM salesforce.{table} "
                    f"WHERE NOT is_deleted AND what_id NOT IN ({opps})"
                ).fetchall()
                listed = dirt[
                    dirt["table"].eq(table) & dirt["kind"].isin(["orphan", "not_on_a_deal"])
                ]
                assert sorted(r[0] for r in unlinked) == sorted(listed["record_id"])
            deals = "SELECT deal_id FROM hubspot.deal WHERE NOT is_deleted"
            orphans = raw.sql(
                f"SELECT engagement_id FROM hubspot.engagement_deal WHERE deal_id NOT IN ({deals})"
            ).fetchall()
        listed = dirt[dirt["table"].eq("engagement") & dirt["kind"].eq("orphan")]
        assert sorted(str(r[0]) for r in orphans) == sorted(listed["record_id"])

    def test_deal_stage_keeps_every_version(self, world, warehouse):
        path, _ = warehouse
        con = connect(path)
        stages = open_table(con, "deal_stage", schema="hubspot")
        kept = current_rows(stages, table_layout("hubspot", "deal_stage"))
        assert con.to_pyarrow(kept.count()).as_py() == con.to_pyarrow(stages.count()).as_py()
        active = con.to_pyarrow(stages.filter(stages["_fivetran_active"]).count()).as_py()
        assert active == len(world.deals) + 2  # one current stage per deal, archived ones too


class TestConventions:
    def test_first_reason_wins_and_missing_flags_are_current(self):
        rows = ibis.memtable(
            {
                "id": ["a", "b", "c", "d"],
                "is_deleted": [None, True, False, True],
                "_fivetran_deleted": [None, True, True, None],
                "_fivetran_active": [None, False, True, False],
            }
        )
        why = drop_reason(rows, table_layout("salesforce", "opportunity"))
        got = ibis.duckdb.connect().to_pyarrow(rows.select("id", why=why).order_by("id"))
        assert got["why"].to_pylist() == [
            None,
            DROP_REASONS["is_deleted"],
            DROP_REASONS["_fivetran_deleted"],
            DROP_REASONS["is_deleted"],
        ]

    def test_a_table_without_conventions_keeps_every_row(self):
        rows = ibis.memtable({"deal_id": [1, 2], "company_id": [3, 4]})
        kept = current_rows(rows, table_layout("hubspot", "deal_company"))
        assert ibis.duckdb.connect().to_pyarrow(kept.count()).as_py() == 2


class TestOpeningASource:
    def test_missing_file(self, tmp_path):
        with pytest.raises(WarehouseError, match="not found"):
            connect(tmp_path / "nope.duckdb")

    def test_a_csv_is_not_a_database(self, tmp_path):
        path = tmp_path / "report.csv"
        path.write_text("Id,Name\n1,a\n")
        with pytest.raises(WarehouseError, match="read_export"):
            connect(path)

    def test_a_folder(self, tmp_path):
        with pytest.raises(WarehouseError, match="folder"):
            connect(tmp_path)

    def test_other_types(self):
        with pytest.raises(InvalidValueError, match="DuckDB file"):
            connect(42)

    def test_connections_pass_through(self):
        raw = duckdb.connect()
        assert connect(raw).name == "duckdb"
        backend = ibis.duckdb.connect()
        assert connect(backend) is backend

    def test_failed_connection_names_no_credentials(self):
        url = "postgresql://ann_analyst:s3cr%3Dt@127.0.0.1:1/crm?password=other"
        with pytest.raises(WarehouseError) as info:
            connect(url)
        message = str(info.value)
        assert "127.0.0.1:1/crm" in message
        for secret in ("ann_analyst", "s3cr", "other"):
            assert secret not in message

    def test_redact(self):
        assert redact_url("postgresql://u:p@h/db") == "postgresql://h/db"
        assert redact_url("duckdb:///tmp/x.duckdb") == "duckdb:///tmp/x.duckdb"

    def test_missing_schema_lists_those_found(self, warehouse):
        con = connect(warehouse[0])
        with pytest.raises(WarehouseError, match="No schema `sfdc`.*`salesforce`"):
            open_table(con, "opportunity", schema="sfdc")

    def test_missing_table_names_the_closest(self, warehouse):
        con = connect(warehouse[0])
        with pytest.raises(WarehouseError, match="Closest: `opportunity`"):
            open_table(con, "opportunities", schema="salesforce")

    def test_missing_column(self):
        table = ibis.table({"id": "string", "created": "timestamp"}, name="opportunity")
        with pytest.raises(ColumnNotFoundError, match="`created_date`.*Closest: `created`"):
            require_columns(table, ["id", "created_date"], name="salesforce.opportunity")


class TestPostgres:
    def test_the_sample_layout_loads_into_postgres(self, world, postgres_url):
        con = ibis.connect(postgres_url)
        dirt = write_warehouse(world, con, seed=0, crms=["salesforce"])
        opp = open_table(con, "opportunity", schema="salesforce")
        live = current_rows(opp, table_layout("salesforce", "opportunity"))
        assert con.to_pyarrow(live.count()).as_py() == len(world.deals)
        users = open_table(con, "user", schema="salesforce")  # a reserved word in PostgreSQL
        assert con.to_pyarrow(users.count()).as_py() == len(world.reps) + 1
        assert set(dirt["crm"]) == {"salesforce"}


def test_world_checks():
    with pytest.raises(InvalidValueError, match="World"):
        warehouse_tables(pd.DataFrame())
    with pytest.raises(InvalidValueError, match="crms"):
        warehouse_tables(simulate_world(n_accounts=20, seed=1), crms=["pipedrive"])
