"""The cycle editor's form, read and filled: KPI rows, the draft it makes, the band mapping.

Kept apart from the views so that they stay request handlers, and apart from the services so
that those never see a form.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from reviewapp import numbers
from reviewapp.cycles.forms import CycleForm
from reviewapp.cycles.models import DEFAULT_BANDS, Competency, Cycle
from reviewapp.cycles.services import CycleDraft
from reviewapp.errors import FieldErrors
from reviewapp.extensions import db
from reviewapp.metrics.models import Metric
from reviewapp.metrics.periods import current_quarter
from reviewapp.peers.services import PeerSettings, settings_of
from reviewapp.reviews.scoring import band_ranges

DEFAULT_DUE_DAYS = (7, 21, 35, 49)  # after the period ends: self, manager, calibration, ack.


def parse_number(text: str | None) -> float | None:
    """A number typed by a person ("1,200" included); None when empty; ValueError otherwise,
    also for inf, nan and magnitudes no target has (reviewapp/numbers.py)."""
    try:
        value = float(text.replace(",", "")) if text and text.strip() else None
    except ValueError:
        raise ValueError(text) from None
    if value is not None and numbers.problem(value):
        raise ValueError(text)
    return value


def kpi_rows(metrics: list[Metric], cycle: Cycle | None, posted=None) -> list[dict]:
    """One editor row per metric, from the posted form (a MultiDict) or the saved cycle."""
    if posted is not None:
        chosen = set(posted.getlist("kpi", type=int))
        return [{"metric": m, "chosen": m.id in chosen,
                 "target": posted.get(f"target_{m.id}", ""),
                 "weight": posted.get(f"weight_{m.id}", "")} for m in metrics]
    saved = {k.metric_id: k for k in cycle.kpis} if cycle else {}
    return [{"metric": m, "chosen": m.id in saved,
             "target": numbers.exact(saved[m.id].target, separators=False) if m.id in saved else "",
             "weight": numbers.exact(saved[m.id].weight, separators=False) if m.id in saved else "",
             "own_targets": len(saved[m.id].targets) if m.id in saved else 0} for m in metrics]


def _read_kpis(rows: list[dict]) -> tuple[list[tuple[int, float, float]], dict[str, str]]:
    """(metric, target, weight) of the chosen rows that read, and {field: message} for the
    unreadable targets and weights (target_<metric id>, weight_<metric id>)."""
    out, problems = [], {}
    for row in (r for r in rows if r["chosen"]):
        metric = row["metric"]
        values, mine = {}, {}
        for part in ("target", "weight"):  # in the row's order, for the error summary
            try:
                values[part] = parse_number(row[part])
            except ValueError as exc:
                mine[f"{part}_{metric.id}"] = (
                    f"{metric.name}: the {part} “{exc}” is not a number.")
            if part == "target" and values.get("target", 0) is None:
                mine[f"target_{metric.id}"] = f"Enter a target for {metric.name}."
        if mine:
            problems.update(mine)
        else:
            weight = values["weight"]
            out.append((metric.id, values["target"], 1.0 if weight is None else weight))
    return out, problems


def parse_kpis(rows: list[dict]) -> list[tuple[int, float, float]]:
    """(metric, target, weight) of the chosen rows; FieldErrors naming every unreadable target
    and weight (target_<metric id>, weight_<metric id>) when there are any."""
    out, problems = _read_kpis(rows)
    if problems:
        raise FieldErrors(problems)
    return out


def kpi_problems(rows: list[dict]) -> dict[str, str]:
    """What parse_kpis refuses in the rows, as {field: message} (empty when they read)."""
    return _read_kpis(rows)[1]


def rule_problems(form: CycleForm, rows: list[dict], offered_ids: set[int],
                  cycle: Cycle | None) -> dict[str, str]:
    """The cycle's rules (period, deadline order, bands, targets…) checked on what the form
    holds, the readable KPI rows included, while some row does not read: every problem is
    listed at once instead of the rules' only once the rows are fixed. Nothing is saved."""
    from reviewapp.cycles.services import check_draft

    draft = draft_from(form, rows, offered_ids, kpis=_read_kpis(rows)[0])
    try:
        check_draft(draft, cycle)
    except FieldErrors as exc:
        return exc.errors
    return {}


def draft_from(form: CycleForm, rows: list[dict], offered_ids: set[int],
               kpis: list[tuple[int, float, float]] | None = None) -> CycleDraft:
    """The draft the form describes (competencies limited to those offered)."""
    return CycleDraft(
        name=form.name.data, period=form.period.data, self_due=form.self_due.data,
        manager_due=form.manager_due.data, calibration_due=form.calibration_due.data,
        acknowledgement_due=form.acknowledgement_due.data, quant_weight=form.quant_weight.data,
        bands=[f.data / 100 if isinstance(f.data, (int, float)) else None
               for f in form.band_fields()],
        team_ids=form.teams.data or [], person_ids=form.people.data or [],
        competency_ids=[i for i in form.competencies.data or [] if i in offered_ids],
        kpis=parse_kpis(rows) if kpis is None else kpis, peer=form.peer_settings())


def suggested_period(today=None):
    """The first quarter from the current one on without a cycle (2026-Q4 while it has none,
    not the next quarter regardless)."""
    taken = set(db.session.scalars(sa.select(Cycle.period_label)))
    period = current_quarter(today)
    while period.label in taken:
        period = period.next()
    return period


def fill(form: CycleForm, cycle: Cycle | None, catalogue: list[Competency]) -> None:
    """The saved cycle on the form; for a new one, the first quarter from this one on that has
    no cycle yet, with deadlines after it."""
    if cycle is None:
        period = suggested_period()
        form.period.data = period.label
        for f, days in zip(form.due_fields(), DEFAULT_DUE_DAYS, strict=True):
            f.data = period.end + timedelta(days=days)
        form.quant_weight.data = 0.5
        form.competencies.data = [c.id for c in catalogue if c.active]
        bands = DEFAULT_BANDS
    else:
        form.name.data, form.period.data = cycle.name, cycle.period_label
        for f, due in zip(form.due_fields(), (cycle.self_due, cycle.manager_due,
                                              cycle.calibration_due, cycle.acknowledgement_due),
                          strict=True):
            f.data = due
        form.quant_weight.data = cycle.quant_weight
        form.teams.data = [t.id for t in cycle.teams]
        form.people.data = [p.id for p in cycle.people]
        form.competencies.data = [c.competency_id for c in cycle.competencies]
        bands = cycle.bands
    form.fill_peer_settings(settings_of(cycle) if cycle else PeerSettings())
    for f, value in zip(form.band_fields(), bands, strict=True):
        percent = round(value * 100, 4)
        f.data = int(percent) if percent.is_integer() else percent


def band_mapping(form: CycleForm) -> list[tuple[int, str]] | None:
    """The 1–5 score each attainment range gets, from the bands on the form (if readable)."""
    try:
        return band_ranges([f.data / 100 for f in form.band_fields()])
    except (TypeError, ValueError):
        return None
