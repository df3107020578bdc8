"""The one loading step shared by the notebooks and the command line.

:func:`load_analysis` reads the export(s) (or the bundled sample), converts currencies, optionally
pseudonymizes names, and derives the trust features, returning an :class:`Analysis`. Every notebook
calls it from the values of its papermill ``parameters`` cell and ``salesinsight report`` calls it
with the same values, so a notebook and the report always analyse the same table.

The parameters are plain text so that papermill and environment variables can carry them; the
variables below are the notebooks' defaults when papermill passes nothing::

    export_paths  SALESINSIGHT_EXPORT       file(s), separated by os.pathsep; "" = bundled sample
    crm           SALESINSIGHT_CRM          "auto" or a vendor name
    currency      SALESINSIGHT_CURRENCY     reporting currency, e.g. "USD"
    fx_path       SALESINSIGHT_FX           CSV with columns currency,rate
    as_of         SALESINSIGHT_AS_OF        snapshot date; "" = the export's latest date
    pseudonymize  SALESINSIGHT_PSEUDONYMIZE "1"/"true" to replace names by pseudonyms
    salt          SALESINSIGHT_SALT         secret text for the pseudonyms
"""

from __future__ import annotations

import csv
import logging
import math
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from salesinsight.exceptions import InvalidValueError

if TYPE_CHECKING:
    from salesinsight.export import Export

__all__ = [
    "ENVIRONMENT",
    "Analysis",
    "Progress",
    "check_export_paths",
    "load_analysis",
    "load_export",
    "log_step",
    "parse_as_of",
    "parse_flag",
    "read_fx_rates",
    "split_export_paths",
]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]
"""A callback receiving one short line per step (the command line prints them on stderr)."""

ENVIRONMENT = {
    "export_paths": "SALESINSIGHT_EXPORT",
    "crm": "SALESINSIGHT_CRM",
    "currency": "SALESINSIGHT_CURRENCY",
    "fx_path": "SALESINSIGHT_FX",
    "as_of": "SALESINSIGHT_AS_OF",
    "pseudonymize": "SALESINSIGHT_PSEUDONYMIZE",
    "salt": "SALESINSIGHT_SALT",
}
"""The environment variable each notebook parameter falls back to."""

PathsLike = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"", "0", "false", "no", "off", "n", "f"}


@dataclass(frozen=True)
class Analysis:
    """An export read, cleaned and turned into one row of trust features per deal.

    Attributes
    ----------
    export : Export
        Deals, activities, accounts and the cleaning ledger (pseudonymized if asked).
    data : DataFrame
        ``trust_features(export.deals, export.activities, as_of=as_of)``.
    as_of : Timestamp
        The snapshot date open deals are censored at (NaT when the export has no dates).
    sources : list of str
        File names (not paths) the analysis was read from.
    pseudonymized : bool
        Whether names were replaced by pseudonyms.
    parameters : dict
        The notebook parameters that reproduce this analysis (paths absolute); contains the salt,
        so never write it out as is.
    """

    export: Export
    data: pd.DataFrame
    as_of: pd.Timestamp
    sources: list[str]
    pseudonymized: bool
    parameters: dict[str, Any] = field(default_factory=dict, repr=False)

    def row_counts(self) -> dict[str, int]:
        """Deal rows read, kept and dropped by the cleaner (activity files not counted).

        Rows read count every data row of the deals files, footers and summary rows included,
        as :meth:`Export.summary` does.

        Returns
        -------
        dict
            ``{"read": ..., "kept": ..., "dropped": ...}``; read = kept + dropped.

        Examples
        --------
        >>> counts = load_analysis().row_counts()
        >>> counts["read"] == counts["kept"] + counts["dropped"]
        True
        """
        files = self.export.summary()
        deals = files[files["role"] == "deals"]
        read, dropped = int(deals["rows_read"].sum()), int(deals["rows_dropped"].sum())
        return {"read": read, "kept": read - dropped, "dropped": dropped}


def split_export_paths(export_paths: PathsLike) -> list[Path]:
    """Turn the `export_paths` parameter into a list of paths.

    Parameters
    ----------
    export_paths : str, path, list of them, or None
        ``""``/None for the bundled sample, one path, a list of paths, or several paths in one
        string separated by ``os.pathsep`` (``:`` on Linux and macOS, ``;`` on Windows), which is
        what a papermill parameter or an environment variable can carry.

    Returns
    -------
    list of Path
        Empty for the bundled sample; ``~`` expanded.

    Examples
    --------
    >>> import os
    >>> split_export_paths("")
    []
    >>> [p.name for p in split_export_paths(os.pathsep.join(["deals.csv", "tasks.csv"]))]
    ['deals.csv', 'tasks.csv']
    >>> [p.name for p in split_export_paths(["a.csv", "b.xlsx"])]
    ['a.csv', 'b.xlsx']
    """
    if export_paths is None:
        return []
    if isinstance(export_paths, (str, os.PathLike)):
        text = os.fspath(export_paths)
        parts: list[str] = text.split(os.pathsep) if isinstance(export_paths, str) else [text]
    else:
        parts = [os.fspath(p) for p in export_paths]
    return [Path(p.strip()).expanduser() for p in parts if p.strip()]


def parse_flag(value: bool | str | int | None, *, name: str = "pseudonymize") -> bool:
    """Read a yes/no parameter that may arrive as text from an environment variable.

    Examples
    --------
    >>> parse_flag("1"), parse_flag("false"), parse_flag(True), parse_flag("")
    (True, False, True, False)
    """
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidValueError(
        f"`{name}` must be yes or no; got {value!r}. Use true/false, 1/0 or yes/no."
    )


def parse_as_of(as_of: str | pd.Timestamp | None) -> pd.Timestamp | None:
    """Parse the snapshot date: ``""`` or None means "the export's latest date".

    Examples
    --------
    >>> parse_as_of("2024-06-30")
    Timestamp('2024-06-30 00:00:00')
    >>> parse_as_of("") is None
    True
    """
    if as_of is None or (isinstance(as_of, str) and not as_of.strip()):
        return None
    try:
        stamp = pd.Timestamp(as_of.strip() if isinstance(as_of, str) else as_of)
    except (ValueError, TypeError) as exc:
        raise InvalidValueError(
            f"Cannot read the as-of date {as_of!r}; expected a date like 2024-06-30."
        ) from exc
    if pd.isna(stamp):
        raise InvalidValueError(f"The as-of date {as_of!r} is empty; give a date like 2024-06-30.")
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp


def read_fx_rates(path: str | os.PathLike[str]) -> dict[str, float]:
    """Read exchange rates from a CSV with the columns ``currency,rate``.

    A rate is the number of units of the reporting currency per unit of `currency` (with USD as the
    reporting currency, ``EUR,1.08``).

    Parameters
    ----------
    path : str or path
        The CSV file. Other columns are ignored; the header is required.

    Returns
    -------
    dict
        ``{"EUR": 1.08, ...}`` with upper-case ISO codes, ready for ``read_export(fx=...)``.

    Raises
    ------
    InvalidValueError
        When the file is missing, lacks a column, or holds a rate that is not a positive number or
        a currency given twice; the message names the line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "rates.csv"
    >>> _ = path.write_text("currency,rate\\nEUR,1.08\\ngbp, 1.27\\n")
    >>> read_fx_rates(path)
    {'EUR': 1.08, 'GBP': 1.27}
    """
    path = Path(path).expanduser()
    how = "Give a CSV with a header `currency,rate` and one line per currency, e.g. `EUR,1.08`."
    if not path.is_file():
        raise InvalidValueError(f"Exchange-rate file {str(path)!r} not found. {how}")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InvalidValueError(
            f"Cannot read exchange-rate file {str(path)!r} ({exc}). {how}"
        ) from exc
    header = [h.strip().lower() for h in rows[0]] if rows else []
    if "currency" not in header or "rate" not in header:
        raise InvalidValueError(
            f"Exchange-rate file {str(path)!r} has columns {header}; expected `currency` and "
            f"`rate`. {how}"
        )
    i_cur, i_rate = header.index("currency"), header.index("rate")
    rates: dict[str, float] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"{path.name}, line {line}"
        if len(row) <= max(i_cur, i_rate):
            raise InvalidValueError(f"{where}: expected `currency,rate`, got {row}. {how}")
        code, text = row[i_cur].strip().upper(), row[i_rate].strip()
        try:
            rate = float(text)
        except ValueError:
            rate = math.nan
        if not code or not math.isfinite(rate) or rate <= 0:
            raise InvalidValueError(
                f"{where}: expected a currency code and a positive rate, got {row}. {how}"
            )
        if code in rates:
            raise InvalidValueError(f"{where}: currency {code} is listed twice. {how}")
        rates[code] = rate
    if not rates:
        raise InvalidValueError(f"Exchange-rate file {str(path)!r} lists no rates. {how}")
    return rates


def log_step(progress: Progress | None, message: str, *, logger: logging.Logger = log) -> None:
    """Log one step at INFO level and pass it to the `progress` callback, if any.

    Parameters
    ----------
    progress : callable or None
        The caller's :data:`Progress` callback.
    message : str
        One short line, e.g. ``"reading the bundled sample"``.
    logger : Logger, default the ``salesinsight.report.analysis`` logger
        Where the line is logged; each module passes its own.

    Examples
    --------
    >>> log_step(print, "reading the bundled sample")
    reading the bundled sample
    """
    logger.info(message)
    if progress is not None:
        progress(message)


def check_export_paths(export_paths: PathsLike) -> list[Path]:
    """Split `export_paths` and check that every file exists, before any slow work.

    Returns
    -------
    list of Path
        As :func:`split_export_paths`.

    Raises
    ------
    InvalidValueError
        Naming the first missing file (or a folder given instead of a file).

    Examples
    --------
    >>> check_export_paths("no-such-export.csv")
    Traceback (most recent call last):
    ...
    salesinsight.exceptions.InvalidValueError: Export file 'no-such-export.csv' not found ...
    """
    paths = split_export_paths(export_paths)
    for path in paths:
        if not path.exists():
            raise InvalidValueError(
                f"Export file {str(path)!r} not found (looked in {str(Path.cwd())!r}). Check the "
                "path; `salesinsight sample --out DIR` writes example exports to compare with."
            )
        if path.is_dir():
            raise InvalidValueError(
                f"{str(path)!r} is a directory; expected export files. Pass the files themselves, "
                f"e.g. {str(path / '*.csv')!r}."
            )
    return paths


def _sources(export: Export) -> list[str]:
    names: set[str] = set()
    for table in (export.deals, export.activities, export.ledger):
        if table is not None and "source_file" in table:
            names.update(str(n) for n in table["source_file"].dropna().unique())
    return sorted(names)


def load_export(
    export_paths: PathsLike = "",
    *,
    crm: str = "auto",
    currency: str = "USD",
    fx_path: str | os.PathLike[str] = "",
    pseudonymize: bool | str = False,
    salt: str = "",
    progress: Progress | None = None,
) -> Export:
    """Read the export(s), or the bundled sample, as :func:`load_analysis` does, without features.

    Parameters are those of :func:`load_analysis`; with `pseudonymize` an empty `salt` is an error
    here (a random salt would make the pseudonyms of two calls disagree).

    Examples
    --------
    >>> export = load_export()
    >>> export.crm
    'salesforce'
    """
    paths = check_export_paths(export_paths)
    fx = read_fx_rates(fx_path) if str(fx_path).strip() else None
    crm = (crm or "auto").strip().lower()
    currency = (currency or "USD").strip().upper()
    if paths:
        from salesinsight.export import read_export

        names = ", ".join(p.name for p in paths)
        log_step(progress, f"reading {names}")
        export = read_export(
            paths if len(paths) > 1 else paths[0], crm=crm, currency=currency, fx=fx
        )
    else:
        from salesinsight.datasets import load_sample

        if fx is not None or currency != "USD":
            raise InvalidValueError(
                f"The bundled sample is in USD and needs no exchange rates; got currency "
                f"{currency!r} and fx_path {str(fx_path)!r}. Give your own export files to use "
                "another currency."
            )
        log_step(progress, "reading the bundled sample")
        export = load_sample() if crm == "auto" else load_sample(crm=crm)
    log.info("read %d deals and %d ledger rows", len(export.deals), len(export.ledger))
    if parse_flag(pseudonymize):
        from salesinsight.privacy import pseudonymize_export

        log_step(progress, "replacing names by pseudonyms")
        export = pseudonymize_export(export, salt=salt)
    return export


def load_analysis(
    export_paths: PathsLike = "",
    *,
    crm: str = "auto",
    currency: str = "USD",
    fx_path: str | os.PathLike[str] = "",
    as_of: str | pd.Timestamp | None = "",
    pseudonymize: bool | str = False,
    salt: str = "",
    progress: Progress | None = None,
) -> Analysis:
    """Read an export and derive the trust features: the first cell of every analysis.

    Parameters
    ----------
    export_paths : str, path or list, default ""
        The export file(s): ``""`` for the bundled sample, a path, a list of paths, or paths joined
        by ``os.pathsep`` in one string (see :func:`split_export_paths`).
    crm : str, default "auto"
        Vendor of the export (``salesforce``, ``hubspot``, ``pipedrive``, ``zoho``, ``dynamics``,
        ``generic``) or ``"auto"`` to detect it from the headers.
    currency : str, default "USD"
        Reporting currency of ``amount``.
    fx_path : str or path, default ""
        CSV of exchange rates (``currency,rate``; see :func:`read_fx_rates`); ``""`` for none.
    as_of : str or Timestamp, default ""
        Snapshot date at which open deals are censored; ``""`` for the export's latest date
        (the latest ``created_at`` or ``closed_at``).
    pseudonymize : bool or str, default False
        Replace account, contact and owner names by salted pseudonyms before anything is computed
        (see :func:`salesinsight.privacy.pseudonymize_export`). Text such as ``"1"`` or
        ``"false"`` is accepted, for environment variables.
    salt : str, default ""
        Secret text for the pseudonyms. Empty with `pseudonymize`: a random salt, so the pseudonyms
        differ from one run to the next; pass the same salt to get the same pseudonyms.
    progress : callable, optional
        Called with one short line per step; the steps are also logged at INFO level on the
        ``salesinsight.report.analysis`` logger.

    Returns
    -------
    Analysis
        The export, the feature table, the snapshot date and the source file names.

    Raises
    ------
    SalesInsightError
        A subclass for each bad input: a missing file, an unreadable export, a bad date, a bad
        exchange-rate file. The message says what to fix.

    Examples
    --------
    >>> analysis = load_analysis()
    >>> analysis.sources
    [...]
    >>> len(analysis.data) == len(analysis.export.deals)
    True
    >>> bool(analysis.pseudonymized)
    False
    """
    from salesinsight.features.trust import trust_features

    hide = parse_flag(pseudonymize)
    if hide and not salt:
        salt = secrets.token_hex(16)
    stamp = parse_as_of(as_of)
    paths = split_export_paths(export_paths)
    export = load_export(
        paths,
        crm=crm,
        currency=currency,
        fx_path=fx_path,
        pseudonymize=hide,
        salt=salt,
        progress=progress,
    )
    if stamp is None:
        stamp = _latest_date(export.deals)
    log_step(progress, f"computing trust features for {len(export.deals):,} deals")
    data = trust_features(export.deals, export.activities, as_of=None if pd.isna(stamp) else stamp)
    parameters = {
        "export_paths": os.pathsep.join(str(p.resolve()) for p in paths),
        "crm": crm,
        "currency": currency,
        "fx_path": str(Path(fx_path).expanduser().resolve()) if str(fx_path).strip() else "",
        "as_of": "" if pd.isna(stamp) else stamp.isoformat(),
        "pseudonymize": hide,
        "salt": salt if hide else "",
    }
    sources = [p.name for p in paths] if paths else _sources(export)
    return Analysis(
        export=export,
        data=data,
        as_of=stamp,
        sources=sources,
        pseudonymized=hide,
        parameters=parameters,
    )


def _latest_date(deals: pd.DataFrame) -> pd.Timestamp:
    dates = [deals[c].max() for c in ("created_at", "closed_at") if c in deals]
    dates = [d for d in dates if not pd.isna(d)]
    return pd.Timestamp(max(dates)) if dates else pd.NaT
