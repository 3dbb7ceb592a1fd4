"""Applied config versions: ``jf_config_version``, one row per ``python -m generator apply``.

Each row keeps what was applied and why one can trust it later: the YAML files as text (the app
never parses them; the history page shows them, and a rollback writes them back to a directory
for the same plan and apply), a hash over them, the unified diff against the previous version,
the plan (its items as JSON), who applied it and when, and whether destructive steps were
allowed.  Rows are only ever added.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Optional

from sqlalchemy import Column, DateTime, Integer, String, Text, select

TABLE = "jf_config_version"
FILES = ("entities.yaml", "roles.yaml", "workflows.yaml", "checklists.yaml", "reference.yaml")


def build_config_version_table(base: type) -> type:
    from generator import names

    return type("ConfigVersion", (base,), {
        "__tablename__": TABLE,
        "__module__": names.MODELS_MODULE,
        "__qualname__": "ConfigVersion",
        "__doc__": "One applied config version (app/lifecycle/history.py).",
        "id": Column(Integer, primary_key=True),
        "applied_at": Column(DateTime, nullable=False),          # UTC
        "applied_by": Column(String(128), nullable=False),
        "config_hash": Column(String(64), nullable=False),
        "config_dir": Column(String(512)),
        "files": Column(Text, nullable=False),                   # JSON {file name: YAML text}
        "diff": Column(Text),                                    # unified diff against the previous version
        "plan": Column(Text),                                    # JSON list of plan items
        "warnings": Column(Text),                                # check warnings, one per line
        "note": Column(Text),
        "rollback_of": Column(Integer),                          # the version this one restored
        "destructive": Column(Integer, nullable=False, default=0),
    })


def read_files(config_dir: str) -> dict[str, str]:
    """The config files as text (a missing optional file is left out)."""
    out = {}
    for name in FILES:
        path = Path(config_dir) / name
        if path.exists():
            out[name] = path.read_text(encoding="utf-8-sig")
    return out


def config_hash(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].encode("utf-8") + b"\0")
    return digest.hexdigest()


def unified_diff(old: Optional[Mapping[str, str]], new: Mapping[str, str]) -> str:
    old = old or {}
    chunks = []
    for name in FILES:
        a, b = old.get(name, ""), new.get(name, "")
        if a == b:
            continue
        chunks.extend(difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                           fromfile=f"a/{name}", tofile=f"b/{name}", n=2))
    return "".join(chunks)


def who() -> str:
    for var in ("JIEFEN_APPLIED_BY", "SUDO_USER", "USER", "LOGNAME"):
        if os.environ.get(var):
            return os.environ[var][:128]
    try:
        import getpass

        return getpass.getuser()[:128]
    except Exception:  # noqa: BLE001
        return "unknown"


@dataclass(frozen=True)
class Applied:
    """One row of jf_config_version, as plain values."""

    id: int
    applied_at: _dt.datetime
    applied_by: str
    config_hash: str
    config_dir: Optional[str]
    files: dict[str, str]
    diff: str
    plan: list[dict[str, Any]]
    warnings: str
    note: str
    rollback_of: Optional[int]
    destructive: bool


def _applied(row: Any) -> Applied:
    return Applied(row.id, row.applied_at, row.applied_by, row.config_hash, row.config_dir,
                   json.loads(row.files or "{}"), row.diff or "", json.loads(row.plan or "[]"), row.warnings or "",
                   row.note or "", row.rollback_of, bool(row.destructive))


def latest(conn: Any, table: Any) -> Optional[Applied]:
    """The last applied version (None when there is none, or no table yet)."""
    from sqlalchemy import inspect

    if not inspect(conn).has_table(TABLE):
        return None
    row = conn.execute(select(table).order_by(table.c.id.desc()).limit(1)).first()
    return _applied(row) if row is not None else None


def get(conn: Any, table: Any, version: int) -> Optional[Applied]:
    from sqlalchemy import inspect

    if not inspect(conn).has_table(TABLE):
        return None
    row = conn.execute(select(table).where(table.c.id == version)).first()
    return _applied(row) if row is not None else None


def listing(conn: Any, table: Any) -> list[Applied]:
    from sqlalchemy import inspect

    if not inspect(conn).has_table(TABLE):
        return []
    return [_applied(r) for r in conn.execute(select(table).order_by(table.c.id.desc()))]


def write_dir(files: Mapping[str, str], folder: Path) -> Path:
    """Write a stored version's files into ``folder`` (for a rollback plan or a look at it)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
