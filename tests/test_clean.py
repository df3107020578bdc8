"""Canonicalisation rules: status, dates, money, ids, duplicates and the ledger rows they leave."""

from __future__ import annotations

import pandas as pd
import pytest

from salesinsight.clean.categories import deal_type_of, lead_source_group_of
from salesinsight.clean.ids import account_key
from salesinsight.exceptions import DataQualityWarning
from salesinsight.export import check_invariant, read_export

HEAD = "Id,Name,AccountId,StageName,Amount,CurrencyIsoCode,CloseDate,CreatedDate,IsWon,IsClosed\n"


def export_of(tmp_path, text: str, name: str = "deals.csv", **kwargs):
    path = tmp_path / name
    path.write_text(text)
    export = read_export(path, **kwargs)
    check_invariant(export)
    return export


class TestLeadSourceGroup:
    @pytest.mark.parametrize(
        ("source", "group"),
        [
            ("Employee Referral", "referral"),
            ("Partner Referral", "referral"),
            ("Existing Customer", "existing_customer"),
            ("Partner", "partner"),
            ("Reseller", "partner"),
            ("Web", "inbound"),
            ("ORGANIC_SEARCH", "inbound"),
            ("Cold Call", "outbound"),
            ("Purchased List", "outbound"),
            ("Trade Show", "event"),
            ("Webinar", "event"),
            ("Other", "other"),
            ("", "unknown"),
            (None, "unknown"),
        ],
    )
    def test_groups(self, source, group):
        assert lead_source_group_of(source) == group


class TestDealType:
    @pytest.mark.parametrize(
        ("kind", "expected"),
        [
            ("New Business", "new_business"),
            ("New", "new_business"),
            ("newbusiness", "new_business"),
            ("Existing Business", "existing_business"),
            ("Upsell", "upsell"),
            ("Cross-Sell", "cross_sell"),
            ("Renewal", "renewal"),
            ("Services", "unknown"),
            (None, "unknown"),
        ],
    )
    def test_types(self, kind, expected):
        assert deal_type_of(kind) == expected


class TestAccountKey:
    def test_join_traps_share_a_key(self):
        assert account_key("GTX Pro") == account_key("GTXPro") == account_key("gtx pro, Inc.")
        assert account_key("Müller GmbH") == account_key("Muller")
        assert account_key(None) is None

    def test_name_made_only_of_a_legal_form_keeps_it(self):
        assert account_key("Co") == "co"


class TestStatusAndDates:
    def test_flags_decide_over_stage_and_open_close_date_is_a_forecast(self, tmp_path):
        export = export_of(
            tmp_path,
            HEAD
            + "1,A,X,Closed Won,10,USD,2024-02-01,2024-01-01,false,false\n"
            + "2,B,X,Negotiation,10,USD,2024-02-01,2024-01-01,true,true\n"
            + "3,C,X,Negotiation,10,USD,2020-02-01,2024-01-01,false,false\n",
        )
        deals = export.deals
        assert deals["status"].tolist() == ["open", "won", "open"]
        assert deals["closed_at"].isna().tolist() == [True, False, True]
        expected = [None if pd.isna(d) else str(d.date()) for d in deals["expected_close_at"]]
        assert expected == ["2024-02-01", None, "2020-02-01"]

    def test_created_after_closed_is_kept_and_flagged(self, tmp_path):
        export = export_of(
            tmp_path, HEAD + "1,A,X,Closed Won,10,USD,2024-02-01,2024-05-01,true,true\n"
        )
        assert len(export.deals) == 1
        assert export.deals["created_at"].isna().all()
        row = export.ledger.iloc[0]
        assert (row["column"], row["action"], row["value"]) == (
            "created_at",
            "set_missing",
            "2024-05-01",
        )

    def test_stages_option_and_unknown_stage_warning(self, tmp_path):
        text = "Opportunity Name,Stage,Amount,Created Date,Close Date\nA,Stalled,5,1/2/24,2/2/24\n"
        path = tmp_path / "r.csv"
        path.write_text(text)
        with pytest.warns(DataQualityWarning, match="Stalled"):
            assert read_export(path).deals["status"].tolist() == ["open"]
        assert read_export(path, stages={"Stalled": "won"}).deals["status"].tolist() == ["won"]

    def test_renamed_stages_won_and_lost(self, tmp_path):
        export = export_of(
            tmp_path,
            "Opportunity Name,Stage,Amount,Created Date,Close Date,Opportunity Owner\n"
            "A,Won,5,1/2/24,2/2/24,Ann\nB,Lost,5,1/2/24,2/2/24,Ann\n",
        )
        assert export.deals["status"].tolist() == ["won", "lost"]

    def test_dayfirst_forces_the_order(self, tmp_path):
        text = "Opportunity Name,Stage,Amount,Created Date,Close Date\nA,Closed Won,5,03/07/2021,04/08/2021\n"
        path = tmp_path / "r.csv"
        path.write_text(text)
        assert read_export(path).deals["created_at"].astype(str).tolist() == ["2021-03-07"]
        forced = read_export(path, dayfirst=True)
        assert forced.deals["created_at"].astype(str).tolist() == ["2021-07-03"]
        assert "forced" not in (read_export(path).summary()["date_format"].iloc[0])
        assert "assumed" in read_export(path).summary()["date_format"].iloc[0]


class TestMoney:
    def test_fx_conversion_and_missing_rate(self, tmp_path):
        export = export_of(
            tmp_path,
            HEAD
            + "1,A,X,Closed Won,100,EUR,2024-02-01,2024-01-01,true,true\n"
            + "2,B,X,Closed Won,100,JPY,2024-02-01,2024-01-01,true,true\n"
            + "3,C,X,Closed Won,100,,2024-02-01,2024-01-01,true,true\n",
            fx={"eur": 1.1},
        )
        deals = export.deals
        assert deals["amount"].tolist()[0] == pytest.approx(110.0)
        assert pd.isna(deals["amount"].iloc[1])
        assert deals["amount_original"].tolist() == [100.0, 100.0, 100.0]
        assert deals["currency"].tolist() == ["EUR", "JPY", "USD"]
        ledger = export.ledger.set_index("source_row")
        assert "no exchange rate for JPY" in ledger.loc[2, "reason"]
        assert (ledger.loc[3, "column"], ledger.loc[3, "action"]) == ("currency", "fixed")

    def test_reporting_currency(self, tmp_path):
        export = export_of(
            tmp_path,
            HEAD + "1,A,X,Closed Won,100,USD,2024-02-01,2024-01-01,true,true\n",
            currency="EUR",
            fx={"USD": 0.9},
        )
        assert export.deals["amount"].tolist() == [pytest.approx(90.0)]

    def test_negative_and_unreadable_amounts(self, tmp_path):
        export = export_of(
            tmp_path,
            HEAD
            + "1,A,X,Closed Won,-5,USD,2024-02-01,2024-01-01,true,true\n"
            + "2,B,X,Closed Won,lots,USD,2024-02-01,2024-01-01,true,true\n",
        )
        assert export.deals["amount"].isna().all()
        assert export.ledger["action"].tolist() == ["set_missing", "set_missing"]
        assert export.ledger["value"].tolist() == ["-5.0", "lots"]


class TestDuplicates:
    def test_exact_duplicates_and_repeated_ids(self, tmp_path):
        row = "1,A,X,Closed Won,100,USD,2024-02-01,2024-01-01,true,true\n"
        export = export_of(
            tmp_path,
            HEAD + row + row + "1,A edited,X,Closed Won,100,USD,2024-02-01,2024-01-01,true,true\n",
        )
        assert export.deals["source_row"].tolist() == [1]
        assert export.ledger["reason"].tolist() == [
            "exact duplicate of row 1",
            "deal id 1 repeats row 1 (the first is kept)",
        ]
        assert export.ledger["deal_id"].tolist() == ["1", "1"]

    def test_same_id_in_two_files(self, tmp_path):
        row = "1,A,X,Closed Won,100,USD,2024-02-01,2024-01-01,true,true\n"
        (tmp_path / "a.csv").write_text(HEAD + row)
        (tmp_path / "b.csv").write_text(HEAD + row)
        export = read_export(tmp_path)
        check_invariant(export)
        assert len(export.deals) == 1
        assert export.ledger["reason"].tolist() == [
            "deal id 1 repeats row 1 of a.csv (the first is kept)"
        ]

    def test_test_records(self, tmp_path):
        export = export_of(
            tmp_path,
            "Opportunity Name,Account Name,Stage,Amount,Created Date\n"
            "Test deal,Acme,Closed Won,5,1/2/24\nContest entry,Acme,Closed Won,5,1/2/24\n"
            "Real,DO NOT USE - old,Closed Won,5,1/2/24\n",
        )
        assert export.deals["deal_name"].tolist() == ["Contest entry"]
        assert export.summary()["dropped_test_record"].iloc[0] == 2

    def test_test_records_in_any_case(self, tmp_path):
        names = ["TeSt deal", "te\u017ft", "Do Not Use", "Contest", "Testing", "Latest"]
        rows = "".join(f"{n},Acme,Closed Won,5,1/2/24\n" for n in names)
        export = export_of(
            tmp_path, "Opportunity Name,Account Name,Stage,Amount,Created Date\n" + rows
        )
        assert export.deals["deal_name"].tolist() == ["Contest", "Testing", "Latest"]


class TestCategoryTypos:
    def test_rare_misspelling_of_a_common_value_is_repaired(self, tmp_path):
        rows = "".join(f"D{i},Closed Won,5,1/2/24,Energy\n" for i in range(6))
        export = export_of(
            tmp_path,
            "Opportunity Name,Stage,Amount,Created Date,Industry\n"
            + rows
            + "X,Closed Won,5,1/2/24,Enegry\n"
            "Y,Closed Won,5,1/2/24,Energetics\n",
        )
        assert export.deals["industry"].tolist() == ["Energy"] * 7 + ["Energetics"]
        fixed = export.ledger[export.ledger["action"] == "fixed"]
        assert fixed[["source_row", "column", "value"]].values.tolist() == [
            [7, "industry", "Enegry"]
        ]
        assert "read as `Energy`" in fixed["reason"].iloc[0]
