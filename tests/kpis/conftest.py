"""KPI fixtures: the small org plus a team of 14 more reps with 8 quarters of sales data."""

from types import SimpleNamespace

import pytest

from reviewapp.auth.models import Role
from tests.factories import create_user
from tests.kpis.data import insert_sales


@pytest.fixture
def sales(org):
    """org + 15 reps in team Alpha under lead (18 reps there), one a star; data for all reps."""
    extra = [create_user(Role.REP, name=f"Sam Seller {i:02d}", manager=org.lead, team=org.team)
             for i in range(14)]
    star = create_user(Role.REP, name="Priya Star", manager=org.lead, team=org.team)
    reps = [org.rep, org.rep2, org.boss_rep, org.outsider, *extra, star]
    metrics = insert_sales([r.id for r in reps], star=star.id)
    return SimpleNamespace(org=org, reps=reps, star=star, metrics=metrics)
