"""A world as a warehouse sync: the Salesforce and HubSpot connectors' tables in DuckDB or any engine.

:func:`write_warehouse` writes the tables of
:mod:`~salesinsight.datasets.warehouse_salesforce` and
:mod:`~salesinsight.datasets.warehouse_hubspot` into the schemas ``salesforce`` and ``hubspot`` of
a DuckDB database file (or of any ibis backend, e.g. a PostgreSQL database), and returns the dirt
manifest: every row that is not a current record of the world (soft-deleted, deleted at the
source, an earlier version, an orphan), by table and record id. A reader that drops exactly those
rows gets the world back. :func:`write_sample_warehouse` does so for the bundled sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
from ibis.backends import BaseBackend

from salesinsight.datasets.sample import SAMPLE_RENDER_SEED, sample_world
from salesinsight.datasets.simulate import World
from salesinsight.datasets.vendors import vendor_ids
from salesinsight.datasets.warehouse_hubspot import hubspot_warehouse
from salesinsight.datasets.warehouse_salesforce import salesforce_warehouse
from salesinsight.exceptions import InvalidValueError
from salesinsight.io.warehouse.layout import CRMS

__all__ = [
    "WAREHOUSE_DIRT_FILE",
    "WAREHOUSE_FILE",
    "warehouse_tables",
    "write_sample_warehouse",
    "write_warehouse",
]

WAREHOUSE_FILE = "crm.duckdb"
"""File name of the sample warehouse."""
WAREHOUSE_DIRT_FILE = "warehouse_dirt.csv"
"""File name of its dirt manifest."""
_TRUTH = "truth.csv"


def warehouse_tables(
    world: World, *, seed: int = 0, crms: Sequence[str] = CRMS
) -> tuple[dict[str, dict[str, pa.Table]], pd.DataFrame]:
    """The world's tables as each connector syncs them, and the dirt manifest.

    Parameters
    ----------
    world : World
        A world from :func:`~salesinsight.datasets.simulate_world` (with at least one deal).
    seed : int
        Seed of the layout's choices; the same seed as :func:`render_exports` gives the same
        deal ids as its exports.
    crms : sequence of str
        Which connectors: ``salesforce``, ``hubspot`` or both.

    Returns
    -------
    tables : dict
        Per connector, its tables by name (Arrow tables).
    dirt : DataFrame
        ``crm, table, record_id, kind, detail``: the rows that are not current records.

    Examples
    --------
    >>> from salesinsight.datasets import simulate_world
    >>> tables, dirt = warehouse_tables(simulate_world(n_accounts=30, seed=0))
    >>> sorted(tables), "user" in tables["salesforce"], "engagement" in tables["hubspot"]
    (['hubspot', 'salesforce'], True, True)
    """
    if not isinstance(world, World):
        raise InvalidValueError(
            f"`world` must be a World from simulate_world(); received {type(world).__name__}."
        )
    if not len(world.deals):
        raise InvalidValueError("The world has no deals: simulate more accounts or years.")
    unknown = sorted(set(crms) - set(CRMS))
    if unknown:
        raise InvalidValueError(
            f"`crms` holds {unknown!r}; expected some of {', '.join(map(repr, CRMS))}."
        )
    rng = np.random.default_rng(seed)
    ids = vendor_ids(world, rng)
    builders = {"salesforce": salesforce_warehouse, "hubspot": hubspot_warehouse}
    tables, manifests = {}, []
    for crm in CRMS:
        if crm in crms:
            tables[crm], dirt = builders[crm](world, ids, rng)
            manifests.append(dirt)
    return tables, pd.concat(manifests, ignore_index=True)


def write_warehouse(
    world: World,
    target: str | Path | BaseBackend,
    *,
    seed: int = 0,
    crms: Sequence[str] = CRMS,
) -> pd.DataFrame:
    """Write the world as a warehouse sync: one schema per connector, named after it.

    Parameters
    ----------
    world : World
        A simulated world.
    target : str, Path or ibis backend
        A DuckDB database file to create (an existing file is replaced), or an engine to write
        into (its schemas ``salesforce`` and ``hubspot`` are created, their tables replaced).
    seed : int
        Seed of the layout's choices (see :func:`warehouse_tables`).
    crms : sequence of str
        Which connectors' schemas to write.

    Returns
    -------
    DataFrame
        The dirt manifest (see :func:`warehouse_tables`).

    Examples
    --------
    >>> import tempfile
    >>> import duckdb
    >>> from salesinsight.datasets import simulate_world
    >>> world = simulate_world(n_accounts=30, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     dirt = write_warehouse(world, Path(tmp) / "crm.duckdb")
    ...     with duckdb.connect(str(Path(tmp) / "crm.duckdb"), read_only=True) as con:
    ...         live = con.sql("SELECT count(*) FROM salesforce.opportunity "
    ...                        "WHERE NOT is_deleted AND NOT _fivetran_deleted AND _fivetran_active")
    ...         n = live.fetchone()[0]
    >>> n == len(world.deals)
    True
    """
    tables, dirt = warehouse_tables(world, seed=seed, crms=crms)
    if isinstance(target, BaseBackend):
        _load(target, tables)
        return dirt
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = ibis.duckdb.connect(str(path))
    try:
        _load(con, tables)
    finally:
        con.disconnect()
    return dirt


def _load(con: BaseBackend, tables: dict[str, dict[str, pa.Table]]) -> None:
    for schema, by_name in tables.items():
        con.create_database(schema, force=True)
        for name, table in by_name.items():
            con.create_table(name, table, database=schema, overwrite=True)


def write_sample_warehouse(directory: str | Path) -> dict[str, Path]:
    """Write the bundled sample world as a DuckDB warehouse, with its dirt manifest and truth.

    Parameters
    ----------
    directory : str or Path
        Target folder (created if missing).

    Returns
    -------
    dict of str to Path
        ``warehouse`` (``crm.duckdb``, schemas ``salesforce`` and ``hubspot``),
        ``warehouse_dirt`` (the manifest) and ``truth`` (the planted effects).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = write_sample_warehouse(tmp)
    ...     sorted(paths), paths["warehouse"].stat().st_size > 0
    (['truth', 'warehouse', 'warehouse_dirt'], True)
    """
    out = Path(directory)
    world = sample_world()
    paths = {
        "warehouse": out / WAREHOUSE_FILE,
        "warehouse_dirt": out / WAREHOUSE_DIRT_FILE,
        "truth": out / _TRUTH,
    }
    dirt = write_warehouse(world, paths["warehouse"], seed=SAMPLE_RENDER_SEED)
    _write_csv(dirt, paths["warehouse_dirt"])
    _write_csv(world.truth, paths["truth"])
    return paths


def _write_csv(frame: Any, path: Path) -> None:
    path.write_bytes(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
