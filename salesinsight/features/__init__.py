"""Features: one row per deal of trust proxies as of its creation, controls and outcomes."""

from __future__ import annotations

from salesinsight.features.engagement import engagement_columns
from salesinsight.features.outcomes import OUTCOME_COLUMNS, deal_outcomes
from salesinsight.features.trust import (
    CONTROL_COLUMNS,
    PROXY_COLUMNS,
    feature_columns,
    trust_features,
)

__all__ = [
    "CONTROL_COLUMNS",
    "OUTCOME_COLUMNS",
    "PROXY_COLUMNS",
    "deal_outcomes",
    "engagement_columns",
    "feature_columns",
    "trust_features",
]
