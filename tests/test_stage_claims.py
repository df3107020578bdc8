"""The stage history in the analysis: read with the exports, K2 stage by stage, K8 on the quote.

Planted effects are recovered (the stage simulator's per-stage hazard ratios, the bundled
sample's Needs Analysis and first-quote discount), a null world finds none, and the sample's
history dirt is in the ledger.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from salesinsight.claims import evaluate_claims
from salesinsight.claims.stages import STAGE_COLUMNS, stage_note, stage_sentences
from salesinsight.datasets import load_sample, sample_paths
from salesinsight.datasets.history import HISTORY_DISCOUNT, NEEDS_ANALYSIS_WEIGHT
from salesinsight.datasets.stages import simulate_stage_world
from salesinsight.exceptions import ExportFormatError
from salesinsight.export import check_invariant, read_export
from salesinsight.report.analysis import load_analysis
from salesinsight.report.index import index_page


@pytest.fixture(scope="module")
def sample():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_analysis()


def _stage_card(effects, seed):
    deals, history = simulate_stage_world(n_deals=3000, seed=seed, effects=effects)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluate_claims(deals, claims="K2", controls=None, stage_history=history)


class TestReadWithTheExports:
    def test_the_sample_history_is_read_by_read_export(self):
        export = load_sample()
        check_invariant(export)
        files = export.files.set_index("file")["role"]
        assert files["OpportunityHistory.csv"] == "stage_history"
        assert export.stage_history["deal_id"].isin(export.deals["deal_id"]).all()
        assert export.stage_history["deal_id"].nunique() == len(export.deals)

    def test_the_history_dirt_is_in_the_ledger_at_its_rows(self):
        export = load_sample()
        dirt = pd.read_csv(sample_paths()["dirt"], dtype=str, keep_default_na=False)
        dirt = dirt[dirt["file"] == "OpportunityHistory.csv"]
        assert set(dirt["kind"]) == {"soft_deleted", "duplicate_row"}
        ledger = export.ledger[export.ledger["source_file"] == "OpportunityHistory.csv"]
        dropped = dict(zip(ledger["source_row"], ledger["reason"], strict=True))
        for row, kind in zip(dirt["row"].astype(int), dirt["kind"], strict=True):
            word = "soft-deleted" if kind == "soft_deleted" else "duplicate"
            assert word in dropped[row], (row, kind, dropped.get(row))

    def test_a_history_alone_is_not_a_deals_export(self):
        with pytest.raises(ExportFormatError, match=r"OpportunityHistory.csv` \(a stage history\)"):
            read_export(sample_paths()["salesforce_history"])

    def test_a_hubspot_deals_export_with_stage_dates_gives_its_history(self):
        from pathlib import Path

        path = Path(__file__).parent / "data" / "history" / "hubspot-deals.csv"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export = read_export(path)
        assert export.stage_history.groupby("deal_id").size().to_dict() == {
            "9001": 3,
            "9002": 2,
            "9003": 2,
        }
        check_invariant(export)


class TestK2ByStage:
    def test_planted_stage_effects_are_found_where_planted(self):
        card = _stage_card(None, seed=3)  # planted: 1.0, 2.0, 1.5, 1.0
        rows = card.stages.set_index("stage")
        assert list(card.stages.columns) == STAGE_COLUMNS
        assert rows.loc["Needs Analysis", "reading"] == "faster"
        assert rows.loc["Proposal", "reading"] == "faster"
        assert rows.loc["Needs Analysis", "ci_low"] < 2.0 < rows.loc["Needs Analysis", "ci_high"]
        assert rows.loc["Negotiation", "reading"] == "no clear difference"

    def test_a_null_world_finds_no_stage_effect(self):
        card = _stage_card({}, seed=4)
        assert len(card.stages) == 4
        assert set(card.stages["reading"]) == {"no clear difference"}
        assert (card.stages["p_adjusted"] >= card.stages["p_value"]).all()

    def test_without_a_history_there_is_no_stage_view(self):
        deals, _ = simulate_stage_world(n_deals=600, seed=5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            card = evaluate_claims(deals, claims="K2", controls=None)
        assert card.stages.empty and "By stage" not in " ".join(card.table["note"])

    def test_the_sample_finds_needs_analysis_and_not_negotiation(self, sample):
        stages = sample.scorecard.stages
        repeat = stages[stages["proxy"] == "is_repeat_customer"].set_index("stage")
        # Planted: repeat customers' share of time in Needs Analysis is 0.35 of the others'.
        assert NEEDS_ANALYSIS_WEIGHT < 1
        assert repeat["ratio"].idxmax() == "Needs Analysis"
        assert repeat.loc["Negotiation/Review", "reading"] == "no clear difference"

    def test_the_scorecard_names_the_stages(self, sample):
        table = sample.scorecard.table
        k2 = table[(table["claim_id"] == "K2") & (table["adjustment"] == "controlled")]
        assert k2["note"].str.contains("By stage").all()
        assert "Stage by stage" in sample.scorecard.narrative()
        assert sample.scorecard.select("K1").stages.empty
        assert len(sample.scorecard.select("K2").stages) == len(sample.scorecard.stages)

    def test_the_report_page_has_the_stage_table(self, sample):
        page = index_page(sample, pages=[], version="test")
        assert "<h2>How deals move</h2>" in page and "Needs Analysis" in page


class TestK8OnTheFirstQuote:
    def test_the_planted_discount_is_recovered_on_the_sample(self, sample):
        table = sample.scorecard.table
        row = table[
            (table["outcome"] == "quote_realisation")
            & (table["proxy"] == "is_repeat_customer")
            & (table["adjustment"] == "controlled")
        ].iloc[0]
        base, change = HISTORY_DISCOUNT
        planted = (1 - (base + change)) / (1 - base)  # share of the first quote kept, ratio
        assert row["verdict"] == "supported"
        assert row["ci_low"] < planted < row["ci_high"]
        assert np.isfinite(sample.data["negotiated_discount"]).sum() > 800


def test_stage_words():
    rows = pd.DataFrame(
        {
            "proxy": ["p", "p", "p"],
            "stage": ["A", "B", "C"],
            "ratio": [2.0, 0.5, 1.0],
            "reading": ["faster", "slower", "no clear difference"],
        }
    )
    assert stage_note(rows, "q") == ""
    assert "faster in A (2.00); slower in B (0.50); no clear difference in C" in stage_note(
        rows, "p"
    )
    text = stage_sentences(rows, {"p": "repeat customers"})
    assert text == (
        "Stage by stage (from the stage history): for repeat customers, deals move on faster "
        "in A (2.00x as fast) and slower in B (0.50x as fast); C takes as long."
    )
    assert stage_sentences(rows.iloc[0:0], {}) == ""
