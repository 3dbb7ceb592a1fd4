"""``python -m generator plan``: what applying the YAML would do to the live database, item by item.

The plan is a *rehearsal*: inside one locked transaction it carries out the renames
(``renamed_from`` on entities, fields, enum values, states and roles) and the moves of cases out of
removed states (``moved_to``), then asks the schema sync (app/schema_sync.py) what is left to do,
and counts the rows every step touches.  ``plan`` rolls the transaction back; ``apply``
(app/lifecycle/apply.py) runs the very same steps and commits.  So what ``plan`` shows is what
``apply`` does, with the same numbers.

Each item is marked

* ``safe``     carried out by ``apply`` (additive columns and tables, renames, wording, new grants
               of roles that exist nowhere yet, new checklist versions, reference data);
* ``confirm``  carried out by ``apply`` once confirmed (``--yes`` or typing yes): wider permissions,
               a removed role whose accounts lose their grants, cases moved by ``moved_to``,
               dropping an empty field or table, data removed under ``--allow-destructive``;
* ``refused``  never carried out, with a code, the file:line:col to change and what to write there
               (a field or table with data removed without ``--allow-destructive``, a type change,
               a state removed while cases sit in it without ``moved_to`` …).

Items are compared with the database itself (tables, columns, states in use, roles and their
permissions) and, where it exists, with the last applied config (``jf_config_version``) for what
the database cannot tell (transitions, reveal grants, labels, deadlines).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations, ops
from sqlalchemy.engine import Connection

from generator import names
from generator.baseline import checklist_shape, describe_changes, structure_hash
from generator.builders.permissions import desired_permissions
from generator.source import Source
from generator.spec import AppSpec

from app import schema_sync
from .history import Applied

SAFE, CONFIRM, REFUSED = "safe", "confirm", "refused"
AREAS = {"schema": ("数据库结构", "Schema"), "data": ("数据", "Data"), "permissions": ("权限", "Permissions"),
         "workflow": ("流程", "Workflow"), "checklists": ("检查清单", "Checklists"),
         "reference": ("参考数据", "Reference data"), "accounts": ("账号", "Accounts"),
         "labels": ("显示名称", "Labels")}
STATUS = {SAFE: ("安全", "safe"), CONFIRM: ("需确认", "confirm"), REFUSED: ("拒绝", "refused")}
ACTIONS = {"read": ("查看", "read"), "create": ("新增", "create"), "update": ("修改", "update"),
           "delete": ("删除", "delete"), "export": ("导出", "export")}
REFUSAL_CODES = {"drop_table": "E701", "drop_column": "E702", "type_change": "E703", "not_null": "E704",
                 "add_not_null_column": "E705", "needs_rebuild": "E706", "check_change": "E706",
                 "check_violation": "E707", "drop_index": "E708", "unique_duplicates": "E709",
                 "fk_change": "E711", "unsupported": "E712"}
FAB_KEPT_ROLES = ("Admin", "Public")


@dataclass
class Item:
    area: str
    status: str
    zh: str
    en: str
    code: str = ""
    rows: Optional[int] = None
    src: Optional[Source] = None
    hint_zh: str = ""
    hint_en: str = ""

    def as_json(self) -> dict[str, Any]:
        return {"area": self.area, "status": self.status, "code": self.code, "message": self.zh,
                "message_en": self.en, "rows": self.rows, "hint": self.hint_zh, "hint_en": self.hint_en,
                "file": self.src.file if self.src else None, "line": self.src.line if self.src else None,
                "col": self.src.col if self.src else None}


@dataclass
class Target:
    """What the plan compares: the compiled YAML (and its registry), and what was applied last."""

    spec: AppSpec
    reg: Any
    config_dir: str
    files: dict[str, str]
    old: Optional[Applied] = None
    old_spec: Optional[AppSpec] = None
    allow_destructive: bool = False


@dataclass
class Plan:
    items: list[Item] = field(default_factory=list)
    fresh: bool = False
    sync: Optional[schema_sync.SyncPlan] = None
    drops: list[tuple[str, str, Optional[str]]] = field(default_factory=list)  # (kind, table, column)
    moved: dict[str, list[int]] = field(default_factory=dict)   # workflow -> case ids moved
    deadlines_changed: bool = False

    def add(self, area: str, status: str, zh: str, en: str, **kw: Any) -> Item:
        item = Item(area, status, zh, en, **kw)
        self.items.append(item)
        return item

    @property
    def refused(self) -> list[Item]:
        return [i for i in self.items if i.status == REFUSED]

    @property
    def to_confirm(self) -> list[Item]:
        return [i for i in self.items if i.status == CONFIRM]

    @property
    def empty(self) -> bool:
        return not self.items

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for i in self.items if i.status == s) for s in STATUS}

    def as_json(self) -> list[dict[str, Any]]:
        return [i.as_json() for i in self.items]


# ------------------------------------------------------------------ helpers


def _q(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def _count(conn: Connection, table: str, where: str = "", params: Optional[dict[str, Any]] = None) -> int:
    sql = f"SELECT count(*) FROM {_q(conn, table)}" + (f" WHERE {where}" if where else "")
    return int(conn.execute(sa.text(sql), params or {}).scalar() or 0)


def _columns(conn: Connection, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def _tables(conn: Connection) -> set[str]:
    return set(sa.inspect(conn).get_table_names())


def _entity_of(table: str) -> str:
    return table[len(names.TABLE_PREFIX):] if table.startswith(names.TABLE_PREFIX) else table


def _n(n: Optional[int]) -> str:
    return f"{n:,}" if n is not None else "?"


def _state_label(spec: Optional[AppSpec], wf: str, state: str) -> str:
    w = spec.workflows.get(wf) if spec else None
    st = w.states.get(state) if w else None
    return f"{st.label.zh}（{state}）" if st else state


def _drop_check(conn: Connection, table: str, column: str) -> None:
    """PostgreSQL: drop the value CHECK of a column before its values are renamed (the sync adds the new one)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ALTER TABLE {_q(conn, table)} DROP CONSTRAINT IF EXISTS "
                             f"{_q(conn, names.check_name(table, column))}")


# ------------------------------------------------------------------ the plan


def prepare(conn: Connection, t: Target) -> Plan:
    """Rehearse on ``conn`` (inside the caller's transaction): renames and moves are carried out,
    the schema sync is planned, everything is counted.  The caller rolls back (plan) or goes on
    with :func:`app.lifecycle.apply.execute` and commits (apply)."""
    p = Plan()
    live = _tables(conn)
    if not any(n.startswith(names.TABLE_PREFIX) and n != "jf_config_version" for n in live):
        p.fresh = True
        ours = [tb for tb in t.reg.metadata.sorted_tables if tb.name.startswith(names.TABLE_PREFIX)]
        p.add("schema", SAFE, f"新数据库：创建全部 {len(ours)} 张表", f"new database: create all {len(ours)} tables")
        _checklists(p, t, conn, live)
        _reference(p, t, conn, live)
        return p
    _rename_entities(p, t, conn, live)
    live = _tables(conn)
    _rename_fields(p, t, conn, live)
    _rename_enum_values(p, t, conn, live)
    removed_state_tables = _workflow_states(p, t, conn, live)
    _roles(p, t, conn, live)
    demo_logins_for_new_roles(p, t, conn, live)
    _schema(p, t, conn, removed_state_tables)
    _permissions(p, t, conn, live)
    _workflow_rules(p, t, conn, live)
    _checklists(p, t, conn, live)
    _reference(p, t, conn, live)
    _labels(p, t)
    return p


def _rename_entities(p: Plan, t: Target, conn: Connection, live: set[str]) -> None:
    op = Operations(MigrationContext.configure(conn))
    for ent in t.spec.entities.values():
        if not ent.renamed_from:
            continue
        old_t, new_t = names.table_name(ent.renamed_from), names.table_name(ent.name)
        src = t.spec.value_at(ent, "renamed_from")
        if old_t in live and new_t in live:
            p.add("schema", REFUSED, f"实体改名 {ent.renamed_from} → {ent.name}：数据库中新旧两张表（{old_t}、{new_t}）都存在",
                  f"rename {ent.renamed_from} → {ent.name}: both tables {old_t} and {new_t} exist", code="E713",
                  src=src, hint_zh=f"确认哪张表的数据是要保留的；另一张由管理员备份后删除，再运行 plan",
                  hint_en="decide which table holds the data to keep; have the other backed up and dropped")
        elif old_t in live:
            n = _count(conn, old_t)
            op.rename_table(old_t, new_t)
            if "jf_file" in live:
                conn.execute(sa.text("UPDATE jf_file SET entity = :new WHERE entity = :old"),
                             {"new": ent.name, "old": ent.renamed_from})
            p.add("schema", SAFE, f"实体改名 {ent.renamed_from} → {ent.name}（表 {old_t} → {new_t}，保留 {_n(n)} 条记录）",
                  f"entity renamed {ent.renamed_from} → {ent.name} ({_n(n)} rows kept)", rows=n, src=src)


def _rename_fields(p: Plan, t: Target, conn: Connection, live: set[str]) -> None:
    op = Operations(MigrationContext.configure(conn))
    for ent in t.spec.entities.values():
        table = names.table_name(ent.name)
        renames = [f for f in ent.fields.values() if f.renamed_from]
        if not renames or table not in live:
            continue
        cols = _columns(conn, table)
        for f in renames:
            old_c = names.column_name(f.renamed_from, f.type)  # type: ignore[arg-type]
            new_c = names.column_name(f.name, f.type)
            src = t.spec.value_at(f, "renamed_from")
            if old_c in cols and new_c in cols:
                p.add("schema", REFUSED, f"字段改名 {ent.name}.{f.renamed_from} → {f.name}：数据库中新旧两列都存在",
                      f"field rename {ent.name}.{f.renamed_from} → {f.name}: both columns exist", code="E713", src=src,
                      hint_zh="确认哪一列的数据要保留；另一列由管理员备份后删除，再运行 plan",
                      hint_en="decide which column holds the data to keep; have the other dropped")
            elif old_c in cols:
                n = _count(conn, table, f"{_q(conn, old_c)} IS NOT NULL")
                op.alter_column(table, old_c, new_column_name=new_c)
                if f.type == "file" and "jf_file" in live:
                    conn.execute(sa.text("UPDATE jf_file SET field = :new WHERE entity = :e AND field = :old"),
                                 {"new": f.name, "old": f.renamed_from, "e": ent.name})
                p.add("schema", SAFE, f"字段改名 {ent.name}.{f.renamed_from} → {f.name}（保留 {_n(n)} 条非空数据）",
                      f"field renamed {ent.name}.{f.renamed_from} → {f.name} ({_n(n)} values kept)", rows=n, src=src)


def _rename_enum_values(p: Plan, t: Target, conn: Connection, live: set[str]) -> None:
    for en in t.spec.enums.values():
        if not en.renamed:
            continue
        users = [(ent, f) for ent in t.spec.entities.values() for f in ent.fields.values()
                 if f.type == "enum" and f.enum == en.name and names.table_name(ent.name) in live]
        for new, old in en.renamed.items():
            total = 0
            for ent, f in users:
                table = names.table_name(ent.name)
                if f.name not in _columns(conn, table):
                    continue
                _drop_check(conn, table, f.name)
                res = conn.execute(sa.text(f"UPDATE {_q(conn, table)} SET {_q(conn, f.name)} = :new "
                                           f"WHERE {_q(conn, f.name)} = :old"), {"new": new, "old": old})
                total += max(res.rowcount or 0, 0)
            p.add("data", SAFE, f"选项值改名 {en.name}.{old} → {new}（{_n(total)} 条记录随之改为新值）",
                  f"enum value renamed {en.name}.{old} → {new} ({_n(total)} rows updated)", rows=total,
                  src=t.spec.value_at(en, "values", new, "renamed_from"))


def _case_labels(conn: Connection, t: Target, table: str, wf_entity: str, where: str,
                 params: dict[str, Any]) -> list[str]:
    ent = t.spec.entities.get(wf_entity)
    col = ent.display if ent and ent.display and ent.fields[ent.display].type in ("string", "text") else "id"
    if col not in _columns(conn, table):
        col = "id"
    rows = conn.execute(sa.text(f"SELECT {_q(conn, col)} FROM {_q(conn, table)} WHERE {where} "
                                f"ORDER BY id LIMIT 5"), params).scalars().all()
    return [str(r) if col != "id" else f"#{r}" for r in rows]


def _workflow_states(p: Plan, t: Target, conn: Connection, live: set[str]) -> set[str]:
    """Renamed states carry their cases; removed states with cases move (moved_to) or refuse (E710)."""
    refused_tables: set[str] = set()
    hist = "jf_case_history"
    for wf in t.spec.workflows.values():
        table = names.table_name(wf.entity)
        if table not in live or "state" not in _columns(conn, table):
            continue
        renames = {s.renamed_from: s.name for s in wf.states.values() if s.renamed_from}
        in_use = dict(conn.execute(sa.text(f"SELECT state, count(*) FROM {_q(conn, table)} GROUP BY state")).all())
        if renames or any(s not in wf.states for s in in_use):
            _drop_check(conn, table, "state")
        for old, new in renames.items():
            n = int(in_use.pop(old, 0) or 0)
            if n:
                conn.execute(sa.text(f"UPDATE {_q(conn, table)} SET state = :new, version = version + 1 "
                                     f"WHERE state = :old"), {"new": new, "old": old})
                in_use[new] = int(in_use.get(new, 0) or 0) + n
            if hist in live:
                for col in ("from_state", "to_state"):
                    conn.execute(sa.text(f"UPDATE {hist} SET {col} = :new WHERE {col} = :old AND workflow = :wf"),
                                 {"new": new, "old": old, "wf": wf.name})
            p.add("workflow", SAFE, f"状态改名 {old} → {_state_label(t.spec, wf.name, new)}（{_n(n)} 件案件及其流转记录随之改名）",
                  f"state renamed {old} → {new} ({_n(n)} cases and their histories follow)", rows=n,
                  src=t.spec.value_at(wf.states[new], "renamed_from"))
        gone_in_old = set(t.old_spec.workflows[wf.name].states) - set(wf.states) - set(renames) \
            if t.old_spec and wf.name in t.old_spec.workflows else set()
        for state in sorted(set(in_use) | gone_in_old):
            if state in wf.states or state is None:
                continue
            n = int(in_use.get(state, 0) or 0)
            label = _state_label(t.old_spec, wf.name, state)
            if n == 0:
                p.add("workflow", SAFE, f"删除状态 {label}（没有案件处于该状态）",
                      f"state {state} removed (no case is in it)", rows=0)
                continue
            cases = _case_labels(conn, t, table, wf.entity, "state = :s", {"s": state})
            shown = "、".join(cases) + ("等" if n > len(cases) else "")
            target = wf.moved_to.get(state)
            if target is None or target not in wf.states:
                refused_tables.add(table)
                p.add("workflow", REFUSED, f"删除状态 {label}：仍有 {_n(n)} 件案件处于该状态（{shown}）",
                      f"state {state} removed while {_n(n)} cases are in it ({', '.join(cases)})", code="E710",
                      rows=n, src=t.spec.key_at(wf, "states"),
                      hint_zh=f"在流程 {wf.name} 下写 moved_to: {{{state}: 现有状态名}}，案件移入该状态并各记一条流转记录；"
                              f"如果是改名，在新状态下写 renamed_from: {state}；或者恢复该状态",
                      hint_en=f"add moved_to: {{{state}: <existing state>}} to workflow {wf.name} (each case moves "
                              f"with a history row); for a rename write renamed_from: {state} on the new state; "
                              "or restore the state")
                continue
            ids = [int(r) for r in conn.execute(sa.text(f"SELECT id FROM {_q(conn, table)} WHERE state = :s "
                                                        f"ORDER BY id"), {"s": state}).scalars()]
            _move_cases(conn, t, wf.name, table, state, target, ids, live)
            p.moved.setdefault(wf.name, []).extend(ids)
            p.add("workflow", CONFIRM, f"删除状态 {label}：{_n(n)} 件案件（{shown}）移入 "
                                        f"{_state_label(t.spec, wf.name, target)}，每件记一条流转记录",
                  f"state {state} removed: {_n(n)} cases move to {target}, each with a history row", code="W733",
                  rows=n, src=t.spec.value_at(wf, "moved_to", state))
    return refused_tables


def _move_cases(conn: Connection, t: Target, wf: str, table: str, old: str, new: str, ids: list[int],
                live: set[str]) -> None:
    import datetime as _dt

    conn.execute(sa.text(f"UPDATE {_q(conn, table)} SET state = :new, version = version + 1 WHERE state = :old"),
                 {"new": new, "old": old})
    if "jf_case_history" not in live or not ids:
        return
    seqs = dict(conn.execute(sa.text("SELECT case_id, max(seq) FROM jf_case_history GROUP BY case_id")).all())
    now = _dt.datetime.now()
    old_label = _state_label(t.old_spec, wf, old)
    comment = (f"配置变更：状态 {old_label} 已删除（moved_to），案件移入 {_state_label(t.spec, wf, new)} / "
               f"config change: state {old} removed, case moved to {new}")
    rows = [{"case_id": cid, "seq": int(seqs.get(cid) or 0) + 1, "workflow": wf, "transition": "config_moved_to",
             "from_state": old, "to_state": new, "actor_username": "config-apply", "at": now, "comment": comment,
             "data": json.dumps({"moved_to": {old: new}}, ensure_ascii=False)} for cid in ids]
    conn.execute(sa.text("INSERT INTO jf_case_history (case_id, seq, workflow, transition, from_state, to_state, "
                         "actor_username, at, comment, data) VALUES (:case_id, :seq, :workflow, :transition, "
                         ":from_state, :to_state, :actor_username, :at, :comment, :data)"), rows)


def _roles(p: Plan, t: Target, conn: Connection, live: set[str]) -> None:
    if "ab_role" not in live:
        return
    roles = dict(conn.execute(sa.text("SELECT name, id FROM ab_role")).all())
    users_of = dict(conn.execute(sa.text("SELECT role_id, count(*) FROM ab_user_role GROUP BY role_id")).all()) \
        if "ab_user_role" in live else {}
    for role in t.spec.roles.values():
        old = role.renamed_from
        if not old or old not in roles:
            continue
        n = int(users_of.get(roles[old], 0) or 0)
        src = t.spec.value_at(role, "renamed_from")
        if role.name in roles:
            conn.execute(sa.text("UPDATE ab_user_role SET role_id = :new WHERE role_id = :old AND user_id NOT IN "
                                 "(SELECT user_id FROM ab_user_role WHERE role_id = :new)"),
                         {"new": roles[role.name], "old": roles[old]})
        else:
            conn.execute(sa.text("UPDATE ab_role SET name = :new WHERE id = :id"), {"new": role.name, "id": roles[old]})
            roles[role.name] = roles.pop(old)
        p.add("permissions", SAFE, f"角色改名 {old} → {role.label.zh}（{role.name}）：{_n(n)} 个账号保留该角色",
              f"role renamed {old} → {role.name}: {_n(n)} accounts keep it", rows=n, src=src)
    admin = next((r.name for r in t.spec.roles.values() if r.admin), None)
    for name, rid in sorted(roles.items()):
        if name in t.spec.roles or name in FAB_KEPT_ROLES or name == admin:
            continue
        n = int(users_of.get(rid, 0) or 0)
        if n:
            p.add("permissions", CONFIRM, f"角色 {name} 已从 roles.yaml 删除：{_n(n)} 个账号将失去它的全部权限",
                  f"role {name} removed from roles.yaml: {_n(n)} accounts lose all its grants", code="W731", rows=n,
                  hint_zh=f"如果是改名，在新角色下写 renamed_from: {name}，账号随之保留",
                  hint_en=f"for a rename write renamed_from: {name} on the new role: its accounts keep it")


def _schema(p: Plan, t: Target, conn: Connection, refused_tables: set[str]) -> None:
    sp = schema_sync.plan(conn, t.reg.metadata)
    kept = []
    adds = {(o.table_name, o.column.name) for o in sp.additive if isinstance(o, ops.AddColumnOp)}
    for r in sp.refused:
        if r.kind == "check_violation" and r.table in refused_tables and r.column == "state":
            continue  # the removed state is already refused (E710), naming its cases
        if r.kind in ("drop_column", "drop_table"):
            _drop(p, t, conn, r, adds)
            continue
        ent = t.spec.entities.get(_entity_of(r.table))
        fld = ent.fields.get(r.column or "") if ent else None
        src = fld.src if fld is not None else (ent.src if ent is not None else None)
        zh = r.zh.replace(f"；{schema_sync.NOTHING_DONE}", "")
        hint = ("如果是选项值改名，在新选项值下写 renamed_from: 旧值；否则恢复该选项值，或先修改这些记录",
                "for a renamed value write renamed_from: <old> on the new value; else keep the value or change "
                "those rows first") if r.kind == "check_violation" else ("", "")
        p.add("schema", REFUSED, zh, r.en, code=REFUSAL_CODES.get(r.kind, "E712"), src=src,
              hint_zh=hint[0], hint_en=hint[1])
        kept.append(r)
    p.sync = schema_sync.SyncPlan(additive=sp.additive, refused=tuple(kept))
    for o in sp.additive:
        zh, en, rows = _describe(conn, o, t.spec)
        ent = t.spec.entities.get(_entity_of(getattr(o, "table_name", "") or ""))
        src = None
        if ent is not None and isinstance(o, ops.AddColumnOp):
            f = next((f for f in ent.fields.values() if names.column_name(f.name, f.type) == o.column.name), None)
            src = f.src if f is not None else None
        elif ent is not None and isinstance(o, ops.CreateTableOp):
            src = ent.src
        p.add("schema", SAFE, zh, en, rows=rows, src=src)


def _drop(p: Plan, t: Target, conn: Connection, r: schema_sync.Refusal, adds: set[tuple[str, str]]) -> None:
    table, column = r.table, r.column
    ent_name = _entity_of(table)
    ent = t.spec.entities.get(ent_name)
    if column is None:
        n = _count(conn, table)
        what, what_en = f"实体 {ent_name}（表 {table}）", f"entity {ent_name} (table {table})"
        src = _entities_key(t)
        data = f"{_n(n)} 条记录"
        hint = (f"如果是改名，在新实体下写 renamed_from: {ent_name}；如果确实不要这些数据，先备份，"
                "再用 python -m generator apply --allow-destructive",
                f"for a rename write renamed_from: {ent_name} on the new entity; if the data is really not "
                "wanted, back it up and apply with --allow-destructive")
    else:
        n = _count(conn, table, f"{_q(conn, column)} IS NOT NULL")
        what, what_en = f"字段 {ent_name}.{column}", f"field {ent_name}.{column}"
        src = t.spec.key_at(ent, "fields") if ent is not None else _entities_key(t)
        data = f"{_n(n)} 条非空数据"
        same = [c for (tb, c) in adds if tb == table]
        guess = f"如果是把 {column} 改名为 {same[0]}，在字段 {same[0]} 下写 renamed_from: {column}；" if len(same) == 1 \
            else f"如果是改名，在新字段下写 renamed_from: {column}；"
        guess_en = f"if {column} was renamed to {same[0]}, write renamed_from: {column} on {same[0]}; " \
            if len(same) == 1 else f"for a rename write renamed_from: {column} on the new field; "
        hint = (guess + "如果确实不要这些数据，先备份，再用 python -m generator apply --allow-destructive",
                guess_en + "if the data is really not wanted, back it up and apply with --allow-destructive")
    if n == 0:
        p.drops.append(("table" if column is None else "column", table, column))
        p.add("schema", CONFIRM, f"删除{what}（没有数据，不会丢失任何内容）", f"drop {what_en} (empty, nothing is lost)",
              code="W732", rows=0, src=src)
    elif t.allow_destructive:
        p.drops.append(("table" if column is None else "column", table, column))
        p.add("schema", CONFIRM, f"删除{what}及其 {data}（已用 --allow-destructive 允许；apply 前先备份）",
              f"drop {what_en} with {_n(n)} values (allowed by --allow-destructive; backed up first)", code="W734",
              rows=n, src=src)
    else:
        p.add("schema", REFUSED, f"删除{what}：数据库中仍有 {data}", f"{what_en} removed while it holds {_n(n)} values",
              code="E701" if column is None else "E702", rows=n, src=src, hint_zh=hint[0], hint_en=hint[1])


def _entities_key(t: Target) -> Optional[Source]:
    smap = next((m for f, m in t.spec.sources.items() if f.endswith("entities.yaml")), None)
    return smap.key(("entities",)) if smap else None


def _describe(conn: Connection, o: Any, spec: Optional[AppSpec] = None) -> tuple[str, str, Optional[int]]:
    table = getattr(o, "table_name", "") or ""
    ent = _entity_of(table)
    if isinstance(o, ops.CreateTableOp):
        if spec is not None and ent not in spec.entities:
            return f"新建系统表 {table}", f"new system table {table}", None
        return f"新增实体 {ent}（新建表 {table}）", f"new entity {ent} (table {table})", None
    if isinstance(o, ops.AddColumnOp):
        n = _count(conn, table)
        fill = "默认值" if o.column.server_default is not None else "空值"
        return (f"实体 {ent} 新增字段 {o.column.name}（已有 {_n(n)} 条记录，新字段为{fill}）",
                f"entity {ent}: new field {o.column.name} ({_n(n)} rows get {'the default' if fill == '默认值' else 'NULL'})",
                n)
    if isinstance(o, ops.CreateIndexOp):
        return f"新建索引 {o.index_name}（{ent}）", f"create index {o.index_name} on {table}", None
    if isinstance(o, ops.DropIndexOp):
        return f"删除不再需要的索引 {o.index_name}（不影响数据）", f"drop index {o.index_name} (no data lost)", None
    if isinstance(o, ops.ExecuteSQLOp):
        return f"索引改名：{o.sqltext}", f"index rename: {o.sqltext}", None
    if isinstance(o, (ops.CreateCheckConstraintOp, ops.DropConstraintOp)):
        return f"更新表 {table} 的取值约束", f"update the value constraint of {table}", None
    if isinstance(o, ops.AlterColumnOp):
        return f"放宽字段 {ent}.{o.column_name} 的限制（长度、必填或默认值）", f"relax {table}.{o.column_name}", None
    if isinstance(o, ops.CreateForeignKeyOp):
        return f"新增关联 {ent} → {_entity_of(o.referent_table)}", f"new reference {table} → {o.referent_table}", None
    return schema_sync._describe(o), schema_sync._describe(o), None


def _fab_permissions(conn: Connection) -> dict[str, set[tuple[str, str]]]:
    rows = conn.execute(sa.text(
        "SELECT r.name, p.name, v.name FROM ab_permission_view_role pvr "
        "JOIN ab_role r ON r.id = pvr.role_id JOIN ab_permission_view pv ON pv.id = pvr.permission_view_id "
        "JOIN ab_permission p ON p.id = pv.permission_id JOIN ab_view_menu v ON v.id = pv.view_menu_id")).all()
    out: dict[str, set[tuple[str, str]]] = {}
    for role, perm, view in rows:
        out.setdefault(role, set()).add((perm, view))
    return out


def _grant_words(spec: Optional[AppSpec], perms: Iterable[tuple[str, str]]) -> tuple[list[str], list[str]]:
    zh, en = [], []
    order = list(ACTIONS)

    def key(p: tuple[str, str]) -> tuple[str, int]:
        action = p[0][len("can_"):]
        return (p[1], order.index(action) if action in order else len(order))

    for perm, view in sorted(perms, key=key):
        action = perm[len("can_"):] if perm.startswith("can_") else None
        ent = spec.entities.get(view) if spec else None
        if action in ACTIONS and ent is not None:
            zh.append(f"{ACTIONS[action][0]} {ent.label.zh}")
            en.append(f"{ACTIONS[action][1]} {ent.label.en}")
        elif action in ACTIONS:
            zh.append(f"{ACTIONS[action][0]} {view}")
            en.append(f"{ACTIONS[action][1]} {view}")
    return zh, en


def _permissions(p: Plan, t: Target, conn: Connection, live: set[str]) -> None:
    """Per role, what it gains (confirm: wider) and loses (safe), from the database's grants and the last config."""
    have = _fab_permissions(conn) if {"ab_permission_view_role", "ab_role"} <= live else {}
    want = desired_permissions(t.spec)
    admin = next((r.name for r in t.spec.roles.values() if r.admin), None)
    old = t.old_spec
    renamed = {r.renamed_from: r.name for r in t.spec.roles.values() if r.renamed_from}
    for name, role in t.spec.roles.items():
        if name == admin:
            continue
        before = have.get(name, have.get(role.renamed_from or "", set()))
        gained_zh, gained_en = _grant_words(t.spec, want[name] - before)
        lost_zh, lost_en = _grant_words(old or t.spec, before - want[name])
        o = old.roles.get(name) or old.roles.get(role.renamed_from or "") if old else None
        if o is not None:
            for key, zh_word in (("transitions", "流程动作"), ("checklists", "检查动作"), ("reveal", "查看明文"),
                                 ("system", "系统功能")):
                plus = sorted(set(getattr(role, key)) - set(getattr(o, key)))
                minus = sorted(set(getattr(o, key)) - set(getattr(role, key)))
                gained_zh += [f"{zh_word} {x}" for x in plus]
                gained_en += [f"{key} {x}" for x in plus]
                lost_zh += [f"{zh_word} {x}" for x in minus]
                lost_en += [f"{key} {x}" for x in minus]
            if role.scope != o.scope:
                from generator.checks.security import SCOPE_RANK

                wider = SCOPE_RANK[role.scope] > SCOPE_RANK[o.scope]
                (gained_zh if wider else lost_zh).append(f"数据范围 {o.scope} → {role.scope}")
                (gained_en if wider else lost_en).append(f"scope {o.scope} → {role.scope}")
        new_role = name not in have and (role.renamed_from or "") not in have and bool(have)
        label = f"{role.label.zh}（{name}）"
        if gained_zh and (have or old is not None):
            head = "新增角色，授予" if new_role else "新增"
            p.add("permissions", CONFIRM, f"{label} {head}：{'、'.join(gained_zh)}",
                  f"{role.label.en} ({name}) gains: {', '.join(gained_en)}", code="W730", src=role.src,
                  hint_zh="权限扩大须由负责权限的同事确认（最小必要原则）",
                  hint_en="wider permissions need the permission owner's approval")
        if lost_zh:
            p.add("permissions", SAFE, f"{label} 收回：{'、'.join(lost_zh)}",
                  f"{role.label.en} ({name}) loses: {', '.join(lost_en)}", src=role.src)
    del renamed


def _workflow_rules(p: Plan, t: Target, conn: Connection, live: set[str]) -> None:
    old = t.old_spec
    if old is None:
        return
    for wf in t.spec.workflows.values():
        o = old.workflows.get(wf.name)
        if o is None:
            p.add("workflow", SAFE, f"新增流程 {wf.label.zh}（{wf.name}）", f"new workflow {wf.name}", src=wf.src)
            continue
        added = sorted(set(wf.transitions) - set(o.transitions))
        gone = sorted(set(o.transitions) - set(wf.transitions))
        if added:
            p.add("workflow", SAFE, "新增动作：" + "、".join(f"{wf.transitions[n].label.zh}（{n}）" for n in added),
                  "new transitions: " + ", ".join(added), src=wf.transitions[added[0]].src)
        if gone:
            p.add("workflow", SAFE, "删除动作：" + "、".join(f"{o.transitions[n].label.zh}（{n}）" for n in gone)
                  + "（历史流转记录保留）", "transitions removed (histories kept): " + ", ".join(gone))
        new_states = sorted(set(wf.states) - set(o.states) - {s.name for s in wf.states.values() if s.renamed_from})
        if new_states:
            p.add("workflow", SAFE, "新增状态：" + "、".join(_state_label(t.spec, wf.name, s) for s in new_states),
                  "new states: " + ", ".join(new_states), src=wf.states[new_states[0]].src)
        changed = []
        for name, d in wf.deadlines.items():
            od = o.deadlines.get(name)
            sig = (d.days, d.day_type, d.start, d.stop, d.pause_in)
            if od is None or (od.days, od.day_type, od.start, od.stop, od.pause_in) != sig:
                changed.append(name)
        changed += sorted(set(o.deadlines) - set(wf.deadlines))
        if changed:
            p.deadlines_changed = True
            n = _count(conn, "jf_case_deadline", "is_open = 1") if "jf_case_deadline" in live else 0
            p.add("workflow", CONFIRM, f"期限规则变更：{'、'.join(changed)}；apply 后按新规则重算在办案件的期限（当前 {_n(n)} 个计时中的期限）",
                  f"deadline rules changed: {', '.join(changed)}; open deadlines are recomputed ({_n(n)} running)",
                  code="W737", rows=n, src=wf.deadlines[changed[0]].src if changed[0] in wf.deadlines else wf.src)


def _checklists(p: Plan, t: Target, conn: Connection, live: set[str]) -> None:
    stored: dict[tuple[str, int], tuple[str, dict[str, Any]]] = {}
    if "jf_checklist_version" in live:
        for name, version, digest, body in conn.execute(sa.text(
                "SELECT checklist, version, structure_hash, definition FROM jf_checklist_version")).all():
            stored[(name, int(version))] = (digest, json.loads(body))
    if "inspection" not in t.spec.entities:
        return  # no inspections, no tracker: versions are never stored (app/checklists)
    for cl in t.spec.checklists.values():
        shape = checklist_shape(cl)
        mine = stored.get((cl.name, cl.version))
        earlier = sorted(v for (n, v) in stored if n == cl.name)
        if mine is not None:
            if mine[0] != structure_hash(shape):
                zh, en = describe_changes(mine[1], shape)
                p.add("checklists", REFUSED, f"检查清单 {cl.label.zh}（{cl.name}）内容已改（{zh}），但版本仍为 {cl.version}",
                      f"checklist {cl.name} changed ({en}) under version {cl.version}", code="E716",
                      src=t.spec.value_at(cl, "version"),
                      hint_zh=f"把 version 改为 {max(earlier) + 1}（check 报 E330）", hint_en="raise the version (E330)")
            continue
        if earlier:
            last = stored[(cl.name, earlier[-1])][1]
            zh, en = describe_changes(last, shape)
            p.add("checklists", SAFE, f"检查清单 {cl.label.zh} 版本 {earlier[-1]} → {cl.version}（{zh}）；"
                                      f"历史检查保留版本 {earlier[-1]}，新检查按版本 {cl.version}",
                  f"checklist {cl.name} version {earlier[-1]} → {cl.version} ({en}); past inspections keep theirs",
                  src=t.spec.value_at(cl, "version"))
        else:
            p.add("checklists", SAFE, f"检查清单 {cl.label.zh}（{cl.name}）版本 {cl.version} 首次使用，存入数据库",
                  f"checklist {cl.name} version {cl.version} stored for the first time", src=cl.src)


def _reference(p: Plan, t: Target, conn: Connection, live: set[str]) -> None:
    from app.demo.loader import key_field  # the natural key load_reference upserts by

    by_entity: dict[str, list[Any]] = {}
    for rec in t.spec.reference:
        by_entity.setdefault(rec.entity, []).append(rec)
    for entity, recs in by_entity.items():
        ent = t.spec.entities[entity]
        table = names.table_name(entity)
        kf = key_field(ent)
        col = names.column_name(kf.name, kf.type)
        keys = {str(r.values.get(kf.name)) for r in recs}
        existing: set[str] = set()
        if table in live and col in _columns(conn, table):
            existing = {str(v) for v in conn.execute(sa.text(f"SELECT {_q(conn, col)} FROM {_q(conn, table)}")).scalars()}
        new = len(keys - existing)
        before = {str(r.values.get(kf.name)): dict(r.values) for r in (t.old_spec.reference if t.old_spec else ())
                  if r.entity == entity}
        changed = sum(1 for r in recs if str(r.values.get(kf.name)) in existing
                      and before.get(str(r.values.get(kf.name))) not in (None, dict(r.values)))
        if new or changed:
            p.add("reference", SAFE, f"{ent.label.zh}：新增 {new} 条，修改 {changed} 条（按 reference.yaml；不在文件中的记录保留）",
                  f"{ent.label.en}: {new} new, {changed} changed from reference.yaml (others kept)", rows=new + changed,
                  src=recs[0].src)


def _labels(p: Plan, t: Target) -> None:
    old = t.old_spec
    if old is None:
        return
    changed = []
    for name, ent in t.spec.entities.items():
        o = old.entities.get(name) or old.entities.get(ent.renamed_from or "")
        if o is None:
            continue
        if o.label != ent.label:
            changed.append(f"{o.label.zh} → {ent.label.zh}")
        for fname, f in ent.fields.items():
            of = o.fields.get(fname) or o.fields.get(f.renamed_from or "")
            if of is not None and of.label != f.label:
                changed.append(f"{ent.label.zh}.{of.label.zh} → {f.label.zh}")
    for name, role in t.spec.roles.items():
        o = old.roles.get(name)
        if o is not None and o.label != role.label:
            changed.append(f"{o.label.zh} → {role.label.zh}")
    if changed:
        shown = "、".join(changed[:8]) + (f" 等 {len(changed)} 处" if len(changed) > 8 else "")
        p.add("labels", SAFE, f"显示名称变更：{shown}", f"{len(changed)} labels changed", rows=len(changed))


# ------------------------------------------------------------------ demo logins


def demo_logins_for_new_roles(p: Plan, t: Target, conn: Connection, live: set[str]) -> None:
    """``flask setup`` gives a new role a demo login with the public password when the demo is loaded."""
    from app.demo.markers import DEMO_MARKER_ORG_CODE

    org = t.spec.org_tree.entity
    table = names.table_name(org)
    if "ab_role" not in live or table not in live:
        return
    code = next((f.name for f in t.spec.entities[org].fields.values() if f.unique and f.type == "string"), None)
    if code is None or code not in _columns(conn, table):
        return
    if not _count(conn, table, f"{_q(conn, code)} = :c", {"c": DEMO_MARKER_ORG_CODE}):
        return
    roles = set(conn.execute(sa.text("SELECT name FROM ab_role")).scalars())
    new = [r for r in t.spec.roles.values() if r.name not in roles and (r.renamed_from or "") not in roles]
    if new:
        p.add("accounts", CONFIRM, "数据库中有演示数据：flask setup 会为新角色 " + "、".join(r.name for r in new)
              + " 各创建演示账号（用户名同角色名，密码为公开的演示密码）",
              "the database holds the demo: flask setup would create demo logins with the public password for "
              + ", ".join(r.name for r in new), code="W735",
              hint_zh="正式使用的数据库不要运行 setup --demo；用 setup --no-demo，或设置 APP_ENV=production",
              hint_en="run setup --no-demo on a real database, or set APP_ENV=production")
