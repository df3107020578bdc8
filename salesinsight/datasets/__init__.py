"""Simulated CRM worlds with known trust effects, rendered as dirty vendor exports; the bundled sample.

:func:`simulate_world` gives clean canonical tables and the planted effects (``World.truth``);
:func:`render_exports` writes them as Salesforce, HubSpot and Pipedrive files with realistic defects
and a manifest of those defects; :func:`write_warehouse` lays them out as the tables a warehouse
sync of Salesforce and HubSpot holds; :func:`load_sample` reads the bundled rendering.

>>> from salesinsight.datasets import simulate_world
>>> simulate_world(n_accounts=40, seed=2).truth.columns.tolist()
['claim', 'outcome', 'proxy', 'model', 'scale', 'value', 'description']
"""

from __future__ import annotations

from salesinsight.datasets.effects import Effects
from salesinsight.datasets.render import render_exports
from salesinsight.datasets.sample import (
    SAMPLE_FILES,
    load_sample,
    sample_paths,
    sample_world,
    write_sample,
)
from salesinsight.datasets.simulate import FX_TO_USD, World, simulate_world
from salesinsight.datasets.warehouse import (
    warehouse_tables,
    write_sample_warehouse,
    write_warehouse,
)

__all__ = [
    "FX_TO_USD",
    "SAMPLE_FILES",
    "Effects",
    "World",
    "load_sample",
    "render_exports",
    "sample_paths",
    "sample_world",
    "simulate_world",
    "warehouse_tables",
    "write_sample",
    "write_sample_warehouse",
    "write_warehouse",
]
