"""Progress computed from stored observations: individual and team goals, both directions."""

from datetime import date

import pytest
import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.goals.models import GoalStatus
from reviewapp.goals.queries import build_tree
from reviewapp.goals.tracking import compute_progress
from tests.goals.conftest import IN_Q3, Q3, make_metric, observe, set_goal


def test_individual_metric_goal_sums_the_owner_data_in_the_period(org, metrics):
    goal = set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["revenue"].id,
                    start_value=0, target_value=400)
    result = compute_progress([goal], IN_Q3)[goal.id]
    assert result.current == 200.0  # July + August; June (Q2) is outside the period
    assert result.fraction == pytest.approx(0.5)
    assert result.suggested == GoalStatus.ON_TRACK  # half the quarter is behind us


def test_a_mean_metric_is_averaged_and_held_against_the_whole_target(org, metrics):
    goal = set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["calls"].id,
                    start_value=20, target_value=40, title="Calls")
    result = compute_progress([goal], IN_Q3)[goal.id]
    assert result.current == 35.0
    assert result.fraction == pytest.approx(0.75)
    assert result.expected == 1.0
    assert result.suggested == GoalStatus.AT_RISK  # 25 points short of the whole target


def test_lower_is_better_goal(org, metrics):
    goal = set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["churn"].id,
                    start_value=10, target_value=5, title="Fewer churned accounts")
    result = compute_progress([goal], IN_Q3)[goal.id]
    assert result.current == 7.0
    assert result.fraction == pytest.approx(0.6)


def test_team_goal_totals_the_members_for_a_sum_metric(org, metrics):
    goal = set_goal(org.lead, scope="team", team_id=org.team.id,
                    metric_id=metrics["revenue"].id, start_value=0, target_value=640)
    result = compute_progress([goal], IN_Q3)[goal.id]
    # Rita 200 + Ravi 120; Bob Direct (in Alpha, no data) adds nothing.
    assert result.current == 320.0
    assert result.fraction == pytest.approx(0.5)
    assert result.basis == "Revenue summed over the period across the team's 3 reps"


def test_team_goal_averages_the_members_for_a_mean_metric(org, metrics):
    goal = set_goal(org.lead, scope="team", team_id=org.team.id,
                    metric_id=metrics["calls"].id, start_value=25, target_value=45)
    result = compute_progress([goal], IN_Q3)[goal.id]
    assert result.current == 35.0  # both reps average 35
    assert result.fraction == pytest.approx(0.5)


def test_a_goal_without_data_in_its_period_has_no_progress_yet(org, metrics):
    goal = set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["revenue"].id,
                    start_value=0, target_value=400, quarter="2026-Q4")
    result = compute_progress([goal], date(2026, 10, 5))[goal.id]
    assert result.current is None and result.fraction is None and result.status is None


def test_checklist_and_manual_goals(org):
    checklist = set_goal(org.lead, owner_id=org.rep.id, kind="checklist", title="Onboarding",
                         milestones="Shadow two calls\nFirst demo\n2026-09-01 First proposal")
    manual = set_goal(org.lead, owner_id=org.rep.id, kind="percent", title="Certification")
    checklist.milestones[0].done = True
    manual.manual_percent = 40.0
    db.session.commit()
    result = compute_progress([checklist, manual], IN_Q3)
    assert result[checklist.id].fraction == pytest.approx(1 / 3)
    assert result[manual.id].fraction == pytest.approx(0.4)
    assert checklist.milestones[2].due == date(2026, 9, 1)


def test_an_override_wins_over_the_suggestion(org, metrics):
    goal = set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["revenue"].id,
                    start_value=0, target_value=400)
    goal.status_override, goal.status_note = GoalStatus.AT_RISK, "Big deal slipped to Q4"
    db.session.commit()
    result = compute_progress([goal], IN_Q3)[goal.id]
    assert result.suggested == GoalStatus.ON_TRACK
    assert result.status == GoalStatus.AT_RISK and result.overridden


def test_tree_rolls_up_aligned_goals_by_weight(org, metrics):
    team_goal = set_goal(org.lead, scope="team", team_id=org.team.id, kind="percent",
                         title="Alpha: land the new region")
    rita = set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["revenue"].id,
                    start_value=0, target_value=400, parent_id=team_goal.id, weight=3)
    ravi = set_goal(org.lead, owner_id=org.rep2.id, kind="percent", title="Partner plan",
                    parent_id=team_goal.id)
    ravi.manual_percent = 100.0
    db.session.commit()
    goals = [team_goal, rita, ravi]
    progress = compute_progress(goals, IN_Q3)
    (root,) = build_tree(goals, progress)
    assert [c.goal.id for c in root.children] == [ravi.id, rita.id]
    # (0.5 × 3 + 1.0 × 1) / 4
    assert root.rolled_up == pytest.approx(0.625)
    assert root.counted == 2 and root.hidden == 0


def test_progress_of_many_goals_takes_a_fixed_number_of_statements(org, metrics):
    goals = [set_goal(org.lead, owner_id=rep.id, metric_id=metrics["revenue"].id,
                      start_value=0, target_value=400, title=f"Revenue {i}")
             for i, rep in enumerate([org.rep, org.rep2] * 5)]
    goals.append(set_goal(org.lead, scope="team", team_id=org.team.id,
                          metric_id=metrics["revenue"].id, start_value=0, target_value=900))
    for goal in goals:
        db.session.refresh(goal, ["metric"])
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        compute_progress(goals, IN_Q3)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) <= 2, statements


def test_observations_in_the_period_only(org):
    metric = make_metric("meetings", kind="activity", rollup="sum")
    observe(org.rep, metric, "2026-06-30", 50)
    observe(org.rep, metric, "2026-07-01", 5)
    observe(org.rep, metric, "2026-09-30", 6)
    observe(org.rep, metric, "2026-10-01", 70)
    goal = set_goal(org.lead, owner_id=org.rep.id, metric_id=metric.id, start_value=0,
                    target_value=22, quarter=Q3, title="Meetings")
    assert compute_progress([goal], IN_Q3)[goal.id].current == 11.0


def test_goal_facts_give_the_progress_the_goals_give(org, metrics):
    """Panels that count goals read them as plain columns (goal_facts); every kind of goal
    must come out with the same progress, status and wording as the ORM goals."""
    from reviewapp.goals.queries import goal_facts, visible_goals

    set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["revenue"].id, start_value=0,
             target_value=400)
    set_goal(org.lead, owner_id=org.rep.id, metric_id=metrics["calls"].id, start_value=20,
             target_value=40, title="Calls")
    set_goal(org.lead, owner_id=org.rep2.id, metric_id=metrics["churn"].id, start_value=10,
             target_value=5, title="Fewer churned accounts")
    set_goal(org.lead, scope="team", team_id=org.team.id, metric_id=metrics["calls"].id,
             start_value=25, target_value=45, title="Team calls")
    overridden = set_goal(org.lead, scope="team", team_id=org.team.id,
                          metric_id=metrics["revenue"].id, start_value=0, target_value=640)
    checklist = set_goal(org.lead, owner_id=org.rep.id, kind="checklist", title="Onboarding",
                         milestones="Shadow two calls\nFirst demo\nFirst proposal")
    manual = set_goal(org.lead, owner_id=org.rep2.id, kind="percent", title="Certification")
    set_goal(org.lead, owner_id=org.rep2.id, kind="percent", title="Not started")
    checklist.milestones[1].done = True
    manual.manual_percent = 10.0
    overridden.status_override, overridden.status_note = GoalStatus.OFF_TRACK, "Lost the anchor"
    db.session.commit()

    goals = visible_goals(org.lead)
    facts = goal_facts(org.lead)
    assert [f.id for f in facts] == [g.id for g in goals] and len(goals) == 8
    assert [f.owner_name for f in facts] == [g.owner_name for g in goals]
    assert compute_progress(facts, IN_Q3) == compute_progress(goals, IN_Q3)
    statuses = {p.status for p in compute_progress(facts, IN_Q3).values()}
    assert {GoalStatus.OFF_TRACK, GoalStatus.AT_RISK, GoalStatus.ON_TRACK} <= statuses


def test_a_week_counts_where_its_thursday_is_as_on_the_metrics_pages(org):
    """2026-W27 runs Mon 29 Jun – Sun 5 Jul (Thursday 2 Jul: Q3); 2026-W40 runs Mon 28 Sep –
    Sun 4 Oct (Thursday 1 Oct: Q4). Placed by their Monday, a Q3 goal had 101 against 11."""
    metric = make_metric("demos", kind="activity", rollup="sum")
    observe(org.rep, metric, "2026-W27", 10)
    observe(org.rep, metric, "2026-W28", 1)
    observe(org.rep, metric, "2026-W40", 100)
    q3 = set_goal(org.lead, owner_id=org.rep.id, metric_id=metric.id, start_value=0,
                  target_value=20, quarter=Q3, title="Demos in Q3")
    q4 = set_goal(org.lead, owner_id=org.rep.id, metric_id=metric.id, start_value=0,
                  target_value=200, quarter="2026-Q4", title="Demos in Q4")
    progress = compute_progress([q3, q4], IN_Q3)
    assert (progress[q3.id].current, progress[q4.id].current) == (11.0, 100.0)


def test_a_quarter_value_does_not_count_in_a_goal_for_part_of_the_quarter(org):
    """A July revenue goal took the whole of Q3's revenue (265 %, done)."""
    metric = make_metric("bookings", rollup="sum")
    observe(org.rep, metric, "2026-Q3", 211_700)
    july = set_goal(org.lead, owner_id=org.rep.id, metric_id=metric.id, start_value=0,
                    target_value=80_000, quarter=None, start_date=date(2026, 7, 1),
                    end_date=date(2026, 7, 31), title="July bookings")
    quarter = set_goal(org.lead, owner_id=org.rep.id, metric_id=metric.id, start_value=0,
                       target_value=300_000, quarter=Q3, title="Q3 bookings")
    progress = compute_progress([july, quarter], IN_Q3)
    assert progress[july.id].current is None
    assert progress[quarter.id].current == 211_700
