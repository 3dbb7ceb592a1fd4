"""Exporting a list to Excel: the rows the user may read, personal data masked, audited.

The export takes the list page's current filters and sort, goes through the same scoped data
interface as the list (so it can never show more than the list), masks every ``pii:`` field
whatever the user's reveal grants (a reveal is a per-record act, an export is bulk), escapes
cells a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR), and writes one
``export`` audit row with the row count and filters.
"""

from __future__ import annotations

import datetime as _dt
import io
from typing import Any, Optional
from urllib.parse import quote

from flask import Response, request
from flask_appbuilder.urltools import get_filter_args, get_order_args
from openpyxl import Workbook

from generator.builders.views import lang
from generator.spec import Entity

from app.audit import log as audit
from app.access.formatting import EMPTY, format_value
from app.access.masking import masked

MAX_ROWS = 50_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet shows as typed: text that could start a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def cell_text(spec: Any, ent: Entity, name: str, item: Any, file_names: Optional[dict] = None) -> Any:
    value = getattr(item, name, None)
    f = ent.fields.get(name)
    if f is None:  # state and other system columns
        return safe_cell(EMPTY if value is None else str(value))
    if f.type == "file":  # the file's name (app/files), never its storage key
        shown = (file_names or {}).get((getattr(item, "id", None), name))
        return safe_cell(shown or (EMPTY if value in (None, "") else str(value)))
    if f.pii:
        return safe_cell(masked(f, value) if value is not None else EMPTY)
    if f.type in ("ref", "user"):
        return safe_cell(EMPTY if value is None else str(value))
    if f.type in ("integer",) and value is not None:
        return value
    return safe_cell(format_value(f, value, lang(), spec.enums))


def export_view(view: Any) -> Response:
    from flask import current_app

    spec = current_app.extensions["jiefen"].spec
    ent: Entity = view.jf_entity
    get_filter_args(view._filters)
    orders = get_order_args().get(view.__class__.__name__)
    order_column, order_direction = orders if orders else view.base_order
    _count, items = view.datamodel.query(view._filters, order_column, order_direction,
                                         page=0, page_size=MAX_ROWS)
    columns = list(ent.fields) + (["state"] if "state" in view.list_columns else [])
    wb = Workbook()
    ws = wb.active
    ws.title = ent.label.get(lang())[:31]
    ws.append([str(view.label_columns.get(c, c)) for c in columns])
    from app.files.present import names_for_export

    file_names = names_for_export(ent, items)
    for item in items:
        ws.append([cell_text(spec, ent, c, item, file_names) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    audit.record("export", entity=ent.name, detail=f"rows: {len(items)}; args: {request.query_string.decode()[:500]}")
    name = f"{ent.label.get(lang())}-{_dt.date.today():%Y%m%d}.xlsx"
    resp = Response(buf.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{ent.name}.xlsx\"; filename*=UTF-8''{quote(name)}"
    return resp
