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
    if policy.can_view_people_list(user):
        items.append(NavItem("People", url_for("dashboard.people"), "dashboard.people"))
    if policy.can_manage_users(user):
        items.append(NavItem("Users", url_for("admin.users"), "admin.user"))
        items.append(NavItem("Teams", url_for("admin.teams"), "admin.team"))
    return items
