"""Where records are rendered: RQ workers on the real Redis, the local process pool, or in the
finalising process; never before the finalising commits, never after a rollback."""

import os
import uuid

import pytest
import sqlalchemy as sa

from reviewapp.extensions import db
from reviewapp.records import jobs
from reviewapp.records.models import RecordStatus, ReviewRecord
from tests.records import builders

REDIS_URL = os.environ.get("REVIEWAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _status(record_id: int) -> RecordStatus:
    db.session.rollback()
    return db.session.scalar(sa.select(ReviewRecord.status).where(ReviewRecord.id == record_id))


def _finalised_review(org):
    review = org.reviews[0]
    builders.write_review(org, review)
    builders.finalise(org, review)
    return review


@pytest.fixture
def redis_queue(app):
    """The Redis CI runs at 127.0.0.1:6379, with a queue of this test's own."""
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisDown

    connection = Redis.from_url(REDIS_URL)
    try:
        connection.ping()
    except RedisDown:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL} (CI has one)")
    app.config.update(REDIS_URL=REDIS_URL, RECORDS_JOBS="auto",
                      RECORDS_QUEUE=f"reviewapp-records-test-{uuid.uuid4().hex[:8]}")
    queue = jobs.rq_queue(connection)
    yield queue
    queue.delete(delete_jobs=True)


def test_with_redis_finalising_queues_a_job_and_a_burst_worker_renders_it(app, signing,
                                                                          redis_queue):
    from rq.worker import SimpleWorker

    org = builders.launched_cycle(1)
    _finalised_review(org)
    [record_id] = db.session.scalars(sa.select(ReviewRecord.id)).all()
    assert jobs.mode() == "rq"
    assert redis_queue.count == 0  # nothing is queued before the finalising commits
    db.session.commit()
    assert redis_queue.count == 1
    assert _status(record_id) == RecordStatus.PENDING
    worker = SimpleWorker([redis_queue], connection=redis_queue.connection)
    assert worker.work(burst=True)
    assert _status(record_id) == RecordStatus.RENDERED
    record = db.session.get(ReviewRecord, record_id)
    assert record.signed and record.size > 10_000
    [job_id] = redis_queue.finished_job_registry.get_job_ids()
    assert redis_queue.fetch_job(job_id).return_value() == "rendered"


def test_with_redis_a_rollback_queues_nothing(app, signing, redis_queue):
    org = builders.launched_cycle(1)
    _finalised_review(org)
    db.session.rollback()
    assert redis_queue.count == 0
    assert db.session.scalars(sa.select(ReviewRecord)).all() == []


def test_the_worker_command_drains_the_queue(app, signing, redis_queue, runner):
    org = builders.launched_cycle(2)
    for review in org.reviews:
        builders.write_review(org, review)
        builders.finalise(org, review)
    db.session.commit()
    assert redis_queue.count == 2
    result = runner.invoke(args=["records", "worker", "--burst"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    statuses = db.session.scalars(sa.select(ReviewRecord.status)).all()
    assert statuses == [RecordStatus.RENDERED, RecordStatus.RENDERED]
    assert redis_queue.count == 0


def test_without_redis_the_local_pool_renders_in_other_processes(app, signing):
    app.config.update(REDIS_URL=None, RECORDS_JOBS="pool", RECORDS_WORKERS=1)
    assert jobs.mode() == "pool"
    org = builders.launched_cycle(1)
    _finalised_review(org)
    [record_id] = db.session.scalars(sa.select(ReviewRecord.id)).all()
    handles = []
    original = jobs.enqueue

    def spy(ids, **kwargs):
        handles.extend(original(ids, **kwargs))
        return handles

    jobs.enqueue = spy
    try:
        db.session.commit()
    finally:
        jobs.enqueue = original
    try:
        assert len(handles) == 1
        assert handles[0].result(timeout=120) == "rendered"
        assert handles[0].running() is False
        assert _status(record_id) == RecordStatus.RENDERED
        assert db.session.get(ReviewRecord, record_id).signed
    finally:
        jobs.shutdown_pool()


def test_inline_renders_right_after_the_commit(app, signing):
    app.config.update(RECORDS_JOBS="inline")
    org = builders.launched_cycle(1)
    _finalised_review(org)
    [record] = db.session.scalars(sa.select(ReviewRecord)).all()
    record_id = record.id
    assert record.status == RecordStatus.PENDING  # the job waits for the commit
    db.session.commit()
    assert _status(record_id) == RecordStatus.RENDERED


def test_a_job_for_a_record_someone_else_took_does_nothing(app, signing):
    org = builders.launched_cycle(1)
    _finalised_review(org)
    db.session.commit()
    [record_id] = db.session.scalars(sa.select(ReviewRecord.id)).all()
    assert jobs.run_job(record_id) == "rendered"
    sha = db.session.scalar(sa.select(ReviewRecord.sha256))
    assert jobs.run_job(record_id) == "rendered"  # claimed nothing, rendered nothing again
    db.session.rollback()
    record = db.session.get(ReviewRecord, record_id)
    assert record.sha256 == sha and record.attempts == 1
