"""E404/E406: names that would break the generated models, tables or routes.

Entity and field names become Python attributes, SQL tables and columns, URL
segments and permission names, so words that any of those reserve are refused,
and so are names that collide once the generator derives its own (a ref field
``employer`` gets a column ``employer_id``).
"""

from __future__ import annotations

import keyword

from ..errors import ConfigError, error
from ..source import dotted
from ..spec import AppSpec
from . import check

# Columns every generated model has (see the models builder) or that the workflow adds.
SYSTEM_FIELDS = {"id", "version", "created_on", "created_by", "changed_on", "changed_by", "state",
                 "org_path"}
# SQLAlchemy declarative / FAB model attributes.
MODEL_ATTRS = {"metadata", "query", "registry", "query_class", "session"}
# Words reserved in SQLite or PostgreSQL that would need quoting everywhere.
SQL_WORDS = {"all", "and", "as", "asc", "between", "by", "case", "check", "column", "constraint", "create",
             "default", "delete", "desc", "distinct", "drop", "else", "end", "exists", "from", "group",
             "having", "in", "index", "insert", "into", "is", "join", "key", "like", "limit", "not", "null",
             "offset", "on", "or", "order", "primary", "references", "select", "set", "table", "then", "to",
             "union", "unique", "update", "user", "using", "values", "when", "where", "with", "type"}
# Entity names that clash with FAB's security tables, our own services or URL prefixes.
RESERVED_ENTITIES = {"user", "role", "permission", "group", "audit_log", "session", "state", "api",
                     "static", "login", "logout", "register", "lang", "swagger", "admin", "security",
                     "menu", "view_menu", "permission_view", "workflow", "transition", "deadline",
                     "case_history", "inspection_item", "config_version", "file", "user_org",
                     "checklist_version"}


def _reserved(name: str) -> bool:
    return keyword.iskeyword(name) or name in MODEL_ATTRS or name in SQL_WORDS


@check
def reserved_names(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for ent in spec.entities.values():
        if ent.name in RESERVED_ENTITIES or _reserved(ent.name) or ent.name.startswith("ab_"):
            out.append(error("E404", ent.src, dotted(ent.path), name=ent.name, what="实体名",
                             what_en="an entity name", suffix="record"))
        for f in ent.fields.values():
            # A ref/user field is stored as '<name>_id', so only Python and model words matter for it.
            sql_clash = f.name in SQL_WORDS and f.type not in ("ref", "user")
            python_clash = keyword.iskeyword(f.name) or f.name in MODEL_ATTRS
            if f.name in SYSTEM_FIELDS or sql_clash or python_clash or f.name.startswith("_"):
                out.append(error("E404", f.src, dotted(f.path), name=f.name, what="字段名（系统字段或保留字）",
                                 what_en="a field name (system column or reserved word)", suffix="value"))
    for role in spec.roles.values():
        if role.name in {"admin", "public"} and not role.admin:
            out.append(error("E404", role.src, dotted(role.path), name=role.name, what="角色名",
                             what_en="a role name", suffix="role"))
    return out


@check
def name_clashes(spec: AppSpec) -> list[ConfigError]:
    out: list[ConfigError] = []
    for ent in spec.entities.values():
        for f in ent.fields.values():
            if f.type in ("ref", "user") and f"{f.name}_id" in ent.fields:
                other = ent.fields[f"{f.name}_id"]
                out.append(error("E406", other.src, dotted(other.path), name=other.name, other=f.name,
                                 reason=f"关联字段 '{f.name}' 会生成同名的数据库列 '{f.name}_id'",
                                 reason_en=f"ref field '{f.name}' generates a column named '{f.name}_id'"))
    for wf in spec.workflows.values():
        for tr in wf.transitions.values():
            if tr.name in wf.states:
                out.append(error("E406", tr.src, dotted(tr.path), name=tr.name, other=f"states.{tr.name}",
                                 reason="动作名与状态名相同，在地址和日志中无法区分",
                                 reason_en="a transition named like a state is ambiguous in URLs and logs"))
    return out
