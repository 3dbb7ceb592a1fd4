"""File endpoints on every generated REST API (``/api/v1/<entity>/…``), and the JSON of a record's files.

* ``POST /<id>/files/<field>`` (multipart, the file(s) in ``file``; ``can_update`` on the entity and the
  record in the user's update scope): stores the file on the record.  A single-file field's new file
  replaces the old one; a field with ``max_files`` > 1 adds to its files.  200 with the field's value.
* ``GET /<id>/files/<field>`` and ``GET /<id>/files/<field>/<file id>`` (``can_read``, the record in
  the read scope): the file as an attachment under its name.  404 for a file out of scope, exactly
  like a missing one.  Every answer, refusals included, is an audit row (``download``).
* ``DELETE /<id>/files/<field>/<file id>`` (``can_update``): removes one file (422 for the last file
  of a required field).
* ``POST /files/<field>`` (``can_create``): stages a file for a JSON create or update; the answer's
  ``token`` is what the JSON then gives as the field's value (used once, by the same user, within a
  day).  That is how a record whose file is required is created through the API.

Each upload passes the field's rules (app/files/rules.py): 415 for content of a kind the field does
not accept, 413 over its size cap or its ``max_files``, 400 for no or an empty file; nothing is
stored then, and the refusal is audited.  In records (``GET /<id>``, lists) a file field is
``{id, name, size, content_type, uploaded_at, url}`` (a list when it keeps several), never a storage
key or a path.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional

from flask import request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect
from sqlalchemy.exc import IntegrityError

from generator.builders.views import lang

from app.access import rules as access_rules
from app.ui.model_api import JiefenModelApi

from . import present, rules, service
from .rules import Limits, Refused

READONLY = ("该附件只能由系统写入（例如五有检查页面），不能通过接口上传 / this file is written by the app only "
            "(e.g. the inspection page), not through the API")
NO_FILE = Refused(400, "请在 file 中附上文件", "send the file in the multipart part 'file'")
REQUIRED = "该附件为必填，不能删除最后一个文件 / the file is required: its last file cannot be removed"
# Endpoint names of these routes (the route inventory classifies them as entity routes).
FILE_METHODS = {"file_stage": "create", "file_upload": "update", "file_get": "read", "file_get_one": "read",
                "file_delete": "update"}


PK, FIELD, FILE_ID = ("pk", "integer"), ("field", "string"), ("file_id", "integer")
NOT_FOUND = "#/components/responses/404"
REFUSALS = {413: "over the field's size cap or max_files", 415: "content of a kind the field does not accept"}


def openapi(method: Any, verb: str, params: tuple[tuple[str, str], ...], responses: dict[int, str],
            upload: bool = False) -> None:
    """Give a route its OpenAPI description (FAB reads the YAML after ``---`` in the docstring)."""
    lines = [(method.__doc__ or "").strip(), "---", f"{verb}:", "  parameters:"]
    for name, kind in params:
        lines += ["  - in: path", "    schema:", f"      type: {kind}", f"    name: {name}"]
    if upload:
        lines += ["  requestBody:", "    content:", "      multipart/form-data:", "        schema:",
                  "          type: object", "          properties:", "            file:",
                  "              type: string", "              format: binary"]
    lines.append("  responses:")
    for code, text in responses.items():
        lines += [f"    {code}:", f"      $ref: '{text}'" if text.startswith("#") else f"      description: {text}"]
    method.__doc__ = "\n".join(lines)


class FileApiMixin:
    jf_entity: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Only the APIs of entities with a file field get the file routes.
        if self.jf_entity is not None and not any(f.type == "file" for f in self.jf_entity.fields.values()):
            self.exclude_route_methods = set(self.exclude_route_methods or ()) | set(FILE_METHODS)
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ helpers
    def _file_field(self, name: str) -> Optional[Any]:
        f = self.jf_entity.fields.get(name) if self.jf_entity is not None else None
        return f if f is not None and f.type == "file" else None

    def _scoped(self, pk: int, action: str) -> Optional[Any]:
        item = self.datamodel.get(pk, self._base_filters)  # type: ignore[attr-defined]
        if item is None:
            return None
        access = access_rules.current()
        if action != "read" and access is not None and not access.allows(
                self.datamodel.session, self.datamodel.obj, pk, action):  # type: ignore[attr-defined]
            return None
        return item

    def _refused(self, exc: Refused, pk: Any, field: str) -> Any:
        service.audit_refused_upload(self.jf_entity.name, pk, field, exc)
        return self.response(exc.status, message=exc.text(lang()))  # type: ignore[attr-defined]

    def _present(self, item: Any, f: Any) -> Any:
        rows = service.rows_of(self.datamodel.session, self.jf_entity.name, [item.id], [f.name])  # type: ignore[attr-defined]
        return present.field_value(f, getattr(item, f.name), rows)

    def _save(self, item: Any) -> Optional[Any]:
        """Commit through the scoped interface; an answer when it refused, else None."""
        try:
            self.datamodel.edit(item)  # type: ignore[attr-defined]
        except access_rules.AccessRefused as exc:
            self.datamodel.session.rollback()  # type: ignore[attr-defined]
            return self.response_404() if exc.status == 404 else self.response(exc.status, message=str(exc))  # type: ignore[attr-defined]
        except IntegrityError:
            self.datamodel.session.rollback()  # type: ignore[attr-defined]
            return self.response_422(message="数据冲突 / conflict")  # type: ignore[attr-defined]
        return None

    # ------------------------------------------------------------------ routes
    @expose("/files/<field>", methods=["POST"])
    @protect()
    @safe
    @permission_name("create")
    def file_stage(self, field: str) -> Any:
        """Stage a file for a JSON create or update (the answer's token names it)."""
        f = self._file_field(field)
        if f is None:
            return self.response_404()  # type: ignore[attr-defined]
        if f.readonly:
            return self.response_400(message=READONLY)  # type: ignore[attr-defined]
        try:
            rules.check_request_size(request.content_length)
            ups = rules.read_all(request.files.getlist("file"), replace(Limits.for_field(f), per_request=1))
            if not ups:
                raise NO_FILE
            staged = service.stage_detached(ups[0], self.jf_entity.name, field)
        except Refused as exc:
            return self._refused(exc, None, field)
        return self.response(201, result=staged)  # type: ignore[attr-defined]

    @expose("/<int:pk>/files/<field>", methods=["POST"])
    @protect()
    @safe
    @permission_name("update")
    def file_upload(self, pk: int, field: str) -> Any:
        """Store a file on a record (replaces a single file; adds to a field that keeps several)."""
        f = self._file_field(field)
        item = self._scoped(pk, "update") if f is not None else None
        if item is None:
            return self.response_404()  # type: ignore[attr-defined]
        if f.readonly:
            return self.response_400(message=READONLY)  # type: ignore[attr-defined]
        limits = Limits.for_field(f)
        session = self.datamodel.session  # type: ignore[attr-defined]
        try:
            rules.check_request_size(request.content_length)
            ups = rules.read_all(request.files.getlist("file"), limits)
            if not ups:
                raise NO_FILE
            have = service.usage(session, self.jf_entity.name, pk, field) if f.file_max_count > 1 else (0, 0)
            rules.check_quota(limits, have[0], have[1], ups)
        except Refused as exc:
            return self._refused(exc, pk, field)
        for up in ups:
            setattr(item, f.name, service.stage(session, up, self.jf_entity.name, field, obj=item))
        refused = self._save(item)
        if refused is not None:
            return refused
        return self.response(200, result=self._present(item, f))  # type: ignore[attr-defined]

    @expose("/<int:pk>/files/<field>", methods=["GET"])
    @protect()
    @safe
    @permission_name("read")
    def file_get(self, pk: int, field: str) -> Any:
        """The record's (latest) file of the field, as an attachment."""
        return self._serve(pk, field, None)

    @expose("/<int:pk>/files/<field>/<int:file_id>", methods=["GET"])
    @protect()
    @safe
    @permission_name("read")
    def file_get_one(self, pk: int, field: str, file_id: int) -> Any:
        """One file of the record's field, as an attachment."""
        return self._serve(pk, field, file_id)

    def _serve(self, pk: int, field: str, file_id: Optional[int]) -> Any:
        entity = self.jf_entity.name
        f = self._file_field(field)
        item = self._scoped(pk, "read") if f is not None else None
        row = None
        if item is not None:
            rows = service.rows_of(self.datamodel.session, entity, [pk], [field])  # type: ignore[attr-defined]
            if file_id is not None:
                row = next((r for r in rows if r.id == file_id), None)
            else:
                row = next((r for r in rows if r.key == getattr(item, field)), rows[-1] if rows else None)
        if row is None:
            service.audit_download(entity, pk, f"{field}/{file_id or ''}: no such file, or out of scope", "denied")
            return self.response_404()  # type: ignore[attr-defined]
        try:
            resp = service.send(row)
        except FileNotFoundError:
            service.audit_download(entity, pk, f"{field}: {row.name}: missing from the storage", "failed")
            return self.response_404()  # type: ignore[attr-defined]
        service.audit_download(entity, pk, f"{field}: {row.name} ({row.size} B, sha256 {row.sha256[:16]})")
        return resp

    @expose("/<int:pk>/files/<field>/<int:file_id>", methods=["DELETE"])
    @protect()
    @safe
    @permission_name("update")
    def file_delete(self, pk: int, field: str, file_id: int) -> Any:
        """Remove one file of the record's field."""
        f = self._file_field(field)
        item = self._scoped(pk, "update") if f is not None else None
        session = self.datamodel.session  # type: ignore[attr-defined]
        rows = service.rows_of(session, self.jf_entity.name, [pk], [field]) if item is not None else []
        if not any(r.id == file_id for r in rows):
            return self.response_404()  # type: ignore[attr-defined]
        if f.readonly:
            return self.response_400(message=READONLY)  # type: ignore[attr-defined]
        if f.required and len(rows) == 1:
            return self.response_422(message=REQUIRED)  # type: ignore[attr-defined]
        left = service.unlink(session, self.jf_entity.name, pk, field, [file_id])
        setattr(item, f.name, left[-1] if left else None)
        refused = self._save(item)
        if refused is not None:
            return refused
        return self.response(200, result=self._present(item, f))  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ records carry their files
    def present_records(self, records: list[dict[str, Any]]) -> None:
        """Every record the API sends (list, show, create and update answers) carries its files
        ``{id, name, size, content_type, uploaded_at, url}``, never their storage keys."""
        super().present_records(records)  # type: ignore[misc]
        present.present_records(self.jf_entity, records)


openapi(FileApiMixin.file_stage, "post", (FIELD,), {201: "the staged file and its token", **REFUSALS}, upload=True)
openapi(FileApiMixin.file_upload, "post", (PK, FIELD), {200: "the field's file(s)", 404: NOT_FOUND, **REFUSALS},
        upload=True)
openapi(FileApiMixin.file_get, "get", (PK, FIELD), {200: "the file", 404: NOT_FOUND})
openapi(FileApiMixin.file_get_one, "get", (PK, FIELD, FILE_ID), {200: "the file", 404: NOT_FOUND})
openapi(FileApiMixin.file_delete, "delete", (PK, FIELD, FILE_ID),
        {200: "the field's remaining file(s)", 404: NOT_FOUND, 422: "the last file of a required field"})


class FilesModelApi(FileApiMixin, JiefenModelApi):
    """The base of every generated REST API: ``JiefenModelApi`` plus file endpoints."""


def token_validator(f: Any) -> Any:
    """The marshmallow validator of a ``file`` field in a JSON create or update: the value must be the
    token of a file this user staged for this field (``POST /files/<field>``), or the field's own
    stored file given back unchanged.  The flush checks it again, bound to the record."""

    def validate(value: Any) -> None:
        from flask import current_app
        from marshmallow import ValidationError

        from . import storage

        if value in (None, ""):
            return
        if not isinstance(value, str) or not storage.valid_key(value):
            raise ValidationError(service.UNKNOWN_KEY)
        row = service.row_by_key(current_app.appbuilder.sm.session, value)
        if row is None or (row.entity, row.field) != (f_entity(f), f.name):
            raise ValidationError(service.UNKNOWN_KEY)
        if row.record_id is None and row.uploaded_by_id != service._user_id():  # noqa: SLF001
            raise ValidationError(service.UNKNOWN_KEY)

    validate.__name__ = f"validate_{f.name}_token"
    return validate


def f_entity(f: Any) -> str:
    """The entity a spec field belongs to (its path is ``("entities", <entity>, "fields", <name>)``)."""
    return str(f.path[1])
