"""``make serve`` (scripts/serve.sh): production settings from .env, check-deploy first, gunicorn with
4 workers; and a lockout and a revoked token that hold across those workers (scripts/check_workers.py,
PostgreSQL + Redis)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.database import postgres_url

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _settings_read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in list((ROOT / "app").rglob("*.py")) + list((ROOT / "generator").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r"""os\.environ\.get\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
        names |= set(re.findall(r"""_number\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
    serve = (ROOT / "scripts" / "serve.sh").read_text(encoding="utf-8")
    names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):-", serve)) - {"BIN"}
    return names


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", example, re.M))
    wanted = _settings_read_by_the_code()
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL", "WORKERS", "LOGIN_ADDRESS_MAX_FAILURES"} <= wanted
    assert wanted <= listed, f".env.example lacks {sorted(wanted - listed)}"
    assert subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT).returncode == 0, ".env must stay out of git"
    assert subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=ROOT).returncode != 0


def test_env_file_fills_in_what_the_environment_leaves_unset(tmp_path: Path) -> None:
    env_file = tmp_path / "settings.env"
    env_file.write_text("# comment\n\nPORT=6001\nexport WORKERS='3'\nSECRET_KEY=\"a b $(touch /tmp/x)\"\n"
                        "DATABASE_URL=sqlite:////x.db\n", encoding="utf-8")
    script = ('source scripts/load-env.sh; printf "%s|%s|%s|%s" "$PORT" "$WORKERS" "$SECRET_KEY" "$DATABASE_URL"')
    env = {"PATH": os.environ["PATH"], "ENV_FILE": str(env_file), "DATABASE_URL": "from-the-environment"}
    out = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout == "6001|3|a b $(touch /tmp/x)|from-the-environment"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_make_serve_refuses_to_start_on_a_check_deploy_error(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_DEBUG", "APP_ENV")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "ENV_FILE": str(tmp_path / "none.env"),
                "BIN": str(BIN), "BIND": f"127.0.0.1:{port}", "UPLOAD_DIR": str(tmp_path / "up"),
                "PYTHONDONTWRITEBYTECODE": "1"})
    out = subprocess.run(["bash", "scripts/serve.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "deploy.E002" in out.stdout and "deploy.E001" not in out.stdout  # production mode, no key
    assert "拒绝启动" in out.stderr and "gunicorn" not in out.stdout
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "something listens: gunicorn must not have started"


def _redis_url() -> str:
    return os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"


def test_lockout_and_revoked_token_hold_across_gunicorn_workers() -> None:
    """scripts/check_workers.py: `make serve` with 4 workers on PostgreSQL + Redis (its docstring)."""
    pg = postgres_url()
    if pg is None:
        pytest.skip("needs PostgreSQL: runs in the PostgreSQL pass (DATABASE_URL=postgresql+psycopg://…)")
    try:
        import redis

        redis.Redis.from_url(_redis_url(), socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"needs Redis at {_redis_url()} (REDIS_URL): {exc}")
    out = subprocess.run([sys.executable, "scripts/check_workers.py", "--database-url", pg, "--redis-url",
                          _redis_url(), "--workers", "4", "--timeout", "400"],
                         cwd=ROOT, capture_output=True, text=True, timeout=450)
    report = out.stdout + out.stderr
    assert out.returncode == 0, report
    assert "OK: the revoked token and the lockouts held on every worker" in out.stdout, report
    assert "gunicorn booted 4 workers" in out.stdout, report
    for phase in ("revoked access + refresh token after logout: 40/40 answered 401",
                  "locked account, right password, 40 addresses: 40/40 answered 429",
                  "address over its limit (21st failure on): 40/40 answered 429"):
        assert phase in out.stdout, report
