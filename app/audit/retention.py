"""Retention of the audit trail: ``flask --app app purge-audit`` deletes rows older than the
retention period, and nothing younger than the legal minimum.

* ``AUDIT_RETENTION_DAYS`` (setting or environment; default 180) is how long rows are kept.  A value
  below 180 days is refused (网络安全法 Art. 21 asks network logs be kept at least six months), by the
  command and by ``cutoff``; ``--days`` may only lengthen it.
* One transaction deletes every row whose ``at`` (UTC) is older than now minus the retention and
  appends one ``audit_purge`` row saying how many and up to when: both commit or neither does.
* On PostgreSQL the append-only trigger (app/audit/log.py) refuses every DELETE unless the
  transaction has switched ``jiefen.audit_purge`` on (``SET LOCAL``, so it ends with the transaction),
  and even then refuses a row younger than 180 days by the database's own clock.  The DELETE repeats
  that bound in its WHERE clause, so a clock difference between the app and the database cannot
  make the purge fail half-way: it can only keep a row for a few seconds longer.
* On SQLite the ORM guard (app/audit/listener.py) refuses ORM deletes; this module deletes with a
  Core statement on its own connection, the one path that is allowed.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Optional

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import and_, delete, literal_column, text
from sqlalchemy.engine import Connection

from . import log as audit

MIN_DAYS = audit.RETENTION_DAYS


class RetentionTooShort(ValueError):
    def __init__(self, days: Any) -> None:
        super().__init__(f"审计日志至少保留 {MIN_DAYS} 天，不能设为 {days} 天 / audit rows are kept at least "
                         f"{MIN_DAYS} days, not {days}")


def configured_days(config: Any) -> int:
    """``AUDIT_RETENTION_DAYS`` of the app's config (default 180); refused below the minimum."""
    raw = config.get("AUDIT_RETENTION_DAYS") or MIN_DAYS
    try:
        days = int(raw)
    except (TypeError, ValueError):
        raise RetentionTooShort(raw) from None
    if days < MIN_DAYS:
        raise RetentionTooShort(days)
    return days


def cutoff(days: int, now: Optional[_dt.datetime] = None) -> _dt.datetime:
    """Rows whose ``at`` lies before this (naive UTC) moment are older than ``days``."""
    if days < MIN_DAYS:
        raise RetentionTooShort(days)
    now = now or _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    return now - _dt.timedelta(days=days)


def purge(conn: Connection, table: Any, days: int, now: Optional[_dt.datetime] = None) -> int:
    """Delete the rows of ``table`` older than ``days`` inside the caller's transaction, audit it,
    and return how many went."""
    before = cutoff(days, now)
    where = table.c.at < before
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.execute(text(f"SET LOCAL {audit.PURGE_SETTING} = 'on'"))
        where = and_(where, table.c.at < literal_column(f"(now() AT TIME ZONE 'UTC') - interval '{MIN_DAYS} days'"))
    deleted = conn.execute(delete(table).where(where)).rowcount or 0
    if postgres:
        conn.execute(text(f"SET LOCAL {audit.PURGE_SETTING} = 'off'"))
    audit.record_in(conn, "audit_purge", entity="audit_log", table=table,
                    detail=f"删除 {deleted} 条早于 {before:%Y-%m-%d %H:%M} UTC 的审计记录（保留 {days} 天）/ "
                           f"deleted {deleted} rows older than {days} days (before {before:%Y-%m-%d %H:%M} UTC)",
                    changes={"deleted": deleted, "retention_days": days, "cutoff": before.isoformat()})
    return int(deleted)


@click.command("purge-audit")
@with_appcontext
@click.option("--days", type=int, default=None,
              help=f"keep this many days (default AUDIT_RETENTION_DAYS; at least {MIN_DAYS})")
def purge_audit_command(days: Optional[int]) -> None:
    """删除超过保留期的审计记录（至少保留 180 天），本次清理也记入审计日志 / delete audit rows older than the
    retention period (at least 180 days); the purge itself is audited."""
    try:
        keep = configured_days(current_app.config)
        if days is not None:
            if days < MIN_DAYS:
                raise RetentionTooShort(days)
            keep = days
    except RetentionTooShort as exc:
        raise click.ClickException(str(exc)) from None
    reg = current_app.extensions["jiefen"]
    engine = current_app.appbuilder.sm.session.get_bind()
    with engine.begin() as conn:
        n = purge(conn, reg.audit_log.__table__, keep)
    click.echo(f"已删除 {n} 条超过 {keep} 天的审计记录 / deleted {n} audit rows older than {keep} days")
