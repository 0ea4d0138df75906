"""Seeing the data: a rep's metrics by period, a manager's team table, HR's whole organisation."""

import pandas as pd
import sqlalchemy as sa
from flask import Response, render_template, request
from flask_login import current_user

from reviewapp import policy
from reviewapp.auth.models import Role, Team, User
from reviewapp.exports import attachment, csv_text
from reviewapp.extensions import db
from reviewapp.metrics import bp, rollups
from reviewapp.metrics.catalogue import list_metrics
from reviewapp.metrics.charts import sparkline
from reviewapp.metrics.periods import Grain, Period


def _grain_arg() -> Grain:
    return Grain.MONTH if request.args.get("grain") == "month" else Grain.QUARTER


def _label(grain: Grain, start) -> str:
    return Period(grain, pd.Timestamp(start).date()).label


@bp.route("/people/<int:user_id>")
def person(user_id: int):
    rep = db.session.get(User, user_id)
    policy.visible_or_404(rep is not None and policy.can_view_rep_metrics(current_user, rep))
    grain = _grain_arg()
    values = rollups.rep_values(rep.id, grain)
    metrics = {m.id: m for m in list_metrics()}
    shown = {metric_id for metric_id, _, _ in values}
    # Metrics stored by quarter have no monthly value: name them rather than drop them.
    coarser = sorted(metrics[mid].name for mid in rollups.metrics_of(rep.id, Grain.QUARTER)
                     - shown) if grain == Grain.MONTH else []
    periods = sorted({start for _, start, _ in values})
    labels = [_label(grain, p) for p in periods]
    by_metric: dict[int, dict] = {}
    for metric_id, start, value in values:
        by_metric.setdefault(metric_id, {})[start] = value
    rows = []
    for metric_id, by_start in by_metric.items():
        metric = metrics[metric_id]
        row_values = [by_start.get(p) for p in periods]
        rows.append({"metric": metric, "values": row_values, "spark": sparkline(row_values)})
    rows.sort(key=lambda r: (r["metric"].kind.value != "outcome", r["metric"].name))
    return render_template("metrics/person.html", rep=rep, rows=rows, labels=labels,
                           grain=grain, coarser=coarser)


def _team_scope() -> tuple[list[User], list[Team]]:
    ids = policy.people_scope_ids(current_user)
    query = sa.select(User).where(User.role == Role.REP, User.active)
    if ids is not None:
        query = query.where(User.id.in_(ids))
    reps = list(db.session.scalars(query.order_by(User.name)))
    team_ids = {r.team_id for r in reps if r.team_id}
    teams = list(db.session.scalars(sa.select(Team).where(Team.id.in_(team_ids))
                                    .order_by(Team.name)))
    return reps, teams


@bp.route("/team")
def team():
    policy.require(policy.can_view_team_metrics(current_user))
    grain = _grain_arg()
    reps, teams = _team_scope()
    team_id = request.args.get("team", type=int)
    if team_id:
        reps = [r for r in reps if r.team_id == team_id]
    # Only the period shown is read, from the roll-up table; the others only name themselves.
    rep_ids = [r.id for r in reps]
    periods, with_data = rollups.periods_and_metrics(rep_ids, grain)
    labels = [_label(grain, p) for p in periods]
    chosen = request.args.get("period") or (labels[-1] if labels else "")
    if request.args.get("period") and chosen not in labels:
        return _unknown_period(grain)
    metrics = [m for m in list_metrics() if m.id in with_data]
    table: dict[int, dict[int, float]] = {}
    if chosen in labels:
        table = rollups.period_table(rep_ids, grain, periods[labels.index(chosen)])
    sort_key = request.args.get("sort", "name")
    descending = request.args.get("dir", "asc") == "desc"
    by_key = {m.key: m for m in metrics}

    def sort_value(rep: User):
        if sort_key in by_key:
            value = table.get(rep.id, {}).get(by_key[sort_key].id)
            return (value is None, value if value is not None else 0.0)
        return (False, rep.name.lower())

    reps = sorted(reps, key=sort_value, reverse=descending)
    if descending and sort_key in by_key:  # keep reps without a value at the bottom
        reps = [r for r in reps if table.get(r.id, {}).get(by_key[sort_key].id) is not None] + \
               [r for r in reps if table.get(r.id, {}).get(by_key[sort_key].id) is None]
    if request.args.get("format") == "csv":
        return _team_csv(reps, metrics, table, chosen)
    return render_template("metrics/team.html", reps=reps, metrics=metrics, table=table,
                           labels=labels, chosen=chosen, grain=grain, teams=teams,
                           team_id=team_id, sort_key=sort_key, descending=descending)


def _unknown_period(grain: str):
    # The period names a file and fills a column: only one of the data's own labels will do.
    return render_template(
        "errors/error.html", code=400, title="Unknown period",
        text=f"There is no period with that name in this data ({grain}s). "
             "Choose one from the list on the team page."), 400


def _team_csv(reps, metrics, table, chosen) -> Response:
    rows = ([rep.email, rep.name, chosen] + [table.get(rep.id, {}).get(m.id) for m in metrics]
            for rep in reps)
    text = csv_text(["rep_email", "rep_name", "period"] + [m.key for m in metrics], rows,
                    float_format="g")
    return attachment(text, f"team-metrics-{chosen or 'none'}.csv", "text/csv")
