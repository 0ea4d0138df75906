"""PDF record benchmark: rendering and signing, the cycle ZIP, and workers in parallel.

In one run, on a temporary SQLite database (or --database-url) with finalised reviews made by
the real workflow services (long notes, 5 KPIs, 5 competencies, the chart):

1. 100 records rendered and signed one after another in this process (the template compiled,
   the stylesheet parsed and the fonts loaded once), timed per record as the job does it
   (load, build the content, render, sign) and as render + sign alone, against the floor: a
   trivial one-page WeasyPrint document. Median, p95 and the ratio to the floor.
2. A 500-record cycle ZIP streamed from stored records (targets: <= 5 s).
3. The bulk render rate with 2 worker processes against 1, for the local process pool and for
   RQ workers (`flask records worker --burst`) on the local Redis, measured from the first
   job's claim to the last record's store (process start-up left out), target >= 1.8x.

    python bench/pdf_bench.py                     # everything (about two minutes)
    python bench/pdf_bench.py --records 30 --rate-records 20 --no-rq
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--reviews", type=int, default=40, help="finalised reviews to build")
    parser.add_argument("--records", type=int, default=100, help="records to time one by one")
    parser.add_argument("--zip-records", type=int, default=500)
    parser.add_argument("--rate-records", type=int, default=40)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-rq", action="store_true", help="skip the RQ worker rate")
    parser.add_argument("--json", action="store_true", help="also print one JSON object")
    args = parser.parse_args()

    import sqlalchemy as sa
    from weasyprint import HTML

    from reviewapp import create_app
    from reviewapp.extensions import db
    from reviewapp.records import content as record_content
    from reviewapp.records import export, jobs, services
    from reviewapp.records.models import RecordStatus, ReviewRecord
    from reviewapp.records.render import render_pdf
    from reviewapp.records.signing import current_signer, keygen, sign
    from tests.records import builders

    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    folder = Path(tempfile.mkdtemp(prefix="pdf-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    key, cert = keygen(folder / "keys", "Northwind Sales")
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + "x" * 40,
              "RECORDS_JOBS": "manual", "ORGANISATION_NAME": "Northwind Sales",
              "SIGNING_KEY": str(key), "SIGNING_CERT": str(cert),
              "MAIL_DELIVERY": "manual"}  # the demo-like data queues emails; none are sent
    app = create_app(config)
    app.instance_path = str(folder / "instance")
    results: dict = {}
    with app.app_context():
        db.drop_all()
        db.create_all()
        started = time.perf_counter()
        org = builders.finalised_cycle(args.reviews, long_notes=True)
        review_ids = [r.id for r in org.reviews]
        print(f"built {args.reviews} finalised reviews in {time.perf_counter() - started:.1f} s")

        # 1. One by one, in this process --------------------------------------------------------
        signer = current_signer()
        trivial = "<html><body><p>Hello.</p></body></html>"
        for _ in range(3):
            HTML(string=trivial).write_pdf()
        floor, floor_cpu = [], []
        for _ in range(30):
            t, c = time.perf_counter(), time.process_time()
            HTML(string=trivial).write_pdf()
            floor.append(time.perf_counter() - t)
            floor_cpu.append(time.process_time() - c)
        job_times, render_sign_times, sizes, pages = [], [], [], []
        render_sign_cpu = []
        import pypdf

        for i in range(args.records + 3):  # three warm-up records
            review_id = review_ids[i % len(review_ids)]
            t0 = time.perf_counter()
            review = record_content.load_review(review_id)
            content = record_content.build(review, document_id=f"RR-BENCH-{i}", version=1,
                                           organisation="Northwind Sales", signer=signer.name)
            digest = record_content.content_sha256(content)
            t1, c1 = time.perf_counter(), time.process_time()
            pdf = sign(render_pdf(content, digest, created=review.finalized_at), signer,
                       organisation="Northwind Sales", document_id=f"RR-BENCH-{i}")
            t2, c2 = time.perf_counter(), time.process_time()
            db.session.rollback()
            if i >= 3:
                job_times.append(t2 - t0)
                render_sign_times.append(t2 - t1)
                render_sign_cpu.append(c2 - c1)
                sizes.append(len(pdf))
                if i < 8:
                    pages.append(len(pypdf.PdfReader(__import__("io").BytesIO(pdf)).pages))
        floor_median = statistics.median(floor)
        results["records"] = len(job_times)
        results["pages"] = sorted(set(pages))
        results["floor_median_ms"] = floor_median * 1000
        results["floor_cpu_median_ms"] = statistics.median(floor_cpu) * 1000
        results["render_sign_cpu_median_ms"] = statistics.median(render_sign_cpu) * 1000
        results["render_sign_cpu_p95_ms"] = _pct(render_sign_cpu, 0.95) * 1000
        for label, values in (("render_sign", render_sign_times), ("job", job_times)):
            results[f"{label}_median_ms"] = statistics.median(values) * 1000
            results[f"{label}_p95_ms"] = _pct(values, 0.95) * 1000
            results[f"{label}_ratio_to_floor"] = statistics.median(values) / floor_median
        print(f"\n1. {len(job_times)} signed records ({results['pages']} pages, "
              f"{statistics.median(sizes) / 1024:.0f} KiB each), one after another")
        print(f"   floor (one-page trivial WeasyPrint document): median {_ms(floor_median)}")
        print(f"   render + sign:  median {_ms(statistics.median(render_sign_times))}, "
              f"p95 {_ms(_pct(render_sign_times, 0.95))}, "
              f"ratio to floor {results['render_sign_ratio_to_floor']:.1f}  (target median "
              "<= 150 ms)")
        print(f"   render + sign, CPU time of this process (what a busy machine distorts least): "
              f"median {_ms(statistics.median(render_sign_cpu))}, "
              f"p95 {_ms(_pct(render_sign_cpu, 0.95))}, floor {_ms(statistics.median(floor_cpu))}")
        print(f"   whole job (load + content + render + sign): median "
              f"{_ms(statistics.median(job_times))}, p95 {_ms(_pct(job_times, 0.95))}, "
              f"ratio to floor {results['job_ratio_to_floor']:.1f}")

        # 2. The 500-record ZIP from stored records ---------------------------------------------
        records = services.fill_in(org.cycle)
        jobs.forget_queued(db.session)
        db.session.commit()
        for record in records[:5]:
            jobs.run_job(record.id)
        db.session.rollback()
        samples = [r.pdf for r in db.session.scalars(
            sa.select(ReviewRecord).where(ReviewRecord.status == RecordStatus.RENDERED)
            .options(sa.orm.undefer(ReviewRecord.pdf)))]
        extra = builders.launched_cycle(args.zip_records, name="ZIP cycle", team_name="South")
        now = datetime.now(UTC)
        db.session.add_all([ReviewRecord(
            review_id=review.id, version=1, document_id=f"RR-{review.id:06d}-1",
            status=RecordStatus.RENDERED, pdf=samples[i % len(samples)],
            size=len(samples[i % len(samples)]),
            sha256=__import__("hashlib").sha256(samples[i % len(samples)]).hexdigest(),
            content={}, content_sha256="0" * 64, signed=True, signer=signer.name,
            finalized_at=now, rendered_at=now) for i, review in enumerate(extra.reviews)])
        db.session.commit()
        t = time.perf_counter()
        entries = export.cycle_entries(extra.cycle, None)
        size = export.write_zip(entries, folder / "cycle.zip")
        zip_seconds = time.perf_counter() - t
        results["zip_records"] = len(entries)
        results["zip_seconds"] = zip_seconds
        print(f"\n2. cycle ZIP of {len(entries)} stored records ({size / 1024 / 1024:.1f} MiB): "
              f"{zip_seconds:.2f} s  (target <= 5 s)")

        # 3. Workers in parallel ----------------------------------------------------------------
        rate_ids = review_ids[:args.rate_records]

        def reset() -> list[int]:
            db.session.execute(sa.delete(ReviewRecord).where(
                ReviewRecord.review_id.in_(rate_ids)))
            fresh = [ReviewRecord(review_id=rid, version=1, document_id=f"RR-{rid:06d}-1",
                                  finalized_at=now, status=RecordStatus.PENDING)
                     for rid in rate_ids]
            db.session.add_all(fresh)
            db.session.commit()
            return [r.id for r in fresh]

        def rate(ids: list[int]) -> float:
            db.session.rollback()
            first, last, done = db.session.execute(sa.select(
                sa.func.min(ReviewRecord.claimed_at), sa.func.max(ReviewRecord.rendered_at),
                sa.func.count(ReviewRecord.rendered_at)).where(ReviewRecord.id.in_(ids))).one()
            if done != len(ids):
                raise SystemExit(f"only {done} of {len(ids)} records were rendered")
            return len(ids) / (last - first).total_seconds()

        def pool_rate(workers: int) -> float:
            ids = reset()
            pool = jobs.local_pool(app, workers=workers)
            # Start the processes first: spawning is not rendering.
            list(pool.map(abs, range(workers * 2)))
            for handle in jobs.enqueue(ids, backend="pool"):
                handle.result()
            jobs.shutdown_pool()
            return rate(ids)

        print(f"\n3. {len(rate_ids)} records rendered by parallel workers")
        one, two = pool_rate(1), pool_rate(2)
        results["pool_rate_1"], results["pool_rate_2"] = one, two
        print(f"   local pool: 1 process {one:.1f} records/s, 2 processes {two:.1f} records/s, "
              f"speed-up {two / one:.2f}x  (target >= 1.8x)")

        if not args.no_rq:
            from redis import Redis

            redis_url = args.redis_url
            Redis.from_url(redis_url).ping()
            env = {**os.environ, "REVIEWAPP_DATABASE_URL": url,
                   "REVIEWAPP_REDIS_URL": redis_url,
                   "REVIEWAPP_SECRET_KEY": config["SECRET_KEY"],
                   "REVIEWAPP_SIGNING_KEY": str(key), "REVIEWAPP_SIGNING_CERT": str(cert),
                   "REVIEWAPP_ORGANISATION_NAME": "Northwind Sales",
                   "REVIEWAPP_RECORDS_JOBS": "rq", "REVIEWAPP_MAIL_DELIVERY": "manual"}

            def rq_rate(workers: int) -> float:
                queue_name = f"pdf-bench-{uuid.uuid4().hex[:8]}"
                app.config.update(REDIS_URL=redis_url, RECORDS_QUEUE=queue_name)
                ids = reset()
                jobs.enqueue(ids, backend="rq")
                procs = [subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "reviewapp", "records", "worker",
                     "--burst"], env={**env, "REVIEWAPP_RECORDS_QUEUE": queue_name},
                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    for _ in range(workers)]
                for proc in procs:
                    proc.wait(timeout=600)
                jobs.rq_queue().delete(delete_jobs=True)
                return rate(ids)

            one, two = rq_rate(1), rq_rate(2)
            results["rq_rate_1"], results["rq_rate_2"] = one, two
            print(f"   RQ workers: 1 worker {one:.1f} records/s, 2 workers {two:.1f} "
                  f"records/s, speed-up {two / one:.2f}x  (target >= 1.8x)")
    print(f"\nload average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other "
          "work on the machine slows every number above)")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
