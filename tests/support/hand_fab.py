"""What a developer would write by hand for the case list with plain Flask-AppBuilder: the yardstick
the generated screens and API are measured against (bench/list_bench.py, the payload test)."""

from __future__ import annotations

from flask import Flask
from flask_appbuilder import ModelRestApi, ModelView
from flask_appbuilder.models.sqla.interface import SQLAInterface


def hand_written(app: Flask) -> tuple[type, type]:
    """A ``ModelView`` and a ``ModelRestApi`` of the case model with the generated list's columns,
    search columns and order (register them before ``setup`` so the admin role gets them)."""
    reg = app.extensions["jiefen"]
    case = reg.models["dispute_case"]
    gen_view = next(v for v in app.appbuilder.baseviews if type(v).__name__ == "DisputeCaseView")
    columns = list(gen_view.list_columns)
    search = list(gen_view.search_columns)
    order = tuple(gen_view.base_order)

    class HandCaseView(ModelView):
        datamodel = SQLAInterface(case)
        list_columns = columns
        search_columns = search
        base_order = order
        page_size = 25
        label_columns = {c: c.replace("_", " ").title() for c in columns}

    class HandCaseApi(ModelRestApi):
        resource_name = "hand_case"
        allow_browser_login = True  # as the generated API: the session cookie is accepted
        datamodel = SQLAInterface(case)
        list_columns = ["id"] + columns
        search_columns = search
        base_order = order
        page_size = 25

    return HandCaseView, HandCaseApi
