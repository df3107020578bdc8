"""The report folder: refuse a folder it may not write into, then write the report there.

:func:`write_report` executes the notebooks on an analysis and writes::

    index.html        landing page: figures, verdict per claim, scorecard, links, privacy note
    NN-name.html      one page per notebook
    notebooks/        the executed notebooks
    scorecard.csv     the claims scorecard (also scorecard.md)
    ledger.csv        every row the cleaner dropped and every value it changed
    deals.parquet     the trust-features table: one row per kept deal

and a marker file (:data:`REPORT_MARKER`) listing them, so that the next report into the same
folder replaces exactly those files.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
from threadpoolctl import threadpool_limits

from salesinsight import __version__
from salesinsight.privacy import excel_safe
from salesinsight.report.analysis import Analysis, write_analysis_file
from salesinsight.report.errors import ReportSetupError
from salesinsight.report.html import notebook_html
from salesinsight.report.index import index_page
from salesinsight.report.notebooks import execute_notebooks, find_notebooks
from salesinsight.report.progress import Progress, log_step

__all__ = ["REPORT_MARKER", "check_out_dir", "clear_earlier_report", "write_report", "write_table"]

log = logging.getLogger(__name__)

REPORT_MARKER = ".salesinsight-report"
"""File written into every report folder; a folder holding it may be overwritten by a new report."""


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
    salesinsight.report.errors.ReportSetupError: Output folder ... is not empty and holds no earlier ...
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


def clear_earlier_report(folder: Path, *, protected: set[Path]) -> None:
    """Remove the files an earlier report listed in its marker (never an input file).

    Parameters
    ----------
    folder : Path
        The report folder, resolved.
    protected : set of Path
        Resolved paths never removed: the report's inputs.
    """
    marker = _read_marker(folder) if folder.is_dir() else None
    for name in (marker or {}).get("files", []):
        old = (folder / name).resolve()
        if folder in old.parents and old.is_file() and old not in protected:
            old.unlink()


def write_report(
    analysis: Analysis,
    out_dir: str | os.PathLike[str],
    *,
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
        From :func:`salesinsight.report.analysis.load_analysis`. The notebooks read this analysis
        and its scorecard (evaluated here if not yet), handed over in a private temporary file
        that is removed afterwards; they also get its `parameters`, which reproduce it.
    out_dir : str or path
        The report folder; see :func:`check_out_dir` for when it may be non-empty. The files an
        earlier report there wrote are replaced; nothing else is removed.
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
    chosen = find_notebooks(notebooks_dir) if notebooks else []
    given = analysis.parameters.get("export_paths", "")
    # A database URL is no file to protect (and its colons are no path separators).
    inputs = [Path(p) for p in given.split(os.pathsep) if p] if "://" not in given else []
    if analysis.parameters.get("fx_path"):
        inputs.append(Path(analysis.parameters["fx_path"]))
    check_out_dir(out_dir, force=force, inputs=inputs, notebooks=chosen)
    folder = Path(out_dir).expanduser().resolve()
    clear_earlier_report(folder, protected={p.expanduser().resolve() for p in inputs})
    folder.mkdir(parents=True, exist_ok=True)
    # Marked first, so that a run stopped half-way is still recognised as a report folder.
    _write_marker(folder, analysis, _report_files(chosen))
    log_step(progress, "evaluating the claims", logger=log)
    executed = _run_notebooks(
        analysis,
        chosen,
        folder / "notebooks",
        jobs=jobs if jobs is not None else min(2, os.cpu_count() or 1),
        progress=progress,
    )
    card = analysis.scorecard
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
    index.write_text(index_page(analysis, pages=pages, version=__version__), encoding="utf-8")
    return index


def _write_marker(folder: Path, analysis: Analysis, files: Sequence[str]) -> None:
    marker = {
        "salesinsight": __version__,
        "created": pd.Timestamp.now().isoformat(timespec="seconds"),
        "sources": analysis.sources,
        "pseudonymized": analysis.pseudonymized,
        "files": sorted(files),
    }
    (folder / REPORT_MARKER).write_text(json.dumps(marker, indent=1), encoding="utf-8")


def _run_notebooks(
    analysis: Analysis,
    notebooks: Sequence[Path],
    out_dir: Path,
    *,
    jobs: int,
    progress: Progress | None,
) -> list[Path]:
    """Execute the notebooks on the analysis, handed to them in a private temporary file.

    The claims are scored while the notebooks that do not read the scorecard (whose code never
    names it) already run on the analysis without it; the others start once it is saved. The
    scoring then uses one BLAS thread: its small fits gain little from a second one, which the
    notebooks beside it need.
    """
    if not notebooks:
        return []
    # Outside the report folder and readable only by this user: the file holds the salt.
    with (
        tempfile.TemporaryDirectory(prefix="salesinsight-") as private,
        ThreadPoolExecutor(max_workers=1) as scoring,
    ):
        folder = Path(private)
        early = None
        if jobs > 1 and not all(_reads_scorecard(n) for n in notebooks):
            early = write_analysis_file(analysis, folder / "early.pickle", scorecard=False)
        scored = scoring.submit(_score_and_write, analysis, folder / "analysis.pickle", early)

        def parameters_for(notebook: Path) -> dict[str, Any]:
            handed = early if early and not _reads_scorecard(notebook) else scored.result()
            return {**analysis.parameters, "analysis_file": str(handed)}

        return execute_notebooks(
            notebooks, out_dir=out_dir, parameters=parameters_for, progress=progress, jobs=jobs
        )


def _score_and_write(analysis: Analysis, path: Path, concurrent: Path | None) -> Path:
    """Score the claims (with one BLAS thread beside `concurrent` notebooks) and save all."""
    with threadpool_limits(limits=1 if concurrent else None):
        analysis.scorecard  # noqa: B018
    return write_analysis_file(analysis, path)


def _reads_scorecard(notebook: Path) -> bool:
    """Whether a notebook's code names the scorecard (and so must wait for it)."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    return any(
        "scorecard" in "".join(c.get("source", "")) for c in cells if c.get("cell_type") == "code"
    )


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
