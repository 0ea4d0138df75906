"""Pure analysis functions (pandas, numpy, statsmodels, scipy; no Flask, no database)."""

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
    "ValidationParams",
    "ValidationResult",
    "bh_qvalues",
    "demean_by",
    "fingerprint",
    "validate",
]
