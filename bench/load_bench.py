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
dashboard and team metrics for the manager with 200 reports against the one with 5. Pages
whose route does not exist in this version are skipped with a note (PAGES is the table to
extend). A bench, not a test: it is not run in CI.

    python bench/load_bench.py                                   # SQLite
    python bench/load_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Targets (issue 17): 0 server errors; p95 <= 100 ms per page in the think-time phase; burst
throughput of every page >= 25 % of the trivial route's; 200 reports <= 1.5x 5 reports.
"""

from __future__ import annotations

import argparse
import os
import random
import re
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
    """Latencies per page and the server errors, from every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.refused: dict[str, int] = defaultdict(int)

    def request(self, session: requests.Session, page: str, method: str, url: str, **kw):
        start = time.perf_counter()
        try:
            response = session.request(method, url, timeout=30, allow_redirects=False, **kw)
        except requests.RequestException:
            with self.lock:
                self.errors[page] += 1
            return None
        elapsed = time.perf_counter() - start
        with self.lock:
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
    holder = session.get(base + page.form_from(user), timeout=30)
    form = _Form(page.url(user))
    form.feed(holder.text)
    fields = {**form.fields, "action": "save"}
    rec.request(session, page.name, "POST", base + page.url(user), data=fields)


def think_time_phase(base: str, org: dict, pages: list[Page], n_users: int,
                     seconds: float) -> Recorder:
    rec = Recorder()
    users = ([("hr", u) for u in org["users"]["hr"]]
             + [("manager", u) for u in org["users"]["manager"][: max(1, n_users // 5)]]
             + [("rep", u) for u in org["users"]["rep"]])[:n_users]
    window = {}
    ready = threading.Barrier(len(users))

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
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rec


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


def single(base: str, user: dict, url: str, n: int = 15) -> float:
    session = _login(base, user["email"])
    session.get(base + url)
    times = []
    for _ in range(n):
        start = time.perf_counter()
        session.get(base + url)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


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


def serve(url: str, workers: int, instance: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {**os.environ, "REVIEWAPP_DATABASE_URL": url, "REVIEWAPP_SECRET_KEY": SECRET,
           "REVIEWAPP_RATELIMIT_ENABLED": "false", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
         "--timeout", "60", "--log-level", "warning", "wsgi:app"],
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
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
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
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--burst-users", type=int, default=20)
    parser.add_argument("--burst-seconds", type=float, default=10)
    args = parser.parse_args()

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
            process, base = serve(url, args.workers, Path(tmp))
            try:
                report(base, org, pages, args)
            finally:
                process.terminate()
                process.wait(20)
        finally:
            cleanup()


def _load() -> str:
    """The machine's load average: on a shared machine, other work inflates every figure."""
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def report(base: str, org: dict, pages: list[Page], args) -> None:
    print(f"\n(a) think time: {args.users} users, 1-3 s between pages, {args.seconds:.0f} s, "
          f"gunicorn -w {args.workers}; {_load()} ({os.cpu_count()} cores)")
    rec = think_time_phase(base, org, pages, args.users, args.seconds)
    print(f"{'page':24} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'5xx':>5} {'4xx':>5}")
    for name in [TRIVIAL.name] + [p.name for p in pages]:
        times = rec.times.get(name, [])
        print(f"{name:24} {len(times):8d} {_pct(times, .5):8.0f} {_pct(times, .95):8.0f} "
              f"{rec.errors.get(name, 0):5d} {rec.refused.get(name, 0):5d}")
    print(f"server errors: {sum(rec.errors.values())}; {_load()}")

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

    print("\n(c) one request at a time, manager with 200 reports vs 5 (median of 15)")
    for name, url in (("manager dashboard", "/dashboard"), ("team metrics", "/metrics/team"),
                      ("goal tree", "/goals/tree")):
        big, small = single(base, org["big"], url), single(base, org["small"], url)
        print(f"{name:24} {big * 1000:7.1f} ms vs {small * 1000:7.1f} ms  ratio {big / small:.2f}")


if __name__ == "__main__":
    main()
