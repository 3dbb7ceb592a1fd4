"""系统管理 → 配置历史: the applied config versions, the current YAML and rollback plans.

``grants.system: [config_history]`` in roles.yaml opens it (the FAB permission ``can_read`` on
``ConfigHistory``, generator/builders/permissions.py).  Everything here is read-only:

* ``/config-history/``               every applied version: when (county time), who, hash, note,
                                     rollback of, destructive, counts of its plan items
* ``/config-history/<id>``           one version: its plan items, its diff and its YAML files as text
* ``/config-history/current``        the YAML the app runs on, as text, with the check's warnings
* ``/config-history/<id>/rollback``  the plan of going back to that version (the same rehearsal as
                                     ``python -m generator plan --rollback-to <id>``, rolled back)
                                     and the command that applies it

The app never parses YAML here: stored versions are text; a rollback plan hands the stored files
to the generator, exactly as the command line does.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any, Optional

from flask import abort, current_app
from flask_appbuilder import BaseView, expose, has_access

from generator.builders.permissions import CONFIG_HISTORY_VIEW
from generator.builders.views import L, lang
from generator.spec import Label

from . import history
from .plan import AREAS, STATUS

TITLE = Label("配置历史", "Config history")


def _presenter() -> Any:
    return current_app.extensions["jiefen_presenter"]


def _engine() -> Any:
    return current_app.appbuilder.sm.session.get_bind()


def _table() -> Any:
    return current_app.extensions["jiefen"].config_versions.__table__


def _counts(items: list[dict[str, Any]]) -> dict[str, int]:
    return {s: sum(1 for i in items if i.get("status") == s) for s in STATUS}


def _items(items: list[dict[str, Any]], lg: str) -> list[dict[str, Any]]:
    """Plan items as the template shows them (grouped by area, in the user's language)."""
    out = []
    for area, (azh, aen) in AREAS.items():
        rows = [i for i in items if i.get("area") == area]
        if rows:
            out.append({"title": azh if lg == "zh" else aen, "rows": [{
                "status": i["status"], "tag": STATUS[i["status"]][0 if lg == "zh" else 1], "code": i.get("code") or "",
                "message": i["message"] if lg == "zh" else (i.get("message_en") or i["message"]),
                "hint": i.get("hint") if lg == "zh" else i.get("hint_en"),
                "where": f"{i['file']}:{i['line']}:{i['col']}" if i.get("file") else ""} for i in rows]})
    return out


class ConfigHistoryView(BaseView):
    route_base = "/config-history"
    class_permission_name = CONFIG_HISTORY_VIEW
    method_permission_name = {"index": "read", "version": "read", "current": "read", "rollback": "read"}
    base_permissions = ["can_read"]
    default_view = "index"

    @expose("/")
    @has_access
    def index(self) -> Any:
        lg = lang()
        p = _presenter()
        with _engine().connect() as conn:
            rows = history.listing(conn, _table())
        versions = [{"id": r.id, "at": p.time_text(r.applied_at, utc=True), "by": r.applied_by,
                     "hash": r.config_hash[:12], "note": r.note, "rollback_of": r.rollback_of,
                     "destructive": r.destructive, "counts": _counts(r.plan)} for r in rows]
        return self.render_template("jiefen/lifecycle/history.html", versions=versions, lang=lg,
                                    title=TITLE.get(lg), latest=versions[0]["id"] if versions else None)

    @expose("/<int:version_id>")
    @has_access
    def version(self, version_id: int) -> Any:
        lg = lang()
        with _engine().connect() as conn:
            row = history.get(conn, _table(), version_id)
        if row is None:
            abort(404)
        return self.render_template(
            "jiefen/lifecycle/version.html", v=row, lang=lg, title=TITLE.get(lg),
            at=_presenter().time_text(row.applied_at, utc=True), groups=_items(row.plan, lg),
            counts=_counts(row.plan), files=[(n, row.files[n]) for n in history.FILES if n in row.files],
            warnings=[w for w in row.warnings.splitlines() if w])

    @expose("/current")
    @has_access
    def current(self) -> Any:
        from generator.speccache import load_cached

        lg = lang()
        config_dir = current_app.config["CONFIG_DIR"]
        files = history.read_files(config_dir)
        result = load_cached(config_dir)
        warnings = [e.render(lg) for e in result.errors if e.is_warning]
        with _engine().connect() as conn:
            last = history.latest(conn, _table())
        applied = last is not None and last.config_hash == history.config_hash(files)
        return self.render_template(
            "jiefen/lifecycle/current.html", lang=lg, title=TITLE.get(lg), files=list(files.items()),
            warnings=warnings, last=last, applied=applied, config_dir=config_dir)

    @expose("/<int:version_id>/rollback")
    @has_access
    def rollback(self, version_id: int) -> Any:
        lg = lang()
        with _engine().connect() as conn:
            row = history.get(conn, _table(), version_id)
        if row is None:
            abort(404)
        items, problem = _rollback_plan(row)
        return self.render_template(
            "jiefen/lifecycle/rollback.html", v=row, lang=lg, title=TITLE.get(lg), groups=_items(items, lg),
            counts=_counts(items), problem=problem,
            command=f"python -m generator plan --rollback-to {row.id}  →  "
                    f"python -m generator apply --rollback-to {row.id}")


def _rollback_plan(row: history.Applied) -> tuple[list[dict[str, Any]], Optional[str]]:
    """The rehearsal of going back to ``row`` on this app's database, rolled back."""
    from app import schema_sync
    from app.registry import registry_for
    from generator.pipeline import load

    from .codes import Refused
    from .cli import rehearse
    from .plan import Target

    with tempfile.TemporaryDirectory(prefix="jiefen-rollback-") as tmp:
        history.write_dir(row.files, Path(tmp))
        result = load(tmp)
        if result.spec is None:
            return [], "; ".join(e.render().splitlines()[0] for e in result.errors if not e.is_warning)[:500]
        t = Target(result.spec, registry_for(result.spec), tmp, dict(row.files))
        engine = _engine()
        with engine.connect() as conn:
            trans = conn.begin()
            try:
                with schema_sync.transaction(conn, lock=True):
                    plan = rehearse(conn, t)
            except Refused as exc:
                return [], exc.format_message()
            finally:
                trans.rollback()
    return json.loads(json.dumps(plan.as_json(), ensure_ascii=False)), None


def register(appbuilder: Any) -> None:
    appbuilder.add_view(ConfigHistoryView, CONFIG_HISTORY_VIEW, label=L(TITLE), category="Security",
                        icon="fa-code-fork")
