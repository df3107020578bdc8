"""Simulated CRM worlds with known trust effects, rendered as dirty vendor exports; the bundled sample.

>>> from salesinsight.datasets import simulate_world
>>> simulate_world(n_accounts=40, seed=2).truth.columns.tolist()
['claim', 'outcome', 'proxy', 'model', 'scale', 'value', 'description']
"""

from __future__ import annotations

from salesinsight.datasets.effects import Effects
from salesinsight.datasets.simulate import World, simulate_world

__all__ = ["Effects", "World", "simulate_world"]
