"""Review records: one faithful, signed, tamper-evident PDF per finalised review.

The views register on `bp` when create_app imports `reviewapp.records.views`; `init_app` hooks
the records into finalising and reopening and gives the templates what they show.
"""

from flask import Blueprint, Flask

bp = Blueprint("records", __name__, url_prefix="/records")


def init_app(app: Flask) -> None:
    """Render a record whenever a review is finalised; supersede it when one is reopened."""
    from reviewapp.records import dates, services
    from reviewapp.reviews import decisions

    if services.on_finalized not in decisions.on_finalized:
        decisions.on_finalized.append(services.on_finalized)
    if services.on_reopened not in decisions.on_reopened:
        decisions.on_reopened.append(services.on_reopened)
    app.add_template_filter(dates.record_time, "record_time")
    app.add_template_filter(dates.record_date, "record_date")
    app.add_template_global(services.records_of, "review_records")
    app.add_template_global(services.cycle_progress, "record_progress")
