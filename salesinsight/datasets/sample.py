"""The bundled sample: a small simulated world rendered as vendor exports, shipped with the package.

The files live in ``salesinsight/datasets/sample/`` (``data/sample`` in a clone links to it) and are
regenerated, byte for byte, by ``python -m salesinsight.datasets``: a world of :data:`SAMPLE_WORLD`
rendered with :data:`SAMPLE_RENDER_SEED`, the Salesforce deals' stage history
(:mod:`salesinsight.datasets.history`), plus ``dirt.csv`` (the defects in the exports) and
``truth.csv`` (the effects planted in the world and its history).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from salesinsight.datasets.history import HISTORY_FILE, history_truth, render_history
from salesinsight.datasets.render import export_file_names, render_exports
from salesinsight.datasets.simulate import FX_TO_USD, World, simulate_world
from salesinsight.exceptions import InvalidValueError
from salesinsight.export import Export, read_export

__all__ = [
    "SAMPLE_FILES",
    "SAMPLE_RENDER_SEED",
    "SAMPLE_WORLD",
    "load_sample",
    "sample_paths",
    "sample_world",
    "write_sample",
]

SAMPLE_WORLD: dict[str, Any] = {
    "n_accounts": 800,
    "start": "2021-01-01",
    "years": 4.0,
    "effects": "planted",
    "activities_per_deal": 3.0,
    "seed": 20250101,
}
SAMPLE_RENDER_SEED = 0
SAMPLE_FILES = {
    "salesforce_deals": "a Salesforce opportunity report, the deals",
    "salesforce_activities": "a Salesforce tasks and events report, the same deals' activities",
    "salesforce_history": "the Salesforce deals' stage history, as the Data Loader exports "
    "OpportunityHistory: when each deal entered each stage, and its amount",
    "hubspot_deals": "the same deals as a HubSpot deals export",
    "pipedrive_deals": "the same deals as a Pipedrive deals export, each in its own currency",
    "dirt": "not an export: every defect planted in the exports above (file, row, kind, the "
    "value written and the clean one), to check the cleaning ledger against",
    "truth": "not an export: the effects planted in the simulated deals (claim, proxy, outcome, "
    "size), what a report on the sample should find",
}
"""What each file of the bundled sample is, by its key in :func:`sample_paths`."""
_TRUTH = "truth.csv"
_CRMS = ("salesforce", "hubspot", "pipedrive")


def sample_world() -> World:
    """The simulated world behind the bundled sample (deterministic).

    Examples
    --------
    >>> sample_world().as_of
    Timestamp('2025-01-01 00:00:00')
    """
    return simulate_world(**SAMPLE_WORLD)


def write_sample(directory: str | Path) -> dict[str, Path]:
    """Render the sample world into ``directory``: the exports, ``dirt.csv`` and ``truth.csv``.

    Parameters
    ----------
    directory : str or Path
        Target folder (created if missing).

    Returns
    -------
    dict of str to Path
        The files written, keyed as in :func:`sample_paths`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sorted(write_sample(tmp))
    ['dirt', 'hubspot_deals', 'pipedrive_deals', 'salesforce_activities', 'salesforce_deals', 'salesforce_history', 'truth']
    """
    world = sample_world()
    paths = render_exports(world, directory, seed=SAMPLE_RENDER_SEED)
    paths["salesforce_history"], manifest = render_history(
        world, directory, seed=SAMPLE_RENDER_SEED
    )
    earlier = pd.read_csv(paths["dirt"], dtype=str, keep_default_na=False)
    dirt = pd.concat([earlier, manifest.astype(str)], ignore_index=True)
    paths["dirt"].write_bytes(dirt.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    truth = pd.concat([world.truth, history_truth()], ignore_index=True)
    paths["truth"] = Path(directory) / _TRUTH
    paths["truth"].write_bytes(truth.to_csv(index=False, lineterminator="\n").encode())
    return paths


def sample_paths() -> dict[str, Path]:
    """Paths of the bundled sample files, from the installed package.

    Returns
    -------
    dict of str to Path
        ``salesforce_deals``, ``salesforce_activities``, ``salesforce_history``,
        ``hubspot_deals``, ``pipedrive_deals`` (the exports), ``dirt`` (their defects) and
        ``truth`` (the planted effects).

    Examples
    --------
    >>> paths = sample_paths()
    >>> paths["hubspot_deals"].name
    'hubspot-crm-exports-all-deals-2025-01-01.csv'
    >>> all(path.is_file() for path in paths.values())
    True
    """
    folder = Path(str(resources.files("salesinsight.datasets") / "sample"))
    as_of = _sample_as_of()
    names = {**export_file_names(as_of), "salesforce_history": HISTORY_FILE, "truth": _TRUTH}
    return {key: folder / name for key, name in names.items()}


def _sample_as_of() -> pd.Timestamp:
    start = pd.Timestamp(SAMPLE_WORLD["start"]).normalize()
    return start + pd.Timedelta(days=round(SAMPLE_WORLD["years"] * 365.25))


def load_sample(crm: str = "salesforce") -> Export:
    """Read the bundled exports of one vendor with :func:`salesinsight.read_export`.

    Parameters
    ----------
    crm : {"salesforce", "hubspot", "pipedrive"}
        Which vendor's files: Salesforce gives deals, activities and the stage history;
        Pipedrive amounts are converted to US dollars at the sample's fixed rates.

    Returns
    -------
    salesinsight.Export
        Deals, activities (Salesforce only), ledger and the vendor name.

    Examples
    --------
    >>> export = load_sample()
    >>> export.crm, len(export.deals) > 2000
    ('salesforce', True)
    """
    paths = sample_paths()
    if crm == "salesforce":
        files = ("salesforce_deals", "salesforce_activities", "salesforce_history")
        return read_export([paths[key] for key in files], crm="salesforce")
    if crm == "hubspot":
        return read_export(paths["hubspot_deals"], crm="hubspot")
    if crm == "pipedrive":
        return read_export(paths["pipedrive_deals"], crm="pipedrive", fx=FX_TO_USD)
    raise InvalidValueError(
        f"`crm` must be one of {', '.join(map(repr, _CRMS))} for the bundled sample; "
        f"received {crm!r}."
    )
