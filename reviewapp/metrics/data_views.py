"""Seeing the data: a rep's metrics by period, a manager's team table, HR's whole organisation."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, render_template, request
from flask_login import current_user
from sqlalchemy.orm import aliased

from reviewapp import policy
from reviewapp.auth.models import Role, Team, User
from reviewapp.exports import attachment, csv_text
from reviewapp.extensions import db
from reviewapp.lazy import pd
from reviewapp.metrics import bp, rollups
from reviewapp.metrics.catalogue import list_metrics
from reviewapp.metrics.charts import sparkline
from reviewapp.metrics.periods import Grain, Period
from reviewapp.numbers import figure
from reviewapp.pagination import (
    PageRequest,
    Sort,
    order_by,
    paginate,
    read_request,
    search_clause,
)


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


def _team_reps(team_id: int | None, *, active: bool = True) -> sa.Select:
    """The reps the viewer may see (policy's SQL clause), active ones only unless asked, of
    one team if asked."""
    query = sa.select(User).where(User.role == Role.REP,
                                  policy.visible_people_clause(current_user))
    if active:
        query = query.where(User.active)
    return query.where(User.team_id == team_id) if team_id else query


def _scope_teams() -> list[Team]:
    """The teams of the reps the viewer may see, for the filter."""
    reps = _team_reps(None).with_only_columns(User.team_id)
    return list(db.session.scalars(sa.select(Team).where(Team.id.in_(reps))
                                   .order_by(Team.name)))


def _asked(metric_keys: set[str]) -> PageRequest:
    """?sort=key with ?dir=asc|desc (the table's links), or ?sort=-key; unknown keys: by name."""
    args = request.args.to_dict()
    if args.get("dir") == "desc" and not args.get("sort", "").startswith("-"):
        args["sort"] = "-" + args.get("sort", "name")
    return read_request(dict.fromkeys({"name", *metric_keys}, NAME_SORT), "name", args)


NAME_SORT = Sort.by(sa.func.lower(User.name))
MANAGER = aliased(User)


@bp.route("/team")
def team():
    policy.require(policy.can_view_team_metrics(current_user))
    grain = _grain_arg()
    team_id = request.args.get("team", type=int)
    reps = _team_reps(team_id, active=False)
    # Only the period shown is read, from the roll-up table; the others only name themselves.
    periods, with_data = rollups.periods_and_metrics(reps.with_only_columns(User.id), grain)
    labels = [_label(grain, p) for p in periods]
    chosen = request.args.get("period") or (labels[-1] if labels else "")
    if request.args.get("period") and chosen not in labels:
        return _unknown_period(grain)
    # The active reps, and those who have left but have figures in the period shown: a past
    # quarter's team total is theirs too.
    reps = reps.where(sa.or_(User.active, User.id.in_(
        rollups.reps_with_data(grain, periods[labels.index(chosen)]))
        if chosen in labels else User.active))
    metrics = [m for m in list_metrics() if m.id in with_data]
    by_key = {m.key: m for m in metrics}
    asked = _asked(set(by_key) if chosen in labels else set())
    sorts = {"name": NAME_SORT}
    if asked.sort in by_key:  # sort by the metric's value in the period, in SQL
        values = rollups.period_values(by_key[asked.sort].id, grain,
                                       periods[labels.index(chosen)])
        reps = reps.outerjoin(values, values.c.rep_id == User.id)
        sorts[asked.sort] = Sort.by(values.c.value)
    tiebreak = [sa.func.lower(User.name), User.id]
    # The search reads the name, email, team and manager, as every list's does.
    reps = reps.outerjoin(Team, Team.id == User.team_id).outerjoin(
        MANAGER, MANAGER.id == User.manager_id)
    searched = [User.name, User.email, Team.name, MANAGER.name]
    if request.args.get("format") == "csv":  # a download holds every page, of the same search
        ordered = (reps.where(search_clause(asked.q, searched))
                   .order_by(*order_by(sorts[asked.sort], asked.descending, tiebreak)))
        everyone = list(db.session.scalars(ordered))
        table = _table([r.id for r in everyone], grain, periods, labels, chosen)
        return _team_csv(everyone, metrics, table, chosen)
    page = paginate(reps, asked, sorts, search=searched, tiebreak=tiebreak)
    table = _table([r.id for r in page.items], grain, periods, labels, chosen)
    # Each cell formatted here, once: a page of 50 reps by 6 metrics is 300 cells, and
    # formatting them in the template cost more than everything else the page does per rep.
    rows = [(rep, [cell_text(table.get(rep.id, {}).get(m.id)) for m in metrics])
            for rep in page.items]
    return render_template("metrics/team.html", rows=rows, page=page, metrics=metrics,
                           labels=labels, chosen=chosen, grain=grain,
                           teams=_scope_teams(), team_id=team_id, sort_key=asked.sort,
                           descending=asked.descending)


def cell_text(value: float | None) -> str:
    """A value as the team table shows it: whole numbers with thousands separators from 100
    up, three significant digits below, an em dash when there is none."""
    return "—" if value is None else figure(value)


def _table(rep_ids: list[int], grain, periods, labels, chosen) -> dict[int, dict[int, float]]:
    """rep id → metric id → value in the chosen period, for these reps only."""
    if chosen not in labels or not rep_ids:
        return {}
    return rollups.period_table(rep_ids, grain, periods[labels.index(chosen)])


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
                    float_format="exact")
    return attachment(text, f"team-metrics-{chosen or 'none'}.csv", "text/csv")
