"""Reminders and the daily digest.

`send_digests` (the daily `flask reminders send`) gives each person one email with what is due
from them: each deadline they own 7 days before, 1 day before and once it is overdue, each of
those once (the reminders_sent table says which were given), together with the messages they
chose to get in the daily digest. Running it twice sends nothing more.

HR reminds one person, or everyone overdue in a cycle, from the cycle page: one email per
person with their open steps in the cycle, at most once a day per person, audited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from reviewapp import policy
from reviewapp.audit.services import record
from reviewapp.auth.models import Role, User
from reviewapp.cycles.models import Cycle, CycleStatus
from reviewapp.errors import ActionUnavailable, NotAllowed, ServiceError
from reviewapp.extensions import db
from reviewapp.notifications import preferences
from reviewapp.notifications.models import (
    DeliveryMode,
    MailKind,
    OutboxMessage,
    OutboxStatus,
    ReminderSent,
)
from reviewapp.notifications.outbox import Email, absolute, page_path, page_url, render, written
from reviewapp.notifications.services import notify
from reviewapp.reviews.models import Review, ReviewState

WEEK, DAY, OVERDUE, HR_STAGE = "week", "day", "overdue", "hr"


@dataclass(frozen=True)
class Item:
    """One thing due from one person: what, by when, and the page to open."""

    user: User
    key: str  # names the deadline: the same key and due date is the same reminder
    label: str
    due: date
    path: str  # the page to open
    cycle_id: int | None

    @property
    def link(self) -> str:
        return absolute(self.path)

    def days_left(self, today: date) -> int:
        return (self.due - today).days

    def stage(self, today: date) -> str | None:
        left = self.days_left(today)
        if left < 0:
            return OVERDUE
        if left <= 1:
            return DAY
        if left <= 7:
            return WEEK
        return None

    def when(self, today: date) -> str:
        left = self.days_left(today)
        due = self.due.strftime("%-d %b %Y")
        if left < 0:
            return f"overdue since {due}"
        if left == 0:
            return f"due today ({due})"
        if left == 1:
            return f"due tomorrow ({due})"
        return f"due in {left} days ({due})"


def _open_reviews(cycle_id: int | None = None) -> list[Review]:
    query = (sa.select(Review).join(Cycle).where(Cycle.status == CycleStatus.LAUNCHED)
             .options(selectinload(Review.cycle), selectinload(Review.rep),
                      selectinload(Review.manager)).order_by(Review.id))
    if cycle_id is not None:
        query = query.where(Review.cycle_id == cycle_id)
    return list(db.session.scalars(query))


def open_items(cycle_id: int | None = None, today: date | None = None) -> list[Item]:
    """Every deadline someone owns in the launched cycles: the rep's self-assessment and
    acknowledgement, the manager's review, HR's calibration (one item per cycle)."""
    items: list[Item] = []
    calibrating: dict[int, list[Review]] = defaultdict(list)
    for review in _open_reviews(cycle_id):
        deadline = review.deadline
        if deadline is None:
            continue
        cycle, link = review.cycle, page_path("reviews.review", review_id=review.id)
        key = f"review:{review.id}:{review.state.value}:{deadline.due.isoformat()}"
        if review.state in (ReviewState.NOT_STARTED, ReviewState.SELF_REVIEW):
            items.append(Item(review.rep, key, f"Write your self-assessment ({cycle.name})",
                              deadline.due, link, cycle.id))
        elif review.state == ReviewState.SHARED:
            items.append(Item(review.rep, key,
                              f"Read and acknowledge your review ({cycle.name})",
                              deadline.due, link, cycle.id))
        elif review.state == ReviewState.MANAGER_REVIEW and review.manager is not None:
            items.append(Item(review.manager, key, f"Review {review.rep.name} ({cycle.name})",
                              deadline.due, link, cycle.id))
        elif review.state == ReviewState.CALIBRATION:
            calibrating[cycle.id].append(review)
    if calibrating:
        hr = list(db.session.scalars(sa.select(User).where(User.role == Role.HR_ADMIN,
                                                           User.active)))
        for reviews in calibrating.values():
            cycle = reviews[0].cycle
            link = page_path("cycles.calibration", cycle_id=cycle.id)
            key = f"calibration:{cycle.id}:{cycle.calibration_due.isoformat()}"
            for person in hr:
                items.append(Item(person, key, f"Calibrate and share {len(reviews)} reviews "
                                  f"({cycle.name})", cycle.calibration_due, link, cycle.id))
    from reviewapp.peers.tasks import reminder_items  # peer feedback requests to answer

    items += reminder_items(cycle_id, today)  # `today` decides which are still open
    return [i for i in items if i.user.active]


def _given(user_ids: set[int], stages: tuple[str, ...]) -> set[tuple[int, str, str]]:
    if not user_ids:
        return set()
    rows = db.session.execute(sa.select(ReminderSent.user_id, ReminderSent.key,
                                        ReminderSent.stage)
                              .where(ReminderSent.user_id.in_(user_ids),
                                     ReminderSent.stage.in_(stages)))
    return {tuple(r) for r in rows}


def _wants_reminders(user: User, cycle_id: int | None) -> bool:
    return preferences.effective_mode(user, MailKind.DEADLINE_REMINDER, cycle_id) \
        != DeliveryMode.OFF


@dataclass
class DigestRun:
    emails: int = 0
    reminders: int = 0
    held: int = 0


def send_digests(today: date | None = None) -> DigestRun:
    """One digest per person with the reminders due today and the messages held for the daily
    digest; each reminder is given once (flush only: the command commits)."""
    today = today or date.today()
    run = DigestRun()
    due = [(item, stage) for item in open_items(today=today) if (stage := item.stage(today))]
    given = _given({i.user.id for i, _ in due}, (WEEK, DAY, OVERDUE))
    later = {DAY: (OVERDUE,), WEEK: (DAY, OVERDUE), OVERDUE: ()}
    per_user: dict[int, tuple[User, list[tuple[Item, str]], list[OutboxMessage]]] = {}
    for item, stage in due:
        uid = item.user.id
        if (uid, item.key, stage) in given or any((uid, item.key, s) in given
                                                   for s in later[stage]):
            continue
        if not _wants_reminders(item.user, item.cycle_id):
            continue
        per_user.setdefault(uid, (item.user, [], []))[1].append((item, stage))
    held = db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.HELD).options(selectinload(OutboxMessage.user))
        .order_by(OutboxMessage.id))
    for message in held:
        per_user.setdefault(message.user_id, (message.user, [], []))[2].append(message)
    for user, reminders, messages in per_user.values():
        if not user.active or not (reminders or messages):
            continue
        digest = _write_digest(user, [i for i, _ in reminders], messages, today)
        for item, stage in reminders:
            db.session.add(ReminderSent(user_id=user.id, key=item.key, stage=stage,
                                        cycle_id=item.cycle_id, message_id=digest.id))
        for message in messages:
            message.status, message.digest_id = OutboxStatus.DIGESTED, digest.id
        run.emails += 1
        run.reminders += len(reminders)
        run.held += len(messages)
    db.session.flush()
    return run


def _write_digest(user: User, items: list[Item], messages: list[OutboxMessage], today: date,
                  *, kind: MailKind = MailKind.DIGEST, subject: str | None = None,
                  intro: str = "") -> OutboxMessage:
    count = len(items) + len(messages)
    overdue = sum(1 for i in items if i.days_left(today) < 0)
    subject = subject or (f"ReviewApp: {count} thing{'s' if count != 1 else ''} for you"
                          + (f", {overdue} overdue" if overdue else ""))
    email = Email(subject=subject, what=intro or "Here is what is waiting for you in "
                  "ReviewApp.", link=page_url("dashboard.index"), action="Open your dashboard")
    lines = [{"label": i.label, "when": i.when(today), "link": i.link,
              "overdue": i.days_left(today) < 0} for i in items]
    lines += [{"label": m.subject, "when": "", "link": m.link, "overdue": False}
              for m in messages]
    unsubscribe = preferences.unsubscribe_url(user, preferences.ALL_KINDS)
    text, html = render(user, email, unsubscribe_url=unsubscribe, template="digest",
                        items=lines)
    digest = OutboxMessage(kind=kind,
                           user_id=user.id, to_address=user.email, subject=subject,
                           body_text=text, body_html=html, link=email.link,
                           unsubscribe_url=unsubscribe, status=OutboxStatus.PENDING)
    db.session.add(digest)
    db.session.flush()
    written()
    return digest


# HR's reminders from the cycle page ----------------------------------------------------------


@dataclass
class RemindResult:
    emailed: list[User]
    in_app_only: list[User]  # turned reminder emails off (and the cycle does not require them)
    already_today: list[User]


def _today_key(today: date) -> str:
    return f"hr:{today.isoformat()}"


def owners(cycle: Cycle, *, overdue_only: bool, today: date) -> dict[int, list[Item]]:
    """The people with an open step in the cycle (only overdue ones, if asked), and the steps."""
    found: dict[int, list[Item]] = defaultdict(list)
    for item in open_items(cycle.id, today):
        if not overdue_only or item.days_left(today) < 0:
            found[item.user.id].append(item)
    return found


def remind(actor: User, cycle: Cycle, user_ids: list[int] | None = None, *,
           today: date | None = None) -> RemindResult:
    """HR reminds the given people (None: everyone overdue) of their open steps in the cycle;
    each person at most once a day. Audited; flush only."""
    if not policy.can_manage_cycles(actor):
        raise NotAllowed("Only HR sends reminders.")
    if cycle.status != CycleStatus.LAUNCHED:
        raise ActionUnavailable("Only a launched, open cycle has steps to remind people of.")
    today = today or datetime.now(UTC).date()
    found = owners(cycle, overdue_only=user_ids is None, today=today)
    if user_ids is not None and actor.id in user_ids:
        raise ServiceError("You cannot remind yourself.")
    found.pop(actor.id, None)  # HR's own steps (calibration) are on their dashboard
    if user_ids is not None:
        missing = [uid for uid in user_ids if uid not in found]
        if missing:
            person = db.session.get(User, missing[0])
            name = person.name if person else "That person"
            raise ServiceError(f"{name} has nothing open in {cycle.name} to be reminded of.")
        found = {uid: found[uid] for uid in user_ids}
    if not found:
        raise ActionUnavailable(f"Nobody is overdue in {cycle.name}.")
    reminded_today = {uid for uid, in db.session.execute(
        sa.select(ReminderSent.user_id).where(ReminderSent.user_id.in_(found),
                                              ReminderSent.key == _today_key(today),
                                              ReminderSent.stage == HR_STAGE))}
    result = RemindResult([], [], [])
    for uid, items in found.items():
        user = items[0].user
        if uid in reminded_today:
            result.already_today.append(user)
            continue
        message = None
        if _wants_reminders(user, cycle.id):
            message = _write_digest(
                user, items, [], today, kind=MailKind.DEADLINE_REMINDER,
                subject=f"Reminder from HR: {cycle.name}",
                intro=f"HR reminds you of what is open for you in {cycle.name}.")
            result.emailed.append(user)
        else:
            result.in_app_only.append(user)
        notify(user.id, f"HR reminds you of {len(items)} open step"
               f"{'s' if len(items) != 1 else ''} in {cycle.name}.", items[0].path)
        db.session.add(ReminderSent(user_id=uid, key=_today_key(today), stage=HR_STAGE,
                                    cycle_id=cycle.id, sent_by_id=actor.id,
                                    message_id=message.id if message else None))
        record(actor, "reminder.send", "user", uid,
               after={"cycle": cycle.name, "steps": [i.label for i in items],
                      "email": message is not None})
    db.session.flush()
    return result
