"""What a review page shows around the scores: goals, for context and never scored."""

from reviewapp.goals.review_context import goals_for_review
from reviewapp.reviews.models import Review


def goals_context(review: Review) -> list:
    """The rep's goals in the cycle's period with progress: shown for context, never scored."""
    return goals_for_review(review.rep, review.cycle.period_start, review.cycle.period_end)
