"""Catalogue pages, the upload → preview → confirm import, and import batches."""

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm import selectinload

from reviewapp import policy
from reviewapp.errors import show_on_form
from reviewapp.exports import attachment
from reviewapp.extensions import db
from reviewapp.metrics import bp, uploads
from reviewapp.metrics.catalogue import add_metric, list_metrics, set_archived, update_metric
from reviewapp.metrics.forms import MetricForm, UploadForm
from reviewapp.metrics.importer import apply_import, prepare_import, undo_batch
from reviewapp.metrics.models import ImportBatch, Metric
from reviewapp.metrics.parsing import MAX_ERRORS_SHOWN, errors_to_csv
from reviewapp.metrics.periods import Period
from reviewapp.transaction import attempt


def period_label(grain: str, start) -> str:
    """A period as people write it in a file (2026-11, 2026-Q4, 2026-W45), not its first day."""
    return Period(grain, start).label


bp.add_app_template_global(period_label, "period_label")


@bp.before_request
@login_required
def _logged_in():
    pass




# Catalogue -----------------------------------------------------------------------------------


@bp.route("/")
def catalogue():
    policy.require(policy.can_view_metrics_catalogue(current_user))
    return render_template("metrics/catalogue.html", metrics=list_metrics())


@bp.route("/new", methods=["GET", "POST"])
def metric_new():
    policy.require(policy.can_manage_metrics(current_user))
    form = MetricForm()
    if form.validate_on_submit():
        outcome = attempt(add_metric, current_user, key=form.key.data, name=form.name.data,
                          kind=form.kind.data, direction=form.direction.data,
                          rollup=form.rollup.data, unit=form.unit.data,
                          description=form.description.data)
        if outcome.ok:
            flash(f"Metric {outcome.value.name} was added.", "success")
            return redirect(url_for("metrics.catalogue"))
        show_on_form(form, outcome.error)
    return render_template("metrics/metric_form.html", form=form, metric=None)


@bp.route("/<int:metric_id>/edit", methods=["GET", "POST"])
def metric_edit(metric_id: int):
    policy.require(policy.can_manage_metrics(current_user))
    metric = db.get_or_404(Metric, metric_id)
    form = MetricForm(obj=None if request.method == "POST" else metric)
    if request.method == "GET":
        form.kind.data, form.direction.data = metric.kind.value, metric.direction.value
        form.rollup.data = metric.rollup.value
    form.key.data, form.kind.data = metric.key, metric.kind.value  # fixed once created
    if form.validate_on_submit():
        outcome = attempt(update_metric, current_user, metric, name=form.name.data,
                          unit=form.unit.data, direction=form.direction.data,
                          rollup=form.rollup.data, description=form.description.data)
        if outcome.ok:
            flash(f"Metric {metric.name} was updated.", "success")
            return redirect(url_for("metrics.catalogue"))
        show_on_form(form, outcome.error)
    return render_template("metrics/metric_form.html", form=form, metric=metric)


@bp.route("/<int:metric_id>/archive", methods=["POST"])
def metric_archive(metric_id: int):
    policy.require(policy.can_manage_metrics(current_user))
    metric = db.get_or_404(Metric, metric_id)
    archived = request.form.get("archived", "1") == "1"
    set_archived(current_user, metric, archived)
    flash(f"{metric.name} is {'archived' if archived else 'back in use'}.", "success")
    return redirect(url_for("metrics.catalogue"))


# Import --------------------------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
def upload():
    policy.require(policy.can_import_metrics(current_user))
    form = UploadForm()
    if form.validate_on_submit():
        storage = form.file.data
        data = storage.read()
        outcome = attempt(uploads.save, current_user.id, storage.filename or "upload",
                          data, form.sheet.data or None)
        if outcome.ok:
            return redirect(url_for("metrics.preview", token=outcome.value.token))
        show_on_form(form, outcome.error)
    return render_template("metrics/upload.html", form=form)


def _column_map_from(form_data) -> dict[str, str | None]:
    mapping: dict[str, str | None] = {}
    for name, value in form_data.items():
        if name.startswith("map:"):
            mapping[name[4:]] = None if value == "" else value
    return mapping


@bp.route("/import/<token>", methods=["GET", "POST"])
def preview(token: str):
    policy.require(policy.can_import_metrics(current_user))
    pending = uploads.load(token, current_user.id)
    if pending is None:
        abort(404)
    action = request.form.get("action", "")
    if action == "cancel":
        uploads.discard(token)
        flash("The import was cancelled; nothing was written.", "info")
        return redirect(url_for("metrics.upload"))
    column_map = _column_map_from(request.form)
    plan = prepare_import(current_user, pending.parsed(), pending.filename, source="web",
                          sheet=pending.sheet, column_map=column_map, checksum=pending.checksum)
    if action == "confirm":
        outcome = attempt(apply_import, current_user, plan,
                          replace=request.form.get("replace") == "1")
        if not outcome.ok:
            flash(outcome.error.message, "error")
        else:
            batch = outcome.value
            uploads.discard(token)
            flash(f"Imported batch #{batch.id}: {batch.new_count} new, {batch.changed_count} "
                  f"changed, {batch.unchanged_count} unchanged values.", "success")
            return redirect(url_for("metrics.batch", batch_id=batch.id))
    metrics = list_metrics(include_archived=False)
    return render_template("metrics/preview.html", plan=plan, token=token, pending=pending,
                           rows=plan.preview(), metrics=metrics, column_map=column_map,
                           max_errors=MAX_ERRORS_SHOWN)


@bp.route("/import/<token>/errors.csv", methods=["GET", "POST"])
def preview_errors(token: str):
    policy.require(policy.can_import_metrics(current_user))
    pending = uploads.load(token, current_user.id)
    if pending is None:
        abort(404)
    plan = prepare_import(current_user, pending.parsed(), pending.filename, source="web",
                          sheet=pending.sheet, column_map=_column_map_from(request.values),
                          checksum=pending.checksum)
    return attachment(errors_to_csv(plan.errors), f"import-errors-{token[:8]}.csv", "text/csv")


@bp.route("/batches")
def batches():
    policy.require(policy.can_import_metrics(current_user))
    query = sa.select(ImportBatch).options(selectinload(ImportBatch.uploaded_by))
    if not policy.can_manage_users(current_user):
        query = query.where(ImportBatch.uploaded_by_id == current_user.id)
    rows = db.session.scalars(query.order_by(ImportBatch.id.desc()).limit(200)).all()
    return render_template("metrics/batches.html", batches=rows)


@bp.route("/batches/<int:batch_id>")
def batch(batch_id: int):
    found = db.session.get(ImportBatch, batch_id)
    policy.visible_or_404(found is not None and policy.can_view_batch(current_user, found))
    return render_template("metrics/batch.html", batch=found)


@bp.route("/batches/<int:batch_id>/undo", methods=["POST"])
def batch_undo(batch_id: int):
    found = db.session.get(ImportBatch, batch_id)
    policy.visible_or_404(found is not None and policy.can_view_batch(current_user, found))
    outcome = attempt(undo_batch, current_user, found)
    if not outcome.ok:
        flash(outcome.error.message, "error")
    else:
        flash(f"Batch #{found.id} was undone.", "success")
    return redirect(url_for("metrics.batch", batch_id=batch_id))
