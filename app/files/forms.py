"""A ``file`` field on the generated screens: an upload input on the add and edit forms, a named
download link on show pages and list cells.

* ``UploadField``: an ``<input type="file">`` (``multiple`` when the field keeps several files, with
  an ``accept`` hint for the picker), the record's current files listed above it with their links
  and, for a field that keeps several, a box per file to remove it.  Left empty on an edit, the
  stored file stays.  The upload is checked while the form validates (app/files/rules.py): a
  refusal is a form error, the page comes back with the HTTP status of the refusal (413 over a cap,
  415 wrong kind) and nothing is stored; it is audited.  ``populate_obj`` stages the accepted file
  (app/files/service.py): it is written with the record's flush and removed if the save fails.
* ``FileFormsMixin``: puts those fields on a generated view's forms and the links in its formatters.
  ``FilesModelView`` is the base of every generated screen (``JiefenModelView`` plus this).
"""

from __future__ import annotations

from typing import Any, Optional

from flask import current_app, g, request
from markupsafe import Markup, escape
from werkzeug.datastructures import FileStorage
from wtforms import Field
from wtforms.validators import StopValidation

from generator.builders.views import L, lang
from generator.spec import Label

from app.ui.model_view import JiefenModelView

from . import kinds, present, rules, service
from .rules import Limits, Refused

STATUS = "_jf_upload_status"  # the HTTP status of a refused upload, set on the re-rendered form
CHECKED = "_jf_upload_checked"  # per request: (entity, field) -> accepted uploads or the refusal
REQUIRED = Label("请选择要上传的文件", "Please choose a file to upload")
REMOVE = Label("删除", "Remove")


def _limits_text(f: Any, lg: str) -> str:
    what = kinds.describe(f.file_kinds, lg)
    if lg == "en":
        many = f"; up to {f.file_max_count} files" if f.file_max_count > 1 else ""
        return f"{what}, at most {f.file_max_mb} MB each{many}. The type is checked by content."
    many = f"，最多 {f.file_max_count} 个文件" if f.file_max_count > 1 else ""
    return f"{what}，每个不超过 {f.file_max_mb} MB{many}；按文件内容核验类型。"


class UploadWidget:
    def __call__(self, field: "UploadField", **kwargs: Any) -> Markup:
        f = field.jf_field
        lg = lang()
        rows = field.current_rows()
        parts = []
        if rows:
            items = []
            for r in rows:
                remove = ""
                if f.file_max_count > 1:
                    remove = (f' <label class="jf-file-remove"><input type="checkbox" name="{escape(field.name)}__remove"'
                              f' value="{r.id}"> {escape(REMOVE.get(lg))}</label>')
                items.append(f"<li>{present.link(r)}{remove}</li>")
            parts.append(f'<ul class="list-unstyled jf-files">{"".join(items)}</ul>')
        multiple = " multiple" if f.file_max_count > 1 else ""
        parts.append(f'<input type="file" id="{escape(field.id)}" name="{escape(field.name)}" class="form-control"'
                     f' accept="{escape(kinds.accept_attribute(f.file_kinds))}"{multiple}>')
        parts.append(f'<p class="help-block jf-file-limits">{escape(_limits_text(f, lg))}</p>')
        return Markup("".join(parts))


class UploadField(Field):
    """The upload input of a spec ``file`` field (``jf_entity``, ``jf_field``)."""

    widget = UploadWidget()

    def __init__(self, label: Any = None, validators: Any = None, jf_entity: Any = None, jf_field: Any = None,
                 **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.jf_entity, self.jf_field = jf_entity, jf_field
        self.files: list[FileStorage] = []
        self.uploads: list[rules.Upload] = []
        self.record_id: Optional[int] = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.files = rules.present(v for v in valuelist if isinstance(v, FileStorage))

    def _value(self) -> str:
        return ""

    def current_rows(self) -> list[Any]:
        """The files the record holds now (the form was built from it, or is its edit form)."""
        session = current_app.appbuilder.sm.session
        if self.record_id is not None:
            return service.rows_of(session, self.jf_entity.name, [self.record_id], [self.jf_field.name])
        if self.object_data:
            row = service.row_by_key(session, self.object_data)
            if row is not None and row.record_id is not None:
                return service.rows_of(session, row.entity, [row.record_id], [row.field])
        return []

    def removals(self) -> list[int]:
        if self.jf_field.file_max_count <= 1:
            return []
        return [int(v) for v in request.form.getlist(f"{self.name}__remove") if str(v).isdigit()]

    def pre_validate(self, form: Any) -> None:
        f, entity = self.jf_field, self.jf_entity.name
        self.record_id = getattr(form, "_id", None)
        checked = g.setdefault(CHECKED, {})
        key = (entity, f.name)
        if key not in checked:  # FAB validates a refused edit form twice: read the files once
            try:
                rules.check_request_size(request.content_length)
                limits = Limits.for_field(f)
                uploads = rules.read_all(self.files, limits)
                session = current_app.appbuilder.sm.session
                if f.file_max_count > 1:
                    have, size = service.usage(session, entity, self.record_id, f.name)
                    gone = [r for r in self.current_rows() if r.id in set(self.removals())]
                    rules.check_quota(limits, have - len(gone), size - sum(r.size for r in gone), uploads)
                else:
                    rules.check_quota(limits, 0, 0, uploads)
                checked[key] = uploads
            except Refused as exc:
                service.audit_refused_upload(entity, self.record_id, f.name, exc)
                checked[key] = exc
        result = checked[key]
        if isinstance(result, Refused):
            setattr(g, STATUS, result.status)
            raise StopValidation(result.text(lang()))
        self.uploads = result
        if f.required and not self.uploads and not self._keeps_a_file():
            raise StopValidation(REQUIRED.get(lang()))

    def _keeps_a_file(self) -> bool:
        rows = self.current_rows()
        return bool(rows) and len({r.id for r in rows} - set(self.removals())) > 0 or (
            not rows and self.record_id is not None and bool(self._stored_value()))

    def _stored_value(self) -> Any:
        model = current_app.extensions["jiefen"].models[self.jf_entity.name]
        obj = current_app.appbuilder.sm.session.get(model, self.record_id)
        return getattr(obj, self.jf_field.name, None) if obj is not None else None

    def populate_obj(self, obj: Any, name: str) -> None:
        session = current_app.appbuilder.sm.session
        f, entity = self.jf_field, self.jf_entity.name
        removed = self.removals()
        left: Optional[list[str]] = None
        if removed and getattr(obj, "id", None) is not None:
            left = service.unlink(session, entity, obj.id, f.name, removed)
        for up in self.uploads:
            setattr(obj, name, service.stage(session, up, entity, f.name, obj=obj))
        if not self.uploads and left is not None:
            setattr(obj, name, left[-1] if left else None)


class FileFormsMixin:
    """Upload inputs on the add/edit forms and download links in the formatters of a generated view."""

    jf_entity: Any = None

    def _file_fields(self) -> list[Any]:
        ent = self.jf_entity
        return [f for f in ent.fields.values() if f.type == "file"] if ent is not None else []

    def _init_properties(self) -> None:
        super()._init_properties()  # type: ignore[misc]
        ent = self.jf_entity
        links = {f.name: (lambda value, fld=f: present.html(ent, fld, value)) for f in self._file_fields()}
        if links:
            self.formatters_columns = {**(self.formatters_columns or {}), **links}

    def _init_forms(self) -> None:
        fields = [f for f in self._file_fields() if not f.readonly]
        if fields:
            def uploads() -> dict[str, Any]:
                return {f.name: UploadField(L(f.label), jf_entity=self.jf_entity, jf_field=f,
                                            description=L(f.help) if f.help else "") for f in fields}
            self.add_form_extra_fields = {**(self.add_form_extra_fields or {}), **uploads()}
            self.edit_form_extra_fields = {**(self.edit_form_extra_fields or {}), **uploads()}
        super()._init_forms()  # type: ignore[misc]


class FilesModelView(FileFormsMixin, JiefenModelView):
    """The base of every generated screen: ``JiefenModelView`` plus file uploads and links."""


def refused_status(response: Any) -> Any:
    """``after_request``: a form page re-rendered because of a refused upload answers its status."""
    status = g.pop(STATUS, None)
    if status is not None and response.status_code == 200:
        response.status_code = status
    return response
