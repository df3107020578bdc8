"""Why a report could not be written: its folder or notebooks refused, or a notebook failed.

Neither is bad input data (those are :mod:`salesinsight.exceptions`): the command line gives them
exit codes of their own.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["NotebookError", "ReportSetupError"]


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
