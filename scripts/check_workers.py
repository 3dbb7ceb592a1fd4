#!/usr/bin/env python3
"""Show that a login lockout and a revoked token hold across gunicorn workers.

Starts the app exactly as ``make serve`` does (scripts/serve.sh: APP_ENV=production, check-deploy,
gunicorn with 4 workers) on PostgreSQL and Redis, on a free 127.0.0.1 port, then:

1. **revoked token**: logs in over the API (access + refresh token), logs out through one worker,
   then sends 40 requests at once with those tokens (API reads with the access token, refreshes
   with the refresh token): every one must be 401, whichever worker answers;
2. **account lockout**: 5 wrong passwords for one account lock it (database); 40 concurrent logins
   with the RIGHT password from 40 other addresses must all be 429 (the account message);
3. **address limit**: 20 failed logins for random names from one address (Redis); the next 40,
   sent at once, must all be 429 (the address message).  With per-worker counters, workers that
   had seen fewer than 20 would still answer 401.

Each request carries an ``X-JF-Probe`` header and gunicorn's access log records the worker's pid
with it, so the report shows how many workers answered each phase (at least two must have).
Client addresses come through ``X-Forwarded-For`` (TRUSTED_PROXIES=1, as behind nginx).
Everything lives in a throwaway PostgreSQL schema and a random Redis key prefix, removed at the
end; gunicorn is stopped in every case.  Bounded: --timeout seconds in all (default 300).

    .venv/bin/python scripts/check_workers.py [--database-url URL] [--redis-url URL] [--workers 4]

Exit status 0 when everything held, 1 when something did not, 2 when PostgreSQL or Redis is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PASSWORD = "Worker#Check2026"
WRONG = "Wrong#Guess2026"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


class Unavailable(RuntimeError):
    """PostgreSQL or Redis does not answer."""


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self, cap: float = 1e9) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("check_workers: out of time")
        return min(left, cap)


# ---------------------------------------------------------------- services
def normalise(url: str) -> str:
    for old in ("postgres://", "postgresql://"):
        if url.startswith(old):
            return "postgresql+psycopg://" + url[len(old):]
    return url


def check_services(pg_url: str, redis_url: str) -> None:
    try:
        import psycopg

        psycopg.connect(pg_url.replace("+psycopg", ""), connect_timeout=3).close()
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"PostgreSQL does not answer at {pg_url}: {exc}") from exc
    try:
        import redis

        redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as exc:  # noqa: BLE001
        raise Unavailable(f"Redis does not answer at {redis_url}: {exc}") from exc


class Schema:
    """A throwaway PostgreSQL schema; its URL sets the search_path."""

    def __init__(self, base: str) -> None:
        from sqlalchemy import create_engine

        self.name = f"jf_workers_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(base, isolation_level="AUTOCOMMIT")
        sep = "&" if "?" in base else "?"
        self.url = f"{base}{sep}options=-csearch_path%3D{self.name}"

    def __enter__(self) -> "Schema":
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{self.name}"'))
        return self

    def __exit__(self, *exc: Any) -> None:
        from sqlalchemy import text

        with self.admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------- HTTP
def call(base: str, method: str, path: str, probe: str, body: Optional[dict[str, Any]] = None,
         headers: Optional[dict[str, str]] = None, timeout: float = 15) -> tuple[int, dict[str, Any]]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"X-JF-Probe": probe, "Content-Type": "application/json",
                                          **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {"raw": raw[:200].decode(errors="replace")}


def login(base: str, probe: str, username: str, password: str, address: str, refresh: bool = False
          ) -> tuple[int, dict[str, Any]]:
    return call(base, "POST", "/api/v1/security/login", probe,
                {"username": username, "password": password, "provider": "db", "refresh": refresh},
                {"X-Forwarded-For": address})


def at_once(jobs: list[Callable[[], tuple[int, dict[str, Any]]]], threads: int = 8) -> list[tuple[int, dict[str, Any]]]:
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda job: job(), jobs))


def workers_of(access_log: Path, prefix: str) -> Counter:
    """pid → number of requests whose probe starts with ``prefix`` (gunicorn's access log)."""
    seen: Counter = Counter()
    for line in access_log.read_text(errors="replace").splitlines():
        m = re.match(r"^<?(\d+)>? (\d+) (\S+)$", line.strip())
        if m and m.group(3).startswith(prefix):
            seen[m.group(1)] += 1
    return seen


# ---------------------------------------------------------------- the app
def env_for(db_url: str, redis_url: str, prefix: str, port: int, workers: int, access_log: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "GUNICORN_"))}
    env.update({
        "APP_ENV": "production", "SECRET_KEY": secrets.token_urlsafe(48), "DATABASE_URL": db_url,
        "REDIS_URL": redis_url, "RATELIMIT_KEY_PREFIX": prefix, "TRUSTED_PROXIES": "1",
        "WORKERS": str(workers), "BIND": f"127.0.0.1:{port}", "BIN": str(BIN),
        "ENV_FILE": "/nonexistent/.env",  # this check never reads a developer's .env
        "UPLOAD_DIR": str(access_log.parent / "uploads"), "PYTHONDONTWRITEBYTECODE": "1",
        "GUNICORN_CMD_ARGS": f"--access-logfile {access_log} "
                             "--access-logformat '%(p)s %(s)s %({x-jf-probe}i)s' --graceful-timeout 5",
    })
    return env


def run(cmd: list[str], env: dict[str, str], deadline: Deadline) -> str:
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=deadline.left(240))
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out.stdout


def start(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as fh:
        return subprocess.Popen(["bash", "scripts/serve.sh"], cwd=ROOT, env=env, stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_serving(base: str, proc: subprocess.Popen, log: Path, deadline: Deadline) -> None:
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"make serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/login/", timeout=deadline.left(5)) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)  # poll the port until gunicorn answers (bounded by the deadline)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


# ---------------------------------------------------------------- the three checks
def check(base: str, access_log: Path, report: Callable[[str], None]) -> list[str]:
    problems: list[str] = []

    def spread(phase: str, label: str, statuses: list[int], expected: int, need: str = "") -> None:
        pids = workers_of(access_log, phase)
        ok = all(s == expected for s in statuses)
        report(f"{label}: {sum(s == expected for s in statuses)}/{len(statuses)} answered {expected}{need}; "
               f"workers (pid: requests) {dict(sorted(pids.items()))}")
        if not ok:
            problems.append(f"{label}: statuses {Counter(statuses)} (expected all {expected})")
        if len(pids) < 2:
            problems.append(f"{label}: only {len(pids)} worker(s) answered; cannot show sharing")

    # 1. a revoked token
    status, body = login(base, "a-login", "revoked", PASSWORD, "198.51.100.1", refresh=True)
    if status != 200:
        return [f"API login failed: {status} {body}"]
    access = {"Authorization": f"Bearer {body['access_token']}"}
    refresh = {"Authorization": f"Bearer {body['refresh_token']}"}
    warm = at_once([lambda i=i: call(base, "GET", "/api/v1/org/",
                                     f"a-warm-{i}", headers=access) for i in range(16)])
    if any(s != 200 for s, _ in warm):
        return [f"the fresh token was refused before logout: {Counter(s for s, _ in warm)}"]
    status, body = call(base, "POST", "/api/v1/security/logout", "a-logout", headers=access)
    if status != 200:
        return [f"API logout failed: {status} {body}"]
    jobs = [lambda i=i: call(base, "GET", "/api/v1/org/", f"a-revoked-{i}", headers=access) for i in range(20)]
    jobs += [lambda i=i: call(base, "POST", "/api/v1/security/refresh", f"a-revoked-r{i}", headers=refresh)
             for i in range(20)]
    spread("a-revoked", "revoked access + refresh token after logout", [s for s, _ in at_once(jobs)], 401)

    # 2. an account lockout
    for i in range(5):
        status, _ = login(base, f"b-fail-{i}", "lockme", WRONG, "203.0.113.10")
        if status != 401:
            problems.append(f"lockout: failure {i + 1} answered {status}, expected 401")
    results = at_once([lambda i=i: login(base, f"b-locked-{i}", "lockme", PASSWORD, f"203.0.113.{100 + i}")
                       for i in range(40)])
    if not all("锁定" in str(b.get("message", "")) for _s, b in results):
        problems.append("lockout: a 429 without the account-lock message")
    spread("b-locked", "locked account, right password, 40 addresses", [s for s, _ in results], 429)

    # 3. a per-address limit
    first = at_once([lambda i=i: login(base, f"c-spray-{i}", f"ghost{i}-{uuid.uuid4().hex[:6]}", WRONG,
                                       "203.0.113.200") for i in range(20)])
    if any(s != 401 for s, _ in first):
        problems.append(f"address limit: the first 20 failures answered {Counter(s for s, _ in first)}")
    results = at_once([lambda i=i: login(base, f"c-limited-{i}", f"ghost-late-{i}", WRONG, "203.0.113.200")
                       for i in range(40)])
    if not all("网络地址" in str(b.get("message", "")) for _s, b in results):
        problems.append("address limit: a 429 without the address message")
    spread("c-limited", "address over its limit (21st failure on)", [s for s, _ in results], 429)
    return problems


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    pg_default = os.environ.get("DATABASE_URL", "") if os.environ.get("DATABASE_URL", "").startswith("postgres") \
        else DEFAULT_PG
    ap.add_argument("--database-url", default=pg_default)
    ap.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=300)
    args = ap.parse_args(argv)
    deadline = Deadline(args.timeout)
    pg_url = normalise(args.database_url)
    try:
        check_services(pg_url, args.redis_url)
    except Unavailable as exc:
        print(f"SKIP: {exc}")
        return 2
    prefix = "jfw" + uuid.uuid4().hex[:10]
    with tempfile.TemporaryDirectory(prefix="jf-workers-") as tmp, Schema(pg_url) as schema:
        tmp_dir = Path(tmp)
        port = free_port()
        access_log, serve_log = tmp_dir / "access.log", tmp_dir / "serve.log"
        env = env_for(schema.url, args.redis_url, prefix, port, args.workers, access_log)
        flask = [str(BIN / "flask"), "--app", "app"]
        print(f"setting up a production database (schema {schema.name}) …", flush=True)
        run(flask + ["setup"], env, deadline)
        for name in ("revoked", "lockme"):  # accounts made with FAB's CLI, like an administrator would
            run(flask + ["fab", "create-user", "--role", "mediator", "--username", name, "--firstname", name,
                         "--lastname", "check", "--email", f"{name}@example.invalid", "--password", PASSWORD],
                env, deadline)
        base = f"http://127.0.0.1:{port}"
        print(f"make serve: {args.workers} workers on {base} (PostgreSQL + Redis) …", flush=True)
        proc = start(env, serve_log)
        try:
            wait_until_serving(base, proc, serve_log, deadline)
            problems = check(base, access_log, lambda line: print("  " + line, flush=True))
        finally:
            stop(proc)
            _forget_redis_keys(args.redis_url, prefix)
        booted = len(set(re.findall(r"Booting worker with pid: (\d+)", serve_log.read_text())))
        print(f"gunicorn booted {booted} workers; stopped")
        if booted < args.workers:
            problems.append(f"only {booted} of {args.workers} workers booted")
    if problems:
        print("FAILED:\n- " + "\n- ".join(problems))
        return 1
    print("OK: the revoked token and the lockouts held on every worker")
    return 0


def _forget_redis_keys(redis_url: str, prefix: str) -> None:
    try:
        import redis

        client = redis.Redis.from_url(redis_url, socket_timeout=3)
        keys: Iterator[Any] = client.scan_iter(match=f"*{prefix}*")
        for k in keys:
            client.delete(k)
    except Exception:  # noqa: BLE001 - cleanup only; the keys expire with their window anyway
        pass


if __name__ == "__main__":
    sys.exit(main())
