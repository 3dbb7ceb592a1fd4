"""Wires the boundary into an app: the access rules, the presenter and the hooks through which the
generated classes (built by the pure generator) and the audit trail reach them."""

from __future__ import annotations

from typing import Any, Optional

from flask import Flask

from generator.builders.datamodel import set_access_hook
from generator.builders.models import set_label_hook

from app.access.present import Presenter, Viewer, clear_fields
from app.access.present import current as current_presenter
from app.access.rules import Access, dispatch, org_of_actor
from app.access.validation import current_lang
from app.audit import log as audit_log


def install(app: Flask, reg: Any, user_model: type) -> Access:
    spec = reg.spec
    access = Access(spec, reg.models, reg.user_org, user_model)
    by_roles: dict[frozenset[str], frozenset[tuple[str, str]]] = {}

    def viewer() -> Optional[Viewer]:
        principal = access.principal()
        roles = principal.roles if principal is not None else ()
        key = frozenset(r.name for r in roles)
        clear = by_roles.get(key)
        if clear is None:
            clear = by_roles[key] = clear_fields(spec, roles)
        return Viewer(current_lang(), clear)

    presenter = Presenter(spec, reg.models, user_model, viewer_source=viewer,
                          time_zone=app.config.get("TIME_ZONE", "Asia/Shanghai"))
    app.extensions["jiefen_access"] = access
    app.extensions["jiefen_presenter"] = presenter
    set_access_hook(dispatch)
    set_label_hook(_label)
    audit_log.set_org_of_actor(org_of_actor)
    return access


def _label(obj: Any) -> Optional[str]:
    presenter = current_presenter()
    return presenter.label(obj) if presenter is not None else None
