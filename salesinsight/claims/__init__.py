"""Claims: the book's claims scored against the data, as one scorecard.

``registry`` holds the claims as data, ``panel`` the account-year table, ``fits`` one model per
comparison, ``evaluate`` scores them all, ``scorecard`` presents the result and ``narrative``
writes its words.
"""

from __future__ import annotations

from salesinsight.claims.evaluate import evaluate_claims
from salesinsight.claims.panel import account_years
from salesinsight.claims.scorecard import Scorecard

__all__ = ["Scorecard", "account_years", "evaluate_claims"]
