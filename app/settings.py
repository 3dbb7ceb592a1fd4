"""Settings from the environment, with safe defaults and the production refusals.

    DATABASE_URL   default: SQLite file at <project>/var/jiefen.db (absolute: Flask-SQLAlchemy
                   would otherwise resolve a relative path against instance/, fab5-notes gotcha 11)
    SECRET_KEY     required in production; a per-checkout development key otherwise
    APP_ENV        development (default) | production
    CONFIG_DIR     default: <project>/config
    DEMO_PASSWORD  password of the demo accounts (default Demo@2026)
    IDLE_TIMEOUT_MINUTES  a signed-in session idle this long must sign in again (default 30)
    SESSION_MAX_HOURS     ... and any session this old (default 12)
    AUDIT_RETENTION_DAYS  audit rows older than this are deleted by `flask purge-audit` (default and
                          minimum 180)
    UPLOAD_DIR            where uploaded files are stored (default <project>/var/uploads); every app
                          process must see the same directory
    FILE_MAX_REQUEST_MB   a request carrying files larger than this is refused from its Content-Length
                          (default 64)

Security settings (app/hardening/): login lockout (LOGIN_MAX_FAILURES, LOGIN_FAILURE_WINDOW_MINUTES,
LOGIN_LOCKOUT_MINUTES), cookies HttpOnly + SameSite=Lax always and Secure in production (session
and remember-me), and the password policy (FAB_PASSWORD_COMPLEXITY_*).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
DEV_SECRET = "jiefen-development-only-secret-key-change-me-0000"
DEFAULT_DEMO_PASSWORD = "Demo@2026"


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url.startswith("postgres://"):  # the old Heroku-style scheme SQLAlchemy no longer accepts
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url or f"sqlite:///{VAR / 'jiefen.db'}"


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


def _number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def flask_config() -> dict[str, Any]:
    """The Flask/FAB configuration for this process."""
    from .hardening.passwords import validate as password_policy

    env = os.environ.get("APP_ENV", "development")
    return {
        "APP_ENV": env,
        "APP_NAME": "解纷 · 阳新县劳动争议多元化解平台",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or DEV_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "CONFIG_DIR": os.environ.get("CONFIG_DIR") or str(ROOT / "config"),
        "AUTH_TYPE": 1,  # AUTH_DB
        "FAB_SECURITY_MANAGER_CLASS": "app.security.JiefenSecurityManager",
        "AUTH_ROLE_ADMIN": "Admin",
        "AUTH_ROLE_PUBLIC": "Public",
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_FOLDER": "translations",
        "LANGUAGES": {"zh": {"flag": "cn", "name": "简体中文"}, "en": {"flag": "gb", "name": "English"}},
        "FAB_API_SWAGGER_UI": True,
        "FAB_ADD_SECURITY_PERMISSION_VIEW": False,
        "FAB_ADD_SECURITY_VIEW_MENU_VIEW": False,
        "FAB_ADD_SECURITY_PERMISSION_VIEWS_VIEW": False,
        # Web workers never sync permissions (O(n²), racy across workers): `flask setup` does it once.
        "FAB_UPDATE_PERMS": False,
        "FAB_API_MAX_PAGE_SIZE": 100,
        "WTF_CSRF_ENABLED": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "IDLE_TIMEOUT_MINUTES": _number("IDLE_TIMEOUT_MINUTES", 30),
        "SESSION_MAX_HOURS": _number("SESSION_MAX_HOURS", 12),
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_FAILURE_WINDOW_MINUTES": 15,
        "LOGIN_LOCKOUT_MINUTES": 15,
        "FAB_PASSWORD_COMPLEXITY_ENABLED": True,
        "FAB_PASSWORD_COMPLEXITY_VALIDATOR": password_policy,
        "DEBUG": os.environ.get("FLASK_DEBUG", "") in ("1", "true"),
        "SCHEMA_SYNC": True,
        "AUDIT_RETENTION_DAYS": int(_number("AUDIT_RETENTION_DAYS", 180)),
        "FILE_MAX_REQUEST_MB": int(_number("FILE_MAX_REQUEST_MB", 64)),
    }


def production_checks(config: dict[str, Any], has_demo_accounts: bool) -> list[tuple[str, str]]:
    """(check id, message) for each setting unsafe in production, whatever APP_ENV says."""
    problems = []
    if config.get("SECRET_KEY") in (None, "", DEV_SECRET) or len(str(config.get("SECRET_KEY"))) < 32:
        problems.append(("deploy.E002",
                         "SECRET_KEY 未设置或过短（至少 32 个字符）/ SECRET_KEY missing or shorter than 32 characters"))
    if config.get("DEBUG"):
        problems.append(("deploy.E003", "生产环境不得开启调试模式 / debug mode is on"))
    if has_demo_accounts:
        problems.append(("deploy.E004", "数据库中存在演示账号，请先删除 / demo accounts exist in the database"))
    return problems


def production_problems(config: dict[str, Any], has_demo_accounts: bool) -> list[str]:
    """Why this configuration must not serve production traffic (empty when it may)."""
    if config.get("APP_ENV") != "production":
        return []
    return [message for _id, message in production_checks(config, has_demo_accounts)]
