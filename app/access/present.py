"""The outbound presenter: every value that leaves the app is rendered here, from the spec.

One place decides how a stored value looks to a given viewer, for every surface:

* **REST** (list, show, POST/PUT answers): :meth:`Presenter.api_record` — the declared columns
  only; a related row is ``{"id", "label"}`` and nothing more (never a nested row, never a
  user's password hash); personal data masked; enum keys, ISO dates, decimals as text.
* **HTML** list cells, show pages and Excel exports: :meth:`Presenter.cell` — enum labels,
  是/否, ``YYYY-MM-DD``, ``1,234.50``, workflow state labels, a related row's label.
* **Labels** (``str(obj)`` of every generated model, so FAB's pickers, ``_info`` values, filter
  dropdowns and list cells): :meth:`Presenter.label` — the entity's declared ``display`` field,
  masked when it is personal data this viewer may not read in clear.
* **History** (the audit trail, the workflow timeline): :meth:`Presenter.change` — field labels,
  enum labels, related rows by label (``#id`` when the viewer may not read the row), times in
  the county's time zone.

Who may read what in clear (the :class:`Viewer`):

* a ``pii:`` field is masked for everyone on every bulk surface (lists, exports, REST) and shown
  in clear only by an audited reveal of one record (``app/access/reveal.py``);
* the one exception is a record's *name* (the entity's ``display`` field when it is personal
  data): a viewer whose role may reveal that field (roles.yaml ``reveal``) sees it in clear
  wherever the record is named — its list, a reference to it, a picker — because choosing
  "the mediator" or "the claimant" is their daily work; everyone else sees ``程**``.

The presenter never decides *which rows* a viewer sees: the access rules (``rules.py``) do, and
every query the presenter's callers run has already gone through them.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional

from flask import g, has_request_context, request

from generator.spec import AppSpec, Entity, Field, Label

from app.access.formatting import EMPTY, format_date, format_value, pii_mask

SYSTEM_LABELS = {
    "id": Label("编号", "ID"), "state": Label("状态", "State"), "version": Label("版本", "Version"),
    "created_on": Label("创建时间", "Created on"), "created_by": Label("创建人", "Created by"),
    "changed_on": Label("修改时间", "Changed on"), "changed_by": Label("修改人", "Changed by"),
}
_MEMO = "_jf_viewer"
_MAX_LABEL_DEPTH = 4


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as the presenter needs it (one per request)."""

    lang: str
    # (entity, field): personal-data fields this viewer may filter, sort and name records by
    clear: frozenset[tuple[str, str]]
    # the entity of the record being revealed in this response (its pii fields go out in clear)
    revealing: Optional[str] = None
    # outside a request (CLI, demo loading): nothing is masked
    system: bool = False

    def sees(self, entity: str, field: str) -> bool:
        return self.system or (entity, field) in self.clear


SYSTEM_VIEWER = Viewer("zh", frozenset(), None, True)


def clear_fields(spec: AppSpec, roles: Iterable[Any]) -> frozenset[tuple[str, str]]:
    """The (entity, field) pairs of personal data that ``roles`` may reveal (roles.yaml ``reveal``)."""
    from app.access.masking import revealable

    roles = tuple(roles)
    return frozenset((ent.name, f.name) for ent in spec.entities.values() for f in revealable(roles, ent))


class Presenter:
    """Renders stored values for one compiled spec and its models."""

    def __init__(self, spec: AppSpec, models: Mapping[str, type], user_model: type,
                 viewer_source: Optional[Callable[[], Optional[Viewer]]] = None,
                 time_zone: str = "Asia/Shanghai") -> None:
        self.spec = spec
        self.models = dict(models)
        self.entity_of = {cls: name for name, cls in models.items()}
        self.user_model = user_model
        self.viewer_source = viewer_source
        self.states = {w.entity: {n: s.label for n, s in w.states.items()} for w in spec.workflows.values()}
        from zoneinfo import ZoneInfo

        self.zone = ZoneInfo(time_zone)
        self._api_writers: dict[tuple[str, tuple[str, ...]], list[tuple[str, Callable[[Any, Viewer], Any]]]] = {}
        self._cells: dict[tuple[str, str], Callable[[Any], str]] = {}

    # ------------------------------------------------------------------ the viewer
    def viewer(self) -> Viewer:
        """This request's viewer (memoised on ``g``); the system viewer outside a request."""
        if not has_request_context():
            return SYSTEM_VIEWER
        req = request._get_current_object()
        memo = g.get(_MEMO)
        if memo is not None and memo[0] is req:
            return memo[1]  # type: ignore[no-any-return]
        viewer = (self.viewer_source() if self.viewer_source else None) or Viewer(_lang(), frozenset())
        g._jf_viewer = (req, viewer)
        return viewer

    def start_reveal(self, entity: str) -> None:
        """The rest of this response shows ``entity``'s personal data in clear (an audited reveal)."""
        v = self.viewer()
        g._jf_viewer = (request._get_current_object(), Viewer(v.lang, v.clear, entity, v.system))

    # ------------------------------------------------------------------ labels and references
    def label(self, obj: Any, viewer: Optional[Viewer] = None, _depth: int = 0) -> str:
        """How ``obj`` (a row of any entity, or a login account) is named to ``viewer``."""
        if obj is None:
            return EMPTY
        viewer = viewer or self.viewer()
        entity = self.entity_of.get(type(obj))
        if entity is None:
            if isinstance(obj, self.user_model):
                return user_label(obj)
            return str(obj)
        ent = self.spec.entities[entity]
        f = ent.fields.get(ent.display) if ent.display else None
        value = getattr(obj, f.name, None) if f is not None else None
        if f is not None and f.type in ("ref", "user") and value is not None:
            if _depth >= _MAX_LABEL_DEPTH:
                return f"{ent.label.get(viewer.lang)} #{obj.id}"
            return self.label(value, viewer, _depth + 1)
        if f is None or value is None or (isinstance(value, str) and not value.strip()):
            return f"{ent.label.get(viewer.lang)} #{obj.id}"
        if f.pii and not (viewer.sees(entity, f.name) or viewer.revealing == entity):
            return pii_mask(f.pii, value)
        return format_value(f, value, viewer.lang, self.spec.enums)

    def ref(self, obj: Any, viewer: Viewer) -> Optional[dict[str, Any]]:
        """A related row as it leaves through the API: ``{"id", "label"}``, nothing more."""
        if obj is None:
            return None
        return {"id": obj.id, "label": self.label(obj, viewer)}

    # ------------------------------------------------------------------ REST
    def api_record(self, entity: str, item: Any, columns: Iterable[str],
                   viewer: Optional[Viewer] = None) -> dict[str, Any]:
        """One record as the REST API sends it: ``columns`` only, each through its writer."""
        viewer = viewer or self.viewer()
        cols = tuple(columns)
        writers = self._api_writers.get((entity, cols))
        if writers is None:
            writers = [(c, self._api_writer(self.spec.entities[entity], c)) for c in cols]
            self._api_writers[(entity, cols)] = writers
        return {name: write(item, viewer) for name, write in writers}

    def _api_writer(self, ent: Entity, column: str) -> Callable[[Any, Viewer], Any]:
        f = ent.fields.get(column)
        if f is None:
            if column in ("created_by", "changed_by"):
                return lambda item, viewer: self.ref(getattr(item, column, None), viewer)
            if column in ("created_on", "changed_on"):
                return lambda item, viewer: _iso(getattr(item, column, None))
            return lambda item, viewer: getattr(item, column, None)  # id, state, version
        name, entity = f.name, ent.name
        if f.type in ("ref", "user"):
            return lambda item, viewer: self.ref(getattr(item, name, None), viewer)
        if f.pii:
            kind = f.pii

            def personal(item: Any, viewer: Viewer) -> Any:
                value = getattr(item, name, None)
                if value is None or viewer.revealing == entity or viewer.sees(entity, name) and name == ent.display:
                    return _json_value(value)
                return pii_mask(kind, value) if not (isinstance(value, str) and not value.strip()) else value
            return personal
        return lambda item, viewer: _json_value(getattr(item, name, None))

    # ------------------------------------------------------------------ HTML and exports
    def cell(self, entity: str, column: str) -> Callable[[Any], str]:
        """The formatter of one column of ``entity`` for list cells, show pages and exports."""
        key = (entity, column)
        found = self._cells.get(key)
        if found is None:
            found = self._cells[key] = self._cell(self.spec.entities[entity], column)
        return found

    def _cell(self, ent: Entity, column: str) -> Callable[[Any], str]:
        f = ent.fields.get(column)
        entity = ent.name
        if f is None:
            if column == "state":
                states = self.states.get(entity, {})
                return lambda value: (states[value].get(self.viewer().lang) if value in states
                                      else (EMPTY if value is None else str(value)))
            if column in ("created_on", "changed_on"):
                return lambda value: self.time_text(value)
            if column in ("created_by", "changed_by"):
                return lambda value: self.label(value) if value is not None else EMPTY
            return lambda value: EMPTY if value is None else str(value)
        if f.type in ("ref", "user"):
            return lambda value: self.label(value) if value is not None else EMPTY
        if f.pii:
            def personal(value: Any) -> str:
                if value is None or (isinstance(value, str) and not value.strip()):
                    return EMPTY
                viewer = self.viewer()
                if viewer.revealing == entity or (f.name == ent.display and viewer.sees(entity, f.name)):
                    return format_value(f, value, viewer.lang, self.spec.enums)
                return pii_mask(f.pii, value)
            return personal
        return lambda value: format_value(f, value, self.viewer().lang, self.spec.enums)

    def time_text(self, value: Any, utc: bool = False) -> str:
        """``YYYY-MM-DD HH:MM`` in the county's time zone (``utc``: the value is naive UTC)."""
        if value is None:
            return EMPTY
        if isinstance(value, _dt.datetime):
            if utc:
                value = value.replace(tzinfo=_dt.timezone.utc).astimezone(self.zone).replace(tzinfo=None)
            return value.strftime("%Y-%m-%d %H:%M")
        return format_date(value)

    # ------------------------------------------------------------------ history
    def field_label(self, entity: Optional[str], name: str) -> str:
        viewer = self.viewer()
        ent = self.spec.entities.get(entity or "")
        f = ent.fields.get(name) if ent is not None else None
        if f is not None:
            return f.label.get(viewer.lang)
        system = SYSTEM_LABELS.get(name)
        return system.get(viewer.lang) if system is not None else name

    def change(self, entity: Optional[str], name: str, value: Any,
               ref_label: Optional[Callable[[str, Any], Optional[str]]] = None) -> str:
        """One side of a recorded change (``{field: [old, new]}`` in the audit trail) as text.

        Values were recorded as JSON (refs as ids, dates ISO, personal data already masked);
        ``ref_label(entity, id)`` names a referenced row the viewer may read (None = may not)."""
        if value is None or value == "":
            return EMPTY
        viewer = self.viewer()
        ent = self.spec.entities.get(entity or "")
        f = ent.fields.get(name) if ent is not None else None
        if f is None:
            if name == "state" and entity in self.states and value in self.states[entity]:  # type: ignore[operator]
                return self.states[entity][value].get(viewer.lang)  # type: ignore[index]
            return str(value)
        if f.pii:
            return str(value)  # recorded masked
        if f.type in ("ref", "user"):
            target = "user" if f.type == "user" else f.ref
            named = ref_label(target or "", value) if ref_label is not None else None
            return named if named else f"#{value}"
        parsed = _parse_recorded(f, value)
        return format_value(f, parsed, viewer.lang, self.spec.enums)


# ---------------------------------------------------------------------- helpers

def user_label(user: Any) -> str:
    """A login account is named by its person's name, else its user name; nothing more goes out."""
    name = " ".join(p for p in (getattr(user, "last_name", None), getattr(user, "first_name", None)) if p)
    return name.strip() or str(getattr(user, "username", "")) or f"#{getattr(user, 'id', '')}"


def _lang() -> str:
    from app.access.validation import current_lang

    return current_lang()


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def _json_value(value: Any) -> Any:
    """A stored value as JSON carries it: ISO dates/times, decimals as exact text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _parse_recorded(f: Field, value: Any) -> Any:
    """The audit trail records dates as ISO text and booleans as JSON: back to values to format."""
    if isinstance(value, str):
        try:
            if f.type == "date":
                return _dt.date.fromisoformat(value[:10])
            if f.type == "datetime":
                return _dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def current() -> Optional[Presenter]:
    """The app's presenter (None outside an app, or in an app built without one)."""
    from flask import current_app, has_app_context

    if not has_app_context():
        return None
    return current_app.extensions.get("jiefen_presenter")  # type: ignore[no-any-return]
