"""Pages: HR's outbox, each person's email preferences, unsubscribe links (no login), HR's
reminders and the emails a cycle requires."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from reviewapp import policy
from reviewapp.auth.models import User
from reviewapp.cycles.models import Cycle
from reviewapp.errors import ServiceError
from reviewapp.extensions import db
from reviewapp.notifications import bp, delivery, preferences, reminders
from reviewapp.notifications.models import KIND_LABELS, MailKind, OutboxMessage, OutboxStatus
from reviewapp.transaction import attempt, refuse

PAGE_SIZE = 50
# The outbox filter: a name for each group of statuses HR asks about.
SHOW = {
    "all": None,
    "waiting": [OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.HELD],
    "failing": None,  # failed, or waiting after a failed attempt
    "sent": [OutboxStatus.SENT, OutboxStatus.DIGESTED],
    "logged": [OutboxStatus.LOGGED],
}


# The outbox (HR) -----------------------------------------------------------------------------


def _require_outbox() -> None:
    policy.require(policy.can_read_outbox(current_user))


def _int_arg(name: str, default: int) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except ValueError:
        abort(400)


@bp.route("/mail/outbox")
@login_required
def outbox():
    _require_outbox()
    show = request.args.get("show", "all")
    kind = request.args.get("kind", "")
    q = request.args.get("q", "").strip()
    if show not in SHOW or (kind and kind not in set(MailKind)):
        abort(400)
    page = _int_arg("page", 1)
    query = sa.select(OutboxMessage).options(joinedload(OutboxMessage.user))
    if show == "failing":
        query = query.where(sa.or_(OutboxMessage.status == OutboxStatus.FAILED,
                                   sa.and_(OutboxMessage.status == OutboxStatus.PENDING,
                                           OutboxMessage.attempts > 0)))
    elif SHOW[show]:
        query = query.where(OutboxMessage.status.in_(SHOW[show]))
    if kind:
        query = query.where(OutboxMessage.kind == MailKind(kind))
    if q:
        like = f"%{q.lower()}%"
        query = query.join(User, User.id == OutboxMessage.user_id).where(sa.or_(
            sa.func.lower(OutboxMessage.to_address).like(like),
            sa.func.lower(User.name).like(like), sa.func.lower(OutboxMessage.subject).like(like)))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    messages = list(db.session.scalars(query.order_by(OutboxMessage.id.desc())
                                       .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    counts = dict(db.session.execute(sa.select(OutboxMessage.status, sa.func.count())
                                     .group_by(OutboxMessage.status)).all())
    failing = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
        sa.or_(OutboxMessage.status == OutboxStatus.FAILED,
               sa.and_(OutboxMessage.status == OutboxStatus.PENDING,
                       OutboxMessage.attempts > 0))))
    return render_template(
        "notifications/outbox.html", messages=messages, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), show=show, kind=kind, q=q, shows=list(SHOW),
        kinds=list(MailKind), counts=counts, failing=failing, statuses=list(OutboxStatus),
        server=current_app.config.get("MAIL_SERVER"))


@bp.route("/mail/outbox/<int:message_id>")
@login_required
def outbox_message(message_id: int):
    _require_outbox()
    message = db.get_or_404(OutboxMessage, message_id)
    parts = list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.digest_id == message.id).order_by(OutboxMessage.id)))
    return render_template("notifications/message.html", message=message, parts=parts)


@bp.route("/mail/outbox/<int:message_id>/retry", methods=["POST"])
@login_required
def outbox_retry(message_id: int):
    _require_outbox()
    message = db.get_or_404(OutboxMessage, message_id)
    outcome = attempt(delivery.retry, message)
    if outcome.ok:
        flash(f"Message #{message_id} is queued to be sent again now.", "success")
    else:
        flash(outcome.error.message, "error")
    return redirect(url_for("notifications.outbox_message", message_id=message_id))


@bp.route("/mail/outbox/retry", methods=["POST"])
@login_required
def outbox_retry_all():
    _require_outbox()
    n = delivery.retry_all_failing()
    flash(f"{n} message{'s' if n != 1 else ''} queued to be sent again now." if n
          else "No message is failing.", "success" if n else "info")
    return redirect(url_for("notifications.outbox", show="failing"))


# Preferences (everyone, their own) and unsubscribe links (no login) -------------------------


@bp.route("/account/notifications", methods=["GET", "POST"], endpoint="preferences")
@login_required
def preferences_page():
    kinds = preferences.AUDIENCE.get(current_user.role, [])
    errors: dict[str, str] = {}
    if request.method == "POST":
        outcome = attempt(preferences.set_modes, current_user, current_user,
                          request.form.to_dict())
        if outcome.ok:
            n = len(outcome.value)
            flash("Your email preferences are saved." if n else "Nothing changed.", "success")
            return redirect(url_for("notifications.preferences"))
        errors[outcome.error.field or ""] = outcome.error.message
    return render_template(
        "notifications/preferences.html", kinds=kinds, modes=preferences.MODES,
        chosen=preferences.modes_of(current_user), errors=errors,
        required_default=preferences.DEFAULT_REQUIRED), 400 if errors else 200


@bp.route("/mail/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    try:
        user, kinds = preferences.read_unsubscribe_token(token)
    except ServiceError as exc:
        return render_template("auth/link_invalid.html", message=exc.message), 400
    if request.method == "POST":
        outcome = attempt(preferences.unsubscribe, token)
        if not outcome.ok:  # pragma: no cover - the token was read above
            refuse()
            return render_template("auth/link_invalid.html",
                                   message=outcome.error.message), 400
        return render_template("notifications/unsubscribe.html", done=True, kinds=kinds,
                               user=user, token=token)
    return render_template("notifications/unsubscribe.html", done=False, kinds=kinds,
                           user=user, token=token)


# HR's reminders and the emails a cycle requires ----------------------------------------------


def _cycle_for_hr(cycle_id: int) -> Cycle:
    policy.require(policy.can_send_reminders(current_user))
    return db.get_or_404(Cycle, cycle_id)


NAMES_SHOWN = 10


def _flash_reminded(result: reminders.RemindResult) -> None:
    def names(people):
        # A whole cycle overdue is hundreds of names: a few, then how many more.
        shown = [p.name for p in people[:NAMES_SHOWN]]
        more = len(people) - len(shown)
        return ", ".join(shown) + (f" and {more} more ({len(people)} people)" if more else "")

    if result.emailed:
        flash(f"Reminded by email: {names(result.emailed)}.", "success")
    if result.in_app_only:
        flash(f"Reminded in ReviewApp only (they turned reminder emails off): "
              f"{names(result.in_app_only)}.", "success")
    if result.already_today:
        flash(f"Already reminded today, not again: {names(result.already_today)}.", "warning")


@bp.route("/cycles/<int:cycle_id>/remind/<int:user_id>", methods=["POST"])
@login_required
def remind_person(cycle_id: int, user_id: int):
    cycle = _cycle_for_hr(cycle_id)
    outcome = attempt(reminders.remind, current_user, cycle, [user_id])
    if outcome.ok:
        _flash_reminded(outcome.value)
    else:
        flash(outcome.error.message, "error")
    return redirect(url_for("cycles.cycle", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/remind-overdue", methods=["POST"])
@login_required
def remind_overdue(cycle_id: int):
    cycle = _cycle_for_hr(cycle_id)
    outcome = attempt(reminders.remind, current_user, cycle, None)
    if outcome.ok:
        _flash_reminded(outcome.value)
    else:
        flash(outcome.error.message, "error")
    return redirect(url_for("cycles.cycle", cycle_id=cycle_id))


@bp.route("/cycles/<int:cycle_id>/emails", methods=["GET", "POST"])
@login_required
def cycle_emails(cycle_id: int):
    policy.require(policy.can_manage_cycles(current_user))
    cycle = db.get_or_404(Cycle, cycle_id)
    error = None
    if request.method == "POST":
        outcome = attempt(preferences.set_required, current_user, cycle,
                          request.form.getlist("required"))
        if outcome.ok:
            flash("Saved: people of this cycle cannot turn these emails off.", "success")
            return redirect(url_for("cycles.cycle", cycle_id=cycle_id))
        error = outcome.error.message
    return render_template("notifications/cycle_emails.html", cycle=cycle,
                           kinds=preferences.CYCLE_KINDS,
                           required=preferences.required_kinds(cycle.id), labels=KIND_LABELS,
                           error=error), 400 if error else 200
