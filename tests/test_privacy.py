"""Pseudonyms that keep the analysis intact, and CSV cells a spreadsheet will not execute."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest

from salesinsight.exceptions import InvalidValueError
from salesinsight.privacy import excel_safe, name_columns, pseudonymize, pseudonymize_export

PSEUDONYM = re.compile(r"^(acct|acctid|rep|contact|text)-[0-9a-f]{12}$")


@pytest.fixture
def deals() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "deal_id": ["d1", "d2", "d3", "d4"],
            "account": ["Acme Corp", "Acme Corp", "Globex", None],
            "account_id": ["acme-corp", "acme-corp", "globex", None],
            "owner": ["Ann Lee", "Bob Stone", "Ann Lee", "Ann Lee"],
            "opportunity_name": ["Acme Corp - renewal", "Acme Corp - upsell", "Globex new", "x"],
            "contact_person": ["Jo Smith", None, "Kim Park", "Kim Park"],
            "stage": ["Closed Won", "Closed Lost", "Prospecting", "Closed Won"],
            "amount": [100.0, 200.0, 300.0, 400.0],
            "owner_prior_deals": [0, 0, 1, 2],
            "same_owner_as_last": [False, False, False, True],
        }
    )


@dataclasses.dataclass(frozen=True)
class FakeExport:
    deals: pd.DataFrame
    activities: pd.DataFrame | None
    accounts: pd.DataFrame | None
    ledger: pd.DataFrame
    crm: str


class TestNameColumns:
    def test_finds_canonical_and_name_like_text_columns(self, deals):
        assert name_columns(deals) == [
            "account",
            "account_id",
            "owner",
            "opportunity_name",
            "contact_person",
        ]

    def test_ignores_numbers_flags_and_categories(self, deals):
        found = name_columns(deals)
        assert not {"owner_prior_deals", "same_owner_as_last", "stage", "deal_id"} & set(found)

    def test_whole_words_only(self):
        frame = pd.DataFrame({"ownership": ["private"], "deal_owner": ["Ann"], "renamed": ["x"]})
        assert name_columns(frame) == ["deal_owner"]


class TestPseudonymize:
    def test_replaces_every_name_by_a_prefixed_hash(self, deals):
        out = pseudonymize(deals, salt="pepper")
        for column in name_columns(deals):
            values = out[column].dropna()
            assert values.map(lambda v: bool(PSEUDONYM.match(v))).all(), column
        assert out["account"].iloc[0].startswith("acct-")
        assert out["account_id"].iloc[0].startswith("acctid-")
        assert out["owner"].iloc[0].startswith("rep-")
        assert out["contact_person"].iloc[0].startswith("contact-")

    def test_same_name_same_pseudonym_so_groupings_survive(self, deals):
        out = pseudonymize(deals, salt="pepper")
        assert out["account"].iloc[0] == out["account"].iloc[1]
        assert out["account"].iloc[0] != out["account"].iloc[2]
        assert out.groupby("owner").size().sort_values().tolist() == [1, 3]

    def test_stable_across_calls_and_tables(self, deals):
        activities = pd.DataFrame({"owner": ["Bob Stone"], "account": ["Globex"]})
        a = pseudonymize(deals, salt="pepper")
        b = pseudonymize(activities, salt="pepper")
        assert b["owner"].iloc[0] == a["owner"].iloc[1]
        assert b["account"].iloc[0] == a["account"].iloc[2]
        pd.testing.assert_frame_equal(a, pseudonymize(deals, salt="pepper"))

    def test_another_salt_gives_other_pseudonyms(self, deals):
        a = pseudonymize(deals, salt="pepper")["owner"]
        b = pseudonymize(deals, salt="paprika")["owner"]
        assert not set(a) & set(b)

    def test_missing_stays_missing_and_other_columns_untouched(self, deals):
        out = pseudonymize(deals, salt="pepper")
        assert out["account"].isna().tolist() == deals["account"].isna().tolist()
        for column in ("deal_id", "stage", "amount", "owner_prior_deals", "same_owner_as_last"):
            pd.testing.assert_series_equal(out[column], deals[column])

    def test_does_not_modify_the_input(self, deals):
        before = deals.copy()
        pseudonymize(deals, salt="pepper")
        pd.testing.assert_frame_equal(deals, before)

    def test_explicit_columns_and_absent_ones_skipped(self, deals):
        out = pseudonymize(deals, salt="pepper", columns=["owner", "no_such_column"])
        assert out["account"].equals(deals["account"])
        assert out["owner"].str.startswith("rep-").all()

    def test_numeric_ids_in_an_explicit_column_are_hashed_as_text(self):
        out = pseudonymize(pd.DataFrame({"owner": [17, 17, np.nan]}), salt="s", columns=["owner"])
        assert out["owner"].iloc[0] == out["owner"].iloc[1]
        assert out["owner"].iloc[0].startswith("rep-") and pd.isna(out["owner"].iloc[2])

    def test_categorical_column(self):
        frame = pd.DataFrame({"account": pd.Categorical(["Acme", "Acme", "Globex"])})
        out = pseudonymize(frame, salt="s")
        assert out["account"].nunique() == 2 and out["account"].str.startswith("acct-").all()

    @pytest.mark.parametrize("salt", ["", None])
    def test_empty_salt_is_refused(self, deals, salt):
        with pytest.raises(InvalidValueError, match="salt"):
            pseudonymize(deals, salt=salt)


class TestPseudonymizeExport:
    @pytest.fixture
    def export(self, deals) -> FakeExport:
        activities = pd.DataFrame(
            {"activity_id": ["a1"], "deal_id": ["d1"], "account": ["Acme Corp"],
             "owner": ["Ann Lee"], "subject": ["Call with Jo Smith"], "type": ["call"]}
        )  # fmt: skip
        ledger = pd.DataFrame(
            {
                "source_file": ["deals.csv"] * 4,
                "source_row": [2, 5, 7, 9],
                "deal_id": ["d1", "d9", None, "d3"],
                "column": ["owner", None, "amount", "account"],
                "value": ["  Ann Lee ", "Test Account,Globex,Ann Lee,12", "$abc", "Globex"],
                "action": ["fixed", "dropped", "set_missing", "fixed"],
                "reason": [
                    "Whitespace trimmed.",
                    "Duplicate of row 3 (Globex, owner Bob Stone).",
                    "Amount `$abc` is not a number.",
                    "Name repaired.",
                ],
            }
        )
        return FakeExport(deals=deals, activities=activities, accounts=None, ledger=ledger,
                          crm="salesforce")  # fmt: skip

    def test_every_table_is_pseudonymized_consistently(self, export):
        safe = pseudonymize_export(export, salt="pepper")
        assert isinstance(safe, FakeExport) and safe.crm == "salesforce"
        assert safe.activities["owner"].iloc[0] == safe.deals["owner"].iloc[0]
        assert safe.activities["account"].iloc[0] == safe.deals["account"].iloc[0]
        assert safe.activities["subject"].iloc[0].startswith("text-")
        assert safe.accounts is None

    def test_no_known_name_is_left_anywhere(self, export):
        safe = pseudonymize_export(export, salt="pepper")
        text = " ".join(
            table.astype("str").to_csv() for table in (safe.deals, safe.activities, safe.ledger)
        )
        for name in ("Acme Corp", "Globex", "Ann Lee", "Bob Stone", "Jo Smith", "Kim Park"):
            assert name not in text

    def test_ledger_keeps_what_is_not_a_name(self, export):
        ledger = pseudonymize_export(export, salt="pepper").ledger
        assert ledger["value"].iloc[2] == "$abc"
        assert ledger["reason"].iloc[2] == "Amount `$abc` is not a number."
        assert ledger["reason"].iloc[1].startswith("Duplicate of row 3 (acct-")
        assert (
            ledger["value"].iloc[3]
            == pseudonymize_export(export, salt="pepper").deals["account"].iloc[2]
        )
        assert ledger[["source_file", "source_row", "action"]].equals(
            export.ledger[["source_file", "source_row", "action"]]
        )

    def test_input_export_is_unchanged(self, export):
        before = export.ledger.copy()
        pseudonymize_export(export, salt="pepper")
        pd.testing.assert_frame_equal(export.ledger, before)


class TestExcelSafe:
    def test_formula_like_text_gets_an_apostrophe(self):
        frame = pd.DataFrame({"note": ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)",
                                       "\tx", "plain", "a=b", None]})  # fmt: skip
        out = excel_safe(frame)["note"].tolist()
        assert out[:5] == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "'\tx"]
        assert out[5:7] == ["plain", "a=b"] and pd.isna(out[7])

    def test_numbers_stored_as_numbers_are_left_alone(self):
        frame = pd.DataFrame({"amount": [-5.0, 3.0], "n": [-1, 2]})
        pd.testing.assert_frame_equal(excel_safe(frame), frame)

    def test_mixed_object_column_touches_only_strings(self):
        frame = pd.DataFrame({"value": pd.Series([-5, "-5", "=1"], dtype=object)})
        assert excel_safe(frame)["value"].tolist() == [-5, "'-5", "'=1"]

    def test_column_names_and_categoricals(self):
        frame = pd.DataFrame({"=cmd": pd.Categorical(["=x", "y"])})
        out = excel_safe(frame)
        assert list(out.columns) == ["'=cmd"] and out.iloc[:, 0].tolist() == ["'=x", "y"]

    def test_round_trip_through_csv(self, tmp_path):
        frame = pd.DataFrame({"reason": ["=2+5"], "amount": [-12.5]})
        path = tmp_path / "out.csv"
        excel_safe(frame).to_csv(path, index=False)
        assert path.read_text().splitlines() == ["reason,amount", "'=2+5,-12.5"]

    def test_does_not_modify_the_input(self):
        frame = pd.DataFrame({"note": ["=1"]})
        excel_safe(frame)
        assert frame["note"].iloc[0] == "=1"
