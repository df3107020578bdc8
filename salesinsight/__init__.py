"""salesinsight: test whether trust makes deals bigger and faster, on your own CRM export.

The pipeline, one plain function per step::

    export = salesinsight.read_export("report1718000000000.csv")   # deals, activities, ledger
    data = salesinsight.trust_features(export.deals, export.activities)
    card = salesinsight.evaluate_claims(data)                       # the book's claims, scored

Public names and subpackages are imported lazily, on first use, so ``import salesinsight`` stays
quick for the command line and ``salesinsight.datasets.load_sample()`` works after it alone.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    "read_export": "salesinsight.export",
    "read_stage_history": "salesinsight.export",
    "read_warehouse": "salesinsight.warehouse",
    "Export": "salesinsight.export",
    "trust_features": "salesinsight.features",
    "association": "salesinsight.stats",
    "correlations": "salesinsight.stats",
    "time_to_close": "salesinsight.stats",
    "time_in_stage": "salesinsight.stats",
    "pipeline_summary": "salesinsight.stats",
    "evaluate_claims": "salesinsight.claims",
    "Scorecard": "salesinsight.claims",
}

#: Modules and subpackages reachable as attributes, e.g. ``salesinsight.datasets``.
SUBMODULES = (
    "claims",
    "clean",
    "datasets",
    "exceptions",
    "export",
    "features",
    "io",
    "plots",
    "privacy",
    "report",
    "schemas",
    "stats",
    "warehouse",
)

__all__ = sorted([*_PUBLIC, "SUBMODULES", "__version__"])


def __getattr__(name: str) -> Any:
    if name in SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'salesinsight' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC, *SUBMODULES])
