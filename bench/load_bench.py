"""Load bench: an organisation of 500 reps served by gunicorn, driven by simulated users.

Builds the organisation (--reps, default 500: a manager with 200 reports, one with 5, the rest
in teams of 15; a year of monthly data for six metrics, goals for every rep and team, a launched
cycle with a review per rep) in a scratch database (SQLite file, or a scratch PostgreSQL
database), serves it with gunicorn (--workers, default 2), and drives it with threads and
requests (one session per simulated user):

(a) think-time phase: --users (50) users log in, then walk their role's pages with 1-3 s of
    think time, for --seconds (60);
(b) burst: for each page in turn, 20 closed-loop users with no think time for --burst-seconds
    (10), the trivial route (the anonymous login page) first as the baseline; a visit of a
    form page is loading the page that holds the form, then posting it.

Prints p50/p95 per page in both phases, the server errors (5xx or no answer), and each page's
burst throughput as a share of the trivial route's; then single requests of the manager
dashboard, team metrics and the goal tree for the manager with 200 reports against the one
with 5, the two managers' requests taking turns. Pages
whose route does not exist in this version are skipped with a note (PAGES is the table to
extend). A bench, not a test: it is not run in CI.

    python bench/load_bench.py                                   # SQLite
    python bench/load_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Targets (issue 17): 0 server errors; p95 <= 100 ms per page in the think-time phase; burst
throughput of every page >= 25 % of the trivial route's; 200 reports <= 1.5x 5 reports.

--fault (PostgreSQL only) restarts the database --fault-at seconds into the think-time phase,
for --fault-seconds, and reports the answers before, during and after it: 503 (the retry page)
against other 5xx and no answer, and whether requests succeed again without restarting
gunicorn; phases (b) and (c) are then skipped. `--fault pg_ctl` stops and starts the server
with `pg_ctlcluster VERSION NAME stop|start` (--pg-cluster, default: the cluster on the URL's
port; run as root or the postgres user) and so stops every database on it, for everyone;
`--fault-dry-run` prints those commands instead of running them. `--fault proxy` puts
tests/faultproxy.py between gunicorn and PostgreSQL and plays the restart there (every
connection cut, new ones refused), touching nothing shared.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "bench-password-123"
SECRET = "bench-secret-key-" + "x" * 40


# The pages -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One page of a scenario: who uses it, its route (to skip it where it does not exist),
    the URL from the user's records, and the form to post (None: a GET)."""

    name: str
    roles: tuple[str, ...]
    endpoint: str
    url: object  # (user: dict) -> str | None
    form_from: object = None  # (user) -> URL of the page holding the form to submit
    weight: int = 1


PAGES = [
    Page("dashboard", ("rep", "manager", "hr"), "dashboard.index", lambda u: "/dashboard",
         weight=3),
    Page("team metrics", ("manager", "hr"), "metrics.team", lambda u: "/metrics/team"),
    Page("goal tree", ("manager", "hr"), "goals.tree", lambda u: "/goals/tree"),
    Page("rep metrics", ("rep",), "metrics.person", lambda u: f"/metrics/people/{u['id']}"),
    Page("goal check-in", ("rep",), "goals.check_in",
         lambda u: f"/goals/{u['goal']}/check-ins", form_from=lambda u: f"/goals/{u['goal']}"),
    Page("review form save", ("rep",), "reviews.self_assessment",
         lambda u: f"/reviews/{u['review']}/self", form_from=lambda u: f"/reviews/{u['review']}"),
    Page("review page", ("manager",), "reviews.review", lambda u: f"/reviews/{u['review']}"),
    Page("cycle page", ("hr",), "cycles.cycle", lambda u: f"/cycles/{u['cycle']}"),
    Page("PDF download", ("rep", "manager"), "records.draft",
         lambda u: f"/records/reviews/{u['review']}/draft.pdf"),
]
TRIVIAL = Page("trivial (login page)", ("anon",), "auth.login", lambda u: "/auth/login")


# Building the organisation -------------------------------------------------------------------


def build(url: str, n_reps: int) -> dict:
    """The organisation in the database at `url`; the users the bench logs in as."""
    from werkzeug.security import generate_password_hash

    from reviewapp import create_app
    from reviewapp.auth.models import Role, Team, User
    from reviewapp.cycles.catalogue import ensure_default_competencies
    from reviewapp.cycles.services import CycleDraft, launch, save_cycle
    from reviewapp.extensions import db
    from reviewapp.goals.services import GoalDraft, create_goal
    from reviewapp.metrics.catalogue import add_metric
    from reviewapp.metrics.importer import apply_import, prepare_import
    from reviewapp.metrics.models import KpiStatus
    from reviewapp.metrics.periods import current_quarter
    from reviewapp.reviews.models import Review

    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": url})
    app.logger.setLevel("WARNING")  # not a line per e-mail the launch would send
    with app.app_context():
        db.create_all()
        pw = generate_password_hash(PASSWORD)
        hr = User(email="hr@bench.test", name="HR Bench", role=Role.HR_ADMIN, password_hash=pw)
        db.session.add(hr)
        sizes = [200, 5] + [15] * max(0, (n_reps - 205) // 15)
        sizes.append(n_reps - sum(sizes)) if n_reps > sum(sizes) else None
        managers, teams, reps = [], [], []
        for t, size in enumerate(s for s in sizes if s > 0):
            manager = User(email=f"manager{t}@bench.test", name=f"Manager {t:03d}",
                           role=Role.MANAGER, password_hash=pw)
            team = Team(name=f"Team {t:03d}", manager=manager)
            db.session.add_all([manager, team])
            managers.append(manager)
            teams.append(team)
            for _ in range(size):
                rep = User(email=f"rep{len(reps)}@bench.test", name=f"Rep {len(reps):04d}",
                           role=Role.REP, manager=manager, team=team, password_hash=pw)
                db.session.add(rep)
                reps.append(rep)
        db.session.commit()
        keys = [("revenue", "outcome", "sum"), ("new_business", "outcome", "sum"),
                ("calls_per_day", "activity", "mean"), ("emails_sent", "activity", "sum"),
                ("meetings", "activity", "sum"), ("proposals", "activity", "sum")]
        metrics = {k: add_metric(None, key=k, name=k.replace("_", " ").capitalize(), kind=kind,
                                 direction="higher", rollup=how) for k, kind, how in keys}
        metrics["meetings"].kpi_status = KpiStatus.KPI
        quarter = current_quarter()
        month = quarter.start.replace(day=1)
        labels = []
        for _ in range(12):
            labels.append(f"{month.year}-{month.month:02d}")
            month = (month - timedelta(days=1)).replace(day=1)
        rng = random.Random(17)
        lines = ["rep_email,period,metric,value"]
        for rep in reps:
            for label in labels:
                for key, _, _ in keys:
                    lines.append(f"{rep.email},{label},{key},{rng.randint(1, 5000)}")
        plan = prepare_import(hr, ("\n".join(lines) + "\n").encode(), "bench.csv", source="cli")
        assert plan.ok, plan.errors[:3]
        apply_import(hr, plan)
        goals = {}
        for manager, team in zip(managers, teams, strict=True):
            parent, _ = create_goal(manager, GoalDraft(
                scope="team", title="Team revenue", kind="metric", team_id=team.id,
                quarter=quarter.label, metric_id=metrics["revenue"].id, start_value=0,
                target_value=1_000_000))
            for rep in [r for r in reps if r.team_id == team.id]:
                goal, _ = create_goal(manager, GoalDraft(
                    scope="individual", title="Meetings", kind="metric", owner_id=rep.id,
                    quarter=quarter.label, metric_id=metrics["meetings"].id, start_value=0,
                    target_value=60, parent_id=parent.id))
                goals[rep.id] = goal.id
        db.session.commit()
        today = date.today()
        cycle = save_cycle(hr, None, CycleDraft(
            name="Bench cycle", period=quarter.label, self_due=today + timedelta(days=5),
            manager_due=today + timedelta(days=10), calibration_due=today + timedelta(days=15),
            acknowledgement_due=today + timedelta(days=20), team_ids=[t.id for t in teams],
            competency_ids=[c.id for c in ensure_default_competencies()],
            kpis=[(metrics["meetings"].id, 40.0, 1.0)]))
        launch(hr, cycle)
        db.session.commit()
        reviews = dict(db.session.execute(db.select(Review.rep_id, Review.id)).all())
        first_review = {m.id: reviews[next(r.id for r in reps if r.manager_id == m.id)]
                        for m in managers}
        routes = {rule.endpoint for rule in app.url_map.iter_rules()}
        users = {"hr": [{"email": hr.email, "id": hr.id, "cycle": cycle.id}],
                 "manager": [{"email": m.email, "id": m.id, "review": first_review[m.id],
                              "cycle": cycle.id} for m in managers],
                 "rep": [{"email": r.email, "id": r.id, "goal": goals[r.id],
                          "review": reviews[r.id], "cycle": cycle.id} for r in reps]}
        big, small = users["manager"][0], users["manager"][1]
        db.session.remove()
        db.engine.dispose()
    return {"users": users, "routes": routes, "big": big, "small": small}


# Driving it ----------------------------------------------------------------------------------


class _Form(HTMLParser):
    """The named fields of the first form posting to `action` (hidden ones and defaults)."""

    def __init__(self, action: str):
        super().__init__()
        self.action, self.inside, self.fields, self.select = action, False, {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action", "").split("?")[0].endswith(self.action)
        elif self.inside and tag in ("input", "textarea") and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind == "submit":
                return
            value = a.get("value", "")
            if tag == "textarea" or (kind == "text" and not value):
                value = value or "Bench note."
            self.fields.setdefault(a["name"], value)
        elif self.inside and tag == "select" and a.get("name"):
            self.select = a["name"]
        elif self.inside and tag == "option" and self.select:
            if a.get("value") and (self.select not in self.fields or "selected" in a):
                self.fields[self.select] = a["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None


class Recorder:
    """Latencies per page and the server errors, from every thread; with `answers`, also when
    each answer came and its status (None: no answer), for the fault report."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.refused: dict[str, int] = defaultdict(int)
        self.answers: list[tuple[float, int | None]] = []

    def request(self, session: requests.Session, page: str, method: str, url: str, **kw):
        start = time.perf_counter()
        try:
            response = session.request(method, url, timeout=30, allow_redirects=False, **kw)
        except requests.RequestException:
            with self.lock:
                self.errors[page] += 1
                self.answers.append((time.monotonic(), None))
            return None
        elapsed = time.perf_counter() - start
        with self.lock:
            self.answers.append((time.monotonic(), response.status_code))
            self.times[page].append(elapsed)
            if response.status_code >= 500:
                self.errors[page] += 1
            elif response.status_code >= 400:
                self.refused[page] += 1
        return response


def _login(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/auth/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    session.post(f"{base}/auth/login", allow_redirects=False, data={
        "email": email, "password": PASSWORD, "csrf_token": token.group(1) if token else ""})
    return session


def _visit(rec: Recorder, session, base: str, page: Page, user: dict) -> None:
    if page.form_from is None:
        rec.request(session, page.name, "GET", base + page.url(user))
        return
    try:
        holder = session.get(base + page.form_from(user), timeout=30)
    except requests.RequestException:  # the form's page did not answer: count it there
        with rec.lock:
            rec.errors[page.name] += 1
            rec.answers.append((time.monotonic(), None))
        return
    form = _Form(page.url(user))
    form.feed(holder.text)
    fields = {**form.fields, "action": "save"}
    rec.request(session, page.name, "POST", base + page.url(user), data=fields)


def think_time_phase(base: str, org: dict, pages: list[Page], n_users: int,
                     seconds: float, fault: Fault | None = None) -> Recorder:
    rec = Recorder()
    users = ([("hr", u) for u in org["users"]["hr"]]
             + [("manager", u) for u in org["users"]["manager"][: max(1, n_users // 5)]]
             + [("rep", u) for u in org["users"]["rep"]])[:n_users]
    window = {}
    started = threading.Event()
    ready = threading.Barrier(len(users), action=started.set)

    def run(role: str, user: dict, seed: int):
        rng = random.Random(seed)
        # Everyone logs in first (scrypt, on purpose slow); the clock starts when all are in.
        session = _login(base, user["email"])
        mine = [p for p in pages if role in p.roles for _ in range(p.weight)] + [TRIVIAL]
        ready.wait()
        stop = window.setdefault("stop", time.monotonic() + seconds)
        time.sleep(rng.uniform(0.0, 3.0))  # arrivals spread like the think time
        while time.monotonic() < stop:
            page = rng.choice(mine)
            if page is TRIVIAL:
                rec.request(requests, page.name, "GET", base + page.url(user))
            else:
                _visit(rec, session, base, page, user)
            time.sleep(rng.uniform(1.0, 3.0))

    threads = [threading.Thread(target=run, args=(role, user, i))
               for i, (role, user) in enumerate(users)]
    if fault is not None:
        threads.append(threading.Thread(target=fault.play, args=(started,)))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rec


# A database restart in the think-time phase (--fault) ------------------------------------------


class Fault:
    """Take the database down `at` seconds after the phase starts, for `seconds`, then up."""

    def __init__(self, at: float, seconds: float):
        self.at, self.seconds = at, seconds
        self.down_at: float | None = None
        self.up_at: float | None = None
        self.error: Exception | None = None

    def play(self, started: threading.Event) -> None:
        if not started.wait(timeout=900):  # the users never all logged in
            return
        time.sleep(self.at)
        try:
            self.down_at = time.monotonic()
            self.down()
            time.sleep(self.seconds)
            self.up()
            self.up_at = time.monotonic()
        except (OSError, subprocess.CalledProcessError) as exc:
            self.error = exc

    def down(self) -> None:
        raise NotImplementedError

    def up(self) -> None:
        raise NotImplementedError


class ProxyFault(Fault):
    """The restart played by a forwarder between gunicorn and PostgreSQL (nothing shared)."""

    description = "proxy: every connection to PostgreSQL cut, new ones refused"

    def __init__(self, at: float, seconds: float, url: str):
        super().__init__(at, seconds)
        import sqlalchemy as sa

        from tests.faultproxy import FaultProxy

        real = sa.make_url(url)
        self.proxy = FaultProxy(real.host or "127.0.0.1", real.port or 5432).start()
        self.url = real.set(host="127.0.0.1", port=self.proxy.port).render_as_string(
            hide_password=False)

    def down(self) -> None:
        self.proxy.stop()

    def up(self) -> None:
        self.proxy.start()


class ClusterFault(Fault):
    """A real restart: pg_ctlcluster stops and starts the whole server (every database)."""

    def __init__(self, at: float, seconds: float, cluster: str, dry_run: bool):
        super().__init__(at, seconds)
        self.version, self.name = cluster.split("/", 1)
        self.dry_run = dry_run
        self.description = (f"pg_ctlcluster {self.version} {self.name} stop, then start"
                            + (" (dry run: not run)" if dry_run else ""))

    def _ctl(self, action: str) -> None:
        command = ["pg_ctlcluster", self.version, self.name, action]
        if self.dry_run:
            print(f"fault dry run: would run {' '.join(command)}", flush=True)
            return
        subprocess.run(command, check=True)

    def down(self) -> None:
        self._ctl("stop")

    def up(self) -> None:
        self._ctl("start")


def cluster_on_port(port: int) -> str:
    """VERSION/NAME of the local cluster listening on `port`, from pg_lsclusters."""
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_lsclusters") is None:
        raise SystemExit("--fault pg_ctl needs pg_ctlcluster (Debian's postgresql-common); "
                         "without it stop and start the server by hand in the think-time "
                         "phase (e.g. `pg_ctl -D DATADIR stop -m fast`, then `start`), or use "
                         "--fault proxy")
    listing = subprocess.run(["pg_lsclusters", "--no-header"], check=True,
                             capture_output=True, text=True).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[2] == str(port):
            return f"{fields[0]}/{fields[1]}"
    raise SystemExit(f"no local PostgreSQL cluster on port {port}; pass --pg-cluster VER/NAME")


def fault_report(rec: Recorder, fault: Fault) -> None:
    """Answers before, during and after the restart, and whether requests succeed again."""
    if fault.error is not None:
        print(f"\nfault: the restart failed ({fault.error}); start the server again by hand "
              "if it is down")
        return
    if fault.down_at is None or fault.up_at is None:
        print("\nfault: the restart did not happen; use a longer --seconds")
        return
    spans = {"before": [], "during": [], "after": []}
    for at, status in sorted(rec.answers):
        span = "before" if at < fault.down_at else "during" if at < fault.up_at else "after"
        spans[span].append(status)
    print(f"\n(fault) {fault.description}: down at +{fault.at:.1f} s for "
          f"{fault.up_at - fault.down_at:.1f} s")
    print(f"{'when':8} {'answers':>8} {'2xx/3xx':>8} {'4xx':>5} {'503':>5} {'5xx other':>9} "
          f"{'no answer':>9}")
    for span, statuses in spans.items():
        ok = sum(1 for s in statuses if s is not None and s < 400)
        refused = sum(1 for s in statuses if s is not None and 400 <= s < 500)
        unavailable = sum(1 for s in statuses if s == 503)
        other = sum(1 for s in statuses if s is not None and s >= 500 and s != 503)
        silent = sum(1 for s in statuses if s is None)
        print(f"{span:8} {len(statuses):8d} {ok:8d} {refused:5d} {unavailable:5d} {other:9d} "
              f"{silent:9d}")
    after = [(at, s) for at, s in sorted(rec.answers) if at >= fault.up_at]
    first_ok = next((at for at, s in after if s is not None and s < 400), None)
    if first_ok is None:
        print("recovered: NO, no request succeeded after the restart")
        return
    failed_later = sum(1 for at, s in after if at > first_ok + 2 and (s is None or s >= 500))
    print(f"first success {first_ok - fault.up_at:.1f} s after the restart; server errors "
          f"from 2 s after it: {failed_later}; recovered without restarting gunicorn: "
          f"{'yes' if failed_later == 0 else 'NO'}")


def burst(base: str, org: dict, page: Page, n_users: int, seconds: float) -> tuple[float, Recorder]:
    """Requests per second of one page under n closed-loop users, and their latencies."""
    rec = Recorder()
    role = page.roles[0]
    pool = org["users"].get(role) or [{}]
    users = [pool[i % len(pool)] for i in range(n_users)]
    sessions = [(requests.Session() if role == "anon" else _login(base, u["email"]), u)
                for u in users]
    barrier = threading.Barrier(n_users)
    done = [0] * n_users
    window = {}

    def run(i: int):
        session, user = sessions[i]
        barrier.wait()
        window.setdefault("start", time.monotonic())
        stop = window["start"] + seconds
        while time.monotonic() < stop:
            _visit(rec, session, base, page, user)
            done[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / seconds, rec


SINGLE_SAMPLES = 31


def paired(base: str, users: tuple[dict, dict], url: str,
           n: int = SINGLE_SAMPLES) -> tuple[float, float]:
    """Median time of `url` for each of two users, one request at a time, the two users'
    requests taking turns: whatever drifts during the measurement (another process, a worker
    warming up) weighs on both, not on whichever was measured second."""
    sessions = [_login(base, user["email"]) for user in users]
    times: tuple[list[float], list[float]] = ([], [])
    for session in sessions:
        session.get(base + url)  # each worker's first answer is not the one measured
        session.get(base + url)
    for _ in range(n):
        for session, kept in zip(sessions, times, strict=True):
            start = time.perf_counter()
            session.get(base + url)
            kept.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# Serving -------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, workers: int, instance: Path, threads: int = 1
          ) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "REVIEWAPP_DATABASE_URL": url, "REVIEWAPP_SECRET_KEY": SECRET,
           "REVIEWAPP_RATELIMIT_ENABLED": "false", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
         "-b", f"127.0.0.1:{port}", "--timeout", "60", "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            requests.get(f"{base}/auth/login", timeout=2)
            return process, base
        except requests.RequestException:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("gunicorn did not start")


def scratch_database(url: str | None, tmp: Path):
    """(url of a fresh database, cleanup)."""
    if not url:
        return f"sqlite:///{tmp / 'bench.db'}", lambda: None
    import sqlalchemy as sa

    name = f"reviewapp_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def cleanup():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return sa.make_url(url).set(database=name).render_as_string(hide_password=False), cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url")
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (gunicorn --threads; 1, the default, is "
                        "sync workers: on 2 cores 4 threads made most pages' p95 worse and "
                        "SQLite writers wait on each other)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--burst-users", type=int, default=20)
    parser.add_argument("--burst-seconds", type=float, default=10)
    parser.add_argument("--fault", choices=["pg_ctl", "proxy"],
                        help="restart PostgreSQL in the think-time phase (see above)")
    parser.add_argument("--fault-at", type=float, help="seconds into it (default: a third)")
    parser.add_argument("--fault-seconds", type=float, default=5.0)
    parser.add_argument("--pg-cluster", help="VERSION/NAME for pg_ctlcluster (default: the "
                        "cluster on the URL's port)")
    parser.add_argument("--fault-dry-run", action="store_true",
                        help="print the pg_ctlcluster commands instead of running them")
    args = parser.parse_args()
    if args.fault and not (args.database_url or "").startswith("postgres"):
        raise SystemExit("--fault restarts PostgreSQL: give --database-url postgresql+psycopg://…")
    fault_at = args.fault_at if args.fault_at is not None else args.seconds / 3
    if args.fault and fault_at + args.fault_seconds > args.seconds - 5:
        raise SystemExit("--fault needs 5 s of the phase left after the restart: lower "
                         "--fault-at or --fault-seconds, or raise --seconds")
    if args.fault == "pg_ctl" and not args.pg_cluster:
        import sqlalchemy as sa

        args.pg_cluster = cluster_on_port(sa.make_url(args.database_url).port or 5432)

    with tempfile.TemporaryDirectory() as tmp:
        url, cleanup = scratch_database(args.database_url, Path(tmp))
        try:
            started = time.perf_counter()
            org = build(url, args.reps)
            print(f"built {args.reps} reps in {time.perf_counter() - started:.0f} s on "
                  f"{url.split(':')[0]}")
            pages = []
            for page in PAGES:
                if page.endpoint in org["routes"]:
                    pages.append(page)
                else:
                    print(f"note: {page.name} skipped, no route {page.endpoint} in this version")
            fault = make_fault(args, url)
            served = fault.url if isinstance(fault, ProxyFault) else url
            process, base = serve(served, args.workers, Path(tmp), args.threads)
            try:
                report(base, org, pages, args, fault)
            finally:
                process.terminate()
                process.wait(20)
                if isinstance(fault, ProxyFault):
                    fault.proxy.stop()
        finally:
            cleanup()


def make_fault(args, url: str) -> Fault | None:
    """The restart --fault asks for, or None."""
    if not args.fault:
        return None
    at = args.fault_at if args.fault_at is not None else args.seconds / 3
    if args.fault == "proxy":
        return ProxyFault(at, args.fault_seconds, url)
    return ClusterFault(at, args.fault_seconds, args.pg_cluster, args.fault_dry_run)


def _load() -> str:
    """The machine's load average: on a shared machine, other work inflates every figure."""
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def report(base: str, org: dict, pages: list[Page], args, fault: Fault | None = None) -> None:
    print(f"\n(a) think time: {args.users} users, 1-3 s between pages, {args.seconds:.0f} s, "
          f"gunicorn -w {args.workers} --threads {args.threads}; {_load()} "
          f"({os.cpu_count()} cores)")
    rec = think_time_phase(base, org, pages, args.users, args.seconds, fault)
    print(f"{'page':24} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'5xx':>5} {'4xx':>5}")
    for name in [TRIVIAL.name] + [p.name for p in pages]:
        times = rec.times.get(name, [])
        print(f"{name:24} {len(times):8d} {_pct(times, .5):8.0f} {_pct(times, .95):8.0f} "
              f"{rec.errors.get(name, 0):5d} {rec.refused.get(name, 0):5d}")
    print(f"server errors: {sum(rec.errors.values())}; {_load()}")
    if fault is not None:
        fault_report(rec, fault)
        return  # throughput just after a restart measures the restart, not the pages

    print(f"\n(b) burst: {args.burst_users} closed-loop users per page, no think time, "
          f"{args.burst_seconds:.0f} s each")
    baseline, base_rec = burst(base, org, TRIVIAL, args.burst_users, args.burst_seconds)
    print(f"{'page':24} {'req/s':>8} {'share':>7} {'p50 ms':>8} {'p95 ms':>8} {'5xx':>5}")
    trivial_times = base_rec.times[TRIVIAL.name]
    print(f"{TRIVIAL.name:24} {baseline:8.1f} {1:7.0%} {_pct(trivial_times, .5):8.0f} "
          f"{_pct(trivial_times, .95):8.0f} {sum(base_rec.errors.values()):5d}")
    errors = sum(base_rec.errors.values())
    for page in pages:
        rate, page_rec = burst(base, org, page, args.burst_users, args.burst_seconds)
        times = page_rec.times.get(page.name, [])
        errors += sum(page_rec.errors.values())
        print(f"{page.name:24} {rate:8.1f} {rate / baseline:7.1%} {_pct(times, .5):8.0f} "
              f"{_pct(times, .95):8.0f} {sum(page_rec.errors.values()):5d}")
    print(f"server errors: {errors}; {_load()}")

    print(f"\n(c) one request at a time, manager with 200 reports vs 5 (median of "
          f"{SINGLE_SAMPLES}, the two taking turns)")
    for name, url in (("manager dashboard", "/dashboard"), ("team metrics", "/metrics/team"),
                      ("goal tree", "/goals/tree")):
        big, small = paired(base, (org["big"], org["small"]), url)
        print(f"{name:24} {big * 1000:7.1f} ms vs {small * 1000:7.1f} ms  ratio {big / small:.2f}")


if __name__ == "__main__":
    main()
