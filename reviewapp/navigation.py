"""The main navigation, built from what the policy lets the user do."""

from dataclasses import dataclass

from flask import url_for

from reviewapp import policy
from reviewapp.auth.models import User


@dataclass(frozen=True)
class NavItem:
    label: str
    url: str
    prefix: str  # endpoint prefix that marks the item as current


def nav_items(user: User) -> list[NavItem]:
    """Links the user may follow, in menu order."""
    items: list[NavItem] = []
    if policy.is_reviewed(user):
        items.append(NavItem("My review", url_for("reviews.mine"), "reviews."))
        items.append(NavItem("My metrics", url_for("metrics.person", user_id=user.id),
                             "metrics.person"))
    if policy.can_view_goals(user):
        items.append(NavItem("Goals", url_for("goals.index"), "goals."))
    if policy.can_view_team_metrics(user):
        items.append(NavItem("Team metrics", url_for("metrics.team"), "metrics.team"))
    if policy.can_manage_users(user):
        # HR's one list of people is the accounts list: the same people, plus what HR manages.
        items.append(NavItem("People", url_for("admin.users"), "admin.user"))
        items.append(NavItem("Teams", url_for("admin.teams"), "admin.team"))
    elif policy.can_view_people_list(user):
        items.append(NavItem("People", url_for("dashboard.people"), "dashboard.people"))
    items.append(NavItem("Metrics", url_for("metrics.catalogue"), "metrics.catalogue"))
    if policy.can_use_kpi_lab(user):
        items.append(NavItem("KPI lab", url_for("kpis.lab"), "kpis."))
    elif policy.can_view_kpis(user):
        items.append(NavItem("KPIs", url_for("kpis.index"), "kpis.index"))
    if policy.can_view_cycle_overview(user):
        items.append(NavItem("Cycles", url_for("cycles.index"), "cycles."))
    if policy.can_import_metrics(user):
        items.append(NavItem("Import", url_for("metrics.upload"), "metrics.upload"))
    if policy.can_read_outbox(user):
        items.append(NavItem("Outbox", url_for("notifications.outbox"), "notifications.outbox"))
    return items
