"""The `salesinsight` command, driven through its entry points in subprocesses.

The full report (all notebooks) runs once per session, pseudonymized, in a module-scoped fixture;
the other report tests use a one-cell notebook folder through --notebooks.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest

from salesinsight.cli import main
from salesinsight.exceptions import StatisticalWarning

SCRIPT = Path(sys.executable).with_name("salesinsight")
SALT = "a-salt-of-the-full-report-4f2d"
PYTHON_M = [sys.executable, "-m", "salesinsight"]


def run(*args, cwd=None, env=None, entry=PYTHON_M) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SALESINSIGHT_")}
    environment.update(env or {})
    return subprocess.run(
        [*entry, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=600,
    )


def error_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("salesinsight: error")]


@pytest.fixture(scope="module")
def sample_names() -> set[str]:
    """Every account and owner name of the bundled sample (4+ characters, to match safely)."""
    from salesinsight.datasets import load_sample

    export = load_sample()
    names: set[str] = set()
    for table in (export.deals, export.activities):
        if table is not None:
            for column in ("account", "owner"):
                if column in table:
                    names.update(table[column].dropna().astype(str))
    return {n for n in names if len(n) >= 4}


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    folder = tmp_path_factory.mktemp("sample")
    result = run("sample", "--out", folder)
    assert result.returncode == 0, result.stderr
    return folder, result


@pytest.fixture(scope="module")
def sample_files(sample_run) -> dict[str, Path]:
    return {p.name: p for p in sample_run[0].iterdir()}


@pytest.fixture(scope="module")
def deals_file(tmp_path_factory) -> Path:
    """The first 400 deals of the bundled Salesforce report: quick to analyse, same format."""
    from salesinsight.datasets import sample_paths

    source = sample_paths()["salesforce_deals"]
    lines = source.read_text(encoding="cp1252").splitlines(keepends=True)
    path = tmp_path_factory.mktemp("small") / "report1700000000000.csv"
    path.write_text("".join(lines[:401]), encoding="cp1252")
    return path


@pytest.fixture(scope="module")
def quick_card(deals_file):
    from salesinsight.claims.evaluate import evaluate_claims
    from salesinsight.report.analysis import load_analysis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StatisticalWarning)
        return evaluate_claims(load_analysis(str(deals_file)).data, claims=["K1", "K6"])


@pytest.fixture
def cached_claims(monkeypatch, quick_card):
    """In-process runs reuse one scorecard: these tests are about the command, not statistics."""
    import salesinsight.report.analysis

    monkeypatch.setattr(
        salesinsight.report.analysis, "evaluate_claims", lambda data, **options: quick_card
    )
    return quick_card


@pytest.fixture(scope="module")
def tiny_notebooks(tmp_path_factory) -> Path:
    """One notebook that loads the analysis like the real ones and shows names."""
    folder = tmp_path_factory.mktemp("notebooks")
    parameters = nbformat.v4.new_code_cell(
        "import os\n"
        + "".join(
            f'{name} = os.environ.get("SALESINSIGHT_{var}", "")\n'
            for name, var in [
                ("export_paths", "EXPORT"),
                ("crm", "CRM"),
                ("currency", "CURRENCY"),
                ("fx_path", "FX"),
                ("as_of", "AS_OF"),
                ("pseudonymize", "PSEUDONYMIZE"),
                ("salt", "SALT"),
            ]
        )  # fmt: skip
    )
    parameters.metadata["tags"] = ["parameters"]
    show = nbformat.v4.new_code_cell(
        "from salesinsight.report.analysis import load_analysis\n"
        "analysis = load_analysis(export_paths, crm=crm or 'auto', currency=currency or 'USD',\n"
        "    fx_path=fx_path, as_of=as_of, pseudonymize=pseudonymize, salt=salt)\n"
        "analysis.data[['account', 'owner', 'amount']].head(50)"
    )
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Names"), parameters, show]
    )
    nbformat.write(notebook, folder / "01-names.ipynb")
    return folder


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    """`salesinsight report --pseudonymize` on the sample with every notebook: run once."""
    cwd = tmp_path_factory.mktemp("full")
    result = run("report", "--pseudonymize", cwd=cwd, env={"SALESINSIGHT_SALT": SALT})
    assert result.returncode == 0, result.stderr
    return cwd / "reports" / "sample", result


class TestEntryPoints:
    def test_console_script_and_module_agree(self):
        a, b = run("--version", entry=[str(SCRIPT)]), run("--version")
        assert a.returncode == b.returncode == 0
        assert a.stdout == b.stdout and a.stdout.startswith("salesinsight 0.")

    @pytest.mark.parametrize("command", [None, "report", "clean", "claims", "sample", "notebooks"])
    def test_help_has_examples_and_exit_codes(self, command):
        result = run(*([command] if command else []), "--help")
        assert result.returncode == 0
        assert "examples:" in result.stdout and "exit codes:" in result.stdout
        assert "3  bad input data" in result.stdout

    def test_bad_flag_is_usage_error(self):
        result = run("report", "--no-such-flag")
        assert result.returncode == 2
        assert "unrecognized arguments: --no-such-flag" in result.stderr

    def test_missing_command_and_bad_choice(self):
        assert run().returncode == 2
        assert run("claims", "x.csv", "--format", "xml").returncode == 2


class TestBadInput:
    @pytest.mark.parametrize(
        "args",
        [
            ["report", "missing.csv"],
            ["clean", "missing.csv", "--out", "deals.parquet"],
            ["claims", "missing.csv"],
        ],
    )
    def test_missing_file_is_one_line_and_exit_3(self, tmp_path, args):
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 3
        assert result.stderr.splitlines() == error_lines(result)
        assert len(error_lines(result)) == 1 and "missing.csv" in result.stderr
        assert "Traceback" not in result.stderr
        assert not list(tmp_path.iterdir())

    def test_debug_shows_the_traceback(self, tmp_path):
        result = run("--debug", "claims", "missing.csv", cwd=tmp_path)
        assert result.returncode == 3 and "Traceback" in result.stderr

    def test_bad_as_of_date(self, deals_file, tmp_path):
        result = run("claims", deals_file, "--as-of", "someday")
        assert result.returncode == 3 and "as-of date" in error_lines(result)[0]

    def test_bad_exchange_rate_file(self, deals_file, tmp_path):
        rates = tmp_path / "rates.csv"
        rates.write_text("currency,rate\nEUR,-2\n")
        result = run("clean", deals_file, "--fx", rates, "--out", tmp_path / "d.parquet")
        assert result.returncode == 3 and "positive rate" in error_lines(result)[0]

    def test_unreadable_export(self, tmp_path):
        junk = tmp_path / "junk.csv"
        junk.write_bytes(b"\x00\x01\x02PK\x03\x04 not a table")
        result = run("clean", junk, "--out", tmp_path / "d.parquet")
        assert result.returncode == 3 and len(error_lines(result)) == 1
        assert "Traceback" not in result.stderr


class TestReport:
    def test_summary_names_rows_verdicts_and_where(self, full_report):
        out, result = full_report
        assert result.stdout.startswith("Read ")
        assert "kept" in result.stdout and "dropped" in result.stdout
        for claim in ("K1", "K2", "K3", "K4", "K5", "K6", "K7", "K8"):
            assert f"  {claim} " in result.stdout
        assert result.stdout.rstrip().endswith("Report: reports/sample/index.html")
        assert (out / "index.html").is_file()

    def test_progress_on_stderr_for_each_step(self, full_report):
        _, result = full_report
        progress = result.stderr
        for step in ("reading", "computing trust features", "evaluating the claims",
                     "notebook 1/7", "notebook 7/7", "writing the report"):  # fmt: skip
            assert step in progress, step
        assert "Traceback" not in progress and "IPKernelApp" not in progress

    def test_files_of_the_report(self, full_report):
        out, _ = full_report
        names = {p.name for p in out.iterdir()}
        assert {"index.html", "scorecard.csv", "scorecard.md", "ledger.csv", "deals.parquet",
                ".salesinsight-report", "notebooks"} <= names  # fmt: skip
        pages = sorted(n for n in names if n[:2].isdigit() and n.endswith(".html"))
        assert len(pages) == 7
        for page in pages:
            assert "data:image/png;base64," in (out / page).read_text(), page

    def test_says_what_the_stage_history_gave(self, full_report):
        _, result = full_report
        assert (
            "Stage history: 14,112 stage entries of 2,364 deals (K2 stage by stage, K8's "
            "first-quote test; notebook 07)." in result.stdout
        )

    def test_index_has_scorecard_verdicts_and_plots(self, full_report):
        out, _ = full_report
        page = (out / "index.html").read_text()
        scorecard = pd.read_csv(out / "scorecard.csv")
        assert {"claim_id", "verdict", "p_adjusted"} <= set(scorecard.columns)
        assert "Full scorecard" in page and "data:image/png;base64," in page
        for verdict in scorecard["verdict"].unique():
            assert verdict in page
        assert "Pseudonymized." in page and "contains customer names" not in page

    def test_pseudonymize_removes_every_name_from_every_file(self, full_report, sample_names):
        out, _ = full_report
        leaks = {}
        for path in out.rglob("*"):
            if path.is_dir():
                continue
            if path.suffix == ".parquet":
                text = pd.read_parquet(path).astype("str").to_csv()
            else:
                text = path.read_text(encoding="utf-8")
            found = [n for n in sample_names if n in text]
            if found:
                leaks[path.name] = found[:5]
        assert leaks == {}

    def test_the_salt_is_in_no_file(self, full_report):
        out, _ = full_report
        for path in out.rglob("*"):
            if path.is_file():
                assert SALT.encode() not in path.read_bytes(), path.name

    def test_one_scorecard_handed_to_every_notebook(self, full_report):
        out, result = full_report
        assert result.stderr.count("evaluating the claims") == 1
        executed = sorted((out / "notebooks").glob("*.ipynb"))
        assert len(executed) == 7
        for path in executed:
            [injected] = [
                c.source
                for c in nbformat.read(path, as_version=4).cells
                if "injected-parameters" in c.metadata.get("tags", [])
            ]
            assert 'analysis_file = ""  # the report\'s analysis, handed over' in injected

    def test_deals_parquet_is_the_feature_table(self, full_report):
        out, _ = full_report
        deals = pd.read_parquet(out / "deals.parquet")
        assert {"deal_id", "is_repeat_customer", "won"} <= set(deals.columns)
        assert deals["account"].dropna().str.startswith("acct-").all()

    def test_refuses_a_foreign_folder_and_writes_with_force(
        self, tmp_path, tiny_notebooks, deals_file, capsys, cached_claims
    ):
        (tmp_path / "thesis.docx").write_text("mine")
        refused = run("report", deals_file, "--out", tmp_path, "--notebooks", tiny_notebooks)
        assert refused.returncode == 2 and "--force" in error_lines(refused)[0]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["thesis.docx"]
        # In-process from here on: the subprocess path is covered by the other tests.
        assert main(["report", str(deals_file), "-q", "--out", str(tmp_path), "--force",
                     "--notebooks", str(tiny_notebooks)]) == 0  # fmt: skip
        assert capsys.readouterr().err == ""
        assert (tmp_path / "thesis.docx").read_text() == "mine"
        page = (tmp_path / "index.html").read_text()
        assert "This report contains customer names" in page
        again = ["report", str(deals_file), "-q", "--out", str(tmp_path),
                 "--notebooks", str(tiny_notebooks)]  # fmt: skip
        assert main(again) == 0

    def test_default_folder_is_named_after_the_export(
        self, tmp_path, tiny_notebooks, deals_file, capsys, cached_claims, monkeypatch
    ):
        monkeypatch.chdir(tmp_path)
        assert main(["report", str(deals_file), "-q", "--notebooks", str(tiny_notebooks)]) == 0
        out = capsys.readouterr().out
        assert out.rstrip().endswith("Report: reports/report1700000000000/index.html")
        assert (tmp_path / "reports" / "report1700000000000" / "index.html").is_file()

    @pytest.mark.parametrize(
        ("raised", "code"),
        [("KeyError('deal_size')", 1), ("AnalysisError('one value only')", 3)],
    )
    def test_a_failing_notebook_is_one_line_naming_it(
        self, tmp_path, deals_file, capsys, cached_claims, raised, code
    ):
        folder = tmp_path / "notebooks"
        folder.mkdir()
        cell = nbformat.v4.new_code_cell(
            f"from salesinsight.exceptions import AnalysisError\nraise {raised}"
        )
        nbformat.write(nbformat.v4.new_notebook(cells=[cell]), folder / "01-broken.ipynb")
        args = ["report", str(deals_file), "-q", "--out", str(tmp_path / "out"),
                "--notebooks", str(folder)]  # fmt: skip
        assert main(args) == code
        [line] = capsys.readouterr().err.splitlines()
        assert line.startswith(f"salesinsight: error: Notebook 01-broken.ipynb failed in the cell "
                               f"`raise {raised}`")  # fmt: skip
        assert (tmp_path / "out" / ".salesinsight-report").is_file()

    def test_input_inside_the_folder_survives(self, tmp_path, tiny_notebooks, deals_file):
        copy = tmp_path / "ledger.csv"
        copy.write_bytes(deals_file.read_bytes())
        result = run("report", copy, "--out", tmp_path, "--force", "--notebooks", tiny_notebooks)
        assert result.returncode == 2 and "overwrite an input" in error_lines(result)[0]
        assert copy.read_bytes() == deals_file.read_bytes()


class TestClean:
    def test_parquet_with_ledger_beside(self, tmp_path, deals_file):
        result = run("clean", deals_file, "--out", tmp_path / "clean" / "deals.parquet")
        assert result.returncode == 0, result.stderr
        deals = pd.read_parquet(tmp_path / "clean" / "deals.parquet")
        ledger = pd.read_csv(tmp_path / "clean" / "deals.ledger.csv")
        assert {"deal_id", "account", "status", "amount"} <= set(deals.columns)
        assert list(ledger.columns) == ["source_file", "source_row", "deal_id", "column", "value",
                                        "action", "reason", "record_id"]  # fmt: skip
        assert f"Wrote {len(deals):,} deals" in result.stdout

    def test_csv_is_excel_safe(self, tmp_path, deals_file):
        lines = deals_file.read_text(encoding="cp1252").splitlines(keepends=True)
        header = lines[0].split(",")
        account = next(i for i, h in enumerate(header) if "Account" in h)
        cells = lines[1].split(",")
        cells[account] = '"=HYPERLINK(""http://example.com"")"'
        hostile = tmp_path / "hostile.csv"
        hostile.write_text("".join([lines[0], ",".join(cells), *lines[2:]]), encoding="cp1252")
        result = run("clean", hostile, "--out", tmp_path / "deals.csv")
        assert result.returncode == 0, result.stderr
        accounts = pd.read_csv(tmp_path / "deals.csv")["account"]
        assert '\'=HYPERLINK("http://example.com")' in set(accounts)
        assert not accounts.dropna().str.match(r"[=+\-@]").any()

    def test_never_overwrites_the_input_or_an_existing_file(self, tmp_path, deals_file):
        copy = tmp_path / "deals.csv"
        copy.write_bytes(deals_file.read_bytes())
        same = run("clean", copy, "--out", copy, "--force")
        assert same.returncode == 2 and "input file" in error_lines(same)[0]
        (tmp_path / "out.parquet").write_text("old")
        exists = run("clean", copy, "--out", tmp_path / "out.parquet")
        assert exists.returncode == 2 and "--force" in error_lines(exists)[0]
        assert copy.read_bytes() == deals_file.read_bytes()

    def test_missing_exchange_rates_are_hinted_and_fx_converts(self, tmp_path):
        from salesinsight.datasets import sample_paths

        pipedrive = sample_paths()["pipedrive_deals"]
        without = run("clean", pipedrive, "--out", tmp_path / "a.parquet", "-q")
        assert without.returncode == 0, without.stderr
        # -q silences progress, not what the data need.
        assert "no exchange rate was given. Pass --fx" in without.stderr
        assert "reading" not in without.stderr
        rates = tmp_path / "rates.csv"
        rates.write_text("currency,rate\nEUR,1.08\nGBP,1.27\n")
        converted = run("clean", pipedrive, "--out", tmp_path / "b.parquet", "--fx", rates)
        assert converted.returncode == 0 and "warning" not in converted.stderr
        deals = pd.read_parquet(tmp_path / "b.parquet")
        eur = deals[deals["currency"] == "EUR"]
        assert np.allclose(eur["amount"], eur["amount_original"] * 1.08, equal_nan=True)

    def test_unknown_extension(self, tmp_path, deals_file):
        result = run("clean", deals_file, "--out", tmp_path / "deals.xlsx")
        assert result.returncode == 2 and ".parquet or .csv" in error_lines(result)[0]

    def test_pseudonymize(self, tmp_path, deals_file, sample_names):
        result = run("clean", deals_file, "--out", tmp_path / "d.csv", "--pseudonymize")
        assert result.returncode == 0, result.stderr
        text = (tmp_path / "d.csv").read_text() + (tmp_path / "d.ledger.csv").read_text()
        assert not [n for n in sample_names if n in text]


class TestClaims:
    def test_table(self, deals_file):
        result = run("claims", deals_file, "-q")
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        header = result.stdout.splitlines()[0].split()
        assert header[:4] == ["claim", "proxy", "outcome", "adjustment"] and "verdict" in header
        # The interval is the multiplicity-adjusted one the verdict is read from.
        assert "adjusted 95% CI" in result.stdout.splitlines()[0]
        # The table's last rows, before any closing line on what could not be tested.
        table = [line for line in result.stdout.splitlines() if "could not be tested" not in line]
        assert [line[:2] for line in table[-8:]] == [f"K{i}" for i in range(1, 9)]

    def test_json_markdown_and_csv(self, deals_file, capsys, cached_claims):
        # In-process: each format is the same scorecard printed differently.
        assert main(["claims", str(deals_file), "-q", "--format", "json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert {"claim_id", "verdict", "estimate", "note"} <= set(rows[0])
        assert main(["claims", str(deals_file), "-q", "--format", "markdown"]) == 0
        assert "| claim_id |" in capsys.readouterr().out
        assert main(["claims", str(deals_file), "-q", "--format", "csv"]) == 0
        table = pd.read_csv(io.StringIO(capsys.readouterr().out))
        assert len(table) == len(rows) and table.columns[0] == "claim_id"


class TestSample:
    def test_writes_the_bundled_exports(self, sample_files):
        from salesinsight.datasets import sample_paths

        assert set(sample_files) == {p.name for p in sample_paths().values()}

    def test_says_what_truth_and_dirt_are(self, sample_run):
        lines = {line.split(":")[0]: line for line in sample_run[1].stdout.splitlines()}
        truth = next(v for k, v in lines.items() if k.endswith("truth.csv"))
        dirt = next(v for k, v in lines.items() if k.endswith("dirt.csv"))
        assert "not an export" in truth and "effects planted" in truth
        assert "not an export" in dirt and "defect" in dirt and "ledger" in dirt

    def test_refuses_to_overwrite_unless_forced(self, sample_files):
        folder = next(iter(sample_files.values())).parent
        refused = run("sample", "--out", folder)
        assert refused.returncode == 2 and "--force" in error_lines(refused)[0]
        assert run("sample", "--out", folder, "--force", "-q").returncode == 0


class TestNotebooks:
    def test_copies_the_shipped_notebooks_and_refuses_to_overwrite(self, tmp_path):
        from salesinsight.report.notebooks import find_notebooks

        result = run("notebooks", "--out", tmp_path / "mine")
        assert result.returncode == 0, result.stderr
        copied = sorted(p.name for p in (tmp_path / "mine").glob("*.ipynb"))
        assert copied == [p.name for p in find_notebooks()]
        assert "--notebooks" in result.stdout
        refused = run("notebooks", "--out", tmp_path / "mine")
        assert refused.returncode == 2 and "--force" in error_lines(refused)[0]
        assert run("notebooks", "--out", tmp_path / "mine", "--force").returncode == 0


def test_subpackages_are_attributes_of_a_bare_import():
    code = "import salesinsight; print(salesinsight.datasets.load_sample().crm)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "salesforce"


def renamed(deals_file: Path, folder: Path, old: str, new: str) -> Path:
    """The small deals report with one header renamed."""
    text = deals_file.read_text(encoding="cp1252").replace(f'"{old}"', f'"{new}"', 1)
    path = folder / f"renamed-{new.replace(' ', '-').lower()}.csv"
    path.write_text(text, encoding="cp1252")
    return path


class TestColumnMaps:
    @pytest.mark.parametrize("command", ["report", "claims", "clean"])
    def test_options_in_help(self, command):
        result = run(command, "--help")
        for option in ("--columns 'HEADER=FIELD'", "--columns-file", "--stages 'STAGE=STATUS'"):
            assert option in result.stdout

    @pytest.mark.parametrize(("old", "new"), [("Amount", "Total Contract Value"),
                                              ("Stage", "Sales Stage")])  # fmt: skip
    def test_a_renamed_required_column_names_the_field_and_both_fixes(
        self, deals_file, tmp_path, old, new
    ):
        path = renamed(deals_file, tmp_path, old, new)
        result = run("clean", path, "--out", tmp_path / "deals.parquet")
        assert result.returncode == 3
        [line] = error_lines(result)
        assert f"Column `{old}`" in line and f"Closest: `{new}`" in line
        field = "amount" if old == "Amount" else "stage"
        assert f"columns={{{new!r}: {field!r}}}" in line
        assert f"--columns '{new}={field}'" in line
        assert "account report" not in line

    def test_columns_option_maps_the_renamed_header(self, deals_file, tmp_path):
        path = renamed(deals_file, tmp_path, "Amount", "Total Contract Value")
        out = tmp_path / "deals.parquet"
        result = run("clean", path, "--out", out, "--columns", "Total Contract Value=amount")
        assert result.returncode == 0, result.stderr
        assert pd.read_parquet(out)["amount"].notna().sum() > 300

    @pytest.mark.parametrize("suffix", [".csv", ".toml"])
    def test_columns_file_and_stages(self, deals_file, tmp_path, suffix):
        text = deals_file.read_text(encoding="cp1252").replace('"Closed Won"', '"Signed"')
        path = tmp_path / "signed.csv"
        path.write_text(text.replace('"Amount"', '"TCV"', 1), encoding="cp1252")
        mapping = tmp_path / f"map{suffix}"
        if suffix == ".csv":
            mapping.write_text("header,field\nTCV,amount\n")
            stages = ["--stages", "Signed=won"]
        else:
            mapping.write_text('[columns]\nTCV = "amount"\n[stages]\nSigned = "won"\n')
            stages = []
        out = tmp_path / "deals.parquet"
        result = run("clean", path, "--out", out, "--columns-file", mapping, *stages)
        assert result.returncode == 0, result.stderr
        deals = pd.read_parquet(out)
        assert (deals.loc[deals["stage"] == "Signed", "status"] == "won").all()
        assert deals["amount"].notna().sum() > 300
        assert "not known won/lost stages" not in result.stderr

    def test_a_malformed_pair_is_bad_usage(self, deals_file, tmp_path):
        result = run("clean", deals_file, "--out", tmp_path / "d.parquet", "--columns", "TCV")
        assert result.returncode == 2 and "NAME=VALUE" in error_lines(result)[0]

    def test_a_stage_must_map_onto_a_status(self, deals_file, tmp_path):
        result = run("clean", deals_file, "--out", tmp_path / "d.parquet", "--stages", "A=done")
        assert result.returncode == 3 and "won, lost or open" in error_lines(result)[0]


class TestPartialResults:
    def test_untested_rows_say_why_and_the_last_line_names_the_option(self, deals_file, tmp_path):
        path = renamed(deals_file, tmp_path, "Close Date", "Closing Day")
        result = run("claims", path, "-q")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert "why not testable" in lines[0]
        untested = [line for line in lines if "not testable" in line and line.startswith("   K")]
        assert untested and all("no close dates" in line for line in untested[:4])
        closing = next(line for line in lines if "field `close_date`" in line)
        assert "K2" in closing
        assert "--columns 'Closing Day=close_date'" in closing
        assert "columns={'Closing Day': 'close_date'}" in closing


class TestWarehouse:
    def test_sample_warehouse_then_report_on_it(self, tmp_path, tiny_notebooks):
        result = run("sample", "--warehouse", tmp_path / "wh")
        assert result.returncode == 0, result.stderr
        assert (tmp_path / "wh" / "crm.duckdb").is_file() and "--schema salesforce" in result.stdout
        again = run("sample", "--warehouse", tmp_path / "wh")
        assert again.returncode == 2 and "--force" in again.stderr
        out = tmp_path / "report"
        result = run("report", tmp_path / "wh" / "crm.duckdb", "--schema", "hubspot", "--out", out,
                     "--notebooks", tiny_notebooks)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "from hubspot.company, hubspot.deal" in result.stdout
        ledger = pd.read_csv(out / "ledger.csv")
        assert ledger["source_file"].str.startswith("hubspot.").all()
        assert ledger["record_id"].notna().all()

    def test_a_url_that_fails_keeps_its_password_out(self, tmp_path):
        url = "postgresql://ann:s3cr3t-pw@127.0.0.1:1/crm"
        result = run("report", url, "--schema", "salesforce", "--out", tmp_path / "r")
        assert result.returncode == 3
        assert "127.0.0.1:1/crm" in result.stderr
        assert "s3cr3t-pw" not in result.stderr + result.stdout
        assert not (tmp_path / "r").exists() or not any((tmp_path / "r").rglob("*s3cr3t*"))

    def test_sample_needs_a_folder(self):
        result = run("sample")
        assert result.returncode == 2 and "--warehouse DIR" in result.stderr
