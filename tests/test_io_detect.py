"""Autodetection of vendor and table role from headers; errors that say what to do."""

from __future__ import annotations

import pytest

from salesinsight.exceptions import ColumnNotFoundError, ExportFormatError
from salesinsight.export import read_export
from salesinsight.io.detect import detect, resolve_columns
from salesinsight.io.vendors.salesforce import REPORT_DEALS


class TestDetect:
    @pytest.mark.parametrize(
        ("headers", "crm", "role"),
        [
            (
                [
                    "Opportunity Owner",
                    "Account Name",
                    "Opportunity Name",
                    "Stage",
                    "Amount",
                    "Close Date",
                    "Created Date",
                ],
                "salesforce",
                "deals",
            ),
            (
                [
                    "Id",
                    "AccountId",
                    "StageName",
                    "Amount",
                    "CloseDate",
                    "IsWon",
                    "IsClosed",
                    "CreatedDate",
                ],
                "salesforce",
                "deals",
            ),
            (
                [
                    "Subject",
                    "Activity Type",
                    "Date",
                    "Assigned",
                    "Company / Account",
                    "Opportunity",
                ],
                "salesforce",
                "activities",
            ),
            (
                [
                    "Record ID",
                    "Deal Name",
                    "Deal Stage",
                    "Pipeline",
                    "Amount",
                    "Create Date",
                    "Deal owner",
                ],
                "hubspot",
                "deals",
            ),
            (
                [
                    "Deal - ID",
                    "Deal - Title",
                    "Deal - Value",
                    "Deal - Status",
                    "Deal - Stage",
                    "Deal - Deal created",
                ],
                "pipedrive",
                "deals",
            ),
            (
                [
                    "Potential Name",
                    "Potential Owner",
                    "Closing Date",
                    "Created Time",
                    "Stage",
                    "Amount",
                ],
                "zoho",
                "deals",
            ),
            (
                ["Subject", "Call Type", "Call Start Time", "Call Owner", "Related To"],
                "zoho",
                "activities",
            ),
            (
                [
                    "(Do Not Modify) Opportunity",
                    "Topic",
                    "Est. close date",
                    "Est. revenue",
                    "Status",
                    "Created On",
                ],
                "dynamics",
                "deals",
            ),
            (["Account ID", "Account Name", "Industry", "Employees"], "salesforce", "accounts"),
        ],
    )
    def test_layouts(self, headers, crm, role):
        match = detect(headers)
        assert (match.crm, match.role) == (crm, role)

    def test_unknown_layout_lists_the_closest_formats(self):
        with pytest.raises(ExportFormatError) as err:
            detect(["Foo", "Bar", "Opportunity Name", "Stage"], name="x.csv")
        message = str(err.value)
        assert "Could not tell which CRM export `x.csv` is" in message
        assert "Salesforce opportunity report" in message
        assert "crm='generic'" in message

    def test_missing_required_column_names_the_closest_header(self):
        headers = [
            "Opportunity Owner",
            "Account Name",
            "Opportunity Name",
            "Stage",
            "Amount",
            "Close Date",
            "Createdd Date",
        ]
        with pytest.raises(ColumnNotFoundError) as err:
            detect(headers, name="r.csv")
        message = str(err.value)
        assert "`Created Date`" in message
        assert "Closest: `Createdd Date`" in message
        assert "columns={'Createdd Date': 'created_at'}" in message

    def test_columns_fix_the_missing_column(self):
        headers = [
            "Opportunity Name",
            "Stage",
            "Amount",
            "Close Date",
            "Opened On",
            "Opportunity Owner",
        ]
        match = detect(headers, columns={"Opened On": "created_at"})
        assert match.crm == "salesforce"
        assert match.mapping["Opened On"] == "created_at"

    def test_forced_crm_reports_missing_columns(self):
        with pytest.raises(ColumnNotFoundError):
            detect(["Deal - Title", "Deal - Value"], crm="pipedrive")

    def test_unknown_crm_name(self):
        with pytest.raises(ExportFormatError, match="Unknown crm='sugarcrm'"):
            detect(["a"], crm="sugarcrm")

    def test_generic_needs_its_fields(self):
        match = detect(
            ["Ref", "Opened", "Outcome", "Value"],
            crm="generic",
            columns={"Ref": "deal_id", "Opened": "created_at", "Outcome": "status"},
        )
        assert (match.crm, match.mapping["Value"]) == ("generic", "amount")


class TestResolveColumns:
    def test_user_map_overrides_the_vendor_map(self):
        mapping = resolve_columns(
            ["Amount", "Total ACV", "Stage"], REPORT_DEALS, {"total acv": "amount"}
        )
        assert mapping == {"Total ACV": "amount", "Stage": "stage"}

    def test_headers_match_regardless_of_case_and_spaces(self):
        mapping = resolve_columns([" opportunity  NAME ", "STAGE"], REPORT_DEALS)
        assert mapping == {" opportunity  NAME ": "deal_name", "STAGE": "stage"}


class TestReadExportErrors:
    def test_no_deals_file(self, tmp_path):
        path = tmp_path / "tasks.csv"
        path.write_text(
            "Subject,Activity Type,Date,Assigned,Company / Account,Opportunity\n"
            "a,Call,1/2/24,Ann,Acme,X\n"
        )
        with pytest.raises(ExportFormatError, match="No deals export"):
            read_export(path)

    def test_bad_fx(self, tmp_path):
        path = tmp_path / "d.csv"
        path.write_text("Deal Name,Stage,Amount,Created Date\nA,Won,1,2024-01-01\n")
        with pytest.raises(ValueError, match="fx rates must be positive"):
            read_export(path, fx={"EUR": -1})

    def test_missing_file(self, tmp_path):
        with pytest.raises(FileNotFoundError):
            read_export(tmp_path / "nope.csv")
