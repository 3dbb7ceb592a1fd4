"""The per-spec runtime pieces: mapped classes, their metadata and the app's hooks.

Mapped classes are built once per spec on a declarative base of their own, so
two apps built from two configs (the upgrade test, v1 then v2) never collide
in one class registry (fab5-notes gotcha 4).  Views and APIs, which are cheap,
are rebuilt for every app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session

from generator.builders.models import build_models
from generator.builders.views import Hooks
from generator.spec import AppSpec

_CACHE: dict[int, "Registry"] = {}


@dataclass
class Registry:
    spec: AppSpec
    base: type
    models: dict[str, type]
    user_org: type
    audit_log: type
    security: Any = None  # app.hardening.models.SecurityTables
    workflow: Any = None  # app.workflow.tables.WorkflowTables (None when no workflow drives dispute_case)
    checklist_versions: Any = None  # app.checklists.definitions: jf_checklist_version
    file_table: Any = None  # app.files.tables: jf_file (stored files)
    config_versions: Any = None  # app.lifecycle.history: jf_config_version (applied configs)

    @property
    def metadata(self) -> MetaData:
        return self.base.metadata  # type: ignore[attr-defined, no-any-return]

    def sync_schema(self, engine: Engine, force: bool = False) -> Any:
        """Create or additively upgrade the jf_* tables; refuses destructive changes.

        Skipped when the model's fingerprint matches the last successful sync (see schema_state),
        unless ``force``.
        """
        from . import schema_state

        current = schema_state.fingerprint(self.metadata, engine)
        if not force and schema_state.stored(engine) == current:
            return None
        from .lifecycle.codes import Refused
        from .schema_sync import SchemaRefused, sync  # imports Alembic (~0.07 s): only when a comparison runs

        try:
            plan = sync(engine, self.metadata)
        except SchemaRefused as exc:
            raise Refused("E721", f"数据库结构与配置不一致，有 {len(exc.plan.refused)} 处不能自动同步，未做任何修改："
                                  "先运行 python -m generator plan 查看，再用 python -m generator apply 处理",
                          "the database differs from the config in ways start-up does not change: run "
                          "python -m generator plan, then apply",
                          tuple(f"  [{r.kind}] {r.zh}" for r in exc.plan.refused)) from None
        from app.audit.log import ensure_append_only

        ensure_append_only(engine)  # PostgreSQL: triggers refuse UPDATE/DELETE of jf_audit_log
        schema_state.remember(engine, current)
        return plan

    def require_schema(self, engine: Engine) -> None:
        """Production start-up: the schema must already match the config; never change it (E720).

        A matching fingerprint is enough; otherwise the sync is planned read-only and any change at
        all (or a database without tables) refuses the start with one coded line."""
        from . import schema_state
        from .lifecycle.codes import Refused

        current = schema_state.fingerprint(self.metadata, engine)
        if schema_state.stored(engine) == current:
            return
        import sqlalchemy as sa

        from .schema_sync import plan

        with engine.connect() as conn:
            live = set(sa.inspect(conn).get_table_names())
            fresh = not any(n.startswith("jf_") for n in live)
            pending = None if fresh else plan(conn, self.metadata)
        if fresh:
            raise Refused("E720", "数据库尚未建立，生产环境启动时不自动建表：先运行 python -m generator apply（或 flask --app app setup）",
                          "no tables yet and production never creates them at start-up: run python -m generator apply")
        if pending is not None and not pending.empty:
            n = len(pending.additive) + len(pending.refused)
            raise Refused("E720", f"数据库结构与配置不一致（{n} 处），生产环境启动时不自动修改数据库："
                                  "先运行 python -m generator plan 查看，再运行 python -m generator apply",
                          f"the database differs from the config ({n} changes) and production never changes it at "
                          "start-up: run python -m generator plan, then apply")
        schema_state.remember(engine, current)

    def hooks(self, presenter: Any = None) -> Hooks:
        from app.access.validation import marshmallow_validator, wtforms_validators
        from app.files.api import FilesModelApi, token_validator
        from app.files.forms import FilesModelView

        enums = self.spec.enums
        # Screens and APIs get file uploads (app/files); a file field's JSON value is a staged token.
        return Hooks(view_base=FilesModelView, api_base=FilesModelApi,
                     cell=presenter.cell if presenter is not None else None,
                     form_validators=lambda f: wtforms_validators(f, enums=enums),
                     api_validators=lambda f: token_validator(f) if f.type == "file"
                     else marshmallow_validator(f, enums=enums))

    def has_demo_accounts(self, session: Session) -> bool:
        from app.demo.markers import DEMO_MARKER_ORG_CODE

        org = self.models[self.spec.org_tree.entity]
        code_field = next((f.name for f in self.spec.entities[self.spec.org_tree.entity].fields.values()
                           if f.unique and f.type == "string"), None)
        if code_field is None:
            return False
        try:
            return session.execute(select(org.id).where(getattr(org, code_field) == DEMO_MARKER_ORG_CODE)
                                   ).first() is not None
        except Exception:  # noqa: BLE001 - no table yet means no demo data
            session.rollback()
            return False


def registry_for(spec: AppSpec) -> Registry:
    # Keyed by the spec object, which the registry keeps alive, so the id is never reused.
    key = id(spec)
    reg = _CACHE.get(key)
    if reg is None:
        class Base(DeclarativeBase):
            pass

        models = build_models(spec, Base)
        from .accounts import build_user_org

        from app.audit.log import build_audit_log

        user_org = build_user_org(Base, models[spec.org_tree.entity])
        from .hardening.models import build_security_tables

        from .checklists.definitions import build_version_table
        from .workflow.tables import build_workflow_tables

        wf_entity = next((w.entity for w in spec.workflows.values()), None)
        wf_tables = build_workflow_tables(Base, models[wf_entity]) if wf_entity in models else None
        from .files.tables import build_file_table

        from .lifecycle.history import build_config_version_table

        reg = Registry(spec, Base, models, user_org, build_audit_log(Base), build_security_tables(Base),
                       wf_tables, build_version_table(Base), build_file_table(Base), build_config_version_table(Base))
        _CACHE[key] = reg
    return reg
