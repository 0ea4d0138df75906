"""App start stays light: the heavy libraries load where they are used (a PDF render, a KPI run,
a chart), not in every `flask` command and gunicorn worker. bench/startup_bench.py times it."""

import json
import subprocess
import sys

HEAVY = ("matplotlib", "scipy.stats", "statsmodels", "weasyprint", "pyhanko")

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
