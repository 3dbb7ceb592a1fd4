"""Benchmark of the generated case list (not a test): prints medians, SQL counts and ratios.

    .venv/bin/python bench/list_bench.py                 # SQLite (+ PostgreSQL if DATABASE_URL is set)
    .venv/bin/python bench/list_bench.py --postgres      # also PostgreSQL (DATABASE_URL or the local test DB)
    .venv/bin/python bench/list_bench.py --rows 20000 --rounds 30 --no-sqlite --postgres

Per database: a private DB (a SQLite file in a temp dir; a throwaway schema on PostgreSQL,
dropped afterwards), ``setup --no-demo`` (schema, permissions, roles) plus an admin user,
then 100,000 dispute cases with their orgs (200, a county/township/station tree),
mediators (2,000) and employers (5,000) bulk-inserted with ``insert(Model)`` in batches
(``tests.support.caseload``).  Then, with Flask's test client logged in as admin, after
warm-up, in interleaved rotated rounds (median and p90 of ``--rounds``, default 20):

* the generated case list page (HTML, default order ``-registered_at``, page of 25);
* the same page from a HAND-WRITTEN FAB ``ModelView`` (plain ``SQLAInterface``, same list
  columns/order/search columns) registered on the same app → generated / hand-written ratio;
* the generated REST list and a hand-written ``ModelRestApi`` of the same model;
* the "summary contains" search on both pages (LIKE in ours, FAB's ILIKE in the hand-written);
* app start on the populated DB: ``create_app`` in-process (median of 5) and in fresh
  subprocesses (median of 5, so imports are counted: interpreter start to app ready).

Both pages run under the same app, so both use our security manager (permissions loaded
once per request): the ratio isolates what the generated classes add or save.

Targets (issue #3 / fab5-notes §7a): Django admin list 44 ms (SQLite) / 61 ms (PostgreSQL);
hand-written FAB 56 / 87 ms; generated / hand-written ≤ 1.0; start < 2 s.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from tests.support.database import throwaway_schema  # noqa: E402
from tests.support.hand_fab import hand_written  # noqa: E402

PASSWORD = "Bench@2026"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGETS = {"sqlite": {"django": 44.0, "hand_fab": 56.0}, "postgresql": {"django": 61.0, "hand_fab": 87.0}}
START_TARGET = 2.0


# --------------------------------------------------------------------------- databases
@contextmanager
def sqlite_db() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="jf_bench_") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def postgres_db(base: str):  # type: ignore[no-untyped-def]
    return throwaway_schema(base, prefix="jf_bench")


def overrides(uri: str) -> dict[str, Any]:
    return {"SQLALCHEMY_DATABASE_URI": uri, "TESTING": True, "WTF_CSRF_ENABLED": False,
            "CONFIG_DIR": str(ROOT / "config"), "SECRET_KEY": "b" * 40}


# --------------------------------------------------------------------------- measuring
def median_p90(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s), s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]


def count_statements(app: Flask, fn: Callable[[], Any]) -> int:
    with app.app_context():
        engine = app.appbuilder.sm.session.get_bind()
    seen = [0]

    def listener(*_a: Any) -> None:
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return seen[0]


def bench_requests(app: Flask, urls: dict[str, str], rounds: int, warmup: int) -> dict[str, dict[str, float]]:
    client = app.test_client()
    resp = client.post("/login/", data={"username": "admin", "password": PASSWORD})
    assert resp.status_code == 302 and "/login" not in resp.headers.get("Location", ""), "bench login failed"

    def hit(url: str) -> None:
        r = client.get(url)
        assert r.status_code == 200, f"{url}: HTTP {r.status_code}"

    for _ in range(warmup):
        for url in urls.values():
            hit(url)
    samples: dict[str, list[float]] = {k: [] for k in urls}
    names = list(urls)
    gc.collect()
    for i in range(rounds):
        rotated = names[i % len(names):] + names[:i % len(names)]
        for name in rotated:
            t = time.perf_counter()
            hit(urls[name])
            samples[name].append((time.perf_counter() - t) * 1000)
    out = {}
    for name, url in urls.items():
        med, p90 = median_p90(samples[name])
        out[name] = {"median": med, "p90": p90, "sql": count_statements(app, lambda u=url: hit(u)),
                     "bytes": len(client.get(url).get_data())}
    return out


START_SNIPPET = """
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from app import create_app
t1 = time.perf_counter()
create_app({cfg!r})
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def bench_start(uri: str, runs: int = 5) -> dict[str, float]:
    from app import create_app

    inproc = []
    for _ in range(runs):
        t = time.perf_counter()
        app = create_app(overrides(uri))
        inproc.append(time.perf_counter() - t)
        with app.app_context():
            app.appbuilder.sm.session.remove()
            app.appbuilder.sm.session.get_bind().dispose()
    walls, imports, creates = [], [], []
    code = START_SNIPPET.format(root=str(ROOT), cfg=overrides(uri))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    for _ in range(runs):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(ROOT))
        walls.append(time.perf_counter() - t)
        if out.returncode != 0:
            raise RuntimeError("start subprocess failed:\n" + out.stderr[-2000:])
        imp, cre = (float(x) for x in out.stdout.split()[-2:])
        imports.append(imp)
        creates.append(cre)
    ready = [i + c for i, c in zip(imports, creates)]
    return {"inproc": statistics.median(inproc), "sub_wall": statistics.median(walls),
            "sub_import": statistics.median(imports), "sub_create": statistics.median(creates),
            "sub_ready": statistics.median(ready)}


# --------------------------------------------------------------------------- one database
def run_database(kind: str, uri: str, rows: int, rounds: int, warmup: int) -> dict[str, Any]:
    from app import create_app
    from tests.support.caseload import load_cases

    print(f"\n=== {kind}: {rows:,} cases, {rounds} rounds after {warmup} warm-up ===", flush=True)
    t = time.perf_counter()
    app = create_app(overrides(uri))
    hand_view, hand_api = hand_written(app)
    with app.app_context():  # before setup: its permissions go to Admin there
        app.appbuilder.add_view_no_menu(hand_view)
        app.appbuilder.add_api(hand_api)
    result = app.test_cli_runner().invoke(args=["setup", "--no-demo"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    with app.app_context():
        sm = app.appbuilder.sm
        sm.add_user("admin", "Admin", "Bench", "admin@example.invalid", sm.find_role(sm.auth_role_admin),
                    password=PASSWORD)
        print(f"setup --no-demo + admin: {time.perf_counter() - t:.1f} s", flush=True)
        reg = app.extensions["jiefen"]
        t = time.perf_counter()
        added = load_cases(sm.session, reg.spec, reg.models, rows)
        load_s = time.perf_counter() - t
        bind = sm.session.get_bind()
        if bind.dialect.name == "postgresql":  # what autovacuum does in production: stats + visibility map
            with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with bind.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        print(f"bulk insert {added}: {load_s:.1f} s", flush=True)
        term = str(rows // 2 + 7)[-4:]  # summary values are YX-LOAD-SUMMAR-<id>
    gen, hand = "/disputecaseview/list/", f"/{hand_view.__name__.lower()}/list/"
    urls = {
        "html_generated": gen,
        "html_hand": hand,
        "rest_generated": "/api/v1/dispute_case/",
        "rest_hand": "/api/v1/hand_case/",
        "search_generated": f"{gen}?_flt_2_summary={term}",  # 2 = "contains" among string filters
        "search_hand": f"{hand}?_flt_2_summary={term}",
    }
    t = time.perf_counter()
    timings = bench_requests(app, urls, rounds, warmup)
    print(f"requests measured in {time.perf_counter() - t:.1f} s", flush=True)
    with app.app_context():
        app.appbuilder.sm.session.remove()
        app.appbuilder.sm.session.get_bind().dispose()
    start = bench_start(uri)

    print(f"\n{'request':<22}{'median ms':>11}{'p90 ms':>9}{'SQL':>6}{'bytes':>9}")
    for name, r in timings.items():
        print(f"{name:<22}{r['median']:>11.1f}{r['p90']:>9.1f}{r['sql']:>6d}{r['bytes']:>9d}")
    for page in ("html", "rest", "search"):
        g, h = timings[f"{page}_generated"]["median"], timings[f"{page}_hand"]["median"]
        print(f"{page}: generated / hand-written = {g / h:.2f}")
    tg = TARGETS[kind]
    print(f"html generated / Django admin target ({tg['django']:.0f} ms) = "
          f"{timings['html_generated']['median'] / tg['django']:.2f}; "
          f"/ documented hand-written FAB ({tg['hand_fab']:.0f} ms) = "
          f"{timings['html_generated']['median'] / tg['hand_fab']:.2f}")
    print(f"start on populated DB: in-process create_app {start['inproc']:.2f} s; fresh process ready in "
          f"{start['sub_ready']:.2f} s (imports {start['sub_import']:.2f} s + create_app "
          f"{start['sub_create']:.2f} s); process wall incl. interpreter exit {start['sub_wall']:.2f} s")
    return {"kind": kind, "timings": timings, "start": start, "load_s": load_s}


def summary(results: list[dict[str, Any]]) -> None:
    print("\n=== summary (median ms; SQL statements per request) ===")
    head = f"{'':<30}" + "".join(f"{r['kind']:>18}" for r in results)
    print(head)

    def row(label: str, fn: Callable[[dict[str, Any]], str]) -> None:
        print(f"{label:<30}" + "".join(f"{fn(r):>18}" for r in results))

    for name in ("html_generated", "html_hand", "rest_generated", "rest_hand", "search_generated", "search_hand"):
        row(name, lambda r, n=name: f"{r['timings'][n]['median']:.1f} ({r['timings'][n]['sql']})")
    row("rest payload bytes gen / hand", lambda r: f"{r['timings']['rest_generated']['bytes']} / {r['timings']['rest_hand']['bytes']}")
    row("rest generated/hand (≤0.5)", lambda r: f"{r['timings']['rest_generated']['median'] / r['timings']['rest_hand']['median']:.2f}")
    for page in ("html", "rest", "search"):
        row(f"{page} generated/hand (≤1.0)", lambda r, p=page: f"{r['timings'][p + '_generated']['median'] / r['timings'][p + '_hand']['median']:.2f}")
    row("html target: Django admin", lambda r: f"{TARGETS[r['kind']]['django']:.0f}")
    row("html target: hand FAB (doc)", lambda r: f"{TARGETS[r['kind']]['hand_fab']:.0f}")
    row("html generated / Django", lambda r: f"{r['timings']['html_generated']['median'] / TARGETS[r['kind']]['django']:.2f}")
    row("start in-process s", lambda r: f"{r['start']['inproc']:.2f}")
    row(f"start, fresh process to ready s (<{START_TARGET:.0f})", lambda r: f"{r['start']['sub_ready']:.2f}")
    row("start, process wall incl. exit s", lambda r: f"{r['start']['sub_wall']:.2f}")
    row("bulk insert s", lambda r: f"{r['load_s']:.1f}")


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--postgres", action="store_true", help="also PostgreSQL (DATABASE_URL or the local test DB)")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args(argv)
    if args.rounds < 20:
        ap.error("--rounds must be at least 20")
    pg_url = os.environ.get("DATABASE_URL", "")
    pg = pg_url if pg_url.startswith("postgres") else (DEFAULT_PG if args.postgres else None)
    results = []
    if not args.no_sqlite:
        with sqlite_db() as uri:
            results.append(run_database("sqlite", uri, args.rows, args.rounds, args.warmup))
    if pg:
        with postgres_db(pg) as uri:
            results.append(run_database("postgresql", uri, args.rows, args.rounds, args.warmup))
    if results:
        summary(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
