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

from flask import has_request_context
from flask_appbuilder import ModelRestApi
from sqlalchemy.exc import IntegrityError

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


class JiefenModelApi(ModelRestApi):
    list_model_schema = _lazy_schema("list_columns", "list_model_schema_name", nested=True)
    show_model_schema = _lazy_schema("show_columns", "show_model_schema_name", nested=True)
    add_model_schema = _lazy_schema("add_columns", "add_model_schema_name", nested=False)
    edit_model_schema = _lazy_schema("edit_columns", "edit_model_schema_name", nested=False)

    def _init_model_schemas(self) -> None:
        """Nothing at registration: the properties above build each schema on first use."""

    def _guarded(self, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(super(), method)(*args, **kwargs)
        except IntegrityError:
            self.datamodel.session.rollback()
            return self.response_422(message=INTEGRITY_MESSAGE)

    def post_headless(self) -> Any:
        return self._guarded("post_headless")

    def put_headless(self, pk: Any) -> Any:
        return self._guarded("put_headless", pk)

    def delete_headless(self, pk: Any) -> Any:
        return self._guarded("delete_headless", pk)
