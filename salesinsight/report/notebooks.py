"""Find the numbered notebooks and execute them with papermill, side by side or in place.

:func:`execute_notebooks` runs notebooks in kernels of the running Python and withholds from the
saved copies the parameters that must not outlive the run (the salt, the report's temporary
analysis file). ``python -m salesinsight.report --in-place`` (:func:`main`, ``make notebooks``)
re-executes the committed notebooks in place on the bundled sample.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any

from salesinsight.report.errors import NotebookError, ReportSetupError
from salesinsight.report.parameters import ENVIRONMENT
from salesinsight.report.progress import Progress, log_step, time_left

__all__ = [
    "NOTEBOOKS_PACKAGE",
    "NOTEBOOK_PATTERN",
    "WITHHELD",
    "bundled_notebooks_dir",
    "copy_notebooks",
    "execute_notebooks",
    "find_notebooks",
    "main",
]

log = logging.getLogger(__name__)

NOTEBOOK_PATTERN = "[0-9][0-9]-*.ipynb"
"""The names of the notebooks a report runs, in the order of their numbers."""

WITHHELD = {
    "salt": "withheld: pass the same salt to reproduce the pseudonyms",
    "analysis_file": "the report's analysis, handed over in a temporary file since removed",
}
"""Parameters blanked in executed notebooks, with the comment that says why.

Whoever has the salt can test guessed names against the pseudonyms; the analysis file is gone
once the report is written, and with it blank the notebook recomputes its analysis when re-run.
"""

NOTEBOOKS_PACKAGE = "salesinsight.notebooks"
"""The package the numbered notebooks ship in: the repository's ``notebooks/`` folder, mapped
onto it by the packaging configuration, so a clone and an installed wheel read the same files."""


def bundled_notebooks_dir() -> Path:
    """The folder of the notebooks that ship with salesinsight.

    Returns
    -------
    Path
        ``notebooks/`` of a clone (editable install), or ``salesinsight/notebooks/`` of an
        installed wheel.

    Raises
    ------
    ReportSetupError
        When the package's notebooks are not files on disk (an install from a zip archive).

    Examples
    --------
    >>> sorted(p.name for p in bundled_notebooks_dir().glob(NOTEBOOK_PATTERN))[0]
    '01-clean-export.ipynb'
    """
    try:
        root = resources.files(NOTEBOOKS_PACKAGE)
    except ModuleNotFoundError as exc:
        raise ReportSetupError(
            f"This installation of salesinsight has no notebooks ({exc}). Reinstall it, or "
            "pass a folder of numbered notebooks with --notebooks DIR."
        ) from exc
    if isinstance(root, Path) and any(root.glob(NOTEBOOK_PATTERN)):
        return root
    raise ReportSetupError(
        f"The notebooks of this installation ({root}) are not files on disk. Copy them out with "
        "`salesinsight notebooks --out DIR`, or pass a folder with --notebooks DIR."
    )


def find_notebooks(notebooks_dir: str | os.PathLike[str] | None = None) -> list[Path]:
    """The numbered notebooks (``NN-name.ipynb``) of a folder, in order.

    Parameters
    ----------
    notebooks_dir : str or path, optional
        Folder to search; default: the notebooks that ship with salesinsight
        (:func:`bundled_notebooks_dir`).

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
    folder = Path(notebooks_dir).expanduser() if notebooks_dir else bundled_notebooks_dir()
    found = sorted(p for p in folder.glob(NOTEBOOK_PATTERN) if p.is_file())
    if not found:
        raise ReportSetupError(
            f"No numbered notebooks (like 01-clean-export.ipynb) in {str(folder)!r}. Pass the "
            "folder that holds them with --notebooks DIR."
        )
    return found


def copy_notebooks(out_dir: str | os.PathLike[str], *, force: bool = False) -> list[Path]:
    """Copy the notebooks that ship with salesinsight into a folder, to edit them.

    A report runs the edited copies with ``salesinsight report --notebooks DIR``.

    Parameters
    ----------
    out_dir : str or path
        The folder to copy into (created if missing).
    force : bool, default False
        Replace notebooks of the same names already there.

    Returns
    -------
    list of Path
        The copies, in order.

    Raises
    ------
    ReportSetupError
        When a notebook of the same name is already there and not `force`.

    Examples
    --------
    >>> import tempfile
    >>> [p.name for p in copy_notebooks(tempfile.mkdtemp())][:1]
    ['01-clean-export.ipynb']
    """
    folder = Path(out_dir).expanduser()
    sources = find_notebooks()
    targets = [folder / source.name for source in sources]
    existing = [t for t in targets if t.exists()]
    if existing and not force:
        raise ReportSetupError(
            f"{str(existing[0])!r} exists; choose another --out folder or pass --force to "
            "replace the notebooks there."
        )
    folder.mkdir(parents=True, exist_ok=True)
    for source, target in zip(sources, targets, strict=True):
        shutil.copyfile(source, target)
    return targets


def _kernel_manager_class(cwd: Path, kernel_name: str | None) -> type:
    """A kernel manager that starts the kernel in `cwd`, quietly, with inline plots.

    Without `kernel_name`, ipykernel runs on the running interpreter: a kernelspec named
    ``python3`` may point at another environment, which would lack salesinsight. The kernel's own
    log (a warning about unencrypted local TCP) is silenced unless debugging, and a non-inline
    MPLBACKEND from the caller's environment (``make`` exports Agg) is dropped so that plots are
    captured as PNGs. The models a notebook fits are small, so BLAS gets one thread unless the
    caller set otherwise: parallel threads would only slow them down. The working directory is set
    here rather than by papermill, which changes the whole process's directory and so cannot run
    notebooks side by side.
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
            env.setdefault("OMP_NUM_THREADS", "1")
            kw["env"] = env
            kw.setdefault("cwd", str(cwd))
            if not logging.getLogger("salesinsight").isEnabledFor(logging.DEBUG):
                kw.setdefault("stderr", subprocess.DEVNULL)
            await super().start_kernel(**kw)

    return QuietKernelManager


def _withhold(notebook: Mapping[str, Any], names: Sequence[str]) -> None:
    """Blank the `names` among the injected parameters of an executed notebook (see WITHHELD)."""
    for cell in notebook.get("cells", []):
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            for name in names:
                cell["source"] = re.sub(
                    rf"(?m)^{name} = .*$", f'{name} = ""  # {WITHHELD[name]}', cell["source"]
                )
    params = notebook.get("metadata", {}).get("papermill", {}).get("parameters", {})
    for name in names:
        if params.get(name):
            params[name] = ""


def _strip_run_metadata(notebook: Mapping[str, Any]) -> None:
    """Drop timings and paths papermill records, so a re-run in place leaves a small diff."""
    notebook.get("metadata", {}).pop("papermill", None)
    for cell in notebook.get("cells", []):
        metadata = cell.get("metadata", {})
        metadata.pop("papermill", None)
        metadata.pop("execution", None)
        if metadata.get("tags") == []:
            del metadata["tags"]


def _execute_one(
    source: Path,
    target: Path,
    *,
    parameters: Mapping[str, Any] | None,
    kernel_name: str | None,
    timeout: float,
    in_place: bool,
) -> None:
    """Execute one notebook into `target` and tidy the saved copy; NotebookError if a cell fails."""
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

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
    _withhold(executed, [name for name in WITHHELD if (parameters or {}).get(name)])
    if in_place:
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


def execute_notebooks(
    notebooks: Sequence[str | os.PathLike[str]],
    *,
    out_dir: str | os.PathLike[str] | None = None,
    parameters: Mapping[str, Any] | Callable[[Path], Mapping[str, Any]] | None = None,
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
        A ``salt`` and an ``analysis_file`` are withheld from the saved notebooks
        (:data:`WITHHELD`). Leave empty for in-place runs, or the injected cell is saved into the
        notebook. A callable is called with each notebook's path just before it runs (and may
        wait, e.g. for a file the notebook reads) and returns its parameters.
    progress : callable, optional
        Called with a line before and after each notebook: its duration and, until the last,
        an estimate of the time the others take (:func:`~salesinsight.report.progress.time_left`).
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
    sources = [Path(n).resolve() for n in notebooks]
    target_dir = Path(out_dir).resolve() if out_dir is not None else None
    if target_dir is not None:
        target_dir.mkdir(parents=True, exist_ok=True)

    first, finished, lock = time.perf_counter(), [0], threading.Lock()

    def run(i: int, source: Path) -> Path:
        target = source if target_dir is None else target_dir / source.name
        name = f"notebook {i}/{len(sources)}: {source.stem}"
        given = parameters(source) if callable(parameters) else parameters
        log_step(progress, f"{name} ...", logger=log)
        start = time.perf_counter()
        _execute_one(
            source,
            target,
            parameters=given,
            kernel_name=kernel_name,
            timeout=timeout,
            in_place=target_dir is None,
        )
        with lock:
            finished[0] += 1
            left = time_left(time.perf_counter() - first, finished[0], len(sources))
        done = f"{name} done in {time.perf_counter() - start:.1f} s"
        log_step(progress, f"{done}; {left}" if left else done, logger=log)
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


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m salesinsight.report --in-place``: re-execute the notebooks on the sample."""
    parser = argparse.ArgumentParser(
        prog="python -m salesinsight.report",
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
