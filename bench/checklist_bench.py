"""Benchmark of the 五有 tracker pages (not a test): prints the median (p50) and p90 per page.

    .venv/bin/python bench/checklist_bench.py                 # SQLite
    .venv/bin/python bench/checklist_bench.py --postgres      # SQLite and PostgreSQL
    .venv/bin/python bench/checklist_bench.py --postgres --no-sqlite --rounds 30

Per database: a private DB (SQLite file in a temp dir; a throwaway schema on PostgreSQL, default
``postgresql+psycopg://postgres@127.0.0.1:5432/test`` or ``DATABASE_URL``), ``setup --no-demo``
plus an admin user, then bulk-inserted with ``insert()``: 1,000 stations (1 county centre,
50 township centres, 949 enterprise stations under them), ``--inspections`` inspections
(default 20,000: 20 per station, 12 % failing a gate, 20 % 基本达标, some expired), one item-result
row per applicable sub-item of each (≈ 480,000 rows) and a rectification per failed row.
Then, logged in as admin (every row in scope), after warm-up, interleaved rounds of:

* ``/checklists/board`` (all 1,000 stations × 5 items), ``/checklists/board?township=…``;
* ``/checklists/coverage`` (targets, per-township shares, most-failed items, SVG charts);
* ``/checklists/board.xlsx`` and ``/checklists/coverage.xlsx``.

Target (issue #6): p50 < 150 ms for the board and the coverage dashboard.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from tests.support.database import throwaway_schema  # noqa: E402

PASSWORD = "Bench@2026"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TARGET_MS = 150.0


@contextmanager
def sqlite_db() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="jf_clbench_") as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def overrides(uri: str, uploads: str) -> dict[str, Any]:
    return {"SQLALCHEMY_DATABASE_URI": uri, "TESTING": True, "WTF_CSRF_ENABLED": False,
            "CONFIG_DIR": str(ROOT / "config"), "SECRET_KEY": "b" * 40, "UPLOAD_DIR": uploads}


def load(app: Any, n_inspections: int) -> tuple[int, int]:
    """Bulk insert the stations, inspections, item results and rectifications."""
    from app.checklists import rules

    reg = app.extensions["jiefen"]
    t = app.extensions["jiefen_checklists"]["five_essentials"]
    d = t.current_def
    s = app.appbuilder.sm.session
    rng = random.Random(6)
    today = dt.date.today()
    Org, Insp, Row, Rect = t.Org, t.Insp, t.Row, t.Rect
    now = dt.datetime.now()
    sysc = {"version": 1, "created_on": now, "changed_on": now}

    def org(code: str, name: str, otype: str, parent: Any) -> int:
        return s.execute(insert(Org).values(org_code=code, official_name=name, org_type=otype, parent_id=parent,
                                            status="operating", **sysc).returning(Org.id)).scalar_one()

    root = org("BX-JM", "联席会议（压测）", "joint_meeting", None)
    cc = org("BX-CC", "县级中心（压测）", "county_centre", root)
    towns = [org(f"BX-T{i:03d}", f"第{i}乡镇分中心（压测）", "township_centre", cc) for i in range(50)]
    rows = [dict(org_code=f"BX-E{i:04d}", official_name=f"第{i}企业调解工作站（压测）", org_type="enterprise_station",
                 parent_id=towns[i % 50], status="operating", **sysc) for i in range(949)]
    s.execute(insert(Org), rows)
    stations = [(cc, "county_centre")] + [(x, "township_centre") for x in towns] + \
        [(oid, "enterprise_station") for oid in s.scalars(select(Org.id).where(Org.org_code.like("BX-E%")))]
    per = max(1, n_inspections // len(stations))
    applicable = {ot: d.applicable(ot) for ot in {ot for _o, ot in stations}}
    gates = {ot: [x.name for x in subs if x.gate] for ot, subs in applicable.items()}
    softs = {ot: [x.name for x in subs if not x.gate] for ot, subs in applicable.items()}
    n = 0
    insp_rows: list[dict[str, Any]] = []
    plan: list[tuple[str, dict[str, str]]] = []
    for oid, ot in stations:
        for k in range(per):
            on = today - dt.timedelta(days=30 * (per - k) + rng.randint(0, 20) - (0 if rng.random() < 0.15 else 200))
            res = {x.name: "pass" for x in applicable[ot]}
            r = rng.random()
            if r < 0.12:
                res[rng.choice(gates[ot])] = "fail"
            elif r < 0.32:
                res[rng.choice(softs[ot])] = "fail"
            overall = rules.overall(d, ot, res)
            n += 1
            insp_rows.append(dict(inspection_no=f"BX-{n:06d}", org_id=oid, checklist_version=d.version,
                                  inspection_type="annual", conducted_at=dt.datetime.combine(on, dt.time(10)),
                                  overall_result=overall, valid_until=rules.valid_until(d, on, overall),
                                  item_summary=json.dumps(rules.item_results(d, ot, res), sort_keys=True),
                                  inspection_status="published", submitted_at=now, **sysc))
            plan.append((ot, res))
    for i in range(0, len(insp_rows), 5000):
        s.execute(insert(Insp), insp_rows[i:i + 5000])
    ids = list(s.scalars(select(Insp.id).where(Insp.inspection_no.like("BX-%")).order_by(Insp.id)))
    batch: list[dict[str, Any]] = []
    rects: list[dict[str, Any]] = []
    subs = d.subs
    total_rows = 0
    for (ot, res), iid, irow in zip(plan, ids, insp_rows):
        for code, val in res.items():
            batch.append(dict(inspection_id=iid, item_code=subs[code].item, sub_item_code=code, item_result=val,
                              **sysc))
            if val == "fail":
                rects.append(dict(inspection_id=iid, org_id=irow["org_id"], item_code=subs[code].item,
                                  sub_item_code=code, requirement="压测整改要求", due_date=today,
                                  rectification_status="verified" if rng.random() < 0.8 else "issued", **sysc))
        if len(batch) >= 20000:
            s.execute(insert(Row), batch)
            total_rows += len(batch)
            batch = []
    if batch:
        s.execute(insert(Row), batch)
        total_rows += len(batch)
    for i in range(0, len(rects), 5000):
        s.execute(insert(Rect), rects[i:i + 5000])
    s.commit()
    return len(insp_rows), total_rows


def run(kind: str, uri: str, n: int, rounds: int, warmup: int) -> dict[str, tuple[float, float]]:
    from app import create_app

    with tempfile.TemporaryDirectory(prefix="jf_clup_") as uploads:
        t0 = time.perf_counter()
        app = create_app(overrides(uri, uploads))
        result = app.test_cli_runner().invoke(args=["setup", "--no-demo"])
        assert result.exit_code == 0, result.output + repr(result.exception)
        with app.app_context():
            sm = app.appbuilder.sm
            sm.add_user("admin", "Admin", "Bench", "admin@example.invalid", sm.find_role(sm.auth_role_admin),
                        password=PASSWORD)
            n_insp, n_rows = load(app, n)
            with sm.session.get_bind().connect() as conn:
                conn.execute(text("ANALYZE"))
                conn.commit()
            town = sm.session.execute(text("SELECT id FROM jf_org WHERE org_code = 'BX-T007'")).scalar()
            sm.session.remove()
        print(f"\n=== {kind}: 1,000 stations, {n_insp:,} inspections, {n_rows:,} item results "
              f"(loaded in {time.perf_counter() - t0:.1f} s); {rounds} rounds after {warmup} warm-up ===", flush=True)
        urls = {"board": "/checklists/board", "board_township": f"/checklists/board?township={town}",
                "coverage": "/checklists/coverage", "board_xlsx": "/checklists/board.xlsx",
                "coverage_xlsx": "/checklists/coverage.xlsx"}
        client = app.test_client()
        resp = client.post("/login/", data={"username": "admin", "password": PASSWORD})
        assert resp.status_code == 302

        def hit(url: str) -> int:
            r = client.get(url)
            assert r.status_code == 200, f"{url}: {r.status_code}"
            return len(r.data)

        sizes = {k: hit(u) for k, u in urls.items()}
        for _ in range(warmup - 1):
            for u in urls.values():
                hit(u)
        samples: dict[str, list[float]] = {k: [] for k in urls}
        names = list(urls)
        gc.collect()
        for i in range(rounds):
            for name in names[i % len(names):] + names[:i % len(names)]:
                t = time.perf_counter()
                hit(urls[name])
                samples[name].append((time.perf_counter() - t) * 1000)
        out = {}
        for name in names:
            xs = sorted(samples[name])
            p50, p90 = statistics.median(xs), xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
            out[name] = (p50, p90)
            mark = ""
            if name in ("board", "coverage"):
                mark = "  (target p50 < 150 ms: " + ("met" if p50 < TARGET_MS else "NOT met") + ")"
            print(f"{name:16s} p50 {p50:7.1f} ms   p90 {p90:7.1f} ms   {sizes[name] / 1024:7.0f} KiB{mark}", flush=True)
        with app.app_context():
            app.appbuilder.sm.session.remove()
            app.appbuilder.sm.session.get_bind().dispose()
        return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--inspections", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--postgres", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args(argv)
    if not args.no_sqlite:
        with sqlite_db() as uri:
            run("sqlite", uri, args.inspections, args.rounds, args.warmup)
    if args.postgres:
        base = os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") \
            else DEFAULT_PG
        with throwaway_schema(base, prefix="jf_clbench") as uri:
            run("postgresql", uri, args.inspections, args.rounds, args.warmup)
    return 0


if __name__ == "__main__":
    sys.exit(main())
