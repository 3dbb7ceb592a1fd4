"""``flask --app app check-deploy``: every setting that is unsafe for production, Django-style ids.

Errors (exit status 1):

    deploy.E001  APP_ENV is not "production"
    deploy.E002  SECRET_KEY missing, the development default, or shorter than 32 characters
    deploy.E003  DEBUG on
    deploy.E004  demo accounts in the database
    deploy.E005  session or remember-me cookie without Secure / HttpOnly / SameSite
    deploy.E006  the Public (anonymous) role holds permissions
    deploy.E007  CSRF protection off

Warnings (reported, exit status 0 if there is nothing else):

    deploy.W001  SQLite database in production (one writer at a time; use PostgreSQL)
    deploy.W002  no REDIS_URL: each worker process counts failed logins per address on its own

E002–E004 are the same checks that make ``create_app`` refuse to start in production
(``settings.production_checks``); ``check-deploy`` is allowed to start anyway so it can list them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask

from .. import settings


@dataclass(frozen=True)
class Finding:
    id: str
    message: str

    @property
    def is_error(self) -> bool:
        return ".E" in self.id


def public_permissions(app: Flask) -> list[str]:
    sm = app.appbuilder.sm  # type: ignore[attr-defined]
    role = sm.find_role(sm.auth_role_public)
    if role is None:
        return []
    return sorted(f"{pv.permission.name} on {pv.view_menu.name}" for pv in role.permissions)


def findings(app: Flask) -> list[Finding]:
    """What is unsafe in this app's configuration and database (needs an app context)."""
    config: Any = app.config
    out: list[Finding] = []
    if config.get("APP_ENV") != "production":
        out.append(Finding("deploy.E001", f"APP_ENV 不是 production（当前 {config.get('APP_ENV')!r}）"
                                          f" / APP_ENV is not production"))
    session = app.appbuilder.sm.session  # type: ignore[attr-defined]
    has_demo = app.extensions["jiefen"].has_demo_accounts(session)
    out += [Finding(i, m) for i, m in settings.production_checks(config, has_demo)]
    cookies = []
    for prefix in ("SESSION_COOKIE", "REMEMBER_COOKIE"):
        if not config.get(f"{prefix}_SECURE"):
            cookies.append(f"{prefix}_SECURE")
        if not config.get(f"{prefix}_HTTPONLY", True):
            cookies.append(f"{prefix}_HTTPONLY")
        if str(config.get(f"{prefix}_SAMESITE") or "").lower() not in ("lax", "strict"):
            cookies.append(f"{prefix}_SAMESITE")
    if cookies:
        out.append(Finding("deploy.E005", "Cookie 安全属性未开启 / cookie flags off: " + ", ".join(cookies)))
    granted = public_permissions(app)
    if granted:
        out.append(Finding("deploy.E006", f"匿名角色 {app.appbuilder.sm.auth_role_public} 拥有权限 / the public "  # type: ignore[attr-defined]
                                          f"role holds permissions: " + "; ".join(granted[:10])
                                          + (" …" if len(granted) > 10 else "")))
    if not config.get("WTF_CSRF_ENABLED", True):
        out.append(Finding("deploy.E007", "CSRF 保护已关闭 / CSRF protection is off (WTF_CSRF_ENABLED)"))
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        out.append(Finding("deploy.W001", "生产环境使用 SQLite（仅单写入者），建议 PostgreSQL / SQLite database in "
                                          "production: use PostgreSQL"))
    if not config.get("REDIS_URL") and str(config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory"):
        out.append(Finding("deploy.W002", "未设置 REDIS_URL：按网络地址的登录限流由每个工作进程各自计数 / no REDIS_URL: "
                                          "each worker counts failed logins per address on its own"))
    return out
