"""The parameters of an analysis as notebooks and the command line receive them: plain text.

Papermill and environment variables carry text, so each parameter of
:func:`salesinsight.report.analysis.load_analysis` has a parser here; the variables below are the
notebooks' defaults when papermill passes nothing::

    export_paths   SALESINSIGHT_EXPORT         file(s), separated by os.pathsep; "" = bundled sample
    crm            SALESINSIGHT_CRM            "auto" or a vendor name
    currency       SALESINSIGHT_CURRENCY       reporting currency, e.g. "USD"
    fx_path        SALESINSIGHT_FX             CSV with columns currency,rate
    as_of          SALESINSIGHT_AS_OF          snapshot date; "" = the export's latest date
    columns        SALESINSIGHT_COLUMNS        {export header: field}, as JSON in the variable
    stages         SALESINSIGHT_STAGES         {stage: won/lost/open}, as JSON in the variable
    pseudonymize   SALESINSIGHT_PSEUDONYMIZE   "1"/"true" to replace names by pseudonyms
    salt           SALESINSIGHT_SALT           secret text for the pseudonyms
    analysis_file  SALESINSIGHT_ANALYSIS_FILE  an analysis already computed (the report's); ""
                                               = compute it from the other parameters
"""

from __future__ import annotations

import csv
import json
import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from salesinsight.exceptions import InvalidValueError

__all__ = [
    "ENVIRONMENT",
    "MappingLike",
    "PathsLike",
    "check_export_paths",
    "parse_mapping",
    "read_columns_file",
    "parse_as_of",
    "parse_flag",
    "read_fx_rates",
    "split_export_paths",
]

ENVIRONMENT = {
    "export_paths": "SALESINSIGHT_EXPORT",
    "crm": "SALESINSIGHT_CRM",
    "currency": "SALESINSIGHT_CURRENCY",
    "fx_path": "SALESINSIGHT_FX",
    "as_of": "SALESINSIGHT_AS_OF",
    "columns": "SALESINSIGHT_COLUMNS",
    "stages": "SALESINSIGHT_STAGES",
    "pseudonymize": "SALESINSIGHT_PSEUDONYMIZE",
    "salt": "SALESINSIGHT_SALT",
    "analysis_file": "SALESINSIGHT_ANALYSIS_FILE",
}
"""The environment variable each notebook parameter falls back to."""

PathsLike = str | os.PathLike[str] | Iterable[str | os.PathLike[str]] | None
"""What `export_paths` may be: one path, several, or paths joined by ``os.pathsep``."""

MappingLike = Mapping[str, str] | str | None
"""What `columns` and `stages` may be: a mapping, its JSON text (an environment variable), or
nothing."""

STATUS_WORDS = ("won", "lost", "open")

_TRUE = {"1", "true", "yes", "on", "y", "t"}
_FALSE = {"", "0", "false", "no", "off", "n", "f"}


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


def parse_mapping(value: MappingLike, *, name: str = "columns") -> dict[str, str]:
    """Read the `columns` or `stages` parameter: a mapping, or its JSON text, or nothing.

    Stages must map onto ``won``, ``lost`` or ``open``.

    Examples
    --------
    >>> parse_mapping('{"Total Contract Value": "amount"}')
    {'Total Contract Value': 'amount'}
    >>> parse_mapping(""), parse_mapping({"Initial Offer": "Open"}, name="stages")
    ({}, {'Initial Offer': 'open'})
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    example = '{"Total Contract Value": "amount"}' if name == "columns" else '{"Signed": "won"}'
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise InvalidValueError(
                f"`{name}` must be a JSON object such as {example}; got {value!r} ({exc})."
            ) from exc
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidValueError(
            f"`{name}` must map text onto text, such as {example}; got {value!r}."
        )
    out = {k.strip(): v.strip() for k, v in value.items()}
    if name == "stages":
        out = {k: v.lower() for k, v in out.items()}
        bad = {k: v for k, v in out.items() if v not in STATUS_WORDS}
        if bad:
            raise InvalidValueError(
                f"Stages map onto won, lost or open; got {bad}. Give e.g. --stages 'Signed=won' "
                "(stages={'Signed': 'won'} in Python)."
            )
    return out


def read_columns_file(path: str | os.PathLike[str]) -> dict[str, dict[str, str]]:
    """Read a column map (and stage map) from a CSV or TOML file.

    A CSV holds one ``header,field`` pair per line (a first line ``header,field`` is skipped).
    A TOML file holds a ``[columns]`` table of ``"header" = "field"`` and, optionally, a
    ``[stages]`` table of ``"stage" = "won"``.

    Returns
    -------
    dict
        ``{"columns": {...}, "stages": {...}}``.

    Raises
    ------
    InvalidValueError
        A missing file, another extension, or a line that is not a pair; the message names it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "map.csv").write_text("header,field\\nTotal Contract Value,amount\\n")
    >>> read_columns_file(folder / "map.csv")
    {'columns': {'Total Contract Value': 'amount'}, 'stages': {}}
    >>> _ = (folder / "map.toml").write_text(
    ...     '[columns]\\n"Sales Stage" = "stage"\\n[stages]\\n"Initial Offer" = "open"\\n')
    >>> read_columns_file(folder / "map.toml")
    {'columns': {'Sales Stage': 'stage'}, 'stages': {'Initial Offer': 'open'}}
    """
    path = Path(path).expanduser()
    how = (
        "Give a CSV of `header,field` lines, or a TOML file with a [columns] table "
        '(`"Total Contract Value" = "amount"`) and optionally a [stages] table.'
    )
    if not path.is_file():
        raise InvalidValueError(f"Column map {str(path)!r} not found. {how}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            content = tomllib.loads(path.read_text(encoding="utf-8-sig"))
            tables = {k: content.get(k, {}) for k in ("columns", "stages")}
        elif suffix == ".csv":
            tables = {"columns": _csv_pairs(path, how), "stages": {}}
        else:
            raise InvalidValueError(
                f"Column map {str(path)!r}: expected a .csv or .toml file. {how}"
            )
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidValueError(f"Cannot read column map {str(path)!r} ({exc}). {how}") from exc
    return {name: parse_mapping(table, name=name) for name, table in tables.items()}


def _csv_pairs(path: Path, how: str) -> dict[str, str]:
    """The ``header,field`` lines of a CSV column map."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = [row for row in csv.reader(handle) if any(cell.strip() for cell in row)]
    if rows and [c.strip().lower() for c in rows[0]] in (["header", "field"], ["column", "field"]):
        rows = rows[1:]
    pairs: dict[str, str] = {}
    for row in rows:
        if len(row) != 2 or not row[0].strip() or not row[1].strip():
            raise InvalidValueError(f"{path.name}: expected `header,field`, got {row}. {how}")
        pairs[row[0].strip()] = row[1].strip()
    return pairs
