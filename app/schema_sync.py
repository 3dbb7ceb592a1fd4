"""Start-up schema sync: bring the ``jf_*`` tables up to the models built from YAML, without migration files.

    with engine.connect() as conn:
        p = plan(conn, metadata)          # read-only: what would change, what is refused
    sync(engine, metadata)                # at start-up: create, or plan + apply, under a lock

The design and every rule below were measured on SQLite and PostgreSQL
(docs: /work/shared/reference/schema-sync-notes.md, "the notes").  Policy:

* Only changes that cannot lose or reinterpret data are applied: new tables,
  new nullable columns (or NOT NULL with a server default, which the models
  builder emits for required fields with a YAML ``default:``), new indexes,
  unique indexes when the data has no duplicates, index renames, and dropping
  indexes the builder named (``generator.names.index_name`` on a ``jf_`` table:
  an index no longer needed because a field left list/search/order_by, or a
  unique index that is no longer unique; no data is lost).  On PostgreSQL also
  the in-place relaxations it does without a rewrite: wider VARCHAR, dropping
  NOT NULL, a changed server default, and adding/replacing/dropping a named
  CHECK when no existing row violates it.
* Everything else is *refused* as a whole: nothing is applied, not even the
  harmless part, so the database never sits between two configs.  The
  administrator gets one Chinese line per change saying what to do.
* SQLite is never rebuilt (``batch_alter_table(recreate=...)``): a rebuild
  copies every row, can fire ``ON DELETE CASCADE`` on child tables (notes,
  pitfall 2) and is the one step that can corrupt data.  So a change SQLite can
  only do by rebuilding (wider type, NOT NULL dropped, a CHECK it really has
  changed) is refused there, with the reason.  A changed server default is
  left alone on SQLite (the app writes the Python-side default itself).
* Enum/state CHECKs exist on PostgreSQL only (``ddl_if(dialect="postgresql")``;
  the ORM checks membership on every database), so on SQLite adding an enum
  value needs no DDL at all.  CHECKs not emitted for the dialect are not
  compared as DDL there (a SQLite table made when they still were keeps them,
  and changing those is refused as before).  Removing an enum value is still
  refused on both databases while rows use it: on SQLite every start counts
  the rows outside each enum (one scan per enum/state column).
* Dropping any other index is refused: it was made by hand (an
  administrator's), and a start-up that silently drops it is worse than asking.
* Only ``jf_*`` tables are in scope.  FAB's ``ab_*`` tables (also in FAB's
  ``Model.metadata``) are created by FAB and ignored both ways: ``include_name``
  filters the reflected side only, ``include_object`` both (notes §1).

Alembic does not compare CHECK constraints at all, so this module does (by name;
the builder names every CHECK, see ``generator.names.check_name``), respecting
each CHECK's ``ddl_if``.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Optional

import sqlalchemy as sa
from alembic.autogenerate import produce_migrations
from alembic.migration import MigrationContext
from alembic.operations import Operations, ops
from sqlalchemy.engine import Connection, Engine

from generator import names

PREFIX = names.TABLE_PREFIX
# crc32("jiefen-schema-sync"): one key per application, freed at COMMIT/ROLLBACK.
ADVISORY_LOCK_KEY = 1_493_618_731
LOCK_TIMEOUT = "15s"  # PG DDL queues behind open transactions of running instances (notes, pitfall 11)
NOTHING_DONE = "本次启动未做任何修改"

# Stable refusal codes: tests, logs and the admin guide key on these.
KINDS = {
    "drop_table": "表已从配置中删除",
    "drop_column": "字段已从配置中删除",
    "type_change": "字段类型变更",
    "not_null": "字段改为必填",
    "add_not_null_column": "新增必填字段无默认值",
    "needs_rebuild": "SQLite 需重建表",
    "check_change": "取值约束变更（SQLite 需重建表）",  # only a CHECK that an old SQLite table really has
    "check_violation": "已有数据不符合新的取值约束",
    "drop_index": "数据库中有配置未生成的索引（手工创建）",
    "unique_duplicates": "唯一索引与已有重复数据冲突",
    "fk_change": "关联（外键）变更",
    "unsupported": "其他无法自动完成的变更",
}


@dataclass(frozen=True)
class Refusal:
    """One change the sync will not make; ``zh`` is what the administrator reads."""

    kind: str
    table: str
    column: Optional[str]
    zh: str
    en: str


@dataclass(frozen=True)
class SyncPlan:
    """``additive``: alembic ops ready for ``Operations.invoke``, in a safe order. ``created``: first start."""

    additive: tuple[ops.MigrateOperation, ...] = ()
    refused: tuple[Refusal, ...] = ()
    created: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.additive and not self.refused

    def describe(self) -> list[str]:
        """One line per op, for the start-up log."""
        return [f"created table {t}" for t in self.created] + [_describe(o) for o in self.additive]


class SchemaRefused(RuntimeError):
    """The database differs from the config in a way the sync will not fix; nothing was changed."""

    def __init__(self, plan: SyncPlan) -> None:
        super().__init__(plan)
        self.plan = plan

    def __str__(self) -> str:
        lines = [f"数据库结构与配置不一致，共 {len(self.plan.refused)} 处无法自动同步，系统未启动："]
        lines += [f"  [{r.kind}] {r.zh}" for r in self.plan.refused]
        lines.append("Schema sync refused (nothing changed): " + "; ".join(r.en for r in self.plan.refused))
        return "\n".join(lines)


# ------------------------------------------------------------------ public API


def plan(connection: Connection, metadata: sa.MetaData) -> SyncPlan:
    """Compare the live database with ``metadata`` (``jf_*`` tables only); changes nothing."""
    return _Planner(connection, metadata).run()


def apply(connection: Connection, plan: SyncPlan) -> None:
    """Apply ``plan.additive`` atomically; raise ``SchemaRefused`` (before touching anything) if any change is refused.

    Uses the connection's transaction when there is one (the caller commits),
    else opens and commits its own.
    """
    if plan.refused:
        raise SchemaRefused(plan)
    if not plan.additive:
        return
    with _transaction(connection):
        op = Operations(MigrationContext.configure(connection))
        for o in plan.additive:
            op.invoke(o)


def sync(engine: Engine, metadata: sa.MetaData) -> SyncPlan:
    """Start-up entry point: create everything on a fresh database, else plan + apply; all under a lock.

    Run it in a fresh process before ``AppBuilder.init_app`` (FAB then creates
    its ``ab_*`` tables itself).  Concurrent starters queue on the lock and the
    later ones find an empty plan.  After applying, the plan is recomputed in
    the same transaction and must be empty, else everything is rolled back: a
    sync that would re-apply on every start is a bug to fix, not to ship.
    """
    with engine.connect() as conn:
        with _transaction(conn, lock=True):
            ours = [t for t in metadata.sorted_tables if t.name.startswith(PREFIX)]
            live = set(sa.inspect(conn).get_table_names())
            if not any(n.startswith(PREFIX) for n in live):
                _create_missing_targets(conn, ours, live)
                metadata.create_all(conn, tables=ours)
                return SyncPlan(created=tuple(t.name for t in ours))
            result = plan(conn, metadata)
            apply(conn, result)
            if result.additive:
                left = _Planner(conn, metadata).run()
                if not left.empty:
                    raise RuntimeError("schema sync is not idempotent, rolled back; still differs: "
                                       + "; ".join(left.describe() + [r.en for r in left.refused]))
            return result


# ------------------------------------------------------------------ locking and transactions


@contextmanager
def _transaction(conn: Connection, lock: bool = False) -> Iterator[None]:
    """Make the DDL atomic, and with ``lock`` serialise concurrent starters before anything is reflected.

    pysqlite opens transactions only for DML, so DDL would autocommit statement
    by statement and a failed apply would leave half a schema (notes, pitfall 1);
    an explicit ``BEGIN IMMEDIATE`` makes it transactional and is SQLite's
    cross-process write lock.  PostgreSQL: a transaction-scoped advisory lock.
    """
    own = not conn.in_transaction()
    trans = conn.begin() if own else None
    try:
        if conn.dialect.name == "sqlite":
            raw = conn.connection.driver_connection
            if not raw.in_transaction:  # type: ignore[union-attr]
                conn.exec_driver_sql("BEGIN IMMEDIATE")
        elif lock and conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
            # After the lock: lock_timeout would also cut the wait for the lock itself.
            conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        yield
    except BaseException:
        if trans is not None:
            trans.rollback()
        raise
    if trans is not None:
        trans.commit()


transaction = _transaction  # app/lifecycle runs plan and apply under the same lock


def _create_missing_targets(conn: Connection, tables: list[sa.Table], live: set[str]) -> None:
    """PostgreSQL needs FK targets to exist; ``created_by_id`` points at FAB's ``ab_user``, created later by FAB."""
    for target in {fk.column.table for t in tables for fk in t.foreign_keys}:
        if not target.name.startswith(PREFIX) and target.name not in live:
            target.create(conn, checkfirst=True)


# ------------------------------------------------------------------ planning


def _in_scope(name: Optional[str], type_: str, *_: Any) -> bool:
    return type_ != "table" or bool(name and name.startswith(PREFIX))


def _entity(table: str) -> str:
    return table[len(PREFIX):] if table.startswith(PREFIX) else table


def _emitted(constraint: sa.Constraint, dialect: sa.engine.Dialect) -> bool:
    """Whether ``CREATE TABLE`` on ``dialect`` writes this constraint (its ``ddl_if``, e.g. PostgreSQL-only CHECKs)."""
    return constraint._should_create_for_compiler(dialect.ddl_compiler(dialect, None))


def _ours(table: str, index_name: Optional[str], cols: list[str], unique: bool) -> bool:
    """An index the builder made: ``generator.names.index_name`` of its own table, columns and uniqueness."""
    return (table.startswith(PREFIX) and bool(cols) and all(cols)
            and index_name == names.index_name(table, *cols, unique=unique))


def _check_signature(sqltext: str) -> Any:
    """CHECKs as both databases give them back, made comparable.

    PostgreSQL returns its own rewrite (``(x)::text = ANY (ARRAY['a'::character
    varying, …])``) of the builder's ``x IN ('a', …)``; the set of literals is what
    carries meaning for those.  Anything without literals is compared as text.
    """
    literals = re.findall(r"'((?:[^']|'')*)'", sqltext)
    return frozenset(literals) if literals else re.sub(r"[\s()]", "", sqltext).lower()


class _Planner:
    def __init__(self, conn: Connection, metadata: sa.MetaData) -> None:
        self.conn, self.metadata = conn, metadata
        self.sqlite = conn.dialect.name == "sqlite"
        self.additive: list[tuple[int, ops.MigrateOperation]] = []  # (phase, op): 0 tables, 1 columns, 2 FKs,
        # 3 checks, 4 index drops/renames, 5 new indexes (a drop before a create of the same name)
        self.refused: list[Refusal] = []
        self.new_tables: set[str] = set()
        self.new_columns: dict[tuple[str, str], sa.Column] = {}
        self._counts: dict[str, int] = {}

    def run(self) -> SyncPlan:
        mc = MigrationContext.configure(self.conn, opts={
            "include_name": _in_scope, "include_object": lambda obj, name, type_, *a: _in_scope(name, type_),
            "compare_type": True, "compare_server_default": True})
        flat = [o for top in produce_migrations(mc, self.metadata).upgrade_ops.ops
                for o in (top.ops if isinstance(top, ops.ModifyTableOps) else [top])]
        if self.sqlite:
            flat = self._without_inline_fk_echoes(flat)
        # Columns first: FK, CHECK and index decisions depend on whether their column is new.
        for o in sorted(flat, key=lambda o: not isinstance(o, (ops.CreateTableOp, ops.AddColumnOp))):
            self._classify(o)
        self._pair_index_renames()
        self._compare_checks()
        return SyncPlan(additive=tuple(o for _, o in sorted(self.additive, key=lambda p: p[0])),
                        refused=tuple(self.refused))

    # -- helpers

    def _add(self, phase: int, o: ops.MigrateOperation) -> None:
        self.additive.append((phase, o))

    def _refuse(self, kind: str, table: str, column: Optional[str], zh: str, en: str) -> None:
        self.refused.append(Refusal(kind, table, column, f"{zh}；{NOTHING_DONE}", en))

    def _scalar(self, sql: str) -> int:
        return int(self.conn.exec_driver_sql(sql).scalar() or 0)

    def _q(self, name: str) -> str:
        return self.conn.dialect.identifier_preparer.quote(name)

    def _rows(self, table: str) -> int:
        if table not in self._counts:
            self._counts[table] = self._scalar(f"SELECT count(*) FROM {self._q(table)}")
        return self._counts[table]

    def _non_null(self, table: str, column: str) -> int:
        return self._scalar(f"SELECT count({self._q(column)}) FROM {self._q(table)}")

    # -- alembic's diff

    def _classify(self, o: ops.MigrateOperation) -> None:
        if isinstance(o, ops.CreateTableOp):
            self.new_tables.add(o.table_name)
            # Alembic copies the constraints, losing their ddl_if: leave out what this dialect does not get.
            o.columns = [c for c in o.columns
                         if not isinstance(c, sa.CheckConstraint) or _emitted(c, self.conn.dialect)]
            self._add(0, o)
        elif isinstance(o, ops.AddColumnOp):
            self._add_column(o)
        elif isinstance(o, ops.CreateIndexOp):
            self._create_index(o)
        elif isinstance(o, ops.AlterColumnOp):
            self._alter_column(o)
        elif isinstance(o, ops.CreateForeignKeyOp):
            self._create_fk(o)
        elif isinstance(o, ops.DropTableOp):
            t, n = o.table_name, self._rows(o.table_name)
            self._refuse("drop_table", t, None,
                         f"配置中删除了实体 {_entity(t)}，但数据库中表 {t} 仍存在（{n} 行数据）；"
                         "如确需删除，请先导出数据并由管理员手工删除该表",
                         f"DROP TABLE {t}: in the database ({n} rows) but not in the config")
        elif isinstance(o, ops.DropColumnOp):
            t, c = o.table_name, o.column_name
            n = self._non_null(t, c)
            data = f"仍有数据（{n} 条非空）" if n else "仍存在（暂无数据）"
            self._refuse("drop_column", t, c,
                         f"配置中删除了字段 {_entity(t)}.{c}，但数据库中该列{data}；"
                         "如确需删除，请先导出数据并由管理员手工迁移",
                         f"DROP COLUMN {t}.{c}: in the database ({n} non-null values) but not in the config")
        elif isinstance(o, ops.DropIndexOp):
            self._add(4, o)  # provisional: kept if paired with a create (a rename) or one of ours
        elif isinstance(o, ops.DropConstraintOp) and o.constraint_type == "foreignkey":
            self._refuse("fk_change", o.table_name, None,
                         f"表 {o.table_name} 的关联（外键 {o.constraint_name or '未命名'}）在配置中已删除或改变；"
                         "删除或改变关联需由管理员手工迁移",
                         f"DROP FOREIGN KEY {o.constraint_name} on {o.table_name}")
        else:
            table = getattr(o, "table_name", "?")
            self._refuse("unsupported", table, None,
                         f"表 {table} 有无法自动完成的结构变更（{_describe(o)}）；请由管理员手工迁移",
                         f"unsupported change: {_describe(o)}")

    def _add_column(self, o: ops.AddColumnOp) -> None:
        t, c = o.table_name, o.column
        if not c.nullable and c.server_default is None and (self.sqlite or self._rows(t)):
            n = self._rows(t)
            why = f"而表 {t} 已有 {n} 行数据" if n else "而 SQLite 不能为已有的表添加无默认值的必填列"
            self._refuse("add_not_null_column", t, c.name,
                         f"新增的必填字段 {_entity(t)}.{c.name} 没有数据库默认值，{why}；"
                         "请先将其设为选填并补全数据，或在配置中给出默认值",
                         f"ADD COLUMN {t}.{c.name}: NOT NULL without server default on an existing table ({n} rows)")
            return
        self.new_columns[(t, c.name)] = c
        # The metadata column carries index=True/ForeignKey: invoking it as is would create
        # the index twice (notes, pitfall 4).  A bare copy; indexes and FKs come as their own ops.
        extra: list[Any] = []
        kw: dict[str, Any] = {}
        if self.sqlite:
            # SQLite cannot ALTER constraints in: write the FK and CHECK inline (no rebuild).
            if c.foreign_keys:
                fk = next(iter(c.foreign_keys))
                extra.append(sa.ForeignKey(fk.column, ondelete=fk.ondelete, name=fk.name))
                kw["inline_references"] = True
            check = self._metadata_checks(t).get(names.check_name(t, c.name))
            if check is not None and _emitted(check, self.conn.dialect):
                extra.append(sa.CheckConstraint(str(check.sqltext), name=check.name))
        bare = sa.Column(c.name, c.type.copy(), *extra, nullable=c.nullable, server_default=c.server_default)
        self._add(1, ops.AddColumnOp(t, bare, **kw))

    def _create_index(self, o: ops.CreateIndexOp) -> None:
        t = o.table_name
        cols = _index_columns(o)
        existing = t not in self.new_tables and any((t, c) not in self.new_columns for c in cols)
        if o.unique and existing:
            qcols = ", ".join(self._q(c) for c in cols)
            dup = self.conn.exec_driver_sql(
                f"SELECT 1 FROM {self._q(t)} WHERE {' AND '.join(f'{self._q(c)} IS NOT NULL' for c in cols)} "
                f"GROUP BY {qcols} HAVING count(*) > 1 LIMIT 1").first()
            if dup:
                self._refuse("unique_duplicates", t, ",".join(cols),
                             f"字段 {_entity(t)}.{'+'.join(cols)} 在配置中改为唯一，但数据库中已有重复值；"
                             "请先清理重复数据再启动",
                             f"CREATE UNIQUE INDEX {o.index_name} on {t}{tuple(cols)}: duplicate values exist")
                return
        self._add(5, o)

    def _alter_column(self, o: ops.AlterColumnOp) -> None:
        t, c = o.table_name, o.column_name
        who = f"{_entity(t)}.{c}"
        if o.modify_type is not None:
            old, new = o.existing_type, o.modify_type
            widen = (all(isinstance(x, sa.String) and not isinstance(x, (sa.Text, sa.Enum)) and x.length
                         for x in (old, new)) and new.length > old.length)  # VARCHAR(n) -> VARCHAR(m > n)
            if not widen:
                n = self._non_null(t, c)
                self._refuse("type_change", t, c,
                             f"字段 {who} 的类型从 {old} 改为 {new}，已有数据（{n} 条非空）可能被截断或无法转换；"
                             "请恢复原类型，或新增一个字段并由管理员手工迁移数据",
                             f"ALTER COLUMN {t}.{c}: type {old} -> {new} ({n} non-null values)")
                return
            if self.sqlite:
                return self._needs_rebuild(t, c, f"长度（{old} → {new}）", f"type {old} -> {new}")
        if o.modify_nullable is False:
            n = self._rows(t) - self._non_null(t, c)
            self._refuse("not_null", t, c,
                         f"字段 {who} 在配置中改为必填，但数据库中该列允许为空（当前 {n} 条空值）；"
                         "请在配置中保留为选填，或先补全数据后由管理员手工添加约束",
                         f"ALTER COLUMN {t}.{c}: nullable -> NOT NULL ({n} NULL values)")
            return
        if o.modify_nullable is True and self.sqlite:
            return self._needs_rebuild(t, c, "必填改为选填", "NOT NULL -> nullable")
        if o.modify_server_default is not False and self.sqlite:
            # Ignored, not refused: SQLite would need a rebuild, and the server default only
            # serves ADD COLUMN and inserts that omit the column.  The app's inserts carry the
            # Python-side default (Column.default), which always follows the config.
            return
        self._add(1, o)  # PostgreSQL alters these in place, without rewriting the table

    def _needs_rebuild(self, t: str, c: str, what_zh: str, what_en: str) -> None:
        self._refuse("needs_rebuild", t, c,
                     f"字段 {_entity(t)}.{c} 的{what_zh}变更在 SQLite 上需要重建整张表，自动同步不做重建；"
                     "请恢复原配置，或由管理员备份后手工迁移",
                     f"ALTER COLUMN {t}.{c}: {what_en} needs a table rebuild on SQLite")

    def _create_fk(self, o: ops.CreateForeignKeyOp) -> None:
        t = o.source_table
        if t in self.new_tables:
            return
        if all((t, c) in self.new_columns for c in o.local_cols):
            if not self.sqlite:  # SQLite: already inline in ADD COLUMN
                self._add(2, o)
            return
        cols = ",".join(o.local_cols)
        self._refuse("fk_change", t, cols,
                     f"字段 {_entity(t)}.{cols} 新增或改变了关联（外键 → {o.referent_table}），已有数据可能不满足，"
                     "且 SQLite 需重建表；请由管理员手工迁移",
                     f"ADD FOREIGN KEY {t}({cols}) -> {o.referent_table}: on existing column(s)")

    def _without_inline_fk_echoes(self, flat: list[Any]) -> list[Any]:
        """Drop the remove_fk + add_fk pair alembic reports for FKs that ``ADD COLUMN`` wrote inline.

        SQLite reflects a column-level ``REFERENCES … ON DELETE …`` without its name
        and ON DELETE (only table-level ``FOREIGN KEY`` clauses are parsed), so the
        FK looks changed on every start.  ``PRAGMA foreign_key_list`` has the truth.
        """
        drops = {(o.table_name, tuple(o.to_constraint().column_keys)): o for o in flat
                 if isinstance(o, ops.DropConstraintOp) and o.constraint_type == "foreignkey"}
        echoes: set[int] = set()
        for o in flat:
            d = drops.get((getattr(o, "source_table", None), tuple(getattr(o, "local_cols", ()))))
            if isinstance(o, ops.CreateForeignKeyOp) and d is not None and len(o.local_cols) == 1:
                want = (o.referent_table, o.local_cols[0], o.remote_cols[0],
                        (o.kw.get("ondelete") or "NO ACTION").upper())
                rows = self.conn.exec_driver_sql(f"PRAGMA foreign_key_list({self._q(o.source_table)})")
                if any((r[2], r[3], r[4], r[6].upper()) == want for r in rows):
                    echoes |= {id(o), id(d)}
        return [o for o in flat if id(o) not in echoes]

    def _pair_index_renames(self) -> None:
        """A drop + create of the same (table, columns, unique) is a rename, e.g. after a naming change (notes §3)."""
        drops = [(i, o) for i, (_, o) in enumerate(self.additive) if isinstance(o, ops.DropIndexOp)]
        creates = {(o.table_name, tuple(_index_columns(o)), bool(o.unique)): o
                   for _, o in self.additive if isinstance(o, ops.CreateIndexOp)}
        gone: set[int] = set()
        for i, d in drops:
            key = (d.table_name, tuple(_index_columns(d)), bool(d.to_index().unique))
            c = creates.get(key)
            if c is None and _ours(d.table_name, d.index_name, list(key[1]), key[2]):
                continue  # the config no longer needs it (e.g. the field left list/search): dropping loses no data
            if c is None:
                gone.add(i)
                self._refuse("drop_index", d.table_name, ",".join(key[1]),
                             f"表 {d.table_name} 上的索引 {d.index_name}（{', '.join(key[1])}）不是按配置生成的"
                             "（可能是手工创建），自动同步不删除它；请由管理员确认后手工删除",
                             f"DROP INDEX {d.index_name} on {d.table_name}{key[1]}: not made from the config")
            elif not self.sqlite:  # PG renames in place; SQLite has no index rename: drop then create
                gone.add(i)
                self.additive = [p for p in self.additive if p[1] is not c]
                self._add(4, ops.ExecuteSQLOp(f"ALTER INDEX {self._q(d.index_name)} RENAME TO {self._q(c.index_name)}"))
        self.additive = [p for i, p in enumerate(self.additive) if i not in gone]

    # -- CHECK constraints (alembic ignores them)

    def _metadata_checks(self, table: str) -> dict[str, sa.CheckConstraint]:
        t = self.metadata.tables[table]
        return {c.name: c for c in t.constraints if isinstance(c, sa.CheckConstraint) and isinstance(c.name, str)}

    def _compare_checks(self) -> None:
        live = [t for t in self.metadata.tables if _in_scope(t, "table") and t not in self.new_tables]
        reflected = sa.inspect(self.conn).get_multi_check_constraints(filter_names=live) if live else {}
        by_table = {t: found for (_, t), found in reflected.items()}
        for t in live:
            db = {c["name"]: c["sqltext"] for c in by_table.get(t, ()) if c.get("name")}
            want = self._metadata_checks(t)
            for name in sorted(set(db) | set(want)):
                column = self._check_column(t, name)
                new_column = column is not None and (t, column) in self.new_columns
                if name in want and name not in db and not _emitted(want[name], self.conn.dialect):
                    # Not DDL on this dialect (SQLite: enum/state, enforced by the ORM): nothing to
                    # compare, but a value the config dropped must not be left in use.
                    if not new_column:
                        self._violations(t, column, want[name])
                elif name in want and name in db:
                    # Also on SQLite for a CHECK not emitted there any more: an old table still has it.
                    if _check_signature(db[name]) != _check_signature(str(want[name].sqltext)):
                        self._change_check(t, column, want[name], drop=True)
                elif name in want:
                    if new_column:
                        if not self.sqlite:  # SQLite: inline in ADD COLUMN
                            self._add(3, ops.CreateCheckConstraintOp(name, t, str(want[name].sqltext)))
                    else:
                        self._change_check(t, column, want[name], drop=False)
                elif self.sqlite:
                    self._check_refused(t, column, name, "已从配置中删除", "removed")
                else:
                    self._add(3, ops.DropConstraintOp(name, t, type_="check"))

    def _check_column(self, table: str, name: str) -> Optional[str]:
        return next((c for c in self.metadata.tables[table].c.keys() if names.check_name(table, c) == name), None)

    def _violations(self, t: str, column: Optional[str], check: sa.CheckConstraint) -> int:
        """Refuse (``check_violation``) if existing rows break ``check``; returns the count."""
        bad = self._scalar(f"SELECT count(*) FROM {self._q(t)} WHERE NOT ({check.sqltext})")
        if bad:
            self._refuse("check_violation", t, column,
                         f"字段 {_entity(t)}.{column} 的取值约束 {check.name} 已变更，但已有 {bad} 行数据不符合；"
                         "请先修正这些数据，或在配置中保留原有取值",
                         f"CHECK {check.name} on {t}: {bad} existing rows violate the new condition")
        return bad

    def _change_check(self, t: str, column: Optional[str], check: sa.CheckConstraint, drop: bool) -> None:
        if self.sqlite:
            return self._check_refused(t, column, check.name, *(("已变更", "changed") if drop else ("为新增", "added")))
        if self._violations(t, column, check):
            return
        if drop:
            self._add(3, ops.DropConstraintOp(check.name, t, type_="check"))
        self._add(3, ops.CreateCheckConstraintOp(check.name, t, str(check.sqltext)))

    def _check_refused(self, t: str, column: Optional[str], name: Any, what: str, what_en: str) -> None:
        self._refuse("check_change", t, column,
                     f"字段 {_entity(t)}.{column} 的取值约束 {name} {what}（例如枚举取值增删），"
                     "在 SQLite 上需要重建整张表，自动同步不做重建；请恢复原取值，或由管理员备份后手工迁移",
                     f"CHECK {name} on {t}: {what_en}; needs a table rebuild on SQLite")


def _index_columns(o: Any) -> list[str]:
    return [getattr(e, "name", None) or str(e) for e in o.to_index().expressions]


def _describe(o: ops.MigrateOperation) -> str:
    if isinstance(o, ops.CreateTableOp):
        return f"create table {o.table_name}"
    if isinstance(o, ops.AddColumnOp):
        return f"add column {o.table_name}.{o.column.name} {o.column.type}"
    if isinstance(o, ops.CreateIndexOp):
        return f"create {'unique ' if o.unique else ''}index {o.index_name} on {o.table_name}"
    if isinstance(o, ops.DropIndexOp):
        return f"drop index {o.index_name} on {o.table_name}"
    if isinstance(o, ops.ExecuteSQLOp):
        return str(o.sqltext)
    return type(o).__name__ + " " + " ".join(f"{k}={v}" for k, v in vars(o).items()
                                                if k in ("table_name", "column_name", "constraint_name"))
