"""Render a simulated world as the files CRMs really export, dirt included, with a manifest of the dirt.

Each vendor file is built as a sheet (headers and rows of text, as the vendor formats them), then
dirtied the way real exports are: exact duplicate rows, a second row under an id already used,
blank amounts, zero amounts on lost deals, deals created after they closed (migrated records), a
test record, mojibake from an encoding round trip, a typo in a category. Every injected defect,
every open deal whose forecast close date has already passed, and every line of a report footer is
listed in ``dirt.csv`` with the file, the data-row number and the kind, so a reader can be checked
against it.

Row numbers in the manifest count the lines after the header, starting at 1 (blank lines in a
report footer count too); no field of these files contains a line break.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from salesinsight.datasets import vendors
from salesinsight.datasets.sheet import DIRT_COLUMNS
from salesinsight.datasets.simulate import World
from salesinsight.exceptions import InvalidValueError

__all__ = ["DIRT_COLUMNS", "EXPORT_KEYS", "export_file_names", "render_exports"]

EXPORT_KEYS = ("salesforce_deals", "salesforce_activities", "hubspot_deals", "pipedrive_deals")


def export_file_names(as_of: pd.Timestamp) -> dict[str, str]:
    """File names of the exports of a world snapshot taken at ``as_of``.

    Salesforce names report exports ``report`` + a 13-digit millisecond timestamp; HubSpot
    ``hubspot-crm-exports-<view>-YYYY-MM-DD.csv``.

    Examples
    --------
    >>> export_file_names(pd.Timestamp("2025-01-01"))["hubspot_deals"]
    'hubspot-crm-exports-all-deals-2025-01-01.csv'
    >>> export_file_names(pd.Timestamp("2025-01-01"))["salesforce_deals"]
    'report1735722000000.csv'
    """
    # Exported on the morning after the snapshot, the activities report a few seconds later.
    millis = (pd.Timestamp(as_of) - pd.Timestamp("1970-01-01")) // pd.Timedelta(milliseconds=1)
    millis += 9 * 3_600_000
    day = f"{pd.Timestamp(as_of):%Y-%m-%d}"
    return {
        "salesforce_deals": f"report{millis}.csv",
        "salesforce_activities": f"report{millis + 7_431}.csv",
        "hubspot_deals": f"hubspot-crm-exports-all-deals-{day}.csv",
        "pipedrive_deals": f"pipedrive-deals-{day}.csv",
        "dirt": "dirt.csv",
    }


def render_exports(world: World, directory: str | Path, *, seed: int = 0) -> dict[str, Path]:
    """Write the world as dirty Salesforce, HubSpot and Pipedrive exports plus a dirt manifest.

    Parameters
    ----------
    world : World
        A world from :func:`~salesinsight.datasets.simulate_world`.
    directory : str or Path
        Where to write (created if missing); files of the same names are replaced.
    seed : int
        Seed of the rendering choices (which rows get which defect, ids, formats).

    Returns
    -------
    dict of str to Path
        ``salesforce_deals`` (report CSV: labels, ``M/D/YYYY``, ``$1,234.00``, cp1252, CRLF,
        report footer), ``salesforce_activities`` (tasks and events report, same style),
        ``hubspot_deals`` (UI export, every field quoted, 12-digit ids, no account size),
        ``pipedrive_deals`` (``Deal - ...`` headers, each deal in its own currency, status decides
        over stage) and ``dirt`` (the manifest: ``file, row, kind, record_id, column, value,
        clean_value, detail``).

    Examples
    --------
    >>> import tempfile
    >>> from salesinsight.datasets import simulate_world
    >>> world = simulate_world(n_accounts=40, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = render_exports(world, tmp)
    ...     dirt = pd.read_csv(paths["dirt"])
    >>> sorted(paths)
    ['dirt', 'hubspot_deals', 'pipedrive_deals', 'salesforce_activities', 'salesforce_deals']
    >>> "test_record" in set(dirt["kind"])
    True
    """
    if not isinstance(world, World):
        raise InvalidValueError(
            f"`world` must be a World from simulate_world(); received {type(world).__name__}."
        )
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    names = export_file_names(world.as_of)
    ids = vendors.vendor_ids(world, rng)
    builders = {
        "salesforce_deals": vendors.salesforce_deals,
        "salesforce_activities": vendors.salesforce_activities,
        "hubspot_deals": vendors.hubspot_deals,
        "pipedrive_deals": vendors.pipedrive_deals,
    }
    paths: dict[str, Path] = {}
    manifests = []
    for key, build in builders.items():
        sheet = build(world, names[key], ids, rng)
        paths[key] = out / sheet.name
        with paths[key].open("wb") as file:
            sheet.write(file)
        manifests.append(sheet.manifest())
    dirt = pd.concat(manifests, ignore_index=True)
    paths["dirt"] = out / names["dirt"]
    paths["dirt"].write_bytes(dirt.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return paths
