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

from typing import Any, Optional

from flask import has_request_context, request
from flask_appbuilder import ModelRestApi
from flask_appbuilder.api import expose, merge_response_func, safe
from flask_appbuilder.api.schemas import get_info_schema, get_item_schema, get_list_schema
from flask_appbuilder.const import (API_ADD_COLUMNS_RIS_KEY, API_ADD_TITLE_RIS_KEY, API_DESCRIPTION_COLUMNS_RIS_KEY,
                                    API_EDIT_COLUMNS_RIS_KEY, API_EDIT_TITLE_RIS_KEY, API_FILTERS_RIS_KEY,
                                    API_LABEL_COLUMNS_RIS_KEY, API_LIST_COLUMNS_RIS_KEY, API_LIST_TITLE_RIS_KEY,
                                    API_ORDER_COLUMNS_RIS_KEY, API_PERMISSIONS_RIS_KEY, API_SELECT_COLUMNS_RIS_KEY,
                                    API_SHOW_COLUMNS_RIS_KEY, API_SHOW_TITLE_RIS_KEY)
from flask_appbuilder.security.decorators import permission_name, protect
from sqlalchemy.exc import IntegrityError

from app.access import masking, parse
from app.access import present as present_mod
from app.access import rules as access_mod

MAX_API_PAGE_SIZE = 100
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


def rison_args(schema: dict[str, Any]) -> Any:
    """FAB's ``@rison`` without its per-request cost: FAB runs ``jsonschema.validate``, which checks
    the schema itself against the metaschema on every call (about half of a REST list request's
    time).  Here ``q`` is decoded as rison (or JSON, as FAB allows) and its shape checked against the
    same schema's top level (an object; lists of names where FAB expects them); the values
    themselves are read by the boundary's parser (app/access/parse.py).  Anything that does not
    decode or fit is a 400 (the rison decoder can recurse on ``((((``)."""
    import functools
    import json

    import prison

    properties = schema.get("properties", {})
    name_lists = {k for k, v in properties.items() if v.get("type") == "array"
                  and v.get("items", {}).get("type") == "string"}

    def problem(args: Any) -> Optional[str]:
        if not isinstance(args, dict):
            return "q 必须是对象 / q must be an object"
        for key in name_lists & set(args):
            value = args[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return f"q 中的 {key} 必须是名称列表 / {key} in q must be a list of names"
        return None

    def decorate(f: Any) -> Any:
        def wraps(self: Any, *args: Any, **kwargs: Any) -> Any:
            raw = request.args.get("q")
            kwargs["rison"] = {}
            if raw:
                try:
                    kwargs["rison"] = prison.loads(raw)
                except Exception:  # noqa: BLE001 - any decoder failure
                    try:
                        kwargs["rison"] = json.loads(raw)
                    except Exception:  # noqa: BLE001
                        return self.response_400(message="q 参数不是有效的 rison / q is not valid rison")
            bad = problem(kwargs["rison"])
            if bad is not None:
                return self.response_400(message=bad)
            return f(self, *args, **kwargs)

        return functools.update_wrapper(wraps, f)

    return decorate


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
    """Every value in or out goes through the boundary (app/access): requests are read by the
    parser (``parse.py``), records leave through the presenter (``present.py``): the declared
    columns, a related row as ``{id, label}``, personal data masked.  FAB's marshmallow schemas
    remain only to load and validate POST/PUT payloads (flat: a reference is an id)."""

    list_model_schema = _lazy_schema("list_columns", "list_model_schema_name", nested=False)
    show_model_schema = _lazy_schema("show_columns", "show_model_schema_name", nested=False)
    add_model_schema = _lazy_schema("add_columns", "add_model_schema_name", nested=False)
    edit_model_schema = _lazy_schema("edit_columns", "edit_model_schema_name", nested=False)

    def _init_model_schemas(self) -> None:
        """Nothing at registration: the properties above build each schema on first use."""

    jf_entity: Any = None  # the spec entity, set by the generator

    # ------------------------------------------------------------------ the boundary
    def _presenter(self) -> Any:
        return present_mod.current()

    def _parser(self) -> parse.ListParser:
        found = self.__dict__.get("_jf_parser")
        if found is None:
            from flask import current_app

            found = parse.ListParser(current_app.extensions["jiefen"].spec, self.jf_entity,
                                     self._filters.get_search_filters(), self.order_columns or (),
                                     self.max_page_size or MAX_API_PAGE_SIZE)
            self.__dict__["_jf_parser"] = found
        return found

    def _record(self, item: Any, columns: Any = None) -> dict[str, Any]:
        record = self._presenter().api_record(self.jf_entity.name, item, columns or self.show_columns)
        full = dict(record, id=item.id)
        self.present_records([full])
        return {k: full[k] for k in record}

    def present_records(self, records: list[dict[str, Any]]) -> None:
        """Extension point called with every batch of records the API sends (each with its ``id``):
        a subclass fills in what the presenter leaves as stored (the files of app/files)."""

    def _get_item(self, pk: Any) -> Any:
        """The record ``pk`` if it exists and lies in the caller's scope (one answer for both)."""
        number = parse.record_id(pk)
        return None if number is None else self.datamodel.get(number, self._base_filters)

    # ------------------------------------------------------------------ reads
    def get_list_headless(self, **kwargs: Any) -> Any:
        args = kwargs.get("rison", {})
        presenter = self._presenter()
        viewer = presenter.viewer()
        try:
            q = self._parser().rest(args, viewer, self.list_columns, tuple(self.base_order or ("", "")),
                                    self.page_size)
        except parse.BadQuery as exc:
            return self.response_400(message=str(exc))
        response: dict[str, Any] = {}
        self.set_response_key_mappings(response, self.get_list, args,
                                       **{API_SELECT_COLUMNS_RIS_KEY: list(q.columns)
                                          if tuple(q.columns) != tuple(self.list_columns) else []})
        filters = parse.apply(self._filters, q).get_joined_filters(self._base_filters)
        count, items = self.datamodel.query(filters, q.order_column, q.order_direction, page=q.page,
                                            page_size=q.page_size)
        name = self.jf_entity.name
        response["result"] = [presenter.api_record(name, item, q.columns, viewer) for item in items]
        self.present_records(response["result"])
        response["ids"] = [item.id for item in items]
        response["count"] = count
        return self.response(200, **response)

    def get_headless(self, pk: Any, **kwargs: Any) -> Any:
        args = kwargs.get("rison", {})
        wanted = args.get("columns") or args.get("select_columns") or []
        unknown = [c for c in wanted if c not in self.show_columns]
        if unknown:
            return self.response_400(message="没有这些列：" + "、".join(map(str, unknown))
                                     + " / no such columns: " + ", ".join(map(str, unknown)))
        item = self._get_item(pk)
        if item is None:
            return self.response_404()
        columns = [c for c in self.show_columns if c in wanted] if wanted else list(self.show_columns)
        response: dict[str, Any] = {}
        self.set_response_key_mappings(response, self.get, args,
                                       **{API_SELECT_COLUMNS_RIS_KEY: columns if wanted else []})
        response["id"] = item.id
        response["result"] = self._record(item, columns)
        return self.response(200, **response)

    # The three read endpoints with FAB's decorators, but ``rison_args`` for FAB's ``@rison``.
    @expose("/", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @rison_args(get_list_schema)
    @merge_response_func(ModelRestApi.merge_order_columns, API_ORDER_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_label_columns, API_LABEL_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_description_columns, API_DESCRIPTION_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_columns, API_LIST_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_list_title, API_LIST_TITLE_RIS_KEY)
    def get_list(self, **kwargs: Any) -> Any:
        return self.get_list_headless(**kwargs)

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @safe
    @permission_name("get")
    @rison_args(get_item_schema)
    @merge_response_func(ModelRestApi.merge_show_label_columns, API_LABEL_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_show_columns, API_SHOW_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_description_columns, API_DESCRIPTION_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_show_title, API_SHOW_TITLE_RIS_KEY)
    def get(self, pk: Any, **kwargs: Any) -> Any:
        return self.get_headless(pk, **kwargs)

    @expose("/_info", methods=["GET"])
    @protect()
    @safe
    @rison_args(get_info_schema)
    @permission_name("info")
    @merge_response_func(ModelRestApi.merge_current_user_permissions, API_PERMISSIONS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_add_field_info, API_ADD_COLUMNS_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_edit_field_info, API_EDIT_COLUMNS_RIS_KEY)
    @merge_response_func(lambda self, response, **kw: self.merge_search_filters(response, **kw),
                         API_FILTERS_RIS_KEY)  # ours: no filter on personal data seen masked
    @merge_response_func(ModelRestApi.merge_add_title, API_ADD_TITLE_RIS_KEY)
    @merge_response_func(ModelRestApi.merge_edit_title, API_EDIT_TITLE_RIS_KEY)
    def info(self, **kwargs: Any) -> Any:
        return self.info_headless(**kwargs)

    get_list.__doc__ = ModelRestApi.get_list.__doc__
    get.__doc__ = ModelRestApi.get.__doc__
    info.__doc__ = ModelRestApi.info.__doc__

    def merge_search_filters(self, response: dict[str, Any], **kwargs: Any) -> None:
        """``_info``'s filters: only those this viewer may use (no personal data seen masked)."""
        super().merge_search_filters(response, **kwargs)
        viewer = self._presenter().viewer()
        ent = self.jf_entity
        for col in list(response.get("filters", {})):
            f = ent.fields.get(col)
            if f is not None and f.pii and not viewer.sees(ent.name, col):
                del response["filters"][col]

    def _sanitize_page_args(self, page: Any, page_size: Any) -> Any:
        """``_info``'s picker pages: whole numbers within bounds (a huge one overflowed the driver)."""
        page = page if isinstance(page, int) and 0 <= page <= parse.MAX_PAGE else 0
        return super()._sanitize_page_args(page, page_size if isinstance(page_size, int) else None)

    # ------------------------------------------------------------------ writes
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

    def _body(self) -> Any:
        """The JSON body through the parser; a ``Response`` when it is refused."""
        if not request.is_json:
            return self.response_400(message="请求内容必须是 JSON / Request is not JSON")
        try:
            body = parse.payload(request.get_json(silent=True))
        except parse.BadQuery as exc:
            return self.response_400(message=str(exc))
        bad = sorted(k for k in body if k in access_mod.SERVER_COLUMNS)
        if bad:
            return self.response_400(message=SERVER_SET + ", ".join(bad))
        return body

    def post_headless(self) -> Any:
        from marshmallow import ValidationError

        body = self._body()
        if not isinstance(body, dict):
            return body
        session = self.datamodel.session
        try:
            item = self.add_model_schema.load(body)
        except ValidationError as err:
            session.rollback()
            return self.response_422(message=err.messages)
        try:
            self.pre_add(item)
            self.datamodel.add(item)
            self.post_add(item)
        except IntegrityError:
            session.rollback()
            return self.response_422(message=INTEGRITY_MESSAGE)
        except access_mod.AccessRefused as exc:
            session.rollback()
            return self.response_404() if exc.status == 404 else self.response(exc.status, message=str(exc))
        return self.response(201, result=self._record(item), id=item.id)

    def put_headless(self, pk: Any) -> Any:
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

        item = self._get_item(pk)
        if not item:
            return self.response_404()
        body = self._body()
        if not isinstance(body, dict):
            return body
        session = self.datamodel.session
        try:
            with session.no_autoflush:
                data = self._merge_update_item(item, body)
                item = self.edit_model_schema.load(data, instance=item)
        except ValidationError as err:
            session.rollback()
            return self.response_422(message=err.messages)
        self.pre_update(item)
        self.datamodel.edit(item)
        self.post_update(item)
        return self.response(200, result=self._record(item))

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

        item = self._get_item(pk)
        if item is None:
            return self.response_404()
        fields = reveal_record(self.jf_entity, item)
        if not fields:
            return self.response_403()
        return self.response(200, result=masking.clear_values(self.jf_entity, fields, item))

    def delete_headless(self, pk: Any) -> Any:
        if parse.record_id(pk) is None:
            return self.response_404()
        return self._guarded("delete_headless", pk)
