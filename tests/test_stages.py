"""time_in_stage: planted per-stage effects recovered, a null world finds none, the funnel counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from salesinsight.datasets.stages import PLANTED_STAGE_EFFECTS, simulate_stage_world
from salesinsight.exceptions import AnalysisError, ColumnNotFoundError
from salesinsight.features import trust_features
from salesinsight.stats.stages import stage_order, time_in_stage


@pytest.fixture(scope="module")
def planted():
    deals, history = simulate_stage_world(n_deals=3000, seed=1)
    return deals, history, time_in_stage(deals, history, by="is_repeat_customer")


def test_planted_stage_effects_recovered(planted):
    *_, res = planted
    hr = res.hazard_ratios.set_index("stage")
    for stage, ratio in PLANTED_STAGE_EFFECTS.items():
        low, high = hr.loc[stage, ["ratio_ci_low", "ratio_ci_high"]]
        assert low < ratio < high, (stage, low, high)
    # The stages trust shortens are told apart from those it does not.
    assert hr.loc["Needs Analysis", "p_value"] < 1e-6
    assert hr.loc["Qualification", "p_value"] > 0.05


def test_null_world_finds_nothing():
    deals, history = simulate_stage_world(n_deals=3000, seed=7, effects={}, discount=(0.15, 0.0))
    res = time_in_stage(deals, history, by="is_repeat_customer")
    assert len(res.hazard_ratios) == 4
    # Four tests: none is significant after Bonferroni's correction.
    assert (res.hazard_ratios["p_value"] > 0.05 / 4).all()
    assert (res.hazard_ratios["ratio"].between(0.85, 1.15)).all()


def test_summary_censors_stays_still_going(planted):
    deals, history, res = planted
    q = res.summary[res.summary["stage"] == "Qualification"]
    assert q["n"].sum() == len(deals)
    still = history[(history["stage"] == "Qualification") & history["exited_at"].isna()]
    assert q["censored"].sum() == len(still)
    fast = res.summary.set_index(["stage", "group"])["median_days"]
    assert fast[("Needs Analysis", "True")] < 0.7 * fast[("Needs Analysis", "False")]


def test_funnel_counts_and_wilson(planted):
    deals, history, res = planted
    f = res.funnel.set_index("stage")
    entered = history[history["stage"] == "Negotiation"]["deal_id"]
    assert f.loc["Negotiation", "entered"] == len(entered)
    won = deals.set_index("deal_id").loc[entered, "status"].eq("won").sum()
    assert f.loc["Negotiation", "advanced"] == won
    row = f.loc["Proposal"]
    assert row["entered"] == row["advanced"] + row["lost"] + row["open"]
    assert row["conversion_ci_low"] < row["conversion"] < row["conversion_ci_high"]
    # A stage every deal passes converts all of them: the Wilson bound stays inside [0, 1].
    assert (res.funnel["conversion_ci_high"] <= 1).all()


def test_stage_order_stated_and_inferred(planted):
    _, history, res = planted
    assert res.order_source == "the vendor's pipeline order"
    assert "vendor's pipeline order" in res.note
    shuffled = history.assign(stage_rank=np.nan).sample(frac=1.0, random_state=0)
    order, source = stage_order(shuffled)
    assert order == ["Qualification", "Needs Analysis", "Proposal", "Negotiation"]
    assert source.startswith("inferred")


def test_as_of_censors_later_exits(planted):
    deals, history, _ = planted
    res = time_in_stage(deals, history, as_of="2023-06-30")
    assert res.hazard_ratios.empty
    q = res.summary.set_index("stage").loc["Qualification"]
    entered = (history["stage"] == "Qualification") & (history["entered_at"] <= "2023-06-30")
    assert q["n"] == entered.sum()
    assert res.as_of == pd.Timestamp("2023-06-30")


def test_errors_name_the_problem(planted):
    deals, history, _ = planted
    with pytest.raises(ColumnNotFoundError, match="trust"):
        time_in_stage(deals, history, by="trust")
    with pytest.raises(ColumnNotFoundError, match="entered_at"):
        time_in_stage(deals, history.drop(columns=["entered_at"]))
    with pytest.raises(AnalysisError, match="enough"):
        time_in_stage(deals.head(3), history)


def test_plot_has_a_panel_per_stage(planted):
    *_, res = planted
    fig = res.plot()
    assert sum(ax.get_visible() for ax in fig.axes) == 4
    assert fig.axes[1].get_title() == "Needs Analysis"


def test_trust_features_recover_the_planted_discount():
    deals, history = simulate_stage_world(n_deals=2000, seed=3)
    data = trust_features(deals.drop(columns=["is_repeat_customer"]), stage_history=history)
    assert np.allclose(data["first_amount"], deals["first_amount"])
    won = deals["status"].eq("won")
    assert np.allclose(data.loc[won, "negotiated_discount"], deals.loc[won, "discount"])
    assert data.loc[~won, "negotiated_discount"].isna().all()
    trusted = deals["is_repeat_customer"]
    gap = (
        data.loc[won & trusted, "negotiated_discount"].mean()
        - data.loc[won & ~trusted, "negotiated_discount"].mean()
    )
    assert -0.11 < gap < -0.09  # planted: -0.10
