"""A record's change history as a person reads it (the 变更记录 panel of every detail page).

The audit trail stores changes as data (``{"org": [null, 54], "is_active": [false, true]}``, times
in UTC); here each row goes through the presenter: field labels, enum labels, 是/否, related rows
by their label (``#54`` when the viewer may not read that row: the history must not name what the
record page would not show), times in the county's time zone.
"""

from __future__ import annotations

from typing import Any, Optional

from flask import Flask, current_app
from sqlalchemy import select

from app.access import present as present_mod
from app.access import rules as access_mod
from app.audit.views import history


def record_history(entity: str, record_id: Any) -> list[dict[str, Any]]:
    presenter = present_mod.current()
    rows = history(entity, record_id)
    if presenter is None:
        return rows
    spec = presenter.spec
    ent = spec.entities.get(entity)
    # A change recorded under a field's name before a rename (renamed_from) reads as the field now.
    renamed = {f.renamed_from: f.name for f in ent.fields.values() if f.renamed_from} if ent is not None else {}
    for row in rows:
        row["changes"] = {renamed.get(k, k): v for k, v in row["changes"].items()}
    wanted: dict[str, set[int]] = {}
    for row in rows:
        for name, pair in row["changes"].items():
            f = ent.fields.get(name) if ent is not None else None
            if f is not None and f.type in ("ref", "user"):
                target = "user" if f.type == "user" else (f.ref or "")
                for value in pair if isinstance(pair, list) else [pair]:
                    if isinstance(value, int):
                        wanted.setdefault(target, set()).add(value)
    labels = _readable_labels(presenter, wanted)

    def ref_label(target: str, value: Any) -> Optional[str]:
        return labels.get((target, value))

    out = []
    for row in rows:
        changes = []
        for name, pair in row["changes"].items():
            old, new = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
            changes.append({"field": presenter.field_label(entity, name),
                            "old": presenter.change(entity, name, old, ref_label),
                            "new": presenter.change(entity, name, new, ref_label)})
        out.append({**row, "at_text": presenter.time_text(row["at"], utc=True), "changes": changes})
    return out


def _readable_labels(presenter: Any, wanted: dict[str, set[int]]) -> dict[tuple[str, int], str]:
    """Labels of the referenced rows this viewer may read (one scoped query per target entity)."""
    access = access_mod.current()
    session = current_app.appbuilder.sm.session
    out: dict[tuple[str, int], str] = {}
    for target, ids in wanted.items():
        model = presenter.user_model if target == "user" else presenter.models.get(target)
        if model is None:
            continue
        query = select(model).where(model.id.in_(sorted(ids)))
        clause = access.clause(model, "read") if access is not None else None
        if clause is not None:
            query = query.where(clause)
        for obj in session.execute(query).scalars():
            out[(target, obj.id)] = presenter.label(obj)
    return out


def install(app: Flask) -> None:
    app.jinja_env.globals["jf_audit_history"] = record_history
