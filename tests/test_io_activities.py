"""Activity exports of every vendor: detected, linked to their deals, counted by the engagement
proxies, with the contact each activity was with."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from salesinsight.export import check_invariant, read_export
from salesinsight.features import trust_features

DATA = Path(__file__).parent / "data" / "exports"
ENGAGEMENT = ["meetings_30d", "calls_30d", "emails_30d", "activities_30d"]


def read(*names: str):
    export = read_export([DATA / n for n in names])
    check_invariant(export)
    return export


def engagement(export, deal_id: str) -> list[int]:
    data = trust_features(export.deals, export.activities)
    return data.set_index("deal_id").loc[deal_id, ENGAGEMENT].astype(int).tolist()


def formats(export) -> dict[str, str]:
    return dict(zip(export.files["file"], export.files["format"], strict=True))


class TestZoho:
    def test_events_are_meetings_linked_by_potential_id(self):
        export = read("zoho_deals_ids.csv", "zoho_events.csv")
        assert formats(export)["zoho_events.csv"] == "Zoho CRM events export"
        acts = export.activities
        assert acts["type"].tolist() == ["meeting"] * 3
        assert acts["deal_id"].tolist()[:2] == ["4876876000000200001"] * 2
        assert pd.isna(acts["deal_id"].iloc[2])  # a lead's event: no deal among those read
        assert acts["contact"].tolist()[:2] == ["4876876000000111001", "4876876000000111002"]
        assert engagement(export, "4876876000000200001") == [2, 0, 0, 2]

    def test_tasks_without_related_records_go_to_the_ledger_as_not_linkable(self):
        export = read("zoho_deals_ids.csv", "zoho_tasks.csv")
        assert formats(export)["zoho_tasks.csv"] == "Zoho CRM tasks export"
        assert len(export.activities) == 0
        ledger = export.ledger[export.ledger["source_file"] == "zoho_tasks.csv"]
        assert ledger["action"].tolist() == ["dropped", "dropped"]
        assert ledger["reason"].str.startswith("not linkable").all()

    def test_calls_still_read(self):
        export = read("zoho_deals.csv", "zoho_calls.csv")
        assert export.activities["type"].tolist() == ["call", "call"]


class TestHubSpot:
    FILES = ("hubspot_calls.csv", "hubspot_emails.csv", "hubspot_meetings.csv", "hubspot_notes.csv")

    def test_each_kind_of_export_is_read_with_its_type_and_contacts(self):
        export = read("hubspot_deals.csv", *self.FILES)
        found = formats(export)
        assert [found[f] for f in self.FILES] == [
            "HubSpot calls export",
            "HubSpot emails export",
            "HubSpot meetings export",
            "HubSpot notes export",
        ]
        acts = export.activities.set_index("activity_id")
        assert acts.loc[["61001", "62001", "63001", "64001"], "type"].tolist() == [
            "call",
            "email",
            "meeting",
            "other",
        ]
        onboarding = acts[acts["deal_id"] == "101234567890"]
        assert sorted(onboarding["contact"].unique()) == ["901", "902", "903"]
        assert engagement(export, "101234567890") == [2, 2, 0, 4]
        assert engagement(export, "101234567891") == [0, 0, 1, 2]


class TestPipedrive:
    def test_activities_with_contact_person(self):
        export = read("pipedrive_deals.csv", "pipedrive_activities.csv")
        acts = export.activities
        assert acts["deal_id"].tolist() == ["1", "1", "2"]
        assert acts["contact"].tolist() == ["Olga Berg", "Piet Omega", "Sara Sigma"]
        assert engagement(export, "1") == [1, 1, 0, 2]


class TestSalesforce:
    def test_activity_report_in_labels_linked_by_related_to(self):
        export = read("salesforce_report.csv", "salesforce_activity_report.csv")
        assert formats(export)["salesforce_activity_report.csv"] == (
            "Salesforce tasks and events report"
        )
        acts = export.activities
        assert acts["type"].tolist() == ["call", "meeting", "email"]
        assert acts["deal_id"].notna().all()
        assert acts["contact"].tolist() == ["Mia Chen", "Raj Patel", "Lena Vogt"]
        acme = export.deals.loc[export.deals["deal_name"] == "Acme - 10 seats", "deal_id"].iloc[0]
        assert engagement(export, acme) == [1, 1, 0, 2]

    def test_task_and_event_api_exports(self):
        export = read("salesforce_api.csv", "salesforce_task_api.csv", "salesforce_event_api.csv")
        found = formats(export)
        assert found["salesforce_task_api.csv"] == "Salesforce Task / Event API export"
        assert found["salesforce_event_api.csv"] == "Salesforce Task / Event API export"
        acts = export.activities.set_index("activity_id")
        assert acts["type"].tolist() == ["call", "email", "meeting"]
        assert acts["contact"].nunique() == 2
        assert engagement(export, "0061U00000AbCdEFGH") == [1, 1, 1, 3]


@pytest.fixture
def dynamics_files(tmp_path) -> list[Path]:
    """A Dynamics 365 opportunities view and an activities view, as Excel saves them."""
    deals = openpyxl.Workbook()
    sheet = deals.active
    sheet.append(["(Do Not Modify) Opportunity", "(Do Not Modify) Row Checksum",
                  "(Do Not Modify) Modified On", "Topic", "Potential Customer",
                  "Est. close date", "Est. revenue", "Status", "Owner", "Created On"])  # fmt: skip
    sheet.append(["1f0e2d3c-0000-0000-0000-000000000001", "abc==", dt.datetime(2024, 3, 1),
                  "Contoso - 50 seats", "Contoso Ltd", 45351, "3,522.00", "Won", "Pat Kim",
                  45292])  # fmt: skip
    acts = openpyxl.Workbook()
    sheet = acts.active
    sheet.append(["(Do Not Modify) Activity", "(Do Not Modify) Row Checksum",
                  "(Do Not Modify) Modified On", "Subject", "Regarding", "Activity Type",
                  "Activity Status", "Owner", "Start Date", "Contact"])  # fmt: skip
    rows = [
        ("a1", "Intro", "Phone Call", dt.datetime(2024, 1, 3, 9), "Jo Ray"),
        ("a2", "Workshop", "Appointment", dt.datetime(2024, 1, 10, 9), "Kim Lu"),
        ("a3", "Quote", "Email", dt.datetime(2024, 1, 11, 9), "Jo Ray"),
        ("a4", "Send contract", "Task", dt.datetime(2024, 3, 20, 9), "Jo Ray"),
    ]
    for key, subject, kind, when, contact in rows:
        sheet.append([key, "x==", when, subject, "Contoso - 50 seats", kind, "Completed",
                      "Pat Kim", when, contact])  # fmt: skip
    paths = [tmp_path / "My Opportunities.xlsx", tmp_path / "My Activities.xlsx"]
    deals.save(paths[0])
    acts.save(paths[1])
    return paths


class TestDynamics:
    def test_activities_view(self, dynamics_files):
        export = read_export(dynamics_files)
        check_invariant(export)
        assert formats(export)["My Activities.xlsx"] == "Dynamics 365 activities export"
        acts = export.activities
        assert acts["type"].tolist() == ["call", "meeting", "email", "task"]
        assert (acts["deal_id"] == "1f0e2d3c-0000-0000-0000-000000000001").all()
        assert acts["contact"].nunique() == 2
        assert engagement(export, "1f0e2d3c-0000-0000-0000-000000000001") == [1, 1, 1, 3]
