"""Report: the analysis the notebooks share, their execution, and the HTML report."""

from __future__ import annotations

from salesinsight.report.analysis import Analysis, load_analysis
from salesinsight.report.notebooks import write_report

__all__ = ["Analysis", "load_analysis", "write_report"]
