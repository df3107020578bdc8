"""Progress lines: each slow step of the report is logged and passed to the caller's callback."""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["Progress", "log_step", "time_left"]

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


def time_left(elapsed: float, done: int, total: int) -> str:
    """An estimate of the time the remaining steps take, from the pace of those done so far.

    The pace is the elapsed time per finished step, so steps run side by side count as the
    throughput they achieve together.

    Parameters
    ----------
    elapsed : float
        Seconds since the first step started.
    done, total : int
        Steps finished, and steps in all.

    Returns
    -------
    str
        E.g. ``"about 40 s left"`` or ``"about 2 min 10 s left"``; ``""`` before the first step
        has finished or after the last.

    Examples
    --------
    >>> time_left(12.0, 1, 6), time_left(50.0, 2, 7), time_left(30.0, 6, 6)
    ('about 60 s left', 'about 2 min 5 s left', '')
    """
    if done <= 0 or done >= total:
        return ""
    seconds = round(elapsed / done * (total - done))
    if seconds < 90:
        return f"about {seconds} s left"
    return f"about {seconds // 60} min {seconds % 60} s left"
