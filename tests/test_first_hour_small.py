"""Small things a new customer meets in the first hour: Add a user starts at rep, a person's
page links their reviews, metrics, goals and KPIs, the import preview writes a month as 2026-03."""

import re

from reviewapp.extensions import db
from tests.metrics.conftest import corpus_org  # noqa: F401  (fixture)
from tests.metrics.test_import_web import csv_bytes, upload
from tests.reviews.conftest import launched, validated  # noqa: F401  (fixtures)
from tests.reviews.test_workflow import submit_self


def test_add_a_user_starts_at_rep(client, org, login_as):
    login_as(org.hr)
    page = client.get("/admin/users/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="role".*?</select>', page, re.S).group(0)
    assert re.search(r'<option selected value="rep">|<option value="rep" selected>', select)


def test_a_person_page_links_what_the_viewer_may_see(client, launched, login_as, db):  # noqa: F811
    org, review = launched.org, launched.review
    submit_self(client, login_as, review)
    login_as(org.lead)
    page = client.get(f"/people/{org.rep.id}").get_data(as_text=True)
    links = re.search(r'data-testid="person-links".*?</section>', page, re.S).group(0)
    assert f'/reviews/{review.id}"' in links
    assert "Metrics</a>" in links
    assert "Goals</a>" in links and "KPIs and why they count</a>" in links


def test_import_preview_writes_a_month_as_people_do(client, corpus_org, login_as):  # noqa: F811
    login_as(corpus_org.lead)
    preview = upload(client, csv_bytes(["cara@example.com,2026-03,revenue,1000.5"]), "m.csv")
    page = client.get(preview).get_data(as_text=True)
    assert "<td>2026-03</td>" in page and "month 2026-03-01" not in page


def _suggested(client) -> str:
    page = client.get("/cycles/new").get_data(as_text=True)
    return re.search(r'<input[^>]*name="period"[^>]*value="([^"]*)"', page).group(1)


def test_new_cycle_suggests_the_first_quarter_without_a_cycle(client, org, login_as, db):
    from reviewapp.cycles.services import CycleDraft, save_cycle
    from reviewapp.metrics.periods import current_quarter
    login_as(org.hr)
    now = current_quarter()
    assert _suggested(client) == now.label  # this quarter has no cycle yet
    for period in (now, now.next()):
        start = period.end
        save_cycle(org.hr, None, CycleDraft(
            name=f"{period.label} reviews", period=period.label, self_due=start,
            manager_due=start, calibration_due=start, acknowledgement_due=start,
            quant_weight=0.5, team_ids=[org.team.id], person_ids=[], competency_ids=[],
            kpis=[]))
    db.session.commit()
    assert _suggested(client) == now.shift(2).label


def test_more_than_ten_notifications_are_counted_and_read_ten_at_a_time(client, org, login_as):
    """The badge stopped at 10 (35 were unread), older ones could not be reached, and 'Mark all
    as read' cleared the 25 never shown."""
    from reviewapp.notifications.services import notify, unread_count

    for i in range(25):
        notify(org.lead.id, f"Notice number {i:02d}")
    db.session.commit()
    login_as(org.lead)
    page = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="unread-count">25<' in page
    assert "The 10 newest of 25 unread: 15 older ones come next" in page
    assert "Notice number 24" in page and "Notice number 14" not in page
    client.post("/notifications/read", data={
        "first": re.search(r'name="first" value="(\d+)"', page).group(1),
        "last": re.search(r'name="last" value="(\d+)"', page).group(1)})
    assert unread_count(org.lead) == 15
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Notice number 14" in page and "Notice number 15" not in page
