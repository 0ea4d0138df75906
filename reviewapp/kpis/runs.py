"""Running a KPI validation: check the request, load the panel, analyse, store, move statuses."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from reviewapp import policy
from reviewapp.analytics import TwoEnds, ValidationParams, ValidationResult, validate_two_ends
from reviewapp.analytics.wording import confirmation_note
from reviewapp.audit.services import record
from reviewapp.auth.models import Role, Team, User
from reviewapp.auth.scope import subordinate_ids
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.kpis.charts import chart_points
from reviewapp.kpis.models import RunScope, ValidationCandidate, ValidationRun
from reviewapp.kpis.panel import (
    MAX_WINDOW,
    LoadedPanel,
    check_window,
    default_window,
    load_panel,
    panel_fingerprint,
)
from reviewapp.kpis.queries import lab_candidates
from reviewapp.kpis.settings import primary_outcome_key
from reviewapp.kpis.status import change_status, next_status, under_review_since
from reviewapp.kpis.validation_policy import CurrentPolicy, Spec, current_policy
from reviewapp.lazy import pd
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
    """What a run produced (a dry run is kept too, as an exploratory run)."""

    result: ValidationResult
    run: ValidationRun | None
    panel: LoadedPanel
    fingerprint: str
    counts_for_status: bool
    verdicts: dict[str, str] = field(default_factory=dict)
    previous_decisions: dict[str, str] = field(default_factory=dict)
    exploratory_reason: str | None = None
    status_changes: dict[str, tuple[str, str]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def resolve_metrics(outcome_key: str, candidate_keys: Sequence[str] | None) -> tuple[
        Metric, list[Metric]]:
    """The outcome and candidate metrics, or a ServiceError naming the field at fault.

    No candidate keys: every active candidate (not archived, not retired).
    """
    if candidate_keys is None:
        candidate_keys = [m.key for m in lab_candidates()]
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


def exploratory_reasons(scope: Scope, outcome: Metric, primary: str, spec: Spec, policy: Spec,
                        candidates: Sequence[Metric], dry_run: bool) -> list[str]:
    """Why a run does not count for KPI status (empty: it is a policy run)."""
    reasons = []
    if dry_run:
        reasons.append("it is a dry run")
    if scope.kind != RunScope.ORGANISATION:
        # "team North", "reps below Marcus Cole": only the label's first word is lower-cased.
        label = scope.label[:1].lower() + scope.label[1:]
        reasons.append(f"it covers {label}, not the whole organisation")
    if outcome.key != primary:
        reasons.append(f"its outcome is not the primary outcome ({primary})")
    diff = policy.differences(spec)
    if diff:
        reasons.append("it departs from the validation policy: " + ", ".join(diff))
    active = {m.key for m in lab_candidates()}
    chosen = {m.key for m in candidates}
    if chosen != active:
        reasons.append(f"it tests {len(chosen & active)} of the {len(active)} active "
                       "candidates (a policy run tests all, so the correction for testing "
                       "several cannot be gamed)")
    return reasons


def run_validation(
    actor: User | None,
    outcome_key: str | None = None,
    candidate_keys: Sequence[str] | None = None,
    *,
    grain: Grain | str | None = None,
    lag: int | None = None,
    window: int | None = None,
    period_effects: bool | None = None,
    scope: Scope | None = None,
    source: str = "web",
    dry_run: bool = False,
) -> RunOutcome:
    """Validate candidates against an outcome and store the run; flush, never commit.

    Unset settings come from HR's validation policy; the outcome defaults to the primary one
    and the candidates to every active candidate. Only a policy run moves KPI statuses; every
    other run, dry runs included, is kept and counted as exploratory.
    """
    clock = time.perf_counter
    started = clock()
    scope = scope or Scope()
    if (scope.kind == RunScope.ORGANISATION and actor is not None
            and not policy.can_run_org_validation(actor)):
        raise ServiceError("Only HR runs organisation-wide validations; run it on your team.",
                           field="scope")
    current = current_policy()
    base = current.spec
    try:
        grain = Grain(grain if grain is not None else base.grain)
    except ValueError:
        raise ServiceError("Choose quarter or month.", field="grain") from None
    if grain not in (Grain.QUARTER, Grain.MONTH):
        raise ServiceError("Choose quarter or month.", field="grain")
    lag = base.lag if lag is None else lag
    if lag not in (0, 1):
        raise ServiceError("The lag is 0 or 1 period.", field="lag")
    if window is None:
        window = base.window if grain.value == base.grain else default_window(grain)
    window = check_window(grain, window)
    effects = base.period_effects if period_effects is None else bool(period_effects)
    spec = Spec(grain.value, lag, window, effects, base.alpha, base.margin)
    primary = primary_outcome_key()
    outcome, candidates = resolve_metrics(outcome_key or primary, candidate_keys)
    reasons = exploratory_reasons(scope, outcome, primary, spec, base, candidates, dry_run)
    counts = not reasons

    # One period more than the window: the confirmation rule also judges the window ending
    # one period earlier; and with a lag one more, for the activity its first period lags.
    panel = load_panel(outcome, candidates, grain, min(window + 1 + lag, MAX_WINDOW[grain]),
                       scope.rep_ids())
    loaded = clock()
    digest = panel_fingerprint(panel.frame)
    hashed = clock()
    params = ValidationParams(lag=lag, period_effects=effects, alpha=base.alpha,
                              margin=base.margin, seed=int(digest[:8], 16))
    everyone = [outcome, *candidates]
    ends = validate_two_ends(
        panel.frame, outcome.key, [m.key for m in candidates],
        {m.key: m.direction.value for m in candidates}, params, window=window,
        grain=grain.value, names={m.key: in_sentence(m.name) for m in everyone},
        units={m.key: m.unit if m is outcome else singular(m.unit) for m in everyone},
        # A copy of a KPI added later must not take its place: the KPIs keep theirs.
        prefer=[m.key for m in candidates
                if m.kpi_status in (KpiStatus.KPI, KpiStatus.UNDER_REVIEW)])
    analysed = clock()
    outcome_run = RunOutcome(ends.latest, None, panel, digest, counts, dict(ends.verdicts),
                             dict(ends.previous_decisions), "; ".join(reasons) or None)
    latest_frame = _latest_window(panel, window + lag)
    charts = chart_points(latest_frame, outcome.key, [m.key for m in candidates], lag,
                          period_effects=effects)
    outcome_run.run = _store(actor, source, scope, outcome, candidates, primary, panel, window,
                             digest, ends, charts, outcome_run, current, effects, dry_run)
    stored = clock()
    outcome_run.timings = {"load": loaded - started, "fingerprint": hashed - loaded,
                           "analysis": analysed - hashed, "charts_and_store": stored - analysed,
                           "total": stored - started}
    return outcome_run


def _latest_window(panel: LoadedPanel, window: int) -> pd.DataFrame:
    periods = panel.periods[-window:]
    if not periods:
        return panel.frame
    return panel.frame[panel.frame["period"] >= pd.Timestamp(periods[0].start)]


def _store(actor, source, scope: Scope, outcome: Metric, candidates: list[Metric],
           primary: str, panel: LoadedPanel, window: int, digest: str, ends: TwoEnds,
           charts: dict, outcome_run: RunOutcome, current: CurrentPolicy, effects: bool,
           dry_run: bool) -> ValidationRun:
    """Write the run and its candidate rows (bulk), then move statuses if the run counts."""
    result = ends.latest
    counts = outcome_run.counts_for_status
    by_key = {c.key: c for c in result.candidates}
    verdicts = ends.verdicts
    new_status = {}
    if counts:
        since = under_review_since(candidates)  # the same period end again confirms nothing
        new_status = {m.key: next_status(
            m.kpi_status, verdicts[m.key],
            new_evidence=since.get(m.key) is None or panel.window_end > since[m.key])
            for m in candidates}
    periods = panel.periods[-window:]
    run = ValidationRun(
        created_by_id=actor.id if actor is not None else None, source=source,
        scope=scope.kind, team_id=scope.team.id if scope.team else None,
        scope_manager_id=scope.manager.id if scope.manager else None,
        scope_label=scope.label, counts_for_status=counts, policy_id=current.id,
        exploratory_reason=outcome_run.exploratory_reason, dry_run=dry_run,
        period_effects=effects, inference=result.inference, n_reps_once=result.n_reps_once,
        previous_end=(pd.Timestamp(ends.previous_end).date()
                      if ends.previous_end is not None else None),
        outcome_metric_id=outcome.id, outcome_key=outcome.key, primary_outcome_key=primary,
        candidate_keys=[m.key for m in candidates], grain=panel.grain.value,
        lag=result.params.lag, window_periods=window,
        window_start=periods[0].start if periods else panel.window_start,
        window_end=panel.window_end, params=asdict(result.params), fingerprint=digest,
        versions=result.versions, n_reps=result.n_reps, n_obs=result.n_obs,
        n_periods=result.n_periods, df_resid=result.df_resid, oos_r2_full=result.oos_r2_full,
        oos_n_obs=result.oos_n_obs,
        holdout_periods=[_period_label(panel.grain, p) for p in result.holdout_periods],
        insufficient_reason=result.insufficient_reason,
        decisions={c.key: c.decision for c in result.candidates},
        status_changes={m.key: [m.kpi_status.value, new_status[m.key].value]
                        for m in candidates if counts and new_status[m.key] != m.kpi_status},
        teachable_moments=[{"rep_id": int(e.rep), "score": round(e.score, 4), "n_obs": e.n_obs,
                            "reliability": round(e.reliability, 3)}
                           for e in result.teachable_moments],
        coaching=[{"rep_id": int(e.rep), "score": round(e.score, 4), "metrics": e.metrics}
                  for e in result.coaching],
        deviance_predictors=list(result.deviance_predictors),
        deviance_note=result.deviance_note,
    )
    db.session.add(run)
    db.session.flush()
    rows = []
    grain = panel.grain.value
    for position, metric in enumerate(candidates):
        c = by_key[metric.key]
        verdict = verdicts[metric.key]
        rows.append({
            "run_id": run.id, "metric_id": metric.id, "metric_key": metric.key,
            "metric_name": metric.name, "position": position, "direction": c.direction,
            "decision": c.decision, "reason": c.reason, "sentence": sentence_case(c.sentence),
            "plain": sentence_case(c.plain) + confirmation_note(verdict, grain),
            "verdict": verdict, "previous_decision": ends.previous_decisions.get(metric.key),
            "n_reps": c.n_reps, "n_obs": c.n_obs, "coef": c.coef,
            "se_classical": c.se_classical, "se_cluster": c.se_cluster, "t": c.t, "p": c.p,
            "q": c.q, "ci_low": c.ci_low, "ci_high": c.ci_high,
            "std_effect": c.standardised_effect, "std_ci_low": c.std_ci_low,
            "std_ci_high": c.std_ci_high, "mde": c.mde, "lead_coef": c.lead_coef,
            "lead_q": c.lead_q, "placebo_flag": c.placebo_flag, "partial_r2": c.partial_r2,
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
        "dry_run": dry_run, "decisions": run.decisions, "verdicts": dict(verdicts)})
    for metric in candidates:
        if counts and new_status[metric.key] != metric.kpi_status:
            outcome_run.status_changes[metric.key] = (metric.kpi_status.value,
                                                      new_status[metric.key].value)
            why = by_key[metric.key].reason
            if verdicts[metric.key] == "provisional":
                why = "passed at the latest period end only (provisional)"
            change_status(actor, metric, new_status[metric.key], run_id=run.id,
                          reason=f"Validation run #{run.id}: {why}")
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
