"""Exporting a list to Excel: the rows the user may read, personal data masked, audited.

The export takes the list page's current filters and sort, goes through the same scoped data
interface as the list (so it can never show more than the list), renders every cell through the
presenter exactly as the list page does (personal data masked, references by their label, enum
labels; app/access/present.py), escapes
cells a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR), and writes one
``export`` audit row with the row count and filters.
"""

from __future__ import annotations

import datetime as _dt
import io
from typing import Any, Optional
from urllib.parse import quote

from flask import Response, request
from openpyxl import Workbook

from generator.builders.views import lang
from generator.spec import Entity

from app.audit import log as audit

MAX_ROWS = 50_000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A value a spreadsheet shows as typed: text that could start a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def cell_text(presenter: Any, ent: Entity, name: str, item: Any, file_names: Optional[dict] = None) -> Any:
    """One cell: the presenter's text (the same as the list page shows), numbers kept as numbers, a
    file by its name (app/files), never its storage key."""
    value = getattr(item, name, None)
    f = ent.fields.get(name)
    if f is not None and f.type == "file":
        shown = (file_names or {}).get((getattr(item, "id", None), name))
        return safe_cell(shown or presenter.cell(ent.name, name)(value))
    if f is not None and f.type == "integer" and value is not None:
        return value
    return safe_cell(presenter.cell(ent.name, name)(value))


def export_view(view: Any) -> Response:
    from flask import current_app

    presenter = current_app.extensions["jiefen_presenter"]
    ent: Entity = view.jf_entity
    q = view.list_query()  # the list page's filters and sort, read by the boundary's parser
    order_column, order_direction = (q.order_column, q.order_direction) if q.order_column else view.base_order
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
        ws.append([cell_text(presenter, ent, c, item, file_names) for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    audit.record("export", entity=ent.name, detail=f"rows: {len(items)}; args: {request.query_string.decode()[:500]}")
    name = f"{ent.label.get(lang())}-{_dt.date.today():%Y%m%d}.xlsx"
    resp = Response(buf.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp.headers["Content-Disposition"] = f"attachment; filename=\"{ent.name}.xlsx\"; filename*=UTF-8''{quote(name)}"
    return resp
