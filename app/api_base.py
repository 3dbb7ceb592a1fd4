"""The base class of every generated REST API.

FAB answers a database integrity error on POST/PUT/DELETE (a duplicate unique value, a
row still referenced) with a generic 500.  Bad input is never a server error here: the
transaction is rolled back and the client gets 422 with a message it can act on.
"""

from __future__ import annotations

from typing import Any

from flask_appbuilder import ModelRestApi
from sqlalchemy.exc import IntegrityError

INTEGRITY_MESSAGE = "数据冲突：与已有记录重复，或仍被其他记录引用 / conflict: duplicates an existing record or is still referenced"


class JiefenModelApi(ModelRestApi):
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
