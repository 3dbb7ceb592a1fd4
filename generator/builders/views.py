"""Flask-AppBuilder screens and REST APIs from the spec.

For each entity a ``ModelView`` (list with the configured columns, search and
filters; show with related lists; add/edit/delete) and a ``ModelRestApi``
under ``/api/v1/<entity>/``.  Both share one permission vocabulary
(``can_read``, ``can_create``, ``can_update``, ``can_delete``, ``can_export``
on the entity's name), which ``roles.yaml`` grants map onto directly.

Labels come from the YAML in both languages and are chosen per request
(``L``); enum fields become selects whose choices are labelled in the user's
language; values are formatted for display by ``app.formatting``.  Classes are
rebuilt for every app (cheap), models only once per declarative base.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import LazyString, get_locale
from wtforms import SelectField

from .. import names
from .datamodel import JiefenInterface, relation_paths
from ..spec import AppSpec, Entity, Field, Label

VIEW_METHODS = {"list": "read", "show": "read", "add": "create", "edit": "update", "delete": "delete",
                "download": "export", "export": "export", "reveal": "read", "muldelete": "delete",
                "action": "update", "action_post": "update", "api_read": "read",
                "api_column_add": "create", "api_column_edit": "update", "api_get": "read", "api": "read",
                "api_create": "create", "api_update": "update", "api_delete": "delete"}
API_METHODS = {"get": "read", "get_list": "read", "info": "read", "reveal": "read", "post": "create", "put": "update",
               "delete": "delete"}
SYSTEM_LABELS = {
    "id": Label("编号", "ID"), "state": Label("状态", "State"), "version": Label("版本", "Version"),
    "created_on": Label("创建时间", "Created on"), "created_by": Label("创建人", "Created by"),
    "changed_on": Label("修改时间", "Changed on"), "changed_by": Label("修改人", "Changed by"),
}
MAX_RELATED = 8


def lang() -> str:
    """The request's language: ``en`` or ``zh`` (the default outside a request)."""
    try:
        loc = get_locale()
    except Exception:  # noqa: BLE001 - no request/app context: building classes, CLI
        return "zh"
    return "en" if loc is not None and loc.language == "en" else "zh"


def L(label: Label) -> LazyString:
    """A label that renders in the language of the request that displays it."""
    return LazyString(lambda: label.get(lang()))


def display_columns(ent: Entity) -> list[str]:
    """Columns of the list page: the configured ones, else the first five fields."""
    return list(ent.list) or list(ent.fields)[:5]


def api_list_columns(spec: AppSpec, ent: Entity) -> list[str]:
    """Columns of a REST list record (after ``id``): ``api_list``, else the list page's columns."""
    columns = list(ent.api_list) or display_columns(ent)
    if any(w.entity == ent.name for w in spec.workflows.values()) and "state" not in columns:
        columns = columns + ["state"]
    return columns


def form_columns(ent: Entity) -> list[str]:
    return [f.name for f in ent.fields.values() if not f.readonly]


def related_entities(spec: AppSpec, ent: Entity) -> list[Entity]:
    """Entities that point at ``ent`` (its child lists on the show page), children by scope first."""
    found = [e for e in spec.entities.values() if e.name != ent.name
             and any(f.type == "ref" and f.ref == ent.name for f in e.fields.values())]
    found.sort(key=lambda e: 0 if e.scope is not None and e.scope.parent
               and e.fields.get(e.scope.parent) is not None and e.fields[e.scope.parent].ref == ent.name else 1)
    return found[:MAX_RELATED]


def base_order(ent: Entity) -> tuple[str, str]:
    """The default sort; a ref sorts by its FK column (FAB cannot sort by a relationship)."""
    if not ent.order_by:
        return ("id", "desc")
    name = ent.order_by.lstrip("-")
    column = names.column_name(name, ent.fields[name].type)
    return (column, "desc" if ent.order_by.startswith("-") else "asc")


def empty_to_none(value: Any) -> Any:
    """The select's blank option posts '': an optional enum left blank is None, not ''."""
    return value if value not in ("", None) else None


def _enum_choices(spec: AppSpec, f: Field, required: bool) -> Callable[[], list[tuple[str, str]]]:
    values = spec.enums[f.enum].values if f.enum else {}

    def choices() -> list[tuple[str, str]]:
        opts = [(k, v.get(lang())) for k, v in values.items()]
        return opts if required else [("", "—")] + opts
    return choices


def state_labels(spec: AppSpec, ent: Entity) -> dict[str, Label]:
    """Labels of the workflow states of ``ent`` (empty when no workflow runs on it)."""
    return {n: st.label for w in spec.workflows.values() if w.entity == ent.name for n, st in w.states.items()}


def _formatters(spec: AppSpec, ent: Entity,
                cell: Callable[[str, str], Callable[[Any], str]]) -> dict[str, Callable[[Any], str]]:
    """Every column a screen can show, rendered by the app's presenter (``cell(entity, column)``)."""
    columns = list(ent.fields) + list(SYSTEM_LABELS)
    return {c: cell(ent.name, c) for c in columns if c != "id"}


class Hooks:
    """What the app plugs into every generated class (access control, validation, presentation)."""

    def __init__(self, view_base: type = ModelView, api_base: type = ModelRestApi,
                 cell: Optional[Callable[[str, str], Callable[[Any], str]]] = None,
                 form_validators: Optional[Callable[[Field], list]] = None,
                 api_validators: Optional[Callable[[Field], Callable[[Any], Any]]] = None) -> None:
        self.view_base = view_base
        self.api_base = api_base
        self.cell = cell  # (entity, column) -> how a screen shows that column's value
        self.form_validators = form_validators
        self.api_validators = api_validators


def build_views(spec: AppSpec, models: dict[str, type], hooks: Hooks) -> dict[str, tuple[type, type]]:
    """``{entity: (ViewClass, ApiClass)}``; children first so show pages can list them."""
    views: dict[str, type] = {}
    out: dict[str, tuple[type, type]] = {}
    order = sorted(spec.entities.values(), key=lambda e: len(related_entities(spec, e)))
    for ent in order:
        views[ent.name] = _view(spec, ent, models, hooks, views)
    for ent in spec.entities.values():
        out[ent.name] = (views[ent.name], _api(spec, ent, models, hooks))
    return out


def _common(spec: AppSpec, ent: Entity, models: dict[str, type]) -> dict[str, Any]:
    labels = {f.name: L(f.label) for f in ent.fields.values()}
    labels.update({k: L(v) for k, v in SYSTEM_LABELS.items()})
    columns = display_columns(ent)
    if any(w.entity == ent.name for w in spec.workflows.values()) and "state" not in columns:
        columns = columns + ["state"]
    model = models[ent.name]
    display = {cls: spec.entities[name].display for name, cls in models.items() if name in spec.entities}
    return {
        # LIKE filters; a list page loads its listed refs once each, nothing more (datamodel.py)
        "datamodel": JiefenInterface(model, eager=relation_paths(model, columns, display.get)),
        "class_permission_name": ent.name,
        # The screens and the API share one permission set; FAB prunes anything either one lacks.
        "base_permissions": ["can_read", "can_create", "can_update", "can_delete", "can_export"],
        "label_columns": labels,
        "list_columns": columns,
        "show_columns": list(ent.fields) + (["state"] if "state" in columns else []) + [
            "created_on", "created_by", "changed_on", "changed_by"],
        "search_columns": list(dict.fromkeys(list(ent.search) + list(ent.filters))),
        "order_columns": [c for c in columns if c in ent.fields
                          and ent.fields[c].type not in ("text", "file", "ref", "user")],
        "base_order": base_order(ent),
        "page_size": 25,
        "__module__": "app.generated.views",
    }


def _view(spec: AppSpec, ent: Entity, models: dict[str, type], hooks: Hooks, built: dict[str, type]) -> type:
    attrs = _common(spec, ent, models)
    fields = form_columns(ent)
    extra_fields = {f.name: SelectField(L(f.label), choices=_enum_choices(spec, f, f.required),
                                        coerce=empty_to_none, widget=Select2Widget(),
                                        validators=hooks.form_validators(f) if hooks.form_validators else [])
                    for f in ent.fields.values() if f.type == "enum" and not f.readonly}
    # Enum filters choose among the options (labels in the viewer's language), not type a code.
    search_fields = {f.name: SelectField(L(f.label), choices=_enum_choices(spec, f, True), widget=Select2Widget())
                     for f in ent.fields.values() if f.type == "enum" and f.name in attrs["search_columns"]}
    attrs.update({
        "search_form_extra_fields": search_fields,
        "method_permission_name": VIEW_METHODS,
        "add_columns": fields, "edit_columns": fields,
        "add_form_extra_fields": extra_fields, "edit_form_extra_fields": dict(extra_fields),
        "list_title": L(ent.label), "show_title": L(ent.label), "add_title": L(ent.label),
        "edit_title": L(ent.label),
        "related_views": [built[r.name] for r in related_entities(spec, ent) if r.name in built],
        "__doc__": f"Screens for entity '{ent.name}' ({ent.label.zh}), generated from {ent.src}",
        "jf_entity": ent,
    })
    if hooks.form_validators:
        attrs["validators_columns"] = {f.name: hooks.form_validators(f) for f in ent.fields.values()
                                       if f.type not in ("enum", "ref", "user") and hooks.form_validators(f)}
    if hooks.cell:
        attrs["formatters_columns"] = _formatters(spec, ent, hooks.cell)
    cls_name = names.view_class(ent.name)
    return type(cls_name, (hooks.view_base,), attrs)


def _api(spec: AppSpec, ent: Entity, models: dict[str, type], hooks: Hooks) -> type:
    attrs = _common(spec, ent, models)
    fields = form_columns(ent)
    attrs.pop("show_columns")
    attrs.pop("base_order")
    attrs.update({
        "resource_name": names.resource_name(ent.name),
        "method_permission_name": API_METHODS,
        "allow_browser_login": True,
        "add_columns": fields, "edit_columns": fields,
        "show_columns": ["id"] + list(ent.fields) + (["state"] if "state" in attrs["list_columns"] else [])
        + ["version", "created_on", "changed_on"],
        # what a REST list answer carries: the declared api_list, else what the list page shows
        "list_columns": ["id"] + api_list_columns(spec, ent),
        "list_title": L(ent.label), "show_title": L(ent.label), "add_title": L(ent.label),
        "edit_title": L(ent.label),
        "__doc__": f"REST API /api/v1/{ent.name}/, generated from {ent.src}",
        "jf_entity": ent,
    })
    attrs["base_order"] = base_order(ent)
    if hooks.api_validators:
        attrs["validators_columns"] = {f.name: hooks.api_validators(f) for f in ent.fields.values()}
    return type(names.api_class(ent.name), (hooks.api_base,), attrs)
