"""The claims on exports shaped like real ones: stand-in columns, free-text sources, deal types,
loss reasons, account size stand-ins, and what would make the rest testable."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from real_shapes import CAMPAIGNS, hubspot_sources, legal_world, salesforce_legal

from salesinsight import evaluate_claims, read_export, trust_features
from salesinsight.clean.categories import deal_type_of, lead_source_group_of, lost_on_price_of
from salesinsight.exceptions import DataQualityWarning, InvalidValueError
from salesinsight.report.gaps import export_gaps, suggestion_notes

LEGAL_COLUMNS = {"Total ACV": "amount"}


@pytest.fixture(scope="module")
def legal(tmp_path_factory):
    folder = tmp_path_factory.mktemp("legal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        export = read_export(salesforce_legal(folder), columns=LEGAL_COLUMNS)
    return export


@pytest.fixture(scope="module")
def legal_card(legal):
    data = trust_features(legal.deals, as_of=pd.Timestamp("2025-06-01"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate_claims(data)


class TestWordRules:
    @pytest.mark.parametrize(
        ("group", "names"), [(g, names) for g, names in CAMPAIGNS.items() if g != "other"]
    )
    def test_campaign_names_go_to_their_group(self, group, names):
        assert [lead_source_group_of(n) for n in names] == [group] * len(names)

    def test_unmatched_names_stay_other_and_empty_ones_unknown(self):
        assert [lead_source_group_of(n) for n in [*CAMPAIGNS["other"], "", None]] == [
            "other",
            "other",
            "unknown",
            "unknown",
        ]

    def test_overrides_decide_before_the_rules(self):
        assert lead_source_group_of("Q3 Push", {"q3 push": "outbound"}) == "outbound"

    @pytest.mark.parametrize(
        ("label", "kind"),
        [
            ("New", "new_business"),
            ("New Business", "new_business"),
            ("Upsell", "upsell"),
            ("Expansion", "upsell"),
            ("Add-on", "upsell"),
            ("Cross-Sell", "cross_sell"),
            ("Existing Business - Cross Sell", "cross_sell"),
            ("Renewal", "renewal"),
            ("existingbusiness", "existing_business"),
            ("Other", "unknown"),
        ],
    )
    def test_deal_types(self, label, kind):
        assert deal_type_of(label) == kind

    def test_loss_reasons_on_price(self):
        assert [lost_on_price_of(r) for r in ["Price", "Budget cuts", "Timing", None]] == [
            True,
            True,
            False,
            None,
        ]


class TestLegalTechSalesforceReport:
    def test_stand_in_source_is_read_and_said(self, legal):
        deals = legal.deals
        assert deals["lead_source"].notna().all()
        assert set(deals["lead_source_group"]) <= set(CAMPAIGNS)
        summary = legal.summary()
        assert summary.loc[0, "stand_ins"] == "lead_source from `Primary Campaign Source`"

    def test_source_groups_match_the_planted_ones(self, legal):
        truth = legal_world()
        got = legal.deals.sort_values("source_row")["lead_source_group"].to_numpy()
        assert (got == truth["group"].to_numpy()).all()

    def test_types_and_loss_reasons(self, legal):
        deals = legal.deals
        assert set(deals["deal_type"]) == {"new_business", "cross_sell", "upsell", "renewal"}
        lost = deals[deals["status"] == "lost"]
        assert lost["loss_reason"].notna().all()
        assert lost["lost_on_price"].notna().all()
        assert deals.loc[deals["status"] == "won", "lost_on_price"].isna().all()

    def test_k3_k5_k8_are_tested(self, legal_card):
        table = legal_card.table
        for claim in ("K3", "K5", "K8"):
            rows = table[(table["claim_id"] == claim) & (table["adjustment"] == "controlled")]
            tested = rows[rows["verdict"] != "not testable"]
            assert len(tested), (claim, rows["note"].tolist())
        k8 = table[(table["claim_id"] == "K8") & (table["outcome"] == "lost_on_price")]
        repeat = k8[(k8["proxy"] == "is_repeat_customer") & (k8["adjustment"] == "naive")]
        # Repeat customers were planted to lose on price less often (15 % against 40 %).
        assert repeat["estimate"].iloc[0] < 0.6
        assert repeat["verdict"].iloc[0] == "supported"

    def test_k3_says_which_definition_it_used(self, legal_card):
        notes = legal_card.table.loc[legal_card.table["claim_id"] == "K3", "note"]
        assert notes.str.contains("cross-sell deals").all()

    def test_every_not_testable_row_names_what_would_make_it_testable(self, legal, legal_card):
        table = legal_card.table
        notes = suggestion_notes(table, legal)
        untested = table["verdict"] == "not testable"
        assert untested.any()
        for note in notes[untested]:
            assert "would make it testable" in note or "map it with --columns" in note, note
        assert (notes[~untested] == "").all()

    def test_people_counts_are_suggested_not_taken(self, legal):
        assert "employees" not in legal.deals.columns
        gaps = export_gaps(legal.deals, legal.unmapped[legal.files["file"].iloc[0]])
        assert gaps["employees"].header == "NumofLawyers"


class TestHubSpotShape:
    def test_drill_down_source_loss_reason_and_revenue_as_size(self, tmp_path):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            export = read_export(hubspot_sources(tmp_path))
        assert export.summary().loc[0, "stand_ins"] == (
            "lead_source from `Original Source Drill-Down 1`"
        )
        assert export.deals["lost_on_price"].any()
        data = trust_features(export.deals)
        assert data["log_annual_revenue"].notna().all()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            card = evaluate_claims(data, claims=["K8"])
        notes = card.table.loc[card.table["adjustment"] == "controlled", "note"]
        assert notes.str.contains("log_annual_revenue").any()


class TestSourceGroupsOption:
    def test_a_csv_file_overrides_the_rules(self, tmp_path):
        groups = tmp_path / "groups.csv"
        groups.write_text("source,group\nQ3 Push,outbound\nMisc,partner\n")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            export = read_export(
                salesforce_legal(tmp_path), columns=LEGAL_COLUMNS, source_groups=groups
            )
        deals = export.deals
        assert set(deals.loc[deals["lead_source"] == "Q3 Push", "lead_source_group"]) == {
            "outbound"
        }
        assert "other" not in set(deals["lead_source_group"])

    def test_an_unknown_group_is_refused(self, tmp_path):
        with pytest.raises(InvalidValueError, match="Unknown lead source groups"):
            read_export(
                salesforce_legal(tmp_path),
                columns=LEGAL_COLUMNS,
                source_groups={"Misc": "friends"},
            )
