"""Settings from the environment, with safe defaults and the production refusals.

    DATABASE_URL   default: SQLite file at <project>/var/jiefen.db (absolute: Flask-SQLAlchemy
                   would otherwise resolve a relative path against instance/, fab5-notes gotcha 11)
    SECRET_KEY     required in production; a per-checkout development key otherwise
    APP_ENV        development (default) | production
    CONFIG_DIR     default: <project>/config
    DEMO_PASSWORD  password of the demo accounts (default Demo@2026)
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


def flask_config() -> dict[str, Any]:
    """The Flask/FAB configuration for this process."""
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
        "DEBUG": os.environ.get("FLASK_DEBUG", "") in ("1", "true"),
        "SCHEMA_SYNC": True,
    }


def production_problems(config: dict[str, Any], has_demo_accounts: bool) -> list[str]:
    """Why this configuration must not serve production traffic (empty when it may)."""
    if config.get("APP_ENV") != "production":
        return []
    problems = []
    if config.get("SECRET_KEY") in (None, "", DEV_SECRET) or len(str(config.get("SECRET_KEY"))) < 32:
        problems.append("SECRET_KEY 未设置或过短（至少 32 个字符）/ SECRET_KEY missing or shorter than 32 characters")
    if config.get("DEBUG"):
        problems.append("生产环境不得开启调试模式 / debug mode is on")
    if has_demo_accounts:
        problems.append("数据库中存在演示账号，请先删除 / demo accounts exist in the database")
    return problems
