"""The organisation's validation policy: the specification fixed in advance by HR.

Trying lag 0 and 1 and windows of 4 to 8 quarters until something passes raises the false-KPI
rate several times over. So HR fixes one specification (grain, lag, window, period effects,
alpha, margin) before looking; only runs under it move KPI statuses. Every change is a new,
never edited row with who, when and why: the history is the audit.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.kpis.models import ValidationPolicy
from reviewapp.metrics.periods import Grain

MAX_WINDOW = {"quarter": 40, "month": 120}


@dataclass(frozen=True)
class Spec:
    """The settings a run is judged by (a policy's, or an exploratory run's own)."""

    grain: str = "quarter"
    lag: int = 0
    window: int = 8
    period_effects: bool = True
    alpha: float = 0.05
    margin: float = 0.1

    def differences(self, other: Spec) -> list[str]:
        """What `other` does differently from this spec, in words ("lag 1 instead of 0")."""
        out = []
        for name, label in (("grain", "grain"), ("lag", "lag"), ("window", "window"),
                            ("period_effects", "period effects"), ("alpha", "alpha"),
                            ("margin", "margin")):
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                out.append(f"{label} {_show(theirs)} instead of {_show(mine)}")
        return out


def _show(value) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


DEFAULT = Spec()


@dataclass(frozen=True)
class CurrentPolicy:
    """The policy in force: its spec and the row it comes from (None: the default)."""

    spec: Spec
    row: ValidationPolicy | None

    @property
    def id(self) -> int | None:
        return self.row.id if self.row is not None else None


def spec_of(row: ValidationPolicy) -> Spec:
    return Spec(row.grain, row.lag, row.window_periods, row.period_effects, row.alpha,
                row.margin)


def current_policy() -> CurrentPolicy:
    """The latest policy HR set, or the default one if HR never set one."""
    row = db.session.scalar(sa.select(ValidationPolicy).order_by(ValidationPolicy.id.desc())
                            .limit(1))
    return CurrentPolicy(spec_of(row) if row is not None else DEFAULT, row)


def policy_history() -> list[ValidationPolicy]:
    """Every policy HR set, newest first."""
    return list(db.session.scalars(sa.select(ValidationPolicy)
                                   .order_by(ValidationPolicy.id.desc())))


# The placebo needs a following period for each of its 4 (ValidationParams.min_periods): with
# 4 periods, no policy run could ever make a KPI.
MIN_WINDOW = 5


def check_spec(grain: str, lag: int, window: int, period_effects: bool, alpha: float,
               margin: float) -> Spec:
    """A spec from form or command-line values, or a ServiceError naming the field at fault."""
    try:
        grain = Grain(grain).value
    except ValueError:
        raise ServiceError("Choose quarter or month.", field="grain") from None
    if grain not in MAX_WINDOW:
        raise ServiceError("Choose quarter or month.", field="grain")
    if lag not in (0, 1):
        raise ServiceError("The lag is 0 or 1 period.", field="lag")
    if window is None or not MIN_WINDOW <= window <= MAX_WINDOW[grain]:
        raise ServiceError(f"Choose a window of {MIN_WINDOW} to {MAX_WINDOW[grain]} {grain}s: "
                           f"a KPI needs {MIN_WINDOW - 1} {grain}s whose next one shows that "
                           "activity leads results rather than following them.",
                           field="window")
    if alpha is None or not 0.001 <= alpha <= 0.2:
        raise ServiceError("Alpha is between 0.001 and 0.2 (usually 0.05).", field="alpha")
    if margin is None or not 0.01 <= margin <= 1.0:
        raise ServiceError("The margin is a standardised effect between 0.01 and 1 "
                           "(0.1 is a small effect).", field="margin")
    return Spec(grain, int(lag), int(window), bool(period_effects), float(alpha),
                float(margin))


def set_policy(actor: User | None, spec: Spec, reason: str) -> ValidationPolicy | None:
    """HR fixes a new policy (audited, kept in the history). None if nothing changes."""
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ServiceError("Say in at least 10 characters why the policy changes.",
                           field="reason")
    # Checked here too, whoever built the spec: the form and the CLI check it, a caller may not.
    spec = check_spec(spec.grain, spec.lag, spec.window, spec.period_effects, spec.alpha,
                      spec.margin)
    before = current_policy()
    if before.row is not None and before.spec == spec:
        return None
    row = ValidationPolicy(
        created_by_id=actor.id if actor is not None else None, grain=spec.grain, lag=spec.lag,
        window_periods=spec.window, period_effects=spec.period_effects, alpha=spec.alpha,
        margin=spec.margin, reason=reason)
    db.session.add(row)
    db.session.flush()
    record(actor, "kpi.validation_policy", "validation_policy", row.id,
           before=_as_dict(before.spec), after=_as_dict(spec), reason=reason)
    return row


def _as_dict(spec: Spec) -> dict:
    return {"grain": spec.grain, "lag": spec.lag, "window": spec.window,
            "period_effects": spec.period_effects, "alpha": spec.alpha, "margin": spec.margin}
