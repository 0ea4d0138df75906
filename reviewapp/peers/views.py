"""Peer feedback pages: a person's requests, the answer form, the nominations on a review, HR's
view of who answered, and the customer voice setting. Thin handlers: parse, call one service,
answer."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from reviewapp import policy
from reviewapp.cycles.models import Cycle
from reviewapp.errors import show_on_form
from reviewapp.extensions import db
from reviewapp.peers import bp, evidence, services
from reviewapp.peers.calibration import peer_view_differs
from reviewapp.peers.forms import CustomerVoiceForm
from reviewapp.peers.models import ASKED, PeerRequest
from reviewapp.peers.panel import peer_panel
from reviewapp.policy import ReviewAction
from reviewapp.reviews.models import Review
from reviewapp.reviews.views import _int_or_none, _load, _refused
from reviewapp.transaction import attempt


@bp.before_request
@login_required
def _logged_in():
    pass


bp.add_app_template_global(peer_panel, "peer_panel")
bp.add_app_template_global(peer_view_differs, "peer_view_differs")


# The peer's side -----------------------------------------------------------------------------


def _own_request(request_id: int) -> PeerRequest:
    """A request the current user was asked (anyone else: it does not exist)."""
    found = db.session.scalar(sa.select(PeerRequest).where(PeerRequest.id == request_id).options(
        selectinload(PeerRequest.review).selectinload(Review.cycle)
        .selectinload(Cycle.competencies),
        selectinload(PeerRequest.review).selectinload(Review.rep),
        selectinload(PeerRequest.answers)))
    policy.visible_or_404(found is not None and found.peer_id == current_user.id
                          and found.state in ASKED)
    return found


@bp.route("/")
def index():
    requests = db.session.scalars(
        sa.select(PeerRequest).join(Review).join(Cycle)
        .where(PeerRequest.peer_id == current_user.id, PeerRequest.state.in_(ASKED))
        .options(selectinload(PeerRequest.review).selectinload(Review.rep),
                 selectinload(PeerRequest.review).selectinload(Review.cycle))
        .order_by(Cycle.period_start.desc(), PeerRequest.id)).all()
    today = date.today()
    # Asked and not answered, but past the deadline or finalised: closed, no longer "to answer".
    open_ids = {r.id for r in requests if services.is_open(r, current_user, today)}
    return render_template("peers/index.html", requests=requests, today=today,
                           open_ids=open_ids)


def _render_request(found: PeerRequest, *, errors: dict | None = None,
                    values: dict | None = None, status: int = 200):
    review = found.review
    return render_template(
        "peers/request.html", req=found, review=review, cycle=review.cycle,
        can_answer=services.is_open(found, current_user),
        answers={a.cycle_competency_id: a for a in found.answers},
        errors=errors or {}, values=values or {}, today=date.today()), status


@bp.route("/requests/<int:request_id>")
def request_page(request_id: int):
    return _render_request(_own_request(request_id))


def _request_refused(request_id: int, error):
    return _render_request(_own_request(request_id), values=request.form,
                           errors={error.field or "form": error.message}, status=422)


@bp.route("/requests/<int:request_id>/answer", methods=["POST"])
def answer(request_id: int):
    found = _own_request(request_id)
    ratings = {}
    for competency in found.review.cycle.competencies:
        raw = request.form.get(f"rating_{competency.id}", "").strip()
        # Empty or "none": not observed; anything else that is not a number is refused as 0.
        rating = None if raw in ("", "none") else (_int_or_none(raw) or 0)
        ratings[competency.id] = (rating, request.form.get(f"example_{competency.id}", ""))
    outcome = attempt(services.answer, current_user, found, ratings)
    if not outcome.ok:
        return _request_refused(request_id, outcome.error)
    flash("Thank you. Your answer is in; the rep and the manager see it only together with "
          "other peers' answers, never with your name.", "success")
    return redirect(url_for("peers.request_page", request_id=request_id))


@bp.route("/requests/<int:request_id>/decline", methods=["POST"])
def decline(request_id: int):
    outcome = attempt(services.decline, current_user, _own_request(request_id),
                      request.form.get("reason", ""))
    if not outcome.ok:
        return _request_refused(request_id, outcome.error)
    flash("You declined the request; the manager has been told why.", "success")
    return redirect(url_for("peers.index"))


# Nominations on a review ---------------------------------------------------------------------


def _on_review(review_id: int, service, *args, message: str):
    review = _load(review_id)
    outcome = attempt(service, current_user, review, *args)
    if not outcome.ok:
        return _refused(review_id, outcome.error)
    flash(message, "success")
    return redirect(url_for("reviews.review", review_id=review_id) + "#peers")


@bp.route("/reviews/<int:review_id>/nominate", methods=["POST"])
def nominate(review_id: int):
    return _on_review(review_id, services.nominate, request.form.getlist("peers", type=int),
                      message="Your nominations went to your manager for approval.")


@bp.route("/reviews/<int:review_id>/approve", methods=["POST"])
def approve(review_id: int):
    return _on_review(review_id, services.approve,
                      message="The nominated colleagues have been asked for feedback.")


@bp.route("/reviews/<int:review_id>/requests/<int:request_id>/remove", methods=["POST"])
def remove(review_id: int, request_id: int):
    return _on_review(review_id, services.remove, request_id,
                      message="The nomination was removed.")


@bp.route("/reviews/<int:review_id>/add", methods=["POST"])
def add(review_id: int):
    return _on_review(review_id, services.add, _int_or_none(request.form.get("peer")),
                      message="The colleague has been asked for feedback.")


# HR ------------------------------------------------------------------------------------------


@bp.route("/reviews/<int:review_id>/answers")
def authors(review_id: int):
    """Who answered what (HR, for abuse): never shown to the rep or any manager."""
    review = _load(review_id)
    policy.require(policy.may(current_user, review, ReviewAction.SEE_PEER_AUTHORS))
    requests = db.session.scalars(
        sa.select(PeerRequest).where(PeerRequest.review_id == review.id)
        .options(selectinload(PeerRequest.peer), selectinload(PeerRequest.answers))
        .order_by(PeerRequest.id)).all()
    names = {c.id: c.name for c in review.cycle.competencies}
    return render_template("peers/authors.html", review=review, requests=requests, names=names)


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    policy.require(policy.can_manage_cycles(current_user))
    form = CustomerVoiceForm()
    form.metric.choices = [("", "None")] + [(m.key, m.name) for m in evidence.choices()]
    if request.method == "GET":
        chosen = evidence.customer_voice_metric()
        form.metric.data = chosen.key if chosen else ""
    elif form.validate_on_submit():
        outcome = attempt(evidence.set_customer_voice_metric, current_user, form.metric.data)
        if outcome.ok:
            flash(f"Reviews now show {outcome.value.name} beside Customer satisfaction."
                  if outcome.value else "Reviews show no customer voice metric.", "success")
            return redirect(url_for("peers.settings"))
        show_on_form(form, outcome.error)
    return render_template("peers/settings.html", form=form), 422 if form.errors else 200
