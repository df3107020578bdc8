"""Progress lines: each slow step of the report is logged and passed to the caller's callback."""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["Progress", "log_step"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
"""A callback receiving one short line per step (the command line prints them on stderr)."""


def log_step(progress: Progress | None, message: str, *, logger: logging.Logger = log) -> None:
    """Log one step at INFO level and pass it to the `progress` callback, if any.

    Parameters
    ----------
    progress : callable or None
        The caller's :data:`Progress` callback.
    message : str
        One short line, e.g. ``"reading the bundled sample"``.
    logger : Logger, default the ``salesinsight.report.progress`` logger
        Where the line is logged; each module passes its own.

    Examples
    --------
    >>> log_step(print, "reading the bundled sample")
    reading the bundled sample
    """
    logger.info(message)
    if progress is not None:
        progress(message)
