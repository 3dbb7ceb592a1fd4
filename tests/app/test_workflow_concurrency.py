"""Two simultaneous transitions on one case: exactly one wins, the other gets 409, one history row.

SQLite: two threads, each with its own session on the app's database file.  PostgreSQL: two real
connections of a throwaway schema (skipped, with the reason, when no server answers at
``DATABASE_URL`` or postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import os
import threading
from typing import Any, Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from tests.app.conftest import make_app, run_setup
from tests.support import workflow as wfs
from tests.support.database import normalise, throwaway_schema

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _race(app: Flask, rounds: int = 3) -> None:
    """Both threads read the case at version v, then both try ``submit_triage`` at once."""
    from app.workflow import VersionConflict, WrongState, common, engine

    with app.app_context():
        session = app.appbuilder.sm.session
        ctx = common.context()
        engine_ = session.get_bind()
        uid = wfs.user_id(session, "dispatcher")
        org = wfs.org_of_type(session, ctx, "county_centre")
        for _ in range(rounds):
            case = wfs.new_case(session, ctx, "registered", org)
            wfs.add_document(session, ctx, case.id, "consent_form")
            session.commit()
            case_id, version = case.id, case.version
            barrier = threading.Barrier(2)
            outcome: list[Any] = []

            def run() -> None:
                with app.app_context(), Session(engine_) as own:
                    p = common.principal_for(own, uid, ctx)
                    own.get(ctx.case_model, case_id)  # read first, as a client would
                    barrier.wait()
                    try:
                        res = engine.perform(own, case_id, "submit_triage", principal=p, expected_version=version, ctx=ctx)
                        outcome.append(("ok", res.version))
                    except (VersionConflict, WrongState) as exc:
                        outcome.append((exc.status, exc.code))

            threads = [threading.Thread(target=run) for _ in range(2)]
            for th in threads:
                th.start()
            for th in threads:
                th.join(30)
            assert sorted(o[0] for o in outcome if o[0] == "ok") == ["ok"], outcome
            assert [o for o in outcome if o[0] != "ok"][0][0] == 409, outcome
            h = ctx.tables.history
            session.expire_all()
            assert session.execute(select(func.count()).select_from(h).where(h.case_id == case_id)).scalar() == 1
            assert session.execute(select(ctx.case_model.version).where(ctx.case_model.id == case_id)).scalar() \
                == version + 1


def test_sqlite_threads_one_wins(workflow_app: Flask) -> None:
    if workflow_app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("DATABASE_URL is PostgreSQL: see test_postgresql_connections_one_wins")
    _race(workflow_app)


@pytest.fixture(scope="module")
def pg_app() -> Iterator[Flask]:
    base = normalise(os.environ.get("DATABASE_URL", "") or PG_DEFAULT)
    if not base.startswith("postgresql"):
        base = PG_DEFAULT
    try:
        probe = create_engine(base, connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(text("SELECT 1"))
        probe.dispose()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not reachable at {base.split('@')[-1]} ({type(exc).__name__}): "
                    "the PostgreSQL concurrency test needs a server")
    with throwaway_schema(base, prefix="jf_wf") as url:
        app = make_app(url)
        run_setup(app)
        yield app
        with app.app_context():
            app.appbuilder.sm.session.remove()
            app.appbuilder.sm.session.get_bind().dispose()


def test_postgresql_connections_one_wins(pg_app: Flask) -> None:
    _race(pg_app)
