"""The simulated world, its rendering as vendor exports, the dirt manifest and the bundled sample."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import ftfy
import numpy as np
import pandas as pd
import pytest

from salesinsight.datasets import (
    FX_TO_USD,
    Effects,
    World,
    load_sample,
    render_exports,
    sample_paths,
    sample_world,
    simulate_world,
    write_sample,
)
from salesinsight.datasets.__main__ import main
from salesinsight.datasets.effects import TRUTH_COLUMNS, truth_table
from salesinsight.exceptions import InvalidValueError
from salesinsight.schemas import Activities, Deals

PROXIES = [
    "prior_won_deals",
    "prior_won_amount",
    "prior_lost_deals",
    "is_repeat_customer",
    "relationship_days",
    "same_owner_as_last",
    "owner_prior_deals",
    "is_referral",
    "rep_initiated",
    "is_new_product_for_account",
]
SF_DEAL_HEADERS = [
    "Opportunity ID",
    "Opportunity Owner",
    "Account Name",
    "Opportunity Name",
    "Stage",
    "Amount",
    "Probability (%)",
    "Close Date",
    "Created Date",
    "Lead Source",
    "Type",
    "Product",
    "List Price",
    "Employees",
    "Industry",
    "Fiscal Period",
]
HUBSPOT_HEADERS = [
    "Record ID",
    "Deal Name",
    "Deal Stage",
    "Pipeline",
    "Amount",
    "Close Date",
    "Create Date",
    "Deal owner",
    "Deal Type",
    "Associated Company",
    "Number of Sales Activities",
    "Number of times contacted",
    "Number of Associated Contacts",
    "Days to close",
    "Original Source",
    "Is Closed Won",
    "Amount in company currency",
    "Currency",
]
SF_FOOTER = [
    "",
    '"Grand Totals ({n} records)"',
    "",
    '"Confidential Information - Do Not Distribute"',
    '"Copyright (c) 2000-2025 salesforce.com, inc. All rights reserved."',
]


@pytest.fixture(scope="module")
def world() -> World:
    return simulate_world(n_accounts=300, seed=5)


@pytest.fixture(scope="module")
def rendered(world, tmp_path_factory) -> dict[str, Path]:
    return render_exports(world, tmp_path_factory.mktemp("exports"), seed=3)


def read_rows(path: Path, encoding: str = "utf-8") -> tuple[list[str], list[list[str]]]:
    """Header and records of a file; a blank line is an empty record, as in the manifest."""
    text = path.read_bytes().decode(encoding)
    records = list(csv.reader(io.StringIO(text, newline="")))
    return records[0], records[1:]


def encoding_of(path: Path) -> str:
    return "cp1252" if path.name.startswith("report") else "utf-8"


def _reference_proxies(deals: pd.DataFrame) -> pd.DataFrame:
    """The proxies of the brief, one deal at a time (slow and obvious)."""
    out = []
    for deal in deals.itertuples():
        t = deal.created_at
        mine = deals[deals["account_id"].eq(deal.account_id)]
        before = mine[mine["created_at"] < t]
        closed_before = mine["closed_at"] < t
        won = mine[mine["status"].eq("won") & closed_before]
        last_owner = before.sort_values("created_at")["owner"].iloc[-1] if len(before) else None
        out.append(
            {
                "prior_won_deals": len(won),
                "prior_won_amount": won["amount"].sum(),
                "prior_lost_deals": int((mine["status"].eq("lost") & closed_before).sum()),
                "is_repeat_customer": len(won) > 0,
                "relationship_days": (t - before["created_at"].min()) / pd.Timedelta(days=1)
                if len(before)
                else 0.0,
                "same_owner_as_last": deal.owner == last_owner,
                "owner_prior_deals": int(
                    (deals["owner"].eq(deal.owner) & deals["created_at"].lt(t)).sum()
                ),
                "is_referral": deal.lead_source_group == "referral",
                "rep_initiated": deal.lead_source_group == "outbound",
                "is_new_product_for_account": deal.product not in set(before["product"]),
            }
        )
    return pd.DataFrame(out, index=deals.index)


class TestEffects:
    def test_null_sets_every_effect_to_zero(self):
        assert set(vars(Effects.null()).values()) == {0.0}
        assert any(v != 0 for v in vars(Effects()).values())

    def test_truth_table_has_one_row_per_effect(self):
        effects = Effects(repeat_close=0.9)
        truth = truth_table(effects)
        assert truth.columns.tolist() == TRUTH_COLUMNS
        assert len(truth) == len(vars(effects))
        assert truth["claim"].isin([f"K{i}" for i in range(1, 9)]).all()
        assert set(truth["claim"]) == {f"K{i}" for i in range(1, 9)}
        row = truth[truth["model"].eq("cox_closed") & truth["proxy"].eq("is_repeat_customer")]
        assert row["value"].tolist() == [0.9]
        assert not truth.duplicated(["model", "proxy"]).any()


class TestSimulateWorld:
    def test_same_seed_gives_identical_frames(self, world):
        again = simulate_world(n_accounts=300, seed=5)
        for name in ("deals", "activities", "accounts", "reps", "products", "truth"):
            pd.testing.assert_frame_equal(getattr(world, name), getattr(again, name))
        assert again.as_of == world.as_of

    def test_another_seed_gives_another_world(self, world):
        other = simulate_world(n_accounts=300, seed=6)
        assert not other.deals["amount"].head(50).equals(world.deals["amount"].head(50))

    def test_tables_follow_the_canonical_schemas(self, world):
        Deals.validate(world.deals, lazy=True)
        Activities.validate(world.activities, lazy=True)
        assert world.deals["deal_id"].is_unique
        assert world.activities["deal_id"].isin(world.deals["deal_id"]).all()

    def test_dates_agree_with_status_and_snapshot(self, world):
        d = world.deals
        closed = d["status"].isin(["won", "lost"])
        assert d.loc[closed, "closed_at"].notna().all()
        assert d.loc[~closed, "closed_at"].isna().all()
        assert d.loc[~closed, "expected_close_at"].notna().all()
        assert d.loc[closed, "expected_close_at"].isna().all()
        assert (d.loc[closed, "closed_at"] > d.loc[closed, "created_at"]).all()
        assert d["created_at"].lt(world.as_of).all()
        assert d["closed_at"].dropna().le(world.as_of).all()
        assert d["created_at"].is_monotonic_increasing
        open_ = d[~closed]
        assert open_["expected_close_at"].lt(world.as_of).any(), "no slipped forecast"
        assert open_["expected_close_at"].gt(world.as_of).any()
        acts = world.activities.merge(d[["deal_id", "created_at", "closed_at"]], on="deal_id")
        assert (acts["occurred_at"] > acts["created_at"]).all()
        assert (acts["occurred_at"] <= acts["closed_at"].fillna(world.as_of)).all()
        assert set(world.activities["type"]) == {"call", "email", "meeting", "task"}

    def test_exposed_proxies_follow_their_definitions(self):
        small = simulate_world(n_accounts=120, seed=8)
        deals = small.deals
        expected = _reference_proxies(deals)
        for name in PROXIES:
            np.testing.assert_allclose(
                deals[name].astype(float), expected[name].astype(float), err_msg=name
            )
        assert deals["is_repeat_customer"].any() and deals["same_owner_as_last"].any()
        assert (~deals["same_owner_as_last"] & deals["relationship_days"].gt(0)).any()

    def test_amounts_and_currencies(self, world):
        d = world.deals
        assert d["amount"].gt(0).all() and d["list_price"].gt(0).all()
        fx = d["currency"].map(FX_TO_USD)
        np.testing.assert_allclose(d["amount_original"] * fx, d["amount"], rtol=1e-3)
        assert set(d["currency"]) == {"USD", "EUR", "GBP"}
        assert set(d["segment"]) == {"SMB", "Mid-Market", "Enterprise"}
        assert d["deal_type"].eq("existing_business").eq(d["is_repeat_customer"]).all()

    def test_reps_leave_and_are_replaced(self, world):
        reps = world.reps
        assert reps["left_at"].notna().any()
        assert reps.groupby("seat")["rep_id"].count().gt(1).any()
        assert reps["owner"].is_unique
        assert set(world.deals["owner"]) <= set(reps["owner"])

    def test_bigger_accounts_buy_more_often_and_bigger(self):
        big = simulate_world(n_accounts=3000, effects="null", activities_per_deal=0, seed=4)
        counts = big.deals.groupby("account_id").size()
        per_account = counts.reindex(big.accounts["account_id"], fill_value=0)
        log_size = np.log(big.accounts["employees"].to_numpy())
        assert np.corrcoef(log_size, per_account)[0, 1] > 0.3
        won = big.deals[big.deals["status"].eq("won")]
        assert np.corrcoef(np.log(won["employees"]), np.log(won["amount"]))[0, 1] > 0.3
        repeat_share = won.groupby(won["segment"])["is_repeat_customer"].mean()
        assert repeat_share["Enterprise"] > repeat_share["SMB"]

    def test_effects_instance_is_used(self):
        custom = Effects(repeat_log_amount=1.0)
        made = simulate_world(n_accounts=30, effects=custom, seed=1)
        assert made.effects is custom
        assert made.truth.loc[0, "value"] == 1.0

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"effects": "strong"}, "effects"),
            ({"n_accounts": 0}, "n_accounts"),
            ({"n_reps": 2.5}, "n_reps"),
            ({"years": -1}, "years"),
            ({"start": "not a date"}, "start"),
            ({"activities_per_deal": -1.0}, "activities_per_deal"),
        ],
    )
    def test_bad_arguments_are_refused(self, kwargs, match):
        with pytest.raises(InvalidValueError, match=match):
            simulate_world(**kwargs)


class TestRenderExports:
    def test_returns_every_file(self, rendered):
        assert sorted(rendered) == [
            "dirt",
            "hubspot_deals",
            "pipedrive_deals",
            "salesforce_activities",
            "salesforce_deals",
        ]
        assert all(p.is_file() for p in rendered.values())
        assert re.fullmatch(r"report\d{13}\.csv", rendered["salesforce_deals"].name)
        assert re.fullmatch(r"report\d{13}\.csv", rendered["salesforce_activities"].name)
        assert re.fullmatch(
            r"hubspot-crm-exports-all-deals-\d{4}-\d{2}-\d{2}\.csv", rendered["hubspot_deals"].name
        )

    def test_salesforce_report_looks_like_salesforce(self, rendered, world):
        raw = rendered["salesforce_deals"].read_bytes()
        assert b"\n" not in raw.replace(b"\r\n", b"")
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
        text = raw.decode("cp1252")
        lines = text.split("\r\n")
        header, rows = read_rows(rendered["salesforce_deals"], "cp1252")
        assert header == SF_DEAL_HEADERS
        body = [line for line in lines[1:] if line.startswith('"0')]
        assert all(line.startswith('"') and line.endswith('"') for line in body)
        n_data = len(rows) - len(SF_FOOTER)
        assert lines[1 + n_data : -1] == [line.format(n=n_data) for line in SF_FOOTER]
        data = pd.DataFrame(rows[:n_data], columns=header)
        assert data["Created Date"].str.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}").all()
        assert data["Amount"].str.fullmatch(r"(\$|USD )[\d,]+\.\d\d|").all()
        assert data["Amount"].str.startswith("USD ").any()
        assert data["Amount"].str.contains(",").any()
        assert data["Stage"].isin(["Closed Won", "Closed Lost"]).mean() > 0.5
        assert {"Closed Won", "Closed Lost", "Prospecting"} <= set(data["Stage"])
        assert set(data["Type"]) >= {"New Business", "Existing Business"}
        assert data["Opportunity ID"].str.fullmatch(r"006[0-9A-Za-z]{15}").all()

    def test_salesforce_activities_report(self, rendered, world):
        header, rows = read_rows(rendered["salesforce_activities"], "cp1252")
        assert header[:5] == [
            "Activity ID",
            "Opportunity ID",
            "Account Name",
            "Assigned",
            "Subject",
        ]
        data = pd.DataFrame(rows[: -len(SF_FOOTER)], columns=header)
        assert set(data["Task/Event"]) == {"Task", "Event"}
        assert set(data["Activity Type"]) == {"Call", "Email", "Meeting", "To-Do"}
        _, deal_rows = read_rows(rendered["salesforce_deals"], "cp1252")
        deal_ids = {r[0] for r in deal_rows if r}
        assert data["Opportunity ID"].isin(deal_ids).all()
        assert rendered["salesforce_activities"].read_bytes().endswith(b'reserved."\r\n')

    def test_hubspot_export_looks_like_hubspot(self, rendered):
        path = rendered["hubspot_deals"]
        text = path.read_bytes().decode("utf-8")
        header, rows = read_rows(path)
        assert header == HUBSPOT_HEADERS
        assert all(line.startswith('"') and line.endswith('"') for line in text.splitlines())
        data = pd.DataFrame(rows, columns=header)
        assert data["Record ID"].str.fullmatch(r"\d{12}").all()
        assert data["Amount"].str.fullmatch(r"\d+\.\d{1,2}|").all()
        assert not any("employ" in h.lower() for h in header)
        assert data["Create Date"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()
        assert {"Closed Won", "Closed Lost", "Appointment Scheduled"} <= set(data["Deal Stage"])

    def test_pipedrive_export_looks_like_pipedrive(self, rendered, world):
        header, rows = read_rows(rendered["pipedrive_deals"])
        assert all(h.startswith(("Deal - ", "Organization - ")) for h in header)
        data = pd.DataFrame(rows, columns=header)
        assert set(data["Deal - Currency"]) == {"USD", "EUR", "GBP"}
        assert set(data["Deal - Status"]) == {"won", "lost", "open"}
        lost = data[data["Deal - Status"].eq("lost")]
        assert lost["Deal - Stage"].ne("Lost").all() and lost["Deal - Lost time"].ne("").all()
        assert data["Deal - Deal created"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d").all()
        euro = data[data["Deal - Currency"].eq("EUR") & data["Deal - Value"].ne("0")]
        in_dollars = euro["Deal - Value"].replace("", np.nan).dropna().astype(float) * 1.1
        dollars = np.sort(world.deals["amount"].to_numpy())
        nearest = np.clip(np.searchsorted(dollars, in_dollars), 1, len(dollars) - 1)
        gap = np.minimum(abs(dollars[nearest] - in_dollars), abs(dollars[nearest - 1] - in_dollars))
        assert (gap < 0.01 * in_dollars).mean() > 0.99

    def test_same_seed_renders_the_same_bytes(self, world, rendered, tmp_path):
        again = render_exports(world, tmp_path, seed=3)
        for key, path in rendered.items():
            assert again[key].read_bytes() == path.read_bytes(), key

    def test_a_world_without_activities_renders(self, tmp_path):
        quiet = simulate_world(n_accounts=40, activities_per_deal=0.0, seed=7)
        paths = render_exports(quiet, tmp_path)
        header, rows = read_rows(paths["hubspot_deals"])
        hubspot = pd.DataFrame(rows, columns=header)
        header, rows = read_rows(paths["pipedrive_deals"])
        pipedrive = pd.DataFrame(rows, columns=header)
        # Zero on every deal; empty on the test record.
        for counts in (
            hubspot["Number of Sales Activities"],
            hubspot["Number of times contacted"],
            pipedrive["Deal - Total activities"],
        ):
            assert set(counts) == {"0", ""} and counts.eq("").sum() == 1
        assert read_rows(paths["salesforce_activities"], "cp1252")[1][0] == []

    def test_refuses_something_else_than_a_world(self, tmp_path):
        with pytest.raises(InvalidValueError, match="World"):
            render_exports(pd.DataFrame(), tmp_path)


@pytest.fixture(scope="module")
def dirt(rendered) -> pd.DataFrame:
    return pd.read_csv(rendered["dirt"], dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def files(rendered) -> dict[str, tuple[list[str], list[list[str]]]]:
    return {p.name: read_rows(p, encoding_of(p)) for key, p in rendered.items() if key != "dirt"}


class TestDirtManifest:
    def test_every_kind_is_present_in_every_deals_file(self, dirt, rendered):
        kinds = {
            "duplicate_row",
            "repeated_id",
            "blank_amount",
            "zero_amount_lost",
            "created_after_closed",
            "test_record",
            "slipped_forecast",
        }
        for key in ("salesforce_deals", "hubspot_deals", "pipedrive_deals"):
            found = set(dirt.loc[dirt["file"].eq(rendered[key].name), "kind"])
            assert kinds <= found, (key, kinds - found)
        sf = set(dirt.loc[dirt["file"].eq(rendered["salesforce_deals"].name), "kind"])
        assert {"mojibake", "category_typo", "report_footer", "amount_currency_code"} <= sf

    def test_rows_are_the_deals_plus_the_inserted_rows(self, dirt, files, rendered, world):
        for key in ("salesforce_deals", "hubspot_deals", "pipedrive_deals"):
            name = rendered[key].name
            kinds = dirt.loc[dirt["file"].eq(name), "kind"].value_counts()
            inserted = sum(kinds.get(k, 0) for k in ("duplicate_row", "repeated_id", "test_record"))
            n_rows = len(files[name][1]) - kinds.get("report_footer", 0)
            assert n_rows == len(world.deals) + inserted
            open_ = world.deals[world.deals["status"].eq("open")]
            assert kinds["slipped_forecast"] == open_["expected_close_at"].lt(world.as_of).sum()

    def test_each_entry_is_where_the_manifest_says(self, dirt, files, world):
        for entry in dirt.itertuples():
            header, rows = files[entry.file]
            row = rows[int(entry.row) - 1]
            if entry.kind == "report_footer":
                assert row == ([entry.value.strip('"')] if entry.value else [])
                continue
            assert row[0] == entry.record_id
            if entry.column:
                assert row[header.index(entry.column)] == entry.value, entry
            same_as = re.search(r"row (\d+)$", entry.detail)
            if entry.kind == "duplicate_row":
                assert row == rows[int(same_as.group(1)) - 1]
            elif entry.kind == "repeated_id":
                original = rows[int(same_as.group(1)) - 1]
                assert original[0] == row[0] and original != row
            elif entry.kind == "test_record":
                assert "TEST - DO NOT USE" in row
            elif entry.kind == "blank_amount":
                assert entry.value == "" and entry.clean_value != ""
            elif entry.kind == "mojibake":
                assert entry.value != entry.clean_value
                assert ftfy.fix_text(entry.value, uncurl_quotes=False) == entry.clean_value

    def test_dates_of_dated_defects(self, dirt, files, world):
        for entry in dirt[
            dirt["kind"].isin(["created_after_closed", "slipped_forecast"])
        ].itertuples():
            header, rows = files[entry.file]
            row = dict(zip(header, rows[int(entry.row) - 1], strict=True))
            if entry.kind == "slipped_forecast":
                assert pd.Timestamp(entry.value) < world.as_of
                continue
            closed = next(
                row[h] for h in ("Close Date", "Deal - Won time", "Deal - Lost time") if row.get(h)
            )
            assert pd.Timestamp(entry.value).normalize() > pd.Timestamp(closed).normalize()

    def test_zero_amounts_are_on_lost_deals(self, dirt, files):
        zero = dirt[dirt["kind"].eq("zero_amount_lost")]
        assert not zero.empty
        for entry in zero.itertuples():
            header, rows = files[entry.file]
            row = dict(zip(header, rows[int(entry.row) - 1], strict=True))
            status = row.get("Stage") or row.get("Deal Stage") or row.get("Deal - Status")
            assert status in ("Closed Lost", "lost")
            assert float(entry.value.strip("$")) == 0

    def test_undirtied_rows_match_the_world(self, dirt, files, rendered, world):
        header, rows = files[rendered["salesforce_deals"].name]
        touched = set(
            dirt.loc[dirt["file"].eq(rendered["salesforce_deals"].name), "row"].astype(int)
        )
        clean = [r for i, r in enumerate(rows, start=1) if i not in touched and r]
        clean = [r for r in clean if len(r) == len(header)]
        table = pd.DataFrame(clean, columns=header)
        amounts = table["Amount"].str.replace(r"[$,]", "", regex=True).astype(float)
        world_amounts = world.deals["amount"].round(2)
        assert amounts.isin(world_amounts).all()
        assert len(table) > 0.9 * len(world.deals)


class TestSample:
    def test_committed_files_equal_a_fresh_rendering(self, tmp_path):
        fresh = write_sample(tmp_path)
        bundled = sample_paths()
        assert sorted(fresh) == sorted(bundled)
        for key, path in fresh.items():
            assert bundled[key].read_bytes() == path.read_bytes(), f"{key}: run `make sample`"

    def test_sample_is_small_and_has_thousands_of_deals(self):
        paths = sample_paths()
        # Four vendor exports, the stage history (1.3 MB), the manifest and the truth.
        assert sum(p.stat().st_size for p in paths.values()) < 5_000_000
        _, rows = read_rows(paths["salesforce_deals"], "cp1252")
        assert 2000 <= len(rows) <= 4000

    def test_command_line_writes_the_files(self, tmp_path, capsys):
        assert main(["--out", str(tmp_path / "out")]) == 0
        written = {p.name for p in (tmp_path / "out").iterdir()}
        assert written == {p.name for p in sample_paths().values()}
        assert "salesforce_deals" in capsys.readouterr().out

    @pytest.mark.parametrize("crm", ["salesforce", "hubspot", "pipedrive"])
    def test_load_sample_reads_the_bundled_exports(self, crm):
        export = load_sample(crm=crm)
        world = sample_world()
        assert export.crm == crm
        assert len(export.deals) == len(world.deals)
        assert (export.activities is not None) == (crm == "salesforce")

    def test_load_sample_refuses_an_unknown_crm(self):
        with pytest.raises(InvalidValueError, match="crm"):
            load_sample(crm="zoho")
