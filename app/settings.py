"""Settings from the environment, with safe defaults and the production refusals.

    DATABASE_URL   default: SQLite file at <project>/var/jiefen.db (absolute: Flask-SQLAlchemy
                   would otherwise resolve a relative path against instance/, fab5-notes gotcha 11)
    SECRET_KEY     required in production (32+ characters); without it, outside production, a random
                   key generated once per checkout into var/secret_key (mode 0600, git-ignored) and
                   shared by every process of that checkout.  The app never signs with a constant.
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

Security settings (app/hardening/): login throttling (``login_limits``: per account
LOGIN_MAX_FAILURES, LOGIN_FAILURE_WINDOW_MINUTES, LOGIN_LOCKOUT_MINUTES; per client address
LOGIN_ADDRESS_MAX_FAILURES, LOGIN_ADDRESS_WINDOW_MINUTES; LOGIN_KNOWN_ADDRESS_DAYS), cookies
HttpOnly + SameSite=Lax always and Secure in production (session and remember-me), and the
password policy (FAB_PASSWORD_COMPLEXITY_*).

    REDIS_URL        redis://host:6379/0: the per-address login counters live there, shared by every
                     worker and host (Flask-Limiter storage); unset: in each process's memory
    TRUSTED_PROXIES  number of reverse proxies in front of the app (default 0): the client address
                     (and scheme) are then read from their X-Forwarded-For / X-Forwarded-Proto

Every setting read here is listed, with its default, in .env.example.
"""

from __future__ import annotations

import datetime
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var"
# The constant development key of versions before issue #11: refused wherever it shows up.
DEV_SECRET = "jiefen-development-only-secret-key-change-me-0000"
SECRET_FILE = "secret_key"
DEFAULT_DEMO_PASSWORD = "Demo@2026"


def database_url() -> str:
    """DATABASE_URL (``postgres://``/``postgresql://`` made psycopg 3's), else the config's SQLite file:
    ``var/jiefen.db`` for ``config/``, ``var/<name>.db`` for another CONFIG_DIR (generator/baseline.py,
    which ``generator check/plan/apply`` use too)."""
    from generator.baseline import default_database_url

    return default_database_url(os.environ.get("CONFIG_DIR") or str(ROOT / "config"))


def checkout_secret(folder: Path) -> str:
    """The key in ``folder/secret_key``, generated (random, mode 0600) the first time.

    Written to a private temporary file and hard-linked into place, so two processes starting at
    once never read a half-written key: one link wins and both read the winner's key.
    """
    path = folder / SECRET_FILE
    try:
        key = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        key = ""
    if key:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return key
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".secret_key.", dir=folder)  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won: use its key
    finally:
        os.unlink(tmp)
    return path.read_text(encoding="ascii").strip()


def secret_key(env: str) -> str:
    """SECRET_KEY from the environment; outside production the checkout's own key; else ""."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key or env == "production":
        return key
    return checkout_secret(VAR)


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


def _number(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def app_env(override: Any = None) -> str:
    return str(override or os.environ.get("APP_ENV") or "development")


def login_limits() -> dict[str, float]:
    """The login throttling limits (app/hardening/throttle.py), from the environment."""
    return {
        "LOGIN_MAX_FAILURES": _number("LOGIN_MAX_FAILURES", 5),
        "LOGIN_FAILURE_WINDOW_MINUTES": _number("LOGIN_FAILURE_WINDOW_MINUTES", 15),
        "LOGIN_LOCKOUT_MINUTES": _number("LOGIN_LOCKOUT_MINUTES", 15),
        "LOGIN_ADDRESS_MAX_FAILURES": _number("LOGIN_ADDRESS_MAX_FAILURES", 20),
        "LOGIN_ADDRESS_WINDOW_MINUTES": _number("LOGIN_ADDRESS_WINDOW_MINUTES", 10),
        "LOGIN_KNOWN_ADDRESS_DAYS": _number("LOGIN_KNOWN_ADDRESS_DAYS", 30),
    }


def limiter_config() -> dict[str, Any]:
    """Flask-Limiter (FAB's ``sm.limiter``): Redis when REDIS_URL is set, else this process's memory."""
    redis_url = os.environ.get("REDIS_URL", "").strip()
    return {
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # a Redis that does not answer must not hang the login: the per-address limit then
        # fails open (logged) and the per-account lock, in the database, still holds
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2} if redis_url else {},
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "").strip() or "jiefen",
    }


def flask_config(env: Any = None) -> dict[str, Any]:
    """The Flask/FAB configuration for this process; ``env`` overrides ``APP_ENV`` (create_app passes
    its ``APP_ENV`` override, so production-only settings such as Secure cookies follow it)."""
    from .hardening.passwords import validate as password_policy

    env = app_env(env)
    return {
        "APP_ENV": env,
        "APP_NAME": "解纷",  # the county's name comes from entities.yaml (site.title), app/__init__.py
        "SECRET_KEY": secret_key(env),
        "SQLALCHEMY_DATABASE_URI": database_url(),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "CONFIG_DIR": os.environ.get("CONFIG_DIR") or str(ROOT / "config"),
        # Times shown to people (the audit trail is stored in UTC): the county's zone.
        "TIME_ZONE": os.environ.get("TIME_ZONE") or "Asia/Shanghai",
        "AUTH_TYPE": 1,  # AUTH_DB
        "FAB_SECURITY_MANAGER_CLASS": "app.accounts.security.JiefenSecurityManager",
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
        # A refresh token ends with the login it belongs to, like a browser session (hardening/tokens.py).
        "JWT_REFRESH_TOKEN_EXPIRES": datetime.timedelta(hours=_number("SESSION_MAX_HOURS", 12)),
        **login_limits(),
        **limiter_config(),
        "TRUSTED_PROXIES": int(_number("TRUSTED_PROXIES", 0)),
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
