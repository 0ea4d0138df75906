"""Reviews show goals in words, for context; nothing numeric leaves for a score."""

from datetime import date

from reviewapp.goals.review_context import ReviewGoal, goals_for_review
from tests.goals.conftest import IN_Q3, set_goal


def test_goals_reach_a_review_as_words_only(org, metrics):
    set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["revenue"].id, start_value=0,
             target_value=400, title="Grow revenue")
    set_goal(org.rep, owner_id=org.rep.id, kind="percent", title="Still a proposal")
    (item,) = goals_for_review(org.rep, date(2026, 7, 1), date(2026, 9, 30), today=IN_Q3)
    assert item == ReviewGoal(item.goal_id, "Grow revenue", "2026-Q3",
                              "50% of the way to 400 (Revenue)", "On track")
    assert all(isinstance(v, str) for k, v in vars(item).items() if k != "goal_id")


def test_no_code_outside_goals_reads_goal_progress_as_a_number():
    """Only reviewapp/goals computes progress; other areas get words (review_context)."""
    import re
    from pathlib import Path

    import reviewapp

    root = Path(reviewapp.__file__).parent
    numeric = re.compile(r"reviewapp\.goals\.(tracking|progress|queries|dashboard)\b"
                         r"|from reviewapp\.goals import .*\b(tracking|progress)\b")
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if "goals" not in path.relative_to(root).parts[:1]
                 and path.name != "goals.py"  # the demo loader sets goals up
                 and numeric.search(path.read_text())]
    # The dashboards show progress to the people it belongs to, as direction; nothing else
    # (reviews, scoring, KPIs) may read it.
    assert set(offenders) <= {"dashboard/views.py"}, offenders
