"""Static checks of the committed notebooks: portable, parametrised, cited, and checked by nbval.

These run without a kernel. They guard what nbval cannot: that a notebook committed with outputs
holds no machine paths and no data beyond the bundled sample, and that each one can be re-run by
papermill on another export.
"""

from __future__ import annotations

import ast
import io
import re
from functools import cache
from pathlib import Path

import nbformat
import pandas as pd
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [
    "01-clean-export",
    "02-trust-proxies",
    "03-trust-and-deal-size",
    "04-trust-and-speed",
    "05-ideas-and-expertise",
    "06-claims-scorecard",
    "07-how-deals-move",
]
PARAMETERS = (
    "export_paths",
    "crm",
    "currency",
    "fx_path",
    "as_of",
    "columns",
    "stages",
    "pseudonymize",
    "salt",
    "analysis_file",
)
# What setup_notebook does once for every notebook, and the scorecard the analysis holds.
SETUP_BY_HAND = re.compile(
    r"%matplotlib|%config|plots\.theme\(|pd\.set_option\(|warnings\.simplefilter\(|"
    r"OMP_NUM_THREADS|load_analysis\(|evaluate_claims\(data\)|replace\(card"
)
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"

# A path rooted on a developer's machine: POSIX home/temp/system roots or a Windows drive. The
# look-behind keeps relative paths and URLs (`https://host/home/`) out.
ABSOLUTE_PATH = re.compile(
    r"(?<![\w.~/-])/(?:home|work|tmp|Users|root|var|opt|usr|mnt|private|srv|etc)/"
    r"|(?<![\w])[A-Za-z]:\\"
)
FILE_NAME = re.compile(r"[\w.-]+\.(?:csv|tsv|xlsx|xls|parquet)\b", re.IGNORECASE)
NAME_COLUMNS = ("account", "owner")
TEXT_MIME = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]-*.ipynb"))


@cache
def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _output_texts(cell: nbformat.NotebookNode) -> list[str]:
    """Every textual output of a code cell; images are left out (base64 is not text)."""
    texts: list[str] = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            texts.append(output.text)
        elif output.output_type in {"display_data", "execute_result"}:
            for mime in TEXT_MIME:
                if mime in output.data:
                    value = output.data[mime]
                    texts.append(value if isinstance(value, str) else str(value))
        elif output.output_type == "error":
            texts.append(output.evalue)
            texts.extend(output.traceback)
    return texts


def _html_tables(cell: nbformat.NotebookNode) -> list[pd.DataFrame]:
    tables: list[pd.DataFrame] = []
    for output in cell.get("outputs", []):
        html = output.get("data", {}).get("text/html") if "data" in output else None
        if html and "<table" in html:
            tables.extend(pd.read_html(io.StringIO(html)))
    return tables


def _code_cells(path: Path) -> list[nbformat.NotebookNode]:
    return [c for c in _read(path).cells if c.cell_type == "code"]


@cache
def _sample() -> tuple[frozenset[str], frozenset[str]]:
    """Names (accounts and owners) and file names of the bundled sample."""
    from salesinsight.datasets import load_sample, sample_paths

    export = load_sample()
    names: set[str] = set()
    for table in (export.deals, export.activities):
        if table is None:
            continue
        for column in NAME_COLUMNS:
            if column in table.columns:
                names.update(table[column].dropna().astype(str))
    files = {Path(p).name for p in sample_paths().values()}
    return frozenset(names), frozenset(files)


notebook = pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)


class TestNotebookSet:
    def test_the_seven_numbered_notebooks_are_present(self):
        assert [p.stem for p in _notebooks()] == EXPECTED

    def test_sanitizer_file_is_present(self):
        assert (NOTEBOOK_DIR / "nbval_sanitize.cfg").is_file()


class TestPortability:
    @notebook
    def test_kernel_is_python3(self, path):
        assert _read(path).metadata.kernelspec.name == "python3"

    @notebook
    def test_no_absolute_path_in_sources_or_outputs(self, path):
        found = []
        for index, cell in enumerate(_read(path).cells):
            for text in [cell.source, *_output_texts(cell)]:
                found.extend((index, m.group(0)) for m in ABSOLUTE_PATH.finditer(text))
        assert found == [], f"absolute paths (cell index, match): {found}"

    @notebook
    def test_no_object_reprs_in_outputs(self, path):
        reprs = [
            index
            for index, cell in enumerate(_read(path).cells)
            if any(" object at 0x" in text for text in _output_texts(cell))
        ]
        assert reprs == [], f"cells showing memory addresses: {reprs}"


class TestReadsLikeAProduct:
    @notebook
    def test_no_raw_reprs_in_outputs(self, path):
        raw = re.compile(r"Name: .*, dtype: |<NA>|\bdtype: (int|float|object|bool)")
        found = [
            index
            for index, cell in enumerate(_read(path).cells)
            if any(raw.search(text) for text in _output_texts(cell))
        ]
        assert found == [], f"cells showing raw pandas reprs: {found}"

    @notebook
    def test_sentences_about_the_code_are_tagged(self, path):
        # They are left out of a report page whose code is hidden (report.html.ABOUT_CODE).
        for cell in _read(path).cells:
            if cell.cell_type == "markdown" and "next cell holds the parameters" in cell.source:
                assert "about-code" in cell.metadata.get("tags", [])

    @notebook
    def test_p_values_are_not_rounded_to_zero(self, path):
        for cell in _code_cells(path):
            assert not re.search(r"p_adjusted.*\]\.round\(", cell.source.replace("\n", " "))


class TestParameters:
    @notebook
    def test_first_code_cell_is_the_tagged_parameters_cell(self, path):
        first = _code_cells(path)[0]
        assert "parameters" in first.metadata.get("tags", [])

    @notebook
    def test_parameters_default_to_environment_variables(self, path):
        tree = ast.parse(_code_cells(path)[0].source)
        defaults = {
            target.id: ast.unparse(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        assert set(PARAMETERS) <= set(defaults), sorted(set(PARAMETERS) - set(defaults))
        assert all("os.environ.get(" in defaults[name] for name in PARAMETERS)
        assert defaults["export_paths"].endswith(", '')"), "empty default = the bundled sample"

    @notebook
    def test_not_committed_from_a_papermill_run(self, path):
        nb = _read(path)
        tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
        assert "injected-parameters" not in tags
        assert "papermill" not in nb.metadata


class TestSetup:
    @notebook
    def test_the_setup_is_one_call_with_every_parameter(self, path):
        tree = ast.parse(_code_cells(path)[1].source)
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup_notebook"
        ]
        assert len(calls) == 1, "the second code cell calls setup_notebook once"
        [call] = calls
        passed = [ast.unparse(a) for a in call.args] + [k.arg for k in call.keywords]
        assert passed == list(PARAMETERS)
        assert all(ast.unparse(k.value) == k.arg for k in call.keywords), (
            "each parameter passed as itself"
        )

    @notebook
    def test_no_setup_by_hand_and_no_second_scorecard(self, path):
        found = [
            (index, match.group(0))
            for index, cell in enumerate(_code_cells(path))
            for match in SETUP_BY_HAND.finditer(cell.source)
        ]
        assert found == [], f"(code cell index, repeated setup): {found}"


class TestNarrative:
    @notebook
    def test_cites_the_book(self, path):
        text = " ".join(c.source for c in _read(path).cells if c.cell_type == "markdown")
        assert "A Mind for Sales" in text and "Hunter" in text and "2020" in text

    @notebook
    def test_every_step_is_introduced_by_markdown(self, path):
        cells = _read(path).cells
        bare = [
            i
            for i, cell in enumerate(cells)
            if cell.cell_type == "code" and (i == 0 or cells[i - 1].cell_type != "markdown")
        ]
        assert bare == [], f"code cells without a sentence before them: {bare}"


class TestCommittedOutputs:
    @notebook
    def test_every_code_cell_was_executed_without_error(self, path):
        cells = _code_cells(path)
        assert all(c.execution_count is not None for c in cells)
        assert [c.execution_count for c in cells] == list(range(1, len(cells) + 1))
        errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
        assert errors == []

    @notebook
    def test_key_numbers_are_checked_by_nbval(self, path):
        checked = [c for c in _code_cells(path) if CHECK_MARK in c.source]
        assert checked, "mark the cells showing key numbers with # NBVAL_CHECK_OUTPUT"
        assert all(c.outputs for c in checked)

    @notebook
    def test_figures_are_png(self, path):
        mimes = {
            mime
            for c in _code_cells(path)
            for o in c.outputs
            if "data" in o
            for mime in o.data
            if mime.startswith("image/")
        }
        assert mimes <= {"image/png"}

    @notebook
    def test_outputs_name_only_files_of_the_bundled_sample(self, path):
        _, files = _sample()
        named = {
            m.group(0)
            for cell in _code_cells(path)
            for text in _output_texts(cell)
            for m in FILE_NAME.finditer(text)
        }
        assert named <= files, sorted(named - files)

    @notebook
    def test_outputs_name_only_accounts_and_owners_of_the_bundled_sample(self, path):
        names, _ = _sample()
        shown = {
            str(value)
            for cell in _code_cells(path)
            for table in _html_tables(cell)
            for column in table.columns
            if str(column[-1] if isinstance(column, tuple) else column) in NAME_COLUMNS
            for value in table[column].dropna()
        }
        assert shown <= names, sorted(shown - names)[:10]
