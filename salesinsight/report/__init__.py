"""Report: the analysis the notebooks share, their setup and execution, and the HTML report.

``parameters`` parses the notebook parameters, ``analysis`` loads the :class:`Analysis` (and its
scorecard, once), ``kernel`` is the notebooks' first call, ``notebooks`` executes them, ``html``
turns one into a page, ``index`` writes the landing page and ``folder`` the report folder.
"""

from __future__ import annotations

from salesinsight.report.analysis import Analysis, load_analysis
from salesinsight.report.folder import write_report
from salesinsight.report.kernel import setup_notebook

__all__ = ["Analysis", "load_analysis", "setup_notebook", "write_report"]
