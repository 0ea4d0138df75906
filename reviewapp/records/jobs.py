"""Where records are rendered: RQ workers on Redis, a local process pool, or in process.

A service marks a record for rendering with `render_after_commit`; once the transaction that
added it commits (never before: a worker must see the finalised review), its id is handed to
the configured backend. A rollback forgets it. Each job renders one record in its own app
context and transaction (services.run_job), so workers on any number of machines can share
the database, and a record is never rendered twice at once (the job claims it first).

RECORDS_JOBS: "rq" (REDIS_URL's queue RECORDS_QUEUE; run `flask records worker`), "pool"
(RECORDS_WORKERS spawned processes of this one), "inline" (right after the commit, in this
process), "manual" (left pending), "auto" (rq with REDIS_URL, else pool; manual under TESTING).
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
from concurrent.futures import Future, ProcessPoolExecutor

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
MODES = ("auto", "rq", "pool", "inline", "manual")
_QUEUED = "records.render_after_commit"  # records added in this transaction
_READY = "records.render_ids"  # their ids, once flushed


def render_after_commit(record) -> None:
    """Render this record once the current transaction commits."""
    from reviewapp.extensions import db

    db.session.info.setdefault(_QUEUED, []).append(record)


def forget_queued(session) -> None:
    """Drop what this transaction queued (the demo renders its records itself)."""
    session.info.pop(_QUEUED, None)
    session.info.pop(_READY, None)


@sa.event.listens_for(Session, "before_commit")
def _collect_ids(session: Session) -> None:
    queued = session.info.pop(_QUEUED, None)
    if queued:
        session.flush()
        session.info.setdefault(_READY, []).extend(r.id for r in queued)


@sa.event.listens_for(Session, "after_commit")
def _hand_over(session: Session) -> None:
    ids = session.info.pop(_READY, None)
    if ids and has_app_context():
        try:
            enqueue(sorted(set(ids)))
        except Exception:  # the records stay pending; the cycle page and the CLI pick them up
            log.exception("Could not queue %d review records for rendering", len(ids))


@sa.event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    forget_queued(session)


# Backends ---------------------------------------------------------------------------------------


def mode(app: Flask | None = None) -> str:
    """The backend in use, with "auto" resolved."""
    config = (app or current_app).config
    chosen = (config.get("RECORDS_JOBS") or "auto").lower()
    if chosen not in MODES:
        raise ValueError(f"RECORDS_JOBS must be one of {', '.join(MODES)}, not {chosen!r}")
    if chosen == "auto":
        if config.get("REDIS_URL"):
            return "rq"
        return "manual" if config.get("TESTING") else "pool"
    return chosen


def enqueue(record_ids: list[int], *, backend: str | None = None) -> list:
    """Hand records to the backend; returns its handles (RQ jobs, futures, statuses)."""
    backend = backend or mode()
    if backend == "manual" or not record_ids:
        return []
    if backend == "inline":
        return [run_job(record_id) for record_id in record_ids]
    if backend == "rq":
        queue = rq_queue()
        return [queue.enqueue(run_job, record_id, job_timeout=300, result_ttl=3600,
                              failure_ttl=7 * 24 * 3600,
                              description=f"render review record {record_id}")
                for record_id in record_ids]
    pool = local_pool()
    return [pool.submit(_pool_job, record_id) for record_id in record_ids]


def run_job(record_id: int) -> str:
    """The job itself (RQ imports it by name): render one record in a fresh app context."""
    from reviewapp.records import services

    app = current_app._get_current_object() if has_app_context() else _standalone_app()
    with app.app_context():  # its own session and transaction, whoever calls it
        return services.run_job(record_id)


# RQ ---------------------------------------------------------------------------------------------


def redis_connection(url: str | None = None):
    from redis import Redis

    return Redis.from_url(url or current_app.config["REDIS_URL"])


def rq_queue(connection=None):
    from rq import Queue

    return Queue(current_app.config.get("RECORDS_QUEUE") or "reviewapp-records",
                 connection=connection or redis_connection())


_APP: Flask | None = None


def _standalone_app() -> Flask:
    """An app from the environment, for a plain `rq worker` process (made once)."""
    global _APP
    if _APP is None:
        from reviewapp import create_app

        _APP = create_app()
    return _APP


# The local process pool -------------------------------------------------------------------------

_POOL: ProcessPoolExecutor | None = None
_POOL_KEY: tuple | None = None
_WORKER_APP: Flask | None = None


def _picklable_config(app: Flask) -> dict:
    out = {}
    for key, value in app.config.items():
        if not key.isupper():
            continue
        try:
            pickle.dumps(value)
        except Exception:
            continue
        out[key] = value
    return out


def _init_worker(config: dict, instance_path: str) -> None:
    """A pool process: its own app on the same database and instance folder."""
    global _WORKER_APP
    from reviewapp import create_app

    _WORKER_APP = create_app({**config, "RECORDS_JOBS": "manual"})
    _WORKER_APP.instance_path = instance_path


def _pool_job(record_id: int) -> str:
    from reviewapp.records import services

    with _WORKER_APP.app_context():
        return services.run_job(record_id)


def local_pool(app: Flask | None = None, workers: int | None = None) -> ProcessPoolExecutor:
    """This process's pool of renderers (spawned, not forked: no inherited connections)."""
    global _POOL, _POOL_KEY
    app = app or current_app._get_current_object()
    workers = int(workers or app.config.get("RECORDS_WORKERS") or 2)
    key = (app.config["SQLALCHEMY_DATABASE_URI"], app.instance_path, workers)
    if _POOL is None or _POOL_KEY != key:
        if _POOL is not None:
            _POOL.shutdown(wait=False)
        _POOL = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker, initargs=(_picklable_config(app), app.instance_path))
        _POOL_KEY = key
    return _POOL


def shutdown_pool(wait: bool = True) -> None:
    """Stop the local pool (tests and benchmarks)."""
    global _POOL, _POOL_KEY
    if _POOL is not None:
        _POOL.shutdown(wait=wait)
    _POOL, _POOL_KEY = None, None


def wait_for(handles: list, timeout: float | None = None) -> None:
    """Wait for pool futures (RQ jobs are waited for by polling the database instead)."""
    for handle in handles:
        if isinstance(handle, Future):
            handle.result(timeout=timeout)
