"""How a stored file is shown: ``{id, name, size, content_type, uploaded_at, url}`` in the JSON of a
record (a list for a field that keeps several files), a named download link on the screens.  Never
the storage key, never a server path.  A value stored before files were real uploads (text typed by
hand) has no file behind it: it is shown as its text, without a link.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

from flask import current_app, g
from markupsafe import Markup, escape

from generator import names

from . import service


def url(entity: str, record_id: Any, field: str, file_id: Any) -> str:
    return f"/api/v1/{names.resource_name(entity)}/{record_id}/files/{field}/{file_id}"


def size_text(size: Optional[int]) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def as_json(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "size": row.size, "content_type": row.content_type,
            "uploaded_at": row.uploaded_at.isoformat() if row.uploaded_at else None,
            "url": url(row.entity, row.record_id, row.field, row.id)}


def legacy_json(value: Any) -> dict[str, Any]:
    return {"id": None, "name": str(value), "size": None, "content_type": None, "uploaded_at": None, "url": None}


def field_value(f: Any, stored: Any, rows: list[Any]) -> Any:
    """The JSON value of file field ``f`` whose column holds ``stored`` and whose files are ``rows``."""
    if f.file_max_count > 1:
        out = [as_json(r) for r in rows]
        return out or ([legacy_json(stored)] if stored else [])
    match = next((r for r in rows if r.key == stored), None)
    if match is not None:
        return as_json(match)
    return legacy_json(stored) if stored else None


def present_records(ent: Any, records: Iterable[Any]) -> None:
    """Replace the file columns of JSON records (dicts with an ``id``) by their files, in place."""
    fields = [f for f in ent.fields.values() if f.type == "file"] if ent is not None else []
    if not fields:
        return
    targets = [r for r in records if isinstance(r, dict) and r.get("id") is not None
               and any(f.name in r for f in fields)]
    if not targets:
        return
    session = current_app.appbuilder.sm.session
    grouped: dict[tuple[int, str], list[Any]] = {}
    for row in service.rows_of(session, ent.name, [r["id"] for r in targets], [f.name for f in fields]):
        grouped.setdefault((row.record_id, row.field), []).append(row)
    for r in targets:
        for f in fields:
            if f.name in r:
                r[f.name] = field_value(f, r[f.name], grouped.get((int(r["id"]), f.name), []))


def _rows_for_key(ent: Any, f: Any, key: Any) -> tuple[Any, list[Any]]:
    """(the row the key names, every file of that record's field), cached for the request."""
    cache = g.setdefault("_jf_files_by_key", {})
    if key not in cache:
        session = current_app.appbuilder.sm.session
        row = service.row_by_key(session, key)
        rows = [row] if row is not None else []
        if row is not None and f.file_max_count > 1:
            rows = service.rows_of(session, ent.name, [row.record_id], [f.name])
        cache[key] = (row, rows)
    return cache[key]  # type: ignore[no-any-return]


def link(row: Any) -> str:
    return (f'<i class="fa fa-paperclip"></i> <a class="jf-file" '
            f'href="{escape(url(row.entity, row.record_id, row.field, row.id))}">{escape(row.name)}</a> '
            f'<small class="text-muted">{escape(size_text(row.size))}</small>')


def html(ent: Any, f: Any, key: Any) -> Markup:
    """A list cell or show value: the file's name linking to its (scoped) download."""
    if key in (None, ""):
        return Markup("—")
    row, rows = _rows_for_key(ent, f, key)
    if row is None:
        return Markup(escape(str(key)))  # text stored before uploads existed: no file behind it
    return Markup("<br>".join(link(r) for r in rows))


def names_for_export(ent: Any, items: Iterable[Any]) -> dict[tuple[int, str], str]:
    """``{(record id, field): "name; name"}`` for the file fields of some records: one query, so an
    export shows file names (never storage keys) at any size."""
    fields = [f.name for f in ent.fields.values() if f.type == "file"] if ent is not None else []
    ids = [getattr(i, "id", None) for i in items] if fields else []
    out: dict[tuple[int, str], list[str]] = {}
    for row in service.rows_of(current_app.appbuilder.sm.session, ent.name, ids, fields) if fields else []:
        out.setdefault((row.record_id, row.field), []).append(row.name)
    return {k: "; ".join(v) for k, v in out.items()}
