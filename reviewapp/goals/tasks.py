"""Goals on the managers' to-do lists: proposals waiting for their decision."""

from __future__ import annotations

from flask import url_for

from reviewapp.auth.models import User
from reviewapp.goals.queries import awaiting_decision
from reviewapp.reviews.dashboard import Task

PROPOSALS_NAMED = 3


def proposal_tasks(user: User) -> list[Task]:
    """Goals the manager's people proposed, waiting for their decision: up to
    PROPOSALS_NAMED named, more counted in one line."""
    shown, total = awaiting_decision(user, PROPOSALS_NAMED)
    if total > len(shown):
        return [Task(url_for("goals.index", state="proposed", period="all"),
                     f"Decide on {total} goal proposals of your people", None)]
    return [Task(url_for("goals.detail", goal_id=goal.id),
                 f"Decide on {goal.owner_name}'s goal proposal: {goal.title}", None)
            for goal in shown]
