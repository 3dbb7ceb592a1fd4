"""The Jiefen web app: ``create_app()`` builds everything from the compiled config.

    config/*.yaml → generator.load → AppSpec → models (once per base) → schema sync
                  → FAB views + REST APIs + menus → Flask app

The app never reads YAML itself: it receives a typed ``AppSpec`` from the
generator.  A config with errors refuses to start and prints the located
errors, exactly as ``python -m generator check`` would.
"""

from __future__ import annotations

import gc
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic collector while start-up allocates objects that all stay alive.

    Importing FAB/SQLAlchemy and building ~40 models, 80 view/API classes and ~560 URL rules
    allocate about half a million tracked objects and almost no garbage; with the collector on,
    each full collection rescans all of them (five of them cost about 0.5 s of a 1.3 s start).
    The collector is restored afterwards (it was already on, or the caller had turned it off).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


with _gc_paused():
    from flask import Flask, abort, current_app, request
    from flask_appbuilder import AppBuilder
    from flask_appbuilder.models.sqla.base import SQLA
    from flask_wtf.csrf import CSRFProtect

    from generator.speccache import load_cached
    from generator.builders.views import L, build_views
    from generator.spec import AppSpec

    from app import settings, stamps
    from app.audit import listener as audit_listener
    from .registry import Registry, registry_for
    from app.ui.routing import LazyBuilderRule

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


from app.lifecycle.codes import Refused  # noqa: E402  (click only: cheap)


class ConfigInvalid(Refused):
    """The YAML config has errors: one coded line (E716), then each error with file:line:col."""

    def __init__(self, lines: tuple[str, ...]) -> None:
        super().__init__("E716", "配置有错误，系统未启动：先按 python -m generator check 的提示修改",
                         "the config has errors; fix what python -m generator check reports", lines)


class ProductionRefused(Refused):
    """APP_ENV=production with an unsafe setting; the message lists each one (``flask`` prints it, no traceback)."""

    def __init__(self, message: str) -> None:
        import click

        click.ClickException.__init__(self, message)
        self.code, self.zh, self.en, self.details = "", message, "", ()


def compile_config(config_dir: str) -> AppSpec:
    result = load_cached(config_dir)  # the compile, or its cached clean result
    if not result.ok or result.spec is None:
        raise ConfigInvalid(tuple(e.render() for e in result.errors if not e.is_warning))
    return result.spec


def create_app(overrides: Optional[dict[str, Any]] = None, spec: Optional[AppSpec] = None) -> Flask:
    """Build the app. ``overrides`` update the settings (tests use them); ``spec`` skips compiling."""
    with _gc_paused():
        return _create_app(overrides, spec)


def _create_app(overrides: Optional[dict[str, Any]], spec: Optional[AppSpec]) -> Flask:
    app = Flask(__name__, root_path=str(HERE), static_folder="static", template_folder="templates")
    app.url_rule_class = LazyBuilderRule  # URL builders compiled on first url_for (routing.py)
    app.config.update(settings.flask_config((overrides or {}).get("APP_ENV")))
    app.config.update(overrides or {})
    spec = spec or compile_config(app.config["CONFIG_DIR"])
    # The role marked `admin: true` in roles.yaml is FAB's administrator role (all permissions).
    admin_role = next((r.name for r in spec.roles.values() if r.admin), None)
    if admin_role and not (overrides or {}).get("AUTH_ROLE_ADMIN"):
        app.config["AUTH_ROLE_ADMIN"] = admin_role
    if spec.site and not (overrides or {}).get("APP_NAME"):
        app.config["APP_NAME"] = spec.site.title.zh  # entities.yaml site.title: the county's platform
    reg = registry_for(spec)
    app.extensions["jiefen"] = reg

    db = SQLA()
    db.init_app(app)
    CSRFProtect().init_app(app)  # before the APIs are added (fab5-notes gotcha 10)
    with app.app_context():
        from app.ui.home import JiefenIndexView

        appbuilder = AppBuilder(indexview=JiefenIndexView, update_perms=bool(app.config.get("FAB_UPDATE_PERMS")))
        appbuilder.init_app(app, db.session)
        appbuilder.sm.create_db()
        if app.config.get("SCHEMA_SYNC", True) and app.config.get("APP_ENV") == "production" and _maintenance_command():
            pass  # `flask setup` decides itself (a new database only); check-deploy only reports
        elif app.config.get("SCHEMA_SYNC", True):
            if app.config.get("APP_ENV") == "production":
                # Unsafe settings are named first (they need no schema); then the schema must match.
                early = settings.production_problems(app.config, False)
                if early and not _checking_deploy() and not app.config.get("JIEFEN_MAINTENANCE"):
                    raise ProductionRefused("生产环境拒绝启动 / refusing to start in production:\n- " + "\n- ".join(early))
                reg.require_schema(db.engine)  # production never changes the schema at start-up (E720)
            else:
                reg.sync_schema(db.engine)
        stamps.install(db.session)
        from app.access.install import install as install_boundary

        install_boundary(app, reg, appbuilder.sm.user_model)
        audit_listener.install(db.session)
        from app.files import service as file_service

        file_service.install(db.session)  # files are written with their record's flush (app/files)
        _register(appbuilder, spec, reg)
        refusals = settings.production_problems(app.config, reg.has_demo_accounts(db.session))
        if refusals and not _checking_deploy() and not app.config.get("JIEFEN_MAINTENANCE"):
            raise ProductionRefused("生产环境拒绝启动 / refusing to start in production:\n- " + "\n- ".join(refusals))
    from app.ui import jinja_i18n
    from app.ui.navbar import navbar_menu

    jinja_i18n.install(app)
    app.jinja_env.globals["jf_navbar_menu"] = navbar_menu
    app.before_request(_no_fab_file_downloads)
    from app.files.forms import refused_status

    app.after_request(refused_status)  # a form refused for its upload answers 413/415
    from app.audit import denials

    denials.install(app)
    from app.ui import requests as bad_requests

    bad_requests.install(app)
    from . import hardening

    hardening.install(app)  # sessions, lockout, headers, CSRF origin check, error pages
    from .cli import register_cli

    register_cli(app)
    return app


def _maintenance_command() -> bool:
    """``flask setup`` / ``check-deploy``: they load the app to do (or report) what a start must not."""
    import os
    import sys

    return os.path.basename(sys.argv[0]) in ("flask", "flask.exe", "__main__.py") and \
        any(a in ("setup", "check-deploy") for a in sys.argv[1:])


def _checking_deploy() -> bool:
    """``flask check-deploy`` must start in order to list what would make production refuse."""
    import os
    import sys

    return os.path.basename(sys.argv[0]) in ("flask", "flask.exe", "__main__.py") and "check-deploy" in sys.argv[1:]


def _no_fab_file_downloads() -> None:
    """FAB's own views (users, roles, groups) keep a /download/<filename> route that serves any
    file in UPLOAD_FOLDER by name, outside every row check: answer it like a missing page."""
    if request.endpoint and request.endpoint.endswith(".download"):
        abort(404)


def _register(appbuilder: AppBuilder, spec: AppSpec, reg: Registry) -> None:
    classes = build_views(spec, reg.models, reg.hooks(current_app.extensions["jiefen_presenter"]))
    menus = sorted(spec.menus.values(), key=lambda m: (m.order, m.name))
    for menu in menus:
        category = "Security" if menu.name == "system" else menu.name
        for ent in sorted((e for e in spec.entities.values() if e.menu == menu.name), key=lambda e: e.order):
            view, api = classes[ent.name]
            appbuilder.add_view(view, f"menu_{ent.name}", label=L(ent.label), category=category,
                                category_label=L(menu.label), icon="fa-table", category_icon=menu.icon or "")
            appbuilder.add_api(api)
    from app.audit import views as audit_views

    audit_views.register(appbuilder, reg)
    from app.lifecycle import views as config_history

    config_history.register(appbuilder)  # 系统管理 → 配置历史 (grants.system: config_history)
    from app.ui import history

    history.install(current_app._get_current_object())
    if reg.workflow is not None:
        from .workflow import api as workflow_api

        workflow_api.register(appbuilder)
        from .workflow import views as workflow_views

        workflow_views.register(appbuilder, reg)  # case panel, 待我处理, overdue, funnel, diagram
    from . import checklists

    checklists.register(appbuilder, reg)  # 五有达标 pages (issue #6)
    _system_menu_last(appbuilder, spec)


def _system_menu_last(appbuilder: AppBuilder, spec: AppSpec) -> None:
    """FAB registers its Security group first; it is our 系统管理 group and belongs at the end."""
    items = appbuilder.menu.menu
    security = next((m for m in items if m.name == "Security"), None)
    if security is None:
        return
    items.remove(security)
    items.append(security)
    if "system" in spec.menus:
        security.label = L(spec.menus["system"].label)
        security.icon = spec.menus["system"].icon or security.icon
