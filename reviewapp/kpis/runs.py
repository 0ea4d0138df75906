"""Running a KPI validation: check the request, load the panel, analyse, store, move statuses."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field

import pandas as pd
import sqlalchemy as sa

from reviewapp import policy
from reviewapp.analytics import ValidationParams, ValidationResult, validate
from reviewapp.audit.services import record
from reviewapp.auth.models import Role, Team, User
from reviewapp.auth.scope import subordinate_ids
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.kpis.charts import chart_points
from reviewapp.kpis.models import RunScope, ValidationCandidate, ValidationRun
from reviewapp.kpis.panel import LoadedPanel, check_window, load_panel, panel_fingerprint
from reviewapp.kpis.settings import primary_outcome_key
from reviewapp.kpis.status import change_status, next_status
from reviewapp.metrics.models import KpiStatus, Metric, MetricKind
from reviewapp.metrics.periods import Grain, Period

MAX_CANDIDATES = 30


@dataclass(frozen=True)
class Scope:
    """Whose reps a run covers: everyone, one team, or everyone below a manager."""

    kind: RunScope = RunScope.ORGANISATION
    team: Team | None = None
    manager: User | None = None

    @property
    def label(self) -> str:
        if self.kind == RunScope.TEAM and self.team is not None:
            return f"Team {self.team.name}"
        if self.kind == RunScope.MANAGER and self.manager is not None:
            return f"Reps below {self.manager.name}"
        return "Whole organisation"

    def rep_ids(self) -> Collection[int] | None:
        """Ids to restrict the panel to (the loader keeps only role rep), or None for all."""
        if self.kind == RunScope.TEAM:
            return list(db.session.scalars(sa.select(User.id).where(
                User.team_id == self.team.id, User.role == Role.REP)))
        if self.kind == RunScope.MANAGER:
            return subordinate_ids(self.manager.id)
        return None


@dataclass
class RunOutcome:
    """What a run produced; `run` is None for a dry run."""

    result: ValidationResult
    run: ValidationRun | None
    panel: LoadedPanel
    fingerprint: str
    counts_for_status: bool
    status_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def resolve_metrics(outcome_key: str, candidate_keys: Sequence[str]) -> tuple[Metric,
                                                                               list[Metric]]:
    """The outcome and candidate metrics, or a ServiceError naming the field at fault."""
    keys = [k.strip().lower() for k in candidate_keys if k and k.strip()]
    wanted = {(outcome_key or "").strip().lower(), *keys}
    found = {m.key: m for m in db.session.scalars(sa.select(Metric).where(Metric.key.in_(wanted)))}
    outcome = found.get((outcome_key or "").strip().lower())
    if outcome is None or outcome.kind != MetricKind.OUTCOME or outcome.archived:
        raise ServiceError(f"'{outcome_key}' is not an outcome metric in use.", field="outcome")
    if not keys:
        raise ServiceError("Choose at least one candidate metric.", field="candidates")
    if len(keys) > MAX_CANDIDATES:
        raise ServiceError(f"Choose at most {MAX_CANDIDATES} candidates.", field="candidates")
    if len(set(keys)) != len(keys):
        raise ServiceError("A candidate is listed twice.", field="candidates")
    candidates = []
    for key in keys:
        metric = found.get(key)
        if metric is None:
            raise ServiceError(f"There is no metric '{key}'.", field="candidates")
        if metric.kind != MetricKind.ACTIVITY:
            raise ServiceError(f"{metric.name} is an outcome, not an activity metric.",
                               field="candidates")
        if metric.archived or metric.kpi_status == KpiStatus.RETIRED:
            raise ServiceError(f"{metric.name} is archived or retired.", field="candidates")
        candidates.append(metric)
    return outcome, candidates


def run_validation(
    actor: User | None,
    outcome_key: str,
    candidate_keys: Sequence[str],
    *,
    grain: Grain | str = Grain.QUARTER,
    lag: int = 0,
    window: int | None = None,
    scope: Scope | None = None,
    source: str = "web",
    dry_run: bool = False,
) -> RunOutcome:
    """Validate candidates against an outcome; store the run unless dry; flush, never commit.

    Only an organisation-wide run against the primary outcome moves KPI statuses.
    """
    clock = time.perf_counter
    started = clock()
    scope = scope or Scope()
    if (scope.kind == RunScope.ORGANISATION and actor is not None
            and not policy.can_run_org_validation(actor)):
        raise ServiceError("Only HR runs organisation-wide validations; run it on your team.",
                           field="scope")
    try:
        grain = Grain(grain)
    except ValueError:
        raise ServiceError("Choose quarter or month.", field="grain") from None
    if grain not in (Grain.QUARTER, Grain.MONTH):
        raise ServiceError("Choose quarter or month.", field="grain")
    if lag not in (0, 1):
        raise ServiceError("The lag is 0 or 1 period.", field="lag")
    window = check_window(grain, window)
    outcome, candidates = resolve_metrics(outcome_key, candidate_keys)
    primary = primary_outcome_key()
    counts = scope.kind == RunScope.ORGANISATION and outcome.key == primary and not dry_run

    panel = load_panel(outcome, candidates, grain, window, scope.rep_ids())
    loaded = clock()
    digest = panel_fingerprint(panel.frame)
    hashed = clock()
    params = ValidationParams(lag=lag)
    everyone = [outcome, *candidates]
    result = validate(
        panel.frame, outcome.key, [m.key for m in candidates],
        {m.key: m.direction.value for m in candidates}, params,
        names={m.key: in_sentence(m.name) for m in everyone},
        units={m.key: m.unit if m is outcome else singular(m.unit) for m in everyone},
        grain=grain.value)
    analysed = clock()
    outcome_run = RunOutcome(result, None, panel, digest, counts)
    if not dry_run:
        charts = chart_points(panel.frame, outcome.key, [m.key for m in candidates], lag)
        outcome_run.run = _store(actor, source, scope, outcome, candidates, primary, counts,
                                 panel, window, digest, result, charts, outcome_run)
    stored = clock()
    outcome_run.timings = {"load": loaded - started, "fingerprint": hashed - loaded,
                           "analysis": analysed - hashed, "charts_and_store": stored - analysed,
                           "total": stored - started}
    return outcome_run


def _store(actor, source, scope: Scope, outcome: Metric, candidates: list[Metric],
           primary: str, counts: bool, panel: LoadedPanel, window: int, digest: str,
           result: ValidationResult, charts: dict, outcome_run: RunOutcome) -> ValidationRun:
    """Write the run and its candidate rows (bulk), then move statuses if the run counts."""
    by_key = {c.key: c for c in result.candidates}
    new_status = {}
    if counts:
        new_status = {m.key: next_status(m.kpi_status, by_key[m.key].decision)
                      for m in candidates}
    run = ValidationRun(
        created_by_id=actor.id if actor is not None else None, source=source,
        scope=scope.kind, team_id=scope.team.id if scope.team else None,
        scope_manager_id=scope.manager.id if scope.manager else None,
        scope_label=scope.label, counts_for_status=counts,
        outcome_metric_id=outcome.id, outcome_key=outcome.key, primary_outcome_key=primary,
        candidate_keys=[m.key for m in candidates], grain=panel.grain.value,
        lag=result.params.lag, window_periods=window, window_start=panel.window_start,
        window_end=panel.window_end, params=asdict(result.params), fingerprint=digest,
        versions=result.versions, n_reps=result.n_reps, n_obs=result.n_obs,
        n_periods=result.n_periods, df_resid=result.df_resid, oos_r2_full=result.oos_r2_full,
        oos_n_obs=result.oos_n_obs,
        holdout_periods=[_period_label(panel.grain, p) for p in result.holdout_periods],
        insufficient_reason=result.insufficient_reason,
        decisions={c.key: c.decision for c in result.candidates},
        status_changes={m.key: [m.kpi_status.value, new_status[m.key].value]
                        for m in candidates if counts and new_status[m.key] != m.kpi_status},
        teachable_moments=[{"rep_id": int(e.rep), "score": round(e.score, 4), "n_obs": e.n_obs}
                           for e in result.teachable_moments],
        coaching=[{"rep_id": int(e.rep), "score": round(e.score, 4), "metrics": e.metrics}
                  for e in result.coaching],
        deviance_predictors=list(result.deviance_predictors),
        deviance_note=result.deviance_note,
    )
    db.session.add(run)
    db.session.flush()
    rows = []
    for position, metric in enumerate(candidates):
        c = by_key[metric.key]
        rows.append({
            "run_id": run.id, "metric_id": metric.id, "metric_key": metric.key,
            "metric_name": metric.name, "position": position, "direction": c.direction,
            "decision": c.decision, "reason": c.reason, "sentence": sentence_case(c.sentence),
            "n_reps": c.n_reps, "n_obs": c.n_obs, "coef": c.coef,
            "se_classical": c.se_classical, "se_cluster": c.se_cluster, "t": c.t, "p": c.p,
            "q": c.q, "ci_low": c.ci_low, "ci_high": c.ci_high,
            "std_effect": c.standardised_effect, "partial_r2": c.partial_r2,
            "pooled_corr": c.pooled_corr, "within_corr": c.within_corr,
            "within_sd": c.within_sd, "oos_gain": c.oos_gain, "trap": c.trap,
            "trap_note": c.trap_note,
            "status_before": metric.kpi_status.value if counts else None,
            "status_after": new_status[metric.key].value if counts else None,
            "chart": charts.get(metric.key),
        })
    db.session.execute(sa.insert(ValidationCandidate), rows)
    record(actor, "kpi.validation_run", "validation_run", run.id, after={
        "outcome": outcome.key, "scope": scope.label, "counts_for_status": counts,
        "decisions": run.decisions})
    for metric in candidates:
        if counts and new_status[metric.key] != metric.kpi_status:
            outcome_run.status_changes[metric.key] = (metric.kpi_status.value,
                                                      new_status[metric.key].value)
            change_status(actor, metric, new_status[metric.key], run_id=run.id,
                          reason=f"Validation run #{run.id}: {by_key[metric.key].reason}")
    db.session.flush()
    return run


def in_sentence(name: str) -> str:
    """A display name as it reads mid-sentence ("Calls per day" -> "calls per day"; "NPS" stays)."""
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def singular(unit: str) -> str:
    """"meetings" -> "meeting", "calls/day" -> "call/day": the sentences say "one more <unit>"."""
    head, sep, tail = (unit or "").partition("/")
    words = head.split(" ")
    last = words[-1]
    if len(last) > 3 and last.endswith("s") and not last.endswith("ss"):
        words[-1] = last[:-1]
    return " ".join(words) + sep + tail


def sentence_case(text: str) -> str:
    """First letter upper-case (names are lower-cased for mid-sentence use)."""
    return text[:1].upper() + text[1:]


def _period_label(grain: Grain, start) -> str:
    return Period(grain, pd.Timestamp(start).date()).label
