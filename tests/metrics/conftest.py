"""A small catalogue matching the corpus files: reps ana, ben, cara (lead's), zoe (elsewhere)."""

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from reviewapp.auth.models import Role
from reviewapp.metrics.catalogue import add_metric, set_archived
from reviewapp.metrics.models import ImportBatch, Observation, ReplacedValue
from tests.factories import create_user


@pytest.fixture
def corpus_org(app, db):
    hr = create_user(Role.HR_ADMIN)
    lead = create_user(Role.MANAGER, name="Lead")
    elsewhere = create_user(Role.MANAGER, name="Elsewhere")
    reps = {
        name: create_user(Role.REP, email=f"{name}@example.com", name=name.title(),
                          manager=lead if name != "zoe" else elsewhere)
        for name in ("ana", "ben", "cara", "zoe")
    }
    metrics = {}
    for key, kind in [("calls", "activity"), ("emails", "activity"), ("meetings", "activity"),
                      ("revenue", "outcome"), ("faxes", "activity")]:
        metrics[key] = add_metric(None, key=key, name=key.title(), kind=kind,
                                  direction="higher", rollup="sum")
    set_archived(None, metrics["faxes"], True)
    db.session.commit()
    return SimpleNamespace(hr=hr, lead=lead, elsewhere=elsewhere, reps=reps, metrics=metrics)


def table_state(db) -> tuple:
    """Everything an import could write, to compare before and after."""
    db.session.expire_all()
    observations = db.session.execute(
        sa.select(Observation.rep_id, Observation.metric_id, Observation.grain,
                  Observation.period_start, Observation.value, Observation.batch_id)
        .order_by(Observation.rep_id, Observation.metric_id, Observation.period_start)
    ).all()
    batches = db.session.execute(sa.select(ImportBatch.id, ImportBatch.status)).all()
    replaced = db.session.scalar(sa.select(sa.func.count()).select_from(ReplacedValue))
    return tuple(map(tuple, observations)), tuple(map(tuple, batches)), replaced
