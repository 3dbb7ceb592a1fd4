"""Personal data (``pii:`` fields) is masked on every surface; showing it in clear is an act.

* Lists, detail pages, edit forms, the REST API and exports show ``pii_mask`` values
  (``4202**********1234``, ``138****5678``); how each surface renders them is the presenter's
  job (app/access/present.py), which also names records by a masked name where needed.
* A user whose role has the field in ``reveal`` (roles.yaml) may *reveal* one record: an
  explicit POST (a button on the detail page, or ``POST /api/v1/<entity>/<id>/reveal``),
  which is audited with the fields shown.  Only that response carries the clear values.
* An edit form or PUT that sends a masked value back unchanged keeps the stored value, so
  masking never overwrites data.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional

from generator.spec import Entity, Field, Role

from app.access.formatting import pii_mask


def masked(field: Field, value: Any) -> Any:
    """The value as a masked surface carries it (None stays None)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return value
    return pii_mask(field.pii, value)


def keep_unchanged(ent: Entity, submitted: Mapping[str, Any], stored: Any) -> dict[str, Any]:
    """``submitted`` with each masked-and-unchanged personal value replaced by the stored one."""
    out = dict(submitted)
    for f in ent.pii_fields:
        if f.name in out:
            current = getattr(stored, f.name, None)
            if current is not None and out[f.name] == masked(f, current):
                out[f.name] = current if not hasattr(current, "isoformat") else current.isoformat()
    return out


def revealable(roles: Iterable[Role], ent: Entity) -> tuple[Field, ...]:
    """The personal-data fields of ``ent`` any of ``roles`` may reveal."""
    allowed: set[str] = set()
    for role in roles:
        for grant in role.reveal:
            name, _, fld = grant.partition(".")
            if name == ent.name:
                if fld == "*":
                    allowed.update(f.name for f in ent.pii_fields)
                else:
                    allowed.add(fld)
    return tuple(f for f in ent.pii_fields if f.name in allowed)


def clear_values(ent: Entity, fields: Iterable[Field], item: Any) -> dict[str, Optional[str]]:
    out: dict[str, Optional[str]] = {}
    for f in fields:
        value = getattr(item, f.name, None)
        out[f.name] = None if value is None else (value.isoformat() if hasattr(value, "isoformat") else str(value))
    return out
