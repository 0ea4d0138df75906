"""Pure analysis functions (pandas, numpy, statsmodels, scipy; no Flask, no database)."""

from reviewapp.analytics.confirmation import TwoEnds, validate_two_ends, verdict
from reviewapp.analytics.panel import demean_by, fingerprint
from reviewapp.analytics.validation import (
    CandidateResult,
    ValidationParams,
    ValidationResult,
    bh_qvalues,
    validate,
)

__all__ = [
    "CandidateResult",
    "TwoEnds",
    "ValidationParams",
    "ValidationResult",
    "bh_qvalues",
    "demean_by",
    "fingerprint",
    "validate",
    "validate_two_ends",
    "verdict",
]
