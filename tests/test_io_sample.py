"""The bundled sample exports: every row accounted for, and every injected defect handled.

Defects that change or drop something must be in the ledger at their row; the others (amounts
with an ISO code, blank or zero amounts, forecasts already past) are checked on the loaded deal.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from salesinsight.exceptions import DataQualityWarning
from salesinsight.export import check_invariant, read_export

datasets = pytest.importorskip("salesinsight.datasets")

IN_LEDGER = {
    "duplicate_row",
    "repeated_id",
    "report_footer",
    "test_record",
    "created_after_closed",
    "mojibake",
    "category_typo",
}
EXPORTS = {
    "salesforce": ("salesforce_deals", "salesforce_activities"),
    "hubspot": ("hubspot_deals",),
    "pipedrive": ("pipedrive_deals",),
}


def sample_files():
    try:
        paths = datasets.sample_paths()
    except (AttributeError, FileNotFoundError, OSError):
        pytest.skip("the bundled sample is not there yet")
    if not all(p.is_file() for p in paths.values()):
        pytest.skip("the bundled sample is not there yet")
    return paths


@pytest.fixture(scope="module", params=sorted(EXPORTS))
def loaded(request):
    paths = sample_files()
    files = [paths[key] for key in EXPORTS[request.param]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        export = read_export(files, fx=getattr(datasets, "FX_TO_USD", None))
    dirt = pd.read_csv(paths["dirt"], dtype=str, keep_default_na=False)
    dirt = dirt[dirt["file"].isin([p.name for p in files])]
    return request.param, export, dirt


class TestSample:
    def test_invariant(self, loaded):
        crm, export, _ = loaded
        assert export.crm == crm
        check_invariant(export)

    def test_defects_that_change_rows_are_in_the_ledger(self, loaded):
        _, export, dirt = loaded
        wanted = dirt[dirt["kind"].isin(IN_LEDGER)]
        assert len(wanted)
        ledger = set(zip(export.ledger["source_file"], export.ledger["source_row"], strict=True))
        missing = [
            (f, r, k)
            for f, r, k in zip(
                wanted["file"], wanted["row"].astype(int), wanted["kind"], strict=True
            )
            if (f, r) not in ledger
        ]
        assert not missing

    def test_other_defects_are_read_right(self, loaded):
        _, export, dirt = loaded
        deals = export.deals.set_index("deal_id")
        for row in dirt.to_dict("records"):
            if row["kind"] in IN_LEDGER or row["record_id"] not in deals.index:
                continue
            deal = deals.loc[row["record_id"]]
            if row["kind"] == "amount_currency_code":
                clean = float(row["clean_value"].replace("$", "").replace(",", ""))
                assert deal["amount"] == pytest.approx(clean)
            elif row["kind"] == "blank_amount":
                assert np.isnan(deal["amount"])
            elif row["kind"] == "zero_amount_lost":
                assert (deal["status"], deal["amount"]) == ("lost", 0.0)
            elif row["kind"] == "slipped_forecast":
                assert deal["status"] == "open"
                assert pd.isna(deal["closed_at"]) and pd.notna(deal["expected_close_at"])

    def test_activities_link_to_deals(self, loaded):
        crm, export, _ = loaded
        if crm != "salesforce":
            pytest.skip("only the Salesforce sample has activities")
        linked = export.activities["deal_id"].notna().mean()
        assert linked > 0.95
        assert export.activities["deal_id"].dropna().isin(export.deals["deal_id"]).all()
