"""Exceptions and warnings raised by salesinsight.

Every error subclasses :class:`SalesInsightError`, itself a :class:`ValueError`, so callers can catch
one class. Messages say what was received, what was expected and how to fix it.

Statistical caveats (small samples, separation, non-convergence) are warnings of our own; the same
text is repeated in the ``note`` of the result they concern.
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "ColumnNotFoundError",
    "ConvergenceWarning",
    "DataQualityWarning",
    "ExportFormatError",
    "FileTooLargeError",
    "InvalidValueError",
    "SalesInsightError",
    "SeparationWarning",
    "SmallSampleWarning",
    "StatisticalWarning",
    "WarehouseError",
]


class SalesInsightError(ValueError):
    """Base class of every error salesinsight raises on bad input."""


class ExportFormatError(SalesInsightError):
    """A file cannot be read as a CRM export (unknown layout, unreadable encoding, not a table)."""


class ColumnNotFoundError(SalesInsightError):
    """A column the operation needs is absent; the message names the closest columns present."""


class InvalidValueError(SalesInsightError):
    """An argument or a column holds values that cannot be used (wrong type, out of range)."""


class WarehouseError(SalesInsightError):
    """A warehouse source cannot be read: not a database, no such schema or table, or the
    connection failed. The message never carries credentials."""


class FileTooLargeError(SalesInsightError):
    """A file exceeds the configured size guard; the message says how to raise the limit."""


class AnalysisError(SalesInsightError):
    """A statistic cannot be computed on this data (one value only, too few events, ...)."""


class StatisticalWarning(RuntimeWarning):
    """A result was computed but deserves caution; the reason is repeated in its ``note``."""


class SmallSampleWarning(StatisticalWarning):
    """Too few observations or events for the estimate to be reliable."""


class SeparationWarning(StatisticalWarning):
    """A predictor (nearly) perfectly separates the outcome; odds ratios are unreliable."""


class ConvergenceWarning(StatisticalWarning):
    """A model fit did not converge."""


class DataQualityWarning(UserWarning):
    """The data were read, but something about them deserves the analyst's attention."""
