"""Revealing personal data in clear: allowed fields only, one audit row per reveal."""

from __future__ import annotations

from typing import Any

from generator.spec import Entity, Field

from app.audit import log as audit
from app.access import masking
from app.access.rules import current


def reveal_record(ent: Entity, item: Any) -> tuple[Field, ...]:
    """The fields of ``item`` this user may see in clear (audited); empty = refused (also audited)."""
    access = current()
    p = access.principal() if access else None
    fields = masking.revealable(p.roles, ent) if p else ()
    if not fields:
        audit.record("denied", entity=ent.name, record_id=item.id, detail="reveal: no reveal grant")
        return ()
    audit.record("reveal", entity=ent.name, record_id=item.id,
                 detail="fields: " + ", ".join(f.name for f in fields))
    return fields
