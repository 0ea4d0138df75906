"""HR's catalogue for cycles: the competencies with their anchors, and the weight bounds."""

from __future__ import annotations

import sqlalchemy as sa

from reviewapp import policy
from reviewapp.audit.services import record
from reviewapp.auth.models import User
from reviewapp.cycles.models import Competency
from reviewapp.errors import NotAllowed, ServiceError
from reviewapp.extensions import db
from reviewapp.kpis.models import OrgSetting
from reviewapp.kpis.settings import get_setting

WEIGHT_MIN_KEY, WEIGHT_MAX_KEY = "reviews.quant_weight_min", "reviews.quant_weight_max"


def require_cycle_manager(actor: User | None) -> None:
    """Cycle services refuse anyone but HR themselves (the CLI and tests call them too)."""
    if actor is None or not policy.can_manage_cycles(actor):
        raise NotAllowed("Only HR can change review cycles and their catalogue.")


DEFAULT_COMPETENCIES = [
    ("Relationships", "Builds trust with customers and colleagues over time.", [
        "Contacts are transactional; customers rarely come back to them.",
        "Keeps some relationships warm but mostly when a deal is open.",
        "Maintains good working relationships with most accounts.",
        "Customers ask for them by name; relationships survive setbacks.",
        "Trusted adviser to key accounts; opens doors for the whole team."]),
    ("Adaptability", "Adjusts approach when markets, customers or plans change.", [
        "Sticks to the script even when it clearly is not working.",
        "Adapts when told to, slowly.",
        "Adjusts the approach when a customer or market changes.",
        "Anticipates change and adjusts before being asked.",
        "Turns change into opportunity and shows others how."]),
    ("Collaboration", "Works with others to win: shares knowledge, hands off cleanly.", [
        "Works alone; hoards leads and information.",
        "Helps when asked, rarely offers.",
        "Shares information and helps colleagues as a matter of course.",
        "Actively pairs on deals and improves team processes.",
        "Raises the whole team's results; others seek their help."]),
    ("Customer satisfaction", "Customers are better off for having worked with them.", [
        "Frequent complaints; promises not kept.",
        "Customers are satisfied with the basics.",
        "Customers are satisfied and would buy again.",
        "Customers recommend them; issues are resolved before escalation.",
        "Customers are advocates; renewal and referral rates stand out."]),
    ("Learning", "Grows skills and product knowledge; learns from wins and losses.", [
        "Repeats the same mistakes; avoids feedback.",
        "Learns when training is scheduled.",
        "Seeks feedback and applies it.",
        "Learns from every deal and shares the lessons.",
        "Teaches others; brings new practices into the team."]),
]


def competency_catalogue() -> list[Competency]:
    """Every competency, in HR's order (read-only)."""
    return list(db.session.scalars(sa.select(Competency).order_by(Competency.position)))


def ensure_default_competencies() -> list[Competency]:
    """Create the five default competencies when the catalogue is empty (on a POST or in the
    CLI: a page view never writes)."""
    existing = competency_catalogue()
    if existing:
        return existing
    for position, (name, description, anchors) in enumerate(DEFAULT_COMPETENCIES):
        db.session.add(Competency(name=name, description=description, anchors=anchors,
                                  position=position))
    db.session.flush()
    return competency_catalogue()


def add_default_competencies(actor: User) -> list[Competency]:
    """HR starts an empty catalogue with the five standard competencies (audited)."""
    require_cycle_manager(actor)
    if competency_catalogue():
        raise ServiceError("The catalogue already has competencies.")
    created = ensure_default_competencies()
    record(actor, "competency.defaults", "competency", None,
           after={"names": [c.name for c in created]})
    return created


def save_competency(actor: User, competency: Competency | None, *, name: str, description: str,
                    anchors: list[str], active: bool = True) -> Competency:
    """Create or edit a competency; every level needs an anchor."""
    require_cycle_manager(actor)
    name = (name or "").strip()
    if not name:
        raise ServiceError("Enter a name.", field="name")
    clash = sa.select(Competency.id).where(sa.func.lower(Competency.name) == name.lower())
    if competency is not None:
        clash = clash.where(Competency.id != competency.id)
    if db.session.scalar(clash) is not None:
        raise ServiceError(f"A competency called {name} already exists.", field="name")
    anchors = [(a or "").strip() for a in anchors]
    for level, text in enumerate(anchors, start=1):
        if not text:
            raise ServiceError(f"Describe what level {level} looks like.",
                               field=f"anchor_{level}")
    created = competency is None
    if created:
        position = db.session.scalar(sa.select(sa.func.count()).select_from(Competency))
        competency = Competency(position=position)
        db.session.add(competency)
    before = None if created else {"name": competency.name, "anchors": competency.anchors,
                                   "active": competency.active}
    competency.name, competency.description = name, (description or "").strip()
    competency.anchors, competency.active = anchors, active
    db.session.flush()
    record(actor, "competency.create" if created else "competency.update", "competency",
           competency.id, before=before,
           after={"name": name, "anchors": anchors, "active": active})
    return competency


def weight_bounds() -> tuple[float, float]:
    """HR's bounds for a cycle's quantitative weight (default 0.3–0.7)."""
    return (float(get_setting(WEIGHT_MIN_KEY, "0.3")), float(get_setting(WEIGHT_MAX_KEY, "0.7")))


def set_weight_bounds(actor: User, low: float, high: float) -> None:
    """Change the bounds (audited); draft cycles outside them cannot launch until fixed."""
    require_cycle_manager(actor)
    if not (0 <= low <= high <= 1):
        raise ServiceError("Bounds must satisfy 0 ≤ minimum ≤ maximum ≤ 1.", field="weight_min")
    before = weight_bounds()
    for key, value in ((WEIGHT_MIN_KEY, low), (WEIGHT_MAX_KEY, high)):
        setting = db.session.get(OrgSetting, key)
        if setting is None:
            db.session.add(OrgSetting(key=key, value=str(value), updated_by_id=actor.id))
        else:
            setting.value, setting.updated_by_id = str(value), actor.id
    db.session.flush()
    record(actor, "settings.weight_bounds", "settings", None,
           before={"min": before[0], "max": before[1]}, after={"min": low, "max": high})


