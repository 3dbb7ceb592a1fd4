"""The base class of every generated REST API.

* **Bad input is never a server error.**  FAB answers a database integrity error on
  POST/PUT/DELETE (a duplicate unique value, a row still referenced) with a generic 500.
  Here the transaction is rolled back and the client gets 422 with a message it can act on.
* **Schemas are built on first use.**  FAB converts every API's model to four marshmallow
  schemas when the API is registered: for 40 entities that is over a second of every start,
  paid again by every worker, for APIs a given worker may never serve.  Each schema is built
  the first time it is read (a request, or the OpenAPI document) and then kept.
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_appbuilder import ModelRestApi
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect
from sqlalchemy.exc import IntegrityError

from app.access import rules as access_mod
from app.access import masking

SERVER_SET = ("由系统设置，不能在请求中提交 / set by the server, not accepted in a request: ")
INTEGRITY_MESSAGE = "数据冲突：与已有记录重复，或仍被其他记录引用 / conflict: duplicates an existing record or is still referenced"


def _lazy_schema(columns_attr: str, name_attr: str, nested: bool) -> property:
    slot = f"_lazy_{columns_attr}_schema"

    def getter(self: Any) -> Any:
        value = self.__dict__.get(slot)
        if value is None:
            if isinstance(self.model2schemaconverter, type) or not has_request_context():
                # FAB inspects every attribute while registering (before the converter exists, and
                # again for URL rules and hooks); only a request (or the OpenAPI page) needs schemas.
                return None
            extra = {} if nested else {"nested": False}
            value = self.model2schemaconverter.convert(getattr(self, columns_attr),
                                                       parent_schema_name=getattr(self, name_attr), **extra)
            self.__dict__[slot] = value
        return value

    def setter(self: Any, value: Any) -> None:
        self.__dict__[slot] = value

    return property(getter, setter)


class IncidentMixin:
    """FAB's ``@safe`` turns any exception of a REST endpoint into ``{"message": "Fatal error"}``:
    here it gets the app's 500 answer instead, with an incident number that the log carries with
    the traceback (the same scheme as app/hardening/errors.py for everything else)."""

    def response_500(self, message: Any = None, **kwargs: Any) -> Any:
        import logging
        import sys
        import uuid

        from app.hardening.errors import MESSAGES

        incident = uuid.uuid4().hex[:12]
        exc = sys.exc_info()[1]
        logging.getLogger(__name__).error("incident %s: %s on %s %s", incident, type(exc).__name__ if exc else "error",
                                          request.method, request.path, exc_info=exc)
        try:
            self.appbuilder.session.rollback()  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001 - the answer must not fail
            pass
        return self.response(500, message=str(MESSAGES[500]), incident=incident)  # type: ignore[attr-defined]


class JiefenModelApi(IncidentMixin, ModelRestApi):
    list_model_schema = _lazy_schema("list_columns", "list_model_schema_name", nested=True)
    show_model_schema = _lazy_schema("show_columns", "show_model_schema_name", nested=True)
    add_model_schema = _lazy_schema("add_columns", "add_model_schema_name", nested=False)
    edit_model_schema = _lazy_schema("edit_columns", "edit_model_schema_name", nested=False)

    def _init_model_schemas(self) -> None:
        """Nothing at registration: the properties above build each schema on first use."""

    jf_entity: Any = None  # the spec entity, set by the generator

    def _guarded(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(super(), method)(*args, **kwargs)
        except IntegrityError:
            self.datamodel.session.rollback()
            return self.response_422(message=INTEGRITY_MESSAGE)
        except access_mod.AccessRefused as exc:
            self.datamodel.session.rollback()
            if exc.status == 404:
                return self.response_404()
            return self.response(exc.status, message=str(exc))

    def _server_set_keys(self) -> list[str]:
        """Keys of the JSON body that only the server may set (state, version, created_by…)."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return []
        return sorted(k for k in body if k in access_mod.SERVER_COLUMNS)

    def post_headless(self) -> Any:
        bad = self._server_set_keys()
        if bad:
            return self.response_400(message=SERVER_SET + ", ".join(bad))
        return self._guarded("post_headless")

    def put_headless(self, pk: Any) -> Any:
        bad = self._server_set_keys()
        if bad:
            return self.response_400(message=SERVER_SET + ", ".join(bad))
        try:
            return self._put(pk)
        except IntegrityError:
            self.datamodel.session.rollback()
            return self.response_422(message=INTEGRITY_MESSAGE)
        except access_mod.AccessRefused as exc:
            self.datamodel.session.rollback()
            return self.response_404() if exc.status == 404 else self.response(exc.status, message=str(exc))

    def _put(self, pk: Any) -> Any:
        """FAB's ``put_headless`` with the payload applied under ``no_autoflush``: loading a
        related id queries the session, and an autoflush there would write half the change
        before the access check has seen the stored row (app/access/rules.py)."""
        from marshmallow import ValidationError

        item = self.datamodel.get(pk, self._base_filters)
        if not request.is_json:
            return self.response(400, message="Request is not JSON")
        if not item:
            return self.response_404()
        session = self.datamodel.session
        try:
            with session.no_autoflush:
                data = self._merge_update_item(item, request.json)
                item = self.edit_model_schema.load(data, instance=item)
        except ValidationError as err:
            session.rollback()
            return self.response_422(message=err.messages)
        self.pre_update(item)
        self.datamodel.edit(item)
        self.post_update(item)
        return self.response(200, result=self.edit_model_schema.dump(item, many=False))

    def _merge_update_item(self, model_item: Any, data: dict[str, Any]) -> dict[str, Any]:
        """A masked personal value sent back unchanged keeps the stored value."""
        merged = super()._merge_update_item(model_item, data)
        return masking.keep_unchanged(self.jf_entity, merged, model_item) if self.jf_entity else merged

    def _get_field_info(self, field: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """FAB runs the description through gettext, and gettext("") is the catalogue's header
        (Project-Id-Version…): the description is the field's help from the YAML, or empty."""
        ret = super()._get_field_info(field, *args, **kwargs)
        f = self.jf_entity.fields.get(field.name) if self.jf_entity else None
        from generator.builders.views import lang

        ret["description"] = f.help.get(lang()) if f is not None and f.help else ""
        return ret

    # Personal data leaves the API masked (a reveal is its own audited call).
    def pre_get(self, data: dict[str, Any]) -> None:
        if self.jf_entity and isinstance(data.get("result"), dict):
            masking.mask_record(self.jf_entity, data["result"])

    def pre_get_list(self, data: dict[str, Any]) -> None:
        if self.jf_entity:
            for row in data.get("result") or []:
                if isinstance(row, dict):
                    masking.mask_record(self.jf_entity, row)

    @expose("/<int:pk>/reveal", methods=["POST"])
    @protect()
    @safe
    @permission_name("get")
    def reveal(self, pk: int) -> Any:
        """Personal data of one record in clear, for a role with the reveal grant (audited).
        ---
        post:
          parameters:
          - in: path
            schema:
              type: integer
            name: pk
          responses:
            200:
              description: the personal-data fields in clear
            403:
              $ref: '#/components/responses/403'
            404:
              $ref: '#/components/responses/404'
        """
        from app.access.reveal import reveal_record

        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        fields = reveal_record(self.jf_entity, item)
        if not fields:
            return self.response_403()
        return self.response(200, result=masking.clear_values(self.jf_entity, fields, item))

    def delete_headless(self, pk: Any) -> Any:
        return self._guarded("delete_headless", pk)
