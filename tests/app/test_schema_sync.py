"""Start-up schema sync: the upgrade test (v1 → v2 additive, v3 refused) on SQLite and PostgreSQL.

Every config version is built on a fresh ``DeclarativeBase`` (class names repeat
across versions; FAB's ``Model`` would silently extend the old tables), from a
copy of the minimal fixture whose YAML text is edited in ``tmp_path``.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session

from app.schema_sync import SchemaRefused, SyncPlan, apply, plan, sync
from generator import load
from generator.builders.models import EnumValueError, build_models
from tests.support.database import throwaway_schema

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = ROOT / "tests" / "fixtures" / "minimal"
PG_URL = os.environ.get("DATABASE_URL", "")

NEW_ENTITY = """
  hearing:
    label: {zh: 听证, en: Hearing}
    menu: registry
    scope: {parent: dispute_case}
    fields:
      dispute_case: {label: {zh: 案件, en: Case}, type: ref, ref: dispute_case, required: true}
      held_on: {label: {zh: 日期, en: Date}, type: date}
      venue: {label: {zh: 地点, en: Venue}, type: enum, enum: mediation_level}
"""
PHONE = "phone: {label: {zh: 联系电话, en: Phone}, type: string, max_length: 20}"
SUMMARY = "summary: {label: {zh: 案情摘要, en: Summary}, type: text}"


# ------------------------------------------------------------------ fixtures and helpers


def sqlite_db(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'jiefen.db'}")
    # As the app runs it: FK enforcement on; the sync must not depend on it being off.
    event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA foreign_keys=ON"))
    yield engine
    engine.dispose()


def postgres_db() -> Iterator[Engine]:
    if not PG_URL.startswith("postgresql"):
        pytest.skip("PostgreSQL schema-sync tests need DATABASE_URL=postgresql+psycopg://…")
    with throwaway_schema(PG_URL, prefix="jf_sync") as url:
        engine = create_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from (sqlite_db(tmp_path) if request.param == "sqlite" else postgres_db())


@pytest.fixture()
def config(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(MINIMAL, target)
    return target


def edit(config: Path, old: str, new: str) -> None:
    path = config / "entities.yaml"
    src = path.read_text(encoding="utf-8")
    assert src.count(old) == 1, old
    path.write_text(src.replace(old, new), encoding="utf-8")


def build(config: Path) -> tuple[sa.MetaData, dict[str, type]]:
    result = load(str(config))
    assert result.ok, [e.render() for e in result.errors if not e.is_warning]

    class Base(DeclarativeBase):
        pass
    models = build_models(result.spec, Base)
    Base.registry.configure(cascade=True)
    return Base.metadata, models


def current_plan(engine: Engine, metadata: sa.MetaData) -> SyncPlan:
    with engine.connect() as conn:
        return plan(conn, metadata)


def snapshot(engine: Engine) -> dict[str, list[tuple]]:
    """The v1 columns of the seeded tables (later versions add columns, which must not disturb these)."""
    queries = {"jf_org": "SELECT id, code, name, org_type, phone, version, created_on FROM jf_org ORDER BY id",
               "jf_dispute_case": "SELECT id, registry_no, current_org_id, summary, state, version "
                                  "FROM jf_dispute_case ORDER BY id"}
    with engine.connect() as conn:
        return {t: [tuple(r) for r in conn.execute(text(q))] for t, q in queries.items()}


def columns(engine: Engine, table: str) -> dict[str, str]:
    return {c["name"]: str(c["type"]) for c in sa.inspect(engine).get_columns(table)}


def seed(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO jf_org (code, name, org_type, phone, version, created_on, changed_on) "
                          "VALUES ('C1', '县中心', 'county_centre', '0714-1234567', 1, :t, :t)"),
                     {"t": "2026-01-01 09:00:00"})
        conn.execute(text("INSERT INTO jf_dispute_case (registry_no, current_org_id, summary, created_on, changed_on) "
                          "VALUES ('R-1', (SELECT id FROM jf_org WHERE code = 'C1'), '欠薪', :t, :t)"),
                     {"t": "2026-01-01 09:00:00"})


def v2(config: Path) -> None:
    """v1 + a new entity + new nullable fields (string, enum with its CHECK, ref with its FK) + a new index."""
    edit(config, PHONE, PHONE.replace("max_length: 20", "max_length: 20, index: true")
         + "\n      email: {label: {zh: 邮箱, en: Email}, type: string, max_length: 100}")
    edit(config, SUMMARY, SUMMARY + "\n      level: {label: {zh: 层级, en: Level}, type: enum, enum: mediation_level}"
         "\n      referred_by: {label: {zh: 转介组织, en: Referred by}, type: ref, ref: org}")
    (config / "entities.yaml").write_text((config / "entities.yaml").read_text(encoding="utf-8") + NEW_ENTITY,
                                          encoding="utf-8")


def expect_enum_rejected(engine: Engine, models: dict[str, type], entity: str, field: str, bad: str) -> None:
    """Every database: the ORM refuses ``bad``.  PostgreSQL: the CHECK refuses it too, past the ORM."""
    table = models[entity].__table__.name
    with Session(engine) as s:
        row = s.scalars(sa.select(models[entity]).limit(1)).one()
        setattr(row, field, bad)
        with pytest.raises(EnumValueError, match=rf"{entity}\.{field}: '{bad}' is not one of"):
            s.flush()
    if engine.dialect.name == "postgresql":
        with pytest.raises(IntegrityError, match=f"ck_{table}_{field}"), engine.begin() as conn:
            conn.execute(text(f"UPDATE {table} SET {field} = :v"), {"v": bad})


def expect_refused(engine: Engine, metadata: sa.MetaData, kind: str, table: str, column: str,
                   words: tuple[str, ...]) -> None:
    """Refused by plan, by apply and by sync, with the database left exactly as it was."""
    before, cols = snapshot(engine), columns(engine, table)
    p = current_plan(engine, metadata)
    hits = [r for r in p.refused if (r.kind, r.table, r.column) == (kind, table, column)]
    assert hits, p.refused
    assert all(w in hits[0].zh for w in words) and "本次启动未做任何修改" in hits[0].zh, hits[0].zh
    with engine.connect() as conn, pytest.raises(SchemaRefused) as err:
        apply(conn, p)
    assert hits[0].zh in str(err.value)
    with pytest.raises(SchemaRefused):
        sync(engine, metadata)
    assert snapshot(engine) == before and columns(engine, table) == cols


# ------------------------------------------------------------------ the upgrade test


def test_upgrade_v1_v2_then_destructive_v3_is_refused(db: Engine, config: Path) -> None:
    md1, _ = build(config)
    first = sync(db, md1)
    assert len(first.created) == 6 and current_plan(db, md1).empty
    seed(db)
    before = snapshot(db)

    v2(config)
    md2, models2 = build(config)
    pending = current_plan(db, md2)
    assert not pending.refused and any("jf_hearing" in line for line in pending.describe())
    done = sync(db, md2)
    assert done.additive and not done.refused
    assert snapshot(db) == before
    assert current_plan(db, md2).empty
    assert sync(db, md2).empty  # restart: no-op
    indexes = {i["name"] for i in sa.inspect(db).get_indexes("jf_org")}
    assert "ix_jf_org_phone" in indexes
    # Enum CHECKs (new table, new column) are PostgreSQL-only DDL; SQLite relies on the ORM check.
    checks = {c["name"] for t in ("jf_hearing", "jf_dispute_case") for c in sa.inspect(db).get_check_constraints(t)}
    wanted = {"ck_jf_hearing_venue", "ck_jf_dispute_case_level", "ck_jf_dispute_case_state"}
    assert checks == (wanted if db.dialect.name == "postgresql" else set()), checks

    with db.begin() as conn:  # old rows intact, new column and table usable
        conn.execute(text("UPDATE jf_org SET email = 'c1@example.cn' WHERE code = 'C1'"))
        conn.execute(text("UPDATE jf_dispute_case SET level = 'township'"))
        conn.execute(text("INSERT INTO jf_hearing (dispute_case_id, held_on, created_on, changed_on) "
                          "VALUES ((SELECT id FROM jf_dispute_case), '2026-02-01', :t, :t)"),
                     {"t": "2026-02-01 10:00:00"})
    with db.connect() as conn:
        row = conn.execute(text("SELECT o.code, o.name, o.phone, o.email, c.registry_no, c.summary, c.level, "
                                "h.held_on FROM jf_org o JOIN jf_dispute_case c ON c.current_org_id = o.id "
                                "JOIN jf_hearing h ON h.dispute_case_id = c.id")).one()
    assert tuple(map(str, row)) == ("C1", "县中心", "0714-1234567", "c1@example.cn", "R-1", "欠薪", "township",
                                    "2026-02-01")
    expect_enum_rejected(db, models2, "dispute_case", "level", "galaxy")  # the new enum column is checked
    with db.begin() as conn:
        conn.execute(text("UPDATE jf_dispute_case SET referred_by_id = current_org_id"))
    with pytest.raises(IntegrityError, match="(?i)foreign key"), db.begin() as conn:  # the new ref is an FK
        conn.execute(text("UPDATE jf_dispute_case SET referred_by_id = 999999"))

    # v3 = v1 with org.phone removed: refused, column and data untouched.
    shutil.rmtree(config)
    shutil.copytree(MINIMAL, config)
    edit(config, PHONE, "")
    md3, _ = build(config)
    expect_refused(db, md3, "drop_column", "jf_org", "phone",
                   ("配置中删除了字段 org.phone", "仍有数据", "导出数据"))
    with db.connect() as conn:
        assert conn.execute(text("SELECT phone FROM jf_org")).scalar() == "0714-1234567"
    # The v2 additions are in the DB but not in v1: refused too (dropped table, dropped columns).
    kinds = {(r.kind, r.table, r.column) for r in current_plan(db, md3).refused}
    assert {("drop_table", "jf_hearing", None), ("drop_column", "jf_org", "email"),
            ("drop_column", "jf_dispute_case", "level"), ("drop_column", "jf_dispute_case", "referred_by_id")} <= kinds


def test_type_change_is_refused(db: Engine, config: Path) -> None:
    sync(db, build(config)[0])
    seed(db)
    edit(config, PHONE, "phone: {label: {zh: 联系电话, en: Phone}, type: integer}")
    expect_refused(db, build(config)[0], "type_change", "jf_org", "phone", ("org.phone", "类型", "INTEGER"))


def test_string_shrink_and_not_null_are_refused(db: Engine, config: Path) -> None:
    sync(db, build(config)[0])
    seed(db)
    edit(config, PHONE, PHONE.replace("20", "10"))
    expect_refused(db, build(config)[0], "type_change", "jf_org", "phone", ("VARCHAR(10)",))
    edit(config, PHONE.replace("20", "10"), PHONE.replace("max_length: 20", "max_length: 20, required: true"))
    expect_refused(db, build(config)[0], "not_null", "jf_org", "phone", ("必填",))


def test_new_required_field_without_default_is_refused_on_a_filled_table(db: Engine, config: Path) -> None:
    sync(db, build(config)[0])
    seed(db)
    edit(config, PHONE, PHONE + "\n      fax: {label: {zh: 传真, en: Fax}, type: string, required: true}")
    expect_refused(db, build(config)[0], "add_not_null_column", "jf_org", "fax", ("org.fax", "默认值"))


def test_duplicate_unique_is_refused(db: Engine, config: Path) -> None:
    sync(db, build(config)[0])
    seed(db)
    with db.begin() as conn:
        conn.execute(text("INSERT INTO jf_org (code, name, org_type, version, created_on, changed_on) "
                          "VALUES ('C2', '县中心', 'county_centre', 1, :t, :t)"), {"t": "2026-01-01 09:00:00"})
    edit(config, "name: {label: {zh: 名称, en: Name}, type: string, required: true, max_length: 100}",
         "name: {label: {zh: 名称, en: Name}, type: string, required: true, max_length: 100, unique: true}")
    expect_refused(db, build(config)[0], "unique_duplicates", "jf_org", "name", ("重复",))


def indexes(engine: Engine, table: str) -> dict[str, tuple[tuple[str, ...], bool]]:
    return {i["name"]: (tuple(i["column_names"]), bool(i["unique"])) for i in sa.inspect(engine).get_indexes(table)}


def test_indexes_the_config_no_longer_needs_are_dropped(db: Engine, config: Path) -> None:
    """Our own ``ix_jf_…``/``uq_jf_…`` go (no data lost, unique only relaxes); a hand-made index is refused."""
    sync(db, build(config)[0])
    seed(db)
    assert indexes(db, "jf_dispute_case")["uq_jf_dispute_case_registry_no"] == (("registry_no",), True)
    assert indexes(db, "jf_org")["ix_jf_org_name"] == (("name",), False)
    edit(config, "list: [registry_no, current_org]", "list: [current_org]")
    edit(config, "order_by: -registry_no", "")
    edit(config, "registry_no: {label: {zh: 登记号, en: Registry no.}, type: string, required: true, unique: true}",
         "registry_no: {label: {zh: 登记号, en: Registry no.}, type: string, required: true}")
    edit(config, "search: [code, name]", "search: [code]")
    edit(config, "list: [code, name, org_type, parent]", "list: [code, org_type, parent]")
    md = build(config)[0]
    before = snapshot(db)
    done = sync(db, md)
    assert not done.refused and sorted(done.describe()) == [
        "drop index ix_jf_org_name on jf_org", "drop index uq_jf_dispute_case_registry_no on jf_dispute_case"]
    assert "uq_jf_dispute_case_registry_no" not in indexes(db, "jf_dispute_case")
    assert "ix_jf_org_name" not in indexes(db, "jf_org")
    assert snapshot(db) == before and current_plan(db, md).empty
    with db.begin() as conn:  # no longer unique
        conn.execute(text("INSERT INTO jf_dispute_case (registry_no, current_org_id, created_on, changed_on) "
                          "SELECT registry_no, current_org_id, created_on, changed_on FROM jf_dispute_case"))

    # Made by hand: refused, even when its name looks like ours (the name must match its own columns).
    for ddl in ("CREATE INDEX my_phone_idx ON jf_org (phone)",
                "CREATE INDEX ix_jf_org_name ON jf_org (name, phone)"):
        with db.begin() as conn:
            conn.exec_driver_sql(ddl)
        name = ddl.split()[2]
        expect_refused(db, md, "drop_index", "jf_org", ",".join(indexes(db, "jf_org")[name][0]), ("手工",))
        assert name in indexes(db, "jf_org")
        with db.begin() as conn:
            conn.exec_driver_sql(f"DROP INDEX {name}")
    assert current_plan(db, md).empty


SCHOOL = "enterprise_station: {zh: 企业调解工作站, en: Enterprise station}"


def add_school(config: Path) -> None:
    edit(config, SCHOOL, SCHOOL + "\n      school: {zh: 学校, en: School}")
    edit(config, "station: [enterprise_station]", "station: [enterprise_station, school]")


def remove_school(config: Path) -> None:
    edit(config, SCHOOL + "\n      school: {zh: 学校, en: School}", SCHOOL)
    edit(config, "station: [enterprise_station, school]", "station: [enterprise_station]")


def test_enum_value_added_then_removed(db: Engine, config: Path) -> None:
    """Adding a value, or removing one no row uses, is applied on both databases; removing a used one is refused."""
    sync(db, build(config)[0])
    seed(db)
    add_school(config)
    md, models = build(config)
    done = sync(db, md)
    assert not done.refused and current_plan(db, md).empty
    # PostgreSQL replaced its CHECK; SQLite has none (the ORM checks), so there was nothing to do.
    assert bool(done.additive) is (db.dialect.name == "postgresql")
    with Session(db) as s:
        s.add(models["org"](code="S1", name="学校调解室", org_type="school"))
        s.commit()
    expect_enum_rejected(db, models, "org", "org_type", "planet")

    # Removing a value that a row still uses: refused with the count of offending rows, on both databases.
    remove_school(config)
    expect_refused(db, build(config)[0], "check_violation", "jf_org", "org_type", ("1 行数据不符合",))
    with db.begin() as conn:
        conn.execute(text("DELETE FROM jf_org WHERE code = 'S1'"))
    md, models = build(config)
    assert not sync(db, md).refused and current_plan(db, md).empty  # unused: applied
    expect_enum_rejected(db, models, "org", "org_type", "school")


def test_sqlite_table_from_before_postgresql_only_checks(tmp_path: Path, config: Path) -> None:
    """A SQLite table created when CHECKs were emitted there still has them: unchanged is fine, changed is refused."""
    engine = next(sqlite_db(tmp_path))
    md = build(config)[0]
    for t in md.tables.values():
        for c in t.constraints:
            if isinstance(c, sa.CheckConstraint):
                c._ddl_if = None  # as the builder used to make them
    sync(engine, md)
    seed(engine)
    assert {c["name"] for c in sa.inspect(engine).get_check_constraints("jf_org")} == {"ck_jf_org_org_type"}
    assert current_plan(engine, build(config)[0]).empty  # the same CHECK, now PostgreSQL-only: nothing to do
    add_school(config)
    expect_refused(engine, build(config)[0], "check_change", "jf_org", "org_type", ("取值约束", "重建"))
    engine.dispose()


def test_wider_string_and_optional_field(db: Engine, config: Path) -> None:
    """In place on PostgreSQL; SQLite would need a table rebuild, so refused there."""
    sync(db, build(config)[0])
    seed(db)
    edit(config, PHONE, PHONE.replace("20", "40"))
    edit(config, "name: {label: {zh: 名称, en: Name}, type: string, required: true, max_length: 100}",
         "name: {label: {zh: 名称, en: Name}, type: string, max_length: 100}")
    md = build(config)[0]
    if db.dialect.name == "sqlite":
        expect_refused(db, md, "needs_rebuild", "jf_org", "phone", ("重建",))
        expect_refused(db, md, "needs_rebuild", "jf_org", "name", ("必填改为选填",))
        return
    assert not sync(db, md).refused and current_plan(db, md).empty
    with db.begin() as conn:
        conn.execute(text("UPDATE jf_org SET phone = :p, name = NULL"), {"p": "9" * 40})


LEVEL = "\n      level: {label: {zh: 层级, en: Level}, type: enum, enum: mediation_level, required: true, default: %s}"


def column_default(engine: Engine, table: str, column: str) -> object:
    return next(c["default"] for c in sa.inspect(engine).get_columns(table) if c["name"] == column)


def test_new_required_field_with_default_on_a_filled_table(db: Engine, config: Path) -> None:
    """ADD COLUMN … NOT NULL DEFAULT …: existing rows get the default; a later change of only the default
    is applied in place on PostgreSQL and ignored on SQLite (the app writes the Python-side default)."""
    sync(db, build(config)[0])
    seed(db)
    before = snapshot(db)
    edit(config, SUMMARY, SUMMARY + LEVEL % "township")
    md, models = build(config)
    done = sync(db, md)
    assert not done.refused and any("level" in line for line in done.describe())
    assert snapshot(db) == before and current_plan(db, md).empty
    with db.connect() as conn:
        assert conn.execute(text("SELECT level FROM jf_dispute_case")).scalars().all() == ["township"]
    assert "township" in str(column_default(db, "jf_dispute_case", "level"))
    expect_enum_rejected(db, models, "dispute_case", "level", "galaxy")

    edit(config, LEVEL % "township", LEVEL % "enterprise")
    md, models = build(config)
    changed = sync(db, md)
    assert not changed.refused and current_plan(db, md).empty
    if db.dialect.name == "postgresql":
        assert changed.additive and "enterprise" in str(column_default(db, "jf_dispute_case", "level"))
    else:
        assert changed.empty and "township" in str(column_default(db, "jf_dispute_case", "level"))
    with Session(db) as s:  # the app's inserts get the new default either way
        case = models["dispute_case"](registry_no="R-2", current_org_id=s.scalars(
            sa.select(models["org"].id)).first())
        s.add(case)
        s.commit()
        assert case.level == "enterprise"
    with db.connect() as conn:
        assert conn.execute(text("SELECT level FROM jf_dispute_case WHERE registry_no = 'R-1'")).scalar() == "township"


def test_fresh_database_and_second_sync_is_a_noop(db: Engine, config: Path) -> None:
    md, _ = build(config)
    first = sync(db, md)
    made = set(sa.inspect(db).get_table_names())
    assert set(first.created) == {t for t in md.tables} and set(first.created) <= made
    assert not {t for t in made if t.startswith("ab_")} - {"ab_user"}  # FAB's tables stay FAB's
    again = sync(db, md)
    assert again.empty and not again.created


def test_fab_tables_are_ignored_both_ways(db: Engine, config: Path) -> None:
    from flask_appbuilder import Model
    md, _ = build(config)
    sync(db, md)
    Model.metadata.create_all(db)  # what FAB does on first start: all ab_* tables
    assert current_plan(db, md).empty  # ab_* in the DB but not in md: not reported
    for t in Model.metadata.tables.values():  # the app's metadata holds both
        t.to_metadata(md)
    with db.begin() as conn:
        conn.exec_driver_sql("DROP TABLE ab_register_user")
    assert current_plan(db, md).empty  # ab_* in the metadata but not in the DB: not reported either


def test_concurrent_starts_apply_once(db: Engine, config: Path) -> None:
    sync(db, build(config)[0])
    v2(config)
    md = build(config)[0]
    results: list[SyncPlan] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            results.append(sync(db, md))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sorted(bool(r.additive) for r in results) == [False, False, False, True]


def test_failed_apply_rolls_back_everything(db: Engine, config: Path) -> None:
    """One transaction: a failing op leaves no half-applied schema (pysqlite would autocommit each DDL)."""
    sync(db, build(config)[0])
    v2(config)
    md = build(config)[0]
    p = current_plan(db, md)
    from alembic.operations import ops
    broken = SyncPlan(additive=p.additive + (ops.ExecuteSQLOp("SELECT * FROM no_such_table"),))
    with db.connect() as conn, pytest.raises(sa.exc.DBAPIError):
        apply(conn, broken)
    assert "jf_hearing" not in sa.inspect(db).get_table_names()
    assert "email" not in columns(db, "jf_org")
    assert len(current_plan(db, md).additive) == len(p.additive)
