"""Demo goals: team goals for North, South and West, aligned individual goals, check-ins.

Two quarters: the latest quarter with demo data (complete, so progress shows) and the current
one (under way). One goal is on calls per day, so that the warning about a metric that did not
predict results shows once the KPI lab has judged it; one target was adjusted mid-quarter, so
the progress chart marks the change; Priya Shah has a proposal waiting for her manager.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import sqlalchemy as sa

from reviewapp.auth.models import Team, User
from reviewapp.demo.people import DOMAIN, TEAMS, email_for
from reviewapp.extensions import db
from reviewapp.goals import progress as maths
from reviewapp.goals.adjustments import adjust_goal
from reviewapp.goals.checkins import set_status
from reviewapp.goals.models import CheckIn, Goal, GoalStatus
from reviewapp.goals.services import GoalDraft, create_goal
from reviewapp.metrics.data import load_observations
from reviewapp.metrics.models import Metric, Observation
from reviewapp.metrics.periods import Period, current_quarter, quarter_of

NOTES = [
    "Two proposals out; both buyers want a second call.",
    "Pipeline is thin after the summer; rebuilding with referrals.",
    "Good month: the Hansen deal closed early.",
    "Waiting on legal at the biggest prospect.",
    "Shadowed Priya's discovery calls; trying her question list.",
    "Holiday weeks ahead; front-loading meetings.",
]
CALLS_REP = "Jon Park"  # gets a calls-per-day goal: the warning shows once it is judged
PROPOSER = "Priya Shah"
ADJUSTED_REP = "Liam O'Neil"
COURSE_REP = "Chloe Dubois"


def _latest_data_quarter(today: date) -> Period:
    latest = db.session.scalar(sa.select(sa.func.max(Observation.period_start)))
    if latest is None:
        return current_quarter(today).shift(-1)
    return quarter_of(latest)


def _values(rep_ids: list[int], metric: Metric, quarter: Period) -> dict[int, float]:
    """Each rep's value of a metric over a quarter, rolled up as the metric says."""
    frame = load_observations(rep_ids, [metric.id], start=quarter.start, end=quarter.end)
    out = {}
    for rep_id in rep_ids:
        value = maths.value_over_period(frame[frame["rep"] == rep_id], metric.rollup.value)
        if value is not None:
            out[rep_id] = value
    return out


def _value_as_of(rep_id: int, metric: Metric, quarter: Period, day: date) -> float | None:
    """A rep's value over the months of the quarter that were over by `day`."""
    frame = load_observations([rep_id], [metric.id], start=quarter.start, end=day)
    frame = frame[frame["grain"].isin(["day", "week", "month"])]
    months_over = frame["start"] < pd.Timestamp(day.replace(day=1))
    return maths.value_over_period(frame[months_over], metric.rollup.value)


def _round(value: float, step: float) -> float:
    return float(max(step, round(value / step) * step))


class _Loader:
    def __init__(self, seed: int, today: date):
        self.rng = np.random.default_rng(seed)
        self.today = today
        self.goals = self.check_ins = 0

    def goal(self, actor: User, **fields) -> Goal:
        fields.setdefault("scope", "individual")
        goal, _ = create_goal(actor, GoalDraft(**fields))
        self.goals += 1
        return goal

    def check_in(self, goal: Goal, author: User, day: date, *, progress: float | None = None,
                 metric_value: float | None = None) -> None:
        if day > self.today or not goal.start_date <= day <= goal.end_date:
            return
        if metric_value is not None:
            progress = maths.progress_fraction(metric_value, goal.start_value,
                                               goal.target_value) * 100
        db.session.add(CheckIn(
            goal=goal, author=author, held_on=day, progress=progress,
            metric_id=goal.metric_id if metric_value is not None else None,
            metric_value=metric_value, confidence=int(self.rng.integers(2, 6)),
            note=NOTES[int(self.rng.integers(len(NOTES)))]))
        self.check_ins += 1


def load_goals(seed: int, today: date | None = None) -> dict:
    """Add the demo goals once (idempotent); needs the demo people and metric data."""
    today = today or date.today()
    metrics = {m.key: m for m in db.session.scalars(sa.select(Metric))}
    needed = {"revenue", "new_business", "meetings", "calls_per_day"}
    if not needed <= set(metrics):
        return {"goals": "skipped (load the demo metrics first)"}
    last = _latest_data_quarter(today)
    now = current_quarter(today)
    quarters = [last] if now == last else [last, now]
    if db.session.scalar(sa.select(Goal.id).where(Goal.title == "North: grow revenue",
                                                  Goal.quarter == last.label)):
        return {"goals": "already loaded"}
    loader = _Loader(seed, today)
    for team_name, (_, manager_local), rep_names in TEAMS:
        team = db.session.scalar(sa.select(Team).where(Team.name == team_name))
        manager = db.session.scalar(sa.select(User).where(
            User.email == f"{manager_local}@{DOMAIN}"))
        reps = [db.session.scalar(sa.select(User).where(User.email == email_for(name)))
                for name in rep_names]
        if team is None or manager is None or None in reps:
            return {"goals": "skipped (load the demo people first)"}
        for quarter in quarters:
            _team_quarter(loader, metrics, team, manager, reps, quarter)
    db.session.flush()
    return {"goals": f"{loader.goals} goals for {', '.join(q.label for q in quarters)}, "
                     f"{loader.check_ins} check-ins"}


def _team_quarter(loader: _Loader, metrics: dict, team: Team, manager: User,
                  reps: list[User], quarter: Period) -> None:
    before = quarter.shift(-1)
    revenue, new_business = metrics["revenue"], metrics["new_business"]
    rep_ids = [r.id for r in reps]
    last_total = sum(_values(rep_ids, revenue, before).values())
    common = {"quarter": quarter.label}
    # Totals over the quarter start from zero: the target is what the quarter should bring.
    team_goal = loader.goal(
        manager, scope="team", team_id=team.id, title=f"{team.name}: grow revenue",
        description="Book 5% more revenue than last quarter, without discounting our way "
                    "there.", kind="metric", metric_id=revenue.id, start_value=0,
        target_value=_round(last_total * 1.05, 1000), **common)
    current = quarter == current_quarter(loader.today)
    mid = quarter.start + timedelta(days=45)
    partner = None
    if current:
        partner = loader.goal(
            manager, scope="team", team_id=team.id, kind="checklist",
            title=f"{team.name}: open the partner channel",
            milestones=f"{(quarter.start + timedelta(days=20)).isoformat()} Shortlist five "
                       f"partners\n{(quarter.start + timedelta(days=60)).isoformat()} Sign two "
                       "partner agreements\nFirst co-sold deal", **common)
        partner.milestones[0].done = True
        loader.check_in(partner, manager, quarter.start + timedelta(days=30), progress=100 / 3)
    starts = _values(rep_ids, new_business, before)
    for i, rep in enumerate(reps):
        start = starts.get(rep.id)
        if start is None:
            continue
        goal = loader.goal(
            manager, owner_id=rep.id, title="Win new business", kind="metric",
            metric_id=new_business.id, start_value=0,
            target_value=_round(start * 1.1, 100), parent_id=team_goal.id, **common)
        if i < 4:
            loader.check_in(goal, rep, quarter.start + timedelta(days=24))
            loader.check_in(goal, manager, mid)
        if current and rep.name == ADJUSTED_REP:
            adjust_goal(manager, goal, reason="Territory grew: took over three accounts from "
                        "Maya Singh mid-quarter.", quarter=quarter.label, start_date=None,
                        end_date=None, metric_id=new_business.id, start_value=0,
                        target_value=_round(goal.target_value * 1.15, 100),
                        today=min(loader.today, quarter.start + timedelta(days=35)))
        if current and i < 3:
            _meetings_goal(loader, metrics["meetings"], manager, rep, team_goal, quarter)
        if rep.name == CALLS_REP:
            _calls_goal(loader, metrics["calls_per_day"], manager, rep, team_goal, quarter,
                        current)
        if current and rep.name == COURSE_REP:
            course = loader.goal(
                manager, owner_id=rep.id, kind="checklist", parent_id=partner.id,
                title="Complete the negotiation course",
                milestones="Module 1: preparation\nModule 2: concessions\n"
                           "Role-play with a peer", **common)
            course.milestones[0].done = course.milestones[1].done = True
            loader.check_in(course, rep, mid, progress=200 / 3)
        if current and rep.name == PROPOSER:
            loader.goal(rep, owner_id=rep.id, kind="percent", parent_id=team_goal.id,
                        title="Teach discovery calls: two lunch-and-learns",
                        description="Share the question list that works for me, so the team "
                                    "can try it.", **common)
    if team.name == "South" and not current:
        adjust_goal(manager, team_goal, reason="Two large renewals slipped into next quarter "
                    "after the customer's budget freeze.", quarter=quarter.label,
                    start_date=None, end_date=None, metric_id=revenue.id,
                    start_value=0, target_value=_round(team_goal.target_value * 0.93, 1000),
                    today=quarter.start + timedelta(days=50))


def _meetings_goal(loader, meetings: Metric, manager: User, rep: User, parent: Goal,
                   quarter: Period) -> None:
    start = _values([rep.id], meetings, quarter.shift(-1)).get(rep.id)
    if start is None:
        return
    goal = loader.goal(manager, owner_id=rep.id, kind="metric", metric_id=meetings.id,
                       title="Hold more discovery meetings", start_value=0,
                       target_value=start + 4, parent_id=parent.id, weight=0.5,
                       quarter=quarter.label)
    loader.check_in(goal, rep, quarter.start + timedelta(days=40))


def _calls_goal(loader, calls: Metric, manager: User, rep: User, parent: Goal,
                quarter: Period, current: bool) -> None:
    """The old playbook's goal: more calls. In the complete quarter its target was eased
    mid-way; in the current one its owner and manager have marked it at risk."""
    start = _values([rep.id], calls, quarter.shift(-1)).get(rep.id)
    if start is None:
        return
    goal = loader.goal(manager, owner_id=rep.id, kind="metric", metric_id=calls.id,
                       title="Make more calls", start_value=round(start, 1),
                       target_value=round(start + 8, 1), parent_id=parent.id, weight=0.5,
                       quarter=quarter.label,
                       description="Forty calls a day, as the old playbook says.")
    for days in (33, 64):
        day = quarter.start + timedelta(days=days)
        loader.check_in(goal, rep, day, metric_value=_value_as_of(rep.id, calls, quarter, day))
    if current:
        set_status(manager, goal, GoalStatus.AT_RISK.value,
                   "More dials have not meant more meetings; we are trying fewer, better calls.")
        return
    adjust_goal(manager, goal, reason="After the August pipeline review: fewer, better-prepared "
                "calls instead of volume.", quarter=quarter.label, start_date=None,
                end_date=None, metric_id=calls.id, start_value=goal.start_value,
                target_value=round(goal.start_value + 4, 1),
                today=quarter.start + timedelta(days=47))
