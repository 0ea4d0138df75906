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


def test_creating_the_app_imports_none_of_the_heavy_libraries():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


WORKER = """
import json, sys, threading
import wsgi
for thread in threading.enumerate():
    if thread.name == "reviewapp-warm-up":
        thread.join(120)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules
                         if any(name == h or name.startswith(h + ".") for h in HEAVY)})))
""".replace("HEAVY", repr(HEAVY))


def _worker_modules(tmp_path, **env) -> list[str]:
    root = Path(__file__).resolve().parent.parent
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWAPP_")}
    environment.update(REVIEWAPP_DATABASE_URL=f"sqlite:///{tmp_path}/w.db",
                       REVIEWAPP_SECRET_KEY="probe-key", **env)
    out = subprocess.run([sys.executable, "-c", WORKER], capture_output=True, text=True,
                         check=True, timeout=180, cwd=root, env=environment)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_server_worker_loads_the_pdf_and_chart_libraries_in_the_background(tmp_path):
    assert _worker_modules(tmp_path) == ["matplotlib", "numpy", "pandas", "pyhanko", "weasyprint"]
    assert _worker_modules(tmp_path, REVIEWAPP_WARM_UP="false") == []
