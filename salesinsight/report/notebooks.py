"""Run the notebooks on an export and write a report that can be shared as a folder of files.

:func:`execute_notebooks` runs the numbered notebooks with papermill in a kernel of the running
Python; :func:`notebook_html` turns one into a self-contained page (code hidden, plots embedded);
:func:`write_report` writes the whole report (the landing page is built in
:mod:`salesinsight.report.index`)::

    index.html        landing page: figures, verdict per claim, scorecard, links, privacy note
    NN-name.html      one page per notebook
    notebooks/        the executed notebooks
    scorecard.csv     the claims scorecard (also scorecard.md)
    ledger.csv        every row the cleaner dropped and every value it changed
    deals.parquet     the trust-features table: one row per kept deal

``python -m salesinsight.report.notebooks --in-place`` re-executes the notebooks in place on the bundled
sample (``make notebooks``).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from salesinsight.privacy import excel_safe
from salesinsight.report.analysis import ENVIRONMENT, Progress, log_step
from salesinsight.report.index import _index_page

if TYPE_CHECKING:
    from salesinsight.report.analysis import Analysis

__all__ = [
    "REPORT_MARKER",
    "NotebookError",
    "ReportSetupError",
    "execute_notebooks",
    "find_notebooks",
    "notebook_html",
    "check_out_dir",
    "write_report",
    "write_table",
]

log = logging.getLogger(__name__)

REPORT_MARKER = ".salesinsight-report"
"""File written into every report folder; a folder holding it may be overwritten by a new report."""

NOTEBOOK_PATTERN = "[0-9][0-9]-*.ipynb"

# A page template that drops the CDN scripts (require.js, MathJax, Mermaid) so pages work offline
# and load nothing from third parties, and adds a link back to the index.
_PAGE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block body_header -%}{{ super() }}
<nav style="padding:0.5em 1em;font-family:sans-serif"><a href="index.html">&larr; Report index</a></nav>
{%- endblock body_header -%}
"""


class ReportSetupError(RuntimeError):
    """The report cannot be written as asked (output folder, notebooks); the message says why."""


class NotebookError(RuntimeError):
    """A notebook failed while executing.

    Attributes
    ----------
    notebook : Path
        The notebook that failed.
    ename : str
        Name of the exception raised in the notebook (e.g. ``ColumnNotFoundError``).
    output : Path
        Where the partly executed notebook was saved, with the traceback.
    """

    def __init__(self, message: str, *, notebook: Path, ename: str, output: Path) -> None:
        super().__init__(message)
        self.notebook = notebook
        self.ename = ename
        self.output = output


def _default_notebooks_dir() -> Path:
    """``notebooks/`` beside the package (a clone), else inside it (an installed package)."""
    import salesinsight

    package = Path(salesinsight.__file__).resolve().parent
    for candidate in (package.parent / "notebooks", package / "notebooks"):
        if any(candidate.glob(NOTEBOOK_PATTERN)):
            return candidate
    return package.parent / "notebooks"


def find_notebooks(notebooks_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The numbered notebooks (``NN-name.ipynb``) of a folder, in order.

    Parameters
    ----------
    notebooks_dir : str or path, optional
        Folder to search; default: the project's ``notebooks/``.

    Returns
    -------
    list of Path
        Sorted by name, hence by number.

    Raises
    ------
    ReportSetupError
        When the folder holds no numbered notebook.

    Examples
    --------
    >>> [p.name for p in find_notebooks()][:1]
    ['01-...ipynb']
    """
    folder = Path(notebooks_dir).expanduser() if notebooks_dir else _default_notebooks_dir()
    found = sorted(p for p in folder.glob(NOTEBOOK_PATTERN) if p.is_file())
    if not found:
        raise ReportSetupError(
            f"No numbered notebooks (like 01-clean-export.ipynb) in {str(folder)!r}. Pass the "
            "folder that holds them with --notebooks DIR."
        )
    return found


def _kernel_manager_class(cwd: Path, kernel_name: str | None) -> type:
    """A kernel manager that starts the kernel in `cwd`, quietly, with inline plots.

    Without `kernel_name`, ipykernel runs on the running interpreter: a kernelspec named
    ``python3`` may point at another environment, which would lack salesinsight. The kernel's own
    log (a warning about unencrypted local TCP) is silenced unless debugging, and a non-inline
    MPLBACKEND from the caller's environment (``make`` exports Agg) is dropped so that plots are
    captured as PNGs. The working directory is set here rather than by papermill, which changes
    the whole process's directory and so cannot run notebooks side by side.
    """
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager

    class QuietKernelManager(AsyncKernelManager):
        @property
        def kernel_spec(self) -> KernelSpec | None:
            if self._kernel_spec is None and kernel_name is None:
                self._kernel_spec = KernelSpec(
                    argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                    display_name="Python 3 (ipykernel)",
                    language="python",
                    resource_dir="",
                )
            return super().kernel_spec

        async def start_kernel(self, **kw: Any) -> None:  # type: ignore[override]
            env = dict(kw.pop("env", None) or os.environ)
            if "inline" not in env.get("MPLBACKEND", "inline"):
                env.pop("MPLBACKEND")
            kw["env"] = env
            kw.setdefault("cwd", str(cwd))
            if not logging.getLogger("salesinsight").isEnabledFor(logging.DEBUG):
                kw.setdefault("stderr", subprocess.DEVNULL)
            await super().start_kernel(**kw)

    return QuietKernelManager


def _redact_salt(notebook: Mapping[str, Any]) -> None:
    """Withhold the salt from an executed notebook: whoever has it can test guessed names."""
    for cell in notebook.get("cells", []):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            cell["source"] = re.sub(
                r"(?m)^salt = .*$",
                'salt = ""  # withheld: pass the same salt to reproduce the pseudonyms',
                cell["source"],
            )
    params = notebook.get("metadata", {}).get("papermill", {}).get("parameters", {})
    if params.get("salt"):
        params["salt"] = ""


def _strip_run_metadata(notebook: Mapping[str, Any]) -> None:
    """Drop timings and paths papermill records, so a re-run in place leaves a small diff."""
    notebook.get("metadata", {}).pop("papermill", None)
    for cell in notebook.get("cells", []):
        metadata = cell.get("metadata", {})
        metadata.pop("papermill", None)
        metadata.pop("execution", None)
        if metadata.get("tags") == []:
            del metadata["tags"]


def execute_notebooks(
    notebooks: Sequence[str | os.PathLike[str]],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    kernel_name: str | None = None,
    timeout: float = 1800,
    jobs: int = 1,
) -> list[Path]:
    """Execute notebooks with papermill, one after the other or side by side.

    Parameters
    ----------
    notebooks : sequence of paths
        Notebooks to run, in order.
    out_dir : str or path, optional
        Folder for the executed copies (created if needed). None: execute in place, without run
        metadata (timings, paths), as for committed notebooks.
    parameters : mapping, optional
        Values injected after each notebook's ``parameters`` cell, e.g. ``{"export_paths": ...}``.
        A ``salt`` is withheld from the saved notebooks. Leave empty for in-place runs, or the
        injected cell is saved into the notebook.
    progress : callable, optional
        Called with a line before and after each notebook (with its duration).
    kernel_name : str, optional
        A Jupyter kernel to use. Default: ipykernel on the running Python interpreter, whatever the
        installed kernelspecs say.
    timeout : float, default 1800
        Seconds a single cell may run.
    jobs : int, default 1
        Notebooks executed at the same time, each in its own kernel (one per CPU core is
        plenty). Each kernel starts in its notebook's folder.

    Returns
    -------
    list of Path
        The executed notebooks.

    Raises
    ------
    NotebookError
        When a cell fails; the partly executed notebook, with the traceback, is saved anyway.

    Examples
    --------
    >>> import nbformat, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    >>> nbformat.write(nb, folder / "01-demo.ipynb")
    >>> [out] = execute_notebooks([folder / "01-demo.ipynb"], out_dir=folder / "out")
    >>> nbformat.read(out, as_version=4).cells[0].outputs[0].text
    '42\\n'
    """
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    sources = [Path(n).resolve() for n in notebooks]
    target_dir = Path(out_dir).resolve() if out_dir is not None else None
    if target_dir is not None:
        target_dir.mkdir(parents=True, exist_ok=True)

    def run(i: int, source: Path) -> Path:
        target = source if target_dir is None else target_dir / source.name
        log_step(progress, f"notebook {i}/{len(sources)}: {source.stem} ...", logger=log)
        start = time.perf_counter()
        error: PapermillExecutionError | None = None
        try:
            papermill.execute_notebook(
                str(source),
                str(target),
                parameters=dict(parameters) if parameters else None,
                kernel_name=kernel_name or "python3",
                # Notebooks written by tools that leave out the kernelspec still run, as Python.
                language="python",
                progress_bar=False,
                request_save_on_cell_execute=False,
                execution_timeout=timeout,
                kernel_manager_class=_kernel_manager_class(source.parent, kernel_name),
            )
        except PapermillExecutionError as exc:
            error = exc
        executed = nbformat.read(target, as_version=4)
        if parameters and parameters.get("salt"):
            _redact_salt(executed)
        if target_dir is None:
            _strip_run_metadata(executed)
        nbformat.write(executed, target)
        if error is not None:
            lines = [line.strip() for line in str(error.source).splitlines() if line.strip()]
            where = f" in the cell `{lines[-1][:60]}`" if lines else ""
            raise NotebookError(
                f"Notebook {source.name} failed{where}: {error.ename}: {error.evalue} (the "
                f"executed notebook with the traceback is {str(target)!r})",
                notebook=source,
                ename=error.ename,
                output=target,
            ) from None
        took = time.perf_counter() - start
        done = f"notebook {i}/{len(sources)}: {source.stem} done in {took:.1f} s"
        log_step(progress, done, logger=log)
        return target

    if jobs <= 1 or len(sources) <= 1:
        return [run(i, source) for i, source in enumerate(sources, start=1)]
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(run, i, source) for i, source in enumerate(sources, start=1)]
        try:
            return [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _notebook_title(notebook: Mapping[str, Any], default: str) -> str:
    """The first level-1 heading of the notebook's markdown, else `default`."""
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "markdown":
            match = re.search(r"(?m)^#\s+(.+?)\s*#*\s*$", cell.get("source", ""))
            if match:
                return match.group(1)
    return default


def notebook_html(path: str | os.PathLike[str], *, show_code: bool = False) -> tuple[str, str]:
    """Convert an executed notebook to one self-contained HTML page.

    Plots are embedded as PNG data URIs, styles are inline and nothing is loaded from the
    internet; code cells are hidden unless `show_code`.

    Parameters
    ----------
    path : str or path
        An executed notebook.
    show_code : bool, default False
        Show the code cells' input.

    Returns
    -------
    (str, str)
        The page's title and its HTML.
    """
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.read(path, as_version=4)
    title = _notebook_title(notebook, Path(path).stem)
    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[jinja2.DictLoader({"salesinsight.html.j2": _PAGE_TEMPLATE})],
        template_file="salesinsight.html.j2",
        exclude_input=not show_code,
        exclude_input_prompt=not show_code,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    return title, body


def _read_marker(out_dir: Path) -> dict[str, Any] | None:
    marker = out_dir / REPORT_MARKER
    if not marker.is_file():
        return None
    try:
        content = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return content if isinstance(content, dict) else {}


def _report_files(notebooks: Sequence[Path]) -> list[str]:
    pages = [f"{n.stem}.html" for n in notebooks]
    executed = [f"notebooks/{n.name}" for n in notebooks]
    tables = ["scorecard.csv", "scorecard.md", "ledger.csv", "deals.parquet"]
    return ["index.html", *tables, *pages, *executed]


def check_out_dir(
    out_dir: str | os.PathLike[str],
    *,
    force: bool = False,
    inputs: Iterable[str | os.PathLike[str]] = (),
    notebooks: Sequence[Path] = (),
) -> None:
    """Refuse an output folder a report may not be written into, without touching anything.

    Fine: a new or empty folder, or one holding an earlier report (the ``.salesinsight-report``
    marker). Refused unless `force`: any other non-empty folder. Always refused: a file, and a
    folder where a report file would replace one of the `inputs`.

    Parameters
    ----------
    out_dir : str or path
        The report folder.
    force : bool, default False
        Accept a non-empty folder that is not an earlier report.
    inputs : iterable of paths
        The files the report reads (exports, exchange rates); never overwritten.
    notebooks : sequence of Path
        The notebooks the report will run, which name some of its files.

    Raises
    ------
    ReportSetupError
        With what to do instead.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "notes.txt").write_text("mine")
    >>> check_out_dir(folder)
    Traceback (most recent call last):
    ...
    salesinsight.report.notebooks.ReportSetupError: Output folder ... is not empty and holds no earlier ...
    >>> check_out_dir(folder, force=True)
    """
    folder = Path(out_dir).expanduser().resolve()
    if folder.exists() and not folder.is_dir():
        raise ReportSetupError(
            f"--out {str(out_dir)!r} is a file; the report needs a folder. Choose another path."
        )
    protected = {Path(p).expanduser().resolve() for p in inputs}
    clash = [name for name in _report_files(notebooks) if (folder / name) in protected]
    if clash:
        raise ReportSetupError(
            f"Writing {clash[0]!r} into {str(out_dir)!r} would overwrite an input file. "
            "Choose another --out folder."
        )
    if force or not folder.is_dir() or _read_marker(folder) is not None:
        return
    if any(folder.iterdir()):
        raise ReportSetupError(
            f"Output folder {str(out_dir)!r} is not empty and holds no earlier salesinsight "
            "report. Choose a new folder with --out DIR, or pass --force to write into it anyway."
        )


def _clear_earlier_report(folder: Path, *, protected: set[Path]) -> None:
    """Remove the files an earlier report listed in its marker (never an input file)."""
    marker = _read_marker(folder) if folder.is_dir() else None
    for name in (marker or {}).get("files", []):
        old = (folder / name).resolve()
        if folder in old.parents and old.is_file() and old not in protected:
            old.unlink()


def write_report(
    analysis: Analysis,
    out_dir: str | os.PathLike[str],
    *,
    card: Any = None,
    notebooks_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    show_code: bool = False,
    jobs: int | None = None,
    progress: Progress | None = None,
    notebooks: bool = True,
) -> Path:
    """Execute the notebooks on an analysis and write the report folder.

    Parameters
    ----------
    analysis : Analysis
        From :func:`salesinsight.report.analysis.load_analysis`. The notebooks get its `parameters`, so
        they analyse the same export with the same options (pseudonyms included).
    out_dir : str or path
        The report folder; see :func:`check_out_dir` for when it may be non-empty. The files an
        earlier report there wrote are replaced; nothing else is removed.
    card : Scorecard, optional
        ``evaluate_claims(analysis.data)`` if already computed.
    notebooks_dir : str or path, optional
        Where the numbered notebooks are; default: the project's ``notebooks/``.
    force : bool, default False
        Write into a non-empty folder that is not an earlier report.
    show_code : bool, default False
        Show the notebooks' code cells in the HTML pages.
    jobs : int, optional
        Notebooks run side by side; default: two, or one on a single-core machine.
    progress : callable, optional
        Called with one short line per step.
    notebooks : bool, default True
        False writes only the index page and the tables (scorecard, ledger, deals), without
        executing any notebook: quicker, e.g. to time the analysis itself.

    Returns
    -------
    Path
        The report's ``index.html``.

    Raises
    ------
    ReportSetupError
        Output folder refused (see :func:`check_out_dir`), or no notebooks found.
    NotebookError
        A notebook failed.
    """
    from salesinsight import __version__
    from salesinsight.claims.evaluate import evaluate_claims

    chosen = find_notebooks(notebooks_dir) if notebooks else []
    inputs = [Path(p) for p in analysis.parameters.get("export_paths", "").split(os.pathsep) if p]
    if analysis.parameters.get("fx_path"):
        inputs.append(Path(analysis.parameters["fx_path"]))
    check_out_dir(out_dir, force=force, inputs=inputs, notebooks=chosen)
    jobs = jobs if jobs is not None else min(2, os.cpu_count() or 1)
    folder = Path(out_dir).expanduser().resolve()
    _clear_earlier_report(folder, protected={p.expanduser().resolve() for p in inputs})
    folder.mkdir(parents=True, exist_ok=True)
    files = _report_files(chosen)
    # Marked first, so that a run stopped half-way is still recognised as a report folder.
    marker = {
        "salesinsight": __version__,
        "created": pd.Timestamp.now().isoformat(timespec="seconds"),
        "sources": analysis.sources,
        "pseudonymized": analysis.pseudonymized,
        "files": sorted(files),
    }
    (folder / REPORT_MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")

    if card is None:
        log_step(progress, "evaluating the claims", logger=log)
        card = evaluate_claims(analysis.data)
    executed = (
        execute_notebooks(
            chosen,
            out_dir=folder / "notebooks",
            parameters=analysis.parameters,
            progress=progress,
            jobs=jobs,
        )
        if chosen
        else []
    )

    log_step(progress, f"writing the report to {folder}", logger=log)
    pages = []
    for notebook in executed:
        title, body = notebook_html(notebook, show_code=show_code)
        (folder / f"{notebook.stem}.html").write_text(body, encoding="utf-8")
        pages.append((f"{notebook.stem}.html", title))
    write_table(card.table, folder / "scorecard.csv")
    (folder / "scorecard.md").write_text(card.to_markdown(), encoding="utf-8")
    write_table(analysis.export.ledger, folder / "ledger.csv")
    write_table(analysis.data, folder / "deals.parquet")
    index = folder / "index.html"
    index.write_text(
        _index_page(analysis, card, pages=pages, version=__version__), encoding="utf-8"
    )
    return index


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a table as Parquet or, for a ``.csv`` name, as an Excel-safe CSV.

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> write_table(pd.DataFrame({"note": ["=1+1"], "amount": [-2.0]}), path)
    >>> print(path.read_text().strip())
    note,amount
    '=1+1,-2.0
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        excel_safe(frame).to_csv(path, index=False)
        return
    # Object columns of mixed Python types (e.g. unknown export columns) cannot go to Arrow as is.
    fixed = {
        c: frame[c].astype("str").where(frame[c].notna())
        for c in frame.columns
        if pd.api.types.is_object_dtype(frame[c].dtype)
    }
    frame.assign(**fixed).to_parquet(path, index=False)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m salesinsight.report.notebooks --in-place``: re-execute the notebooks on the sample."""
    parser = argparse.ArgumentParser(
        prog="python -m salesinsight.report.notebooks",
        description="Re-execute the numbered notebooks in place on the bundled sample, so their "
        "committed outputs match the library (used by `make notebooks`).",
    )
    parser.add_argument(
        "--in-place", action="store_true", required=True, help="execute and overwrite each notebook"
    )
    parser.add_argument("--notebooks", metavar="DIR", help="folder of numbered notebooks")
    args = parser.parse_args(argv)
    for variable in ENVIRONMENT.values():
        # The committed outputs must come from the bundled sample, never from an analyst's export.
        os.environ.pop(variable, None)
    try:
        notebooks = find_notebooks(args.notebooks)
    except ReportSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    total = time.perf_counter()
    for notebook in notebooks:
        start = time.perf_counter()
        try:
            execute_notebooks([notebook])
        except NotebookError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{notebook.name:<40} {time.perf_counter() - start:6.1f} s", flush=True)
    print(f"{'all notebooks':<40} {time.perf_counter() - total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
