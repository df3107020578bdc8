"""Open a warehouse source in the engine that holds it, and its tables, with errors that say why.

A source is a DuckDB database file (opened read-only, in process: DuckDB is a pip dependency, no
server), a DuckDB connection, an ibis backend (any engine ibis reaches: PostgreSQL, Snowflake,
BigQuery, Databricks, ...) or a database URL (``postgresql://user@host/db``). Credentials never
appear in an error message: a URL is shown without its user, password and query, and the
driver's message without them either.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import duckdb
import ibis
from ibis.backends import BaseBackend

from salesinsight.exceptions import ColumnNotFoundError, InvalidValueError, WarehouseError

__all__ = ["connect", "open_table", "redact_url", "require_columns"]

# A DuckDB database file carries this magic at byte 8 of its first block.
_DUCKDB_MAGIC = (8, b"DUCK")
_URL = re.compile(r"^[a-z][a-z0-9+.\-]*://", re.IGNORECASE)


def connect(source: Any, *, read_only: bool = True) -> BaseBackend:
    """An ibis backend for `source`.

    Parameters
    ----------
    source : str, path, duckdb.DuckDBPyConnection or ibis backend
        A DuckDB database file, a DuckDB connection, an ibis backend (returned as is) or a database
        URL such as ``postgresql://user@host:5432/db`` or ``duckdb:///path/crm.duckdb``.
    read_only : bool, default True
        Open a DuckDB file read-only, so that a connector may keep writing to it.

    Raises
    ------
    WarehouseError
        The file is missing or not a DuckDB database, the engine's driver is not installed, or the
        connection failed (the message names the server, never the credentials).
    InvalidValueError
        `source` is of another type.

    Examples
    --------
    >>> con = connect(duckdb.connect())
    >>> con.name
    'duckdb'
    """
    if isinstance(source, BaseBackend):
        return source
    if isinstance(source, duckdb.DuckDBPyConnection):
        return ibis.duckdb.from_connection(source)
    if isinstance(source, str) and _URL.match(source):
        return _connect_url(source)
    if isinstance(source, str | os.PathLike):
        return _connect_file(Path(source), read_only=read_only)
    raise InvalidValueError(
        f"A warehouse source must be a DuckDB file, a DuckDB connection, an ibis backend or a "
        f"database URL; received {type(source).__name__}."
    )


def _connect_file(path: Path, *, read_only: bool) -> BaseBackend:
    if not path.is_file():
        what = "a folder" if path.is_dir() else "not found"
        raise WarehouseError(
            f"Warehouse file `{path.name}` is {what}. Pass a DuckDB database file, e.g. the one "
            "`salesinsight sample --warehouse DIR` writes, or a database URL."
        )
    offset, magic = _DUCKDB_MAGIC
    with path.open("rb") as file:
        head = file.read(offset + len(magic))
    if head[offset:] != magic:
        raise WarehouseError(
            f"`{path.name}` is not a DuckDB database. An export file (CSV, Excel) is read with "
            "`read_export`; a warehouse is a DuckDB file, a DuckDB connection, an ibis backend or "
            "a URL such as postgresql://user@host/db."
        )
    try:
        return ibis.duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as error:
        raise WarehouseError(
            f"DuckDB could not open `{path.name}`: {_first_line(error)}"
        ) from error


def _connect_url(url: str) -> BaseBackend:
    shown = redact_url(url)
    try:
        return ibis.connect(url)
    except ImportError as error:
        raise WarehouseError(
            f"The driver for {shown} is not installed ({_first_line(error)}). For PostgreSQL: "
            "pip install 'salesinsight[postgres]'; other engines: the matching ibis extra, e.g. "
            "pip install 'ibis-framework[snowflake]'."
        ) from None
    except Exception as error:
        message = _scrub(_first_line(error), url)
        raise WarehouseError(
            f"Could not connect to {shown}: {type(error).__name__}: {message}"
        ) from None


def redact_url(url: str) -> str:
    """`url` without its user, password and query string, to show in messages.

    Examples
    --------
    >>> redact_url("postgresql://ann:s3cret@db.example.com:5432/crm?sslmode=require")
    'postgresql://db.example.com:5432/crm'
    """
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{netloc}{parts.path}"


def _scrub(message: str, url: str) -> str:
    """A driver's message without the URL's user name and password, wherever they appear."""
    parts = urlsplit(url)
    for secret in (parts.password, parts.username):
        if secret:
            for form in {secret, unquote(secret)}:
                message = message.replace(form, "…")
    return message


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def open_table(con: BaseBackend, name: str, *, schema: str) -> ibis.Table:
    """Table `name` of schema `schema`, as an ibis expression (nothing is read yet).

    Raises
    ------
    WarehouseError
        No such schema (the message lists those found) or no such table (it lists the schema's
        tables and the closest names).

    Examples
    --------
    >>> con = connect(duckdb.connect())
    >>> _ = con.raw_sql("CREATE SCHEMA salesforce; CREATE TABLE salesforce.task (id TEXT)")
    >>> open_table(con, "task", schema="salesforce").columns
    ('id',)
    >>> open_table(con, "tasks", schema="salesforce")
    Traceback (most recent call last):
    ...
    salesinsight.exceptions.WarehouseError: No table `salesforce.tasks`; ... Closest: `task`.
    """
    schemas = con.list_databases()
    if schema not in schemas:
        raise WarehouseError(
            f"No schema `{schema}` in the warehouse; found {_listing(schemas)}. Pass the schema "
            "the connector writes to, e.g. schema='salesforce'."
        )
    tables = con.list_tables(database=schema)
    if name not in tables:
        raise WarehouseError(
            f"No table `{schema}.{name}`; the schema holds {_listing(tables)}."
            f"{_closest(name, tables)}"
        )
    return con.table(name, database=schema)


def require_columns(table: ibis.Table, required: Sequence[str], *, name: str) -> None:
    """Raise :class:`ColumnNotFoundError` naming the columns of `required` that `table` lacks.

    Examples
    --------
    >>> t = ibis.table({"id": "string", "whatid": "string"}, name="task")
    >>> require_columns(t, ["id", "what_id"], name="salesforce.task")
    Traceback (most recent call last):
    ...
    salesinsight.exceptions.ColumnNotFoundError: Table `salesforce.task` lacks column `what_id`. Closest: `whatid`. ...
    """
    missing = [c for c in required if c not in table.columns]
    if not missing:
        return
    hints = "".join(_closest(c, table.columns) for c in missing)
    noun = "column" if len(missing) == 1 else "columns"
    raise ColumnNotFoundError(
        f"Table `{name}` lacks {noun} {', '.join(f'`{c}`' for c in missing)}.{hints} Expected the "
        "connector's names; select yours under them in a view of the table."
    )


def _listing(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(f"`{n}`" for n in sorted(names)[:limit])
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return (shown + more) or "nothing"


def _closest(name: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, list(candidates), n=3, cutoff=0.6)
    return f" Closest: {', '.join(f'`{c}`' for c in close)}." if close else ""
