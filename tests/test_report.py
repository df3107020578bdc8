"""Executing notebooks, turning them into pages, and writing the report folder.

Kernels start in about a second, so these tests use tiny notebooks written into tmp_path; the full
notebooks run once, in tests/test_cli.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from salesinsight.report.errors import NotebookError, ReportSetupError
from salesinsight.report.folder import (
    REPORT_MARKER,
    check_out_dir,
    clear_earlier_report,
    write_report,
)
from salesinsight.report.html import notebook_html, notebook_title
from salesinsight.report.notebooks import execute_notebooks, find_notebooks, main

PARAMETERS = """import os
export_paths = os.environ.get("SALESINSIGHT_EXPORT", "")
crm = os.environ.get("SALESINSIGHT_CRM", "auto")
salt = os.environ.get("SALESINSIGHT_SALT", "")
"""

PLOT = """import matplotlib.pyplot as plt
plt.plot([1, 2, 3], [2, 1, 3])
plt.show()
print("export:", repr(export_paths), "crm:", crm)
"""


def write_notebook(path, *code, title="Tiny notebook"):
    cells = [nbformat.v4.new_markdown_cell(f"# {title}\n\nWhat this shows.")]
    for i, source in enumerate(code):
        cell = nbformat.v4.new_code_cell(source)
        if i == 0:
            cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}  # fmt: skip
    nbformat.write(notebook, path)
    return path


def outputs_text(path):
    notebook = nbformat.read(path, as_version=4)
    return "".join(
        o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs
    )


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """One tiny notebook executed with parameters, a salt among them, and Agg in the env."""
    folder = tmp_path_factory.mktemp("nb")
    source = write_notebook(folder / "01-tiny.ipynb", PARAMETERS, PLOT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLBACKEND", "Agg")
        lines: list[str] = []
        [out] = execute_notebooks(
            [source],
            out_dir=folder / "out",
            parameters={
                "export_paths": "deals.csv",
                "crm": "hubspot",
                "salt": "s3cret-salt",
                "analysis_file": "/run/handed/analysis.pickle",
            },
            progress=lines.append,
        )
    return source, out, lines


class TestFindNotebooks:
    def test_numbered_notebooks_in_order(self, tmp_path):
        for name in ("02-b.ipynb", "01-a.ipynb", "notes.ipynb", "1-x.ipynb", "10-c.ipynb"):
            (tmp_path / name).write_text("{}")
        assert [p.name for p in find_notebooks(tmp_path)] == ["01-a.ipynb", "02-b.ipynb",
                                                              "10-c.ipynb"]  # fmt: skip

    def test_none_found_says_how_to_fix(self, tmp_path):
        with pytest.raises(ReportSetupError, match="--notebooks"):
            find_notebooks(tmp_path)


class TestExecuteNotebooks:
    def test_parameters_reach_the_notebook(self, executed):
        _, out, _ = executed
        assert "export: 'deals.csv' crm: hubspot" in outputs_text(out)

    def test_plots_are_captured_as_png_despite_agg_in_the_environment(self, executed):
        _, out, _ = executed
        notebook = nbformat.read(out, as_version=4)
        mimes = {m for c in notebook.cells for o in c.get("outputs", []) for m in o.get("data", {})}
        assert "image/png" in mimes

    def test_the_salt_is_withheld_from_the_saved_notebook(self, executed):
        _, out, _ = executed
        assert "s3cret-salt" not in out.read_text()

    def test_the_analysis_file_is_withheld_from_the_saved_notebook(self, executed):
        _, out, _ = executed
        text = out.read_text()
        assert "/run/handed/analysis.pickle" not in text
        assert 'analysis_file = \\"\\"  # the report' in text

    def test_progress_before_and_after_each_notebook(self, executed):
        _, _, lines = executed
        assert lines[0] == "notebook 1/1: 01-tiny ..."
        assert re.fullmatch(r"notebook 1/1: 01-tiny done in \d+\.\d s", lines[1])

    def test_time_left_after_the_first_of_several_notebooks(self, tmp_path):
        for name in ("01-a", "02-b", "03-c"):
            cell = nbformat.v4.new_code_cell("1")
            nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / f"{name}.ipynb")
        lines: list[str] = []
        execute_notebooks(
            sorted(tmp_path.glob("*.ipynb")), out_dir=tmp_path / "out", progress=lines.append
        )
        done = [line for line in lines if " done in " in line]
        assert re.fullmatch(r"notebook 1/3: 01-a done in \d+\.\d s; about \d+ s left", done[0])
        assert re.search(r"; about \d+ s left$", done[1])
        assert done[2].endswith(" s") and "left" not in done[2]

    def test_source_notebook_untouched(self, executed):
        source, _, _ = executed
        assert all(not c.get("outputs") for c in nbformat.read(source, as_version=4).cells)

    def test_a_failing_cell_raises_with_the_saved_notebook(self, tmp_path):
        source = write_notebook(tmp_path / "01-bad.ipynb", "x = 1", "raise KeyError('nope')")
        with pytest.raises(
            NotebookError, match=r"01-bad.ipynb failed in the cell `raise Ke"
        ) as info:
            execute_notebooks([source], out_dir=tmp_path / "out")
        assert info.value.ename == "KeyError"
        assert info.value.output.is_file() and "nope" in info.value.output.read_text()

    def test_in_place_leaves_no_run_metadata(self, tmp_path):
        source = write_notebook(tmp_path / "01-tiny.ipynb", "x = 1", "print(x + 1)")
        [out] = execute_notebooks([source])
        assert out == source.resolve()
        notebook = nbformat.read(source, as_version=4)
        assert "papermill" not in notebook.metadata
        assert all(c.metadata == {} for c in notebook.cells[2:])
        assert "2\n" in outputs_text(source)


class TestNotebookTitle:
    def test_first_heading_or_default(self):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("intro\n# Speed #")])
        assert notebook_title(nb, "x") == "Speed"
        assert notebook_title(nbformat.v4.new_notebook(), "04-speed") == "04-speed"


class TestNotebookHtml:
    def test_self_contained_page_with_code_hidden(self, executed):
        _, out, _ = executed
        title, page = notebook_html(out)
        assert title == "Tiny notebook"
        assert "data:image/png;base64," in page
        assert "plt.plot" not in page and "What this shows." in page
        assert not re.findall(r'<script[^>]+src="https?:', page)
        assert 'href="index.html"' in page

    def test_show_code(self, executed):
        _, out, _ = executed
        _, page = notebook_html(out, show_code=True)
        assert "plt" in page and "s3cret-salt" not in page

    def test_sentences_about_the_code_only_beside_it(self, tmp_path):
        note = nbformat.v4.new_markdown_cell("The next cell holds the parameters.")
        note.metadata["tags"] = ["about-code"]
        notebook = nbformat.v4.new_notebook(
            cells=[nbformat.v4.new_markdown_cell("# T"), note, nbformat.v4.new_code_cell("1")]
        )
        path = tmp_path / "01-t.ipynb"
        nbformat.write(notebook, path)
        assert "holds the parameters" not in notebook_html(path)[1]
        assert "holds the parameters" in notebook_html(path, show_code=True)[1]


class TestCheckOutDir:
    def test_new_empty_and_earlier_report_are_fine(self, tmp_path):
        check_out_dir(tmp_path / "new")
        check_out_dir(tmp_path)
        (tmp_path / "index.html").write_text("old")
        (tmp_path / REPORT_MARKER).write_text("{}")
        check_out_dir(tmp_path)

    def test_foreign_folder_refused_unless_forced(self, tmp_path):
        (tmp_path / "thesis.docx").write_text("mine")
        with pytest.raises(ReportSetupError, match="--force"):
            check_out_dir(tmp_path)
        check_out_dir(tmp_path, force=True)

    def test_an_input_that_a_report_file_would_replace_is_refused(self, tmp_path):
        notebooks = [tmp_path / "src" / "01-a.ipynb"]
        check_out_dir(tmp_path, inputs=[tmp_path / "deals.csv"], notebooks=notebooks)
        for name in ("ledger.csv", "01-a.html"):
            with pytest.raises(ReportSetupError, match="overwrite an input"):
                check_out_dir(tmp_path, force=True, inputs=[tmp_path / name], notebooks=notebooks)

    def test_a_file_is_refused_even_forced(self, tmp_path):
        (tmp_path / "f").write_text("x")
        with pytest.raises(ReportSetupError, match="is a file"):
            check_out_dir(tmp_path / "f", force=True)


class TestClearEarlierReport:
    def test_clears_only_what_the_earlier_report_wrote_and_never_an_input(self, tmp_path):
        for name in ("index.html", "ledger.csv", "mine.txt", "deals.csv"):
            (tmp_path / name).write_text("x")
        listed = ["index.html", "ledger.csv", "deals.csv", "../outside.txt"]
        (tmp_path.parent / "outside.txt").write_text("keep")
        (tmp_path / REPORT_MARKER).write_text(json.dumps({"files": listed}))
        clear_earlier_report(tmp_path, protected={tmp_path / "deals.csv"})
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [REPORT_MARKER, "mine.txt", "deals.csv"]
        )
        assert (tmp_path.parent / "outside.txt").exists()

    def test_a_foreign_folder_loses_nothing(self, tmp_path):
        (tmp_path / "index.html").write_text("theirs")
        clear_earlier_report(tmp_path, protected=set())
        assert (tmp_path / "index.html").read_text() == "theirs"


class TestInPlaceMain:
    def test_runs_each_notebook_on_the_sample_and_prints_timings(
        self, tmp_path, capsys, monkeypatch
    ):
        write_notebook(tmp_path / "01-a.ipynb", PARAMETERS, "print('export', repr(export_paths))")
        monkeypatch.setenv("SALESINSIGHT_EXPORT", "analysts-own.csv")
        assert main(["--in-place", "--notebooks", str(tmp_path)]) == 0
        printed = capsys.readouterr().out
        assert re.search(r"01-a\.ipynb\s+\d+\.\d s", printed)
        assert "export ''" in outputs_text(tmp_path / "01-a.ipynb")

    def test_requires_in_place(self, capsys):
        with pytest.raises(SystemExit) as info:
            main([])
        assert info.value.code == 2


class TestWriteReport:
    """Runs on the real analysis of the sample with one tiny notebook."""

    @pytest.fixture(scope="class")
    @classmethod
    def report(cls, tmp_path_factory):
        import salesinsight.report.analysis
        from salesinsight.claims.evaluate import evaluate_claims
        from salesinsight.report.analysis import load_analysis

        folder = tmp_path_factory.mktemp("report")
        notebooks = folder / "notebooks-src"
        notebooks.mkdir()
        write_notebook(
            notebooks / "01-deals.ipynb",
            PARAMETERS + 'as_of = ""\npseudonymize = False\ncurrency = "USD"\nfx_path = ""\n'
            'analysis_file = ""\n',
            "from salesinsight.report import setup_notebook\n"
            "analysis = setup_notebook(export_paths, crm=crm, currency=currency, fx_path=fx_path,\n"
            "    as_of=as_of, pseudonymize=pseudonymize, salt=salt, analysis_file=analysis_file)\n"
            "import os\n"
            "print('handed:', analysis_file)\n"
            "print('mode:', oct(os.stat(os.path.dirname(analysis_file)).st_mode & 0o777))\n"
            "print('claims:', list(analysis.scorecard.table['claim_id'].unique()))\n"
            "analysis.data[['account', 'owner', 'amount']].head(20)",
            title="Deals",
        )
        analysis = load_analysis()
        with pytest.MonkeyPatch.context() as patch:
            # One claim keeps the test quick; the full scorecard is covered in tests/test_cli.py.
            patch.setattr(
                salesinsight.report.analysis,
                "evaluate_claims",
                lambda data, **options: evaluate_claims(data, claims=["K1"], **options),
            )
            index = write_report(analysis, folder / "out", notebooks_dir=notebooks)
        return analysis, index

    def test_notebooks_read_the_reports_analysis_and_scorecard(self, report):
        _, index = report
        printed = outputs_text(index.parent / "notebooks" / "01-deals.ipynb")
        assert "claims: ['K1']\n" in printed

    def test_the_analysis_file_is_private_and_removed(self, report):
        _, index = report
        executed = index.parent / "notebooks" / "01-deals.ipynb"
        [handed] = re.findall(r"handed: (.+)\n", outputs_text(executed))
        assert handed and not Path(handed).exists() and not Path(handed).parent.exists()
        assert index.parent not in Path(handed).parents
        assert "mode: 0o700\n" in outputs_text(executed)
        assert handed not in executed.read_text().replace(f"handed: {handed}", "")

    def test_files(self, report):
        _, index = report
        names = {p.name for p in index.parent.iterdir()}
        assert {"index.html", "01-deals.html", "scorecard.csv", "scorecard.md", "ledger.csv",
                "deals.parquet", "notebooks", REPORT_MARKER} <= names  # fmt: skip

    def test_index_has_figures_verdicts_scorecard_plot_links_and_privacy(self, report):
        analysis, index = report
        page = index.read_text()
        assert f"{analysis.row_counts()['kept']:,}" in page
        assert "data:image/png;base64," in page
        assert 'href="01-deals.html">Deals</a>' in page
        assert "This report contains customer names" in page
        assert "<td>K1</td>" in page and "Full scorecard" in page

    def test_full_scorecard_reads_like_a_product(self, report):
        _, index = report
        page = index.read_text()
        table = page.split("<h2>Full scorecard</h2>", 1)[1].split("</table>", 1)[0]
        notes = re.findall(r'<td class="note">(.*?)</td>', table, flags=re.S)
        assert notes and not any("`" in n for n in notes), "note markdown is rendered"
        assert "<details><summary>" in table or all(len(n) <= 120 for n in notes)
        assert "ratio (adjusted 95% CI)" in table and "<th>p adjusted</th>" in table
        p_values = re.findall(r'<td class="num">([^<]*)</td><td><span class="v-', table)
        assert p_values and not any(p in {"0.000", "0.00", "0"} for p in p_values)
        assert "<NA>" not in page and "dtype:" not in page and "nan" not in table

    def test_tables_match_the_analysis(self, report):
        analysis, index = report
        deals = pd.read_parquet(index.parent / "deals.parquet")
        assert len(deals) == len(analysis.data)
        ledger = pd.read_csv(index.parent / "ledger.csv")
        assert len(ledger) == len(analysis.export.ledger)
        scorecard = pd.read_csv(index.parent / "scorecard.csv")
        assert list(scorecard.columns)[:3] == ["claim_id", "claim", "proxy"]

    def test_marker_lists_the_files_written(self, report):
        _, index = report
        marker = json.loads((index.parent / REPORT_MARKER).read_text())
        assert "index.html" in marker["files"] and "notebooks/01-deals.ipynb" in marker["files"]
        assert marker["pseudonymized"] is False
