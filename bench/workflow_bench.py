"""Benchmark of the workflow lists (not a test): prints medians (p50) and p90 of inbox and funnel.

    .venv/bin/python bench/workflow_bench.py                  # SQLite
    .venv/bin/python bench/workflow_bench.py --postgres       # also PostgreSQL (DATABASE_URL or the local test DB)
    .venv/bin/python bench/workflow_bench.py --rows 20000 --rounds 30 --no-sqlite --postgres

Per database: a private DB (SQLite file in a temp dir; a throwaway PostgreSQL schema, dropped
afterwards), ``setup --no-demo``, then ``--rows`` (100,000) dispute cases with their org tree,
mediators and employers (tests.support.caseload), and for every case the history the engine would
have written along the shortest route from ``registered`` to its state (app.workflow.demo.routes),
bulk-inserted; then ``recompute_open(all_cases=True)`` fills the derived deadline rows, and
``ANALYZE`` (PostgreSQL: ``VACUUM ANALYZE``, as autovacuum would) runs.  Measured
after warm-up, in rotated rounds: ``queries.inbox`` (first page of 50, incl. the page's deadlines
recomputed from the histories) and ``queries.overdue`` for a station head, a township head and the
county dispatcher, and ``queries.funnel`` for the county and a township head.  Target p50 < 100 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text, update  # noqa: E402

from tests.support.database import throwaway_schema  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_MS = 100.0
TODAY = dt.date(2026, 6, 1)


@contextmanager
def sqlite_db() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="jf_wfbench_") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def overrides(uri: str) -> dict[str, Any]:
    return {"SQLALCHEMY_DATABASE_URI": uri, "TESTING": True, "WTF_CSRF_ENABLED": False,
            "CONFIG_DIR": str(ROOT / "config"), "SECRET_KEY": "b" * 40}


def load_histories(session: Any, ctx: Any, seed: int = 11, batch: int = 10000) -> int:
    """History rows for every case along the route to its state, ending before TODAY."""
    from app.demo.cases import routes

    rng = random.Random(seed)
    wf = ctx.wf
    paths = routes(wf)
    case = ctx.case_model
    h = ctx.tables.history.__table__
    rows: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    total = 0
    end_of = dt.datetime.combine(TODAY, dt.time(8))
    for cid, state, org in session.execute(select(case.id, case.state, case.current_org_id).order_by(case.id)):
        path = paths.get(state, [])
        if not path:
            continue
        end = end_of - dt.timedelta(hours=rng.randint(1, 24 * 60))
        start = end - dt.timedelta(days=rng.randint(len(path), 20 * len(path)))
        src = wf.initial
        for seq, name in enumerate(path, start=2):
            t = wf.transitions[name]
            at = (start + (end - start) * (seq - 1) / len(path)).replace(microsecond=0)
            rows.append({"case_id": cid, "seq": seq, "workflow": wf.name, "transition": name, "from_state": src,
                         "to_state": t.target, "actor_user_id": None, "actor_username": "bench",
                         "actor_org_id": org, "actor_roles": t.roles[0], "at": at, "comment": None,
                         "data": None})
            src = t.target
        versions.append({"b_id": cid, "b_version": len(path) + 1})
        if len(rows) >= batch:
            session.execute(insert(h), rows)
            total += len(rows)
            rows = []
    if rows:
        session.execute(insert(h), rows)
        total += len(rows)
    tbl = case.__table__
    from sqlalchemy import bindparam

    stmt = update(tbl).where(tbl.c.id == bindparam("b_id")).values(version=bindparam("b_version"))
    for i in range(0, len(versions), batch):
        session.connection().execute(stmt, versions[i:i + batch])
    session.commit()
    return total


def p50_p90(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s), s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))]


def run_database(kind: str, uri: str, rows: int, rounds: int, warmup: int) -> dict[str, Any]:
    from app import create_app
    from tests.support.caseload import load_cases

    print(f"\n=== {kind}: {rows:,} cases, {rounds} rounds after {warmup} warm-up ===", flush=True)
    t = time.perf_counter()
    app = create_app(overrides(uri))
    result = app.test_cli_runner().invoke(args=["setup", "--no-demo"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    with app.app_context():
        from app.workflow import common, deadlines, queries

        session = app.appbuilder.sm.session
        reg = app.extensions["jiefen"]
        ctx = common.context()
        print(f"setup --no-demo: {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        load_cases(session, reg.spec, reg.models, rows)
        n_hist = load_histories(session, ctx)
        print(f"cases + {n_hist:,} history rows: {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        n = deadlines.recompute_open(session, all_cases=True, today_=TODAY, batch=5000)
        open_n = session.execute(select(func.count()).select_from(ctx.tables.deadline)
                                 .where(ctx.tables.deadline.is_open == 1)).scalar()
        print(f"derived deadlines for {n:,} cases ({open_n:,} open): {time.perf_counter() - t:.1f} s", flush=True)
        bind = session.get_bind()
        if bind.dialect.name == "postgresql":  # what autovacuum does in production: stats + visibility map
            with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with bind.connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
        org = ctx.model("org")
        ids = list(session.scalars(select(org.id).order_by(org.id)))
        county, town = ids[0], ids[1]
        case = ctx.case_model
        busy = session.execute(select(case.current_org_id, func.count()).group_by(case.current_org_id)
                               .order_by(func.count().desc()).limit(1)).first()[0]
        station_town = session.execute(select(org.parent_id).where(org.id == busy)).scalar()
        who = {
            "station_head": common.make_principal(session, ctx, ["station_head"], username="b1", org_id=busy),
            "township_head": common.make_principal(session, ctx, ["township_head"], username="b2",
                                                   org_id=station_town or town),
            "dispatcher": common.make_principal(session, ctx, ["dispatcher"], username="b3", org_id=county),
        }
        calls: dict[str, Callable[[], Any]] = {}
        for name, p in who.items():
            calls[f"inbox {name}"] = lambda p=p: queries.inbox(session, p, limit=50, today=TODAY)
            calls[f"overdue {name}"] = lambda p=p: queries.overdue(session, p, limit=50, today=TODAY)
        calls["funnel dispatcher"] = lambda: queries.funnel(session, who["dispatcher"])
        calls["funnel township_head"] = lambda: queries.funnel(session, who["township_head"])
        sizes = {}
        for name, fn in calls.items():
            for _ in range(warmup):
                out = fn()
            sizes[name] = out.get("total", out.get("open_total"))
        samples: dict[str, list[float]] = {k: [] for k in calls}
        names = list(calls)
        gc.collect()
        for i in range(rounds):
            for name in names[i % len(names):] + names[:i % len(names)]:
                t = time.perf_counter()
                calls[name]()
                samples[name].append((time.perf_counter() - t) * 1000)
                session.rollback()
        app.appbuilder.sm.session.remove()
        app.appbuilder.sm.session.get_bind().dispose()
    out = {}
    print(f"\n{'call':<26}{'p50 ms':>9}{'p90 ms':>9}{'rows':>9}")
    for name in names:
        med, p90 = p50_p90(samples[name])
        out[name] = med
        print(f"{name:<26}{med:>9.1f}{p90:>9.1f}{sizes[name]:>9}")
    return {"kind": kind, "p50": out}


def main(argv: Any = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args(argv)
    pg_url = os.environ.get("DATABASE_URL", "")
    pg = pg_url if pg_url.startswith("postgres") else (DEFAULT_PG if args.postgres else None)
    results = []
    if not args.no_sqlite:
        with sqlite_db() as uri:
            results.append(run_database("sqlite", uri, args.rows, args.rounds, args.warmup))
    if pg:
        with throwaway_schema(pg, prefix="jf_wfbench") as uri:
            results.append(run_database("postgresql", uri, args.rows, args.rounds, args.warmup))
    if results:
        print(f"\n=== summary: p50 ms (target < {TARGET_MS:.0f}) ===")
        names = list(results[0]["p50"])
        print(f"{'':<26}" + "".join(f"{r['kind']:>12}" for r in results))
        for name in names:
            print(f"{name:<26}" + "".join(f"{r['p50'][name]:>12.1f}" for r in results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
