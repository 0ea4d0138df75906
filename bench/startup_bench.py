"""Start-up time: `import reviewapp` + `create_app()`, as every `flask` command and every gunicorn
worker pays it, against a bare Flask + Flask-SQLAlchemy app as the baseline.

Each measure is a fresh interpreter (imports are cached within one), best of --runs, the cases
taking turns, with bytecode written and read as an installed app has it. With
`--compare-with DIR` (a source tree of an older commit, e.g. from `git archive`) it also
times that tree and prints old / new. It also names the heavy libraries the start-up imported:
matplotlib, scipy, statsmodels, pandas, numpy, Alembic... belong to the pages, runs and
commands that use them.

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
HEAVY = ("matplotlib", "scipy", "statsmodels", "weasyprint", "pyhanko", "pandas", "numpy",
         "alembic")

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


def run_once(code: str, tree: Path) -> dict:
    """One fresh interpreter with `tree` first on sys.path. Bytecode is written and read as in
    an installed app (this machine's shell sets PYTHONDONTWRITEBYTECODE, which would make every
    start compile the whole package from source)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(tree)
    out = subprocess.run([sys.executable, "-c", code], cwd=tree, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(cases: dict[str, tuple[str, Path]], runs: int) -> dict[str, dict]:
    """Best wall time of each case; the cases take turns, so drift weighs on all of them, after
    one uncounted start each (it writes the bytecode)."""
    for code, tree in cases.values():
        run_once(code, tree)
    best = {name: {"seconds": float("inf"), "heavy": []} for name in cases}
    for _ in range(runs):
        for name, (code, tree) in cases.items():
            result = run_once(code, tree)
            if result["seconds"] < best[name]["seconds"]:
                best[name] = result
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--compare-with", type=Path, help="source tree of an older version")
    args = parser.parse_args()

    cases = {"baseline": (BASELINE, ROOT), "now": (APP, ROOT)}
    if args.compare_with:
        cases["before"] = (APP, args.compare_with.resolve())
    best = measure(cases, args.runs)
    baseline, now, heavy = best["baseline"]["seconds"], best["now"]["seconds"], best["now"]["heavy"]
    print(f"bare Flask + SQLAlchemy app:   {baseline:6.3f} s")
    print(f"import reviewapp + create_app: {now:6.3f} s  ({now / baseline:.1f}x the bare app; "
          f"target well under 1 s)")
    print(f"heavy libraries imported at start-up: {', '.join(heavy) or 'none'}")
    if args.compare_with:
        before, before_heavy = best["before"]["seconds"], best["before"]["heavy"]
        print(f"older tree {args.compare_with}: {before:6.3f} s "
              f"(heavy: {', '.join(before_heavy) or 'none'})")
        print(f"before / after: {before / now:.2f}")


if __name__ == "__main__":
    main()
