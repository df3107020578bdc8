"""The loading step shared by the notebooks and the command line, and its one scorecard."""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import salesinsight
import salesinsight.report.analysis
from salesinsight.exceptions import InvalidValueError, SalesInsightError, StatisticalWarning
from salesinsight.report.analysis import (
    Analysis,
    load_analysis,
    load_export,
    read_analysis_file,
    write_analysis_file,
)
from salesinsight.report.gaps import with_suggestions
from salesinsight.report.kernel import DISPLAY_OPTIONS, setup_notebook
from salesinsight.report.parameters import (
    ENVIRONMENT,
    check_export_paths,
    parse_as_of,
    parse_flag,
    read_fx_rates,
    split_export_paths,
)


@pytest.fixture(scope="module")
def sample() -> Analysis:
    return load_analysis()


@pytest.fixture(scope="module")
def sample_names(sample) -> set[str]:
    names: set[str] = set()
    for table in (sample.export.deals, sample.export.activities):
        if table is not None:
            for column in ("account", "owner"):
                if column in table:
                    names.update(table[column].dropna().astype(str))
    return names


class TestSplitExportPaths:
    def test_empty_means_the_sample(self):
        assert split_export_paths("") == [] and split_export_paths(None) == []
        assert split_export_paths(" ") == []

    def test_one_string_with_several_paths(self):
        text = os.pathsep.join(["a.csv", " b.csv ", ""])
        assert split_export_paths(text) == [Path("a.csv"), Path("b.csv")]

    def test_list_and_path(self):
        assert split_export_paths([Path("a.csv"), "b.xlsx"]) == [Path("a.csv"), Path("b.xlsx")]
        assert split_export_paths(Path("x.csv")) == [Path("x.csv")]

    def test_home_expanded(self):
        assert split_export_paths("~/deals.csv") == [Path.home() / "deals.csv"]


class TestCheckExportPaths:
    def test_missing_file_named_in_the_error(self, tmp_path):
        with pytest.raises(InvalidValueError, match="nope.csv' not found"):
            check_export_paths([tmp_path / "nope.csv"])

    def test_a_folder_is_not_an_export(self, tmp_path):
        with pytest.raises(InvalidValueError, match="is a directory"):
            check_export_paths(str(tmp_path))

    def test_existing_files_pass(self, tmp_path):
        (tmp_path / "a.csv").write_text("x")
        assert check_export_paths(str(tmp_path / "a.csv")) == [tmp_path / "a.csv"]


class TestReadFxRates:
    def write(self, tmp_path, text: str) -> Path:
        path = tmp_path / "rates.csv"
        path.write_text(text, encoding="utf-8")
        return path

    def test_reads_rates_with_bom_case_spaces_and_extra_columns(self, tmp_path):
        path = self.write(tmp_path, "\ufeffCurrency, Rate ,source\neur,1.08,ECB\n\nGBP , 1.27,\n")
        assert read_fx_rates(path) == {"EUR": 1.08, "GBP": 1.27}

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("code,value\nEUR,1.1\n", "expected `currency` and `rate`"),
            ("currency,rate\nEUR,abc\n", "line 2"),
            ("currency,rate\nEUR,-1\n", "positive rate"),
            ("currency,rate\nEUR,0\n", "positive rate"),
            ("currency,rate\nEUR,1.1\neur,1.2\n", "listed twice"),
            ("currency,rate\n", "lists no rates"),
            ("", "expected `currency` and `rate`"),
            ("currency,rate\nEUR\n", "line 2"),
        ],
    )
    def test_bad_files_say_what_and_how(self, tmp_path, text, message):
        with pytest.raises(InvalidValueError, match=message) as info:
            read_fx_rates(self.write(tmp_path, text))
        assert "currency,rate" in str(info.value)

    def test_missing_file(self, tmp_path):
        with pytest.raises(InvalidValueError, match="not found"):
            read_fx_rates(tmp_path / "rates.csv")


class TestParseAsOf:
    def test_dates(self):
        assert parse_as_of("2024-06-30") == pd.Timestamp("2024-06-30")
        assert parse_as_of(pd.Timestamp("2024-06-30 10:00", tz="UTC")).tzinfo is None
        assert parse_as_of("") is None and parse_as_of(None) is None

    @pytest.mark.parametrize("text", ["yesterday-ish", "2024-13-45"])
    def test_bad_date(self, text):
        with pytest.raises(InvalidValueError, match="as-of date"):
            parse_as_of(text)


class TestParseFlag:
    @pytest.mark.parametrize("value", [True, "1", "true", "YES", " on "])
    def test_true(self, value):
        assert parse_flag(value) is True

    @pytest.mark.parametrize("value", [False, None, "", "0", "False", "no"])
    def test_false(self, value):
        assert parse_flag(value) is False

    def test_anything_else_is_an_error(self):
        with pytest.raises(InvalidValueError, match="yes or no"):
            parse_flag("maybe")


class TestEnvironment:
    def test_one_variable_per_notebook_parameter(self):
        assert list(ENVIRONMENT) == ["export_paths", "crm", "currency", "fx_path", "as_of",
                                     "columns", "stages", "pseudonymize", "salt",
                                     "analysis_file"]  # fmt: skip
        assert all(v.startswith("SALESINSIGHT_") for v in ENVIRONMENT.values())


class TestLoadExport:
    def test_sample_by_default(self, sample):
        export = load_export()
        pd.testing.assert_frame_equal(export.deals, sample.export.deals)

    def test_the_sample_takes_no_currency_options(self, tmp_path):
        with pytest.raises(InvalidValueError, match="bundled sample is in USD"):
            load_export(currency="EUR")

    def test_pseudonymize_needs_a_salt(self):
        with pytest.raises(InvalidValueError, match="salt"):
            load_export(pseudonymize=True, salt="")

    def test_missing_file_is_a_salesinsight_error(self, tmp_path):
        with pytest.raises(SalesInsightError, match="not found"):
            load_export(str(tmp_path / "deals.csv"))


class TestLoadAnalysis:
    def test_one_feature_row_per_deal(self, sample):
        assert len(sample.data) == len(sample.export.deals)
        assert {"is_repeat_customer", "won", "duration_days"} <= set(sample.data.columns)

    def test_as_of_defaults_to_the_latest_date(self, sample):
        deals = sample.export.deals
        assert sample.as_of == max(deals["created_at"].max(), deals["closed_at"].max())

    def test_sources_are_file_names(self, sample):
        assert sample.sources and all("/" not in s and "\\" not in s for s in sample.sources)
        assert not sample.pseudonymized

    def test_row_counts_add_up(self, sample):
        counts = sample.row_counts()
        assert counts["read"] == counts["kept"] + counts["dropped"]
        assert counts["kept"] == len(sample.export.deals)

    def test_parameters_reproduce_the_analysis(self, sample):
        again = load_analysis(**sample.parameters)
        pd.testing.assert_frame_equal(again.data, sample.data)

    @pytest.mark.filterwarnings("ignore::salesinsight.exceptions.DataQualityWarning")
    def test_explicit_as_of_censors_there(self, sample):
        as_of = sample.as_of - pd.Timedelta(days=90)
        earlier = load_analysis(as_of=f"{as_of:%Y-%m-%d}")
        assert earlier.as_of == as_of.normalize()
        assert earlier.parameters["as_of"].startswith(f"{as_of:%Y-%m-%d}")

    def test_progress_reports_each_step(self):
        lines: list[str] = []
        load_analysis(progress=lines.append)
        assert lines[0] == "reading the bundled sample"
        assert lines[-1].startswith("computing trust features for ")

    def test_pseudonymized_analysis_holds_no_name(self, sample, sample_names):
        hidden = load_analysis(pseudonymize=True, salt="pepper")
        assert hidden.pseudonymized and hidden.parameters["salt"] == "pepper"
        text = " ".join(
            t.astype("str").to_csv()
            for t in (hidden.data, hidden.export.deals, hidden.export.activities,
                      hidden.export.ledger)
            if t is not None
        )  # fmt: skip
        assert not [n for n in sample_names if len(n) >= 4 and n in text]

    def test_pseudonyms_do_not_change_the_features(self, sample):
        hidden = load_analysis(pseudonymize="1", salt="pepper")
        numbers = sample.data.select_dtypes("number").columns
        pd.testing.assert_frame_equal(hidden.data[numbers], sample.data[numbers])

    def test_same_salt_same_pseudonyms_random_salt_otherwise(self):
        a = load_analysis(pseudonymize=True, salt="pepper").data["account"]
        b = load_analysis(pseudonymize=True, salt="pepper").data["account"]
        c = load_analysis(pseudonymize=True).data["account"]
        assert a.equals(b) and not a.equals(c)


@pytest.fixture
def counted(monkeypatch) -> list[int]:
    """Count the evaluations of the scorecard; each is a one-claim scorecard, to be quick."""
    calls: list[int] = []
    evaluate = salesinsight.report.analysis.evaluate_claims

    def one_claim(data, **options):
        calls.append(len(data))
        return evaluate(data, claims=["K1"])

    monkeypatch.setattr(salesinsight.report.analysis, "evaluate_claims", one_claim)
    return calls


class TestScorecard:
    def test_evaluated_on_first_use_and_kept(self, counted):
        analysis = load_analysis()
        assert counted == []
        card = analysis.scorecard
        assert analysis.scorecard is card and counted == [len(analysis.data)]

    def test_the_scorecard_of_the_features(self, sample):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", StatisticalWarning)
            expected = with_suggestions(
                salesinsight.evaluate_claims(
                    sample.data, stage_history=sample.export.stage_history
                ),
                sample.export,
            )
        pd.testing.assert_frame_equal(sample.scorecard.table, expected.table)


class TestAnalysisFile:
    def test_round_trip_keeps_the_scorecard_without_evaluating_again(self, tmp_path, counted):
        analysis = load_analysis()
        path = write_analysis_file(analysis, tmp_path / "analysis.pickle")
        assert counted == [len(analysis.data)]
        again = read_analysis_file(path)
        pd.testing.assert_frame_equal(again.data, analysis.data)
        pd.testing.assert_frame_equal(again.scorecard.table, analysis.scorecard.table)
        assert again.parameters == analysis.parameters and again.as_of == analysis.as_of
        assert counted == [len(analysis.data)]

    def test_missing_or_foreign_file_says_how_to_do_without(self, tmp_path):
        with pytest.raises(InvalidValueError, match="not found.*analysis_file"):
            read_analysis_file(tmp_path / "nope.pickle")
        (tmp_path / "junk.pickle").write_bytes(b"not a pickle")
        with pytest.raises(InvalidValueError, match="Cannot read"):
            read_analysis_file(tmp_path / "junk.pickle")
        (tmp_path / "list.pickle").write_bytes(pickle.dumps([1, 2]))
        with pytest.raises(InvalidValueError, match="holds a list, not an analysis"):
            read_analysis_file(tmp_path / "list.pickle")


class TestSetupNotebook:
    @pytest.fixture(autouse=True)
    def restore(self):
        options = [x for name in DISPLAY_OPTIONS for x in (name, pd.get_option(name))]
        with plt.rc_context(), warnings.catch_warnings(), pd.option_context(*options):
            yield

    def test_loads_the_analysis_from_the_parameters(self, sample):
        analysis = setup_notebook("", crm="auto", pseudonymize="", salt="")
        pd.testing.assert_frame_equal(analysis.data, sample.data)

    def test_reads_the_analysis_file_when_given(self, tmp_path, counted):
        handed = write_analysis_file(load_analysis(), tmp_path / "analysis.pickle")
        analysis = setup_notebook("no-such-export.csv", analysis_file=str(handed))
        assert analysis.sources != ["no-such-export.csv"]
        assert len(analysis.scorecard.table) and len(counted) == 1

    def test_theme_display_options_and_quiet_caveats(self):
        setup_notebook()
        assert plt.rcParams["axes.spines.top"] is False
        assert {name: pd.get_option(name) for name in DISPLAY_OPTIONS} == DISPLAY_OPTIONS
        with warnings.catch_warnings(record=True) as caught:
            warnings.warn("small sample", StatisticalWarning, stacklevel=1)
        assert caught == []
