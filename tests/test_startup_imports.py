"""App start stays light: the heavy libraries load where they are used (a PDF render, a KPI run,
a chart), not in every `flask` command and gunicorn worker. bench/startup_bench.py times it."""

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("matplotlib", "scipy", "statsmodels", "weasyprint", "pyhanko", "pandas", "numpy",
         "alembic")

PROBE = """
import json, sys
from reviewapp import create_app
create_app({"SECRET_KEY": "probe", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
print(json.dumps(sorted(name for name in sys.modules
                        if any(name == h or name.startswith(h + ".") for h in HEAVY))))
""".replace("HEAVY", repr(HEAVY))


COLLECTIONS = """
import gc, json
import reviewapp
build, inside, collections = reviewapp._build, [], []
def traced(*args):
    inside.append(True)
    try:
        return build(*args)
    finally:
        inside.pop()
reviewapp._build = traced
gc.callbacks.append(lambda phase, info: phase == "start" and inside and collections.append(1))
gc.set_threshold(1, 1, 1)  # would collect at every chance
reviewapp.create_app({"SECRET_KEY": "probe", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
after_enabled = gc.isenabled()
gc.disable()
reviewapp.create_app({"SECRET_KEY": "probe", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
print(json.dumps([len(collections), after_enabled, gc.isenabled()]))
"""


def test_building_the_app_runs_no_garbage_collection_and_restores_the_collector():
    out = subprocess.run([sys.executable, "-c", COLLECTIONS], capture_output=True, text=True,
                         check=True, timeout=120)
    during, enabled_after, enabled_when_it_was_off = json.loads(out.stdout.strip()
                                                                .splitlines()[-1])
    assert during == 0
    assert enabled_after is True
    assert enabled_when_it_was_off is False


def test_creating_the_app_imports_none_of_the_heavy_libraries():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


WORKER = """
import gc, json, sys, threading
import wsgi
at_start = gc.get_freeze_count()
for thread in threading.enumerate():
    if thread.name == "reviewapp-warm-up":
        thread.join(120)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules
                         if any(name == h or name.startswith(h + ".") for h in HEAVY)})))
print(json.dumps([at_start, gc.get_freeze_count()]))
environment = wsgi.app.jinja_env
print(json.dumps(sorted(set(environment.list_templates(extensions=["html"]))
                        - {name for _, name in environment.cache.keys()})))
""".replace("HEAVY", repr(HEAVY))


def _worker(tmp_path, **env) -> tuple[list[str], list[int], list[str]]:
    """The heavy libraries a worker has once warmed up; objects frozen at start and then; the
    page templates it has not compiled."""
    root = Path(__file__).resolve().parent.parent
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWAPP_")}
    environment.update(REVIEWAPP_DATABASE_URL=f"sqlite:///{tmp_path}/w.db",
                       REVIEWAPP_SECRET_KEY="probe-key", **env)
    out = subprocess.run([sys.executable, "-c", WORKER], capture_output=True, text=True,
                         check=True, timeout=180, cwd=root, env=environment)
    modules, frozen, uncompiled = out.stdout.strip().splitlines()[-3:]
    return json.loads(modules), json.loads(frozen), json.loads(uncompiled)


def test_a_server_worker_loads_the_pdf_and_chart_libraries_in_the_background(tmp_path):
    modules, (at_start, warmed), uncompiled = _worker(tmp_path)
    assert modules == ["matplotlib", "numpy", "pandas", "pyhanko", "weasyprint"]
    assert uncompiled == []  # every page's template is ready before anyone asks for it
    # What the worker made at start, and then the libraries, are out of the collector's sight.
    assert 0 < at_start < warmed
    modules, (at_start, later), uncompiled = _worker(tmp_path, REVIEWAPP_WARM_UP="false")
    assert modules == []
    assert "cycles/cycle.html" in uncompiled
    assert 0 < at_start == later
