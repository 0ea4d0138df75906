"""Import benchmark: the product's import service against the driver's plain bulk insert.

Generates 1,000,000 long rows (2,000 reps x 20 metrics x 25 months), then in the same run times
(a) ReviewApp's import service end to end (read, validate, compare, write, commit) and
(b) the baseline: sqlite3 executemany (or, on PostgreSQL, psycopg COPY) of the same
already-parsed tuples into a table of the same shape (the observations table's own DDL:
columns, unique constraint and indexes). Prints both times, the ratio a/b and the
peak memory of the process that ran the import.

    python bench/import_bench.py                     # SQLite in a temporary folder
    python bench/import_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/test
    python bench/import_bench.py --reps 200          # a quicker, smaller run

Targets: ratio <= 3 and peak RSS < 1 GB.
"""

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))



def baseline_ddl(dialect_name: str) -> list[str]:
    """The observations table's own DDL (columns, constraints, indexes) under another name."""
    from sqlalchemy.dialects import postgresql, sqlite
    from sqlalchemy.schema import CreateIndex, CreateTable

    from reviewapp.metrics.models import Observation

    dialect = postgresql.dialect() if dialect_name == "postgresql" else sqlite.dialect()
    table = Observation.__table__
    statements = [str(CreateTable(table).compile(dialect=dialect))]
    statements += [str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes]
    return [s.replace("observations", "obs_baseline") for s in statements]


def months(n: int) -> list[str]:
    out, year, month = [], 2024, 1
    for _ in range(n):
        out.append(f"{year}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


def make_app(url: str, schema: str | None, instance: Path):
    from reviewapp import create_app

    options = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema else {}
    app = create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "SQLALCHEMY_ENGINE_OPTIONS": options, "IMPORT_MAX_BYTES": 1 << 30})
    app.instance_path = str(instance)
    return app


def prepare(args, work: Path) -> dict:
    """Create the schema, 2,000 reps and 20 metrics, and write the CSV file."""
    import numpy as np
    import pandas as pd

    from reviewapp.auth.models import Role, User
    from reviewapp.extensions import db
    from reviewapp.metrics.catalogue import add_metric

    app = make_app(args.url, args.schema, work)
    with app.app_context():
        db.create_all()
        db.session.add(User(email="hr@bench.test", name="HR", role=Role.HR_ADMIN))
        db.session.flush()
        db.session.execute(
            db.insert(User),
            [{"email": f"rep{i:05d}@bench.test", "name": f"Rep {i}", "role": Role.REP}
             for i in range(args.reps)])
        for m in range(args.metrics):
            add_metric(None, key=f"metric_{m:02d}", name=f"Metric {m}", kind="activity",
                       direction="higher", rollup="sum")
        db.session.commit()
        db.engine.dispose()
    emails = np.array([f"rep{i:05d}@bench.test" for i in range(args.reps)], dtype=object)
    keys = np.array([f"metric_{m:02d}" for m in range(args.metrics)], dtype=object)
    periods = np.array(months(args.months), dtype=object)
    n = args.reps * args.metrics * args.months
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "rep_email": np.repeat(emails, args.metrics * args.months),
        "period": np.tile(periods, args.reps * args.metrics),
        "metric": np.tile(np.repeat(keys, args.months), args.reps),
        "value": np.round(rng.gamma(2.0, 20.0, n), 2),
    })
    path = work / "observations.csv"
    frame.to_csv(path, index=False)
    return {"csv": str(path), "rows": n, "bytes": path.stat().st_size}


def run_import(args, work: Path) -> dict:
    """Child process: the product's import, end to end; reports time and peak RSS."""
    from reviewapp.auth.models import User
    from reviewapp.extensions import db
    from reviewapp.metrics.importer import apply_import, prepare_import

    app = make_app(args.url, args.schema, work)
    data_path = Path(args.csv)
    with app.app_context():
        hr = db.session.scalar(db.select(User).where(User.email == "hr@bench.test"))
        started = time.perf_counter()
        plan = prepare_import(hr, data_path.read_bytes(), data_path.name, source="cli")
        assert plan.ok, plan.errors[:3]
        middle = time.perf_counter()
        batch = apply_import(hr, plan)
        row_count = batch.row_count
        db.session.commit()
        finished = time.perf_counter()
        count = db.session.scalar(db.text("SELECT count(*) FROM observations"))
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": finished - started, "read_validate": middle - started,
            "write_commit": finished - middle, "rows": row_count, "stored": count,
            "peak_rss_mb": peak_kb / 1024}


def parsed_tuples(csv_path: str, args) -> list[tuple]:
    """The same rows, already parsed into the tuples the table stores."""
    import pandas as pd

    frame = pd.read_csv(csv_path)
    rep_ids = frame["rep_email"].str.slice(3, 8).astype(int) + 2  # HR is id 1
    metric_ids = frame["metric"].str.slice(7, 9).astype(int) + 1
    starts = frame["period"] + "-01"
    return list(zip(rep_ids.tolist(), metric_ids.tolist(), ["month"] * len(frame),
                    starts.tolist(), frame["value"].tolist(), [1] * len(frame), strict=True))


def baseline_sqlite(rows: list[tuple], work: Path) -> float:
    path = work / "baseline.db"
    conn = sqlite3.connect(path)  # sqlite3's defaults: rollback journal, no FK enforcement
    for statement in baseline_ddl("sqlite"):
        conn.execute(statement)
    started = time.perf_counter()
    conn.executemany(
        "INSERT INTO obs_baseline (rep_id, metric_id, grain, period_start, value, batch_id) "
        "VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def baseline_postgres(rows: list[tuple], url: str, schema: str) -> float:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, options=f"-csearch_path={schema}") as conn:
        # Same schema as the import's: the foreign keys are checked here too.
        for statement in baseline_ddl("postgresql"):
            conn.execute(statement)
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            with cur.copy("COPY obs_baseline (rep_id, metric_id, grain, period_start, value, "
                          "batch_id) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        conn.commit()
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--metrics", type=int, default=20)
    parser.add_argument("--months", type=int, default=25)
    parser.add_argument("--database-url", dest="url", default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_import(args, Path(args.work))))
        return

    with tempfile.TemporaryDirectory(prefix="reviewapp-bench-") as tmp:
        work = Path(tmp)
        pg = bool(args.url and args.url.startswith("postgresql"))
        if not args.url:
            args.url = f"sqlite:///{work / 'reviewapp.db'}"
        admin = None
        if pg:
            import sqlalchemy as sa

            args.schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(args.url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE SCHEMA "{args.schema}"'))
        try:
            info = prepare(args, work)
            print(f"rows: {info['rows']:,} ({info['bytes'] / 1e6:.0f} MB CSV), "
                  f"database: {'PostgreSQL' if pg else 'SQLite'}")
            command = [sys.executable, __file__, "--child", "--work", str(work),
                       "--database-url", args.url, "--csv", info["csv"]]
            if args.schema:
                command += ["--schema", args.schema]
            child = subprocess.run(command, capture_output=True, text=True,
                                   env={**os.environ, "PYTHONPATH": str(ROOT)})
            if child.returncode != 0:
                sys.exit(child.stderr)
            result = json.loads(child.stdout.strip().splitlines()[-1])
            assert result["stored"] == info["rows"], result
            rows = parsed_tuples(info["csv"], args)
            baseline = (baseline_postgres(rows, args.url, args.schema) if pg
                        else baseline_sqlite(rows, work))
        finally:
            if admin is not None:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{args.schema}" CASCADE'))
    name = "psycopg COPY" if pg else "sqlite3 executemany"
    ratio = result["seconds"] / baseline
    print(f"(a) import service end to end: {result['seconds']:.2f} s "
          f"(read+validate+compare {result['read_validate']:.2f} s, "
          f"write+commit {result['write_commit']:.2f} s)")
    print(f"(b) baseline, {name} of parsed tuples: {baseline:.2f} s")
    print(f"ratio (a)/(b): {ratio:.2f}  (target <= 3)")
    print(f"peak RSS of the import process: {result['peak_rss_mb']:.0f} MB  (target < 1024 MB)")


if __name__ == "__main__":
    main()
