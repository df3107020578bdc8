"""read_export on one fixture per quirk: loaded deals match a hand-written expectation, and the
row invariant holds for every fixture (each data row kept once or dropped once)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from salesinsight.exceptions import DataQualityWarning
from salesinsight.export import check_invariant, read_export

DATA = Path(__file__).parent / "data" / "exports"
NaT = None

# Data rows per fixture file, counted by hand (records after the header, blank lines included,
# trailing blank lines excluded).
N_ROWS = {
    "salesforce_report.csv": 11,
    "salesforce_report_eu.csv": 3,
    "salesforce_api.csv": 5,
    "salesforce_summary_report.csv": 6,
    "salesforce_tasks.csv": 5,
    "salesforce_accounts.csv": 4,
    "salesforce_printable_view.xls": 3,
    "hubspot_deals.csv": 4,
    "hubspot_api_deals.csv": 3,
    "hubspot_activities.csv": 5,
    "pipedrive_deals.csv": 4,
    "pipedrive_deals_cs.csv": 2,
    "zoho_deals.csv": 3,
    "zoho_calls.csv": 2,
    "zoho_events.csv": 3,
    "zoho_tasks.csv": 2,
    "zoho_deals_ids.csv": 2,
    "hubspot_calls.csv": 2,
    "hubspot_emails.csv": 1,
    "hubspot_meetings.csv": 2,
    "hubspot_notes.csv": 1,
    "pipedrive_activities.csv": 3,
    "salesforce_activity_report.csv": 3,
    "salesforce_task_api.csv": 2,
    "salesforce_event_api.csv": 1,
    "generic_deals.csv": 3,
    "messy_layout.csv": 5,
}

DEAL_FIELDS = ["deal_name", "status", "amount", "created_at", "closed_at", "expected_close_at"]


def expected_frame(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=DEAL_FIELDS)
    for c in ("created_at", "closed_at", "expected_close_at"):
        frame[c] = pd.to_datetime(frame[c], format="mixed").astype("datetime64[ns]")
    frame["amount"] = frame["amount"].astype(float)
    return frame


def assert_deals(export, rows: list[tuple]) -> None:
    got = export.deals[DEAL_FIELDS].reset_index(drop=True)
    want = expected_frame(rows)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=False)


def read(*names: str, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        export = read_export([DATA / n for n in names], **kwargs)
    check_invariant(export, {n: N_ROWS[n] for n in names})
    return export


def reasons(export, code_word: str) -> list[int]:
    ledger = export.ledger
    return ledger.loc[ledger["reason"].str.contains(code_word), "source_row"].tolist()


class TestReadExportSalesforce:
    def test_report_with_footer_duplicates_and_test_record(self):
        export = read("salesforce_report.csv")
        assert export.crm == "salesforce"
        assert_deals(
            export,
            [
                ("Acme - 10 seats", "won", 22700.0, "2024-03-01", "2024-06-12", NaT),
                ("Acme - renewal", "lost", 0.0, "2024-06-20", "2024-07-30", NaT),
                ("Beta - pilot", "open", 5000.0, "2023-11-03", NaT, "2024-01-15"),
                ("Gamma - platform", "won", 1250000.0, NaT, "2023-02-01", NaT),
            ],
        )
        ledger = export.ledger
        assert reasons(export, "exact duplicate of row 3") == [4]
        assert reasons(export, "test record") == [5]
        created = ledger[ledger["column"] == "created_at"]
        assert created[["source_row", "action", "value"]].values.tolist() == [
            [6, "set_missing", "2023-05-10"]
        ]
        footer = ledger[ledger["source_row"] >= 7]
        assert footer["source_row"].tolist() == [7, 8, 9, 10, 11]
        assert (footer["action"] == "dropped").all()
        deals = export.deals
        assert deals["lead_source_group"].tolist() == [
            "referral",
            "existing_customer",
            "inbound",
            "outbound",
        ]
        assert deals["deal_type"].tolist() == [
            "new_business",
            "existing_business",
            "new_business",
            "new_business",
        ]
        assert deals["account_id"].tolist() == ["acme", "acme", "beta", "gamma"]
        assert deals["numoflawyers"].tolist()[0] == "12"

    def test_derived_ids_are_stable_across_reads(self):
        first = read("salesforce_report.csv").deals["deal_id"]
        second = read("salesforce_report.csv").deals["deal_id"]
        assert first.tolist() == second.tolist()
        assert first.str.fullmatch(r"deal-[0-9a-f]{16}").all()
        assert first.is_unique

    def test_eu_report_cp1252_semicolons_day_first(self):
        export = read("salesforce_report_eu.csv", fx={"EUR": 1.10})
        assert_deals(
            export,
            [
                ("Müller - Lizenz", "won", 1234.56 * 1.10, "2024-01-02", "2024-03-25", NaT),
                ("SG - Pilot", "lost", 1100.0, "2024-02-15", "2024-04-03", NaT),
                ("Café - Expansion", "open", np.nan, "2024-06-05", NaT, "2024-09-01"),
            ],
        )
        assert export.deals["amount_original"].tolist()[:2] == [1234.56, 1000.0]
        assert export.deals["currency"].tolist() == ["EUR", "EUR", "CHF"]
        no_rate = export.ledger[export.ledger["column"] == "amount"]
        assert no_rate[["source_row", "action"]].values.tolist() == [[3, "set_missing"]]
        assert "fx={'CHF'" in no_rate["reason"].iloc[0]
        info = export.summary().iloc[0]
        assert (info["encoding"], info["delimiter"], info["decimal"]) == ("cp1252", ";", ",")
        assert "D/M/Y" in info["date_format"]

    def test_api_export_flags_decide_and_repeated_id_dropped(self):
        export = read("salesforce_api.csv")
        assert_deals(
            export,
            [
                ("Acme - expansion", "won", 45000.0, "2024-01-10 14:03:22", "2024-05-31", NaT),
                ("Acme - services", "lost", 12000.0, "2024-02-01 09:00:00", "2024-06-30", NaT),
                ("Delta - new logo", "open", 30000.0, "2023-10-01 08:30:00", NaT, "2023-12-31"),
                ("Delta - migrated", "won", 8000.0, NaT, "2022-03-15", NaT),
            ],
        )
        assert export.deals["deal_id"].iloc[0] == "0061U00000AbCdEFGH"
        assert export.deals["account_id"].iloc[0] == "0011U00000XyZaBCDE"
        repeated = export.ledger[export.ledger["reason"].str.contains("repeats row 3")]
        assert repeated["source_row"].tolist() == [4]

    def test_summary_report_subtotals_and_grouping_cells(self):
        export = read("salesforce_summary_report.csv")
        assert_deals(
            export,
            [
                ("Acme - 10 seats", "won", 1000.0, "2024-03-01", "2024-06-12", NaT),
                ("Acme - add-on", "open", 500.0, "2024-05-02", NaT, "2024-08-01"),
                ("Beta - pilot", "lost", 700.0, "2024-04-04", "2024-06-30", NaT),
            ],
        )
        assert export.deals["owner"].tolist() == ["Ann Lee", "Ann Lee", "Bob Stone"]
        assert export.summary()["dropped_summary"].iloc[0] == 3
        filled = export.ledger[export.ledger["action"] == "fixed"]
        assert filled[["source_row", "column"]].values.tolist() == [[2, "owner"]]

    def test_html_table_saved_as_xls(self):
        export = read("salesforce_printable_view.xls")
        assert_deals(
            export,
            [
                ("Acme - 10 seats", "won", 22700.0, "2024-03-01", "2024-06-12", NaT),
                ("Beta - pilot", "open", 5000.0, "2024-07-20", NaT, "2024-09-15"),
            ],
        )
        assert export.summary()["delimiter"].iloc[0] is None

    def test_deals_activities_and_accounts_together(self):
        export = read("salesforce_report.csv", "salesforce_tasks.csv", "salesforce_accounts.csv")
        roles = export.summary().set_index("file")["role"].to_dict()
        assert roles == {
            "salesforce_report.csv": "deals",
            "salesforce_accounts.csv": "accounts",
            "salesforce_tasks.csv": "activities",
        }
        deals = export.deals.set_index("deal_name")
        acts = export.activities
        assert acts["type"].tolist() == ["call", "email", "meeting", "call", "task"]
        linked = acts["deal_id"].tolist()
        assert linked[0] == linked[1] == deals.loc["Acme - 10 seats", "deal_id"]
        assert linked[2] == deals.loc["Beta - pilot", "deal_id"]
        assert pd.isna(linked[3])
        assert deals.loc["Acme - 10 seats", "industry"] == "Manufacturing"
        assert deals.loc["Gamma - platform", "employees"] == 9000.0
        assert deals.loc["Acme - 10 seats", "account_id"] == "A1"
        unlinked = export.ledger[export.ledger["source_file"] == "salesforce_tasks.csv"]
        assert unlinked[["source_row", "column", "value"]].values.tolist() == [
            [4, "deal_id", "Unknown deal"]
        ]

    def test_custom_field_mapped_with_columns(self, tmp_path):
        path = tmp_path / "report.csv"
        path.write_text(
            "Opportunity Name,Stage,Amount,Total ACV,Created Date,Close Date\n"
            "A,Closed Won,10,$5.00,1/2/2024,2/2/2024\n"
        )
        export = read_export(path, columns={"Total ACV": "amount"})
        assert export.deals["amount"].tolist() == [5.0]
        assert export.deals["amount_2"].tolist() == ["10"]


class TestReadExportHubSpot:
    def test_ui_export_mojibake_currencies_and_flags(self):
        export = read("hubspot_deals.csv", fx={"EUR": 1.10})
        assert_deals(
            export,
            [
                (
                    "O’Connor - onboarding",
                    "won",
                    45362.12,
                    "2024-01-15 09:12",
                    "2024-04-30 10:00",
                    NaT,
                ),
                ("Zeta - upgrade", "open", 11015.0 * 1.1, "2024-06-01 13:45", NaT, "2024-09-30"),
                ("Eta - trial", "lost", np.nan, "2024-02-01 08:00", "2024-03-01", NaT),
                ("Theta - big", "won", 99000 * 1.1, "2024-05-05 10:00", "2024-08-15 12:00", NaT),
            ],
        )
        deals = export.deals
        assert deals["deal_id"].tolist()[0] == "101234567890"
        assert deals["account"].iloc[0] == "O’Connor Ltd"
        fixed = export.ledger[export.ledger["action"] == "fixed"]
        assert set(fixed["column"]) == {"deal_name", "account"}
        assert fixed["value"].iloc[0].startswith("O‚Äô")

    def test_api_style_stage_ids_and_epoch_dates(self):
        export = read("hubspot_api_deals.csv")
        assert_deals(
            export,
            [
                ("Iota - seats", "won", 1500.0, "2024-01-01", "2024-05-01", NaT),
                ("Kappa - custom pipeline", "lost", 2500.0, "2024-02-01", "2024-06-01", NaT),
                ("Lambda - open", "open", 800.0, "2024-03-01", NaT, "2024-12-31"),
            ],
        )

    def test_engagements_linked_by_deal_id(self):
        export = read("hubspot_deals.csv", "hubspot_activities.csv", fx={"EUR": 1.1, "SEK": 0.1})
        acts = export.activities
        assert acts["deal_id"].tolist()[:3] == ["101234567890", "101234567891", "101234567892"]
        assert acts["type"].tolist() == ["call", "email", "meeting", "other"]
        assert reasons(export, "exact duplicate of row 3") == [4]
        assert export.deals["amount"].iloc[2] == pytest.approx(200.0)


class TestReadExportOthers:
    def test_pipedrive_status_decides_and_deleted_dropped(self):
        export = read("pipedrive_deals.csv", fx={"EUR": 1.1, "GBP": 1.25})
        assert_deals(
            export,
            [
                ("Omega deal", "won", 1000.0, "2025-01-05 09:00", "2025-02-28 14:00", NaT),
                ("Sigma deal", "lost", 2200.0, "2025-01-10 10:00", "2025-02-01 16:30", NaT),
                ("Tau deal", "open", 625.625, "2025-02-01 11:00", NaT, "2025-04-30"),
            ],
        )
        assert export.deals["stage"].iloc[1] == "Proposal Made"
        assert reasons(export, "deleted") == [4]

    def test_pipedrive_czech_headers_with_bom(self):
        export = read("pipedrive_deals_cs.csv", fx={"CZK": 0.04})
        assert_deals(
            export,
            [
                ("Kontrakt Brno", "won", 5000.0, "2024-03-01 08:00", "2024-04-02 12:00", NaT),
                ("Pilot Praha", "open", 1600.02, "2024-05-01 08:00", NaT, NaT),
            ],
        )

    def test_zoho_deals_and_calls(self):
        export = read("zoho_deals.csv", "zoho_calls.csv")
        assert export.crm == "zoho"
        assert_deals(
            export,
            [
                ("Nu - CRM rollout", "won", 22700.0, "2021-04-15 00:02:00", "2021-04-30", NaT),
                ("Xi - renewal", "lost", 8000.0, "2021-03-01 10:15:00", "2021-05-12", NaT),
                ("Pi - pilot", "open", 54000.0, "2021-03-20 16:40:30", NaT, "2021-07-01"),
            ],
        )
        abbreviation = export.ledger[export.ledger["column"] == "amount"]
        assert abbreviation[["source_row", "action", "value"]].values.tolist() == [
            [3, "fixed", "$54K"]
        ]
        acts = export.activities
        assert acts["type"].tolist() == ["call", "call"]
        assert acts["deal_id"].tolist() == export.deals["deal_id"].tolist()[:2]

    def test_generic_with_columns_and_mixed_money(self):
        columns = {
            "Ref": "deal_id",
            "Customer": "account",
            "Rep": "owner",
            "Opened": "created_at",
            "Outcome": "status",
            "Deal Value": "amount",
            "Source": "lead_source",
        }
        export = read("generic_deals.csv", crm="generic", columns=columns)
        assert export.crm == "generic"
        got = export.deals[["deal_id", "status", "amount", "created_at"]]
        assert got["amount"].tolist() == [54000.0, 1234.56, 12.0]
        assert got["created_at"].dt.strftime("%Y-%m-%d").tolist() == [
            "2021-07-03",
            "2021-07-15",
            "2021-08-01",
        ]
        assert export.deals["region"].tolist() == ["EMEA", "EMEA", "APAC"]

    def test_blank_rows_trailing_columns_mixed_line_ends(self):
        export = read("messy_layout.csv")
        assert_deals(
            export,
            [
                ("A deal", "won", 100.0, "2024-01-02", "2024-02-01", NaT),
                ("B deal", "open", 200.0, "2024-01-03", NaT, "2024-03-01"),
                ("C deal", "lost", 300.0, "2024-01-04", "2024-01-20", NaT),
            ],
        )
        assert export.deals["source_row"].tolist() == [1, 3, 5]
        assert reasons(export, "blank row") == [2, 4]
        assert not any(c.startswith("unnamed") for c in export.deals.columns)


class TestInvariant:
    @pytest.mark.parametrize(
        "names",
        [
            ("salesforce_report.csv",),
            ("salesforce_report_eu.csv",),
            ("salesforce_api.csv",),
            ("salesforce_summary_report.csv",),
            ("salesforce_printable_view.xls",),
            ("salesforce_report.csv", "salesforce_tasks.csv", "salesforce_accounts.csv"),
            ("hubspot_deals.csv", "hubspot_activities.csv"),
            ("hubspot_api_deals.csv",),
            ("pipedrive_deals.csv",),
            ("pipedrive_deals_cs.csv",),
            ("zoho_deals.csv", "zoho_calls.csv"),
            ("messy_layout.csv",),
        ],
    )
    def test_every_row_kept_or_dropped_once(self, names):
        read(*names)

    def test_every_fixture_is_covered(self):
        assert {p.name for p in DATA.iterdir()} == set(N_ROWS)

    def test_checker_catches_a_lost_row(self):
        export = read("salesforce_report.csv")
        broken = type(export)(
            deals=export.deals.iloc[1:],
            activities=None,
            accounts=None,
            ledger=export.ledger,
            crm=export.crm,
            files=export.files,
        )
        with pytest.raises(AssertionError, match=r"neither kept nor dropped: \[1\]"):
            check_invariant(broken)

    def test_checker_catches_a_row_kept_and_dropped(self):
        export = read("salesforce_report.csv")
        extra = export.ledger.iloc[:1].assign(source_row=1, action="dropped")
        broken = type(export)(
            deals=export.deals,
            activities=None,
            accounts=None,
            ledger=pd.concat([export.ledger, extra]),
            crm=export.crm,
            files=export.files,
        )
        with pytest.raises(AssertionError, match="more than once"):
            check_invariant(broken)


class TestFilesSideBySide:
    """Large exports are read and cleaned in threads; the result must not depend on it."""

    FILES = ("salesforce_report.csv", "salesforce_tasks.csv", "salesforce_accounts.csv")

    def test_same_export_as_one_file_after_the_other(self, monkeypatch):
        import salesinsight.export as export_module

        one_by_one = read(*self.FILES)
        monkeypatch.setattr(export_module, "PARALLEL_BYTES", 0)
        # (Arrow's pool follows OMP_NUM_THREADS, which the test command sets to 1.)
        monkeypatch.setattr(export_module.pa, "cpu_count", lambda: 2)
        calls = []
        real = export_module.ThreadPoolExecutor

        def counting(*args, **kwargs):
            calls.append(kwargs.get("max_workers"))
            return real(*args, **kwargs)

        monkeypatch.setattr(export_module, "ThreadPoolExecutor", counting)
        side_by_side = read(*self.FILES)
        assert calls and calls[0] >= 2
        for name in ("deals", "activities", "accounts", "ledger", "files"):
            pd.testing.assert_frame_equal(getattr(side_by_side, name), getattr(one_by_one, name))
        pd.testing.assert_series_equal(side_by_side.ledger_codes, one_by_one.ledger_codes)

    def test_errors_come_in_the_order_of_one_file_after_the_other(self, monkeypatch, tmp_path):
        import salesinsight.export as export_module
        from salesinsight.exceptions import ExportFormatError

        monkeypatch.setattr(export_module, "PARALLEL_BYTES", 0)
        monkeypatch.setattr(export_module.pa, "cpu_count", lambda: 2)
        # An activities export alone: the missing deals export is the error, whatever else.
        with pytest.raises(ExportFormatError, match="No deals export"):
            read_export([DATA / "salesforce_tasks.csv", DATA / "salesforce_accounts.csv"])
        # A file that cannot be read is reported before any cleaning problem of another.
        bad = tmp_path / "broken.csv"
        bad.write_bytes(b"%PDF-1.4 not a csv")
        with pytest.raises(ExportFormatError, match="broken.csv"):
            read_export([DATA / "salesforce_report.csv", bad])
