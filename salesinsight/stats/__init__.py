"""Statistics: how trust proxies relate to deal size, speed and win rate, with honest errors."""

from __future__ import annotations

from salesinsight.stats.association import Association, association
from salesinsight.stats.correlation import correlations
from salesinsight.stats.kpis import pipeline_summary
from salesinsight.stats.stages import TimeInStage, time_in_stage
from salesinsight.stats.survival import TimeToClose, time_to_close

__all__ = [
    "Association",
    "TimeInStage",
    "TimeToClose",
    "association",
    "correlations",
    "pipeline_summary",
    "time_in_stage",
    "time_to_close",
]
