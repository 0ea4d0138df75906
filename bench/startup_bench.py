"""Start-up time: `import reviewapp` + `create_app()`, as every `flask` command and every gunicorn
worker pays it, against a bare Flask + Flask-SQLAlchemy app as the baseline.

Each measure is a fresh interpreter (imports are cached within one), best of --runs. With
`--compare-with DIR` (a source tree of an older commit, e.g. from `git archive`) it also
times that tree and prints old / new. It also names the heavy libraries the start-up imported:
matplotlib, scipy.stats and statsmodels.api belong to the pages and runs that use them.

    python bench/startup_bench.py [--runs 7] [--compare-with /tmp/before_tree]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("matplotlib", "scipy.stats", "statsmodels.api", "weasyprint")

APP = """
import json, sys, time
t = time.perf_counter()
from reviewapp import create_app
create_app({"SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "heavy": [m for m in HEAVY if m in sys.modules]}))
""".replace("HEAVY", repr(HEAVY))

BASELINE = """
import json, time
t = time.perf_counter()
from flask import Flask
from flask_sqlalchemy import SQLAlchemy
app = Flask("baseline")
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
SQLAlchemy().init_app(app)
print(json.dumps({"seconds": time.perf_counter() - t, "heavy": []}))
"""


def measure(code: str, tree: Path, runs: int) -> tuple[float, list[str]]:
    """Best wall time of `code` over fresh interpreters with `tree` first on sys.path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    best, heavy = float("inf"), []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True,
                             capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        if result["seconds"] < best:
            best, heavy = result["seconds"], result["heavy"]
    return best, heavy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--compare-with", type=Path, help="source tree of an older version")
    args = parser.parse_args()

    baseline, _ = measure(BASELINE, ROOT, args.runs)
    now, heavy = measure(APP, ROOT, args.runs)
    print(f"bare Flask + SQLAlchemy app:   {baseline:6.3f} s")
    print(f"import reviewapp + create_app: {now:6.3f} s  ({now / baseline:.1f}x the bare app; "
          f"target well under 1 s)")
    print(f"heavy libraries imported at start-up: {', '.join(heavy) or 'none'}")
    if args.compare_with:
        before, before_heavy = measure(APP, args.compare_with.resolve(), args.runs)
        print(f"older tree {args.compare_with}: {before:6.3f} s "
              f"(heavy: {', '.join(before_heavy) or 'none'})")
        print(f"before / after: {before / now:.2f}")


if __name__ == "__main__":
    main()
