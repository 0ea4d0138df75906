"""A gunicorn worker with --threads serves several requests of one process at once: what the
process keeps between requests (caches) and what it draws with (matplotlib, whose settings are
the process's) must hold up to that."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

from reviewapp.caching import Lru
from reviewapp.kpis import charts


def test_a_cache_shared_by_threads_keeps_its_size_and_its_values():
    cache: Lru[str] = Lru(16)
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def hammer(seed: int) -> None:
        start.wait()
        try:
            for i in range(4000):
                key = (seed * 7 + i) % 50
                value = cache.get(key)
                assert value is None or value == f"v{key}"
                cache.put(key, f"v{key}")
        except BaseException as exc:  # noqa: BLE001  (reported below, with the thread's data)
            failures.append(exc)

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(cache) == 16


def _points(shift: float) -> dict:
    xs = [1.0, 2.0, 3.0, 4.0, 5.0]
    ys = [x * 2 + shift for x in xs]
    side = {"x": xs, "y": ys, "slope": 2.0, "x_mean": 3.0, "y_mean": 6.0 + shift}
    return {"pooled": side, "within": side}


def _drawn(svg: str) -> str:
    return re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)  # it holds the time


def test_charts_drawn_at_once_in_threads_are_the_charts_drawn_one_by_one():
    jobs = [(_points(n), f"salt-{n}") for n in range(6)]
    charts._cache.clear()
    alone = [_drawn(charts.scatter_svg(points, "calls", "revenue", salt))
             for points, salt in jobs]
    charts._cache.clear()
    with ThreadPoolExecutor(6) as pool:
        together = list(pool.map(lambda job: _drawn(charts.scatter_svg(
            job[0], "calls", "revenue", job[1])), jobs))
    charts._cache.clear()
    assert together == alone
    assert len(set(alone)) == len(jobs)  # each salt and data its own chart
