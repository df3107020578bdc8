"""The first call of every notebook: the shared look and display options, then the analysis.

Each notebook runs :func:`setup_notebook` right after its papermill ``parameters`` cell. Run by
``salesinsight report``, a notebook reads the analysis the report already holds (its
``analysis_file`` parameter); opened on its own (in JupyterLab, under nbval) it loads the analysis
from its other parameters.
"""

from __future__ import annotations

import os
import warnings

import pandas as pd

from salesinsight import plots
from salesinsight.exceptions import DataQualityWarning, StatisticalWarning
from salesinsight.report.analysis import Analysis, load_analysis, read_analysis_file
from salesinsight.report.parameters import MappingLike, PathsLike
from salesinsight.report.tables import frame_html

__all__ = ["DISPLAY_OPTIONS", "setup_notebook"]

DISPLAY_OPTIONS = {
    "display.max_columns": 40,
    "display.max_rows": 80,
    "display.max_colwidth": None,
}
"""The pandas display options of the notebooks: wide tables shown whole, long ones cut."""


def setup_notebook(
    export_paths: PathsLike = "",
    *,
    crm: str = "auto",
    currency: str | None = "",
    fx_path: str | os.PathLike[str] = "",
    as_of: str | pd.Timestamp | None = "",
    columns: MappingLike = None,
    stages: MappingLike = None,
    pseudonymize: bool | str = False,
    salt: str = "",
    analysis_file: str | os.PathLike[str] = "",
) -> Analysis:
    """Prepare a notebook and return its analysis.

    In an IPython kernel, plots are drawn inline as PNG images and data frames are shown by
    :func:`~salesinsight.report.tables.frame_html` (no row numbers, text left-aligned); then the
    salesinsight plotting theme and :data:`DISPLAY_OPTIONS` apply, and statistical and data-quality caveats are no longer
    shown as warnings (each result repeats them in its ``note``).

    Parameters
    ----------
    export_paths, crm, currency, fx_path, as_of, columns, stages, pseudonymize, salt
        The notebook's parameters, as :func:`salesinsight.report.analysis.load_analysis` takes
        them; used when `analysis_file` is empty.
    analysis_file : str or path, default ""
        An analysis saved by :func:`salesinsight.report.analysis.write_analysis_file`, scorecard
        included, as ``salesinsight report`` hands it to the notebooks; read instead of loading
        the export again.

    Returns
    -------
    Analysis
        The export, its trust features and, on first use, its scorecard.

    Raises
    ------
    SalesInsightError
        As :func:`~salesinsight.report.analysis.load_analysis`, or an unreadable `analysis_file`.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> shown = ("display.max_rows", 60, "display.max_columns", 20, "display.max_colwidth", 50)
    >>> with plt.rc_context(), warnings.catch_warnings(), pd.option_context(*shown):
    ...     analysis = setup_notebook()
    ...     pd.get_option("display.max_rows")
    80
    >>> analysis.sources
    [...]
    """
    _inline_png()
    plots.theme()
    for option, value in DISPLAY_OPTIONS.items():
        pd.set_option(option, value)
    warnings.simplefilter("ignore", StatisticalWarning)
    warnings.simplefilter("ignore", DataQualityWarning)
    if str(analysis_file).strip():
        return read_analysis_file(analysis_file)
    return load_analysis(
        export_paths,
        crm=crm,
        currency=currency,
        fx_path=fx_path,
        as_of=as_of,
        columns=columns,
        stages=stages,
        pseudonymize=pseudonymize,
        salt=salt,
    )


def _inline_png() -> None:
    """Inline PNG plots and tables as :func:`frame_html` shows them, when running in an IPython
    kernel; nothing elsewhere."""
    # IPython comes with the kernel; imported here so that scripts and the command line need not.
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    shell.run_line_magic("matplotlib", "inline")
    shell.run_line_magic("config", "InlineBackend.figure_formats = ['png']")
    shell.display_formatter.formatters["text/html"].for_type(pd.DataFrame, frame_html)
