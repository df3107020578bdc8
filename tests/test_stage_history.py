"""Stage history: each export layout read with the no-loss invariant kept."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from salesinsight.clean.stage_history import clean_stage_history
from salesinsight.exceptions import ExportFormatError
from salesinsight.export import check_invariant, read_export, read_stage_history

DATA = Path(__file__).parent / "data" / "history"


def history_of(deals: str, history: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export = read_export(DATA / deals)
    out = read_stage_history(DATA / history, export)
    check_invariant(out)
    return out


def reasons(export, file: str) -> list[tuple[int, str, str]]:
    mine = export.ledger[export.ledger["source_file"] == file]
    return [(r, a, t) for r, a, t in mine[["source_row", "action", "reason"]].values.tolist()]


class TestSalesforceApi:
    def test_rows_kept_ordered_and_amounts_at_entry(self):
        out = history_of("sf-deals.csv", "OpportunityHistory.csv")
        h = out.stage_history
        assert h.loc[h["deal_id"] == "0061", "stage"].tolist() == [
            "Prospecting",
            "Negotiation/Review",
            "Closed Won",
        ]
        # The amount on entering Negotiation is the one before the later in-stage cut.
        assert h.loc[h["deal_id"] == "0061", "amount"].tolist() == [1000.0, 1000.0, 900.0]
        # Out-of-order rows are ordered, not dropped.
        assert h.loc[h["deal_id"] == "0063", "source_row"].tolist() == [9, 8]
        assert h.loc[h["deal_id"] == "0063", "exited_at"].isna().tolist() == [False, True]

    def test_every_drop_has_a_reason(self):
        out = history_of("sf-deals.csv", "OpportunityHistory.csv")
        got = reasons(out, "OpportunityHistory.csv")
        assert [(r, a) for r, a, _ in got] == [
            (3, "dropped"),
            (6, "dropped"),
            (7, "flagged"),
            (10, "dropped"),
            (11, "dropped"),
        ]
        text = " ".join(t for *_, t in got)
        for word in ("did not change", "duplicate", "lost but", "IsDeleted", "not in the deals"):
            assert word in text
        files = out.summary().set_index("file")
        assert files.loc["OpportunityHistory.csv", "dropped_orphan"] == 1
        assert files.loc["OpportunityHistory.csv", "rows_kept"] == 7


def test_opportunity_history_report_labels_and_footer():
    out = history_of("sf-deals.csv", "opportunity-history-report.csv")
    h = out.stage_history
    assert len(h) == 5
    assert h["probability"].tolist() == [10.0, 90.0, 100.0, 10.0, 100.0]
    assert [a for _, a, _ in reasons(out, "opportunity-history-report.csv")] == ["dropped"] * 2


def test_field_history_stage_and_amount_rows():
    out = history_of("sf-deals.csv", "OpportunityFieldHistory.csv")
    h = out.stage_history
    assert h["stage"].tolist() == ["Prospecting", "Closed Won"]
    # The first amount comes from the later change's old value.
    assert h["amount"].tolist() == [350.0, 300.0]
    assert [r for r, *_ in reasons(out, "OpportunityFieldHistory.csv")] == [1, 3, 4]


def test_zoho_stage_history():
    out = history_of("zoho-deals.csv", "zoho-stage-history.csv")
    h = out.stage_history
    assert h["deal_id"].tolist() == ["zcrm_1"] * 3 + ["zcrm_2"] * 2
    assert h["amount"].tolist() == [1000.0, 950.0, 900.0, 500.0, 500.0]
    assert str(h["entered_at"].iloc[1]) == "2024-02-01 09:00:00"


def test_hubspot_date_entered_columns():
    out = history_of("hubspot-deals.csv", "hubspot-deals.csv")
    h = out.stage_history
    assert h.groupby("deal_id").size().to_dict() == {"9001": 3, "9002": 2, "9003": 2}
    assert h["stage_rank"].tolist() == [0.0, 1.0, 2.0, 0.0, 1.0, 0.0, 3.0]
    # A won deal whose history ends in Closed Lost is flagged; its deal row is kept.
    flagged = out.ledger[out.ledger["action"] == "flagged"]
    assert flagged["deal_id"].tolist() == ["9003"]
    assert len(out.deals) == 3


def test_warehouse_shaped_typed_input():
    deals = pd.DataFrame({"deal_id": ["a"], "stage": ["Closed Won"], "status": ["won"]})
    raw = pd.DataFrame(
        {
            "deal_id": ["a", "a"],
            "stage": ["Prospecting", "Closed Won"],
            "entered_at": pd.to_datetime(["2024-01-01", "2024-02-01"], utc=True),
            "amount": [10.0, 8.0],
            "source_row": [1, 2],
        }
    )
    out = clean_stage_history(raw, deals, source_file="opportunity_history")
    assert out.frame["exited_at"].tolist()[0] == pd.Timestamp("2024-02-01")
    assert pd.isna(out.frame["exited_at"].iloc[1])
    assert out.frame["stage_status"].tolist() == ["unknown", "won"]
    assert len(out.ledger) == 0


def test_unknown_layout_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("Subject,Body\nhi,there\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export = read_export(DATA / "sf-deals.csv")
    with pytest.raises(ExportFormatError, match="not a stage-history export"):
        read_stage_history(path, export)
