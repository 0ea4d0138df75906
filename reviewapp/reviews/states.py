"""The review workflow's states, in order. A module of its own, free of imports, so that the
policy can name states without loading any model."""

import enum


class ReviewState(enum.StrEnum):
    NOT_STARTED = "not_started"
    SELF_REVIEW = "self_review"
    MANAGER_REVIEW = "manager_review"
    CALIBRATION = "calibration"
    SHARED = "shared"
    ACKNOWLEDGED = "acknowledged"
    FINALIZED = "finalized"

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started", "self_review": "Self-assessment",
            "manager_review": "Manager review", "calibration": "Calibration",
            "shared": "Shared", "acknowledged": "Acknowledged", "finalized": "Finalised",
        }[self.value]

    @property
    def phrase(self) -> str:
        """The state as the end of "while the review is …"."""
        return {
            "not_started": "not started", "self_review": "in self-assessment",
            "manager_review": "in manager review", "calibration": "in calibration",
            "shared": "shared", "acknowledged": "acknowledged", "finalized": "finalised",
        }[self.value]

    @property
    def rank(self) -> int:
        return list(ReviewState).index(self)
