"""What a review page shows around the scores: deadlines and goals (context, never scored)."""

from dataclasses import dataclass
from datetime import date

from reviewapp.goals.review_context import goals_for_review
from reviewapp.reviews.models import Review, ReviewState


@dataclass(frozen=True)
class Deadline:
    label: str
    due: date

    def overdue(self, today: date | None = None) -> bool:
        return (today or date.today()) > self.due


def deadline_for(review: Review) -> Deadline | None:
    """The deadline of the review's current step, if it has one."""
    cycle = review.cycle
    return {
        ReviewState.SELF_REVIEW: Deadline("Self-assessment due", cycle.self_due),
        ReviewState.MANAGER_REVIEW: Deadline("Manager review due", cycle.manager_due),
        ReviewState.CALIBRATION: Deadline("Calibration due", cycle.calibration_due),
        ReviewState.SHARED: Deadline("Acknowledgement due", cycle.acknowledgement_due),
    }.get(review.state)


def goals_context(review: Review) -> list:
    """The rep's goals in the cycle's period with progress: shown for context, never scored."""
    return goals_for_review(review.rep, review.cycle.period_start, review.cycle.period_end)
