"""Claims: the book's claims scored against the data, as one scorecard."""

from __future__ import annotations

from salesinsight.claims.evaluate import evaluate_claims
from salesinsight.claims.scorecard import Scorecard

__all__ = ["Scorecard", "evaluate_claims"]
