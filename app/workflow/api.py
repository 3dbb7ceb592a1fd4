"""REST endpoints of the case workflow (a FAB ``BaseApi``; JWT or the session cookie).

    GET  /api/v1/dispute_case/<id>/transitions          {"result": {"state", "version", "actions": [...]}}
    POST /api/v1/dispute_case/<id>/transitions/<name>   body {"version": int, "comment"?: str,
                                                              "data"?: {"fields"?: {...}, ...}}
                                                         200 {"result": TransitionResult}
    GET  /api/v1/dispute_case/<id>/history              {"result": [timeline rows, oldest first]}
    GET  /api/v1/dispute_case/<id>/deadlines            {"result": {"deadlines": [...], "warnings": [...],
                                                                    "extensions": [...]}}
    POST /api/v1/dispute_case/<id>/deadlines/<name>/extensions   body {"days": int, "reason": str}
    GET  /api/v1/workflow/inbox?limit=&offset=          {"result": inbox(...)}
    GET  /api/v1/workflow/overdue?limit=&offset=        {"result": overdue(...)}
    GET  /api/v1/workflow/funnel                        {"result": funnel(...)}

Errors: ``{"message", "error", "missing"?}`` with 400 (not JSON), 403 (role), 404 (no case / out of
scope / no transition), 409 (version or state), 422 (requirements, with every missing item).

FAB's ``@protect`` checks ``can_read`` on ``dispute_case`` (the permission roles.yaml grants for
reading cases); the engine then checks the transition grant, the scope and everything else.  The
blueprint is CSRF-exempt like every FAB API; cookie-authenticated writes pass the Origin check of
app/hardening/headers.py before any view runs.
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_appbuilder.api import BaseApi
from flask_appbuilder.api import expose, safe
from flask_appbuilder.security.decorators import permission_name, protect

from app.access import rules as access_mod
from app.ui.model_api import IncidentMixin
from . import deadlines as dl
from . import engine, queries
from .common import BadInput, WorkflowError


def _principal() -> Any:
    acc = access_mod.current()
    return acc.principal() if acc is not None else None


def _session() -> Any:
    from flask import current_app

    return current_app.appbuilder.sm.session


def _int_arg(name: str, default: int, hi: int) -> int:
    try:
        return max(0, min(hi, int(request.args.get(name, default))))
    except (TypeError, ValueError):
        return default


class _Base(IncidentMixin, BaseApi):
    allow_browser_login = True
    class_permission_name = "dispute_case"
    # The generated screens and API of dispute_case share this permission set; FAB prunes any
    # permission of a view that one of its classes lacks, so this class declares the same set.
    base_permissions = ["can_read", "can_create", "can_update", "can_delete", "can_export"]
    openapi_spec_tag = "Case workflow"

    def _fail(self, exc: WorkflowError) -> Any:
        return self.response(exc.status, **exc.as_dict())


class CaseWorkflowApi(_Base):
    resource_name = "dispute_case"
    method_permission_name = {"transitions": "read", "perform": "read", "history": "read",
                              "deadlines": "read", "extend": "read"}

    @expose("/<int:pk>/transitions", methods=["GET"])
    @protect()
    @safe
    @permission_name("read")
    def transitions(self, pk: int) -> Any:
        """The actions the user may take on the case now, each with what it still lacks."""
        session = _session()
        try:
            p = _principal()
            case = engine.readable_case(session, pk, p)
            return self.response(200, result={"case_id": pk, "state": case.state, "version": case.version,
                                              "actions": engine.available(session, case, p)})
        except WorkflowError as exc:
            return self._fail(exc)

    @expose("/<int:pk>/transitions/<name>", methods=["POST"])
    @protect()
    @safe
    @permission_name("read")
    def perform(self, pk: int, name: str) -> Any:
        """Take a transition: {"version", "comment"?, "data"?}."""
        session = _session()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response_400(message="请求须为 JSON 对象 / the body must be a JSON object")
        try:
            version = body.get("version")
            if isinstance(version, bool) or not isinstance(version, int):
                raise BadInput("须提供案件版本 version（整数）/ 'version' (an integer) is required")
            data = body.get("data") or {}
            if not isinstance(data, dict):
                raise BadInput("data 须为对象 / 'data' must be an object")
            result = engine.perform(session, pk, name, principal=_principal(), expected_version=version,
                                    comment=body.get("comment"), data=data)
            return self.response(200, result=result.as_dict())
        except WorkflowError as exc:
            return self._fail(exc)

    @expose("/<int:pk>/history", methods=["GET"])
    @protect()
    @safe
    @permission_name("read")
    def history(self, pk: int) -> Any:
        """The case's timeline, oldest first."""
        session = _session()
        try:
            engine.readable_case(session, pk, _principal())
            return self.response(200, result=engine.history(session, pk))
        except WorkflowError as exc:
            return self._fail(exc)

    @expose("/<int:pk>/deadlines", methods=["GET"])
    @protect()
    @safe
    @permission_name("read")
    def deadlines(self, pk: int) -> Any:
        """The case's deadlines recomputed from its history, with calendar warnings."""
        session = _session()
        try:
            engine.readable_case(session, pk, _principal())
            report = dl.case_deadlines(session, pk)
            out = report.as_dict()
            out["extensions"] = dl.extensions_of(session, pk)
            return self.response(200, result=out)
        except WorkflowError as exc:
            return self._fail(exc)

    @expose("/<int:pk>/deadlines/<name>/extensions", methods=["POST"])
    @protect()
    @safe
    @permission_name("read")
    def extend(self, pk: int, name: str) -> Any:
        """Approve an extension: {"days", "reason"}."""
        session = _session()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return self.response_400(message="请求须为 JSON 对象 / the body must be a JSON object")
        try:
            row = dl.extend(session, pk, name, body.get("days"), body.get("reason"), principal=_principal())
            report = dl.case_deadlines(session, pk)
            return self.response(200, result={"extension": row, **report.as_dict()})
        except WorkflowError as exc:
            return self._fail(exc)


class WorkflowListsApi(_Base):
    resource_name = "workflow"
    method_permission_name = {"inbox": "read", "overdue": "read", "funnel": "read"}

    @expose("/inbox", methods=["GET"])
    @protect()
    @safe
    @permission_name("read")
    def inbox(self) -> Any:
        """Cases waiting on my role and organisation, earliest due first."""
        return self.response(200, result=queries.inbox(_session(), _principal(), limit=_int_arg("limit", 50, 500),
                                                       offset=_int_arg("offset", 0, 10 ** 7)))

    @expose("/overdue", methods=["GET"])
    @protect()
    @safe
    @permission_name("read")
    def overdue(self) -> Any:
        """Open deadlines past due on cases I may read."""
        return self.response(200, result=queries.overdue(_session(), _principal(),
                                                         limit=_int_arg("limit", 100, 1000),
                                                         offset=_int_arg("offset", 0, 10 ** 7)))

    @expose("/funnel", methods=["GET"])
    @protect()
    @safe
    @permission_name("read")
    def funnel(self) -> Any:
        """Open cases per level and state; share resolved per tier."""
        return self.response(200, result=queries.funnel(_session(), _principal()))


def register(appbuilder: Any) -> None:
    """Add the workflow APIs (called once by create_app when a workflow exists)."""
    appbuilder.add_api(CaseWorkflowApi)
    appbuilder.add_api(WorkflowListsApi)
