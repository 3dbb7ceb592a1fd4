"""The models builder: tables, constraints, relationships and locking, on SQLite and PostgreSQL.

Each build goes on a fresh ``DeclarativeBase``: building the same class names
twice on one base fails (fab5-notes gotcha 4), and FAB's ``Model`` is left alone
for the app tests.  ``ab_user`` comes from FAB's own table definition.
"""

from __future__ import annotations

import os
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from flask_appbuilder.security.sqla.models import User
from sqlalchemy import (Boolean, Date, DateTime, Integer, Numeric, String, Text, create_engine, event, select,
                        text)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import StaticPool
from sqlalchemy.schema import CreateIndex, CreateTable

from generator import load, names
from generator.builders.models import EnumValueError, build_models
from generator.spec import AppSpec
from tests.support.database import throwaway_schema

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = str(ROOT / "tests" / "fixtures" / "minimal")
SHIPPED = str(ROOT / "config")
SYSTEM_COLUMNS = {"id", "version", "created_on", "created_by_id", "changed_on", "changed_by_id"}
EXPECTED_TYPES = {"string": String, "text": Text, "integer": Integer, "decimal": Numeric, "boolean": Boolean,
                  "date": Date, "datetime": DateTime, "enum": String, "file": String, "ref": Integer,
                  "user": Integer}


@dataclass
class Built:
    spec: AppSpec
    base: type
    models: dict[str, type]


def fresh_base() -> type:
    class Base(DeclarativeBase):
        pass
    return Base


def build(config_dir: str) -> Built:
    result = load(config_dir)
    if not result.ok:
        first = next((e.render().splitlines()[0] for e in result.errors if not e.is_warning), "")
        pytest.skip(f"{config_dir} does not compile yet (still being written): {first}")
    base = fresh_base()
    models = build_models(result.spec, base)
    base.registry.configure(cascade=True)
    return Built(result.spec, base, models)


def sqlite_engine() -> Engine:
    # One shared connection, so the in-memory database survives across sessions.
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
    return engine


def create_schema(built: Built, engine: Engine) -> None:
    User.__table__.create(engine, checkfirst=True)
    built.base.metadata.create_all(engine)


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@pytest.fixture(scope="module", params=[MINIMAL, SHIPPED], ids=["minimal", "shipped-config"])
def built(request: pytest.FixtureRequest) -> Built:
    return build(request.param)


@pytest.fixture(scope="module")
def minimal() -> Built:
    return build(MINIMAL)


@pytest.fixture()
def db(minimal: Built) -> Iterator[Engine]:
    engine = sqlite_engine()
    create_schema(minimal, engine)
    yield engine
    engine.dispose()


def expected_indexed(ent) -> set[str]:  # type: ignore[no-untyped-def]
    """Independent restatement of the rule: FKs, unique, index:true, list/search/filters/order_by (not text)."""
    used = set(ent.list) | set(ent.search) | set(ent.filters) | ({ent.order_by.lstrip("-")} if ent.order_by else set())
    return {names.column_name(f.name, f.type) for f in ent.fields.values()
            if f.type in ("ref", "user") or f.unique or f.index or (f.name in used and f.type != "text")}


# ------------------------------------------------------------------ structure (both configs)


def test_columns_types_and_nullability(built: Built) -> None:
    workflow_entities = {wf.entity for wf in built.spec.workflows.values()}
    for ent in built.spec.entities.values():
        table = built.models[ent.name].__table__
        assert table.name == names.table_name(ent.name)
        field_cols = {names.column_name(f.name, f.type) for f in ent.fields.values()}
        state = {"state"} if ent.name in workflow_entities else set()
        assert set(table.c.keys()) == {"id"} | field_cols | SYSTEM_COLUMNS | state
        for f in ent.fields.values():
            col = table.c[names.column_name(f.name, f.type)]
            assert type(col.type) is EXPECTED_TYPES[f.type], (ent.name, f.name)
            assert col.nullable is (not f.required), (ent.name, f.name)
            if f.type == "string":
                assert col.type.length == (f.max_length or 255)
            if f.type == "enum":
                assert col.type.length == 64
            if f.type == "decimal":
                assert (col.type.precision, col.type.scale) == (14, 2)
        assert not table.c.version.nullable and table.c.version.server_default is not None
        assert built.models[ent.name].__mapper__.version_id_col is table.c.version


def test_state_column_only_on_workflow_entities(built: Built) -> None:
    for wf in built.spec.workflows.values():
        col = built.models[wf.entity].__table__.c.state
        assert isinstance(col.type, String) and col.type.length == 64 and not col.nullable and col.index
        assert col.default.arg == wf.initial
        check = next(c for c in col.table.constraints if c.name == names.check_name(col.table.name, "state"))
        assert all(f"'{s}'" in str(check.sqltext) for s in wf.states)


def test_every_fk_and_listed_column_is_indexed(built: Built) -> None:
    for ent in built.spec.entities.values():
        table = built.models[ent.name].__table__
        single = {idx.columns.keys()[0]: idx for idx in table.indexes if len(idx.columns) == 1}
        fk_cols = {fk.parent.name for fk in table.foreign_keys}
        assert {"created_by_id", "changed_by_id"} <= fk_cols
        for col in fk_cols | expected_indexed(ent):
            assert col in single, f"{table.name}.{col} is not indexed"
            assert single[col].name == names.index_name(table.name, col, unique=bool(single[col].unique))
        for f in ent.fields.values():
            if f.unique:
                col = names.column_name(f.name, f.type)
                assert single[col].unique and table.c[col].unique  # FAB's forms read column.unique
        for group in ent.unique_together:
            cols = [names.column_name(n, ent.fields[n].type) for n in group]
            assert any(idx.unique and idx.columns.keys() == cols for idx in table.indexes), (table.name, cols)


def test_constraint_and_index_names_are_short_and_unique(built: Built) -> None:
    seen = [i.name for m in built.models.values() for i in m.__table__.indexes]
    seen += [c.name for m in built.models.values() for c in m.__table__.constraints if c.name]
    assert len(seen) == len(set(seen))
    assert max(map(len, seen)) <= names.MAX_IDENTIFIER


def test_docstring_points_to_the_entity_line(built: Built) -> None:
    for ent in built.spec.entities.values():
        cls = built.models[ent.name]
        m = re.fullmatch(r"Generated from (.*entities\.yaml):(\d+) \(entity '(\w+)', (.+)\)", cls.__doc__)
        assert m and m.group(3) == ent.name and m.group(4) == ent.label.zh, cls.__doc__
        line = Path(m.group(1)).read_text(encoding="utf-8").splitlines()[int(m.group(2)) - 1]
        assert line.strip() == f"{ent.name}:"
        assert cls.__module__ == "app.generated.models" and cls.__qualname__ == names.class_name(ent.name)


def test_building_twice_gives_identical_ddl(built: Built) -> None:
    other = build_models(built.spec, fresh_base())
    assert list(other) == list(built.models)

    def ddl(models: dict[str, type], dialect) -> list[str]:  # type: ignore[no-untyped-def]
        out = []
        for cls in models.values():
            out.append(str(CreateTable(cls.__table__).compile(dialect=dialect)))
            out += sorted(str(CreateIndex(i).compile(dialect=dialect)) for i in cls.__table__.indexes)
        return out
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert ddl(other, dialect) == ddl(built.models, dialect)


def test_create_all_on_sqlite(built: Built) -> None:
    engine = sqlite_engine()
    create_schema(built, engine)
    with engine.connect() as conn:
        tables = {r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {m.__tablename__ for m in built.models.values()} <= tables
    engine.dispose()


def test_second_build_on_the_same_base_is_refused(minimal: Built) -> None:
    with pytest.raises(RuntimeError, match="gotcha 4"):
        build_models(minimal.spec, minimal.base)


def test_build_emits_no_warnings(minimal: Built) -> None:
    base = fresh_base()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        build_models(minimal.spec, base)
        base.registry.configure(cascade=True)


def test_names() -> None:
    assert names.class_name("dispute_case") == "DisputeCase"
    assert (names.view_class("dispute_case"), names.api_class("dispute_case")) == ("DisputeCaseView", "DisputeCaseApi")
    assert names.table_name("dispute_case") == "jf_dispute_case" and names.resource_name("dispute_case") == "dispute_case"
    assert names.fk_column("current_org") == "current_org_id"
    assert names.entity_permission("dispute_case", "read") == "entity.dispute_case.read"
    assert names.transition_permission("case_flow", "escalate") == "transition.case_flow.escalate"
    assert names.checklist_permission("five_essentials", "inspect") == "checklist.five_essentials.inspect"
    long = names.index_name("jf_" + "x" * 40, "y" * 30)
    assert len(long) == 60 and long == names.index_name("jf_" + "x" * 40, "y" * 30)
    assert long != names.index_name("jf_" + "x" * 40, "y" * 29 + "z")


# ------------------------------------------------------------------ behaviour (minimal fixture, SQLite)


def make_org(s: Session, models: dict[str, type], code: str, **kw) -> object:  # type: ignore[no-untyped-def]
    org = models["org"](code=code, name=f"组织{code}", org_type=kw.pop("org_type", "county_centre"), **kw)
    s.add(org)
    return org


def test_str_uses_display_field(minimal: Built) -> None:
    Org, Party = minimal.models["org"], minimal.models["party"]
    assert str(Org(name="县中心")) == "县中心"
    assert repr(Org(id=3, name="县中心")) == "<Org #3>"  # logs never carry a display value
    assert str(Party(id=7)) == "当事人 #7"  # no display field


RAW_BAD_ROWS = {  # written past the ORM: only a database CHECK can stop these
    "ck_jf_org_org_type": "INSERT INTO jf_org (code, name, org_type, version, created_on, changed_on) "
                          "VALUES ('RAW', '原始', 'planet', 1, '2026-01-01', '2026-01-01')",
    "ck_jf_dispute_case_state": "UPDATE jf_dispute_case SET state = 'nowhere'",
}


def check_rejects_bad_values(engine: Engine, models: dict[str, type]) -> None:
    """Every database: the ORM refuses a bad enum/state value at flush.  The CHECK is PostgreSQL-only DDL."""
    with Session(engine) as s:
        make_org(s, models, "BAD", org_type="planet")
        with pytest.raises(EnumValueError, match=r"org\.org_type: 'planet' is not one of county_centre, ") as err:
            s.flush()
        assert (err.value.entity, err.value.field, err.value.value) == ("org", "org_type", "planet")
        assert isinstance(err.value, ValueError) and "enterprise_station" in err.value.allowed
    with Session(engine) as s:
        org = make_org(s, models, "C1")
        s.add(models["dispute_case"](registry_no="R-bad", current_org=org, state="nowhere"))
        with pytest.raises(EnumValueError, match=r"dispute_case\.state: 'nowhere' is not one of registered, "):
            s.flush()
    with Session(engine) as s:
        case = models["dispute_case"](registry_no="R-ok", current_org=make_org(s, models, "C2"))
        s.add(case)
        s.commit()
        assert case.state == "registered" and case.version == 1
        case.state = "closed"  # a valid change passes
        s.commit()
        case.current_org.org_type = "planet"  # UPDATE is checked too
        with pytest.raises(EnumValueError, match=r"org\.org_type: 'planet'"):
            s.flush()
        s.rollback()
    for check, sql in RAW_BAD_ROWS.items():
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                with pytest.raises(IntegrityError, match=check):
                    conn.execute(text(sql))
            else:  # SQLite has no CHECK (changing one would need a table rebuild): the database takes it
                assert conn.execute(text(sql)).rowcount >= 1, check
            conn.rollback()


def stale_update_is_refused(engine: Engine, models: dict[str, type]) -> None:
    Case = models["dispute_case"]
    with Session(engine) as s:
        case = Case(registry_no="R-lock", current_org=make_org(s, models, "L1"))
        s.add(case)
        s.commit()
        case_id = case.id
    with Session(engine) as first, Session(engine) as second:
        a, b = first.get(Case, case_id), second.get(Case, case_id)
        a.summary = "first"
        first.commit()
        assert a.version == 2
        b.summary = "second"
        with pytest.raises(StaleDataError):
            second.flush()


def test_bad_enum_and_state_are_rejected(db: Engine, minimal: Built) -> None:
    check_rejects_bad_values(db, minimal.models)


def test_enum_checks_are_postgresql_only_ddl(built: Built) -> None:
    for model in built.models.values():
        table = model.__table__
        checks = [c.name for c in table.constraints if isinstance(c.name, str) and c.name.startswith("ck_")]
        pg = str(CreateTable(table).compile(dialect=postgresql.dialect()))
        lite = str(CreateTable(table).compile(dialect=sqlite.dialect()))
        for name in checks:
            assert f"CONSTRAINT {name} CHECK" in pg and name not in lite, name


def test_required_defaults_become_server_defaults(built: Built) -> None:
    """So the schema sync can ADD COLUMN … NOT NULL DEFAULT … to a table with rows."""
    for ent in built.spec.entities.values():
        table = built.models[ent.name].__table__
        for f in ent.fields.values():
            col = table.c[names.column_name(f.name, f.type)]
            assert (col.server_default is not None) is (f.required and f.default is not None), (ent.name, f.name)
            if col.server_default is not None:
                for dialect in (sqlite.dialect(), postgresql.dialect()):
                    ddl = str(CreateTable(table).compile(dialect=dialect))
                    assert re.search(rf"\b{col.name} [^,]* DEFAULT \S", ddl), (ent.name, f.name, ddl)


def server_default_sql(field_type: str, value: object, dialect: object, required: bool = True) -> str:
    from sqlalchemy import Column
    from sqlalchemy.schema import CreateColumn

    from generator.builders.models import SIMPLE_TYPES, _server_default
    from generator.spec import Field
    f = Field(src=None, path=(), name="x", label=None, type=field_type, required=required,  # type: ignore[arg-type]
              default=value, max_length=40)
    col = Column("x", SIMPLE_TYPES[field_type](f), nullable=not required, server_default=_server_default(f))
    ddl = str(CreateColumn(col).compile(dialect=dialect))  # type: ignore[arg-type]
    m = re.search(r" DEFAULT (.*?)(?: NOT NULL)?$", ddl)
    return m.group(1) if m else ""


def test_server_default_literals_are_quoted_per_dialect() -> None:
    pg, lite = postgresql.dialect(), sqlite.dialect()
    assert server_default_sql("string", "it's :x \\ 中", pg) == "'it''s :x \\ 中'"
    assert server_default_sql("enum", "open", lite) == "'open'"
    assert server_default_sql("integer", 3, pg) == "3"
    assert server_default_sql("decimal", "1.50", pg) == "1.50"
    assert server_default_sql("boolean", False, pg) == "false"
    assert server_default_sql("boolean", "false", lite) == "0"  # not bool("false")
    assert server_default_sql("date", "2026-01-31", lite) == "'2026-01-31'"
    assert server_default_sql("string", "a", pg, required=False) == ""  # Python-side default only


def test_optimistic_locking(db: Engine, minimal: Built) -> None:
    stale_update_is_refused(db, minimal.models)


def test_fk_enforced_and_selectin_loads_refs_up_front(db: Engine, minimal: Built) -> None:
    Org, Case = minimal.models["org"], minimal.models["dispute_case"]
    with Session(db) as s:
        county = make_org(s, minimal.models, "X1")
        town = make_org(s, minimal.models, "X2", org_type="township_centre", parent=county)
        s.add(Case(registry_no="R-1", current_org=town, sealing_org=county))
        s.commit()
    with Session(db) as s, count_statements(db) as seen:
        case = s.scalars(select(Case).where(Case.registry_no == "R-1")).one()
        child = s.scalars(select(Org).where(Org.code == "X2")).one()
        loaded = len(seen)
        assert (case.current_org.code, case.sealing_org.code, case.assigned_mediator) == ("X2", "X1", None)
        assert child.parent.code == "X1"  # self-reference
        assert len(seen) == loaded, seen[loaded:]
    with Session(db) as s:
        s.add(Case(registry_no="R-2", current_org_id=999_999))
        with pytest.raises(IntegrityError, match="(?i)foreign key"):
            s.flush()


def test_restrict_blocks_deleting_a_referenced_org(db: Engine, minimal: Built) -> None:
    with Session(db) as s:
        org = make_org(s, minimal.models, "D1")
        s.add(minimal.models["dispute_case"](registry_no="R-d", current_org=org))
        s.commit()
        with pytest.raises(IntegrityError):
            s.execute(text("DELETE FROM jf_org WHERE code = 'D1'"))


# ------------------------------------------------------------------ PostgreSQL


@pytest.mark.postgres
def test_postgres_create_all_checks_and_locking(minimal: Built) -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip("set DATABASE_URL=postgresql+psycopg://… to run the PostgreSQL model tests")
    with throwaway_schema(url) as schema_url:
        engine = create_engine(schema_url)
        try:
            create_schema(minimal, engine)
            with engine.connect() as conn:
                schema = conn.execute(text("SELECT current_schema()")).scalar()
                made = set(conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = :s"),
                                        {"s": schema}))
            assert {m.__tablename__ for m in minimal.models.values()} | {"ab_user"} == made
            check_rejects_bad_values(engine, minimal.models)
            stale_update_is_refused(engine, minimal.models)
        finally:
            engine.dispose()
